"""Talon.One's rule-engine routes: customer sessions (update: evaluate campaigns, close, cancel; read, reopen,
returns), tracked events, coupon reservations, referral codes created for advocates, and loyalty balances."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from patron.clock import SystemClock
from patron.coupons import view as coupon_wire
from patron.coupons.reservations import ReservationService
from patron.dynamo.client import dynamodb_client
from patron.errors import FieldIssue, PatronError, ValidationError
from patron.events import wire as events_wire
from patron.events.model import EventOutcome, TrackedEvent, check_custom_type, check_dry_only, check_profile_id
from patron.events.service import EventService
from patron.expertsender import documented as expertsender_wire
from patron.expertsender.customers import Done
from patron.expertsender.events import ExpertSenderEvents
from patron.expertsender.problems import problem_response
from patron.http import jsonbody, subjects
from patron.http.api import Request, Response, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.loyalty import history
from patron.loyalty import items as loyalty_items
from patron.loyalty.activation import PointsActivation
from patron.loyalty.card_service import LoyaltyCards
from patron.loyalty.cards import card_id_number, card_view, identifier_of
from patron.loyalty.service import LoyaltyService, loyalty_view, program_id_of
from patron.loyalty.wire import (
    ActivatePointsRequest,
    ActivatePointsResponse,
    BalancesView,
    CardBalancesView,
    CardTransactionsPage,
    ExpirationsView,
    GenerateCardRequest,
    LedgerEntryView,
    LinkCardRequest,
    LoyaltyCardView,
    PointsPage,
    TransactionsPage,
)
from patron.observability import api_handler
from patron.orders.repository import DynamoOrderRepository
from patron.profiles import talon as profile_wire
from patron.profiles.model import new_profile_id, value_issues
from patron.promotions.store import LiveRulesets
from patron.promotions.talon import Campaign, triggered_campaigns
from patron.referrals import wire as referral_wire
from patron.sessions import wire
from patron.sessions.service import Outcome, ReturnedUnits, SessionService
from patron.sessions.store import SessionStore
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot

if TYPE_CHECKING:
    from patron.referrals.service import ReferralService


class Services(msgspec.Struct, frozen=True):
    max_body_bytes: int
    account_id: int
    sessions: SessionService
    events: EventService
    rulesets: LiveRulesets
    idempotency: IdempotencyStore
    reservations: ReservationService
    # Built at the first referral creation (rare next to sessions): its code generator stays out of the cold start.
    referrals: Callable[[], ReferralService]
    loyalty: LoyaltyService
    activation: PointsActivation
    cards: LoyaltyCards
    scenario_events: Callable[[], ExpertSenderEvents]


def compose(environ: Mapping[str, str]) -> Services:
    """Sessions and events read and write the session, its profile, the live ruleset, budget counters and the
    outbox (webhooks)."""
    client, tables, settings = dynamodb_client(), Tables.from_environ(environ), Api.from_environ(environ)
    store = SessionStore(client, tables)
    rulesets = LiveRulesets(client, tables)
    # Only when a cancelled or reopened session's order held the customer's first or last order date.
    extremes = DynamoOrderRepository(client, tables.orders, tables.profiles).counted_extremes
    events = EventService(store, rulesets, SystemClock(), tables.event_retention)
    return Services(
        max_body_bytes=settings.body_limit,
        account_id=settings.account,
        sessions=SessionService(store, rulesets, SystemClock(), extremes),
        events=events,
        rulesets=rulesets,
        idempotency=idempotency_store(client, tables),
        reservations=ReservationService(client, tables.ledgers, tables.profiles, SystemClock()),
        referrals=_referrals(client, tables.config, tables.ledgers, rulesets),
        loyalty=LoyaltyService(client, tables, rulesets, SystemClock()),
        activation=PointsActivation(client, tables, rulesets, SystemClock()),
        cards=LoyaltyCards(client, tables, rulesets, SystemClock()),
        scenario_events=_scenario_events(client, tables, rulesets, events),
    )


def _scenario_events(
    client: Any, tables: Tables, rulesets: LiveRulesets, events: EventService
) -> Callable[[], ExpertSenderEvents]:
    """ExpertSender's custom events, built on first use: the event engine this function runs, and the profiles
    that resolve a customer by identifier (a new one is a guest holding them)."""
    built: list[ExpertSenderEvents] = []

    def service() -> ExpertSenderEvents:
        if not built:
            from patron.events.wiring import custom_event_service
            from patron.profiles.repository import DynamoProfileRepository
            from patron.profiles.service import ProfileService

            profiles = ProfileService(DynamoProfileRepository(client, tables.profiles))
            recorder = custom_event_service(client, tables, rulesets, SystemClock(), events)
            built.append(ExpertSenderEvents(recorder, profiles))
        return built[0]

    return service


def _referrals(client: Any, config: str, ledgers: str, rulesets: LiveRulesets) -> Callable[[], ReferralService]:
    built: list[ReferralService] = []

    def service() -> ReferralService:
        if not built:
            from patron.referrals.wiring import referral_service

            built.append(referral_service(client, config, ledgers, rulesets))
        return built[0]

    return service


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)


_session_subject = subjects.path("customerSessionId")


def _now(request: Request) -> datetime | None:
    raw = request.query.get("now")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        message = "An RFC 3339 date-time with an offset, e.g. 2026-12-03T10:00:00Z."
        raise ValidationError("The request is invalid.", [FieldIssue("query.now", "invalid_value", message)])
    return moment


def _state(outcome: Outcome, content: set[str], application_id: int) -> wire.IntegrationStateV2:
    created = [coupon_wire.coupon_view(coupon) for coupon in outcome.created_coupons]
    referred = [referral_wire.referral_view(referral) for referral in outcome.created_referrals]
    state = wire.IntegrationStateV2(effects=outcome.effects, created_coupons=created, created_referrals=referred)
    if "customerSession" in content:
        state.customer_session = wire.session_out(outcome.stored.session, application_id)
    if "customerProfile" in content and outcome.profile is not None:
        state.customer_profile = profile_wire.profile_response(outcome.profile, services().account_id)
    if "ruleFailureReasons" in content:
        state.rule_failure_reasons = outcome.failures
    if "coupons" in content:
        state.coupons = [coupon_wire.coupon_view(coupon) for coupon in outcome.coupons]
    if "referral" in content and outcome.referral is not None:
        state.referral = referral_wire.referral_view(outcome.referral)
    if "loyalty" in content:
        state.loyalty = loyalty_view(outcome.loyalty(), datetime.now(UTC), application_id)
    if "triggeredCampaigns" in content:
        state.triggered_campaigns = _triggered(application_id, outcome.stored.ruleset_version, outcome.triggered)
    if "event" in content:
        session = outcome.stored.session
        state.event = events_wire.Event(
            id=new_profile_id(),
            created=session.updated,
            application_id=application_id,
            type=outcome.event_type,
            attributes={},
            effects=outcome.effects,
            profile_id=session.profile_id or msgspec.UNSET,
            store_integration_id=session.store_integration_id or msgspec.UNSET,
            session_id=session.integration_id,
        )
    if outcome.returned is not None:
        state.return_ = _return(outcome.returned, outcome, application_id)
    if "previousReturns" in content:
        earlier = [record for record in outcome.stored.returns if record is not outcome.returned]
        state.previous_returns = [_return(record, outcome, application_id) for record in earlier]
    if outcome.eligibility is not None:
        state.campaign_eligibility = [
            wire.CampaignEligibility(e.campaign_id, e.campaign_name, e.evaluation_group, e.eligible, e.status)
            for e in outcome.eligibility
        ]
    return state


def _return(record: dict[str, Any], outcome: Outcome, application_id: int) -> wire.Return:
    return wire.return_out(record, outcome.stored.session, application_id, services().account_id)


def _triggered(application_id: int, version: int | None, ids: list[int]) -> list[Campaign]:
    if version is None or not ids:
        return []
    rulesets = services().rulesets
    ruleset = rulesets.compiled(application_id, version)
    published = rulesets.published(application_id, version)
    return triggered_campaigns(ruleset, ids, application_id, published, SystemClock().now())


@api.route(
    "PUT",
    "/v2/customer_sessions/{customerSessionId}",
    body=wire.IntegrationRequest,
    answers=wire.IntegrationStateV2,
    idempotent=True,
    subjects=_session_subject,
    dry=True,
)
def update_customer_session(request: Request, body: wire.IntegrationRequest) -> wire.IntegrationStateV2:
    dry = bool(request.query_bool("dry"))
    at = _now(request)
    sent = body.customer_session
    only = None if sent.evaluable_campaign_ids is msgspec.UNSET else frozenset(sent.evaluable_campaign_ids)
    content: set[str] = set(body.response_content or ())
    explain = "campaignEligibility" in content
    if explain and not dry:
        message = "campaignEligibility is answered to dry requests only."
        raise ValidationError("The request is invalid.", [FieldIssue("responseContent", "dry_only", message)])
    check_dry_only(dry, at, only)
    unstorable = wire.storage_issues(sent)
    if unstorable:
        raise ValidationError("The customer session is invalid.", unstorable)
    application_id = request.caller.application_id
    outcome = services().sessions.update(
        application_id,
        request.path_params["customerSessionId"],
        wire.change_of(sent),
        dry=dry,
        at=at,
        only=only,
        explain=explain,
    )
    return _state(outcome, content, application_id)


@api.route("GET", "/v2/customer_sessions/{customerSessionId}", answers=wire.IntegrationCustomerSessionResponse)
def get_customer_session(request: Request) -> wire.IntegrationCustomerSessionResponse:
    application_id = request.caller.application_id
    stored = services().sessions.get(application_id, request.path_params["customerSessionId"])
    return wire.IntegrationCustomerSessionResponse(
        customer_session=wire.session_out(stored.session, application_id), effects=stored.effects
    )


@api.route(
    "PUT",
    "/v2/customer_sessions/{customerSessionId}/reopen",
    answers=wire.ReopenSessionResponse,
    idempotent=True,
    subjects=_session_subject,
)
def reopen_customer_session(request: Request) -> wire.ReopenSessionResponse:
    outcome = services().sessions.reopen(request.caller.application_id, request.path_params["customerSessionId"])
    return wire.ReopenSessionResponse(effects=outcome.effects)


@api.route(
    "POST",
    "/v2/customer_sessions/{customerSessionId}/returns",
    body=wire.ReturnIntegrationRequest,
    answers=wire.IntegrationStateV2,
    idempotent=True,
    subjects=_session_subject,
)
def return_cart_items(request: Request, body: wire.ReturnIntegrationRequest) -> wire.IntegrationStateV2:
    """Units of a closed session's cart come back: per-item discounts on them roll back (Idempotency-Key makes a
    retried return safe; without it, each call returns more units)."""
    application_id = request.caller.application_id
    returned = [ReturnedUnits(item.position, item.quantity) for item in body.return_.returned_cart_items]
    outcome = services().sessions.return_items(application_id, request.path_params["customerSessionId"], returned)
    return _state(outcome, set(body.response_content or ()), application_id)


class CouponReservations(msgspec.Struct, forbid_unknown_fields=True):
    """Talon.One's `CouponReservations`."""

    integration_ids: list[str] = msgspec.field(name="integrationIDs")


