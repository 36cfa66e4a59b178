"""The embedded local stack: moto's server on 127.0.0.1, the template's resources, the real handlers.

``LocalStack`` starts moto in a thread, creates what template.yaml declares, sets each
function's environment as CloudFormation would, and then plays the parts of API Gateway
(``invoke_http``) and of the SQS event source mappings (``drain``): it calls the real
``lambda_handler`` of each function with events in AWS's format, deletes what the handler
processed and leaves its reported batch item failures on the queue to be retried and,
after maxReceiveCount, moved to the dead-letter queue by the queue's redrive policy.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import cfn

REGION = "eu-central-1"
STATE_FILE = cfn.ROOT / ".regelwerk" / "local.json"


def state_file() -> Path:
    """Where `make serve` tells the CLI how to reach it (REGELWERK_STATE overrides, e.g. in tests)."""
    return Path(os.environ.get("REGELWERK_STATE") or STATE_FILE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serial_moto_server_class() -> Any:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class SerialMotoServer(ThreadedMotoServer):
        """moto's server, answering one request at a time.

        moto's backends are not thread-safe (concurrent transactions corrupt its dicts), while real
        DynamoDB applies each request atomically. Serialising the requests gives the concurrency tests
        AWS's semantics; the callers (our handlers in threads) still interleave between requests.
        """

        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            lock = threading.Lock()

            def serial(environ: Any, start_response: Any) -> Any:
                with lock:
                    return list(app(environ, start_response))

            self._server = make_server(self._ip_address, self._port, serial, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerialMotoServer


def _SerialMotoServer(**kwargs: Any) -> Any:
    return _serial_moto_server_class()(**kwargs)


@dataclass(frozen=True)
class Checkpoint:
    """The embedded stack's AWS state at one moment: each moto backend's attributes, by (service, account, region)."""

    state: dict[tuple[str, str, str], dict[str, Any]]
    generation: int  # the stack's resets when it was taken


def _live_backends() -> dict[tuple[str, str, str], Any]:
    from moto.core.base_backend import BackendDict

    return {
        (bd.service_name, account, region): backend
        for bd in BackendDict._instances
        for account, per_account in bd.items()
        for region, backend in per_account.items()
    }


def _copy_state(state: dict[str, Any], memo: dict[int, Any]) -> dict[str, Any]:
    """A deep copy of a moto backend's attributes; objects in ``memo`` are not copied but mapped.
    Locks cannot be copied: each copy gets a new one (``_register_lock_copies``)."""
    import copy

    return copy.deepcopy(state, memo)


def _register_lock_copies() -> None:
    """Let ``copy.deepcopy`` copy moto's locks (SQS queues hold one) as new, unlocked locks."""
    import copyreg

    for make in (threading.Lock, threading.RLock):
        copyreg.pickle(type(make()), lambda _lock, make=make: (make, ()))
    copyreg.pickle(threading.Condition, lambda _c: (threading.Condition, ()))
    _register_parameter_dict_copies(copyreg)


def _register_parameter_dict_copies(copyreg: Any) -> None:
    """moto's SSM ``ParameterDict`` is a defaultdict whose constructor takes the account and region:
    ``copy.deepcopy`` would call it without them. Copy it as what it is: the parameters and the flags."""
    from moto.ssm.models import ParameterDict

    def rebuild(account_id: str, region_name: str, attrs: dict[str, Any], items: list[Any]) -> Any:
        copied = ParameterDict(account_id, region_name)
        copied.__dict__.update(attrs)
        copied.update(items)
        return copied

    copyreg.pickle(
        ParameterDict,
        lambda d: (rebuild, (d.account_id, d.region_name, dict(d.__dict__), list(d.items()))),
    )


_register_lock_copies()


@dataclass
class FakeContext:
    function_name: str
    memory_limit_in_mb: int = 256
    timeout: int = 10

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{cfn.ACCOUNT}:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(fn: cfn.Function) -> Any:
    """A function's real ``lambda_handler``, imported from its code directory."""
    module_name, func = fn.handler.rsplit(".", 1)
    path = fn.code_dir / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"regelwerk_fn_{fn.logical_id}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, func)


