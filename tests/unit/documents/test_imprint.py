"""The legal footer (Impressum) of the shop's e-mails, from shop.yaml's legal details."""

from __future__ import annotations

from regelwerk.documents.imprint import imprint_lines, with_imprint
from regelwerk.model.shop import Shop

LEGAL = {
    "company": "Kaffeerösterei Morgenrot GmbH",
    "registry_court": "Amtsgericht Leipzig",
    "registry_number": "HRB 12345",
    "managing_directors": ["Marie Morgenrot", "Jonas <Bohne>"],
    "tax_number": "231/123/45678",
}


def shop(**changes: object) -> dict:
    base = {
        "id": "morgenrot",
        "name": "Kaffeerösterei Morgenrot",
        "address_lines": ["Kaffeerösterei Morgenrot GmbH", "Karl-Liebknecht-Straße 12, 04107 Leipzig"],
        "tax_id": "DE123456789",
        "legal": LEGAL,
    }
    return Shop.model_validate(base | changes).to_context()


def test_the_footer_names_company_address_registry_directors_and_tax_ids_in_german() -> None:
    assert imprint_lines(shop(), "de") == [
        "Kaffeerösterei Morgenrot GmbH",
        "Karl-Liebknecht-Straße 12, 04107 Leipzig",
        "Registergericht: Amtsgericht Leipzig, Registernummer: HRB 12345",
        "Geschäftsführung: Marie Morgenrot, Jonas <Bohne>",
        "USt-IdNr. DE123456789, Steuernummer 231/123/45678",  # the VAT id: legal.vat_id, else tax_id
    ]


def test_in_english_and_with_only_some_details() -> None:
    lines = imprint_lines(shop(legal={"vat_id": "DE999999999"}, address_lines=[]), "en")
    assert lines == ["Kaffeerösterei Morgenrot", "VAT ID DE999999999"]


def test_no_legal_details_no_footer() -> None:
    parts = {"subject": "Hallo", "text": "Danke!", "html": "<p>Danke!</p>"}
    assert with_imprint(parts, shop(legal=None), "de") == parts


def test_the_footer_goes_below_the_text_and_inside_the_htmls_body_escaped() -> None:
    parts = {"subject": "Hallo", "text": "Danke!\n", "html": "<html><body><p>Danke!</p></body></html>"}
    out = with_imprint(parts, shop(), "de")
    assert out["subject"] == "Hallo"
    assert out["text"].startswith("Danke!\n\n-- \nKaffeerösterei Morgenrot GmbH\n")
    assert out["text"].endswith("Steuernummer 231/123/45678\n")
    assert out["html"].startswith("<html><body><p>Danke!</p><hr")
    assert out["html"].endswith("Steuernummer 231/123/45678</p></body></html>")
    assert "Jonas &lt;Bohne&gt;" in out["html"] and "<Bohne>" not in out["html"]