class ReservedCustomers(msgspec.Struct, rename="camel"):
    """Talon.One's answer of `GetReservedCustomers`."""

    total_result_size: int
    data: list[profile_wire.CustomerProfile]


@api.route(
    "POST",
    "/v1/coupon_reservations/{couponValue}",
    body=CouponReservations,
    answers={201: coupon_wire.CouponView},
    idempotent=True,
)
def create_coupon_reservation(request: Request, body: CouponReservations) -> Response:
    """The coupon reserved for each profile named (a profile that holds it already: no change). Refused whole
    (400) when it would pass the coupon's reservation limit, or the coupon is personal or expired; 404 without it."""
    reserved = services().reservations.reserve(
        request.caller.application_id, request.path_params["couponValue"], body.integration_ids
    )
    return Response(201, coupon_wire.coupon_view(reserved.coupon))


@api.route("DELETE", "/v1/coupon_reservations/{couponValue}", body=CouponReservations, answers={204: None})
def delete_coupon_reservation(request: Request, body: CouponReservations) -> Response:
    services().reservations.release(
        request.caller.application_id, request.path_params["couponValue"], body.integration_ids
    )
    return Response(status=204)


@api.route("GET", "/v1/coupon_reservations/customerprofiles/{couponValue}", answers=ReservedCustomers)
def get_reserved_customers(request: Request) -> ReservedCustomers:
    application_id = request.caller.application_id
    profiles = services().reservations.reserved_profiles(application_id, request.path_params["couponValue"])
    data = [profile_wire.profile_response(profile, services().account_id) for profile in profiles]
    return ReservedCustomers(total_result_size=len(data), data=data)


