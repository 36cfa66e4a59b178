"""`regelwerk apply` checks the shop's sender with SES before anything is applied.

An unverified sender lets every e-mail fail at SES and end in the dead-letter queue after five
tries, with no word to the operator; so apply refuses it and says what to do. On the local stack
moto stands in for SES, so apply verifies the address there itself.
"""

from __future__ import annotations

from typing import Any


class SenderNotVerified(Exception):
    pass


def sender_of(shop: dict[str, Any]) -> str | None:
    return (shop.get("sender") or {}).get("email")


def verify_locally(address: str) -> str:
    """Verify the sender on the local stack (moto's SES), as the real SES would after its link was opened."""
    from regelwerk.clients import client

    client("ses").verify_email_identity(EmailAddress=address)
    return f"sender {address}: verified on the local stack (it stands in for SES)"


def check_in_ses(address: str) -> str:
    """The line saying the sender is verified in SES; SenderNotVerified saying what to do if it is not."""
    from regelwerk.actions.mail import sender_status
    from regelwerk.clients import client

    region = client("sesv2").meta.region_name
    status, identity = sender_status(address)
    if status == "verified":
        return f"sender {address}: verified in SES ({region}) as {identity}"
    domain = address.rpartition("@")[2]
    state = {
        "missing": "SES does not know it (neither the address nor its domain is an identity)",
        "pending": f"its SES identity {identity} is not verified yet",
        "failed": f"the verification of its SES identity {identity} failed",
    }[status]
    raise SenderNotVerified(
        f"the sender address {address} in shop.yaml cannot send: {state} in {region}.\n"
        f"  Verify it in SES, then apply again:\n"
        f"    the address: aws sesv2 create-email-identity --email-identity {address} --region {region}\n"
        f"                 and open the link SES mails to {address}\n"
        f"    or its domain: aws sesv2 create-email-identity --email-identity {domain} --region {region}\n"
        f"                 and publish the three DKIM CNAME records it answers in {domain}'s DNS\n"
        f"  (or change sender.email in shop.yaml to an address SES has verified)."
    )
