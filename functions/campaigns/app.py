"""The management API: an application's campaigns as published ruleset versions (plan, simulate, publish, history,
show, roll back), their coupons (create, import, show, list a batch), and loyalty points changed by hand (add,
deduct, transfer). Only a `management` key reaches these routes
(the authorizer refuses every other scope, and the routes check again)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.applications.model import Scope
from patron.clock import SystemClock
from patron.coupons import csvimport
from patron.coupons import wire as coupon_wire
from patron.coupons.service import CouponService
from patron.coupons.wiring import coupon_service
from patron.dynamo.client import dynamodb_client
from patron.errors import ForbiddenError
from patron.http.api import Request, Response, RestApi
from patron.loyalty import items as loyalty_items
from patron.loyalty import wire as loyalty_wire
from patron.loyalty.card_service import LoyaltyCards
from patron.loyalty.cards import card_view, identifier_of
from patron.loyalty.manual import Done, LoyaltyDesk, ManualChange
from patron.loyalty.service import program_id_of
from patron.observability import api_handler
from patron.promotions import wire
from patron.promotions.management import UNSET, BasedOn, RulesetService
from patron.promotions.simulation import SimulationService
from patron.promotions.store import LiveRulesets
from patron.promotions.wiring import ruleset_service, simulation_service
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_COUPON_PAGE = 100
MAX_COUPON_PAGE = 1000


class Services(msgspec.Struct, frozen=True):
    max_body_bytes: int
    rulesets: RulesetService
    simulations: SimulationService
    coupons: CouponService
    loyalty: LoyaltyDesk
    cards: LoyaltyCards


def compose(environ: Mapping[str, str]) -> Services:
    """Rulesets live in the config table (versions and the live pointer); simulations read the orders table's
    recent sessions and the profiles table too; coupons and their batches live in the ledgers table."""
    tables = Tables.from_environ(environ)
    client = dynamodb_client()
    return Services(
        Api.from_environ(environ).body_limit,
        ruleset_service(client, tables.config),
        simulation_service(client, tables),
        coupon_service(client, tables.config, tables.ledgers),
        LoyaltyDesk(client, tables, LiveRulesets(client, tables), SystemClock()),
        LoyaltyCards(client, tables, LiveRulesets(client, tables), SystemClock()),
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes)


def _management(request: Request) -> int:
    """The caller's application, once its key is known to be a management key (the authorizer checked it too)."""
    if request.caller.scope != Scope.MANAGEMENT.value:
        raise ForbiddenError()
    return request.caller.application_id


def _publisher(request: Request) -> str:
    return f"key:{request.caller.key_id}"


def _based_on(value: int | msgspec.UnsetType | None) -> BasedOn:
    return UNSET if isinstance(value, msgspec.UnsetType) else value


@api.route("POST", "/v1/management/rulesets/plan", body=wire.RulesetRequest, answers=wire.RulesetPlanResponse)
def plan_ruleset(request: Request, body: wire.RulesetRequest) -> wire.RulesetPlanResponse:
    """What publishing these definitions would change against the live version; nothing is written."""
    application_id = _management(request)
    return wire.plan_response(services().rulesets.plan(application_id, body.definitions()))


@api.route(
    "POST", "/v1/management/rulesets/simulate", body=wire.SimulateRulesetRequest, answers=wire.RulesetSimulationResponse
)
def simulate_ruleset(request: Request, body: wire.SimulateRulesetRequest) -> wire.RulesetSimulationResponse:
    """The application's `sessions` most recent sessions (default 100, at most 1,000) decided under the live
    version and under these definitions, each at its own last update; per campaign, the sessions where it triggers,
    those that change and the discount totals, before and after. Nothing is written."""
    application_id = _management(request)
    simulation = services().simulations.simulate(application_id, body.definitions(), body.sessions)
    return wire.simulation_response(simulation)


