"""PUT /v2/customer_profiles/{integrationId} and GET .../inventory through the local runtime and DynamoDB Local."""

from __future__ import annotations

import uuid

import pytest

from patron.profiles.model import MAX_ATTRIBUTE_VALUE_BYTES
from tests.conftest import Tenant


def profile_path(integration_id: str) -> str:
    return f"/v2/customer_profiles/{integration_id}"


def inventory(runtime, tenant: Tenant, integration_id: str, **query: str):
    return runtime.request(
        "GET",
        f"/v1/customer_profiles/{integration_id}/inventory",
        headers=tenant.headers,
        query=query or {"profile": "true"},
    )


@pytest.fixture
def customer() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def test_a_new_profile_is_created_and_returned_in_talon_shape(runtime, tenant, customer):
    response = runtime.request(
        "PUT",
        profile_path(customer),
        headers=tenant.headers,
        body={"attributes": {"tier": "gold", "points": 12.5}, "responseContent": ["customerProfile"]},
    )
    assert response.status == 200
    body = response.json()
    assert body["effects"] == [] and body["createdCoupons"] == [] and body["createdReferrals"] == []
    profile = body["customerProfile"]
    assert profile["integrationId"] == customer
    assert profile["attributes"] == {"tier": "gold", "points": 12.5}
    assert isinstance(profile["id"], int) and profile["accountId"] == 1
    assert profile["closedSessions"] == 0 and profile["totalSales"] == 0
    assert profile["created"].endswith("Z") and profile["lastActivity"] == profile["created"]


def test_updates_merge_attributes_and_keep_identity(runtime, tenant, customer):
    first = runtime.request(
        "PUT",
        profile_path(customer),
        headers=tenant.headers,
        body={"attributes": {"a": 1, "b": "x"}, "responseContent": ["customerProfile"]},
    )
    second = runtime.request(
        "PUT",
        profile_path(customer),
        headers=tenant.headers,
        body={"attributes": {"b": "y", "c": [1, 2], "a": None}, "responseContent": ["customerProfile"]},
    )
    assert second.status == 200
    before, after = first.json()["customerProfile"], second.json()["customerProfile"]
    assert after["attributes"] == {"b": "y", "c": [1, 2]}
    assert after["id"] == before["id"] and after["created"] == before["created"]
    read = inventory(runtime, tenant, customer).json()["profile"]
    assert read == after


def test_the_profile_is_left_out_unless_asked_for(runtime, tenant, customer):
    response = runtime.request("PUT", profile_path(customer), headers=tenant.headers, body={"attributes": {"a": 1}})
    assert response.status == 200 and "customerProfile" not in response.json()
    assert inventory(runtime, tenant, customer, profile="false").json() == {}


def test_another_applications_profile_is_not_found_and_untouched(runtime, tenant, other_tenant, customer):
    runtime.request("PUT", profile_path(customer), headers=tenant.headers, body={"attributes": {"owner": "A"}})
    assert inventory(runtime, other_tenant, customer).status == 404
    assert inventory(runtime, other_tenant, customer).json()["code"] == "profile_not_found"
    # B writing the same integration id creates B's own profile; A's is unchanged.
    runtime.request("PUT", profile_path(customer), headers=other_tenant.headers, body={"attributes": {"owner": "B"}})
    assert inventory(runtime, tenant, customer).json()["profile"]["attributes"] == {"owner": "A"}
    assert inventory(runtime, other_tenant, customer).json()["profile"]["attributes"] == {"owner": "B"}


