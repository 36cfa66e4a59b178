"""E-invoicing: the EPC payment QR code (GiroCode) and the Factur-X / ZUGFeRD EN 16931 XML of an invoice.

Imported only by ``documents`` (the PDF handler): segno, drafthorse, factur-x and lxml stay out of
every other function's cold start.

Order prices are gross (VAT included), with a rate per line. The XML wants net amounts, so
:func:`breakdown` works out one set of figures that is arithmetically valid under EN 16931 (line nets
sum to the net total, each rate's tax basis is its lines plus its share of shipping and discounts,
grand total = net + tax = the order total) and the invoice PDF shows the same figures.

:func:`vat_case` says how VAT applies to a document (standard, the small-business exemption of
§19 UStG, intra-EU reverse charge, export outside the EU); :func:`credit_note_breakdown` works out
a credit note's figures (the refunded lines and shipping) the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from ..model.money import minor_units

EPC_MAX_AMOUNT = Decimal("999999999.99")
EPC_MAX_BYTES = 331
GUIDELINE = "urn:cen.eu:en16931:2017"  # Factur-X profile EN16931 = ZUGFeRD 2.x COMFORT
PIECE = "H87"  # UN/ECE rec 20: one piece
# the units shops write on lines, as UN/ECE recommendation 20 codes (BT-130); anything else is a piece
UNIT_CODES = {
    "kg": "KGM",
    "g": "GRM",
    "t": "TNE",
    "m": "MTR",
    "cm": "CMT",
    "mm": "MMT",
    "m2": "MTK",
    "m²": "MTK",
    "m3": "MTQ",
    "m³": "MTQ",
    "l": "LTR",
    "ml": "MLT",
    "h": "HUR",
    "min": "MIN",
    "day": "DAY",
    "month": "MON",
    "pcs": PIECE,
    "stk": PIECE,
    "piece": PIECE,
}
HUNDRED = Decimal(100)
# reason codes, UNTDID 7161 (charges) and 5189 (allowances)
_CHARGE_CODES = {"shipping": "FC", "surcharge": "ABK"}
_ALLOWANCE_CODE = "95"
_REASONS = {"shipping": "Shipping", "discount": "Discount", "surcharge": "Other charges"}
# EU member states (ISO 3166-1); Greece's VAT ids start with EL. Northern Ireland (XI) is left out:
# its goods count as EU goods, but no shop here ships from there.
EU_COUNTRIES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"}
    | {"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
)
_ZIP_CITY = re.compile(r"^(?:[A-Z]{1,2}-)?(\d{4,5}|[A-Z0-9]{2,4} ?[0-9][A-Z]{2})\s+(\S.*)$")
_VAT_ID = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$")


# ---------------------------------------------------------------- EPC QR code (GiroCode)


def epc_qr_payload(
    name: str,
    iban: str,
    amount: Decimal,
    *,
    currency: str = "EUR",
    bic: str | None = None,
    text: str = "",
) -> str:
    """The EPC069-12 payload of a SEPA credit transfer QR code ("GiroCode"), version 002, UTF-8.

    One element a line, LF-separated, no trailing empty lines: service tag ``BCD``, version ``002``,
    character set ``1`` (UTF-8), ``SCT``, BIC (optional in 002), beneficiary name (at most 70
    characters), IBAN, amount as ``EUR12.34``, purpose (empty), structured reference (empty) and the
    unstructured remittance text (at most 140 characters), e.g. the invoice number.

    Only euros and amounts from 0.01 to 999,999,999.99 can be paid by an EPC code: anything else
    raises ValueError.
    """
    if currency != "EUR":
        raise ValueError(f"an EPC QR code pays euros only, not {currency}")
    amount = Decimal(amount)
    if not Decimal("0.01") <= amount <= EPC_MAX_AMOUNT:
        raise ValueError(f"an EPC QR code pays from EUR0.01 to EUR{EPC_MAX_AMOUNT}, not {amount}")
    iban = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}", iban):
        raise ValueError(f"not an IBAN: {iban!r}")
    name = " ".join(name.split())[:70]
    if not name:
        raise ValueError("an EPC QR code needs the beneficiary's name")
    lines = [
        "BCD",
        "002",
        "1",
        "SCT",
        (bic or "").replace(" ", "").upper(),
        name,
        iban,
        f"EUR{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}",
        "",  # purpose
        "",  # structured creditor reference (ISO 11649): we use the unstructured text instead
        " ".join(text.split())[:140],
    ]
    while lines[-1] == "":
        lines.pop()
    payload = "\n".join(lines)
    if len(payload.encode()) > EPC_MAX_BYTES:
        raise ValueError(f"EPC payload is {len(payload.encode())} bytes, at most {EPC_MAX_BYTES} are allowed")
    return payload


def invoice_qr_payload(ctx: Mapping[str, Any], number: str) -> str | None:
    """The EPC payload for an invoice, or None where a payment code makes no sense.

    None when the shop has no IBAN, the order is not in euros, is paid already or has nothing to pay.
    """
    order, shop = ctx.get("order") or {}, ctx.get("shop") or {}
    total = order.get("total") or {}
    if not shop.get("iban") or order.get("paid_at") or total.get("currency", order.get("currency")) != "EUR":
        return None
    amount = Decimal(total.get("amount") or "0")
    if amount <= 0 or amount > EPC_MAX_AMOUNT:
        return None
    return epc_qr_payload(shop.get("name") or "", shop["iban"], amount, bic=shop.get("bic"), text=number)


def epc_qr(payload: str) -> Any:
    """The payload as a segno QR code: error correction M, never boosted, at most version 13 (EPC069-12)."""
    import segno  # segno loads only when an invoice carries a QR code

    qr = segno.make_qr(payload.encode(), error="m", boost_error=False)
    # segno types version as int | str (str only for Micro QR codes, which make_qr never makes)
    if cast(int, qr.version) > 13:
        raise ValueError(f"EPC QR codes are at most version 13, this payload needs {qr.version}")
    return qr


def epc_qr_image(payload: str, scale: int = 4) -> Any:
    """The payment code as a greyscale PIL image that fpdf2 draws directly: black modules on white,
    ``scale`` pixels a module, with the 4-module quiet zone QR codes need.

    Built from segno's module matrix with Pillow (which fpdf2 brings): a PNG round trip through
    segno's pure-Python writer would cost several milliseconds per invoice.
    """
    from PIL import Image  # Pillow loads only to draw the QR code

    matrix = epc_qr(payload).matrix
    n, quiet = len(matrix), 4
    modules = bytes(0 if dark & 1 else 255 for row in matrix for dark in row)
    image = Image.new("L", (n + 2 * quiet, n + 2 * quiet), 255)
    image.paste(Image.frombytes("L", (n, n), modules), (quiet, quiet))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


# ---------------------------------------------------------------- the figures


@dataclass(frozen=True, slots=True)
class VatCase:
    """How VAT applies to one document.

    ``category`` None is the standard case: each line at its own rate, category S (Z at 0 %).
    Otherwise every line, charge and allowance is at 0 % in that category: E (small business,
    §19 UStG), AE (intra-EU reverse charge), K (intra-community supply) or G (export outside the
    EU), with the exemption
    reason code (VATEX, BT-121) where the code list has one; the note (BT-120) is the document's.
    """

    kind: str  # standard | small_business | reverse_charge | intra_community | export
    category: str | None = None
    reason_code: str | None = None
    seller_vat_id: str | None = None
    buyer_vat_id: str | None = None

    @property
    def zero_rated(self) -> bool:
        return self.category is not None

    def category_of(self, rate: Decimal) -> str:
        return self.category or vat_category(rate)


STANDARD = VatCase("standard")
# BT-120 in English where the document gives none in its own language
EXEMPTION_NOTES = {
    "small_business": "VAT exempt under § 19 UStG (small business).",
    "reverse_charge": "Reverse charge: VAT to be accounted for by the recipient",
    "intra_community": "Intra-community supply, exempt from VAT (Art. 138 Directive 2006/112/EC)",
    "export": "Export outside the EU, VAT exempt",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line: gross as the shop charged it, net as the XML states it."""

    position: int
    sku: str | None
    name: str
    quantity: Decimal
    gross: Decimal
    net: Decimal
    rate: Decimal
    unit: str | None = None
    category: str = "S"

    @property
    def unit_code(self) -> str:
        return UNIT_CODES.get((self.unit or "").strip().lower(), PIECE)

    @property
    def billed_quantity(self) -> Decimal:
        """Negative for a negative line (a voucher): EN 16931 prices are never negative (BR-27)."""
        return -self.quantity if self.net < 0 else self.quantity

    @property
    def net_price(self) -> Decimal:
        """The net price of one piece: cents where they are exact, else to 4 decimals."""
        price = self.net / self.billed_quantity
        cents = price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return cents if cents * self.billed_quantity == self.net else price.quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A document-level charge (shipping, other charges) or allowance (discount), one per VAT rate."""

    kind: str  # shipping | surcharge | discount
    gross: Decimal  # positive; an allowance is subtracted
    net: Decimal
    rate: Decimal
    category: str = "S"

    @property
    def is_charge(self) -> bool:
        return self.kind != "discount"


@dataclass(frozen=True, slots=True)
class TaxGroup:
    rate: Decimal
    basis: Decimal
    tax: Decimal
    category: str = "S"

    @property
    def gross(self) -> Decimal:
        return self.basis + self.tax


@dataclass(frozen=True, slots=True)
class Breakdown:
    """An invoice's figures, consistent to the cent: what the PDF shows and the XML states."""

    currency: str
    lines: tuple[Line, ...]
    adjustments: tuple[Adjustment, ...]
    taxes: tuple[TaxGroup, ...]
    grand_total: Decimal
    case: VatCase = STANDARD

    @property
    def zero(self) -> Decimal:
        return Decimal(0).scaleb(-minor_units(self.currency))  # 0.00 (0 for yen)

    @property
    def line_total(self) -> Decimal:
        return sum((line.net for line in self.lines), self.zero)

    @property
    def charge_total(self) -> Decimal:
        return sum((a.net for a in self.adjustments if a.is_charge), self.zero)

    @property
    def allowance_total(self) -> Decimal:
        return sum((a.net for a in self.adjustments if not a.is_charge), self.zero)

    @property
    def tax_basis_total(self) -> Decimal:
        return self.line_total + self.charge_total - self.allowance_total

    @property
    def tax_total(self) -> Decimal:
        return sum((t.tax for t in self.taxes), self.zero)

    def gross_of(self, kind: str) -> Decimal:
        """What the customer pays for shipping, surcharges or (as a positive amount) discounts."""
        return sum((a.gross for a in self.adjustments if a.kind == kind), self.zero)


