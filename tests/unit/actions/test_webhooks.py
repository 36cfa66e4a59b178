"""The webhook sender against real local receivers on 127.0.0.1: signature, headers, retries, timeouts,
size cap, redirects, and TLS to a pinned address with SNI and certificate checks."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from regelwerk.actions import webhooks
from regelwerk.actions.webhooks import WebhookFailed, WebhookRefused, allow_hosts_from, post_webhook, sign, verify

SECRET = b"whsec_test"
BODY = json.dumps({"event": "order.created", "order": {"number": "1001"}}).encode()


# --- a local receiver ----------------------------------------------------------------------------


@dataclass
class Answer:
    """What the receiver answers to one request."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before answering
    stream: int = 0  # bytes of body to stream (64 KB writes) instead of ``body``
    drip: float = 0.0  # seconds between single bytes of the status line and headers


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An http.server in a thread on 127.0.0.1 that records requests and answers from a script."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.requests: list[Seen] = []
        self.script: list[Answer] = []
        self.streamed = 0
        self.done = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                )
                answer = receiver.script.pop(0) if receiver.script else Answer()
                time.sleep(answer.delay)
                try:
                    if answer.drip:
                        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(answer.drip)
                        return
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(answer.stream or len(answer.body)))
                    self.end_headers()
                    if not answer.stream:
                        self.wfile.write(answer.body)
                        return
                    chunk = b"x" * 65536
                    while receiver.streamed < answer.stream:
                        self.wfile.write(chunk)
                        receiver.streamed += len(chunk)
                except OSError:
                    pass  # the sender hung up: expected in the timeout and size-cap tests
                finally:
                    receiver.done.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # type: ignore[method-assign]
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def post(url: str, *allowed: Receiver, **options: Any) -> webhooks.WebhookResult:
    """post_webhook with the test secret, no real waiting, and the given receivers allowed."""
    options.setdefault("sleep", lambda seconds: None)
    options.setdefault("allow_hosts", frozenset(r.host for r in allowed))
    return post_webhook(url, BODY, secret=SECRET, delivery_id="run_1:0", **options)


# --- signatures ----------------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body_and_verifies():
    # Given a body signed at a moment
    header = sign(SECRET, 1_700_000_000, BODY)
    # Then the header is the documented format, computable by any receiver
    expected = hmac.new(SECRET, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    # And it verifies within the tolerance, either side of the moment
    assert verify(SECRET, header, BODY, now=1_700_000_000)
    assert verify(SECRET, header, BODY, now=1_700_000_300)
    assert verify(SECRET, header, BODY, now=1_699_999_700)


@pytest.mark.parametrize(
    ("secret", "body", "now", "why"),
    [
        (SECRET, BODY + b" ", 1_700_000_000, "tampered body"),
        (SECRET, BODY.replace(b"1001", b"1002"), 1_700_000_000, "tampered body"),
        (SECRET, BODY, 1_700_000_301, "stale timestamp"),
        (SECRET, BODY, 1_699_999_699, "timestamp from the future"),
        (b"whsec_other", BODY, 1_700_000_000, "wrong secret"),
    ],
)
def test_verify_rejects(secret, body, now, why):
    header = sign(SECRET, 1_700_000_000, BODY)
    assert not verify(secret, header, body, now=now), why


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "v1=abc", "t=1700000000", "t=abc,v1=00", "t=1700000000,v1=", "t=١٧٠٠٠٠٠٠٠٠,v1=00"],
)
def test_verify_rejects_malformed_headers(header):
    assert not verify(SECRET, header, BODY, now=1_700_000_000)


def test_verify_accepts_any_of_several_signatures_for_secret_rotation():
    old = sign(b"whsec_old", 1_700_000_000, BODY).rpartition("v1=")[2]
    header = f"{sign(SECRET, 1_700_000_000, BODY)},v1={old}"
    assert verify(SECRET, header, BODY, now=1_700_000_000)
    assert verify(b"whsec_old", header, BODY, now=1_700_000_000)


