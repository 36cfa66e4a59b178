"""`regelwerk apply` and the shop's sender: refused unless SES verified it; verified by apply on the local stack."""

from __future__ import annotations

import shutil

import pytest
import yaml
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from regelwerk.clients import client
from regelwerk.store.rules import get_rule
from tests.conftest import DEMO_SHOP
from tests.integration.test_cli import cli  # noqa: F401  # the fixture: the CLI against the local stack


def shop_dir(tmp, sender: str):
    """The demo shop's directory with another sender and a renamed rule (to see whether anything was applied)."""
    copy = tmp / "shop"
    shutil.copytree(DEMO_SHOP, copy)
    shop = yaml.safe_load((copy / "shop.yaml").read_text())
    shop["sender"]["email"] = sender
    (copy / "shop.yaml").write_text(yaml.safe_dump(shop, allow_unicode=True))
    rule = yaml.safe_load((copy / "rules" / "thank-you.yaml").read_text())
    rule["name"] = "Thank you, renamed"
    (copy / "rules" / "thank-you.yaml").write_text(yaml.safe_dump(rule, allow_unicode=True))
    return copy


def known_to_ses(identity: str) -> bool:
    try:
        client("sesv2").get_email_identity(EmailIdentity=identity)
    except ClientError:
        return False
    return True


@pytest.fixture
def deployed(monkeypatch):
    """`--stack NAME` aimed at the local stack's SES and tables (no CloudFormation needed)."""
    monkeypatch.setattr("regelwerk_cli.target.use_stack", lambda name, region: f"stack {name}")


def test_on_the_local_stack_apply_verifies_the_sender_itself(cli):  # noqa: F811
    directory = shop_dir(cli.tmp, "laden@neu.example")
    assert not known_to_ses("laden@neu.example")
    # a dry run changes nothing, not even SES
    assert cli("apply", str(directory), "--dry-run")[0] == 0
    assert not known_to_ses("laden@neu.example")

    code, out = cli("apply", str(directory))

    assert code == 0
    assert "sender laden@neu.example: verified on the local stack (it stands in for SES)" in out
    assert known_to_ses("laden@neu.example")
    assert get_rule("demo", "thank-you").name == "Thank you, renamed"


def test_a_deployed_stack_refuses_a_sender_ses_does_not_know_and_applies_nothing(cli, deployed):  # noqa: F811
    directory = shop_dir(cli.tmp, "laden@neu.example")

    code, out = cli("apply", str(directory), "--stack", "regelwerk-prod")

    assert code == 2
    assert out.startswith("nothing applied: the sender address laden@neu.example in shop.yaml cannot send")
    assert "SES does not know it" in out
    assert "aws sesv2 create-email-identity --email-identity laden@neu.example" in out
    assert "aws sesv2 create-email-identity --email-identity neu.example" in out and "DKIM" in out
    assert get_rule("demo", "thank-you").name != "Thank you, renamed"
    assert not known_to_ses("laden@neu.example")  # only the local stack verifies by itself


def test_a_deployed_stack_refuses_a_sender_whose_verification_is_pending(cli, deployed):  # noqa: F811
    client("sesv2").create_email_identity(EmailIdentity="laden@neu.example")  # SES waits for the link to be opened
    code, out = cli("apply", str(shop_dir(cli.tmp, "laden@neu.example")), "--stack", "regelwerk-prod")
    assert code == 2
    assert "its SES identity laden@neu.example is not verified yet" in out


def test_a_deployed_stack_accepts_a_sender_whose_domain_is_verified(cli, deployed):  # noqa: F811
    # Given SES knows no identity for the address but has verified its domain
    with Stubber(client("sesv2")) as ses:
        ses.add_client_error(
            "get_email_identity", "NotFoundException", expected_params={"EmailIdentity": "laden@neu.example"}
        )
        ses.add_response(
            "get_email_identity",
            {"VerifiedForSendingStatus": True, "VerificationStatus": "SUCCESS", "IdentityType": "DOMAIN"},
            {"EmailIdentity": "neu.example"},
        )
        # When the shop is applied to the deployed stack
        code, out = cli("apply", str(shop_dir(cli.tmp, "laden@neu.example")), "--stack", "regelwerk-prod")
    # Then it is applied, and apply says which identity lets it send
    assert code == 0, out
    assert "sender laden@neu.example: verified in SES (eu-central-1) as neu.example" in out
    assert get_rule("demo", "thank-you").name == "Thank you, renamed"