def vat_category(rate: Decimal) -> str:
    """UNTDID 5305: S (standard rated) for a positive rate, Z (zero rated) for 0 %."""
    return "S" if rate > 0 else "Z"


def _compact(vat_id: str) -> str:
    return vat_id.replace(" ", "").upper()


def vat_country(vat_id: str) -> str:
    """The country of a VAT id: its prefix, EL being Greece (GR)."""
    prefix = _compact(vat_id)[:2]
    return "GR" if prefix == "EL" else prefix


def seller_vat_id(shop: Mapping[str, Any]) -> str | None:
    """The shop's VAT identification number (BT-31): ``legal.vat_id``, else ``tax_id`` when it is one."""
    legal = shop.get("legal") or {}
    for candidate in (legal.get("vat_id"), shop.get("tax_id")):
        if candidate and _VAT_ID.match(_compact(candidate)):
            return _compact(candidate)
    return None


def seller_tax_number(shop: Mapping[str, Any]) -> str | None:
    """The shop's national tax number (Steuernummer, BT-32): ``legal.tax_number``, else a ``tax_id``
    that is no VAT id."""
    legal = shop.get("legal") or {}
    if legal.get("tax_number"):
        return str(legal["tax_number"]).strip()
    tax_id = (shop.get("tax_id") or "").strip()
    return tax_id if tax_id and not _VAT_ID.match(_compact(tax_id)) else None