@api.route("POST", "/v1/management/rulesets", body=wire.PublishRulesetRequest, answers={201: wire.PublishedResponse})
def publish_ruleset(request: Request, body: wire.PublishRulesetRequest) -> Response:
    """A new version holding these definitions, live at once, if `basedOn` is still the live version (409
    `ruleset_changed` otherwise); definitions that do not compile are refused with every fault (400)."""
    application_id = _management(request)
    published = services().rulesets.publish(
        application_id,
        body.definitions(),
        based_on=_based_on(body.based_on),
        note=body.note,
        published_by=_publisher(request),
    )
    location = f"/v1/management/rulesets/{published.info.version}"
    return Response(201, wire.published_response(published), {"Location": location})


@api.route("GET", "/v1/management/rulesets", answers=wire.RulesetHistoryResponse)
def list_ruleset_versions(request: Request) -> wire.RulesetHistoryResponse:
    """Every published version, newest first, without definitions: `?limit=` (1-100), `?before=` (a version)."""
    application_id = _management(request)
    limit = request.query_int("limit", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    before = request.query_int("before", default=0, minimum=0, maximum=9_999_999_999) or None
    rulesets = services().rulesets
    versions = rulesets.history(application_id, limit, before)
    pointer = rulesets.live(application_id)
    last = versions[-1].version if len(versions) == limit and versions[-1].version > 1 else None
    return wire.RulesetHistoryResponse(
        live_version=pointer.version if pointer else None,
        versions=[wire.version_summary(info) for info in versions],
        next_before=last,
    )


@api.route("GET", "/v1/management/rulesets/live", answers=wire.RulesetVersionResponse)
def get_live_ruleset(request: Request) -> wire.RulesetVersionResponse:
    """The live version with its definitions (404 `no_live_ruleset` before the first publish)."""
    application_id = _management(request)
    stored = services().rulesets.live_version(application_id)
    return wire.version_response(stored, stored.info.version)


@api.route("GET", "/v1/management/rulesets/{version}", answers=wire.RulesetVersionResponse)
def get_ruleset_version(request: Request) -> wire.RulesetVersionResponse:
    application_id = _management(request)
    rulesets = services().rulesets
    stored = rulesets.version(application_id, wire.parse_version(request.path_params["version"]))
    pointer = rulesets.live(application_id)
    return wire.version_response(stored, pointer.version if pointer else None)


@api.route(
    "POST",
    "/v1/management/rulesets/{version}/rollback",
    body=wire.RollbackRequest,
    answers={201: wire.PublishedResponse},
)
def rollback_ruleset(request: Request, body: wire.RollbackRequest) -> Response:
    """Publishes a copy of an earlier version as a new version (the history only grows)."""
    application_id = _management(request)
    published = services().rulesets.rollback(
        application_id,
        wire.parse_version(request.path_params["version"]),
        based_on=_based_on(body.based_on),
        note=body.note,
        published_by=_publisher(request),
    )
    location = f"/v1/management/rulesets/{published.info.version}"
    return Response(201, wire.published_response(published), {"Location": location})


@api.route(
    "POST",
    "/v1/management/campaigns/{campaignId}/coupons",
    body=coupon_wire.CreateCouponsRequest,
    answers={201: coupon_wire.CouponsCreatedResponse},
)
def create_coupons(request: Request, body: coupon_wire.CreateCouponsRequest) -> Response:
    """One coupon with a given code (`value`), or `numberOfCoupons` generated codes (at most 10,000; `patron coupons
    create` for more), for a campaign of the live ruleset with the coupons feature. A given code that exists is
    `409 coupon_exists`; a generated one is replaced by another."""
    application_id = _management(request)
    campaign_id = coupon_wire.parse_campaign_id(request.path_params["campaignId"])
    coupons = services().coupons
    terms = body.terms()
    code = body.fixed()
    if code is not None:
        coupon = coupons.create_coupon(application_id, campaign_id, code, terms)
        created = coupon_wire.CouponsCreatedResponse(total_result_size=1, data=[coupon_wire.coupon_view(coupon)])
        return Response(201, created)
    creation = coupons.create_batch(application_id, campaign_id, body.settings(), body.count(), terms)
    return Response(201, coupon_wire.created_response(creation))


@api.route(
    "POST",
    "/v1/management/campaigns/{campaignId}/coupons/import",
    answers={201: coupon_wire.CouponsCreatedResponse},
    check_body_text=False,
)
def import_coupons(request: Request) -> Response:
    """Coupons from a CSV body (`text/csv`, UTF-8; at most 10,000 lines and the body limit): a header naming the
    columns (`value`, `expirydate`, `startdate`, `limitval`, `discountlimit`, `reservationlimit`, `profilelimit`,
    `recipientintegrationid`, `attributes`, `reservationmandatory`), a coupon per line. Every faulty line is named
    (400) and a code that exists is `409 coupon_exists` with its line, before anything is written."""
    application_id = _management(request)
    campaign_id = coupon_wire.parse_campaign_id(request.path_params["campaignId"])
    rows = csvimport.parse(csvimport.decode(request.body))
    creation = services().coupons.import_coupons(application_id, campaign_id, rows)
    return Response(201, coupon_wire.created_response(creation))


@api.route("GET", "/v1/management/coupons/{couponValue}", answers=coupon_wire.CouponView)
def get_coupon(request: Request) -> coupon_wire.CouponView:
    """One coupon by its code (URL-encoded in the path: `SUMMER25%25OFF`), with its counters and what is left."""
    application_id = _management(request)
    return coupon_wire.coupon_view(services().coupons.coupon(application_id, request.path_params["couponValue"]))


@api.route("GET", "/v1/management/coupon_batches/{batchId}", answers=coupon_wire.CouponBatchResponse)
def get_coupon_batch(request: Request) -> coupon_wire.CouponBatchResponse:
    """A batch and its coupons in creation order, a page at a time: `?limit=` (1-1000, default 100), `?cursor=`
    (the previous page's `nextCursor`)."""
    application_id = _management(request)
    limit = request.query_int("limit", default=DEFAULT_COUPON_PAGE, minimum=1, maximum=MAX_COUPON_PAGE)
    page = services().coupons.batch_page(application_id, request.path_params["batchId"], request.query_cursor(), limit)
    return coupon_wire.batch_response(page)


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)


