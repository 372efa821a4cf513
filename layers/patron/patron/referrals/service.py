"""Creating referral codes (Talon.One's `createReferral` and `createReferralsForMultipleAdvocates`,
docs/referrals.md, "Creating referrals").

Decide, then write. `plan` checks everything it is given (a 400 naming every fault, nothing written), then the
campaign: a campaign of the application's live ruleset with the `referrals` feature (404 `campaign_not_found`, 400
`referrals_feature_required`, both naming `campaignId`), whose `caseSensitiveCodes` decides how codes are stored
(upper-cased when false). The plan holds the generator settings and the referrals' shared terms; `write` draws the
codes and has the repository store each referral with its entries, atomically per referral. A generated code the
application holds already is replaced by the generator's next one (never answered as a conflict).

The advocate (and the friend) need not have a profile: Talon.One creates none, and neither does Patron; the code is
filed under the id given, so a profile created later finds it in its inventory.

Many advocates: the referrals go out in transactions of whole referrals (each with its entries), several at once.
If a write fails for good (throttled past the retries, a dependency down), the referrals this call had written are
deleted again before the error is answered: the call is all or nothing unless the process itself dies midway (then
the referrals written stay, each whole and valid, under the call's `batchId`). Either way a retry is safe: it makes
a new batch, and no code is written twice or half-written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Protocol

import msgspec
from msgspec.structs import replace

from patron.clock import Clock
from patron.coupons.checks import attributes_issues, has_control, invalid, period_issues
from patron.coupons.codes import CodeSettings
from patron.errors import ConflictError, FieldIssue, NotFoundError, ValidationError
from patron.http import jsonbody
from patron.http.text import NOT_TEXT
from patron.logs import get_logger
from patron.profiles.model import MAX_INTEGRATION_ID_BYTES
from patron.promotions.definitions import Ruleset
from patron.referrals.codes import referral_generator, referral_settings
from patron.referrals.model import (
    MAX_ADVOCATES,
    MAX_INTEGRATION_ID_LENGTH,
    MAX_USAGE_LIMIT,
    Referral,
    ReferralTerms,
    code_issue,
)

MAX_DRAWS = 20  # a single referral's code redrawn at most this many times (each taken already)

_log = get_logger("patron.referrals.service")


class CampaignNotFoundError(NotFoundError):
    def __init__(self) -> None:
        message = "The live ruleset has no campaign with this id."
        super().__init__(message, code="campaign_not_found")
        self.details = [FieldIssue("campaignId", "campaign_not_found", message)]


class ReferralsNotEnabledError(ValidationError):
    def __init__(self) -> None:
        message = "The campaign does not have the referrals feature (features: [referrals])."
        super().__init__(
            message,
            [FieldIssue("campaignId", "referrals_feature_required", message)],
            code="referrals_feature_required",
        )


class CodeSpaceExhaustedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("The codes these settings allow are used up.", code="code_space_exhausted")


class CampaignSource(Protocol):
    def live(self, application_id: int) -> Ruleset | None:
        """The application's live ruleset (None: nothing published)."""
        ...


class Stored(Enum):
    """What became of one referral handed to `ReferralRepository.insert`."""

    WRITTEN = "written"  # the referral and its entries
    TAKEN = "taken"  # its code exists: nothing of it written
    NOT_WRITTEN = "not_written"  # written with others atomically, one of which was taken: try again as it is


class InsertInterruptedError(Exception):
    """`ReferralRepository.insert` failed for some referrals (`cause`) after writing others: `outcomes` says which,
    so the creation can remove them."""

    def __init__(self, outcomes: list[Stored], cause: Exception):
        super().__init__("referral writes interrupted")
        self.outcomes = outcomes
        self.cause = cause


class ReferralRepository(Protocol):
    def allocate_ids(self, application_id: int, count: int) -> int:
        """Reserves `count` consecutive referral ids; returns the first."""
        ...

    def insert(self, application_id: int, referrals: Sequence[Referral]) -> list[Stored]:
        """Writes each referral with its advocate entry (and a named friend's entry), a referral and its entries
        together or not at all, only where its code is free; for each, what became of it. A write that fails for
        another reason raises InsertInterruptedError once the others are done, saying what was written."""
        ...

    def remove(self, application_id: int, referrals: Sequence[Referral]) -> None:
        """Deletes referrals `insert` wrote, with their entries (undoing a failed creation)."""
        ...