def buyer_vat_id(ctx: Mapping[str, Any]) -> str | None:
    """The buyer's VAT id (B2B, BT-48): the order's ``buyer_vat_id``, else the customer's ``vat_id``."""
    for candidate in ((ctx.get("order") or {}).get("buyer_vat_id"), (ctx.get("customer") or {}).get("vat_id")):
        if candidate and _VAT_ID.match(_compact(str(candidate))):
            return _compact(str(candidate))
    return None


def vat_case(ctx: Mapping[str, Any]) -> VatCase:
    """How VAT applies to the order's documents.

    A small business (the shop's ``vat_regime``, §19 UStG) charges none: category E. A shop in the
    EU sending goods outside the EU (the shipping address, else the billing address) exports them:
    G. To a buyer with a VAT id of another EU country than the shop's (both VAT ids are needed, so a
    shop without one stays standard): goods are an intra-community supply, tax free (K, §4 Nr. 1b
    and §6a UStG, Art. 138 VAT Directive); services put the VAT on the buyer (reverse charge, AE,
    §13b UStG, Art. 196), as the shop's ``supplies`` says. Else: standard.
    """
    shop, order = ctx.get("shop") or {}, ctx.get("order") or {}
    seller_id, buyer_id = seller_vat_id(shop), buyer_vat_id(ctx)
    if shop.get("vat_regime") == "small_business":
        return VatCase("small_business", "E", None, seller_id, buyer_id)
    home = seller_country(shop)
    if home in EU_COUNTRIES:
        destination = (order.get("shipping_address") or order.get("billing_address") or {}).get("country")
        if destination and destination not in EU_COUNTRIES:
            return VatCase("export", "G", "VATEX-EU-G", seller_id, buyer_id)
        if seller_id and buyer_id and vat_country(buyer_id) in EU_COUNTRIES and vat_country(buyer_id) != home:
            if shop.get("supplies", "goods") == "goods":
                return VatCase("intra_community", "K", "VATEX-EU-IC", seller_id, buyer_id)
            return VatCase("reverse_charge", "AE", "VATEX-EU-AE", seller_id, buyer_id)
    return VatCase("standard", None, None, seller_id, buyer_id)


