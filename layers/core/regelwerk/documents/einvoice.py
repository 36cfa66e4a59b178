"""E-invoicing: the EPC payment QR code (GiroCode) and the Factur-X / ZUGFeRD EN 16931 XML of an invoice.

Imported only by ``documents`` (the PDF handler): segno, drafthorse, factur-x and lxml stay out of
every other function's cold start.

Order prices are gross (VAT included), with a rate per line. The XML wants net amounts, so
:func:`breakdown` works out one set of figures that is arithmetically valid under EN 16931 (line nets
sum to the net total, each rate's tax basis is its lines plus its share of shipping and discounts,
grand total = net + tax = the order total) and the invoice PDF shows the same figures.
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

    @property
    def is_charge(self) -> bool:
        return self.kind != "discount"


@dataclass(frozen=True, slots=True)
class TaxGroup:
    rate: Decimal
    basis: Decimal
    tax: Decimal

    @property
    def category(self) -> str:
        return vat_category(self.rate)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """An invoice's figures, consistent to the cent: what the PDF shows and the XML states."""

    currency: str
    lines: tuple[Line, ...]
    adjustments: tuple[Adjustment, ...]
    taxes: tuple[TaxGroup, ...]
    grand_total: Decimal

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


def _amount(value: Any) -> Decimal:
    if isinstance(value, Mapping):
        value = value.get("amount")
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _split(amount: Decimal, weights: dict[Decimal, Decimal], quantum: Decimal) -> dict[Decimal, Decimal]:
    """Share an amount out over the VAT rates in proportion to their net value, to the cent, summing
    exactly (German practice for ancillary costs: shipping follows the goods; one rate when all
    goods share it)."""
    weights = {rate: max(gross * HUNDRED / (HUNDRED + rate), Decimal(0)) for rate, gross in weights.items()}
    total = sum(weights.values(), Decimal(0))  # a voucher rate gets no share
    if total <= 0:  # only free lines: all of it at the highest rate
        return {max(weights): amount}
    parts, left = {}, amount
    rates = sorted(weights, key=lambda r: (weights[r], r))
    for rate in rates[:-1]:
        parts[rate] = (amount * weights[rate] / total).quantize(quantum, rounding=ROUND_HALF_UP)
        left -= parts[rate]
    parts[rates[-1]] = left
    return parts


def breakdown(order: Mapping[str, Any]) -> Breakdown:
    """The invoice figures of an order (as ``Order.to_context()`` gives it).

    Line gross amounts are the platform's line totals. Shipping goes to the rate the platform
    charged it at (``shipping_tax_rate``); without one it is shared out over the goods' rates by
    net value, as are fees and discounts not already in the lines. A rest of a few cents (the
    platform's rounding) is shown as such; a larger one means the order does not add up and no
    invoice is made from it (ValueError naming the figures). Per rate: net basis = gross /
    (1 + rate) rounded to the cent, tax = gross - net basis, and line nets absorb the rounding
    cent so that they add up to the basis exactly. So every EN 16931 sum holds and the grand
    total is the order total.
    """
    currency = order["currency"]
    quantum = Decimal(1).scaleb(-minor_units(currency))

    def q(value: Decimal) -> Decimal:
        return value.quantize(quantum, rounding=ROUND_HALF_UP)

    items = order.get("line_items") or []
    if not items:
        raise ValueError("an EN 16931 invoice needs at least one line item")
    rates_of = [Decimal(str(item.get("tax_rate") or "0")) for item in items]
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
    goods = dict(by_rate)
    shares: list[tuple[str, Decimal, Decimal]] = []  # (kind, rate, gross), gross positive
    shipping_rate = order.get("shipping_tax_rate")
    if shipping and shipping_rate is not None:
        shares.append(("shipping", Decimal(str(shipping_rate)), shipping))
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

    adjustments = tuple(Adjustment(kind, gross, net(gross, rate), rate) for kind, rate, gross in shares)
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
                Adjustment(a.kind, a.gross, a.net + basis - adjusted, a.rate)
                if a.rate == rate and a.kind == "shipping"
                else a
                for a in adjustments
            )
        taxes.append(TaxGroup(rate, basis, gross - basis))
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
        )
        for i, (item, gross) in enumerate(zip(items, gross_of, strict=True))
    )
    return Breakdown(currency, lines, adjustments, tuple(taxes), total)


# ---------------------------------------------------------------- the EN 16931 XML


def _seller_country(shop: Mapping[str, Any]) -> str:
    tax_id = (shop.get("tax_id") or "").replace(" ", "").upper()
    if _VAT_ID.match(tax_id):
        return "GR" if tax_id[:2] == "EL" else tax_id[:2]
    locale = shop.get("locale") or ""
    if "_" in locale:
        return locale.split("_")[1]
    return (shop.get("iban") or "DE")[:2]


