"""The webhook action's sender: a signed JSON POST to a URL the shop owner chose, safe against SSRF.

A rule's URL is untrusted input that runs inside our AWS account, so the sender refuses anything that
could reach an internal service (the instance metadata endpoint, the VPC, localhost):

- only ``https://`` URLs; ``http://`` and private addresses only for the operator's ``allow_hosts``
  (``host:port`` entries, e.g. ``127.0.0.1:8765`` for the local stack's receiver);
- the host is resolved once per request and refused if any of its addresses is not public; the
  connection then goes to that vetted address (never a second lookup, so DNS rebinding cannot swap
  it), with the original Host header and, for https, SNI and certificate checks for the original name;
- redirects are never followed blindly: at most ``MAX_REDIRECTS``, each Location vetted like the first URL.

Redirect policy: 307 and 308 (method preserved by definition) and 301 and 302 re-send the same POST,
freshly signed, to the new location -- RFC 9110 lets a client keep POST on 301/302, and switching to
GET the way browsers do would drop the payload without anyone noticing. 303 ("see other": the POST
was handled, the result is elsewhere) is followed with a GET without body, and that GET's answer is
the result. Other 3xx answers are failures. Retries start again from the rule's URL.

Stdlib only (the layer ships neither requests nor urllib3). Nothing here logs bodies or full URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import logging
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from ..delivery.outcome import Outcome
from ..errors import ActionFailed
from ..ingest.adapters.signatures import SecretUnavailable, resolve
from ..model.messages import ActionMessage, dumps
from ..model.shop import SecretRef
from ..settings import settings

MAX_URL_LENGTH = 2048
MAX_REDIRECTS = 3
MAX_RESPONSE_BYTES = 64 * 1024
EXCERPT_CHARS = 500
USER_AGENT = "Regelwerk-Webhook/1"
REDIRECTS = frozenset({301, 302, 303, 307, 308})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]

# a child of the "regelwerk" logger Powertools configures, so records join the handler's structured logs
log = logging.getLogger(__name__)

# Cloud metadata and host services that answer credentials on an address of their own; most sit in
# ranges refused anyway, named here so the refusal says what they are (Azure's wire server is public).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
# WHATWG URL's "ends in a number": such a host is an IPv4 address in some notation (2130706433, 0x7f.1, 127.1)
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


@dataclass
class WebhookResult:
    """A delivered webhook: the receiver's 2xx status, how many attempts it took, where it ended up."""

    status: int
    attempts: int
    url: str  # the final URL, after redirects
    response_excerpt: str  # the first EXCERPT_CHARS characters of the answer


class WebhookRefused(Exception):
    """The URL, or an address its host resolves to, is not allowed (SSRF) or is malformed. Never retried."""


class WebhookFailed(Exception):
    """Delivery failed: every attempt (timeouts, connection errors, 429, 5xx) or a final answer (other 4xx).

    ``status`` is the last HTTP status received (None if none was); ``response_excerpt`` the start of
    that answer, kept out of the message because a receiver may echo personal data.
    """

    def __init__(self, message: str, status: int | None = None, response_excerpt: str = ""):
        super().__init__(message)
        self.status = status
        self.response_excerpt = response_excerpt


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``Regelwerk-Signature`` header: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """Whether a ``Regelwerk-Signature`` header signs this body with this secret, no more than
    ``tolerance`` seconds from ``now`` (what a receiver checks; several v1 values are accepted)."""
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).rpartition("v1=")[2]
    # compare every candidate, so the time taken does not depend on which one matched
    matches = [hmac.compare_digest(expected.encode(), c.encode("utf-8", "replace")) for c in candidates]
    return any(matches)


def allow_hosts_from(setting: str) -> frozenset[str]:
    """The ``allow_hosts`` set from the operator's comma-separated ``WEBHOOK_ALLOW_HOSTS`` setting."""
    return frozenset(h.strip().lower() for h in setting.split(",") if h.strip())


