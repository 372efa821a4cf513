import pytest

from patron.applications import apikeys
from patron.applications.model import RateLimit, Scope
from patron.applications.service import ApplicationService
from patron.errors import ConflictError, NotFoundError, ValidationError
from tests.fakes import InMemoryApplicationRepository


class RecordingUsagePlans:
    def __init__(self) -> None:
        self.registered: list[int] = []
        self.updated: list[tuple[int, float, int]] = []

    def register(self, application):
        self.registered.append(application.id)

    def update(self, application):
        self.updated.append((application.id, application.rate_limit.rate, application.rate_limit.burst))


@pytest.fixture
def plans():
    return RecordingUsagePlans()


@pytest.fixture
def service(plans):
    return ApplicationService(InMemoryApplicationRepository(), plans)


def test_applications_get_increasing_ids_and_a_usage_plan(service, plans):
    first = service.create_application("a")
    second = service.create_application("b", RateLimit(1, 60))
    assert second.id > first.id
    assert plans.registered == [first.id, second.id]
    assert second.rate_limit == RateLimit(1, 60)
    assert len(first.usage_key) >= 20 and first.usage_key != second.usage_key


@pytest.mark.parametrize(
    ("name", "rate"),
    [("", RateLimit(1, 1)), ("x" * 201, RateLimit(1, 1)), ("ok", RateLimit(0, 1)), ("ok", RateLimit(1, 0))],
)
def test_invalid_applications_are_refused(service, name, rate):
    with pytest.raises(ValidationError):
        service.create_application(name, rate)


def test_a_new_key_is_returned_once_and_stored_only_as_a_hash(service):
    application = service.create_application("a")
    new = service.create_key(application.id, Scope.PUBLIC, "tracker")
    assert new.secret.startswith("patron_")
    assert new.key.key_hash == apikeys.hash_key(new.secret)
    listed = service.list_keys(application.id)
    assert [k.key_id for k in listed] == [new.key.key_id]
    assert new.secret not in repr(listed)


def test_keys_for_unknown_applications_are_refused(service):
    with pytest.raises(NotFoundError):
        service.create_key(99, Scope.INTEGRATION)


def test_revocation_is_recorded_once(service):
    application = service.create_application("a")
    key = service.create_key(application.id, Scope.INTEGRATION).key
    first = service.revoke_key(key.key_id)
    again = service.revoke_key(key.key_id)
    assert first.revoked and again.revoked_at == first.revoked_at
    with pytest.raises(NotFoundError):
        service.revoke_key("nosuchkeyaaaaaaa")


def test_registering_a_chosen_key_is_idempotent_but_never_revives_or_steals(service):
    app_a = service.create_application("a")
    app_b = service.create_application("b")
    _, chosen = apikeys.new_key()
    first = service.register_key(app_a.id, chosen, Scope.INTEGRATION)
    assert service.register_key(app_a.id, chosen, Scope.INTEGRATION) == first
    with pytest.raises(ConflictError):
        service.register_key(app_b.id, chosen, Scope.INTEGRATION)
    service.revoke_key(first.key_id)
    with pytest.raises(ConflictError):
        service.register_key(app_a.id, chosen, Scope.INTEGRATION)
    with pytest.raises(ValidationError):
        service.register_key(app_a.id, "not-a-patron-key", Scope.INTEGRATION)


def test_rate_limit_changes_reach_the_usage_plan(service, plans):
    application = service.create_application("a")
    service.set_rate_limit(application.id, RateLimit(2, 30))
    assert plans.updated == [(application.id, 2, 30)]