class Plan(msgspec.Struct, frozen=True):
    """A creation decided: every input checked, the campaign known to take referrals. `write` carries it out."""

    application_id: int
    campaign_id: int
    advocates: tuple[str, ...]
    friend: str | None
    terms: ReferralTerms
    settings: CodeSettings
    batch: bool  # many advocates: the referrals share a batchId


def integration_id_issue(value: str, path: str) -> FieldIssue | None:
    """Why an advocate's or friend's id cannot name a profile's partition: empty or blank, not text (a lone
    surrogate), control characters, U+FFFD, or longer than a profile's integration id may be."""
    if not value.strip():
        return FieldIssue(path, "invalid_integration_id", "An integration id must not be empty.")
    if jsonbody.is_unencodable(value):
        return FieldIssue(path, "invalid_text", NOT_TEXT)
    if has_control(value) or "\ufffd" in value:
        return FieldIssue(path, "invalid_integration_id", "An integration id cannot hold control characters.")
    if len(value) > MAX_INTEGRATION_ID_LENGTH or len(value.encode("utf-8")) > MAX_INTEGRATION_ID_BYTES:
        message = (
            f"An integration id has at most {MAX_INTEGRATION_ID_LENGTH} characters "
            f"and {MAX_INTEGRATION_ID_BYTES} bytes of UTF-8."
        )
        return FieldIssue(path, "too_long", message)
    return None


def terms_issues(terms: ReferralTerms) -> list[FieldIssue]:
    """Faults in the shared terms (the wire checks types and ranges too: these hold for any caller)."""
    issues: list[FieldIssue] = []
    if not 0 <= terms.usage_limit <= MAX_USAGE_LIMIT:
        issues.append(FieldIssue("usageLimit", "out_of_range", f"Between 0 and {MAX_USAGE_LIMIT}."))
    return issues + period_issues(terms.start_date, terms.expiry_date) + attributes_issues(terms.attributes, "Referral")


def batch_id_for(first_id: int) -> str:
    """A batch's id, from its first referral id (unique, as ids are): `r` and the id in base 36."""
    digits, number = "", first_id
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return "r" + digits


