import pytest

from patron.applications.model import RateLimit, Scope
from patron.applications.service import ApplicationService
from patron.auth.authenticator import Authenticator
from patron.errors import ForbiddenError, UnauthorizedError
from tests.fakes import InMemoryApplicationRepository


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup():
    repository = InMemoryApplicationRepository()
    service = ApplicationService(repository)
    application = service.create_application("shop", RateLimit(10, 20))
    clock = FakeClock()
    authenticator = Authenticator(
        repository,
        cache_ttl_seconds=60,
        public_routes=frozenset({"POST /v2/events"}),
        monotonic=clock,
        management_routes=frozenset({"POST /v1/management/rulesets"}),
    )
    return repository, service, application, clock, authenticator


def headers(key: str) -> dict[str, list[str]]:
    return {"authorization": [f"ApiKey-v1 {key}"]}


def test_a_valid_key_grants_its_application_and_scope(setup):
    _, service, application, _, authenticator = setup
    new = service.create_key(application.id, Scope.INTEGRATION)
    grant = authenticator.authenticate(headers(new.secret))
    assert (grant.application_id, grant.scope, grant.usage_key) == (
        application.id,
        Scope.INTEGRATION,
        application.usage_key,
    )


def test_a_key_with_a_wrong_secret_is_refused_even_with_a_known_id(setup):
    _, service, application, _, authenticator = setup
    secret = service.create_key(application.id, Scope.INTEGRATION).secret
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(headers(forged))


def test_revocation_takes_effect_within_the_cache_ttl(setup):
    _, service, application, clock, authenticator = setup
    new = service.create_key(application.id, Scope.INTEGRATION)
    authenticator.authenticate(headers(new.secret))
    service.revoke_key(new.key.key_id)
    clock.now = 59.0
    authenticator.authenticate(headers(new.secret))  # still cached: inside the documented bound
    clock.now = 60.5
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(headers(new.secret))


def test_warm_lookups_do_not_read_the_table(setup):
    repository, service, application, _, authenticator = setup
    secret = service.create_key(application.id, Scope.INTEGRATION).secret
    for _ in range(5):
        authenticator.authenticate(headers(secret))
    assert repository.key_reads == 1


def test_a_public_key_may_call_only_public_routes(setup):
    _, service, application, _, authenticator = setup
    grant = authenticator.authenticate(headers(service.create_key(application.id, Scope.PUBLIC).secret))
    authenticator.authorize(grant, "POST", "/v2/events")
    with pytest.raises(ForbiddenError):
        authenticator.authorize(grant, "PUT", "/v2/customer_profiles/{integrationId}")


def test_an_integration_key_may_call_every_route(setup):
    _, service, application, _, authenticator = setup
    grant = authenticator.authenticate(headers(service.create_key(application.id, Scope.INTEGRATION).secret))
    authenticator.authorize(grant, "PUT", "/v2/customer_profiles/{integrationId}")
    authenticator.authorize(grant, "POST", "/v2/events")


def test_a_management_key_may_call_only_management_routes_and_only_it_may(setup):
    _, service, application, _, authenticator = setup
    grant = authenticator.authenticate(headers(service.create_key(application.id, Scope.MANAGEMENT).secret))
    authenticator.authorize(grant, "POST", "/v1/management/rulesets")
    for method, route in (("PUT", "/v2/customer_profiles/{integrationId}"), ("POST", "/v2/events")):
        with pytest.raises(ForbiddenError):
            authenticator.authorize(grant, method, route)
    for scope in (Scope.INTEGRATION, Scope.PUBLIC):
        other = authenticator.authenticate(headers(service.create_key(application.id, scope).secret))
        with pytest.raises(ForbiddenError):
            authenticator.authorize(other, "POST", "/v1/management/rulesets")


def test_a_flood_of_unknown_key_ids_does_not_evict_real_keys(setup):
    repository, service, application, _, authenticator = setup
    secret = service.create_key(application.id, Scope.INTEGRATION).secret
    authenticator.authenticate(headers(secret))
    from patron.applications import apikeys

    for _ in range(2000):
        with pytest.raises(UnauthorizedError):
            authenticator.authenticate(headers(apikeys.new_key()[1]))
    reads = repository.key_reads
    authenticator.authenticate(headers(secret))
    assert repository.key_reads == reads  # still cached


def test_an_unknown_key_is_remembered_only_briefly(setup):
    _, service, application, clock, authenticator = setup
    from patron.applications import apikeys

    key_id, secret = apikeys.new_key()
    with pytest.raises(UnauthorizedError):
        authenticator.authenticate(headers(secret))
    service.register_key(application.id, secret, Scope.INTEGRATION)
    clock.now = 6.0  # past the short negative cache, well inside the key TTL
    assert authenticator.authenticate(headers(secret)).key_id == key_id
