"""The API Gateway behaviour around every route: keys, scopes, revocation, throttling, limits, unknown routes."""

from __future__ import annotations

import time

import pytest

from patron.applications.model import RateLimit, Scope
from tests.conftest import TEST_KEY_CACHE_TTL_SECONDS, new_tenant

ROUTE = "/v1/customer_profiles/someone/inventory"


def get(runtime, headers):
    return runtime.request("GET", ROUTE, headers=headers, query={"profile": "true"})


@pytest.mark.parametrize(
    "style",
    [
        lambda key: {"Authorization": f"ApiKey-v1 {key}"},  # Talon.One
        lambda key: {"api-key": key},  # Rfmcube
        lambda key: {"x-api-key": key},  # ExpertSender
        lambda key: {"Authorization": f"Bearer {key}"},  # Gravity Field
    ],
)
def test_every_dialects_header_is_accepted(runtime, tenant, style):
    # Authenticated and routed to the handler, which finds no such profile.
    assert_reached_handler(get(runtime, style(tenant.key)))


def assert_reached_handler(response):
    """The handler answered (not the gateway): it finds no profile `someone` in a fresh application."""
    assert response.status == 404 and response.json()["code"] == "profile_not_found"


def assert_unauthorized(response, key: str | None = None):
    assert response.status == 401
    assert response.json()["code"] == "unauthorized"
    if key:
        assert key not in response.body.decode()


def test_no_key_is_401(runtime):
    assert_unauthorized(get(runtime, {}))


def test_malformed_and_unknown_keys_are_401(runtime, tenant):
    forged = tenant.key[:-3] + ("abc" if not tenant.key.endswith("abc") else "xyz")
    for key in ["hello", "patron_", forged, "patron_aaaaaaaaaaaaaaaa_" + "A" * 43]:
        assert_unauthorized(get(runtime, {"x-api-key": key}), key)


def test_two_different_keys_in_one_request_are_401(runtime, tenant, other_tenant):
    assert_unauthorized(get(runtime, {"x-api-key": tenant.key, "Authorization": f"ApiKey-v1 {other_tenant.key}"}))
    assert_reached_handler(get(runtime, {"x-api-key": tenant.key, "Authorization": f"ApiKey-v1 {tenant.key}"}))


def test_a_revoked_key_stops_working_within_the_cache_bound(runtime, tenant):
    assert_reached_handler(get(runtime, tenant.headers))
    key_id = tenant.key.split("_")[1]
    runtime.applications().revoke_key(key_id)
    time.sleep(TEST_KEY_CACHE_TTL_SECONDS + 0.2)
    assert_unauthorized(get(runtime, tenant.headers))


def test_a_public_key_outside_its_scope_is_403(runtime):
    public = new_tenant(runtime, scope=Scope.PUBLIC)
    response = get(runtime, public.headers)
    assert response.status == 403
    assert response.json()["code"] == "forbidden"


def test_over_the_rate_limit_is_429_with_retry_after_per_application(runtime, tenant):
    limited = new_tenant(runtime, rate=RateLimit(rate=1, burst=3))
    for _ in range(3):
        assert_reached_handler(get(runtime, limited.headers))
    refused = get(runtime, limited.headers)
    assert refused.status == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.header("Retry-After") or 0) >= 1
    # Another application's budget is its own.
    assert_reached_handler(get(runtime, tenant.headers))


def test_unknown_routes_and_wrong_methods_answer_as_api_gateway_configured(runtime, tenant):
    for method, path in [("GET", "/v9/nothing"), ("DELETE", "/v2/customer_profiles/x"), ("GET", "/")]:
        response = runtime.request(method, path, headers=tenant.headers)
        assert response.status == 404
        assert response.json()["code"] == "route_not_found"


def test_a_body_over_api_gateways_10_mb_is_413_from_the_gateway(runtime, tenant):
    response = runtime.request(
        "PUT", "/v2/customer_profiles/x", headers=tenant.headers, body=b"{" + b" " * (10 * 1024 * 1024) + b"}"
    )
    assert response.status == 413
    assert response.json() == {"code": "payload_too_large", "message": "The request body is too large."}


def test_a_body_over_lambdas_6_mb_invocation_limit_is_an_integration_failure(runtime, tenant):
    response = runtime.request(
        "PUT", "/v2/customer_profiles/x", headers=tenant.headers, body=b"{" + b" " * (7 * 1024 * 1024) + b"}"
    )
    assert response.status == 502
    assert response.json()["code"] == "integration_failure"


def test_empty_path_segments_match_no_route(runtime, tenant):
    response = runtime.request("GET", "/v1//customer_profiles/x/inventory", headers=tenant.headers)
    assert response.status == 404 and response.json()["code"] == "route_not_found"


def test_responses_without_a_template_entry_fall_back_to_default_4xx_as_valid_json(runtime):
    response = runtime.gateway._gateway_response("BAD_REQUEST_BODY", "req-1", status=400, message="Invalid body")
    assert response.status == 400
    assert response.json() == {"code": "bad_request", "message": "Invalid body"}


def test_a_key_whose_usage_plan_lacks_the_api_is_a_403_in_each_apis_envelope(runtime):
    """A plan made before ExpertSender's API existed (`patron applications sync-usage-plans` attaches it)."""
    main = runtime.gateway._gateway_response("INVALID_API_KEY", "req-1")
    assert (main.status, main.json()["code"]) == (403, "forbidden")
    ecdp = runtime.gateway._gateway_response("INVALID_API_KEY", "req-1", api="ExpertSenderApi")
    assert (ecdp.status, ecdp.json()["substatus"]) == (403, "ApiKeyForbidden") and ecdp.json()["errors"]
