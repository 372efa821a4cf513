"""Lambda functions of the template, imported and invoked in-process with a Lambda-like context."""

from __future__ import annotations

import contextvars
import importlib
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from patron_local.template import Function

Handler = Callable[[Any, Any], Any]

# The function whose handler is running in this context (None outside handlers): what local IAM checks use.
CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("patron_current_function", default=None)


@dataclass
class LambdaContext:
    """The attributes of AWS's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionTimeoutError(RuntimeError):
    """The handler ran longer than the function's Timeout (reported after it returns: threads cannot be killed)."""


def error_payload(exc: BaseException) -> dict[str, Any]:
    """What Lambda answers for an invocation that raised, in the Python runtime's shape (Step Functions matches
    Retry and Catch on errorType; `sam local invoke` prints it)."""
    if isinstance(exc, FunctionTimeoutError):
        error_type = "Sandbox.Timedout"
    elif isinstance(exc, TypeError) and "JSON serializable" in str(exc):
        error_type = "Runtime.MarshalError"  # the handler returned something that is not JSON
    else:
        error_type = type(exc).__name__
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": str(uuid.uuid4()),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class FunctionRegistry:
    """Imports each function's handler once (as Lambda does per container) and invokes it."""

    def __init__(self, functions: dict[str, Function]):
        self.functions = functions
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()

    def handler(self, logical_id: str) -> Handler:
        with self._lock:
            if logical_id not in self._handlers:
                function = self.functions[logical_id]
                module = importlib.import_module(function.module)
                self._handlers[logical_id] = getattr(module, function.attribute)
            return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: Any) -> Any:
        function = self.functions[logical_id]
        handler = self.handler(logical_id)
        context = LambdaContext(
            function_name=logical_id, memory_limit_in_mb=function.memory_mb, timeout_s=function.timeout_s
        )
        started = time.monotonic()
        token = CURRENT_FUNCTION.set(logical_id)
        try:
            result = handler(event, context)
        finally:
            CURRENT_FUNCTION.reset(token)
        if time.monotonic() - started > function.timeout_s:
            raise FunctionTimeoutError(f"{logical_id} exceeded its {function.timeout_s} s timeout")
        return result
