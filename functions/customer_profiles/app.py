"""Customer profiles, Talon.One style: update one or many, read the inventory, export or erase a customer's data."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET

from patron.audiences.service import MembershipService
from patron.audiences.wiring import membership_service
from patron.catalog.wiring import catalog_service
from patron.clock import SystemClock
from patron.coupons.holdings import DynamoHoldings
from patron.coupons.inventory import CouponInventory, LiveCampaigns
from patron.customers.erasure import CustomerEraser
from patron.customers.export import CustomerExporter
from patron.customers.wiring import customer_eraser, customer_exporter, personal_data
from patron.dynamo.client import dynamodb_client
from patron.errors import FieldIssue, UnsupportedFeatureError, ValidationError
from patron.events.model import PROFILE_CREATED, PROFILE_UPDATED, TrackedEvent, check_dry_only
from patron.events.wire import TrackEventV2Response, track_response
from patron.http import subjects
from patron.http.api import Answer, Request, Response, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.outbox.wiring import outbox
from patron.profiles import customers, talon
from patron.profiles.model import CustomerProfile
from patron.profiles.service import ProfileService
from patron.profiles.wiring import profile_service
from patron.referrals.inventory import ReferralInventory
from patron.referrals.partition import DynamoReferralPartition
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot

if TYPE_CHECKING:
    from patron.events.service import EventService
    from patron.loyalty.inventory import LoyaltyInventory
    from patron.promotions.store import LiveRulesets


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    account_id: int
    profiles: ProfileService
    memberships: MembershipService
    eraser: CustomerEraser
    exporter: CustomerExporter
    idempotency: IdempotencyStore
    rule_engine: Callable[[], RuleEngine]
    coupons: CouponInventory
    referrals: ReferralInventory
    loyalty: Callable[[], LoyaltyInventory]  # built at its first use


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: profiles (with the catalog), erasure and export, which visit every
    context holding personal data (orders, coupons, referrals, stored answers, notifications), and the inventory's
    coupons and referrals."""
    client, tables, settings = dynamodb_client(), Tables.from_environ(environ), Api.from_environ(environ)
    profiles = profile_service(client, tables, catalog_service(client, tables))
    answers = idempotency_store(client, tables)
    holders = personal_data(client, tables, profiles, answers, outbox(client, tables))
    return Services(
        max_body_bytes=settings.body_limit,
        account_id=settings.account,
        profiles=profiles,
        memberships=membership_service(client, tables),
        eraser=customer_eraser(profiles, holders),
        exporter=customer_exporter(profiles, holders),
        idempotency=answers,
        rule_engine=functools.cache(functools.partial(_rule_engine, client, _engine_tables(tables))),
        coupons=CouponInventory(DynamoHoldings(client, tables.ledgers), LiveCampaigns(client, tables)),
        referrals=ReferralInventory(DynamoReferralPartition(client, tables.ledgers)),
        loyalty=functools.cache(functools.partial(_loyalty, client, tables)),
    )


def _loyalty(client: Any, tables: Tables) -> LoyaltyInventory:
    """Built at the first `loyalty=true` (its ruleset compiler stays out of the cold start)."""
    from patron.loyalty.inventory import LoyaltyInventory
    from patron.promotions.store import LiveRulesets

    return LoyaltyInventory(client, tables, LiveRulesets(client, tables), SystemClock())


class RuleEngine(msgspec.Struct, frozen=True):
    events: EventService
    rulesets: LiveRulesets


def _engine_tables(tables: Tables) -> Tables:
    """The tables the rule engine uses, each read now: a missing one fails the first call, not the first
    runRuleEngine=true call."""
    return Tables(
        config_table_name=tables.config,
        profiles_table_name=tables.profiles,
        orders_table_name=tables.orders,
        ledgers_table_name=tables.ledgers,
        outbox_table_name=tables.outbox,
        outbox_ttl_seconds=tables.outbox_ttl,
        event_retention_days=tables.event_retention,
    )


