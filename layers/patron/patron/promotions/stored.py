"""What campaign rules compute, in the form DynamoDB and JSON both hold: an attribute an `updateAttribute` sets, a
webhook's payload. A rule may compute a time, a date, a list or a number past DynamoDB's, and a definition file
may hold a float."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from patron.profiles.model import value_issues


def storable(value: Any) -> Any:
    """A time as its UTC ISO text (`…Z`, as Patron stores every instant), a date as ISO, a tuple as a list, a float
    as the Decimal of its shortest text (none when not finite); mappings and lists member by member."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)):
        # What DynamoDB cannot hold (past 38 digits or its range) is absent, as an overflow is in the language.
        return None if value_issues(value, "") else value
    if isinstance(value, float):
        return storable(Decimal(repr(value))) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(name): storable(member) for name, member in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(member) for member in value]
    return str(value)


def storable_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes to write: a value that became absent is not written."""
    stored = {name: storable(value) for name, value in attributes.items()}
    return {name: value for name, value in stored.items() if value is not None}
