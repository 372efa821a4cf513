"""The typed wire's few primitives: what msgspec cannot say on its own about Patron's JSON.

- `Number`: an exact JSON number (a `Decimal`), for request fields. msgspec's own `Decimal` also takes a string
  (`"12"`), which Patron's wire does not; `Number` takes only what `jsonbody.loads` makes of a JSON number (an
  `int`, a `Decimal`), never a `bool` or a string. Its JSON schema is `{"type": "number"}`.
- `Open`: a response Struct that also carries members Patron keeps as the client sent them (an order's
  `delivery`, ...). They are written beside the Struct's own members, which win a clash; `extra` itself is
  never a member. Only a whole answer can be open (it is flattened at the top level).
- `to_builtins`: a response body as JSON-ready values for `jsonbody.dumps` (Decimals kept exact, enums as their
  values, UNSET fields left out).

Response Structs name `Decimal` amounts as such; the wire writes every Decimal as a JSON number, and the OpenAPI
generator documents them so (local/patron_local/openapi.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec


class Number(Decimal):
    """An exact JSON number in a request body (see the module's docstring). Convert it with `Decimal(value)` where
    a plain Decimal is wanted; it behaves as one in every other way."""

    __slots__ = ()


class Amount(Number):
    """A `Number` that is not negative (a price, a cost). msgspec cannot bound a custom type with `Meta(ge=0)`,
    so the bound lives here and in the schema."""

    __slots__ = ()


NUMBER_MESSAGE = "Expected a number."
AMOUNT_MESSAGE = "Expected a number >= 0."


def dec_hook(kind: type, value: Any) -> Any:
    """msgspec's hook for the wire's custom types (`Number`, `Amount`)."""
    number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if kind is Number and number:
        return Number(value)
    if kind is Amount and number:
        if value < 0:
            raise ValueError(AMOUNT_MESSAGE)
        return Amount(value)
    raise ValueError(NUMBER_MESSAGE if kind in (Number, Amount) else "Unsupported value.")


def schema_hook(kind: type) -> dict[str, Any]:
    """JSON schemas of the wire's custom types, for `msgspec.json.schema_components`."""
    if kind is Number:
        return {"type": "number"}
    if kind is Amount:
        return {"type": "number", "minimum": 0}
    raise NotImplementedError(kind)


# An email address as sent (each context normalises and checks it): documented as one.
Email = Annotated[str, msgspec.Meta(extra_json_schema={"format": "email"})]


class Open(msgspec.Struct, kw_only=True):
    """Base of a response Struct that also carries members kept as the client sent them (see the module)."""

    extra: dict[str, Any] = msgspec.field(default_factory=dict)


EXTRA = "extra"


def to_builtins(body: msgspec.Struct) -> Any:
    """`body` as JSON-ready values: msgspec's conversion, Decimals left for jsonbody.dumps to write exactly."""
    data = msgspec.to_builtins(body, builtin_types=(Decimal,))
    if isinstance(body, Open):
        members: dict[str, Any] = data.pop(EXTRA)
        return {**members, **data}
    return data