def _amount(value: Any) -> Decimal:
    if isinstance(value, Mapping):
        value = value.get("amount")
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _split(amount: Decimal, weights: Mapping[Decimal, Decimal], quantum: Decimal) -> dict[Decimal, Decimal]:
    """Share an amount out over the VAT rates in proportion to their net value, to the cent, summing
    exactly (German practice for ancillary costs: shipping follows the goods; one rate when all
    goods share it)."""
    nets = {rate: max(gross * HUNDRED / (HUNDRED + rate), Decimal(0)) for rate, gross in weights.items()}
    total = sum(nets.values(), Decimal(0))  # a voucher rate gets no share
    if total <= 0:  # only free lines: all of it at the highest rate
        return {max(nets): amount}
    parts, left = {}, amount
    rates = sorted(nets, key=lambda r: (nets[r], r))
    for rate in rates[:-1]:
        parts[rate] = (amount * nets[rate] / total).quantize(quantum, rounding=ROUND_HALF_UP)
        left -= parts[rate]
    parts[rates[-1]] = left
    return parts


def _rate(value: Any, case: VatCase) -> Decimal:
    # Reverse charge, export and the small-business exemption put every line at 0 %. Where the
    # platform charged a positive rate all the same, the customer still paid what it charged: the
    # gross amounts become the net amounts (the shop's revenue), never reduced by a VAT not owed.
    return Decimal(0) if case.zero_rated else Decimal(str(value or "0"))


def goods_by_rate(order: Mapping[str, Any], case: VatCase = STANDARD) -> dict[Decimal, Decimal]:
    """The gross value of the order's goods per VAT rate: what shipping, fees and discounts follow."""
    quantum = Decimal(1).scaleb(-minor_units(order["currency"]))
    goods: dict[Decimal, Decimal] = {}
    for item in order.get("line_items") or []:
        rate = _rate(item.get("tax_rate"), case)
        gross = _amount(item.get("total") or Decimal(str(item["quantity"])) * _amount(item["unit_price"]))
        goods[rate] = goods.get(rate, Decimal(0)) + gross.quantize(quantum, rounding=ROUND_HALF_UP)
    return goods


