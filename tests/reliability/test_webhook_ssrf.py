"""A shop owner's webhook URL is hostile input running inside our AWS account: every way to reach an
internal address (names that resolve inside, numeric tricks, IPv6 wrappings, redirects, DNS rebinding)
is refused before any connection is made. Names resolve through a fake resolver; the only real network
touched is 127.0.0.1."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regelwerk.actions.webhooks import WebhookFailed, WebhookRefused, post_webhook, refusal
from tests.unit.actions.test_webhooks import Answer, Receiver

BODY = b'{"event": "order.created"}'

# what the fake DNS answers; a name not listed here fails the test (it would have gone to real DNS)
DNS: dict[str, list[str]] = {
    "shop.example": ["93.184.216.34"],
    "internal.example": ["10.0.0.5"],
    "private172.example": ["172.16.5.4"],
    "home.example": ["192.168.1.1"],
    "localhost.example": ["127.0.0.1"],
    "loopback-any.example": ["127.53.0.1"],
    "rebind.example": ["93.184.216.34", "127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "linklocal.example": ["169.254.10.10"],
    "alibaba-metadata.example": ["100.100.100.200"],
    "cgnat.example": ["100.64.0.1"],
    "zero.example": ["0.0.0.0"],
    "this-network.example": ["0.1.2.3"],
    "multicast.example": ["224.0.0.1"],
    "broadcast.example": ["255.255.255.255"],
    "reserved.example": ["240.0.0.1"],
    "benchmark.example": ["198.18.0.1"],
    "v6-loopback.example": ["::1"],
    "v6-unspecified.example": ["::"],
    "v6-mapped-loopback.example": ["::ffff:127.0.0.1"],
    "v6-mapped-metadata.example": ["::ffff:169.254.169.254"],
    "v6-mapped-private.example": ["::ffff:10.1.2.3"],
    "v6-compat-loopback.example": ["::127.0.0.1"],
    "v6-ec2-metadata.example": ["fd00:ec2::254"],
    "v6-unique-local.example": ["fd12:3456:789a::1"],
    "v6-link-local.example": ["fe80::1"],
    "v6-site-local.example": ["fec0::1"],
    "v6-multicast.example": ["ff02::1"],
    "v6-nat64-loopback.example": ["64:ff9b::7f00:1"],
    "v6-nat64-metadata.example": ["64:ff9b::a9fe:a9fe"],
    "v6-6to4-private.example": ["2002:a00:1::1"],
    "v6-6to4-public.example": ["2002:5db8:d822::1"],
    "v6-dual.example": ["2606:2800:220:1:248:1893:25c8:1946", "fd00::1"],
    "v6-documentation.example": ["2001:db8::1"],
}


class FakeDNS:
    def __init__(self, answers: dict[str, list[str]] | None = None):
        self.answers = answers if answers is not None else DNS
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.lookups.append(host)
        assert host in self.answers, f"{host} would have gone to real DNS"
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in self.answers[host]
        ]


@pytest.fixture
def connections(monkeypatch) -> list[tuple[str, int]]:
    """Every TCP connection the sender opens; only 127.0.0.1 is really connected, anything else fails the test."""
    opened: list[tuple[str, int]] = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        assert address[0] == "127.0.0.1", f"connected to {address}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


def send(url: str, dns: FakeDNS | None = None, **options: Any) -> Any:
    waits: list[float] = []
    options.setdefault("resolver", dns or FakeDNS())
    try:
        return post_webhook(url, BODY, secret=b"s", delivery_id="run_1:0", sleep=waits.append, **options)
    finally:
        assert waits == [], "a refusal is never retried"


HOSTILE_NAMES = [
    ("https://internal.example/hook", "10.0.0.5: private"),
    ("https://private172.example/", "private"),
    ("https://home.example/", "private"),
    ("https://localhost.example/", "loopback"),
    ("https://loopback-any.example/", "loopback"),
    ("https://rebind.example/", "127.0.0.1: loopback"),
    ("https://metadata.example/latest/meta-data/iam/security-credentials/", "cloud metadata"),
    ("https://linklocal.example/", "link-local"),
    ("https://alibaba-metadata.example/", "cloud metadata"),
    ("https://cgnat.example/", "CGNAT"),
    ("https://zero.example/", "unspecified"),
    ("https://this-network.example/", "not a public address"),
    ("https://multicast.example/", "multicast"),
    ("https://broadcast.example/", "not a public address"),
    ("https://reserved.example/", "reserved"),
    ("https://benchmark.example/", "not a public address"),
    ("https://v6-loopback.example/", "loopback"),
    ("https://v6-unspecified.example/", "unspecified"),
    ("https://v6-mapped-loopback.example/", "loopback (127.0.0.1 embedded in IPv6)"),
    ("https://v6-mapped-metadata.example/", "cloud metadata"),
    ("https://v6-mapped-private.example/", "private (10.1.2.3 embedded in IPv6)"),
    ("https://v6-compat-loopback.example/", "loopback"),
    ("https://v6-ec2-metadata.example/", "cloud metadata"),
    ("https://v6-unique-local.example/", "unique-local"),
    ("https://v6-link-local.example/", "link-local"),
    ("https://v6-site-local.example/", "site-local"),
    ("https://v6-multicast.example/", "multicast"),
    ("https://v6-nat64-loopback.example/", "loopback (127.0.0.1 embedded in IPv6)"),
    ("https://v6-nat64-metadata.example/", "cloud metadata"),
    ("https://v6-6to4-private.example/", "private (10.0.0.1 embedded in IPv6)"),
    ("https://v6-6to4-public.example/", "tunnelled"),
    ("https://v6-dual.example/", "fd00::1: unique-local"),
    ("https://v6-documentation.example/", "not a public address"),
    # a name in any case or with the root's dot is the same name
    ("https://INTERNAL.Example./", "private"),
]


@pytest.mark.parametrize(("url", "reason"), HOSTILE_NAMES)
def test_a_name_resolving_to_an_internal_address_is_refused_before_connecting(url, reason, connections):
    dns = FakeDNS({**DNS, "internal.example.": DNS["internal.example"]})
    with pytest.raises(WebhookRefused, match=re.escape(reason)):
        send(url, dns)
    assert len(dns.lookups) == 1  # resolved once
    assert connections == []


HOSTILE_LITERALS = [
    ("https://127.0.0.1/", "loopback"),
    ("https://127.0.0.1./", "loopback"),
    ("https://10.0.0.1:8443/", "private"),
    ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("https://100.100.100.200/latest/meta-data/", "cloud metadata"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://[::1]/", "loopback"),
    ("https://[::]/", "unspecified"),
    ("https://[::ffff:7f00:1]/", "loopback"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://[::ffff:a9fe:a9fe]/", "cloud metadata"),
    ("https://[0:0:0:0:0:ffff:127.0.0.1]/", "loopback"),
    ("https://[fd00:ec2::254]/", "cloud metadata"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fe80::1%25eth0]/", "zone"),
    ("https://[64:ff9b::7f00:1]/", "loopback"),
    # IPv4 in the notations inet_aton (and so getaddrinfo) reads as 127.0.0.1 and friends
    ("https://2130706433/", "non-standard notation"),
    ("http://2130706433/", "non-standard notation"),
    ("https://0x7f.0.0.1/", "non-standard notation"),
    ("https://0x7f000001/", "non-standard notation"),
    ("https://0177.0.0.1/", "non-standard notation"),
    ("https://127.1/", "non-standard notation"),
    ("https://127.0.1/", "non-standard notation"),
    ("https://0/", "non-standard notation"),
    ("https://169.254.43518/", "non-standard notation"),
    ("https://１２７.０.０.１/", "loopback"),  # full-width digits fold to 127.0.0.1
]


@pytest.mark.parametrize(("url", "reason"), HOSTILE_LITERALS)
def test_an_internal_ip_literal_in_any_notation_is_refused_without_lookup(url, reason, connections):
    dns = FakeDNS()
    with pytest.raises(WebhookRefused, match=reason):
        send(url, dns)
    assert dns.lookups == []
    assert connections == []


MALFORMED = [
    ("file:///etc/passwd", "scheme file"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme gopher"),
    ("ftp://shop.example/", "scheme ftp"),
    ("dict://127.0.0.1:11211/stats", "scheme dict"),
    ("javascript:alert(1)", "scheme javascript"),
    ("//shop.example/hook", r"scheme \(none\)"),
    ("shop.example/hook", r"scheme \(none\)"),
    ("http://shop.example/hook", "http:// is only allowed"),
    ("http://127.0.0.1:9999/", "http:// is only allowed"),  # the allowed host is 127.0.0.1:8765
    ("https://user:pass@shop.example/", "user info"),
    ("https://shop.example@127.0.0.1/", "user info"),
    ("https://@shop.example/", "user info"),
    ("https://shop.example\\@127.0.0.1/", "backslash"),
    ("https://shop.example/hook\r\nX-Injected: 1", "control characters"),
    ("https://shop.\texample/", "control characters"),
    ("https://shop .example/", "whitespace"),
    ("https://shop.example/" + "a" * 2048, "longer than 2048"),
    ("https://", "no host"),
    ("https://:443/", "no host"),
    ("https://shop.example:0/", "port 0"),
    ("https://shop.example:99999/", "malformed URL"),
    ("https://shop.example:http/", "malformed URL"),
    ("https://[::1/", "malformed URL"),
    ("https://[not-v6]/", "malformed"),
    ("https://shop_example%2f..@/", "user info"),
    ("https://shop%2eexample/", "malformed host name"),
    ("https://-shop.example/", "malformed host name"),
    ("https://shop..example/", "malformed host name"),
    ("", "no URL"),
]


@pytest.mark.parametrize(("url", "reason"), MALFORMED)
def test_a_malformed_or_forbidden_url_is_refused(url, reason, connections):
    dns = FakeDNS()
    with pytest.raises(WebhookRefused, match=reason):
        send(url, dns, allow_hosts=frozenset({"127.0.0.1:8765"}))
    assert dns.lookups == []
    assert connections == []


def test_dns_rebinding_cannot_swap_the_vetted_address(monkeypatch):
    # Given a name that answers a public address first and loopback on every later lookup
    answers = iter([["93.184.216.34"]] + [["127.0.0.1"]] * 10)
    lookups: list[str] = []

    def rebinding(host, port, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    opened: list[tuple[str, int]] = []

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        raise ConnectionRefusedError  # the public address is not really dialled

    monkeypatch.setattr(socket, "create_connection", create_connection)
    # When one attempt is made
    with pytest.raises(WebhookFailed, match="connection refused"):
        post_webhook("https://rebind.example/hook", BODY, secret=b"s", delivery_id="d", attempts=1, resolver=rebinding)
    # Then the name was looked up once and the connection went to the address that was checked
    assert lookups == ["rebind.example"]
    assert opened == [("93.184.216.34", 443)]


# --- redirects from an allowed local receiver ----------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "http:// is only allowed"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("https://localhost.example/admin", "localhost.example resolves to 127.0.0.1: loopback"),
        ("https://rebind.example/", "loopback"),
        ("https://2130706433/", "non-standard notation"),
        ("http://127.0.0.1:6379/", "http:// is only allowed"),  # another port of the allowed host
        ("file:///etc/passwd", "scheme file"),
        ("https://user:pw@shop.example/", "user info"),
    ],
)
@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_to_an_internal_address_is_refused(receiver, connections, status, location, reason):
    # Given an allowed receiver that answers with a redirect somewhere internal
    receiver.script = [Answer(status, headers={"Location": location})]
    dns = FakeDNS()
    # When the webhook is sent to it
    with pytest.raises(WebhookRefused, match=reason):
        send(receiver.url(), dns, allow_hosts=frozenset({receiver.host}))
    # Then the only connection was the one to the receiver itself
    assert connections == [("127.0.0.1", receiver.port)]
    assert len(receiver.requests) == 1


# --- the address check itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address):
    assert refusal(ipaddress.ip_address(address)) is None


NON_PUBLIC = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]


@given(st.sampled_from(NON_PUBLIC), st.integers(min_value=0, max_value=2**32 - 1))
def test_every_address_of_a_non_public_ipv4_range_is_refused_also_when_wrapped_in_ipv6(network, offset):
    address = network[offset % network.num_addresses]
    assert refusal(address) is not None
    assert refusal(ipaddress.IPv6Address(f"::ffff:{address}")) is not None
    assert refusal(ipaddress.IPv6Address(f"64:ff9b::{address}")) is not None
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(address) << 80))
    assert refusal(sixtofour) is not None
