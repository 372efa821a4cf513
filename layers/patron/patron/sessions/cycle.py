"""Read, decide, commit: the cycle sessions and events share (ARCHITECTURE, "The promotions engine").

  1. read    one BatchGetItem with the keys predicted for the call
  2. decide  pure; a decision may name what the read lacked (budget counters of campaigns whose rules held, a
             profile named only by the stored session): those are read and the call decided again
  3. commit  one TransactWriteItems; a budget counter or the profile moved since the read: read and decide again,
             a few times, then 409

What an instance learns between calls lives here too: the live ruleset version each application was last seen at,
from which the next call predicts its counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from patron.audiences.model import AudienceChangedError
from patron.coupons.items import CouponChangedError, CouponExhaustedError
from patron.dynamo import committer
from patron.loyalty.items import LedgerChangedError
from patron.profiles.model import VersionConflictError
from patron.promotions.budgets import CounterKey
from patron.promotions.counters import BudgetExhaustedError
from patron.promotions.ruleset import CompiledRuleset
from patron.referrals.items import (
    FriendAlreadyReferredError,
    ReferralChangedError,
    ReferralCodeTakenError,
    ReferralExhaustedError,
)
from patron.sessions.store import LedgerRef, Read, SessionStore

ATTEMPTS = 4  # reads and decisions when a counter or the profile moved meanwhile
# A referral code a close's `createReferral` drew was taken meanwhile: deciding again draws another.
REFERRAL_RACES = (FriendAlreadyReferredError, ReferralExhaustedError, ReferralChangedError, ReferralCodeTakenError)
# A profile named by the stored session, the coupons it holds and the session names, then the counters its facts
# make candidates, then the ledgers of the recipients the evaluation names.
_MORE_READS = 4


class Rulesets(Protocol):
    def compiled(self, application_id: int, version: int) -> CompiledRuleset: ...


class SeenRulesets:
    """The compiled live ruleset of an application, and the version this instance last read for it."""

    def __init__(self, rulesets: Rulesets):
        self._rulesets = rulesets
        self._seen: dict[int, int] = {}

    def live(self, application_id: int, version: int | None) -> CompiledRuleset | None:
        """The ruleset a read's pointer names (None: nothing published), remembered for the next prediction."""
        if version is None:
            self._seen.pop(application_id, None)
            return None
        self._seen[application_id] = version
        return self._rulesets.compiled(application_id, version)

    def last_seen(self, application_id: int) -> CompiledRuleset | None:
        version = self._seen.get(application_id)
        return None if version is None else self._rulesets.compiled(application_id, version)

    def compiled(self, application_id: int, version: int) -> CompiledRuleset:
        return self._rulesets.compiled(application_id, version)


class Decision(Protocol):
    @property
    def plan(self) -> list[committer.Write]: ...

    @property
    def missing_counters(self) -> frozenset[CounterKey]: ...

    @property
    def missing_profile(self) -> str | None: ...

    @property
    def missing_coupons(self) -> frozenset[str]: ...

    @property
    def missing_referral(self) -> frozenset[str]: ...

    @property
    def missing_ledgers(self) -> frozenset[LedgerRef]: ...

    @property
    def missing_event_counts(self) -> frozenset[str]: ...

    @property
    def missing_audiences(self) -> frozenset[int]: ...

    @property
    def missing_skus(self) -> frozenset[str]: ...


D = TypeVar("D", bound=Decision)


def run(
    store: SessionStore,
    application_id: int,
    session_id: str | None,
    profile_id: str | None,
    counter_keys: Iterable[CounterKey],
    decide_on: Callable[[Read], D],
    *,
    dry: bool,
    conflict: Callable[[], Exception],
    coupons: Iterable[str] = (),
    referral: Iterable[str] = (),
    ledgers: Iterable[LedgerRef] = (),
    event_types: Iterable[str] = (),
    skus: Iterable[str] = (),
    audiences: Iterable[int] = (),
    catalog: bool = False,
) -> tuple[D, Read]:
    """The decision that was committed (or, `dry`, would be) and the read it was made on. `coupons`: the coupon
    codes predicted (each read with the profile's holding of it); `ledgers`: the loyalty ledgers (program, holder)
    predicted to be needed; `event_types`: the customer's event count items predicted; `skus`: the cart's, read
    with the cart item catalog; `catalog`: the catalog item without the SKUs (an instance that saw no catalog:
    a decision that finds one asks for the SKUs, `missing_skus`); `audiences`: those the ruleset's membership
    effects name. Any other exception of the commit (the session's own version lost) is the caller's to answer."""
    keys, codes, referral_codes = set(counter_keys), frozenset(coupons), frozenset(referral)
    program_ids, types, catalog_skus = frozenset(ledgers), frozenset(event_types), frozenset(skus)
    audience_ids = frozenset(audiences)
    for _ in range(ATTEMPTS):
        read = store.read(
            application_id,
            session_id,
            profile_id,
            keys,
            coupons=codes,
            holder=profile_id,
            referrals=referral_codes,
            ledgers=program_ids,
            event_types=types,
            skus=catalog_skus,
            audiences=audience_ids,
            catalog=catalog,
        )
        decision = decide_on(read)
        for _ in range(_MORE_READS):
            if not _lacks(decision):
                break
            more = store.read(
                application_id,
                None,
                decision.missing_profile,
                decision.missing_counters,
                pointer=False,
                coupons=decision.missing_coupons,
                holder=decision.missing_profile or read.profile_read,
                referrals=decision.missing_referral,
                ledgers=decision.missing_ledgers,
                event_types=decision.missing_event_counts,
                counts_of=decision.missing_profile or read.profile_read,
                audiences=decision.missing_audiences,
                skus=decision.missing_skus,
            )
            read = read.merged(more, decision.missing_profile)
            decision = decide_on(read)
        if _lacks(decision):  # a new version meanwhile, or a profile whose holdings are still to read: again
            keys, profile_id, codes = set(read.counters_read), read.profile_read, read.coupons_read
            referral_codes, program_ids = read.referrals_read, read.ledgers_read | decision.missing_ledgers
            types = read.event_counts_read | decision.missing_event_counts
            audience_ids = read.audiences_read | decision.missing_audiences
            catalog_skus = read.skus_read | decision.missing_skus
            continue
        if not dry and decision.plan:
            try:
                store.commit(decision.plan)
            except (
                BudgetExhaustedError,
                VersionConflictError,
                CouponExhaustedError,
                CouponChangedError,
                LedgerChangedError,
                AudienceChangedError,
                *REFERRAL_RACES,
            ):
                # A counter, coupon, referral, ledger or profile moved since the read: read again, decide again.
                keys, profile_id, codes = set(read.counters_read), read.profile_read, read.coupons_read
                referral_codes, program_ids = read.referrals_read, read.ledgers_read
                types = read.event_counts_read
                audience_ids = read.audiences_read
                catalog_skus = read.skus_read
                continue
        return decision, read
    raise conflict()


def _lacks(decision: Decision) -> bool:
    return bool(
        decision.missing_counters
        or decision.missing_profile
        or decision.missing_coupons
        or decision.missing_referral
        or decision.missing_ledgers
        or decision.missing_event_counts
        or decision.missing_audiences
        or decision.missing_skus
    )