def _seller_address(shop: Mapping[str, Any]) -> dict[str, str]:
    """Street, postcode and city out of the shop's free-text address lines ("Street 12, 04107 Leipzig")."""
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
) -> bytes:
    """The invoice as Factur-X / ZUGFeRD 2 CII XML, profile EN 16931, validated against the XSD.

    ``ctx`` is the action context (``order``, ``shop``, ``customer``); ``number`` the invoice number;
    ``terms`` the payment terms in words and ``labels`` the words for shipping, discount and
    surcharge, both in the invoice's language. Raises ValueError for an order EN 16931 cannot
    express (no line items) and lxml's error when the XML does not validate.
    """
    # drafthorse (and lxml under it) loads only when an invoice's XML is made
    from drafthorse.models.accounting import ApplicableTradeTax, CategoryTradeTax, TradeAllowanceCharge
    from drafthorse.models.document import Document
    from drafthorse.models.party import TaxRegistration
    from drafthorse.models.payment import PaymentMeans, PaymentTerms
    from drafthorse.models.tradelines import LineItem

    order, shop = ctx["order"], ctx.get("shop") or {}
    figures = figures or breakdown(order)
    currency = figures.currency
    reasons = {**_REASONS, **(labels or {})}

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE
    doc.header.id = number
    doc.header.type_code = "380"  # commercial invoice
    doc.header.issue_date_time = issue_date

    agreement = doc.trade.agreement
    seller = agreement.seller
    if shop.get("id"):
        seller.id = shop["id"]  # BT-29: the seller is identified even without a VAT id
    seller.name = shop.get("name") or ""
    address = _seller_address(shop)
    if address.get("street"):
        seller.address.line_one = address["street"]
    if address.get("postcode"):
        seller.address.postcode = address["postcode"]
        seller.address.city_name = address["city"]
    country = _seller_country(shop)
    seller.address.country_id = country
    if shop.get("tax_id"):
        tax_id = shop["tax_id"].strip()
        seller.tax_registrations.add(TaxRegistration(id=(_vat_scheme(tax_id), tax_id)))

    bill = order.get("billing_address") or order.get("shipping_address") or {}
    customer = order.get("customer") or {}
    person = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    buyer = agreement.buyer
    buyer.name = bill.get("company") or bill.get("name") or person or customer.get("email") or "-"
    street = " ".join(p for p in (bill.get("street"), bill.get("house_number")) if p)
    if street:
        buyer.address.line_one = street
    if bill.get("street2"):
        buyer.address.line_two = bill["street2"]
    if bill.get("zip"):
        buyer.address.postcode = bill["zip"]
    if bill.get("city"):
        buyer.address.city_name = bill["city"]
    buyer.address.country_id = bill.get("country") or country
    email = customer.get("email") or (ctx.get("customer") or {}).get("email")
    if email:
        buyer.electronic_address.uri_ID = ("EM", email)
    agreement.seller_order.issuer_assigned_id = str(order["number"])

    if delivered is not None:  # BT-72, the date of delivery as the document states it (shop's time zone)
        doc.trade.delivery.event.occurrence = delivered
    elif order.get("shipped_at"):
        doc.trade.delivery.event.occurrence = datetime.fromisoformat(order["shipped_at"]).date()

    for line in figures.lines:
        item = LineItem()
        item.document.line_id = str(line.position)
        if line.sku:
            item.product.seller_assigned_id = line.sku
        item.product.name = line.name
        item.agreement.net.amount = line.net_price
        item.delivery.billed_quantity = (line.billed_quantity, line.unit_code)
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = vat_category(line.rate)
        item.settlement.trade_tax.rate_applicable_percent = line.rate
        item.settlement.monetary_summation.total_amount = line.net
        doc.trade.items.add(item)

    settlement = doc.trade.settlement
    settlement.currency_code = currency
    if number:
        settlement.payment_reference = number
    if shop.get("iban"):
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
        tax.basis_amount = group.basis
        tax.category_code = group.category
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
        cat.category_code = vat_category(adj.rate)
        cat.rate_applicable_percent = adj.rate
        ac.trade_tax.add(cat)
        settlement.allowance_charge.add(ac)
    paid = figures.grand_total if order.get("paid_at") else figures.zero
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
    sums.grand_total = figures.grand_total
    sums.prepaid_total = paid
    sums.due_amount = figures.grand_total - paid
    return doc.serialize(schema="FACTUR-X_EN16931")


# ---------------------------------------------------------------- Factur-X PDF


def embed_facturx(pdf_bytes: bytes, xml_bytes: bytes, *, lang: str | None = None) -> bytes:
    """The PDF with the XML embedded as ``factur-x.xml`` (Factur-X 1.0 / ZUGFeRD 2, level EN 16931).

    factur-x checks the XML against its XSD again and writes the Factur-X XMP metadata.
    ``facturx.get_xml_from_pdf`` gets the XML back out.
    """
    from facturx import generate_from_binary  # factur-x loads only when an invoice's XML is embedded

    return generate_from_binary(pdf_bytes, xml_bytes, flavor="factur-x", level="en16931", check_xsd=True, lang=lang)
