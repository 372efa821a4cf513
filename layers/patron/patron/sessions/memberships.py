"""Audience memberships that campaign rules change (`addToAudience`, `removeFromAudience`; docs/audiences.md,
"Effects"), settled against what the session's one read holds.

The audiences the live ruleset's effects name are literal ids known when it is compiled (`CompiledRuleset.
audiences`): they are read in the session's (or event's) BatchGetItem with the profile, predicted from the ruleset
this instance last saw, as loyalty ledgers are. Settling fills in each effect's audience name and profile id, fails
the effect of an audience that does not exist or was deleted (`EffectCouldNotBeApplied`), and, when the call
writes (a close, an event), gives the membership changes: the profile item's `m:<id>` attributes (set in the
profile's own update of the transaction: DynamoDB refuses two operations on one item in one) and, per audience,
the member item and a check that the audience is still live at the generation read (else AudienceChangedError:
read again and decide again). A customer already a member, or leaving an audience it is not in, writes nothing,
so a replayed close or event changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from patron.audiences import keys
from patron.audiences.model import AudienceChangedError, AudienceState
from patron.dynamo import committer
from patron.profiles.model import CustomerProfile
from patron.promotions.effects import AddToAudienceProps, Effect, RemoveFromAudienceProps, RuleFailureReason
from patron.promotions.ruleset import CompiledRuleset
from patron.sessions.store import Read

MEMBERSHIP_EFFECTS = frozenset({"addToAudience", "removeFromAudience"})


def refs(ruleset: CompiledRuleset | None, profile_id: str | None) -> frozenset[int]:
    """The audiences to read with the call: those the ruleset's effects name (an anonymous call: none)."""
    if ruleset is None or profile_id is None:
        return frozenset()
    return ruleset.audiences


def missing(ruleset: CompiledRuleset | None, read: Read, profile_id: str | None) -> frozenset[int]:
    """The audiences the read lacks (the ruleset changed since the prediction, or none was seen yet)."""
    return refs(ruleset, profile_id) - read.audiences_read


class Memberships(msgspec.Struct, frozen=True):
    effects: list[Effect]  # the membership effects named, the others as they were
    failures: list[RuleFailureReason]
    changes: dict[int, int | None]  # for the profile item: audience id -> the generation joined, or None: left
    writes: list[committer.Write]  # the member items, and the checks that the audiences joined are unchanged


def settled(
    table: str,
    application_id: int,
    ruleset: CompiledRuleset,
    effects: Sequence[Effect],
    read: Read,
    profile_id: str | None,
    profile: CustomerProfile | None,
    writing: bool,
    internal_id: int | None = None,
) -> Memberships:
    """The effects with their audiences named (an unknown or deleted audience's dropped, and failed) and, when
    `writing`, what they change: the last effect on an audience decides (a rule adding and a later one removing:
    removed). `internal_id`: the internal id of the profile this call creates (none when `profile` exists)."""
    kept: list[Effect] = []
    failures: list[RuleFailureReason] = []
    wanted: dict[int, bool] = {}
    for effect in effects:
        props = effect.props
        if not isinstance(props, AddToAudienceProps | RemoveFromAudienceProps):
            kept.append(effect)
            continue
        audience = read.audiences.get(props.audience_id)
        if audience is None or audience.state is not AudienceState.LIVE:
            failures.append(ruleset.not_applied(effect))
            continue
        internal = profile.profile_id if profile is not None else internal_id
        named = msgspec.structs.replace(props, audience_name=audience.name, profile_id=internal)
        kept.append(msgspec.structs.replace(effect, props=named))
        wanted[props.audience_id] = isinstance(props, AddToAudienceProps)
    if not writing or profile_id is None:
        return Memberships(kept, failures, {}, [])
    changes, writes = _changes(table, application_id, read, profile_id, profile, wanted)
    return Memberships(kept, failures, changes, writes)


def _changes(
    table: str,
    application_id: int,
    read: Read,
    integration_id: str,
    profile: CustomerProfile | None,
    wanted: Mapping[int, bool],
) -> tuple[dict[int, int | None], list[committer.Write]]:
    current = profile.audiences if profile is not None else {}
    changes: dict[int, int | None] = {}
    writes: list[committer.Write] = []
    for audience_id, join in sorted(wanted.items()):
        audience = read.audiences[audience_id]
        joined = current.get(audience_id)
        member_key = keys.member_key(application_id, audience_id, integration_id)
        if join:
            # A membership of an older generation is one the audience's emptying is removing: join again.
            if joined is not None and joined >= audience.generation:
                continue
            changes[audience_id] = audience.generation
            writes.append(
                committer.check(
                    table,
                    keys.audience_key(application_id, audience_id),
                    "#state = :live AND #generation = :generation",
                    names={"#state": "state", "#generation": "generation"},
                    values={":live": AudienceState.LIVE.value, ":generation": audience.generation},
                    failed=AudienceChangedError,
                )
            )
            writes.append(committer.put(table, {**member_key, "g": audience.generation}))
        elif joined is not None:
            changes[audience_id] = None
            writes.append(committer.delete(table, member_key))
    return changes, writes


def audiences_after(profile_audiences: Mapping[int, int], changes: Mapping[int, int | None]) -> dict[int, int]:
    """The profile's memberships once `changes` are written."""
    after = dict(profile_audiences)
    for audience_id, generation in changes.items():
        if generation is None:
            after.pop(audience_id, None)
        else:
            after[audience_id] = generation
    return after