# -- loyalty points by hand ------------------------------------------------------------------------------------

_MEMBER = "/v1/management/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}"


@api.route(
    "POST",
    f"{_MEMBER}/add_points",
    body=loyalty_wire.AddPointsRequest,
    answers={200: loyalty_wire.ManualChangeView, 201: loyalty_wire.ManualChangeView},
)
def add_loyalty_points(request: Request, body: loyalty_wire.AddPointsRequest) -> Response:
    """Points added to a member by hand (customer service), with the program's default pending period and
    validity unless given; `reference` makes a retry change nothing (answered 200 with what it did)."""
    application_id = _management(request)
    change = ManualChange(
        body.points, body.name, body.subledger_id, body.reference, body.pending_duration, body.validity_duration
    )
    done = services().loyalty.add(application_id, _program_id(request), request.path_params["integrationId"], change)
    return _done(done, [request.path_params["integrationId"]])


@api.route(
    "POST",
    f"{_MEMBER}/deduct_points",
    body=loyalty_wire.DeductPointsRequest,
    answers={200: loyalty_wire.ManualChangeView, 201: loyalty_wire.ManualChangeView},
)
def deduct_loyalty_points(request: Request, body: loyalty_wire.DeductPointsRequest) -> Response:
    """Points taken from a member's active balance by hand, soonest-expiring first; more than it holds is
    refused (400 `insufficient_points`) unless the program allows negative balances."""
    application_id = _management(request)
    change = ManualChange(body.points, body.name, body.subledger_id, body.reference)
    done = services().loyalty.deduct(application_id, _program_id(request), request.path_params["integrationId"], change)
    return _done(done, [request.path_params["integrationId"]])


