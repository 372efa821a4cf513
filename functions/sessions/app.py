"""Talon.One customer sessions: update (evaluate campaigns, close, cancel), read, reopen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from patron.clock import SystemClock
from patron.dynamo.client import dynamodb_client
from patron.errors import FieldIssue, ValidationError
from patron.http.api import Request, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.orders.repository import DynamoOrderRepository
from patron.profiles import talon as profile_wire
from patron.promotions.store import LiveRulesets
from patron.sessions import wire
from patron.sessions.service import Outcome, ReturnedUnits, SessionService, check_dry_only
from patron.sessions.store import SessionStore
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot


@dataclass(frozen=True)
class Services:
    max_body_bytes: int
    account_id: int
    sessions: SessionService
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """Sessions read and write the session, its profile, the live ruleset and budget counters."""
    client, tables, settings = dynamodb_client(), Tables.from_environ(environ), Api.from_environ(environ)
    store = SessionStore(client, tables)
    # Only when a cancelled or reopened session's order held the customer's first or last order date.
    extremes = DynamoOrderRepository(client, tables.orders, tables.profiles).counted_extremes
    return Services(
        max_body_bytes=settings.body_limit,
        account_id=settings.account,
        sessions=SessionService(store, LiveRulesets(client, tables), SystemClock(), extremes),
        idempotency=idempotency_store(client, tables),
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)


def _session_subject(request: Request, answer: Any) -> list[str]:
    return [request.path_params["customerSessionId"]]


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
    state = wire.IntegrationStateV2(effects=outcome.effects, created_coupons=[], created_referrals=[])
    if "customerSession" in content:
        state.customer_session = wire.session_out(outcome.stored.session, application_id)
    if "customerProfile" in content and outcome.profile is not None:
        state.customer_profile = profile_wire.profile_response(outcome.profile, services().account_id)
    if "ruleFailureReasons" in content:
        state.rule_failure_reasons = outcome.failures
    return state


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
    check_dry_only(dry, at, only)
    application_id = request.caller.application_id
    outcome = services().sessions.update(
        application_id,
        request.path_params["customerSessionId"],
        wire.change_of(sent),
        dry=dry,
        at=at,
        only=only,
    )
    return _state(outcome, set(body.response_content or ()), application_id)


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


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