def _referral_people(request: Request, answer: Any) -> list[str]:
    """Whom a stored referral answer names: the advocates and the friend (erasing one erases the answer)."""
    body = subjects.body_field("advocateProfileIntegrationId")(request, answer)
    friend = subjects.body_field("friendProfileIntegrationId")(request, answer)
    try:
        listed = request.json().get("advocateProfileIntegrationIds") if isinstance(request.json(), dict) else None
    except PatronError:
        listed = None
    many = [value for value in listed if isinstance(value, str) and value] if isinstance(listed, list) else []
    return body + friend + many


@api.route(
    "POST",
    "/v1/referrals",
    body=referral_wire.NewReferralRequest,
    answers={201: referral_wire.ReferralView},
    idempotent=True,
    subjects=_referral_people,
)
def create_referral(request: Request, body: referral_wire.NewReferralRequest) -> Response:
    """A referral code for the advocate in a campaign of the live ruleset with the referrals feature (generated:
    eight characters of [A-Z0-9], upper-cased as the application's codes are); `friendProfileIntegrationId`: only
    that profile may use it. Neither profile need exist."""
    referral = (
        services()
        .referrals()
        .create_referral(
            request.caller.application_id,
            body.campaign_id,
            body.advocate_profile_integration_id,
            body.friend_profile_integration_id,
            body.terms(),
        )
    )
    return Response(201, referral_wire.referral_view(referral))