def test_allow_hosts_from_the_operator_setting():
    assert allow_hosts_from(" 127.0.0.1:8765, Receiver.Local:80 ,,") == frozenset(
        {"127.0.0.1:8765", "receiver.local:80"}
    )
    assert allow_hosts_from("") == frozenset()


# --- delivery ------------------------------------------------------------------------------------


def test_post_arrives_with_headers_and_a_valid_signature(receiver):
    # When a webhook goes to the local receiver
    result = post(receiver.url("/hook?shop=demo"), receiver, now=lambda: 1_700_000_000.7)
    # Then it answered 200 on the first attempt
    assert (result.status, result.attempts, result.url, result.response_excerpt) == (
        200,
        1,
        receiver.url("/hook?shop=demo"),
        "ok",
    )
    # And the receiver got the body as JSON, with our headers and a signature it can verify
    [seen] = receiver.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/hook?shop=demo", BODY)
    assert seen.headers["Host"] == receiver.host
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"] == "Regelwerk-Webhook/1"
    assert seen.headers["Regelwerk-Delivery"] == "run_1:0"
    assert seen.headers["Regelwerk-Signature"].startswith("t=1700000000,v1=")
    assert verify(SECRET, seen.headers["Regelwerk-Signature"], seen.body, now=1_700_000_000)


def test_5xx_and_429_are_retried_with_backoff_until_success(receiver):
    # Given a receiver that fails twice before it accepts
    receiver.script = [Answer(500, b"boom"), Answer(429), Answer(202, b"accepted")]
    clock = iter([1_700_000_000, 1_700_000_001, 1_700_000_003])
    waits: list[float] = []
    # When the webhook is sent with three attempts
    result = post(receiver.url(), receiver, sleep=waits.append, now=lambda: next(clock))
    # Then the third attempt delivered it
    assert (result.status, result.attempts, result.response_excerpt) == (202, 3, "accepted")
    # After waits of 0.5 s and 1 s, each with at most a quarter of jitter
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 0.625
    assert 1.0 <= waits[1] <= 1.25
    # And every attempt carried the same delivery id and its own fresh signature
    assert {r.headers["Regelwerk-Delivery"] for r in receiver.requests} == {"run_1:0"}
    stamps = [r.headers["Regelwerk-Signature"].split(",")[0] for r in receiver.requests]
    assert stamps == ["t=1700000000", "t=1700000001", "t=1700000003"]
    assert all(verify(SECRET, r.headers["Regelwerk-Signature"], r.body, now=1_700_000_003) for r in receiver.requests)


def test_every_attempt_failing_says_what_happened_each_time(receiver):
    receiver.script = [Answer(500), Answer(503), Answer(502, b"bad gateway")]
    with pytest.raises(WebhookFailed) as failed:
        post(receiver.url("/secret-token/hook"), receiver)
    assert str(failed.value) == (
        f"webhook to http://{receiver.host} failed after 3 attempts: "
        "attempt 1: HTTP 500; attempt 2: HTTP 503; attempt 3: HTTP 502"
    )
    assert (failed.value.status, failed.value.response_excerpt) == (502, "bad gateway")
    assert len(receiver.requests) == 3


def test_4xx_fails_at_once_without_retry(receiver):
    receiver.script = [Answer(400, b'{"error": "invalid signature"}')]
    waits: list[float] = []
    with pytest.raises(WebhookFailed) as failed:
        post(receiver.url(), receiver, sleep=waits.append)
    assert str(failed.value) == f"webhook to http://{receiver.host} answered HTTP 400 (not retried)"
    assert failed.value.status == 400
    assert failed.value.response_excerpt == '{"error": "invalid signature"}'
    assert len(receiver.requests) == 1
    assert waits == []


def test_a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt(receiver):
    # Given a receiver that takes 2 s, then answers at once
    receiver.script = [Answer(delay=2.0), Answer(200, b"fast")]
    # When the webhook allows 0.3 s per attempt
    started = time.monotonic()
    result = post(receiver.url(), receiver, timeout=0.3)
    # Then the first attempt timed out and the second delivered it, without waiting for the slow one
    assert (result.status, result.attempts, result.response_excerpt) == (200, 2, "fast")
    assert time.monotonic() - started < 1.5


