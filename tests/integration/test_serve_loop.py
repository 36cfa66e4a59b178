"""make serve's delivery loop: an error in one round never stops delivery, a dead thread is restarted,
and the local /v1/health says how the loop and the queues are."""

from __future__ import annotations

import json
import threading
import time

import pytest

from regelwerk_cli.serve import DeliveryLoop, http_app
from tests.conftest import order_event, sent_emails


def wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_failing_round_is_reported_and_delivery_goes_on(demo_shop):
    lock = threading.Lock()
    failures = iter([RuntimeError("memoryview: a bytes-like object is required, not 'str'")])

    def after_round() -> None:  # the outbox writer: it fails once, as the CSV attachment once made it
        failure = next(failures, None)
        if failure:
            raise failure

    loop = DeliveryLoop(demo_shop.stack, lock, after_round, pause=0.05)
    loop.start()
    loop.watch(every=0.1)
    try:
        with lock:
            assert demo_shop.post(order_event(2))[0] == 202  # the first round's delivery fails after sending
        assert wait_for(lambda: loop.errors == 1)
        with lock:
            assert demo_shop.post(order_event(5))[0] == 202
        assert wait_for(lambda: any("1003" in (m["Subject"] or "") for m in sent_emails()))
        status = loop.status()
        assert status["delivery"]["running"] and status["delivery"]["errors"] == 1
        assert "memoryview" in status["delivery"]["last_error"]
        assert set(status["queues"]) >= {"MailQueue", "ActionsQueue"}
    finally:
        loop.close()  # no round may go on into the next test's stack


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread dies on purpose
def test_a_delivery_thread_that_dies_is_started_again(demo_shop):
    lock = threading.Lock()
    loop = DeliveryLoop(demo_shop.stack, lock, lambda: None, pause=0.05)
    real = loop.run_once
    died = []

    def run_once() -> int:
        if not died:
            died.append(True)
            raise SystemExit("the thread dies")  # not an Exception: the loop itself cannot catch it
        return real()

    loop.run_once = run_once  # type: ignore[method-assign]
    loop.start()
    loop.watch(every=0.1)
    try:
        assert wait_for(lambda: loop.restarts == 1 and loop.thread is not None and loop.thread.is_alive())
        with lock:
            assert demo_shop.post(order_event(2))[0] == 202
        assert wait_for(lambda: any("1002" in (m["Subject"] or "") for m in sent_emails()))
    finally:
        loop.close()  # no round may go on into the next test's stack


def test_the_local_health_shows_the_loop_and_the_queues(demo_shop):
    from werkzeug.test import Client

    lock = threading.Lock()
    loop = DeliveryLoop(demo_shop.stack, lock, lambda: None)
    client = Client(http_app(demo_shop.stack, lock, loop.status))
    answer = client.get("/v1/health")
    assert answer.status_code == 200
    body = json.loads(answer.data)
    assert body["status"] == "ok" and body["local"]["delivery"]["running"] is False
    assert all(isinstance(n, int) for n in body["local"]["queues"].values())