def test_unknown_profile_is_404(runtime, tenant):
    response = inventory(runtime, tenant, "nobody-" + uuid.uuid4().hex)
    assert response.status == 404


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ('{"attributes": ', "$", "malformed_json"),
        ('{"attributes": {"n": NaN}}', "$", "malformed_json"),
        ('["not", "an", "object"]', "$", "invalid_value"),
        ('{"attributes": ["a"]}', "attributes", "invalid_value"),
        ('{"attributes": {"a": 1}, "attribute": {}}', "attribute", "unknown_field"),
        ('{"responseContent": ["everything"]}', "responseContent[0]", "invalid_value"),
        ('{"evaluableCampaignIds": ["x"]}', "evaluableCampaignIds[0]", "invalid_value"),
        (
            '{"attributes": {"big": "' + "x" * (MAX_ATTRIBUTE_VALUE_BYTES + 1) + '"}}',
            "attributes.big",
            "value_too_large",
        ),
        ('{"attributes": {"n": 1' + "0" * 40 + "}}", "attributes.n", "number_out_of_range"),
    ],
)
def test_bad_input_is_400_with_the_field_path_and_writes_nothing(runtime, tenant, customer, body, path, code):
    response = runtime.request("PUT", profile_path(customer), headers=tenant.headers, body=body)
    assert response.status == 400
    error = response.json()
    if code == "malformed_json":
        assert error["code"] == code
    else:
        assert {"path": path, "code": code} in [{"path": e["path"], "code": e["code"]} for e in error["errors"]]
    assert inventory(runtime, tenant, customer).status == 404


def test_error_bodies_never_echo_submitted_values(runtime, tenant, customer):
    email = "mario.rossi@example.com"
    response = runtime.request(
        "PUT",
        profile_path(customer),
        headers=tenant.headers,
        body={"attributes": {"email": email + "x" * MAX_ATTRIBUTE_VALUE_BYTES}},
    )
    assert response.status == 400 and email not in response.body.decode()


def test_dry_and_run_rule_engine_false_are_accepted(runtime, tenant, customer):
    response = runtime.request(
        "PUT",
        profile_path(customer),
        headers=tenant.headers,
        query={"runRuleEngine": "false", "dry": "false"},
        body={"attributes": {"a": 1}},
    )
    assert response.status == 200


def test_a_non_boolean_query_flag_is_400_with_its_path(runtime, tenant, customer):
    response = runtime.request(
        "PUT",
        profile_path(customer),
        headers=tenant.headers,
        query={"dry": "maybe"},
        body={"attributes": {"a": 1}},
    )
    assert response.status == 400 and response.json()["errors"][0]["path"] == "query.dry"


def test_inventory_parts_that_do_not_exist_yet_are_refused(runtime, tenant, customer):
    runtime.request("PUT", profile_path(customer), headers=tenant.headers, body={"attributes": {"a": 1}})
    response = inventory(runtime, tenant, customer, profile="true", giveaways="true")
    assert response.status == 400 and response.json()["code"] == "giveaways_unavailable"


def test_an_overlong_integration_id_is_400(runtime, tenant):
    response = runtime.request("PUT", profile_path("x" * 1001), headers=tenant.headers, body={"attributes": {}})
    assert response.status == 400 and response.json()["errors"][0]["path"] == "integrationId"


def test_a_body_over_the_configured_limit_is_413_and_writes_nothing(runtime, tenant, customer):
    limit = int(runtime.environment["MAX_BODY_BYTES"])
    body = '{"attributes": {"a": "' + "x" * limit + '"}}'
    response = runtime.request("PUT", profile_path(customer), headers=tenant.headers, body=body)
    assert response.status == 413 and response.json()["code"] == "payload_too_large"
    assert inventory(runtime, tenant, customer).status == 404


def test_a_missing_body_is_400(runtime, tenant, customer):
    response = runtime.request("PUT", profile_path(customer), headers=tenant.headers)
    assert response.status == 400 and response.json()["errors"][0]["code"] == "missing_body"


def test_url_encoded_integration_ids_are_decoded(runtime, tenant):
    integration_id = f"user {uuid.uuid4().hex[:6]}@shop"
    encoded = integration_id.replace(" ", "%20").replace("@", "%40")
    response = runtime.request(
        "PUT", profile_path(encoded), headers=tenant.headers, body={"responseContent": ["customerProfile"]}
    )
    assert response.json()["customerProfile"]["integrationId"] == integration_id