def _rule_engine(client: Any, tables: Tables) -> RuleEngine:
    # The engine (rule compiler, evaluator) is imported at the first runRuleEngine=true call only: the profile
    # calls that do not ask for it, most of them, keep this function's cold start.
    from patron.events.service import EventService
    from patron.promotions.store import LiveRulesets
    from patron.sessions.store import SessionStore

    rulesets = LiveRulesets(client, tables)
    # Built-in profile events are not stored (docs/events.md): the retention is the events context's all the same.
    events = EventService(SessionStore(client, tables), rulesets, SystemClock(), tables.event_retention)
    return RuleEngine(events, rulesets)


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)

_RULE_ENGINE_CONTENT = {"triggeredCampaigns", "loyalty", "event", "awardedGiveaways", "ruleFailureReasons"}
_NOT_YET_CONTENT = {"awardedGiveaways"}  # giveaways are not built
_INVENTORY_PARTS = ("giveaways", "achievements")  # not available yet: refused


_profile_subject = subjects.path("integrationId")


def _rule_engine_required(path: str) -> ValidationError:
    message = "Allowed only with runRuleEngine=true."
    return ValidationError("The request is invalid.", [FieldIssue(path, "rule_engine_required", message)])


@api.route(
    "PUT",
    "/v2/customer_profiles/{integrationId}",
    body=talon.CustomerProfileIntegrationRequestV2,
    answers=TrackEventV2Response,
    idempotent=True,
    subjects=_profile_subject,
    dry=True,
)
def update_customer_profile_v2(
    request: Request, body: talon.CustomerProfileIntegrationRequestV2
) -> TrackEventV2Response:
    """Creates or updates the profile; with runRuleEngine=true, campaigns then evaluate Talon.One's built-in
    `talon_profile_created` or `talon_profile_updated` event with the profile as updated, and their effects are
    answered (and applied, unless dry: budgets, attribute updates, webhooks)."""
    run = bool(request.query_bool("runRuleEngine"))
    dry = bool(request.query_bool("dry"))
    content: set[str] = set(body.response_content or [])
    if not run and body.evaluable_campaign_ids is not None:
        raise _rule_engine_required("evaluableCampaignIds")
    if not run and content & _RULE_ENGINE_CONTENT:
        raise _rule_engine_required("responseContent")
    only = frozenset(body.evaluable_campaign_ids) if body.evaluable_campaign_ids is not None else None
    check_dry_only(dry, None, only, "evaluableCampaignIds")
    if content & _NOT_YET_CONTENT:
        part = sorted(content & _NOT_YET_CONTENT)[0]
        raise UnsupportedFeatureError(f"`{part}` is not available yet.", f"{part}_unavailable", "responseContent")
    application_id, integration_id = request.caller.application_id, request.path_params["integrationId"]
    changes = body.audiences_changes or talon.AudiencesChanges()
    if changes.adds or changes.deletes:
        # Checked before the profile is written: an unknown audience is a 404 with nothing changed.
        services().memberships.check_profile_changes(application_id, changes.adds, changes.deletes)
    profile = services().profiles.update(application_id, integration_id, body.attributes or {}, dry=dry)
    if changes.adds or changes.deletes:
        profile = _with_memberships(application_id, profile, changes, dry)
    account_id = services().account_id
    if not run:
        return TrackEventV2Response(
            effects=[],
            created_coupons=[],
            created_referrals=[],
            customer_profile=(
                talon.profile_response(profile, account_id, _memberships(profile))
                if "customerProfile" in content
                else UNSET
            ),
        )
    engine = services().rule_engine()
    kind = PROFILE_CREATED if profile.version <= 1 else PROFILE_UPDATED
    event = TrackedEvent(kind, integration_id, {})
    outcome = engine.events.track(application_id, event, dry=dry, only=only, seen_as=profile)
    ruleset = outcome.ruleset
    published = engine.rulesets.published(application_id, ruleset.version) if ruleset is not None else None
    now = SystemClock().now()
    return track_response(outcome, content, application_id, account_id, published, now)