def breakdown(
    order: Mapping[str, Any], case: VatCase = STANDARD, *, share_by: Mapping[Decimal, Decimal] | None = None
) -> Breakdown:
    """The invoice figures of an order (as ``Order.to_context()`` gives it) in a VAT case.

    Line gross amounts are the platform's line totals. Shipping goes to the rate the platform
    charged it at (``shipping_tax_rate``); without one it is shared out over the goods' rates by
    net value (``share_by``: gross per rate, the order's own goods by default), as are fees and
    discounts not already in the lines. A rest of a few cents (the platform's rounding) is shown
    as such; a larger one means the order does not add up and no invoice is made from it
    (ValueError naming the figures). Per rate: net basis = gross / (1 + rate) rounded to the
    cent, tax = gross - net basis, and line nets absorb the rounding cent so that they add up to
    the basis exactly. So every EN 16931 sum holds and the grand total is the order total.
    """
    currency = order["currency"]
    quantum = Decimal(1).scaleb(-minor_units(currency))

    def q(value: Decimal) -> Decimal:
        return value.quantize(quantum, rounding=ROUND_HALF_UP)

    items = order.get("line_items") or []
    if not items:
        raise ValueError("an EN 16931 invoice needs at least one line item")
    rates_of = [_rate(item.get("tax_rate"), case) for item in items]
    gross_of = [
        q(_amount(item.get("total") or Decimal(str(item["quantity"])) * _amount(item["unit_price"]))) for item in items
    ]
    total = q(_amount(order["total"]))
    shipping = q(_amount(order.get("shipping_total")))
    fees = q(_amount(order.get("fee_total")))
    line_discounts = sum((_amount(item.get("discount")) for item in items), Decimal(0))
    order_discount = max(q(_amount(order.get("discount_total")) - line_discounts), Decimal(0))
    rest = total - sum(gross_of, Decimal(0)) - shipping - fees + order_discount
    if abs(rest) > quantum * (len(items) + 3):
        raise ValueError(
            f"the order does not add up: lines {sum(gross_of, Decimal(0))} + shipping {shipping} + fees {fees} "
            f"- discounts {order_discount} differ from its total {total} by {rest} {currency}"
        )

    by_rate: dict[Decimal, Decimal] = {}
    for rate, gross in zip(rates_of, gross_of, strict=True):
        by_rate[rate] = by_rate.get(rate, Decimal(0)) + gross
    goods = {_rate(rate, case): gross for rate, gross in share_by.items()} if share_by else dict(by_rate)
    shares: list[tuple[str, Decimal, Decimal]] = []  # (kind, rate, gross), gross positive
    shipping_rate = order.get("shipping_tax_rate")
    if shipping and shipping_rate is not None:
        shares.append(("shipping", _rate(shipping_rate, case), shipping))
        shipping = Decimal(0)
    for kind, amount in (
        ("shipping", shipping),
        ("surcharge", fees),
        ("discount", order_discount),
        ("surcharge" if rest > 0 else "discount", rest),
    ):
        if amount:
            for rate, part in _split(abs(amount), goods, quantum).items():
                if part:
                    shares.append((kind, rate, part))

    def net(gross: Decimal, rate: Decimal) -> Decimal:
        return q(gross * HUNDRED / (HUNDRED + rate))

    adjustments = tuple(
        Adjustment(kind, gross, net(gross, rate), rate, case.category_of(rate)) for kind, rate, gross in shares
    )
    nets = [net(gross, rate) for gross, rate in zip(gross_of, rates_of, strict=True)]
    for a in adjustments:
        by_rate.setdefault(a.rate, Decimal(0))
    taxes = []
    for rate in sorted(by_rate):
        gross = by_rate[rate] + sum(
            (a.gross if a.is_charge else -a.gross for a in adjustments if a.rate == rate), Decimal(0)
        )
        basis = net(gross, rate)
        # the rounding cent goes to the largest line of the rate, so lines + charges - allowances = basis
        mine = [i for i, r in enumerate(rates_of) if r == rate]
        adjusted = sum((nets[i] for i in mine), Decimal(0)) + sum(
            (a.net if a.is_charge else -a.net for a in adjustments if a.rate == rate), Decimal(0)
        )
        if mine:
            nets[max(mine, key=lambda i: gross_of[i])] += basis - adjusted
        else:  # a rate only the shipping was charged at: its net carries the cent
            adjustments = tuple(
                Adjustment(a.kind, a.gross, a.net + basis - adjusted, a.rate, a.category)
                if a.rate == rate and a.kind == "shipping"
                else a
                for a in adjustments
            )
        taxes.append(TaxGroup(rate, basis, gross - basis, case.category_of(rate)))
    lines = tuple(
        Line(
            i + 1,
            item.get("sku"),
            item["name"],
            Decimal(str(item["quantity"])),
            gross,
            nets[i],
            rates_of[i],
            item.get("unit"),
            case.category_of(rates_of[i]),
        )
        for i, (item, gross) in enumerate(zip(items, gross_of, strict=True))
    )
    return Breakdown(currency, lines, adjustments, tuple(taxes), total, case)