def post_webhook(
    url: str,
    body: bytes,
    *,
    secret: bytes,
    delivery_id: str,
    timeout: float = 5.0,
    attempts: int = 3,
    backoff: float = 0.5,
    allow_hosts: frozenset[str] = frozenset(),
    resolver: Resolver = socket.getaddrinfo,
    sleep: Callable[[float], object] = time.sleep,
    now: Callable[[], float] = time.time,
) -> WebhookResult:
    """POST ``body`` (JSON) to ``url``, signed with ``secret``, retrying what may pass.

    Each attempt (redirects included) gets ``timeout`` seconds to connect and read the answer; between
    attempts it waits ``backoff * 2**n`` seconds plus a little jitter. Connection errors, timeouts, 429
    and 5xx are retried; a 2xx answer is success; any other answer fails at once. ``delivery_id`` goes
    out unchanged in every attempt (``Regelwerk-Delivery``) so the receiver can drop repeats; the
    signature is fresh per request. ``resolver`` stands in for ``socket.getaddrinfo`` (tests).

    Raises WebhookRefused when the URL or one of its hosts' addresses is not allowed (never retried)
    and WebhookFailed when delivery failed; a Location to a refused address raises WebhookRefused too.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if not secret:
        raise ValueError("a webhook needs a secret to sign with")
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,200}", delivery_id):
        raise ValueError("delivery_id must be 1-200 letters, digits or . _ : -")
    allow = frozenset(h.lower() for h in allow_hosts)
    _vet_url(url, allow)  # a malformed URL is refused before any lookup or wait
    origin = _origin(url)
    failures: list[str] = []
    last_status, last_excerpt = None, ""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            delay = backoff * 2 ** (attempt - 2)
            sleep(delay + random.uniform(0, delay / 4))
        try:
            status, final_url, excerpt = _deliver(url, body, secret, delivery_id, timeout, allow, resolver, now)
        except TimeoutError:
            failures.append(f"attempt {attempt}: timed out after {timeout:g}s")
        except ssl.SSLCertVerificationError as exc:
            # a wrong or untrusted certificate will not fix itself in a second
            raise WebhookFailed(
                f"webhook to {origin}: certificate verification failed ({exc.verify_message}), not retried"
            ) from exc
        except socket.gaierror as exc:
            failures.append(f"attempt {attempt}: could not resolve the host ({exc.strerror or exc})")
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"attempt {attempt}: {_describe(exc)}")
        else:
            last_status, last_excerpt = status, excerpt
            log.info("webhook answered", extra={"delivery_id": delivery_id, "status": status, "attempt": attempt})
            if 200 <= status < 300:
                return WebhookResult(status=status, attempts=attempt, url=final_url, response_excerpt=excerpt)
            if status == 429 or status >= 500:
                failures.append(f"attempt {attempt}: HTTP {status}")
                continue
            raise WebhookFailed(
                f"webhook to {origin} answered HTTP {status} (not retried)", status=status, response_excerpt=excerpt
            )
        log.info("webhook attempt failed", extra={"delivery_id": delivery_id, "attempt": attempt})
    raise WebhookFailed(
        f"webhook to {origin} failed after {attempts} attempt{'s' * (attempts > 1)}: " + "; ".join(failures),
        status=last_status,
        response_excerpt=last_excerpt,
    )


# --- one attempt ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA), no brackets
    port: int
    request_target: str  # path and query
    allowed: bool  # listed in allow_hosts: http:// and any address are fine


def _deliver(
    url: str,
    body: bytes,
    secret: bytes,
    delivery_id: str,
    timeout: float,
    allow: frozenset[str],
    resolver: Resolver,
    now: Callable[[], float],
) -> tuple[int, str, str]:
    """One attempt: the request and up to MAX_REDIRECTS redirects -> (status, final URL, excerpt)."""
    deadline = time.monotonic() + timeout
    method, payload = "POST", body
    for hop in range(MAX_REDIRECTS + 1):
        target = _vet_url(url, allow)
        addresses = _addresses(target, resolver)
        headers = {
            "User-Agent": USER_AGENT,
            "Regelwerk-Delivery": delivery_id,
            "Regelwerk-Signature": sign(secret, int(now()), payload),
        }
        if method == "POST":
            headers["Content-Type"] = "application/json"
        status, location, excerpt = _request(target, addresses, method, payload, headers, deadline)
        if status not in REDIRECTS:
            return status, url, excerpt
        if hop == MAX_REDIRECTS:
            raise WebhookFailed(f"webhook to {_origin(url)}: more than {MAX_REDIRECTS} redirects", status=status)
        if not location:
            raise WebhookFailed(f"webhook to {_origin(url)} answered HTTP {status} without a Location", status=status)
        url = urljoin(url, location.strip())
        if status == 303:
            method, payload = "GET", b""
    raise AssertionError("unreachable")


def _request(
    target: _Target,
    addresses: list[IPAddress],
    method: str,
    payload: bytes,
    headers: dict[str, str],
    deadline: float,
) -> tuple[int, str | None, str]:
    """Send one request to the vetted addresses -> (status, Location header, excerpt of the answer)."""
    conn: _PinnedHTTPConnection | _PinnedHTTPSConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(target.host, target.port, addresses, deadline)
    else:
        conn = _PinnedHTTPConnection(target.host, target.port, addresses, deadline)
    response: http.client.HTTPResponse | None = None
    data = b""
    try:
        try:
            conn.request(method, target.request_target, body=payload if method == "POST" else None, headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            if conn.watchdog is not None and conn.watchdog.fired:
                raise TimeoutError("timed out") from exc
            raise
        try:
            while len(data) < MAX_RESPONSE_BYTES:  # the rest of a large answer is never read
                chunk = response.read1(min(16 * 1024, MAX_RESPONSE_BYTES - len(data)))
                if not chunk:
                    break
                data += chunk
        except (OSError, http.client.HTTPException):
            pass  # the status is the answer; a body cut short (or at the deadline) only shortens the excerpt
    finally:
        if conn.watchdog is not None:
            conn.watchdog.cancel()
        if response is not None:
            response.close()
        conn.close()
    return response.status, response.getheader("Location"), data.decode("utf-8", "replace")[:EXCERPT_CHARS]


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class _Watchdog:
    """Cuts the connection at the deadline: socket timeouts bound each read, not a receiver that
    answers a byte at a time, and an attempt must fit in ``timeout`` (and the Lambda in its own)."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.fired = False
        self._sock = sock
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        try:
            # the plain socket's shutdown, also under TLS: the reading thread then sees end of file
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


