"""An SMS that names an amount goes out in GSM-7, one segment where the text fits (not UCS-2 at double the price)."""

from __future__ import annotations

from regelwerk.documents.sms import segments
from tests.conftest import EVENTS, sent_sms


def test_a_shipping_sms_with_the_order_total_is_gsm7_and_one_segment(demo_shop):
    # Given the shop's shipping SMS names the order's total
    text = "{{ shop.name }}: Ihre Bestellung {{ order.number }} über {{ order.total | money }} ist unterwegs."
    status, _ = demo_shop.admin("PUT", "/templates/shipped/de", {"text": text})
    assert status in (200, 201)
    # When Anna's paid order ships
    demo_shop.post((EVENTS / "01-order-anna-paid.json").read_bytes())
    status, answer = demo_shop.post((EVENTS / "03-order-anna-shipped.json").read_bytes())
    demo_shop.drain()

    # Then the SMS she gets has the amount with a plain space, in GSM-7, in one segment
    [(_, sent)] = sent_sms()
    assert sent == "Kaffeerösterei Morgenrot: Ihre Bestellung 1001 über 149,90 € ist unterwegs."
    assert "\u00a0" not in sent and "\u202f" not in sent
    assert segments(sent) == ("GSM-7", 1)
    # and the run log says so
    run = demo_shop.run(answer["run_id"])
    [sms] = [d for d in run["deliveries"].values() if d["type"] == "sms"]
    assert (sms["state"], sms["encoding"], sms["segments"]) == ("sent", "GSM-7", 1)