def test_timeouts_on_every_attempt_fail_with_the_reason(receiver):
    receiver.script = [Answer(delay=1.0), Answer(delay=1.0)]
    with pytest.raises(WebhookFailed, match=r"attempt 1: timed out after 0.2s; attempt 2: timed out after 0.2s$"):
        post(receiver.url(), receiver, timeout=0.2, attempts=2)


def test_a_receiver_dripping_its_answer_cannot_stretch_the_attempt(receiver):
    # Given a receiver that sends its headers one byte every 50 ms (each read is quick, the whole is not)
    receiver.script = [Answer(drip=0.05)]
    # When the webhook allows 0.5 s
    started = time.monotonic()
    with pytest.raises(WebhookFailed, match=r"timed out after 0\.5s"):
        post(receiver.url(), receiver, timeout=0.5, attempts=1)
    # Then the attempt ended at its deadline
    assert time.monotonic() - started < 1.0


def test_a_large_answer_is_read_only_up_to_the_cap(receiver):
    # Given a receiver that answers 200 with a 64 MB body
    receiver.script = [Answer(stream=64 * 1024 * 1024)]
    # When the webhook is sent
    result = post(receiver.url(), receiver)
    # Then the result holds a 500-character excerpt
    assert result.status == 200
    assert result.response_excerpt == "x" * 500
    # And the sender hung up long before the receiver could send it all
    assert receiver.done.wait(5)
    assert receiver.streamed < 32 * 1024 * 1024


def test_connection_refused_is_retried_and_reported(receiver):
    # Given an allowed port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WebhookFailed) as failed:
        post_webhook(
            f"http://127.0.0.1:{port}/hook",
            BODY,
            secret=SECRET,
            delivery_id="run_1:0",
            attempts=2,
            allow_hosts=frozenset({f"127.0.0.1:{port}"}),
            sleep=lambda s: None,
        )
    assert str(failed.value).endswith("attempt 1: connection refused; attempt 2: connection refused")


@pytest.mark.parametrize("delivery_id", ["", "a\r\nX-Injected: 1", "x" * 201])
def test_a_delivery_id_unfit_for_a_header_is_a_programming_error(receiver, delivery_id):
    with pytest.raises(ValueError, match="delivery_id"):
        post_webhook(receiver.url(), BODY, secret=SECRET, delivery_id=delivery_id)
    assert receiver.requests == []


# --- redirects -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_re_sends_the_signed_post_to_the_new_location(receiver, other_receiver, status):
    # Given a receiver that moved to another (allowed) server
    receiver.script = [Answer(status, headers={"Location": other_receiver.url("/new?x=1")})]
    other_receiver.script = [Answer(200, b"moved here")]
    # When the webhook is sent
    result = post(receiver.url("/old"), receiver, other_receiver)
    # Then the new location got the same POST, signed, in the same attempt
    assert (result.status, result.attempts, result.url, result.response_excerpt) == (
        200,
        1,
        other_receiver.url("/new?x=1"),
        "moved here",
    )
    [seen] = other_receiver.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/new?x=1", BODY)
    assert seen.headers["Host"] == other_receiver.host
    assert seen.headers["Regelwerk-Delivery"] == "run_1:0"
    assert verify(SECRET, seen.headers["Regelwerk-Signature"], BODY, now=int(time.time()))


def test_a_303_is_followed_with_a_get_whose_answer_is_the_result(receiver, other_receiver):
    receiver.script = [Answer(303, headers={"Location": other_receiver.url("/status/1")})]
    other_receiver.script = [Answer(200, b"processed")]
    result = post(receiver.url(), receiver, other_receiver)
    assert (result.status, result.url, result.response_excerpt) == (200, other_receiver.url("/status/1"), "processed")
    [seen] = other_receiver.requests
    assert (seen.method, seen.body) == ("GET", b"")
    assert "Content-Type" not in seen.headers


