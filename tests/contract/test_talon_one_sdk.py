"""The official talon-one-sdk IntegrationApi against Patron, unchanged but for host and key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import talon_one
from talon_one.exceptions import ApiException, BadRequestException, NotFoundException

from patron_local.dynamodb_local import free_port
from patron_local.server import serve


@pytest.fixture(scope="module")
def base_url(runtime) -> Iterator[str]:
    port = free_port()
    server = serve(runtime.gateway, port=port)
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def integration_api(base_url: str, key: str) -> talon_one.IntegrationApi:
    configuration = talon_one.Configuration(host=base_url)
    configuration.api_key["api_key_v1"] = key
    configuration.api_key_prefix["api_key_v1"] = "ApiKey-v1"
    return talon_one.IntegrationApi(talon_one.ApiClient(configuration))


def test_update_customer_profile_v2_then_inventory(base_url, tenant):
    api = integration_api(base_url, tenant.key)
    integration_id = f"sdk-{uuid.uuid4().hex[:8]}"
    request = talon_one.CustomerProfileIntegrationRequestV2.from_dict(
        {"attributes": {"tier": "gold", "visits": 3}, "responseContent": ["customerProfile"]}
    )
    assert request is not None
    updated = api.update_customer_profile_v2(integration_id, request, run_rule_engine=False, dry=False)
    assert isinstance(updated, talon_one.CustomerProfileIntegrationResponseV2)
    assert updated.effects == [] and updated.created_coupons == [] and updated.created_referrals == []
    created = updated.customer_profile
    assert created is not None
    assert created.integration_id == integration_id
    assert created.attributes == {"tier": "gold", "visits": 3}

    api.update_customer_profile_v2(
        integration_id, talon_one.CustomerProfileIntegrationRequestV2(attributes={"visits": 4})
    )
    inventory = api.get_customer_inventory(integration_id, profile=True)
    assert isinstance(inventory, talon_one.CustomerInventory)
    profile = inventory.profile
    assert isinstance(profile, talon_one.CustomerProfile)
    assert profile.id == created.id
    assert profile.attributes == {"tier": "gold", "visits": 4}
    assert profile.created == created.created
    assert profile.account_id == 1 and profile.closed_sessions == 0 and profile.total_sales == 0


def test_another_applications_profile_is_a_404_for_the_sdk(base_url, tenant, other_tenant):
    integration_id = f"sdk-{uuid.uuid4().hex[:8]}"
    integration_api(base_url, tenant.key).update_customer_profile_v2(
        integration_id, talon_one.CustomerProfileIntegrationRequestV2(attributes={"a": 1})
    )
    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_customer_inventory(integration_id, profile=True)


def test_the_rule_engine_parts_need_run_rule_engine(base_url, tenant):
    body = talon_one.CustomerProfileIntegrationRequestV2(attributes={}, responseContent=["triggeredCampaigns"])
    with pytest.raises(BadRequestException) as raised:
        integration_api(base_url, tenant.key).update_customer_profile_v2("sdk-rules", body)
    assert "rule_engine_required" in str(raised.value.body)


def test_a_wrong_key_is_401_for_the_sdk(base_url):
    with pytest.raises(ApiException) as raised:
        integration_api(base_url, "patron_aaaaaaaaaaaaaaaa_" + "B" * 43).get_customer_inventory("x", profile=True)
    assert raised.value.status == 401


def test_bulk_update_and_delete_customer_data_with_the_sdk(base_url, tenant):
    api = integration_api(base_url, tenant.key)
    first, second = f"sdk-{uuid.uuid4().hex[:8]}", f"sdk-{uuid.uuid4().hex[:8]}"
    request = talon_one.MultipleCustomerProfileIntegrationRequest.from_dict(
        {
            "customerProfiles": [
                {"integrationId": first, "attributes": {"tier": "gold"}},
                {"integrationId": second, "attributes": {"tier": "silver"}},
            ]
        }
    )
    assert request is not None
    response = api.update_customer_profiles_v2(request, silent="no")
    assert isinstance(response, talon_one.MultipleCustomerProfileIntegrationResponseV2)
    states = response.integration_states or []
    assert [state.customer_profile.integration_id for state in states] == [first, second]
    assert api.update_customer_profiles_v2(request, silent="yes") is None  # 204

    api.delete_customer_data(first)
    with pytest.raises(NotFoundException):
        api.get_customer_inventory(first, profile=True)
    assert api.get_customer_inventory(second, profile=True).profile is not None


def test_errors_read_as_talons_error_response(base_url, tenant):
    api = integration_api(base_url, tenant.key)
    with pytest.raises(BadRequestException) as raised:
        api.update_customer_profile_v2(
            "sdk-errors", talon_one.CustomerProfileIntegrationRequestV2(attributes={"": 1}), dry=True
        )
    error = talon_one.ErrorResponse.from_json(str(raised.value.body))
    assert error is not None and error.message
    assert error.errors and error.errors[0].title and error.errors[0].source is not None
    assert error.errors[0].source.pointer == "/attributes/"
    with pytest.raises(NotFoundException) as missing:
        api.get_customer_inventory("sdk-nobody", profile=True)
    not_found = talon_one.ErrorResponse.from_json(str(missing.value.body))
    assert not_found is not None and not_found.message
