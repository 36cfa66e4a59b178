"""A local webhook receiver for the demo and `make serve`: what the webhook action would post to another system.

It listens on 127.0.0.1 (port 8787 unless REGELWERK_HOOKS_PORT says otherwise), checks each post's
``Regelwerk-Signature`` with the demo secret, and keeps what arrived with the result of that check,
so the outbox can show it.
The local stack allows exactly this host and port for webhooks (``WEBHOOK_ALLOW_HOSTS``); every
other private address stays refused, as on AWS.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_VAR = "DEMO_WEBHOOK_SECRET"


def port() -> int:
    return int(os.environ.get("REGELWERK_HOOKS_PORT", "8787"))


def choose_port() -> int:
    """Keep REGELWERK_HOOKS_PORT if set; else 8787 when it is free, else a free port (and set it, so the
    local stack's allow-list and the demo's webhook rule follow)."""
    if "REGELWERK_HOOKS_PORT" not in os.environ:
        import socket

        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 8787))
            except OSError:
                s.bind(("127.0.0.1", 0))
            os.environ["REGELWERK_HOOKS_PORT"] = str(s.getsockname()[1])
    return port()


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{port()}"

    def start(self) -> Receiver | None:
        """Listen; None when the port is taken (then the demo's webhook fails visibly, with the reason)."""
        from regelwerk.actions.webhooks import verify

        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                secret = os.environ.get(SECRET_VAR, "").encode()
                header = self.headers.get("Regelwerk-Signature", "")
                valid = bool(secret) and verify(secret, header, body, int(time.time()))
                received.append(
                    {
                        "path": self.path,
                        "delivery": self.headers.get("Regelwerk-Delivery"),
                        "signature_valid": valid,
                        "body": json.loads(body or b"{}"),
                    }
                )
                # always accepted: what matters locally is what arrived and whether its signature held
                # (shown in the outbox); a second local stack's receiver may be the one listening
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port()), Handler)
        except OSError:
            return None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
