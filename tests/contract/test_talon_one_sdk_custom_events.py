"""Custom events through the official talon-one-sdk: a defined event type tracked and counted (`eventCount`), and
an event its definition refuses read as Talon.One's ErrorResponse (docs/events.md)."""

from __future__ import annotations

import uuid

import pytest
import talon_one
from talon_one.exceptions import BadRequestException

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.integration.rulesets import publish

__all__ = ["base_url"]  # the module's server fixture, shared

DEFINITIONS = {
    "settings": {"currency": "EUR", "timezone": "Europe/Rome"},
    "customEvents": [
        {
            "id": 1,
            "type": "store_purchase",
            "name": "Store purchase",
            "fields": [{"name": "amount", "type": "Money", "required": True}],
        }
    ],
    "campaigns": [
        {
            "id": 1,
            "name": "Second purchase this week",
            "rules": [
                {
                    "title": "Two in 7 days",
                    "condition": 'event.type == "store_purchase" and eventCount("store_purchase", 7) == 2',
                    "effects": [{"type": "customEffect", "name": "second_visit", "payload": {"n": 2}}],
                }
            ],
        }
    ],
}


def test_a_defined_event_is_counted_and_a_refused_one_reads_as_an_error_response(base_url, runtime, tenant):
    publish(runtime, tenant.application_id, DEFINITIONS)
    api = integration_api(base_url, tenant.key)
    customer = f"sdk-{uuid.uuid4().hex[:8]}"

    def purchase(amount: object) -> talon_one.TrackEventV2Response:
        event = talon_one.IntegrationEventV2Request(
            profileId=customer, type="store_purchase", attributes={"amount": amount}, responseContent=["event"]
        )
        return api.track_event_v2(event)

    first, second = purchase(10), purchase(12.5)
    assert first.effects == [] and [effect.effect_type for effect in second.effects] == ["customEffect"]
    assert second.event is not None and second.event.attributes == {"amount": 12.5}
    with pytest.raises(BadRequestException) as refused:
        purchase("a lot")
    error = talon_one.ErrorResponse.from_json(str(refused.value.body))
    assert error is not None and error.errors
    assert error.errors[0].source is not None and error.errors[0].source.pointer == "/attributes/amount"