class LocalStack:
    def __init__(
        self,
        port: int | None = None,
        prefix: str = "regelwerk-local",
        verbose: bool = False,
        log_level: str = "WARNING",
    ):
        self.log_level = log_level
        self.port = port or free_port()
        self.prefix = prefix
        self.verbose = verbose
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server: Any = None
        self.functions: dict[str, cfn.Function] = {}
        self.resources: cfn.LocalResources | None = None
        self._handlers: dict[str, Any] = {}
        self._routes: list[tuple[str, re.Pattern[str], str, str]] = []
        self.receiver: Any = None  # the local webhook receiver, when the demo or `make serve` runs one
        self._generation = 0  # counts resets: a checkpoint is good until the next one

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.endpoint,
                "POWERTOOLS_METRICS_NAMESPACE": "Regelwerk",
                "POWERTOOLS_METRICS_DISABLED": "true",
                # the user pool's and client's ids from their names, not random: the same after a reset, as
                # the tables' names are, so the functions' settings (read once) stay right
                "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
                "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
            }
        )
        import logging
        import warnings

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self.server = _SerialMotoServer(ip_address="127.0.0.1", port=self.port, verbose=self.verbose)
        self.server.start()
        self.create()
        self._answer_lambda_invokes()
        return self

    def _answer_lambda_invokes(self) -> None:
        """Play Lambda's synchronous Invoke for the template's functions (moto does not run them).

        A hook on boto3's default session answers ``lambda.Invoke`` of a function of this stack with
        its real handler, as botocore's Stubber answers calls: the admin API's document preview
        invokes the PDF function this way.
        """
        import io

        import boto3
        from botocore.awsrequest import AWSResponse
        from botocore.response import StreamingBody

        def invoke(params: dict[str, Any], **_: Any) -> Any:
            from urllib.parse import unquote

            # params is the serialised request: /2015-03-31/functions/<name or ARN>/invocations
            name = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0]).rsplit(":", 1)[-1]
            if name not in self.functions:
                return None  # not ours: let the request go to moto
            payload = params.get("body") or b"{}"
            payload = payload.read() if hasattr(payload, "read") else payload
            try:
                answer = json.dumps(self.invoke(name, json.loads(payload))).encode()
                extra = {}
            except Exception as exc:  # as Lambda reports an unhandled error
                answer = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
                extra = {"FunctionError": "Unhandled"}
            body = StreamingBody(io.BytesIO(answer), len(answer))
            return AWSResponse("local", 200, {}, None), {"StatusCode": 200, "Payload": body, **extra}

        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call.lambda.Invoke", invoke)
        from regelwerk.clients import client

        client("lambda").meta.events.register("before-call.lambda.Invoke", invoke)  # the admin API's client

    def create(self) -> None:
        """Create the template's resources (again, after a reset) and set the functions' environment."""
        import boto3

        template = cfn.load_template()
        self.resources = cfn.create_resources(boto3.Session(), template, self.prefix, REGION)
        self.functions = cfn.functions(template, self.resources, REGION)
        for fn in self.functions.values():
            os.environ.update(fn.environment)  # same names in every function, so the union is consistent
        os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        self._routes = []
        for fn in self.functions.values():
            for method, path in fn.api_routes:
                regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", path)  # greedy {proxy+}
                pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex) + "$")
                self._routes.append((method, pattern, path, fn.logical_id))
        # API Gateway prefers literal segments, then {param}, then {proxy+}
        self._routes.sort(key=lambda r: ("+}" in r[2], r[2].count("{"), -len(r[2])))
        os.environ["STAGE"] = "local"
        from .receiver import port as hooks_port

        os.environ["WEBHOOK_ALLOW_HOSTS"] = f"127.0.0.1:{hooks_port()}"  # the local receiver (receiver.py), no more
        sender = cfn.Resolver(template, self.resources, REGION).params.get("SenderAddress")
        if sender:
            self.verify_sender(sender)

    def reset(self) -> None:
        """Empty every table, queue and bucket (moto's reset) and create them anew; clear warm caches."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))  # noqa: S310
        self._generation += 1
        self.create()
        self._clear_warm_caches()

    def checkpoint(self) -> Checkpoint:
        """The state of every AWS service of the embedded stack, copied in memory (tables, queues, bucket, ...).

        ``rewind`` puts it back in milliseconds, where ``reset`` and re-applying a shop take about a
        second of API calls: the tests take a checkpoint of the empty stack and of the demo shop once and
        rewind to it before each test. A ``reset`` makes every earlier checkpoint stale (moto's reset
        disposes of every S3 object it ever made, copies included): see ``can_rewind``.
        """
        from moto.core.base_backend import backend_lock

        with backend_lock:
            backends = _live_backends()
            # one backend may point at another (SES v2 sends through SES v1): such references stay references
            memo: dict[int, Any] = {id(b): b for b in backends.values()}
            state = {key: _copy_state(b.__dict__, memo) for key, b in backends.items()}
        return Checkpoint(state, self._generation)

    def can_rewind(self, checkpoint: Checkpoint) -> bool:
        """Whether ``checkpoint`` was taken since the last ``reset``."""
        return checkpoint.generation == self._generation

    def rewind(self, checkpoint: Checkpoint) -> None:
        """Put every service back as it was at ``checkpoint`` (what was made since is reset) and clear warm caches."""
        from moto.core.base_backend import backend_lock

        if not self.can_rewind(checkpoint):
            raise RuntimeError("this checkpoint was taken before the stack was reset: take a new one")
        with backend_lock:
            live = _live_backends()
            memo: dict[int, Any] = {id(b): b for b in live.values()}
            for key, backend in live.items():
                if key not in checkpoint.state:
                    backend.reset()  # made after the checkpoint: back to empty
                    continue
                backend.__dict__.clear()
                backend.__dict__.update(_copy_state(checkpoint.state[key], dict(memo)))
        self._clear_warm_caches()

    def _clear_warm_caches(self) -> None:
        from regelwerk.store import rules, shops

        rules.clear_cache()
        shops.clear_cache()

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    def write_state(self) -> None:
        """Let the `regelwerk` CLI in another terminal find this stack (make serve)."""
        path = state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        env = {}
        for fn in self.functions.values():
            env.update(fn.environment)
        # what the stack sets beside the template (create): a CLI attaching from another process must see
        # the same, or it would, e.g., put back the template's empty webhook allow-list
        for key in ("STAGE", "WEBHOOK_ALLOW_HOSTS", "POWERTOOLS_LOG_LEVEL", "LOCAL_URL"):
            if key in os.environ:
                env[key] = os.environ[key]
        assert self.resources
        for kind in ("Mail", "Sms", "Pdf", "Actions"):
            env[f"{kind.upper()}_DLQ_URL"] = self.resources.queues[f"{kind}DeadLetterQueue"]["url"]
        path.write_text(json.dumps({"endpoint": self.endpoint, "env": env, "pid": os.getpid()}, indent=2))
        path.chmod(0o600)  # it holds the local stack's generated secrets

    def verify_sender(self, address: str) -> None:
        import boto3

        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=address)

    # ------------------------------------------------------------------ functions
    def handler(self, logical_id: str) -> Any:
        if logical_id not in self._handlers:
            self._handlers[logical_id] = load_handler(self.functions[logical_id])
        return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        fn = self.functions[logical_id]
        return self.handler(logical_id)(event, FakeContext(logical_id, timeout=fn.timeout))

    # ------------------------------------------------------------------ API Gateway
    def invoke_http(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | str | None = None,
        query: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Play API Gateway (REST, proxy integration): route to the function, answer as it answers."""
        headers = dict(headers or {})
        if "?" in path:  # a URL's query string, as API Gateway splits it off
            from urllib.parse import parse_qsl

            path, _, text = path.partition("?")
            query = dict(parse_qsl(text)) | (query or {})
        raw = body.encode() if isinstance(body, str) else (body or b"")
        for m, pattern, resource, logical in self._routes:  # noqa: B007 - used after the loop
            match = pattern.match(path)
            if match and m in (method.upper(), "ANY"):
                break
        else:
            known = any(p.match(path) for _m, p, _r, _l in self._routes)
            status = 403 if not known else 405
            message = "Missing Authentication Token" if not known else "Method Not Allowed"
            return status, {"Content-Type": "application/json"}, json.dumps({"message": message}).encode()
        try:
            text, b64 = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            text, b64 = base64.b64encode(raw).decode(), True
        event = {
            "resource": resource,
            "path": path,
            "httpMethod": method.upper(),
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": None,
            "pathParameters": match.groupdict(),
            "stageVariables": None,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method.upper(),
                "path": f"/local{path}",
                "stage": "local",
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": "127.0.0.1"},
            },
            "body": text if raw else None,
            "isBase64Encoded": b64,
        }
        answer = self.invoke(logical, event)
        out = answer.get("body") or ""
        data = base64.b64decode(out) if answer.get("isBase64Encoded") else out.encode()
        headers_out = {k: v[-1] for k, v in (answer.get("multiValueHeaders") or {}).items() if v}
        headers_out.update(answer.get("headers") or {})
        return int(answer["statusCode"]), headers_out, data

    # ------------------------------------------------------------------ SQS event source mappings
    def poll_once(self, fast_retry: bool = True) -> int:
        """One receive per queue-fed function; returns how many messages were handed to handlers."""
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        handled = 0
        assert self.resources
        for fn in self.functions.values():
            if not fn.queue:
                continue
            queue = self.resources.queues[fn.queue]
            got = sqs.receive_message(
                QueueUrl=queue["url"],
                MaxNumberOfMessages=min(fn.batch_size, 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not got:
                continue
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": queue["arn"],
                    "awsRegion": REGION,
                }
                for m in got
            ]
            try:
                answer = self.invoke(fn.logical_id, {"Records": records}) or {}
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            except Exception:  # a crashed invocation: the whole batch is retried, as on AWS
                failed = {r["messageId"] for r in records}
            for record in records:
                if record["messageId"] in failed:
                    if fast_retry:  # AWS waits out the visibility timeout; locally retry at once
                        sqs.change_message_visibility(
                            QueueUrl=queue["url"], ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                        )
                else:
                    sqs.delete_message(QueueUrl=queue["url"], ReceiptHandle=record["receiptHandle"])
            handled += len(records)
        return handled

    def drain(self, max_rounds: int = 200) -> int:
        """Deliver until every queue is empty (failing messages end in their DLQ after their retries)."""
        total = 0
        idle = 0
        for _ in range(max_rounds):
            n = self.poll_once()
            total += n
            idle = idle + 1 if n == 0 else 0
            if idle >= 2:
                break
        return total

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting or in flight on each queue of the stack (the local /v1/health shows them)."""
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        assert self.resources
        depths = {}
        for logical, queue in self.resources.queues.items():
            attrs = sqs.get_queue_attributes(
                QueueUrl=queue["url"],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[logical] = int(attrs["ApproximateNumberOfMessages"]) + int(
                attrs["ApproximateNumberOfMessagesNotVisible"]
            )
        return depths

    def dead_letters(self) -> dict[str, list[dict[str, Any]]]:
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        out: dict[str, list[dict[str, Any]]] = {}
        assert self.resources
        for logical, queue in self.resources.queues.items():
            if "DeadLetter" not in logical:
                continue
            attrs = sqs.get_queue_attributes(QueueUrl=queue["url"], AttributeNames=["ApproximateNumberOfMessages"])
            count = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
            if count:
                msgs = sqs.receive_message(QueueUrl=queue["url"], MaxNumberOfMessages=10, VisibilityTimeout=0).get(
                    "Messages", []
                )
                out[logical] = [json.loads(m["Body"]) for m in msgs]
        return out


def load_state() -> dict[str, Any] | None:
    if state_file().exists():
        return json.loads(state_file().read_text())
    return None


def root() -> Path:
    return cfn.ROOT
