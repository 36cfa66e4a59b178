"""The sms action: E.164 numbers (phonenumbers), GSM-7 / UCS-2 segments (documents.sms), SNS publish."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..clients import client
from ..delivery.outcome import Outcome, Throttled
from ..documents.sms import segments
from ..documents.templates import render
from ..errors import ActionFailed
from ..model.messages import ActionMessage
from .mail import addressee, template_variant

MAX_SEGMENTS = 6
# SNS's answers when the account's SMS rate is exceeded: put back with a pause (delivery/dispatch.py)
THROTTLING = frozenset({"ThrottledException", "Throttling", "ThrottlingException"})
# countries where carriers do not accept an alphanumeric sender id (AWS End User Messaging SMS):
# there the shop's sender id is left out and the route's number is shown instead
NO_SENDER_ID = frozenset({"US", "CA", "PR", "BR", "CL", "CN", "CO", "KR", "VN"})


def normalise_number(raw: str | None, default_country: str | None) -> str:
    """A phone number as E.164, read in the shipping country's format when it has no +prefix."""
    import phonenumbers  # phonenumbers (only in the SMS function) loads on first use

    if not raw:
        raise ActionFailed("no phone number to send the SMS to")
    try:
        number = phonenumbers.parse(raw, default_country or None)
    except phonenumbers.NumberParseException as exc:
        raise ActionFailed(f"invalid phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ActionFailed("invalid phone number (not a valid number for its country)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _region_of(number: str) -> str | None:
    import phonenumbers  # phonenumbers (only in the SMS function) loads on first use

    return phonenumbers.region_code_for_number(phonenumbers.parse(number))


def _target(to: str, ctx: dict[str, Any]) -> tuple[str | None, str | None]:
    order = ctx.get("order") or {}
    address = order.get("shipping_address") or order.get("billing_address") or {}
    country = address.get("country")
    if to == "customer":
        customer = ctx.get("customer") or {}
        return customer.get("phone") or address.get("phone"), country
    if to == "owner":
        phone = (ctx.get("shop") or {}).get("owner_phone")
        if not phone:
            raise ActionFailed("an SMS to the owner needs owner.phone in shop.yaml")
        return phone, None
    return to, None


def preview_sms(msg: ActionMessage) -> dict[str, Any]:
    """The SMS an action would send, rendered but not sent."""
    action, ctx = msg.action, dict(msg.context)
    ctx["outputs"] = dict(msg.outputs)
    language, variant = template_variant(msg.shop_id, action["template"], ctx)
    text = render(variant, ctx, language=language, parts=("text",), sms=True)["text"].strip()
    encoding, count = segments(text)
    raw, country = _target(addressee(action), ctx)
    number: str | None  # None: no number, shown as such where phonenumbers is missing
    try:
        number = normalise_number(raw, country)
    except ImportError:  # the admin function does not carry phonenumbers: show the number as stored
        number = raw
    return {"type": "sms", "to": number, "language": language, "text": text, "encoding": encoding, "segments": count}


def send_sms(msg: ActionMessage) -> Outcome:
    """Perform an sms action (called by delivery.deliver)."""
    action, ctx = msg.action, dict(msg.context)
    ctx["outputs"] = dict(msg.outputs)
    language, variant = template_variant(msg.shop_id, action["template"], ctx)
    text = render(variant, ctx, language=language, parts=("text",), sms=True)["text"].strip()
    if not text:
        raise ActionFailed("the SMS text rendered empty")
    encoding, count = segments(text)
    if count > MAX_SEGMENTS:
        raise ActionFailed(f"SMS too long: {count} {encoding} segments (at most {MAX_SEGMENTS})")
    raw, country = _target(addressee(action), ctx)
    number = normalise_number(raw, country)
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    sender_id = (ctx.get("shop") or {}).get("sms_sender_id")
    if sender_id and _region_of(number) not in NO_SENDER_ID:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    try:
        response = client("sns", adaptive=True).publish(PhoneNumber=number, Message=text, MessageAttributes=attributes)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in THROTTLING:
            raise Throttled(f"SNS: {exc.response['Error'].get('Message') or 'SMS rate exceeded'}") from exc
        raise
    return Outcome(
        provider_id=response.get("MessageId"), detail={"language": language, "encoding": encoding, "segments": count}
    )
