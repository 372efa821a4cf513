"""Key -> application and scope, with a short cache that bounds how late a revocation can take effect."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from patron.applications import apikeys
from patron.applications.model import ApiKey, Scope
from patron.applications.repository import ApplicationRepository
from patron.auth.credentials import presented_key
from patron.errors import ForbiddenError, UnauthorizedError

_MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True)
class Grant:
    key_id: str
    application_id: int
    scope: Scope
    usage_key: str


class Authenticator:
    def __init__(
        self,
        repository: ApplicationRepository,
        cache_ttl_seconds: float,
        public_routes: frozenset[str],
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._repository = repository
        self._ttl = cache_ttl_seconds
        self._public_routes = public_routes
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    def authenticate(self, headers: Mapping[str, Iterable[str]]) -> Grant:
        key = presented_key(headers)
        key_id = apikeys.key_id_of(key)
        if key_id is None:
            raise UnauthorizedError("Malformed API key.")
        stored = self._lookup(key_id)
        if stored is None or not apikeys.matches(key, stored.key_hash) or stored.revoked:
            raise UnauthorizedError("Unknown or revoked API key.")
        return Grant(
            key_id=stored.key_id,
            application_id=stored.application_id,
            scope=stored.scope,
            usage_key=stored.usage_key,
        )

    def authorize(self, grant: Grant, method: str, resource: str) -> None:
        if grant.scope is Scope.PUBLIC and f"{method.upper()} {resource}" not in self._public_routes:
            raise ForbiddenError()

    def _lookup(self, key_id: str) -> ApiKey | None:
        now = self._monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        stored = self._repository.get_key(key_id)
        if self._ttl > 0:
            if len(self._cache) >= _MAX_CACHED_KEYS:
                self._cache.clear()
            self._cache[key_id] = (now + self._ttl, stored)
        return stored