@api.route(
    "POST",
    "/v1/referrals_for_multiple_advocates",
    body=referral_wire.NewReferralsForMultipleAdvocatesRequest,
    answers={201: referral_wire.ReferralsCreatedResponse, 204: None},
    idempotent=True,
    subjects=_referral_people,
)
def create_referrals_for_multiple_advocates(
    request: Request, body: referral_wire.NewReferralsForMultipleAdvocatesRequest
) -> Response:
    """One code per advocate (1 to 1,000, each listed once), from `validCharacters` and `referralPattern`, all
    under one `batchId`; all or nothing (docs/referrals.md). `silent=yes` (the default) answers 204; `no`, 201 with
    the referrals."""
    silent = request.query_choice("silent", ("yes", "no"), default="yes")
    referrals = (
        services()
        .referrals()
        .create_for_advocates(
            request.caller.application_id,
            body.campaign_id,
            body.advocate_profile_integration_ids,
            body.terms(),
            body.valid_characters,
            body.referral_pattern,
        )
    )
    if silent == "yes":
        return Response(status=204)
    return Response(201, referral_wire.created_response(referrals))


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)


@api.route(
    "POST",
    "/scenariocustomevents",
    answers={201: Done},
    documents=expertsender_wire.EcdpScenarioCustomEvent,
    errors=problem_response,
)
def post_scenario_custom_event(request: Request) -> Response:
    """ExpertSender's custom event (docs/expertsender.md): recorded by its definition's id as a tracked event is
    (stored, counted, campaigns evaluated), in ECDP's envelope; this function runs the event engine."""
    services().scenario_events().post(request.caller.application_id, jsonbody.loads(request.body))
    return Response(201, Done())


@api.route(
    "POST",
    "/v2/events",
    body=events_wire.IntegrationEventV2Request,
    answers=events_wire.TrackEventV2Response,
    idempotent=True,
    subjects=subjects.body_field("profileId"),
    dry=True,
)
def track_event_v2(request: Request, body: events_wire.IntegrationEventV2Request) -> events_wire.TrackEventV2Response:
    """A custom event: campaigns evaluate it with the profile and apply at once (budgets, profile attributes,
    webhooks). Always 200 with the effects (a 204 would lose them); `silent=no` adds the profile, as Talon.One's
    "updated customer profile"."""
    silent = request.query_choice("silent", ("yes", "no"), default="yes")
    dry = bool(request.query_bool("dry"))
    only = frozenset(body.evaluable_campaign_ids) if body.evaluable_campaign_ids is not None else None
    check_dry_only(dry, None, only, "evaluableCampaignIds")
    check_custom_type(body.type)
    check_profile_id(body.profile_id)
    # Rules may copy the event's values into what is stored (profile attributes, webhook payloads).
    unstorable = value_issues(body.attributes or {}, "attributes")
    if unstorable:
        raise ValidationError("The event is invalid.", unstorable)
    application_id = request.caller.application_id
    card = body.loyalty_cards[0] if body.loyalty_cards else None
    event = TrackedEvent(body.type, body.profile_id or None, body.attributes or {}, body.store_integration_id, card)
    outcome = services().events.track(application_id, event, dry=dry, only=only)
    content: set[str] = set(body.response_content or ())
    if silent == "no":
        content.add("customerProfile")
    return _track_response(outcome, content, application_id)


