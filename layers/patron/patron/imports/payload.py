"""Rfmcube's /import payload: the envelope is checked at once (a 400 before anything is accepted: its types by
msgspec, ImportRequest; its one rule here); each customer and order is checked when its chunk is written, and a bad
one is rejected without blocking the rest."""

from __future__ import annotations

from typing import Any

import msgspec

from patron.errors import FieldIssue, ValidationError
from patron.imports.model import ImportOptions
from patron.imports.wire import ImportRequest


class ImportEnvelope(msgspec.Struct, frozen=True):
    options: ImportOptions
    customers: list[Any]

    @property
    def total_orders(self) -> int:
        return sum(
            len(c["orders"]) for c in self.customers if isinstance(c, dict) and isinstance(c.get("orders"), list)
        )


def import_envelope(body: ImportRequest) -> ImportEnvelope:
    envelope = ImportEnvelope(
        ImportOptions(body.overwrite_descriptors, body.trigger_integrations, body.recalculate_stats), body.customers
    )
    if envelope.options.overwrite_descriptors and envelope.total_orders == 0:
        # Rfmcube: "If this value is set to true there must be at least one order in the call."
        raise ValidationError(
            "The import is invalid.",
            [FieldIssue("overwriteDescriptors", "invalid_value", "Needs at least one order in the call.")],
        )
    return envelope