def credit_note_breakdown(
    refund: Mapping[str, Any], order: Mapping[str, Any], case: VatCase = STANDARD, *, label: str = "Refund"
) -> Breakdown:
    """A credit note's figures for a refund of the order: the refunded lines and shipping, as
    positive amounts (EN 16931 credit notes, type 381, state positive amounts: the type says it is
    a credit), grand total = the refunded amount.

    Refunded shipping goes to the rate the order charged it at, else over the order's goods by net
    value, as on the invoice. An amount the refund does not attribute to lines or shipping (a
    refund of an amount only, a goodwill refund on top of the returned goods) becomes one line
    ``label`` per VAT rate of the order, shared by their net value: §17 UStG corrects the tax of
    the supply it reduces, and a refund not tied to items reduces all of the order's rates in
    proportion (putting it all at the highest rate would correct more VAT than was charged on
    that rate's goods). Raises ValueError when the lines and shipping exceed the refund.
    """
    currency = order["currency"]
    quantum = Decimal(1).scaleb(-minor_units(currency))
    amount = _amount(refund.get("amount")).quantize(quantum, rounding=ROUND_HALF_UP)
    if amount <= 0:
        raise ValueError(f"a credit note needs a refund of more than 0, not {amount} {currency}")
    goods = goods_by_rate(order, case)

    def item(sku: str | None, name: str, quantity: Any, gross: Decimal, rate: Any, unit: Any = None) -> dict:
        money = {"amount": str(gross), "currency": currency}
        return {
            "sku": sku,
            "name": name,
            "quantity": str(quantity),
            "total": money,
            "tax_rate": str(rate),
            "unit": unit,
        }

    def pieces(line: Mapping[str, Any]) -> Decimal:  # a line refunded by amount alone may say 0 pieces
        quantity = Decimal(str(line.get("quantity") or 1))
        return quantity if quantity > 0 else Decimal(1)

    items = [
        item(line.get("sku"), line["name"], pieces(line), _amount(line["total"]), line.get("tax_rate"))
        for line in refund.get("lines") or []
    ]
    shipping = _amount(refund.get("shipping")).quantize(quantum, rounding=ROUND_HALF_UP)
    rest = amount - sum((_amount(i["total"]) for i in items), Decimal(0)) - shipping
    if rest > quantum * (len(items) + 3):
        for rate, part in sorted(_split(rest, goods or {Decimal(0): rest}, quantum).items()):
            if part:
                items.append(item(None, label, 1, part, rate))
    elif rest < -quantum * (len(items) + 3):
        raise ValueError(
            f"the refund does not add up: its lines and shipping come to {amount - rest}, "
            f"more than the {amount} {currency} refunded"
        )
    pseudo = {
        "currency": currency,
        "total": {"amount": str(amount), "currency": currency},
        "line_items": items,
        "shipping_total": {"amount": str(shipping), "currency": currency} if shipping else None,
        "shipping_tax_rate": order.get("shipping_tax_rate"),
    }
    return breakdown(pseudo, case, share_by=goods or None)


def tax_in_accounting_currency(
    order: Mapping[str, Any], figures: Breakdown, *, whole_order: bool = True
) -> tuple[Decimal, str] | None:
    """The VAT total in the shop's accounting currency (BT-111) when the customer paid in another
    one (BT-6), else None: the shop's own VAT figure for the whole order where the platform gave it
    and the document states the VAT the platform charged, else the document's VAT at the rate of
    the two totals."""
    books = order.get("shop_money") or {}
    currency = books.get("currency")
    if not currency or currency == figures.currency:
        return None
    quantum = Decimal(1).scaleb(-minor_units(currency))
    if whole_order and not figures.case.zero_rated and books.get("tax_total"):
        return _amount(books["tax_total"]).quantize(quantum, rounding=ROUND_HALF_UP), currency
    order_total, books_total = _amount(order.get("total")), _amount(books.get("total"))
    if not order_total or not books_total:
        return figures.zero.quantize(quantum), currency
    converted = figures.tax_total * books_total / order_total
    return converted.quantize(quantum, rounding=ROUND_HALF_UP), currency


# ---------------------------------------------------------------- the EN 16931 XML


def seller_country(shop: Mapping[str, Any]) -> str:
    """The shop's country: its VAT id's, else its locale's, else its IBAN's (DE by default)."""
    vat_id = seller_vat_id(shop)
    if vat_id:
        return vat_country(vat_id)
    locale = shop.get("locale") or ""
    if "_" in locale:
        return locale.split("_")[1]
    return (shop.get("iban") or "DE")[:2]


def seller_address(shop: Mapping[str, Any]) -> dict[str, str]:
    """Street, postcode and city out of the shop's free-text address lines ("Street 12, 04107 Leipzig");
    those it finds."""
    parts = [p.strip() for line in shop.get("address_lines") or [] for p in line.split(",") if p.strip()]
    out: dict[str, str] = {}
    for i, part in enumerate(parts):
        m = _ZIP_CITY.match(part)
        if m:
            out["postcode"], out["city"] = m.group(1), m.group(2)
            if i > 0 and parts[i - 1] != shop.get("name"):
                out["street"] = parts[i - 1]
            break
    return out


def _vat_scheme(tax_id: str) -> str:
    """VA for a VAT identification number (DE123456789), FC for a national tax number (Steuernummer)."""
    return "VA" if _VAT_ID.match(tax_id.replace(" ", "").upper()) else "FC"


