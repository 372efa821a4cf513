"""What an event is and what tracking one answers, apart from the engine that evaluates it (so the profiles
function answers without loading the engine until a call asks for it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from patron.errors import FieldIssue, ValidationError
from patron.profiles.model import CustomerProfile, integration_id_issue
from patron.promotions.effects import Effect, RuleFailureReason

if TYPE_CHECKING:
    from patron.promotions.ruleset import CompiledRuleset

PROFILE_CREATED = "talon_profile_created"
PROFILE_UPDATED = "talon_profile_updated"
BUILT_IN_PREFIX = "talon_"  # Talon.One's built-in events: a client may not track them as custom events


class TrackedEvent(msgspec.Struct, frozen=True):
    type: str
    profile_id: str | None  # None: an anonymous event (no profile facts, no profile written)
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    store_integration_id: str | None = None
    loyalty_card: str | None = None  # the event's card: card-based programs' points change on it
    # When it happened, if not at the tracking call (a dialect may say; counts and retention follow it).
    occurred_at: datetime | None = None
    source: str = "talon"  # the dialect that tracked it (stored with the event)
    definition_id: int | None = None  # the custom event definition it was checked against

    @property
    def stored(self) -> bool:
        """Custom events of a customer are kept (docs/events.md); Talon.One's built-in profile events are the profile
        changes themselves, and an anonymous event belongs to nobody to export, erase or count."""
        return self.profile_id is not None and not self.type.startswith(BUILT_IN_PREFIX)


class EventOutcome(msgspec.Struct):
    """What an event call answers."""

    id: int
    created: str
    event: TrackedEvent
    effects: list[Effect]
    failures: list[RuleFailureReason]
    triggered: list[int]
    profile: CustomerProfile | None
    ruleset: CompiledRuleset | None
    # The customer's ledgers after the event (`responseContent: loyalty`), built only when asked: a
    # () -> list[patron.sessions.loyalty.ProgramLedgers].
    loyalty: Callable[[], list[Any]] = list


MAX_TYPE_BYTES = 1000  # a type is part of its day count's sort key (`COUNT#<type>`): DynamoDB takes 1,024 bytes


def check_custom_type(event_type: str, path: str = "type") -> None:
    if event_type.startswith(BUILT_IN_PREFIX):
        message = f"`{BUILT_IN_PREFIX}…` names Talon.One's built-in events; track a custom event type."
        raise ValidationError("The event is invalid.", [FieldIssue(path, "built_in_event", message)])
    try:
        size = len(event_type.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError("The event is invalid.", [FieldIssue(path, "invalid_value", "Not valid text.")]) from None
    if size > MAX_TYPE_BYTES or not event_type.strip():
        message = f"An event type is 1 to {MAX_TYPE_BYTES} bytes of UTF-8, not only spaces."
        raise ValidationError("The event is invalid.", [FieldIssue(path, "invalid_value", message)])


def check_profile_id(profile_id: str | None, path: str = "profileId") -> None:
    """A customer's id is part of the keys of its profile and events: valid text of at most 1,024 bytes (a longer
    one would be a storage error, not an answer)."""
    if not profile_id:
        return  # anonymous
    issue = integration_id_issue(profile_id)
    if issue is not None:
        raise ValidationError("The event is invalid.", [FieldIssue(path, issue.code, issue.message)])


def check_dry_only(
    dry: bool, at: datetime | None, only: frozenset[int] | None, only_path: str = "customerSession.evaluableCampaignIds"
) -> None:
    """Talon.One takes `now` and evaluableCampaignIds in dry requests only."""
    issues = []
    if at is not None and not dry:
        issues.append(FieldIssue("query.now", "dry_only", "`now` is allowed only with dry=true."))
    if only is not None and not dry:
        issues.append(FieldIssue(only_path, "dry_only", "Allowed only with dry=true."))
    if issues:
        raise ValidationError("The request is invalid.", issues)
