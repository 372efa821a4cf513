"""Creating applications, issuing, listing and revoking their keys."""

from __future__ import annotations

from typing import Protocol

from patron.applications import apikeys
from patron.applications.model import DEFAULT_RATE_LIMIT, ApiKey, Application, NewApiKey, RateLimit, Scope
from patron.applications.repository import ApplicationRepository
from patron.clock import Clock, SystemClock, iso
from patron.errors import ConflictError, NotFoundError, ValidationError

MAX_NAME_LENGTH = 200


class UsagePlans(Protocol):
    """Where per-application throttling is enforced: API Gateway usage plans on AWS, the local runtime locally."""

    def register(self, application: Application) -> None: ...
    def update(self, application: Application) -> None: ...


class RuntimeEnforcedUsagePlans:
    """Locally the runtime reads each application's limits itself, so there is nothing to provision."""

    def register(self, application: Application) -> None:
        return None

    def update(self, application: Application) -> None:
        return None


def _check_rate_limit(rate_limit: RateLimit) -> None:
    if not (0 < rate_limit.rate <= 10_000) or not (1 <= rate_limit.burst <= 5_000):
        raise ValidationError("Rate must be in (0, 10000] requests per second and burst in [1, 5000].")


class ApplicationService:
    def __init__(
        self,
        repository: ApplicationRepository,
        usage_plans: UsagePlans | None = None,
        clock: Clock | None = None,
    ):
        self._repository = repository
        self._usage_plans = usage_plans or RuntimeEnforcedUsagePlans()
        self._clock = clock or SystemClock()

    def create_application(self, name: str, rate_limit: RateLimit = DEFAULT_RATE_LIMIT) -> Application:
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise ValidationError(f"An application name has 1 to {MAX_NAME_LENGTH} characters.")
        _check_rate_limit(rate_limit)
        application = Application(
            id=self._repository.next_application_id(),
            name=name,
            created=iso(self._clock.now()),
            rate_limit=rate_limit,
            usage_key=apikeys.new_usage_key(),
        )
        self._usage_plans.register(application)
        self._repository.add_application(application)
        return application

    def get_application(self, application_id: int) -> Application:
        application = self._repository.get_application(application_id)
        if application is None:
            raise NotFoundError("No such application.", code="application_not_found")
        return application

    def list_applications(self) -> list[Application]:
        return self._repository.list_applications()

    def sync_usage_plans(self) -> list[Application]:
        """Provisions every application's usage plan again (each step finds what exists): after a deploy that adds
        an API (ExpertSender's wire), the plans made before it gain its stage, so existing keys reach it."""
        applications = self._repository.list_applications()
        for application in applications:
            self._usage_plans.register(application)
        return applications

    def set_rate_limit(self, application_id: int, rate_limit: RateLimit) -> Application:
        _check_rate_limit(rate_limit)
        application = self._repository.update_rate_limit(application_id, rate_limit)
        self._usage_plans.update(application)
        return application

    def create_key(self, application_id: int, scope: Scope, label: str = "") -> NewApiKey:
        key_id, secret = apikeys.new_key()
        return NewApiKey(key=self._store_key(application_id, key_id, secret, scope, label), secret=secret)

    def register_key(self, application_id: int, secret: str, scope: Scope, label: str = "") -> ApiKey:
        """Registers a key chosen by the operator (a fixed demo key for scripts); idempotent for the same key."""
        key_id = apikeys.key_id_of(secret)
        if key_id is None:
            raise ValidationError("The key is not a Patron key (patron_<16 chars>_<43 chars>).")
        existing = self._repository.get_key(key_id)
        if existing is not None:
            if existing.application_id != application_id or not apikeys.matches(secret, existing.key_hash):
                raise ConflictError("This key id is taken by another key.", code="api_key_conflict")
            if existing.revoked:
                raise ConflictError("This key was revoked; a revoked key cannot come back.", code="api_key_revoked")
            return existing
        return self._store_key(application_id, key_id, secret, scope, label)

    def list_keys(self, application_id: int) -> list[ApiKey]:
        self.get_application(application_id)
        return self._repository.list_keys(application_id)

    def revoke_key(self, key_id: str) -> ApiKey:
        return self._repository.revoke_key(key_id, iso(self._clock.now()))

    def _store_key(self, application_id: int, key_id: str, secret: str, scope: Scope, label: str) -> ApiKey:
        application = self.get_application(application_id)
        key = ApiKey(
            key_id=key_id,
            application_id=application.id,
            scope=scope,
            label=label.strip()[:MAX_NAME_LENGTH],
            created=iso(self._clock.now()),
            key_hash=apikeys.hash_key(secret),
            usage_key=application.usage_key,
        )
        self._repository.add_key(key)
        return key