def test_a_relative_location_stays_on_the_same_server(receiver):
    receiver.script = [Answer(308, headers={"Location": "/v2/hook"}), Answer(204, b"")]
    result = post(receiver.url("/hook"), receiver)
    assert (result.status, result.url) == (204, receiver.url("/v2/hook"))
    assert [r.path for r in receiver.requests] == ["/hook", "/v2/hook"]


def test_more_than_three_redirects_fail_without_retry(receiver):
    receiver.script = [Answer(307, headers={"Location": "/again"}) for _ in range(10)]
    with pytest.raises(WebhookFailed, match="more than 3 redirects"):
        post(receiver.url(), receiver)
    assert len(receiver.requests) == 4


def test_a_redirect_without_location_fails(receiver):
    receiver.script = [Answer(302)]
    with pytest.raises(WebhookFailed, match="HTTP 302 without a Location"):
        post(receiver.url(), receiver)


def test_a_redirect_to_a_server_not_allowed_is_refused(receiver, other_receiver):
    receiver.script = [Answer(307, headers={"Location": other_receiver.url()})]
    with pytest.raises(WebhookRefused, match="http:// is only allowed"):
        post(receiver.url(), receiver)  # other_receiver not in allow_hosts
    assert other_receiver.requests == []


# --- TLS to the vetted address -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates() -> dict[str, bytes]:
    """A throwaway CA and server certificates for shop.example (and one for another name)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Regelwerk test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital signature, cert sign, CRL sign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(name: str) -> bytes:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pem_key = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cert.public_bytes(serialization.Encoding.PEM) + pem_key

    return {
        "ca": ca.public_bytes(serialization.Encoding.PEM),
        "shop.example": leaf("shop.example"),
        "other.example": leaf("other.example"),
    }


def tls_receiver(certificates: dict[str, bytes], name: str, tmp_path, sni: list[str | None]) -> Receiver:
    pem = tmp_path / f"{name}.pem"
    pem.write_bytes(certificates[name])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    context.sni_callback = lambda sock, server_name, ctx: sni.append(server_name)
    return Receiver(tls=context)


@pytest.fixture
def trust_test_ca(certificates, monkeypatch):
    """The sender's normal TLS context, trusting the test CA instead of the system's."""
    context = ssl.create_default_context(cadata=certificates["ca"].decode())
    monkeypatch.setattr(webhooks, "_tls_context", lambda: context)


def test_the_tls_context_verifies_certificates_and_host_names():
    context = webhooks._tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_https_connects_to_the_vetted_address_with_sni_and_host_of_the_name(certificates, tmp_path, trust_test_ca):
    # Given a TLS receiver for shop.example on 127.0.0.1 (allowed: it is the local stack's)
    sni: list[str | None] = []
    server = tls_receiver(certificates, "shop.example", tmp_path, sni)
    lookups: list[str] = []

    def resolver(host, port, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    try:
        # When the webhook goes to https://shop.example:<port>/
        result = post_webhook(
            f"https://shop.example:{server.port}/hook",
            BODY,
            secret=SECRET,
            delivery_id="run_1:0",
            allow_hosts=frozenset({f"shop.example:{server.port}"}),
            resolver=resolver,
        )
    finally:
        server.close()
    # Then the name was resolved once, and TLS and HTTP both spoke of shop.example
    assert result.status == 200
    assert lookups == ["shop.example"]
    assert sni == ["shop.example"]
    [seen] = server.requests
    assert seen.headers["Host"] == f"shop.example:{server.port}"
    assert seen.body == BODY


def test_a_certificate_for_another_name_fails_without_retry(certificates, tmp_path, trust_test_ca):
    sni: list[str | None] = []
    server = tls_receiver(certificates, "other.example", tmp_path, sni)
    try:
        with pytest.raises(WebhookFailed, match=r"certificate verification failed.*not retried"):
            post_webhook(
                f"https://shop.example:{server.port}/hook",
                BODY,
                secret=SECRET,
                delivery_id="run_1:0",
                allow_hosts=frozenset({f"shop.example:{server.port}"}),
                resolver=lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
                sleep=lambda s: None,
            )
    finally:
        server.close()
    assert sni == ["shop.example"]
    assert server.requests == []
