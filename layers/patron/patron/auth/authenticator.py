"""Key -> application and scope, with a short cache that bounds how late a revocation can take effect."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

from patron.applications import apikeys
from patron.applications.model import ApiKey, Scope
from patron.applications.repository import ApplicationRepository
from patron.auth.credentials import presented_key
from patron.errors import ForbiddenError, UnauthorizedError

_MAX_CACHED_KEYS = 10_000
# Unknown key ids are remembered separately and briefly: a flood of made-up ids cannot evict real keys.
_MAX_CACHED_UNKNOWN = 1_000
_UNKNOWN_TTL_SECONDS = 5.0


class Grant(msgspec.Struct, frozen=True):
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
        management_routes: frozenset[str] = frozenset(),
    ):
        self._repository = repository
        self._ttl = cache_ttl_seconds
        self._public_routes = public_routes
        self._management_routes = management_routes
        self._monotonic = monotonic
        # Least recently used first (dict order); a hit moves the key to the end.
        self._cache: OrderedDict[str, tuple[float, ApiKey]] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()

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
        """A management key may call the management routes only, and only a management key may call them; a public
        key only the public routes."""
        route = f"{method.upper()} {resource}"
        if (grant.scope is Scope.MANAGEMENT) != (route in self._management_routes):
            raise ForbiddenError()
        if grant.scope is Scope.PUBLIC and route not in self._public_routes:
            raise ForbiddenError()

    def _lookup(self, key_id: str) -> ApiKey | None:
        now = self._monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(key_id)
            return cached[1]
        if self._unknown.get(key_id, 0.0) > now:
            return None
        stored = self._repository.get_key(key_id)
        if self._ttl <= 0:
            return stored
        if stored is None:
            _remember(self._unknown, key_id, now + min(self._ttl, _UNKNOWN_TTL_SECONDS), _MAX_CACHED_UNKNOWN)
        else:
            _remember(self._cache, key_id, (now + self._ttl, stored), _MAX_CACHED_KEYS)
        return stored


def _remember(cache: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)
