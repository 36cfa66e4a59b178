"""The legal footer of the shop's e-mails (Impressum): company, address, registry, managing
directors, VAT id and tax number, from shop.yaml's ``legal`` and ``address_lines``.

German law asks it of every business e-mail (§5 DDG, §35a GmbHG); a shop that gives no ``legal``
details gets no footer.
"""

from __future__ import annotations

from html import escape
from typing import Any

LABELS = {
    "de": {
        "registry": "Registergericht",
        "number": "Registernummer",
        "directors": "Geschäftsführung",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
    },
    "en": {
        "registry": "Registry court",
        "number": "Registration number",
        "directors": "Managing directors",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
    },
}


def imprint_lines(shop: dict[str, Any], language: str) -> list[str]:
    """The footer's lines for the shop's context, in the language of the e-mail; none without ``legal``."""
    legal = shop.get("legal")
    if not legal:
        return []
    t = LABELS.get(language, LABELS["en"])
    company = legal.get("company") or shop.get("name") or ""
    address = [line for line in shop.get("address_lines") or [] if line != company]
    lines = [line for line in (company, *address) if line]
    registry = []
    if legal.get("registry_court"):
        registry.append(f"{t['registry']}: {legal['registry_court']}")
    if legal.get("registry_number"):
        registry.append(f"{t['number']}: {legal['registry_number']}")
    if registry:
        lines.append(", ".join(registry))
    if legal.get("managing_directors"):
        lines.append(f"{t['directors']}: {', '.join(legal['managing_directors'])}")
    taxes = []
    vat_id = legal.get("vat_id") or shop.get("tax_id")
    if vat_id:
        taxes.append(f"{t['vat_id']} {vat_id}")
    if legal.get("tax_number"):
        taxes.append(f"{t['tax_number']} {legal['tax_number']}")
    if taxes:
        lines.append(", ".join(taxes))
    return lines


def with_imprint(parts: dict[str, str], shop: dict[str, Any], language: str) -> dict[str, str]:
    """The rendered e-mail parts with the footer added below the text and at the end of the HTML."""
    lines = imprint_lines(shop, language)
    if not lines:
        return parts
    out = dict(parts)
    if "text" in out:
        out["text"] = (out["text"] or "").rstrip("\n") + "\n\n-- \n" + "\n".join(lines) + "\n"
    if out.get("html"):
        block = (
            '<hr style="border:none;border-top:1px solid #ccc;margin:24px 0 8px">'
            '<p style="font-size:12px;color:#666;line-height:1.4">'
            + "<br>".join(escape(line) for line in lines)
            + "</p>"
        )
        html = out["html"]
        at = html.lower().rfind("</body>")
        out["html"] = html[:at] + block + html[at:] if at >= 0 else html + block
    return out