def _open(addresses: list[IPAddress], port: int, deadline: float) -> tuple[socket.socket, _Watchdog]:
    """A TCP connection to the first vetted address that answers (no name lookup here, ever)."""
    error: OSError = ConnectionError("no address to connect to")
    for address in addresses:
        try:
            sock = socket.create_connection((str(address), port), timeout=_remaining(deadline))
        except OSError as exc:
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, _Watchdog(sock, deadline)
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to an address vetted beforehand; ``host`` is only the Host header's name."""

    def __init__(self, host: str, port: int, addresses: list[IPAddress], deadline: float):
        super().__init__(host, port, timeout=_remaining(deadline))
        self._addresses, self._deadline = addresses, deadline
        self.watchdog: _Watchdog | None = None

    def connect(self) -> None:
        self.sock, self.watchdog = _open(self._addresses, self.port, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address vetted beforehand, with SNI and certificate checks for ``host``."""

    def __init__(self, host: str, port: int, addresses: list[IPAddress], deadline: float):
        super().__init__(host, port, timeout=_remaining(deadline), context=_tls_context())
        self._addresses, self._deadline = addresses, deadline
        self.watchdog: _Watchdog | None = None

    def connect(self) -> None:
        sock, self.watchdog = _open(self._addresses, self.port, self._deadline)
        try:
            # typeshed leaves out HTTPSConnection._context, the SSLContext given to __init__
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        except BaseException:
            sock.close()
            raise


@cache
def _tls_context() -> ssl.SSLContext:
    """The system's trust store, hostname checks on: built once per container."""
    return ssl.create_default_context()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | http.client.RemoteDisconnected):
        return "connection closed by the receiver"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return f"{type(exc).__name__}: {exc}"[:200]


# --- vetting -------------------------------------------------------------------------------------