def _track_response(outcome: EventOutcome, content: set[str], application_id: int) -> events_wire.TrackEventV2Response:
    ruleset = outcome.ruleset
    published = services().rulesets.published(application_id, ruleset.version) if ruleset is not None else None
    now = SystemClock().now()
    return events_wire.track_response(outcome, content, application_id, services().account_id, published, now)


@api.route("GET", "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/balances", answers=BalancesView)
def get_loyalty_balances(request: Request) -> BalancesView:
    """The member's balances now, or at `endDate` (a future instant projects what starts and expires by then);
    `subledgerId`: that subledger's only; `includeTiers`: the current tier and the points to the next."""
    program_id = _program_id(request)
    return services().loyalty.balances(
        request.caller.application_id,
        program_id,
        request.path_params["integrationId"],
        end_date=request.query_instant("endDate"),
        subledger=request.query.get("subledgerId"),
        include_tiers=bool(request.query_bool("includeTiers")),
        include_projected_tier=bool(request.query_bool("includeProjectedTier")),
    )


_MEMBER = "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}"


@api.route("GET", f"{_MEMBER}/points", answers=PointsPage)
def get_loyalty_points(request: Request) -> PointsPage:
    """What is left of each addition of points: `status` active (the default), pending or expired; `subledgerId`:
    that subledger's only; paged by `pageSize` (1 to 50) and `skip`."""
    return _points(request, request.path_params["integrationId"])


def _points(request: Request, holder: loyalty_items.Holder) -> PointsPage:
    program_id = _program_id(request)
    status = history.PointsStatus(request.query_choice("status", tuple(history.PointsStatus), default="active"))
    return services().loyalty.points(
        request.caller.application_id,
        program_id,
        holder,
        status=status,
        subledger=request.query.get("subledgerId"),
        page_size=request.query_int("pageSize", default=history.MAX_PAGE, minimum=1, maximum=history.MAX_PAGE),
        skip=_skip(request),
        chosen=_chosen(request),
        sort=request.query_choice("sort", history.POINTS_SORTS, default="") or None,
    )


def _chosen(request: Request) -> history.Chosen:
    """`customerSessionIDs` and `transactionUUIDs`, each repeated for several (Talon.One's); at most 100 each."""
    picked: dict[str, frozenset[str] | None] = {}
    for name in ("customerSessionIDs", "transactionUUIDs"):
        values = request.query_list(name)
        if len(values) > history.MAX_CHOSEN:
            message = f"At most {history.MAX_CHOSEN} values of {name}."
            raise ValidationError(message, [FieldIssue(f"query.{name}", "too_many_values", message)])
        picked[name] = frozenset(values) if values else None
    return history.Chosen(picked["customerSessionIDs"], picked["transactionUUIDs"])


@api.route("GET", f"{_MEMBER}/transactions", answers=TransactionsPage)
def get_loyalty_transactions(request: Request) -> TransactionsPage:
    """The member's ledger entries, newest first: `subledgerId`, `loyaltyTransactionType` (manual, session,
    import), created from `startDate` to `endDate`; paged by `pageSize` (1 to 50) and `skip`."""
    return services().loyalty.transactions(
        request.caller.application_id, _program_id(request), request.path_params["integrationId"], **_filters(request)
    )


def _filters(request: Request) -> dict[str, Any]:
    """The transactions routes' filters and page (a profile's and a card's)."""
    awaiting = request.query_bool("awaitsActivation")
    if awaiting is False:  # Talon.One's: only `true` filters; `false` is refused
        message = "awaitsActivation filters with true only; leave it out for every transaction."
        raise ValidationError(message, [FieldIssue("query.awaitsActivation", "invalid_value", message)])
    kind = request.query_choice("loyaltyTransactionType", history.TRANSACTION_TYPES, default="") or None
    start, end = request.query_instant("startDate"), request.query_instant("endDate")
    if start is not None and end is not None and end < start:
        message = "endDate is before startDate."
        raise ValidationError(message, [FieldIssue("query.endDate", "invalid_value", message)])
    return {
        "subledger": request.query.get("subledgerId"),
        "kind": kind,
        "start": start,
        "end": end,
        "page_size": request.query_int("pageSize", default=history.MAX_PAGE, minimum=1, maximum=history.MAX_PAGE),
        "skip": _skip(request),
        "chosen": _chosen(request),
        "awaiting": bool(awaiting),
    }


