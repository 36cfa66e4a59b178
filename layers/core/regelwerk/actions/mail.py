"""The email action: render the shop's template in the customer's language and send it with SES v2 (raw MIME)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from botocore.exceptions import ClientError

from ..clients import client
from ..delivery.outcome import Outcome, Throttled
from ..documents import links as portal
from ..documents.imprint import with_imprint
from ..documents.templates import choose_language, render
from ..errors import ActionFailed
from ..ingest.digest import BUILTIN, TEMPLATE
from ..model.messages import ActionMessage
from ..settings import settings
from ..store.rules import get_template

# SES's answers when the account's sending rate is exceeded: the message is put back with a pause (dispatch.py);
# the client itself runs botocore's adaptive mode, which slows it down when SES starts throttling
THROTTLING = frozenset({"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"})


def recipient(to: str, ctx: dict[str, Any], kind: str = "email") -> str:
    """'customer', 'owner' or a literal address -> the address to send to."""
    if to == "customer":
        customer = ctx.get("customer") or {}
        order = ctx.get("order") or {}
        address = customer.get("email") or (order.get("customer") or {}).get("email")
        if not address:
            raise ActionFailed("the customer has no e-mail address")
        return address
    if to == "owner":
        owner = (ctx.get("shop") or {}).get("owner_email")
        if not owner:
            raise ActionFailed("the shop has no owner e-mail address configured (shop.yaml: owner.email)")
        return owner
    return to


def addressee(action: dict[str, Any]) -> str:
    """Whom an email action writes to: notify_owner always to the owner."""
    return "owner" if action["type"] == "notify_owner" else action.get("to", "customer")


def template_variant(shop_id: str, name: str, ctx: dict[str, Any]) -> tuple[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}

    def available(lang: str) -> bool:
        variant = get_template(shop_id, name, lang)
        if variant is not None:
            found[lang] = variant
        return variant is not None

    language = choose_language(ctx, available)
    if language is None:
        if name == TEMPLATE:  # Regelwerk's own message; a shop may write its own under this name
            language = choose_language(ctx, lambda lang: lang in BUILTIN) or "en"
            return language, BUILTIN[language]
        raise ActionFailed(f"template {name!r} does not exist for this shop in any fallback language")
    return language, found[language]


def _attachments(message: EmailMessage, names: list[str], outputs: dict[str, Any]) -> None:
    for name in names:
        output = outputs.get(name)
        if not output or "key" not in output:
            raise ActionFailed(f"attachment {name!r} is not among the outputs of earlier actions")
        body = client("s3", adaptive=True).get_object(Bucket=output["bucket"], Key=output["key"])["Body"].read()
        maintype, _, subtype = output.get("content_type", "application/pdf").partition("/")
        message.add_attachment(body, maintype=maintype, subtype=subtype, filename=output.get("filename", name))


def _render(msg: ActionMessage) -> tuple[dict[str, Any], str, dict[str, str]]:
    """The context, language and rendered parts of one email action: the one path for sending and previews."""
    ctx = dict(msg.context)
    ctx["outputs"] = dict(msg.outputs)
    ctx["portal_url"] = portal.url_for_context(msg.shop_id, ctx)  # {{ portal_url }}: made when rendered
    language, variant = template_variant(msg.shop_id, msg.action["template"], ctx)
    parts = render(variant, ctx, language=language, parts=("subject", "html", "text"))
    if addressee(msg.action) == "owner":  # the owner's own notices need no imprint
        return ctx, language, parts
    return ctx, language, with_imprint(parts, ctx.get("shop") or {}, language)


def build_email(msg: ActionMessage) -> tuple[EmailMessage, str]:
    """The MIME message for one email action, and the language it was written in."""
    action = msg.action
    ctx, language, parts = _render(msg)
    shop = ctx.get("shop") or {}
    sender = shop.get("sender_email") or settings().sender_address
    message = EmailMessage()
    message["Subject"] = parts.get("subject", "")
    message["From"] = formataddr((shop.get("name") or "", sender))
    message["To"] = recipient(addressee(action), ctx)
    message["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
    message["X-Regelwerk-Action"] = msg.action_id
    # quoted-printable keeps the raw message 7-bit clean for every mail hop
    message.set_content(parts.get("text") or "", cte="quoted-printable")
    if parts.get("html"):
        message.add_alternative(parts["html"], subtype="html", cte="quoted-printable")
    if action.get("attach"):
        message.make_mixed()
        _attachments(message, action["attach"], ctx["outputs"])
    message["Content-Language"] = language  # after set_content, which clears Content-* headers
    return message, language


def preview_email(msg: ActionMessage) -> dict[str, Any]:
    """The e-mail an action would send, rendered but not sent (dry runs, template previews)."""
    action = msg.action
    ctx, language, parts = _render(msg)
    return {
        "type": "email",
        "to": recipient(addressee(action), ctx),
        "language": language,
        "subject": parts.get("subject", ""),
        "html": parts.get("html"),
        "text": parts.get("text"),
        "attachments": list(action.get("attach", [])),
    }


def sender_status(address: str) -> tuple[str, str]:
    """Whether SES lets the shop send from ``address``: (``verified`` | ``pending`` | ``failed`` |
    ``missing``, the identity that says so), from the address's identity or else its domain's."""
    domain = address.rpartition("@")[2]
    found: list[tuple[str, str]] = []
    for identity in (address, domain):
        try:
            answer = client("sesv2").get_email_identity(EmailIdentity=identity)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NotFoundException":
                continue
            raise
        if answer.get("VerifiedForSendingStatus"):
            return "verified", identity
        status = str(answer.get("VerificationStatus") or "PENDING")
        found.append(("failed" if "FAIL" in status else "pending", identity))
    return found[0] if found else ("missing", address)


def send_email(msg: ActionMessage) -> Outcome:
    """Perform an email action (called by delivery.deliver)."""
    message, language = build_email(msg)
    kwargs: dict[str, Any] = {"Content": {"Raw": {"Data": message.as_bytes()}}}
    if settings().ses_configuration_set:
        kwargs["ConfigurationSetName"] = settings().ses_configuration_set
    sender = ((msg.context.get("shop") or {}).get("sender_email")) or settings().sender_address
    try:
        response = client("sesv2", adaptive=True).send_email(
            FromEmailAddress=sender, Destination={"ToAddresses": [message["To"]]}, **kwargs
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in THROTTLING:
            raise Throttled(f"SES: {exc.response['Error'].get('Message') or 'sending rate exceeded'}") from exc
        raise
    return Outcome(provider_id=response.get("MessageId"), detail={"language": language})
