"""Custom event definitions: how they are published (checked with the ruleset), and an event's attributes (JSON
values) or data fields (ExpertSender's text) checked and typed against them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from patron.errors import ValidationError
from patron.events.definitions import DataField, attributes_from_fields, check_attributes
from patron.promotions.definitions import CustomEventDefinition, EventField, EventFieldType
from patron.promotions.loading import DefinitionError, merge
from patron.promotions.ruleset import compile_ruleset

EVERY = CustomEventDefinition(
    id=5,
    type="everything",
    name="Every type",
    fields=[EventField(name=kind.value.lower(), type=kind) for kind in EventFieldType],
)
GOOD: dict[str, Any] = {
    "string": "Roma",
    "text": "long\tline\r\n" * 100,
    "number": 1.5,
    "money": Decimal("19.90"),
    "date": "2026-12-04",
    "datetime": "2026-12-04T10:00:00+01:00",
    "boolean": False,
    "url": "https://shop.example/p/1?x=2",
}


def test_values_of_every_type_fit() -> None:
    check_attributes(EVERY, GOOD, "EUR")
    check_attributes(EVERY, {"money": 100}, "JPY")
    check_attributes(EVERY, {"string": None}, "EUR")  # null: not given


@pytest.mark.parametrize(
    ("name", "value", "currency"),
    [
        ("string", "x" * 256, "EUR"),
        ("string", 5, "EUR"),
        ("string", "a\x00b", "EUR"),
        ("text", "a\x1bb", "EUR"),
        ("url", "https://a.example/\nx", "EUR"),
        ("number", True, "EUR"),
        ("number", "5", "EUR"),
        ("money", Decimal("1.001"), "EUR"),
        ("money", Decimal("1.5"), "JPY"),
        ("money", float("nan"), "EUR"),
        ("date", "2026-02-30", "EUR"),
        ("date", "2026-12-04T10:00:00Z", "EUR"),
        ("datetime", "2026-12-04T10:00:00", "EUR"),  # no offset
        ("datetime", "2026-12-04", "EUR"),
        ("boolean", "true", "EUR"),
        ("url", "javascript:alert(1)", "EUR"),
        ("url", "shop.example/p", "EUR"),
    ],
)
def test_a_value_of_another_type_is_refused_with_its_path(name: str, value: Any, currency: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_attributes(EVERY, {name: value}, currency)
    assert [(issue.path, issue.code) for issue in refused.value.details] == [
        (f"attributes.{name}", "attribute_type_mismatch")
    ]


def test_data_fields_are_typed_from_their_text() -> None:
    fields = [
        DataField("money", "Money", "19.90"),
        DataField("number", "number", "-3"),
        DataField("boolean", "Boolean", "TRUE"),
        DataField("url", "URL", "http://a.example"),
        DataField("datetime", "DateTime", "2026-12-04T10:00:00Z"),
    ]
    assert attributes_from_fields(EVERY, fields, "EUR") == {
        "money": Decimal("19.90"),
        "number": Decimal(-3),
        "boolean": True,
        "url": "http://a.example",
        "datetime": "2026-12-04T10:00:00Z",
    }


def test_every_faulty_data_field_is_named_at_once() -> None:
    required = CustomEventDefinition(
        id=1, type="p", name="P", fields=[EventField(name="amount", type=EventFieldType.MONEY, required=True)]
    )
    with pytest.raises(ValidationError) as refused:
        attributes_from_fields(required, [DataField("x", "String", "1"), DataField("amount", "Money", "1e3")], "EUR")
    assert [(issue.path, issue.code) for issue in refused.value.details] == [
        ("dataFields[0].name", "unknown_field"),
        ("dataFields[1].value", "invalid_value"),
    ]
    with pytest.raises(ValidationError) as refused:
        attributes_from_fields(required, [], "EUR")
    assert [(issue.path, issue.code) for issue in refused.value.details] == [("dataFields", "required")]


def test_definitions_are_checked_when_the_ruleset_is_published() -> None:
    ruleset = merge(
        [
            (
                "events.yaml",
                {
                    "customEvents": [
                        {"id": 1, "type": "a", "name": "A", "fields": [{"name": "f", "type": "Number"}] * 2},
                        {"id": 1, "type": "a", "name": "B"},
                        {"id": 2, "type": "talon_session_created", "name": "C"},
                    ]
                },
            )
        ]
    )
    with pytest.raises(DefinitionError) as refused:
        compile_ruleset(ruleset, 1)
    assert [(issue.path, issue.code) for issue in refused.value.issues] == [
        ("customEvents[0].fields[1].name", "duplicate_field"),
        ("customEvents[1].id", "duplicate_id"),
        ("customEvents[1].type", "duplicate_type"),
        ("customEvents[2].type", "built_in_event"),
    ]
    with pytest.raises(DefinitionError) as refused:
        merge([("events.yaml", {"customEvents": [{"id": 1, "type": "a", "name": "A", "fields": [{"name": "f"}]}]})])
    assert refused.value.issues[0].path.startswith("customEvents[0]")


def test_defined_fields_type_event_attributes_in_conditions() -> None:
    definitions = {
        "customEvents": [
            {"id": 1, "type": "store_purchase", "name": "P", "fields": [{"name": "amount", "type": "Money"}]}
        ],
        "campaigns": [
            {
                "id": 1,
                "name": "c",
                "rules": [{"title": "r", "condition": 'event.attributes.amount == "big"', "effects": []}],
            }
        ],
    }
    with pytest.raises(DefinitionError) as refused:
        compile_ruleset(merge([("x.yaml", definitions)]), 1)
    assert refused.value.issues[0].code == "type_mismatch"
