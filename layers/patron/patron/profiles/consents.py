"""Consents and subscriptions per channel (email, sms, push, ...): a value, when it was given, and where.

At-least-once delivery may bring an older consent after a newer one: a consent never replaces one given later,
so the latest decision stands whatever the order of arrival.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from patron.clock import iso
from patron.errors import FieldIssue, ValidationError
from patron.http.validation import parse_model

MAX_CHANNELS = 50
MAX_SOURCE_LENGTH = 100
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def is_channel_name(channel: str) -> bool:
    """A consent channel's name: a lower-case letter, then up to 49 lower-case letters, digits and _."""
    return _CHANNEL.fullmatch(channel) is not None


class Consent(msgspec.Struct, frozen=True):
    value: bool
    time: str  # UTC, sortable (patron.orders.model.normalise_timestamp's form)
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"value": self.value, "time": self.time}
        if self.source is not None:
            stored["source"] = self.source
        return stored

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Consent:
        source = stored.get("source")
        return cls(value=bool(stored["value"]), time=str(stored["time"]), source=str(source) if source else None)


class ConsentInput(msgspec.Struct, forbid_unknown_fields=True):
    value: bool
    time: str | None = None
    source: str | None = None


def parse_consents(raw: dict[str, Any], now: str, normalise_time: Any) -> tuple[dict[str, Consent], list[FieldIssue]]:
    """Channel names, values, times and sources checked, each issue with its path (`consents.email.time`);
    a consent without a time is given now."""
    issues: list[FieldIssue] = []
    consents: dict[str, Consent] = {}
    if len(raw) > MAX_CHANNELS:
        issues.append(FieldIssue("consents", "too_many", f"At most {MAX_CHANNELS} channels."))
    for channel, value in raw.items():
        path = f"consents.{channel}"
        if not is_channel_name(channel):
            issues.append(FieldIssue(path, "invalid_name", "A channel is lower case letters, digits and _."))
            continue
        try:
            given = parse_model(ConsentInput, value, root=path)
        except ValidationError as error:
            issues.extend(error.details)
            continue
        time = now if given.time is None else normalise_time(given.time)
        if time is None:
            issues.append(FieldIssue(f"{path}.time", "invalid_value", "Expected an ISO-8601 date-time."))
            continue
        if time > _tomorrow(now):
            # A consent dated in the future would outrank every later decision: refused (a day of clock skew).
            issues.append(FieldIssue(f"{path}.time", "invalid_value", "A consent cannot be given in the future."))
            continue
        if given.source is not None and not 0 < len(given.source) <= MAX_SOURCE_LENGTH:
            issues.append(FieldIssue(f"{path}.source", "invalid_value", f"1 to {MAX_SOURCE_LENGTH} characters."))
            continue
        consents[channel] = Consent(given.value, time, given.source)
    return consents, issues


def _tomorrow(now: str) -> str:
    moment = datetime.strptime(now, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) + timedelta(days=1)
    return iso(moment)


def merged(current: dict[str, Consent], incoming: dict[str, Consent]) -> dict[str, Consent]:
    """Per channel, the consent given last (by its time, not by arrival)."""
    result = dict(current)
    for channel, consent in incoming.items():
        known = result.get(channel)
        if known is None or consent.time >= known.time:
            result[channel] = consent
    return result
