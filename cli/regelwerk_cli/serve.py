"""`make serve`: the demo's local stack kept up, with the API on 127.0.0.1:3000 and queues drained continuously."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def http_app(stack: Any, lock: threading.Lock) -> Any:
    """A WSGI app playing API Gateway in front of the stack's functions (the tests' browser uses it too)."""
    from werkzeug.wrappers import Request, Response

    @Request.application
    def app(request: Request) -> Response:
        body = request.get_data()
        with lock:
            status, headers, answer = stack.invoke_http(
                request.method, request.path, dict(request.headers), body, dict(request.args) or None
            )
        return Response(answer, status=status, headers=headers or {"Content-Type": "application/json"})

    return app


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

    stack, shop_id, key, admin_key = start(log_level="INFO")
    lock = threading.Lock()  # one invocation at a time, like a single warm Lambda container
    stop = threading.Event()
    assert stack.resources
    bucket = stack.resources.buckets["DocumentsBucket"]

    with lock:
        post_events(stack, shop_id, key)
        outbox.collect(outbox_dir, bucket, [shop_id])
    stack.write_state()

    app = http_app(stack, lock)
    people = demo_people(shop_id)

    def deliver_forever() -> None:
        while not stop.is_set():
            with lock:
                handled = stack.poll_once()
                if handled:
                    stack.drain()
                    outbox.collect(outbox_dir, bucket, [shop_id])
            time.sleep(0.5)

    worker = threading.Thread(target=deliver_forever, daemon=True)
    worker.start()
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
        stop.set()
        server.server_close()
        from .localstack import state_file

        state_file().unlink(missing_ok=True)
        stack.stop()
    return 0