def _with_memberships(
    application_id: int, profile: CustomerProfile, changes: talon.AudiencesChanges, dry: bool
) -> CustomerProfile:
    """The profile after its audiencesChanges (joins, then leaves), written unless dry; rules then see them."""
    if not dry:
        services().memberships.change_profile(application_id, profile.integration_id, changes.adds, changes.deletes)
    audiences = dict(profile.audiences)
    audiences.update(dict.fromkeys(changes.adds, 0))  # the generation is the repository's business; any value reads
    for audience_id in changes.deletes:
        audiences.pop(audience_id, None)
    return msgspec.structs.replace(profile, audiences=audiences)


def _memberships(profile: CustomerProfile) -> list[dict[str, Any]]:
    """The profile's live audiences, as Talon.One's AudienceMembership."""
    found = services().memberships.memberships(profile.application_id, profile.audiences)
    return [{"id": one.audience_id, "name": one.name} for one in sorted(found, key=lambda one: one.audience_id)]


@api.route(
    "PUT",
    "/v2/customer_profiles",
    body=talon.MultipleCustomerProfileIntegrationRequest,
    answers={200: talon.MultipleCustomerProfileIntegrationResponseV2, 204: None},
    idempotent=True,
    subjects=subjects.body_list_field("customerProfiles", "integrationId"),
)
def update_customer_profiles_v2(request: Request, body: talon.MultipleCustomerProfileIntegrationRequest) -> Answer:
    """Updates up to 1,000 profiles at once (`?silent=no` answers each profile, in order; 204 otherwise)."""
    silent = request.query_choice("silent", ("yes", "no"), default="yes")
    items = [(item.integration_id, item.attributes or {}) for item in body.customer_profiles]
    profiles = services().profiles.update_many(request.caller.application_id, items)
    if silent == "yes":
        return Response(status=204)
    return talon.bulk_update_response(profiles, services().account_id)


@api.route(
    "DELETE", "/v1/customer_data/{integrationId}", answers={204: None}, idempotent=True, subjects=_profile_subject
)
def delete_customer_data(request: Request) -> Response:
    """Erases the person: profile, identifiers, orders (or, with ?anonymise=true, their orders kept under a
    tombstone id with no personal data, so application-wide figures stand) and stored idempotent responses."""
    anonymise = bool(request.query_bool("anonymise"))
    services().eraser.erase(request.caller.application_id, request.path_params["integrationId"], anonymise)
    return Response(status=204)


@api.route("GET", "/v1/customer_data/{integrationId}", answers=customers.CustomerDataResponse)
def export_customer_data(request: Request) -> customers.CustomerDataResponse:
    """Everything Patron holds about the person, as one document (GDPR Art. 15): profile, identifiers,
    consents, attributes, statistics, orders; later contexts add their sections through the lifecycle port."""
    document = services().exporter.export(request.caller.application_id, request.path_params["integrationId"])
    return customers.customer_data_export(document)


@api.route("GET", "/v1/customer_profiles/{integrationId}/inventory", answers=talon.CustomerInventory)
def get_customer_inventory(request: Request) -> talon.CustomerInventory:
    """The profile (`profile=true`), its referral codes as advocate with the friends each referred
    (`referrals=true`, docs/data-model.md, "A person's referrals"), and the coupons it reserved or that are made out
    to it (`coupons=true`), each with the profile's redemptions of it and its state ("A person's coupons")."""
    for part in _INVENTORY_PARTS:
        if request.query_bool(part):
            raise UnsupportedFeatureError(
                f"The {part} inventory is not available yet.", f"{part}_unavailable", f"query.{part}"
            )
    include_profile = bool(request.query_bool("profile"))
    application_id, integration_id = request.caller.application_id, request.path_params["integrationId"]
    profile = services().profiles.get(application_id, integration_id)
    coupons = services().coupons.coupons(application_id, integration_id) if request.query_bool("coupons") else None
    wanted = request.query_bool("referrals")
    referrals = services().referrals.referrals(application_id, integration_id) if wanted else None
    loyalty = services().loyalty().loyalty(application_id, integration_id) if request.query_bool("loyalty") else None
    memberships = _memberships(profile) if include_profile else None
    return talon.inventory_response(
        profile, services().account_id, include_profile, coupons, referrals, loyalty, memberships
    )


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