class ReferralService:
    def __init__(
        self,
        repository: ReferralRepository,
        campaigns: CampaignSource,
        clock: Clock,
        new_key: Callable[[], bytes] = lambda: secrets.token_bytes(32),
    ):
        self._repository = repository
        self._campaigns = campaigns
        self._clock = clock
        self._new_key = new_key

    # -- decide ----------------------------------------------------------------------------------------------

    def _case_sensitive(self, application_id: int, campaign_id: int) -> bool:
        """Whether codes are case-sensitive, once the campaign is known to take referrals."""
        ruleset = self._campaigns.live(application_id)
        campaign = next((c for c in ruleset.campaigns if c.id == campaign_id), None) if ruleset else None
        if ruleset is None or campaign is None:
            raise CampaignNotFoundError()
        if "referrals" not in campaign.features:
            raise ReferralsNotEnabledError()
        return ruleset.settings.case_sensitive_codes

    def plan_one(
        self, application_id: int, campaign_id: int, advocate: str, friend: str | None, terms: ReferralTerms
    ) -> Plan:
        """`createReferral`: one code for the advocate, made out to `friend` when given (only they may use it)."""
        issues: list[FieldIssue] = []
        if (issue := integration_id_issue(advocate, "advocateProfileIntegrationId")) is not None:
            issues.append(issue)
        if friend is not None:
            if (issue := integration_id_issue(friend, "friendProfileIntegrationId")) is not None:
                issues.append(issue)
            elif friend == advocate:
                message = "The friend cannot be the advocate (Talon.One: ReferralRecipientIdSameAsAdvocate)."
                issues.append(FieldIssue("friendProfileIntegrationId", "friend_is_advocate", message))
        issues += terms_issues(terms)
        if issues:
            raise invalid(issues)
        case_sensitive = self._case_sensitive(application_id, campaign_id)
        settings = referral_settings(case_sensitive=case_sensitive)
        return Plan(application_id, campaign_id, (advocate,), friend, terms, settings, batch=False)

    def plan_many(
        self,
        application_id: int,
        campaign_id: int,
        advocates: Sequence[str],
        terms: ReferralTerms,
        valid_characters: Sequence[str] | None = None,
        referral_pattern: str | None = None,
    ) -> Plan:
        """`createReferralsForMultipleAdvocates`: one code per advocate (1 to 1,000, each once), from the request's
        `validCharacters` and `referralPattern` (defaults: eight characters of [A-Z0-9])."""
        issues: list[FieldIssue] = []
        if not 1 <= len(advocates) <= MAX_ADVOCATES:
            message = f"Between 1 and {MAX_ADVOCATES} advocates."
            issues.append(FieldIssue("advocateProfileIntegrationIds", "out_of_range", message))
        seen: dict[str, int] = {}
        for index, advocate in enumerate(advocates[: MAX_ADVOCATES + 1]):
            path = f"advocateProfileIntegrationIds[{index}]"
            if (issue := integration_id_issue(advocate, path)) is not None:
                issues.append(issue)
            elif advocate in seen:
                message = f"The advocate is listed at [{seen[advocate]}] already."
                issues.append(FieldIssue(path, "duplicate_advocate", message))
            else:
                seen[advocate] = index
        issues += terms_issues(terms)
        if issues:
            raise invalid(issues)
        case_sensitive = self._case_sensitive(application_id, campaign_id)
        settings = referral_settings(valid_characters, referral_pattern, case_sensitive=case_sensitive)
        referral_generator(settings, len(advocates))  # refuses settings leaving too little room (400)
        return Plan(application_id, campaign_id, tuple(advocates), None, terms, settings, batch=True)

    # -- write -----------------------------------------------------------------------------------------------

    def write(self, plan: Plan) -> list[Referral]:
        """The plan's referrals, stored, in the advocates' order. Codes taken already are replaced by the
        generator's next ones; a failure removes what this call wrote before it is raised."""
        count = len(plan.advocates)
        generator = referral_generator(plan.settings, count, key=self._new_key())
        first_id = self._repository.allocate_ids(plan.application_id, count)
        created = self._clock.now()
        batch_id = batch_id_for(first_id) if plan.batch else None
        drawn = 0

        def draw() -> str:
            nonlocal drawn
            # More codes taken than asked for: the settings' room (ten times the count) is used up by others.
            if drawn >= min(generator.settings.space, 2 * count + MAX_DRAWS):
                raise CodeSpaceExhaustedError()
            code = generator.code(drawn)
            drawn += 1
            problem = code_issue(code)
            if problem is not None:  # settings were checked: a code that cannot be stored is never drawn
                raise ValidationError(problem, [FieldIssue("referralPattern", "invalid_code_settings", problem)])
            return code

        pending = [
            Referral(
                code=draw(),
                campaign_id=plan.campaign_id,
                advocate_integration_id=advocate,
                id=first_id + index,
                created=created,
                friend_integration_id=plan.friend,
                start_date=plan.terms.start_date,
                expiry_date=plan.terms.expiry_date,
                usage_limit=plan.terms.usage_limit,
                attributes=dict(plan.terms.attributes),
                batch_id=batch_id,
            )
            for index, advocate in enumerate(plan.advocates)
        ]
        written: list[Referral] = []
        try:
            while pending:
                try:
                    outcomes = self._repository.insert(plan.application_id, pending)
                except InsertInterruptedError as stopped:
                    written += [r for r, o in zip(pending, stopped.outcomes, strict=True) if o is Stored.WRITTEN]
                    raise stopped.cause from None
                again: list[Referral] = []
                for referral, outcome in zip(pending, outcomes, strict=True):
                    if outcome is Stored.WRITTEN:
                        written.append(referral)
                    elif outcome is Stored.TAKEN:
                        again.append(replace(referral, code=draw()))
                    else:
                        again.append(referral)
                pending = again
        except BaseException:
            if written:
                self._undo(plan.application_id, written)
            raise
        return sorted(written, key=lambda referral: referral.id)

    def _undo(self, application_id: int, written: list[Referral]) -> None:
        try:
            self._repository.remove(application_id, written)
            _log.warning("referral creation failed; its referrals were removed", count=len(written))
        except Exception as exc:  # the original failure is what the caller hears of
            _log.error("referral creation failed; some referrals remain", count=len(written), error=type(exc).__name__)

    # -- both ------------------------------------------------------------------------------------------------

    def create_referral(
        self, application_id: int, campaign_id: int, advocate: str, friend: str | None, terms: ReferralTerms
    ) -> Referral:
        return self.write(self.plan_one(application_id, campaign_id, advocate, friend, terms))[0]

    def create_for_advocates(
        self,
        application_id: int,
        campaign_id: int,
        advocates: Sequence[str],
        terms: ReferralTerms,
        valid_characters: Sequence[str] | None = None,
        referral_pattern: str | None = None,
    ) -> list[Referral]:
        plan = self.plan_many(application_id, campaign_id, advocates, terms, valid_characters, referral_pattern)
        return self.write(plan)