@api.route(
    "POST",
    "/v1/management/loyalty_programs/{loyaltyProgramId}/transfers",
    body=loyalty_wire.TransferPointsRequest,
    answers={200: loyalty_wire.ManualChangeView, 201: loyalty_wire.ManualChangeView},
)
def transfer_loyalty_points(request: Request, body: loyalty_wire.TransferPointsRequest) -> Response:
    """Points moved between two members in one transaction (beyond Talon.One)."""
    application_id = _management(request)
    change = ManualChange(body.points, body.name, body.subledger_id, body.reference)
    members = [body.from_integration_id, body.to_integration_id]
    giver, receiver = members
    done = services().loyalty.transfer(application_id, _program_id(request), giver, receiver, change)
    return _done(done, [giver, receiver])


# -- loyalty cards -------------------------------------------------------------------------------------------------

_CARD = "/v1/management/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}"


@api.route("PUT", _CARD, body=loyalty_wire.UpdateCardRequest, answers=loyalty_wire.LoyaltyCardView)
def update_loyalty_card(request: Request, body: loyalty_wire.UpdateCardRequest) -> loyalty_wire.LoyaltyCardView:
    """A card blocked (`inactive`, with a `blockReason`: it neither earns nor spends, and takes no new profile)
    or unblocked (`active`)."""
    application_id = _management(request)
    card, program = services().cards.update(
        application_id, _program_id(request), _card_id(request), body.status, body.block_reason
    )
    return card_view(application_id, card, program)


@api.route(
    "POST",
    f"{_CARD}/add_points",
    body=loyalty_wire.AddPointsRequest,
    answers={200: loyalty_wire.ManualChangeView, 201: loyalty_wire.ManualChangeView},
)
def add_loyalty_card_points(request: Request, body: loyalty_wire.AddPointsRequest) -> Response:
    """Points added to a card by hand, as to a profile (`add_points`)."""
    application_id = _management(request)
    change = ManualChange(
        body.points, body.name, body.subledger_id, body.reference, body.pending_duration, body.validity_duration
    )
    card = loyalty_items.Card(_card_id(request))
    return _done(services().loyalty.add(application_id, _program_id(request), card, change), [card])


@api.route(
    "POST",
    f"{_CARD}/deduct_points",
    body=loyalty_wire.DeductPointsRequest,
    answers={200: loyalty_wire.ManualChangeView, 201: loyalty_wire.ManualChangeView},
)
def deduct_loyalty_card_points(request: Request, body: loyalty_wire.DeductPointsRequest) -> Response:
    """Points taken from a card by hand, as from a profile (`deduct_points`)."""
    application_id = _management(request)
    change = ManualChange(body.points, body.name, body.subledger_id, body.reference)
    card = loyalty_items.Card(_card_id(request))
    return _done(services().loyalty.deduct(application_id, _program_id(request), card, change), [card])


def _card_id(request: Request) -> str:
    return identifier_of(request.path_params["loyaltyCardId"])


def _program_id(request: Request) -> int:
    return program_id_of(request.path_params["loyaltyProgramId"])


def _done(done: Done, members: list[loyalty_items.Holder]) -> Response:
    entries = [
        loyalty_wire.EntryView(
            transaction_uuid=entry.transaction_id,
            integration_id=member if isinstance(member, str) else None,
            card_identifier=member.identifier if isinstance(member, loyalty_items.Card) else None,
            type=entry.kind,
            subledger_id=entry.subledger,
            amount=entry.amount,
            name=entry.name,
            created=entry.created.isoformat(),
            start_date=entry.starts.isoformat() if entry.starts else None,
            expiry_date=entry.expires.isoformat() if entry.expires else None,
        )
        for member, entry in zip(members, done.entries, strict=False)
    ]
    view = loyalty_wire.ManualChangeView(transaction_uuid=done.transaction_id, replayed=done.replayed, entries=entries)
    return Response(200 if done.replayed else 201, view)
