"""Rfmcube's /import payload: the envelope is checked at once (a 400 before anything is accepted); each
customer and order is checked when its chunk is written, and a bad one is rejected without blocking the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patron.errors import FieldIssue, ValidationError
from patron.imports.model import ImportOptions

_ENVELOPE = {"overwriteDescriptors", "triggerIntegrations", "recalculateStats", "customers"}


@dataclass(frozen=True)
class ImportEnvelope:
    options: ImportOptions
    customers: list[Any]

    @property
    def total_orders(self) -> int:
        return sum(
            len(c["orders"]) for c in self.customers if isinstance(c, dict) and isinstance(c.get("orders"), list)
        )


def parse_envelope(payload: Any) -> ImportEnvelope:
    if not isinstance(payload, dict):
        raise ValidationError("The import is invalid.", [FieldIssue("$", "invalid_value", "Expected an object.")])
    issues = [FieldIssue(name, "unknown_field", "Unknown field.") for name in sorted(set(payload) - _ENVELOPE)]
    flags = {}
    for name in ("overwriteDescriptors", "triggerIntegrations", "recalculateStats"):
        value = payload.get(name, False)
        if not isinstance(value, bool):
            issues.append(FieldIssue(name, "invalid_value", "Expected true or false."))
        flags[name] = bool(value) if isinstance(value, bool) else False
    customers = payload.get("customers")
    if not isinstance(customers, list):
        issues.append(FieldIssue("customers", "missing_field" if customers is None else "invalid_value", "A list."))
        customers = []
    envelope = ImportEnvelope(
        ImportOptions(flags["overwriteDescriptors"], flags["triggerIntegrations"], flags["recalculateStats"]),
        customers,
    )
    if envelope.options.overwrite_descriptors and envelope.total_orders == 0:
        # Rfmcube: "If this value is set to true there must be at least one order in the call."
        issues.append(FieldIssue("overwriteDescriptors", "invalid_value", "Needs at least one order in the call."))
    if issues:
        raise ValidationError("The import is invalid.", issues)
    return envelope
