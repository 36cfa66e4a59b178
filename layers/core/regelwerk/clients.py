"""AWS clients and the DynamoDB connection, made in one place and shared.

A cold container pays for one botocore session, not one per client: boto3's clients and PynamoDB's
connections are all made from it (botocore sessions are not safe to share across threads while they
make clients, so the local stack's threads each get their own; a Lambda container has one thread).
Each client is made once per container and reused by every warm invocation. boto3 itself is imported
on first use only, so a handler that never calls AWS directly does not pay for it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .settings import settings

if TYPE_CHECKING:
    import botocore.session
    from pynamodb.connection import Connection

_local = threading.local()
_lock = threading.Lock()
_clients: dict[tuple[str, bool], Any] = {}
_connections: dict[str, Connection] = {}


def botocore_session() -> botocore.session.Session:
    """This thread's botocore session (one per container in Lambda)."""
    session = getattr(_local, "session", None)
    if session is None:
        import botocore.session

        session = _local.session = botocore.session.get_session()
    return session


def _boto3_session() -> Any:
    """This thread's boto3 session over its botocore session (made once: boto3 registers its handlers per session)."""
    boto = getattr(_local, "boto3", None)
    if boto is None:
        import boto3

        boto = _local.boto3 = boto3.session.Session(
            botocore_session=botocore_session(), region_name=settings().aws_region
        )
    return boto


def client(service: str, *, adaptive: bool = False) -> Any:
    """The container's client for an AWS service. ``adaptive``: botocore's adaptive retry mode, which slows
    the client down when the provider starts throttling (SES, SNS)."""
    key = (service, adaptive)
    made = _clients.get(key)
    if made is None:
        with _lock:
            made = _clients.get(key)
            if made is None:
                from botocore.config import Config

                # adaptive: the mail and SMS clients slow down when SES / SNS throttle; others keep botocore's default
                config = Config(retries={"mode": "adaptive", "max_attempts": 3}) if adaptive else None
                made = _clients[key] = _boto3_session().client(service, config=config)
    return made


def connection() -> Connection:
    """The PynamoDB connection for transactions (one per container: a new one per call costs ~10x the CPU)."""
    region = settings().aws_region
    made = _connections.get(region)
    if made is None:
        from pynamodb.connection import Connection

        made = _connections[region] = Connection(region=region)
    return made


def share_session_with_pynamodb() -> None:
    """Make PynamoDB's connections take this thread's botocore session instead of creating their own.

    PynamoDB asks ``botocore.session.get_session`` (imported into its connection module) for a new
    session per thread and connection; handing it ours saves a second session's set-up on every cold start.
    """
    import pynamodb.connection.base as base

    base.get_session = botocore_session


def reset() -> None:
    """Forget every client (tests that change endpoints or credentials between cases)."""
    with _lock:
        _clients.clear()
        _connections.clear()
        _local.__dict__.clear()