@api.route("GET", f"{_MEMBER}/expirations", answers=ExpirationsView)
def get_loyalty_expirations(request: Request) -> ExpirationsView:
    """Every upcoming expiry of the member's points, soonest first (Patron's: Talon.One answers only the next);
    `subledgerId`: that subledger's only."""
    program_id = _program_id(request)
    return services().loyalty.expirations(
        request.caller.application_id,
        program_id,
        request.path_params["integrationId"],
        subledger=request.query.get("subledgerId"),
    )


# -- cards (card-based programs) -----------------------------------------------------------------------------------

_CARDS = "/v1/loyalty_programs/{loyaltyProgramId}/cards"
_CARD = _CARDS + "/{loyaltyCardId}"


@api.route("POST", _CARDS, body=GenerateCardRequest, answers=LoyaltyCardView)
def generate_loyalty_card(request: Request, body: GenerateCardRequest) -> LoyaltyCardView:
    """A new card of a card-based program (its identifier given, or generated), linked to the profiles named, up
    to the program's users per card."""
    application_id = request.caller.application_id
    card, program = services().cards.generate(
        application_id, _program_id(request), body.status, body.customer_profile_ids, body.card_identifier
    )
    return card_view(application_id, card, program)


@api.route(
    "POST", "/v2/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/link_profile",
    body=LinkCardRequest, answers=LoyaltyCardView,
)  # fmt: skip
def link_loyalty_card_to_profile(request: Request, body: LinkCardRequest) -> LoyaltyCardView:
    """A profile linked to the card (once), up to the card's users-per-card limit; an inactive card takes none."""
    application_id = request.caller.application_id
    card, program = services().cards.link(application_id, _program_id(request), _card_id(request), body.integration_id)
    return card_view(application_id, card, program)


@api.route("GET", f"{_CARD}/balances", answers=CardBalancesView)
def get_loyalty_card_balances(request: Request) -> CardBalancesView:
    """The card's balances now, or at `endDate`; `subledgerId`: that subledger's only; with the linked profiles."""
    return services().loyalty.card_balances(
        request.caller.application_id,
        _program_id(request),
        _card_id(request),
        end_date=request.query_instant("endDate"),
        subledger=request.query.get("subledgerId"),
    )


@api.route("GET", f"{_CARD}/points", answers=PointsPage)
def get_loyalty_card_points(request: Request) -> PointsPage:
    """What is left of each addition of points to the card, as a profile's `points`."""
    return _points(request, loyalty_items.Card(_card_id(request)))


@api.route("GET", f"{_CARD}/transactions", answers=CardTransactionsPage)
def get_loyalty_card_transactions(request: Request) -> CardTransactionsPage:
    """The card's ledger entries, newest first, as a profile's `transactions`."""
    return services().loyalty.card_transactions(
        request.caller.application_id, _program_id(request), _card_id(request), **_filters(request)
    )


def _card_id(request: Request) -> str:
    return identifier_of(request.path_params["loyaltyCardId"])


def _card_number(request: Request, holder: loyalty_items.Holder) -> int | None:
    if isinstance(holder, str):
        return None
    return card_id_number(request.caller.application_id, _program_id(request), holder.identifier)


def _skip(request: Request) -> int:
    # A member's listing holds at most history.MAX_ENTRIES items: any skip beyond answers an empty page.
    return request.query_int("skip", default=0, minimum=0, maximum=10**9)


def _program_id(request: Request) -> int:
    return program_id_of(request.path_params["loyaltyProgramId"])


@api.route(
    "POST",
    "/v1/loyalty_programs/{loyaltyProgramId}/activate_points",
    body=ActivatePointsRequest,
    answers=ActivatePointsResponse,
)
def activate_loyalty_points(request: Request, body: ActivatePointsRequest) -> ActivatePointsResponse:
    """Points awaiting an action made active now: a session's, or the transactions named; each member's in one
    transaction. Answers the entries activated (none when they were active already)."""
    activated = services().activation.activate(
        request.caller.application_id, _program_id(request), body.session_id, body.transaction_uuids or []
    )
    program_id = _program_id(request)
    return ActivatePointsResponse(
        ledger_entries=[
            LedgerEntryView(
                created=one.entry.created.isoformat(),
                program_id=program_id,
                customer_profile_id=one.integration_id if isinstance(one.integration_id, str) else None,
                card_id=_card_number(request, one.integration_id),
                type="addition",
                amount=one.entry.amount,
                name="Activated",
                sub_ledger_id=one.entry.subledger,
                start_date=one.entry.starts.isoformat() if one.entry.starts else None,
                expiry_date=one.entry.expires.isoformat() if one.entry.expires else None,
            )
            for one in activated
        ]
    )
