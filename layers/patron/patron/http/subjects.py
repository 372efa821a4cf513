"""Whom a stored idempotent answer concerns (`RestApi.route(subjects=...)`): erasing a person erases the answers that
quote them. Bodies are read leniently: a body the route refused still names its people; an answer that is not the
route's own (a 4xx) names nobody."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from patron.errors import PatronError
from patron.http.api import Request

Subjects = Callable[[Request, Any], list[str]]


def path(param: str) -> Subjects:
    """The person the path names (`/v2/customer_profiles/{integrationId}`)."""
    return lambda request, _: [request.path_params[param]]


def answer_field(name: str) -> Subjects:
    """The person the answer names (an order's `customerId`: the customer who turned out to own it)."""

    def subjects(request: Request, answer: Any) -> list[str]:
        value = answer.get(name) if isinstance(answer, dict) else None
        return [str(value)] if value else []

    return subjects


def body_field(name: str) -> Subjects:
    """The person a body's top-level string names (an event's `profileId`)."""

    def subjects(request: Request, answer: Any) -> list[str]:
        value = _body(request).get(name)
        return [value] if isinstance(value, str) and value else []

    return subjects


def body_list_field(items: str, name: str) -> Subjects:
    """Every person a body's list names (a bulk update's `customerProfiles[].integrationId`)."""

    def subjects(request: Request, answer: Any) -> list[str]:
        listed = _body(request).get(items)
        if not isinstance(listed, list):
            return []
        return [item[name] for item in listed if isinstance(item, dict) and isinstance(item.get(name), str)]

    return subjects


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except PatronError:
        return {}
    return body if isinstance(body, dict) else {}
