"""Applications and API keys as the domain sees them."""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Scope(StrEnum):
    INTEGRATION = "integration"  # servers: every integration route
    PUBLIC = "public"  # browsers and trackers: only routes marked safe for them
    # Scripts and the console publishing campaigns: only the management routes, and no other scope reaches those.
    MANAGEMENT = "management"


class RateLimit(msgspec.Struct, frozen=True):
    """Requests per second and burst, as an API Gateway usage plan's throttle takes them."""

    rate: float
    burst: int


DEFAULT_RATE_LIMIT = RateLimit(rate=100.0, burst=200)


class Application(msgspec.Struct, frozen=True):
    id: int
    name: str
    created: str
    rate_limit: RateLimit
    # The API Gateway usage-plan key value the authorizer names for this application (never shown to clients).
    usage_key: str


class ApiKey(msgspec.Struct, frozen=True):
    key_id: str
    application_id: int
    scope: Scope
    label: str
    created: str
    key_hash: str
    usage_key: str
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class NewApiKey(msgspec.Struct, frozen=True):
    """A freshly created key: the only moment its secret exists outside the caller's hands."""

    key: ApiKey
    secret: str
