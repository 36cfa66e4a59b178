"""`make serve`: the demo's local stack kept up, with the API on 127.0.0.1:3000 and queues drained continuously."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def http_app(stack: Any, lock: threading.Lock, local_health: Callable[[], dict[str, Any]] | None = None) -> Any:
    """A WSGI app playing API Gateway in front of the stack's functions (the tests' browser uses it too).

    ``local_health``: what ``GET /v1/health`` adds on the local stack (the delivery loop, the queues)."""
    from werkzeug.wrappers import Request, Response

    @Request.application
    def app(request: Request) -> Response:
        body = request.get_data()
        with lock:
            status, headers, answer = stack.invoke_http(
                request.method, request.path, dict(request.headers), body, dict(request.args) or None
            )
        if local_health is not None and request.path == "/v1/health" and status == 200:
            answer = json.dumps(json.loads(answer) | {"local": local_health()}).encode()
        return Response(answer, status=status, headers=headers or {"Content-Type": "application/json"})

    return app


class DeliveryLoop:
    """``make serve``'s delivery: queued actions delivered continuously, watched and restarted.

    An error in one round (a handler, the outbox writer) is logged with its reason and the loop goes
    on: the message stays on its queue and is retried, then dead-lettered, as on AWS. If the thread
    dies all the same, the watchdog starts a new one. ``status()`` is what ``/v1/health`` shows.
    """

    def __init__(self, stack: Any, lock: threading.Lock, after_round: Callable[[], None], pause: float = 0.5):
        self.stack, self.lock, self.after_round, self.pause = stack, lock, after_round, pause
        self.stop = threading.Event()
        self.rounds = self.delivered = self.errors = self.restarts = 0
        self.last_error: str | None = None
        self.thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None

    def run_once(self) -> int:
        with self.lock:
            handled = self.stack.poll_once()
            if handled:
                handled += self.stack.drain()
                self.after_round()
        return int(handled)

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                self.delivered += self.run_once()
                self.rounds += 1
            except Exception as exc:  # one bad round never stops delivery
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                print(f"regelwerk serve: delivery round failed, going on: {self.last_error}", file=sys.stderr)
            self.stop.wait(self.pause)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="delivery", daemon=True)
        self.thread.start()

    def watch(self, every: float = 2.0) -> threading.Thread:
        """A watchdog thread: a delivery thread that died is started again."""

        def guard() -> None:
            while not self.stop.wait(every):
                if self.thread is None or not self.thread.is_alive():
                    self.restarts += 1
                    self.last_error = self.last_error or "the delivery thread stopped"
                    print("regelwerk serve: the delivery thread stopped; starting it again", file=sys.stderr)
                    self.start()

        self._watchdog = threading.Thread(target=guard, name="delivery-watchdog", daemon=True)
        self._watchdog.start()
        return self._watchdog

    def close(self, seconds: float = 10.0) -> None:
        """Stop delivering and wait for the round in progress and the watchdog to end."""
        self.stop.set()
        for thread in (self.thread, self._watchdog):
            if thread is not None and thread is not threading.current_thread():
                thread.join(seconds)

    def status(self) -> dict[str, Any]:
        depths = {}
        try:
            depths = self.stack.queue_depths()
        except Exception as exc:  # the health answer must not fail on the queues
            depths = {"error": str(exc)[:200]}
        return {
            "delivery": {
                "running": bool(self.thread and self.thread.is_alive()),
                "rounds": self.rounds,
                "delivered": self.delivered,
                "errors": self.errors,
                "restarts": self.restarts,
                "last_error": self.last_error,
            },
            "queues": depths,
        }


def port_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound (checked before the stack starts, so a taken port is one line)."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def demo_people(shop_id: str) -> dict[str, tuple[str, str]]:
    """A demo owner and a demo viewer of the shop, with new random passwords: role -> (e-mail, password)."""
    from regelwerk.api.identity import add_person, one_time_password

    made = {}
    for role in ("owner", "viewer"):
        email, password = f"{role}@{shop_id}.example", one_time_password() + "-Rw7"
        add_person(shop_id, email, role, password)
        made[role] = (email, password)
    return made


def serve(port: int, start: Callable[..., Any], post_events: Callable[..., Any], outbox_dir: Path) -> int:
    from werkzeug.serving import make_server

    from . import outbox

    if not port_free(port):
        print(f"regelwerk serve: port {port} is taken; choose another with --port", file=sys.stderr)
        return 1
    os.environ["LOCAL_URL"] = f"http://127.0.0.1:{port}"  # portal and document links follow --port
    from regelwerk.settings import settings

    settings.cache_clear()
    stack, shop_id, key, admin_key = start(log_level="INFO")
    lock = threading.Lock()  # one invocation at a time, like a single warm Lambda container
    assert stack.resources
    bucket = stack.resources.buckets["DocumentsBucket"]

    with lock:
        post_events(stack, shop_id, key)
        outbox.collect(outbox_dir, bucket, [shop_id])
    stack.write_state()

    loop = DeliveryLoop(stack, lock, lambda: outbox.collect(outbox_dir, bucket, [shop_id]))
    app = http_app(stack, lock, loop.status)
    people = demo_people(shop_id)
    loop.start()
    loop.watch()
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(json.dumps({"api": f"http://127.0.0.1:{port}", "aws_endpoint": stack.endpoint, "shop": shop_id}, indent=2))
    shopify_secret = os.environ.get("DEMO_SHOPIFY_SECRET", "")
    print(
        f"""
Regelwerk is serving on http://127.0.0.1:{port} (the demo events are already in; see {outbox_dir}/index.html)

  ingest key: {key}
  admin key:  {admin_key}

The console: http://127.0.0.1:{port}/console
  owner:  {people["owner"][0]}  password {people["owner"][1]}
  viewer: {people["viewer"][0]}  password {people["viewer"][1]}

Try:
  curl -s http://127.0.0.1:{port}/v1/health
  curl -s -X POST http://127.0.0.1:{port}/v1/shops/{shop_id}/events/regelwerk \\
       -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\
       -d @events/demo/02-order-john-unpaid.json
  # a Shopify webhook, signed as Shopify signs it (the demo secrets are in DEMO_*_SECRET):
  body=events/platforms/shopify-orders-create.json
  curl -s -X POST http://127.0.0.1:{port}/v1/shops/{shop_id}/events/shopify -H 'X-Shopify-Topic: orders/updated' \
       -H "X-Shopify-Hmac-Sha256: $(openssl dgst -sha256 -hmac {shopify_secret} -binary $body | base64)" \
       --data-binary @$body
  regelwerk runs {shop_id}                # why each rule did or did not fire
  regelwerk apply examples/demo-shop     # re-apply the shop configuration

Queued actions are delivered continuously into {outbox_dir}/. Ctrl-C stops.""",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        loop.close()
        server.server_close()
        from .localstack import state_file

        state_file().unlink(missing_ok=True)
        stack.stop()
    return 0
