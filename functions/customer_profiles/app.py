"""Customer profiles, Talon.One style: update one or many, read the inventory, export or erase a customer's data."""

from __future__ import annotations

from typing import Any

from patron.catalog.settings import CatalogStoreSettings
from patron.customers.wiring import customer_eraser, customer_exporter
from patron.errors import PatronError, UnsupportedFeatureError
from patron.http.api import Request, Response, RestApi
from patron.http.validation import parse_model
from patron.idempotency.settings import IdempotencySettings
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.outbox.wiring import OutboxSettings
from patron.profiles import talon
from patron.profiles.wiring import profile_service, profiles_settings
from patron.settings import CustomerDataSettings, ProfilesSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (ProfilesSettings, IdempotencySettings, CustomerDataSettings, CatalogStoreSettings, OutboxSettings)

api = RestApi(max_body_bytes=lambda: profiles_settings().max_body_bytes, idempotency=idempotency_store)

_RULE_ENGINE_CONTENT = {"triggeredCampaigns", "loyalty", "event", "awardedGiveaways", "ruleFailureReasons"}
_INVENTORY_PARTS = ("referrals", "coupons", "loyalty", "giveaways", "achievements")


def _profile_subject(request: Request, answer: Any) -> list[str]:
    return [request.path_params["integrationId"]]


def _bulk_subjects(request: Request, answer: Any) -> list[str]:
    """Every integration id of a bulk body, read leniently: a body the route refused still names its people."""
    try:
        body = request.json()
    except PatronError:
        return []
    profiles = body.get("customerProfiles") if isinstance(body, dict) else None
    if not isinstance(profiles, list):
        return []
    return [p["integrationId"] for p in profiles if isinstance(p, dict) and isinstance(p.get("integrationId"), str)]


def _rule_engine_unavailable(path: str) -> UnsupportedFeatureError:
    return UnsupportedFeatureError(
        "The rule engine is not available yet; call without runRuleEngine=true.",
        "rule_engine_unavailable",
        path,
    )


@api.route("PUT", "/v2/customer_profiles/{integrationId}", idempotent=True, subjects=_profile_subject, dry=True)
def update_customer_profile_v2(request: Request) -> Response:
    if request.query_bool("runRuleEngine"):
        raise _rule_engine_unavailable("query.runRuleEngine")
    dry = bool(request.query_bool("dry"))
    body = parse_model(talon.CustomerProfileIntegrationRequestV2, request.json())
    if body.evaluable_campaign_ids:
        raise _rule_engine_unavailable("evaluableCampaignIds")
    if body.audiences_changes and (body.audiences_changes.adds or body.audiences_changes.deletes):
        raise UnsupportedFeatureError("Audiences are not available yet.", "audiences_unavailable", "audiencesChanges")
    content = set(body.response_content or [])
    if content & _RULE_ENGINE_CONTENT:
        raise _rule_engine_unavailable("responseContent")
    profile = profile_service().update(
        request.caller.application_id, request.path_params["integrationId"], body.attributes or {}, dry=dry
    )
    account_id = profiles_settings().account_id
    return Response.json(talon.update_response(profile, account_id, "customerProfile" in content))


@api.route("PUT", "/v2/customer_profiles", idempotent=True, subjects=_bulk_subjects)
def update_customer_profiles_v2(request: Request) -> Response:
    silent = request.query_choice("silent", ("yes", "no"), default="yes")
    body = parse_model(talon.MultipleCustomerProfileIntegrationRequest, request.json())
    items = [(item.integration_id, item.attributes or {}) for item in body.customer_profiles]
    profiles = profile_service().update_many(request.caller.application_id, items)
    if silent == "yes":
        return Response(status=204)
    return Response.json(talon.bulk_update_response(profiles, profiles_settings().account_id))


@api.route("DELETE", "/v1/customer_data/{integrationId}", idempotent=True, subjects=_profile_subject)
def delete_customer_data(request: Request) -> Response:
    """Erases the person: profile, identifiers, orders (or, with ?anonymise=true, their orders kept under a
    tombstone id with no personal data, so application-wide figures stand) and stored idempotent responses."""
    anonymise = bool(request.query_bool("anonymise"))
    customer_eraser().erase(request.caller.application_id, request.path_params["integrationId"], anonymise)
    return Response(status=204)


@api.route("GET", "/v1/customer_data/{integrationId}")
def export_customer_data(request: Request) -> Response:
    """Everything Patron holds about the person, as one document (GDPR Art. 15): profile, identifiers,
    consents, attributes, statistics, orders; later contexts add their sections through the lifecycle port."""
    return Response.json(
        customer_exporter().export(request.caller.application_id, request.path_params["integrationId"])
    )


@api.route("GET", "/v1/customer_profiles/{integrationId}/inventory")
def get_customer_inventory(request: Request) -> Response:
    for part in _INVENTORY_PARTS:
        if request.query_bool(part):
            raise UnsupportedFeatureError(
                f"The {part} inventory is not available yet.", f"{part}_unavailable", f"query.{part}"
            )
    include_profile = bool(request.query_bool("profile"))
    profile = profile_service().get(request.caller.application_id, request.path_params["integrationId"])
    return Response.json(talon.inventory_response(profile, profiles_settings().account_id, include_profile))


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