def _origin(url: str) -> str:
    """scheme://host[:port] for messages: paths and queries often carry the receiver's tokens."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"[:200]
    except ValueError:
        return "(malformed URL)"


def _vet_url(url: str, allow: frozenset[str]) -> _Target:
    """The parts of ``url`` if its form is allowed, else WebhookRefused (addresses are checked later)."""
    if not isinstance(url, str) or not url:
        raise WebhookRefused("no URL")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookRefused(f"URL longer than {MAX_URL_LENGTH} characters")
    # urlsplit silently drops tabs and newlines, and some clients read a backslash as a slash
    if any(c <= " " or c == "\x7f" or c == "\\" for c in url):
        raise WebhookRefused("URL contains whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(f"malformed URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise WebhookRefused(f"scheme {scheme or '(none)'}: is not allowed, only https://")
    if "@" in parts.netloc:
        raise WebhookRefused("URL must not contain user info (user:password@)")
    host = _ascii_host(parts.hostname or "")
    port = port if port is not None else (443 if scheme == "https" else 80)
    if port == 0:
        raise WebhookRefused("port 0 is not a port")
    key = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    allowed = key in allow
    if scheme == "http" and not allowed:
        raise WebhookRefused(f"http:// is only allowed for the operator's allowed hosts, not {key}; use https://")
    request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_target = "".join(c if c.isascii() else quote(c) for c in request_target)
    return _Target(scheme, host, port, request_target, allowed)


def _ascii_host(host: str) -> str:
    """The host in ASCII, lowercase, without brackets; refused when empty or not a plain name or address."""
    if not host:
        raise WebhookRefused("URL has no host")
    if ":" in host:  # urlsplit took it from [...]: must be an IPv6 address, without a zone
        if "%" in host:
            raise WebhookRefused("IPv6 zone identifiers are not allowed")
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError as exc:
            raise WebhookRefused(f"malformed IPv6 address [{host}]") from exc
    try:
        # IDNA also folds look-alikes such as full-width digits, so the checks below see what DNS would
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise WebhookRefused(f"malformed host name {host!r}") from exc
    labels = ascii_host.removesuffix(".").split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            return str(ipaddress.IPv4Address(ascii_host.removesuffix(".")))
        except ValueError:
            raise WebhookRefused(
                f"host {host!r} is an IP address in a non-standard notation; write it as a.b.c.d"
            ) from None
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise WebhookRefused(f"malformed host name {host!r}")
    return ascii_host


def _addresses(target: _Target, resolver: Resolver) -> list[IPAddress]:
    """The addresses to connect to: the literal, or the host resolved once; all public unless allowed."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        found = []
        for info in resolver(target.host, target.port, type=socket.SOCK_STREAM):
            try:
                address = ipaddress.ip_address(str(info[4][0]))
            except ValueError as exc:
                raise WebhookRefused(f"{target.host} resolves to an unreadable address") from exc
            if address not in found:
                found.append(address)
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "no addresses")
    if not target.allowed:
        for address in found:
            reason = refusal(address)
            if reason:
                shown = "" if literal is not None else f"{target.host} resolves to "
                raise WebhookRefused(f"{shown}{address}: {reason}, not a public address")
    return found


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not connect to ``address`` (e.g. "loopback"), or None for a public address."""
    if address in _METADATA:
        return "cloud metadata service"
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "scoped IPv6 address"
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal(embedded)
            if reason:
                return f"{reason} ({embedded} embedded in IPv6)"
            if address.ipv4_mapped or address in _NAT64:
                return None  # a translation of a public IPv4 address
            return "IPv4 tunnelled in IPv6 (6to4, Teredo or IPv4-compatible)"
        if address in _UNIQUE_LOCAL:
            return "unique-local"
        if address.is_site_local:
            return "site-local"
    if address.is_unspecified:
        return "unspecified address"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared address space (CGNAT)"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):  # not :: or ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def webhook_body(msg: ActionMessage) -> bytes:
    """What a webhook receives: the event, its context and the outputs of earlier actions, as JSON."""
    ctx = msg.context
    event = {k: v for k, v in (ctx.get("event") or {}).items() if k != "raw"}
    body = {
        "id": msg.action_id,
        "type": msg.event_type,
        "shop_id": msg.shop_id,
        "rule": msg.rule_id,
        "run_id": msg.run_id,
        "event": event,
        "order": ctx.get("order"),
        "customer": ctx.get("customer"),
        "invoice": ctx.get("invoice"),
        "outputs": dict(msg.outputs),
    }
    return dumps(body).encode()


def send_webhook(msg: ActionMessage) -> Outcome:
    """Perform a webhook action: sign the body with the shop's secret and POST it (see ``post_webhook``)."""
    action = msg.action
    try:
        secret = resolve(SecretRef.model_validate(action["secret"]))
    except SecretUnavailable as exc:
        raise ActionFailed(f"webhook secret: {exc}") from exc
    allowed = allow_hosts_from(settings().webhook_allow_hosts)
    try:
        result = post_webhook(
            action["url"], webhook_body(msg), secret=secret, delivery_id=msg.action_id, allow_hosts=allowed
        )
    except WebhookRefused as exc:
        raise ActionFailed(f"webhook refused: {exc}") from exc
    except WebhookFailed as exc:
        raise ActionFailed(f"webhook failed: {exc}") from exc
    return Outcome(
        provider_id=f"HTTP {result.status}",
        output={"status": result.status, "url": result.url},
        detail={"attempts_in_call": result.attempts},
    )
