"""moto in server mode for the asynchronous half of the local runtime (SQS, Step Functions), with moto's Lambda
invocations routed to the template's handlers in-process."""

from __future__ import annotations

import json
import logging
import os
import threading
import traceback
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from patron_local.functions import FunctionRegistry, FunctionTimeoutError
from patron_local.template import ACCOUNT, REGION

LOGGER = logging.getLogger(__name__)


# boto3 ships no type information and only the DynamoDB stubs are installed: clients are untyped.
Client = Any
_Invoke = Callable[..., "str | bytes | None"]

# moto's backends are process-wide, so the Lambda patch is too: installed by the first running MotoServices,
# removed by the last one, and each call is routed to the newest running instance that knows the function.
_PATCH_LOCK = threading.Lock()
_RUNNING: list[MotoServices] = []
_ORIGINAL_INVOKE: dict[type[LambdaBackend], _Invoke] = {}
_SAVED: dict[str, Any] = {}


def local_function_arn(logical_id: str) -> str:
    """The ARN a template function has locally; its function name is the logical id."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def function_name_of(function_name: str) -> str:
    """The bare name from any form Lambda accepts: name, `name:qualifier`, partial or full ARN."""
    if ":function:" in function_name:
        return function_name.split(":function:", 1)[1].split(":", 1)[0]
    return function_name.split(":", 1)[0]


class MotoServices:
    """One moto server on a free loopback port, configured so state machines execute and call local handlers."""

    def __init__(self, registry: FunctionRegistry):
        self.registry = registry
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("MotoServices is not started")
        return self._endpoint_url

    def start(self) -> str:
        if self._server is not None:
            return self.endpoint_url
        # Port 0: the OS picks a free port while binding, so there is no probe-then-bind race.
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        werkzeug_logger = logging.getLogger("werkzeug")
        if werkzeug_logger.level == logging.NOTSET:
            # Werkzeug logs every request at INFO unless told otherwise: with SQS pollers long-polling, that is a
            # line per second per queue. Nobody chose a level, so ours only hides that noise.
            werkzeug_logger.setLevel(logging.WARNING)
        server.start()
        self._server = server
        _host, port = server.get_host_and_port()
        self._endpoint_url = f"http://127.0.0.1:{port}"
        try:
            self._configure(port)
        except BaseException:
            self.stop()
            raise
        return self._endpoint_url

    def _configure(self, port: int) -> None:
        with _PATCH_LOCK:
            if not _RUNNING:
                # Backends, config and MOTO_PORT are process-wide: remember them for the last stop, and make
                # sure a fresh first instance does not see a previous one's queues.
                _SAVED["moto_port"] = os.environ.get("MOTO_PORT")
                _SAVED["stepfunctions"] = dict(default_user_config.get("stepfunctions", {}))
                self._post("/moto-api/reset", {})
                _install_lambda_patch()
            _RUNNING.append(self)
            # moto's ASL interpreter builds its clients from MOTO_PORT (default 5000), not the listening port.
            os.environ["MOTO_PORT"] = str(port)
        # Must precede the first CreateStateMachine: the setting picks the backend the machine is stored in.
        self._post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        with _PATCH_LOCK:
            if self in _RUNNING:
                _RUNNING.remove(self)
            if _RUNNING:
                os.environ["MOTO_PORT"] = _RUNNING[-1].endpoint_url.rsplit(":", 1)[1]
            else:
                _remove_lambda_patch()
                # Later in-process mock_aws tests must find moto's defaults again.
                self._post("/moto-api/config", {"stepfunctions": _SAVED.get("stepfunctions") or {}})
                previous_port = _SAVED.get("moto_port")
                if previous_port is None:
                    os.environ.pop("MOTO_PORT", None)
                else:
                    os.environ["MOTO_PORT"] = str(previous_port)
        server.stop()
        # ThreadedMotoServer.stop() shuts the loop down but leaves the listening socket open.
        listener = getattr(server, "_server", None)
        if listener is not None:
            listener.server_close()
        self._server = None
        self._endpoint_url = None

    def reset(self) -> None:
        """Clear every moto backend (queues, messages, state machines) of the whole process, including those of
        any other running instance; the configuration stays. To drop one runtime's resources, deprovision it."""
        self._post("/moto-api/reset", {})

    def client(self, service_name: str) -> Client:
        return boto3.session.Session().client(
            service_name,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        )

    def invoke_local(self, logical_id: str, body: str | bytes | None, headers: Any, response_headers: Any) -> bytes:
        """Serve one moto Lambda Invoke with the in-process handler, answering as the Lambda API would."""
        invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        event = json.loads(text) if text else {}
        if invocation_type == "Event":
            threading.Thread(target=self._invoke_async, args=(logical_id, event), daemon=True).start()
            return b""
        try:
            payload = json.dumps(self.registry.invoke(logical_id, event)).encode("utf-8")
        except Exception as exc:  # every handler error becomes a function error, as Lambda reports it
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps(_error_payload(exc)).encode("utf-8")
        response_headers["Content-Length"] = str(len(payload))
        return payload

    def _invoke_async(self, logical_id: str, event: Any) -> None:
        try:
            self.registry.invoke(logical_id, event)
        except Exception:
            LOGGER.exception("asynchronous invocation failed", extra={"function": logical_id})

    def _post(self, path: str, document: dict[str, Any]) -> None:
        request = urllib.request.Request(  # noqa: S310 - fixed http URL of our own loopback server
            f"{self.endpoint_url}{path}",
            data=json.dumps(document).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) or headers.get(name.lower())
    return str(value) if value else None


def _error_payload(exc: Exception) -> dict[str, Any]:
    """The Python runtime's error shape; Step Functions takes the error name (for Retry/Catch) from errorType."""
    if isinstance(exc, FunctionTimeoutError):
        error_type = "Sandbox.Timedout"
    elif isinstance(exc, TypeError) and "JSON serializable" in str(exc):
        error_type = "Runtime.MarshalError"
    else:
        error_type = type(exc).__name__
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": str(uuid.uuid4()),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _route(logical_id: str) -> MotoServices | None:
    with _PATCH_LOCK:
        candidates = list(reversed(_RUNNING))
    for services in candidates:
        if logical_id in services.registry.functions:
            return services
    return None


def _patched_invoke(backend_class: type[LambdaBackend]) -> _Invoke:
    original = _ORIGINAL_INVOKE[backend_class]

    def invoke(
        self: LambdaBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        logical_id = function_name_of(function_name)
        services = _route(logical_id)
        if services is None:
            # Not a template function: keep moto's own behaviour (echo or docker).
            return original(self, function_name, qualifier, body, headers, response_headers)
        return services.invoke_local(logical_id, body, headers, response_headers)

    return invoke


def _install_lambda_patch() -> None:
    # Both classes define `invoke`; which backend serves a request depends on moto's `lambda.use_docker` config.
    for backend_class in (LambdaBackend, LambdaSimpleBackend):
        _ORIGINAL_INVOKE[backend_class] = backend_class.__dict__["invoke"]
        setattr(backend_class, "invoke", _patched_invoke(backend_class))  # noqa: B010 - mypy forbids method assignment


def _remove_lambda_patch() -> None:
    for backend_class, original in _ORIGINAL_INVOKE.items():
        setattr(backend_class, "invoke", original)  # noqa: B010
    _ORIGINAL_INVOKE.clear()
