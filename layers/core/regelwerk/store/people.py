"""People who open shops in the console: their binding to each shop with a role, their sign-in sessions and
the counters that throttle failed sign-ins.

A binding is two items of the shops table, written together: ``<shop>`` / ``user#<sub>`` (the shop's people,
and the role the console and the admin API read on every request, so a change applies at once) and
``user#<sub>`` / ``shop#<shop>`` (the shops of one person). Sessions and counters live in the console table
and expire by TTL; a session is stored under the SHA-256 of its cookie, so the table holds no usable cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pynamodb.transactions import TransactWrite

from ..clients import connection
from ..errors import Forbidden, NotFound
from .tables import ConsoleItem, ShopItem, get_or_none

Role = Literal["owner", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "viewer")
SESSION_SECONDS = 12 * 3600  # a session ends after 12 hours however busy it is; the access token lives minutes
SIGNIN_WINDOW_SECONDS = 15 * 60
SIGNIN_FAILURES = 5  # failed sign-ins per e-mail and window before 429


@dataclass(frozen=True)
class Binding:
    shop_id: str
    sub: str
    email: str
    role: Role


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------ bindings


def bind(shop_id: str, sub: str, email: str, role: str) -> Binding:
    """Give a person a role in a shop (or change it)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = datetime.now(UTC).isoformat()
    with TransactWrite(connection=connection()) as tx:
        tx.save(ShopItem(shop_id, f"user#{sub}", role=role, email=email, created_at=now))
        tx.save(ShopItem(f"user#{sub}", f"shop#{shop_id}", role=role, email=email, created_at=now))
    return Binding(shop_id, sub, email, role)


def unbind(shop_id: str, sub: str) -> None:
    with TransactWrite(connection=connection()) as tx:
        tx.delete(ShopItem(shop_id, f"user#{sub}"))
        tx.delete(ShopItem(f"user#{sub}", f"shop#{shop_id}"))


def binding(shop_id: str, sub: str) -> Binding | None:
    """The person's role in the shop, read consistently (a role just changed applies to the next request)."""
    item = get_or_none(ShopItem, shop_id, f"user#{sub}")
    if item is None or item.role not in ROLES:
        return None
    return Binding(shop_id, sub, item.email or "", item.role)


def require_role(shop_id: str, sub: str, change: bool) -> Binding:
    """The binding, if the person may open the shop (and change it, for a change); else 403/404."""
    found = binding(shop_id, sub)
    if found is None:
        raise NotFound(f"unknown shop {shop_id!r}")  # the same answer as a shop that does not exist
    if change and found.role != "owner":
        raise Forbidden("a viewer can look but not change anything: ask the shop's owner")
    return found


def shops_of(sub: str) -> list[Binding]:
    """The shops a person may open, by shop id."""
    items = ShopItem.query(f"user#{sub}", ShopItem.sk.startswith("shop#"))
    return [Binding(i.sk.removeprefix("shop#"), sub, i.email or "", i.role) for i in items if i.role in ROLES]


def people_of(shop_id: str) -> list[Binding]:
    """The people of a shop, by e-mail."""
    items = ShopItem.query(shop_id, ShopItem.sk.startswith("user#"))
    found = [Binding(shop_id, i.sk.removeprefix("user#"), i.email or "", i.role) for i in items if i.role in ROLES]
    return sorted(found, key=lambda b: b.email)


# ------------------------------------------------------------------ sessions


@dataclass
class Session:
    token: str  # what the cookie holds; only its digest is stored
    sub: str
    email: str
    csrf: str
    access_token: str
    refresh_token: str
    access_until: int
    item: ConsoleItem


def open_session(sub: str, email: str, access_token: str, refresh_token: str, access_seconds: int) -> Session:
    """A new session (a new cookie value and CSRF token) for a person who just signed in."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = int(time.time())
    item = ConsoleItem(
        f"session#{_digest(token)}",
        sub=sub,
        email=email,
        csrf=csrf,
        access_token=access_token,
        refresh_token=refresh_token,
        access_until=now + access_seconds,
        expires_at=datetime.fromtimestamp(now + SESSION_SECONDS, UTC),
    )
    item.save()
    return Session(token, sub, email, csrf, access_token, refresh_token, now + access_seconds, item)


def load_session(token: str | None) -> Session | None:
    """The session of a cookie value, if it exists and has not expired."""
    if not token or len(token) > 100:
        return None
    item = get_or_none(ConsoleItem, f"session#{_digest(token)}")
    if item is None or item.expires_at is None or item.expires_at <= datetime.now(UTC):
        return None
    return Session(
        token,
        item.sub or "",
        item.email or "",
        item.csrf or "",
        item.access_token or "",
        item.refresh_token or "",
        int(item.access_until or 0),
        item,
    )


def renew_access(session: Session, access_token: str, access_seconds: int) -> None:
    """Keep a refreshed access token (the refresh token stays)."""
    session.access_token = access_token
    session.access_until = int(time.time()) + access_seconds
    session.item.update(
        actions=[ConsoleItem.access_token.set(access_token), ConsoleItem.access_until.set(session.access_until)]
    )


def set_language(session: Session, language: str) -> None:
    session.item.update(actions=[ConsoleItem.language.set(language)])


def close_session(session: Session) -> None:
    session.item.delete()


def csrf_matches(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), (sent or "").encode())


# ------------------------------------------------------------------ sign-in throttling


def _counter_id(email: str, now: float) -> str:
    window = int(now // SIGNIN_WINDOW_SECONDS)
    return f"signin#{_digest(email.strip().lower())}#{window}"


def signin_blocked(email: str) -> bool:
    """Whether this e-mail has failed to sign in SIGNIN_FAILURES times in the current window."""
    item = get_or_none(ConsoleItem, _counter_id(email, time.time()))
    return item is not None and int(item.failures or 0) >= SIGNIN_FAILURES


def note_signin_failure(email: str) -> int:
    """Count a failed sign-in (one atomic ADD); returns the failures of the window so far."""
    now = time.time()
    item = ConsoleItem(_counter_id(email, now))
    expires = datetime.fromtimestamp((int(now // SIGNIN_WINDOW_SECONDS) + 2) * SIGNIN_WINDOW_SECONDS, UTC)
    item.update(actions=[ConsoleItem.failures.add(1), ConsoleItem.expires_at.set(expires)])
    return int(item.failures or 0)