def _postal(target: Any, address: Mapping[str, Any], country: str) -> None:
    """A canonical address into a CII postal address (the buyer's BG-8, the ship-to's BG-15)."""
    street = " ".join(p for p in (address.get("street"), address.get("house_number")) if p)
    if street:
        target.line_one = street
    if address.get("street2"):
        target.line_two = address["street2"]
    if address.get("zip"):
        target.postcode = address["zip"]
    if address.get("city"):
        target.city_name = address["city"]
    target.country_id = country


def invoice_xml(
    ctx: Mapping[str, Any],
    number: str,
    issue_date: date,
    *,
    due_date: date | None = None,
    delivered: date | None = None,
    terms: str | None = None,
    labels: Mapping[str, str] | None = None,
    figures: Breakdown | None = None,
    credit_note: bool = False,
    corrects: Mapping[str, Any] | None = None,
    settled: bool | None = None,
) -> bytes:
    """The invoice, or a ``credit_note``, as Factur-X / ZUGFeRD 2 CII XML, profile
    EN 16931, validated against the XSD.

    ``ctx`` is the action context (``order``, ``shop``, ``customer``); ``number`` the document's
    number; ``terms`` the payment terms in words and ``labels`` the words for shipping, discount,
    surcharge and the VAT exemption note (``exemption``), all in the document's language.
    ``figures`` default to the order's invoice in its VAT case. A credit note (type 381) states
    positive amounts and references the invoice it corrects (``corrects``: ``number`` and
    ``issued_on``, BT-25/BT-26). ``settled`` says it is paid (or refunded) already; by default an
    invoice is when the order is. Raises ValueError for an order EN 16931 cannot express (no line
    items) and lxml's error when the XML does not validate.
    """
    # drafthorse (and lxml under it) loads only when an invoice's XML is made
    from drafthorse.models.accounting import ApplicableTradeTax, CategoryTradeTax, TradeAllowanceCharge
    from drafthorse.models.document import Document
    from drafthorse.models.note import IncludedNote
    from drafthorse.models.party import TaxRegistration
    from drafthorse.models.payment import PaymentMeans, PaymentTerms
    from drafthorse.models.tradelines import LineItem

    order, shop = ctx["order"], ctx.get("shop") or {}
    figures = figures or breakdown(order, vat_case(ctx))
    case = figures.case
    currency = figures.currency
    reasons = {**_REASONS, **(labels or {})}

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE
    doc.header.id = number
    doc.header.type_code = "381" if credit_note else "380"  # credit note, commercial invoice
    doc.header.issue_date_time = issue_date
    exemption = None
    if case.zero_rated:  # BT-120, and as a note on the document (BT-22)
        exemption = reasons.get("exemption") or EXEMPTION_NOTES[case.kind]
        note = IncludedNote()
        note.content = exemption
        doc.header.notes.add(note)

    agreement = doc.trade.agreement
    seller = agreement.seller
    if shop.get("id"):
        seller.id = shop["id"]  # BT-29: the seller is identified even without a VAT id
    legal = shop.get("legal") or {}
    seller.name = legal.get("company") or shop.get("name") or ""  # BT-27: the name it is registered by
    address = seller_address(shop)
    if address.get("street"):
        seller.address.line_one = address["street"]
    if address.get("postcode"):
        seller.address.postcode = address["postcode"]
        seller.address.city_name = address["city"]
    country = seller_country(shop)
    seller.address.country_id = country
    vat_id, tax_number = seller_vat_id(shop), seller_tax_number(shop)
    if vat_id:  # BT-31
        seller.tax_registrations.add(TaxRegistration(id=("VA", vat_id)))
    if tax_number:  # BT-32
        seller.tax_registrations.add(TaxRegistration(id=("FC", tax_number)))

    bill = order.get("billing_address") or order.get("shipping_address") or {}
    customer = order.get("customer") or {}
    person = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    buyer = agreement.buyer
    buyer.name = bill.get("company") or bill.get("name") or person or customer.get("email") or "-"
    _postal(buyer.address, bill, bill.get("country") or country)
    if case.buyer_vat_id:  # BT-48, for a business customer
        buyer.tax_registrations.add(TaxRegistration(id=("VA", case.buyer_vat_id)))
    email = customer.get("email") or (ctx.get("customer") or {}).get("email")
    if email:
        buyer.electronic_address.uri_ID = ("EM", email)
    agreement.seller_order.issuer_assigned_id = str(order["number"])

    if delivered is not None:  # BT-72, the date of delivery as the document states it (shop's time zone)
        doc.trade.delivery.event.occurrence = delivered
    elif order.get("shipped_at"):
        doc.trade.delivery.event.occurrence = datetime.fromisoformat(order["shipped_at"]).date()
    ship = order.get("shipping_address") or {}
    if ship.get("country") and (case.category == "K" or ship != (order.get("billing_address") or {})):
        # BG-13/BT-80: where the goods went (an intra-community supply must say so, BR-IC-12)
        ship_to = doc.trade.delivery.ship_to
        ship_to.name = ship.get("company") or ship.get("name") or buyer.name
        _postal(ship_to.address, ship, ship["country"])

    for line in figures.lines:
        item = LineItem()
        item.document.line_id = str(line.position)
        if line.sku:
            item.product.seller_assigned_id = line.sku
        item.product.name = line.name
        item.agreement.net.amount = line.net_price
        item.delivery.billed_quantity = (line.billed_quantity, line.unit_code)
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = line.category
        item.settlement.trade_tax.rate_applicable_percent = line.rate
        item.settlement.monetary_summation.total_amount = line.net
        doc.trade.items.add(item)

    settlement = doc.trade.settlement
    settlement.currency_code = currency
    accounting = tax_in_accounting_currency(order, figures, whole_order=not credit_note)
    if accounting:  # BT-6: the VAT is also stated in the shop's own currency (BT-111 below)
        settlement.tax_currency_code = accounting[1]
    if number:
        settlement.payment_reference = number
    if shop.get("iban") and not credit_note:  # a credit note's money goes to the buyer, not to this account
        means = PaymentMeans()
        means.type_code = "58"  # SEPA credit transfer
        means.payee_account.iban = shop["iban"]
        if shop.get("bic"):
            means.payee_institution.bic = shop["bic"]
        settlement.payment_means.add(means)
    for group in figures.taxes:
        tax = ApplicableTradeTax()
        tax.calculated_amount = group.tax
        tax.type_code = "VAT"
        if exemption:
            tax.exemption_reason = exemption
        tax.basis_amount = group.basis
        tax.category_code = group.category
        if case.reason_code:
            tax.exemption_reason_code = case.reason_code
        tax.rate_applicable_percent = group.rate
        settlement.trade_tax.add(tax)
    for adj in figures.adjustments:
        ac = TradeAllowanceCharge()
        ac.indicator = adj.is_charge
        ac.actual_amount = adj.net
        ac.reason_code = _CHARGE_CODES[adj.kind] if adj.is_charge else _ALLOWANCE_CODE
        ac.reason = reasons[adj.kind]
        cat = CategoryTradeTax()
        cat.type_code = "VAT"
        cat.category_code = adj.category
        cat.rate_applicable_percent = adj.rate
        ac.trade_tax.add(cat)
        settlement.allowance_charge.add(ac)
    if settled is None:
        settled = bool(order.get("paid_at"))
    paid = figures.grand_total if settled else figures.zero
    if terms or (due_date and paid < figures.grand_total):
        pt = PaymentTerms()
        if terms:
            pt.description = terms
        if due_date and paid < figures.grand_total:
            pt.due = due_date
        settlement.terms.add(pt)

    sums = settlement.monetary_summation
    sums.line_total = figures.line_total
    sums.charge_total = figures.charge_total
    sums.allowance_total = figures.allowance_total
    sums.tax_basis_total = figures.tax_basis_total
    sums.tax_total = (figures.tax_total, currency)
    if accounting:
        sums.tax_total_other_currency.add(accounting)
    sums.grand_total = figures.grand_total
    sums.prepaid_total = paid
    sums.due_amount = figures.grand_total - paid
    if corrects:  # BG-3: the invoice this credit note corrects
        settlement.invoice_referenced_document.issuer_assigned_id = corrects["number"]
        if corrects.get("issued_on"):
            settlement.invoice_referenced_document.issue_date_time = date.fromisoformat(corrects["issued_on"])
    return doc.serialize(schema="FACTUR-X_EN16931")


# ---------------------------------------------------------------- Factur-X PDF


def embed_facturx(pdf_bytes: bytes, xml_bytes: bytes, *, lang: str | None = None) -> bytes:
    """The PDF with the XML embedded as ``factur-x.xml`` (Factur-X 1.0 / ZUGFeRD 2, level EN 16931).

    factur-x checks the XML against its XSD again and writes the Factur-X XMP metadata.
    ``facturx.get_xml_from_pdf`` gets the XML back out.
    """
    from facturx import generate_from_binary  # factur-x loads only when an invoice's XML is embedded

    return generate_from_binary(pdf_bytes, xml_bytes, flavor="factur-x", level="en16931", check_xsd=True, lang=lang)
