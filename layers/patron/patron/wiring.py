"""Composition roots: each Lambda function builds the services it uses in one place, once per process.

A function's `app.py` declares one `CompositionRoot` over a `compose(environ)` function: it reads the settings
groups it needs (`patron.settings`), builds its clients, repositories and services from the contexts' builders
(each context's `wiring` module), and returns what its handlers call. The root runs at the function's first use,
never at import time (importing a handler builds nothing), and keeps what it built for the life of the process.
Every variable the function reads is read while the root is built, so a missing or invalid one surfaces there, as
a ConfigurationError naming it (logged, and a 500 `configuration_error` on an API), not from a route's own work;
`tests/template/` builds each root from exactly its function's environment in template.yaml.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from patron.logs import get_logger
from patron.settings import ConfigurationError

T = TypeVar("T")

_log = get_logger("patron.wiring")
_ROOTS: weakref.WeakSet[CompositionRoot[Any]] = weakref.WeakSet()


class CompositionRoot(Generic[T]):
    """`services = CompositionRoot(compose)`; handlers call `services()`. Built once per process, on first call."""

    def __init__(self, compose: Callable[[Mapping[str, str]], T]):
        self._compose = compose
        self._built: T | None = None
        self._lock = threading.Lock()
        _ROOTS.add(self)

    def __call__(self) -> T:
        built = self._built
        if built is None:
            with self._lock:  # the local runtime may run a function's first requests in parallel: build once
                if self._built is None:
                    self._built = self.build(os.environ)
                built = self._built
        return built

    def build(self, environ: Mapping[str, str]) -> T:
        """What the root builds from `environ`, without keeping it (the template tests build each function's root
        from its own environment). A ConfigurationError is logged with the variable it names, then raised."""
        try:
            return self._compose(environ)
        except ConfigurationError as error:
            _log.error("configuration error", problem=error.problem)
            raise

    def forget(self) -> None:
        """The next call builds again (from the environment as it is then)."""
        with self._lock:
            self._built = None


def forget_roots() -> None:
    """Every root of the process builds again on its next call: the local runtime calls it when it starts, since
    one process may run several runtimes (tests), each with its own tables, queues and endpoints."""
    for root in list(_ROOTS):
        root.forget()
