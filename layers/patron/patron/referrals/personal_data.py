"""Referrals as personal data (patron.customers.port): what a person has of referrals (their codes as advocate, the
codes made out to them, what they were referred in as a friend) moves with a merge, goes with an erasure, stays as
bare counts under a tombstone with an anonymisation, and is listed in an export (docs/data-model.md, "A person's
referrals").

The codes themselves are the application's, not the person's: an erasure keeps every referral and its usageCounter
(what the campaigns gave stays counted, as Talon.One keeps redemption counts) and only takes the person out of it:
their own codes lose their advocate (marked `advocateErased`: a session presenting one answers `AdvocateNotFound`),
a code made out to them loses its friend (marked `friendErased`: usable by nobody), and their friend record and the
referred entries naming them go.

Each thing (a code as advocate, a code as friend, a campaign of the friend record) is handed over in one transaction
conditional on what was read (patron.referrals.partition); one that changed meanwhile (a close, a cancel) is read
again, the partition gone over at most `_PASSES` times.
"""

from __future__ import annotations

from typing import Any

from patron.clock import iso
from patron.dynamo import committer
from patron.errors import ConflictError
from patron.referrals import items
from patron.referrals.model import Referral
from patron.referrals.partition import (
    DynamoReferralPartition,
    Handover,
    Page,
    ReferralRecordChangedError,
    advocate_code,
    named_code,
    referred_in,
)

_PASSES = 4


class ReferralsPersonalData:
    section = "referrals"

    def __init__(self, partition: DynamoReferralPartition, table: str):
        self._partition = partition
        self._table = table

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        """The absorbed person's codes become the survivor's (the referral's advocate and the entries), codes made
        out to them name the survivor, and the campaigns they were referred in join the survivor's (a campaign both
        were referred in keeps the survivor's mark; the absorbed one's referred entry goes, its use stays counted)."""
        self._hand_over(application_id, absorbed_id, Handover.ABSORB, survivor_id)

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        return None  # nothing only names the person: absorb moved every record naming them

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return self._partition.any(application_id, integration_id)

    def forget(self, application_id: int, integration_id: str) -> int:
        return self._hand_over(application_id, integration_id, Handover.FORGET, None)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        """As forget, but the person's codes name the tombstone as their (erased) advocate and stay listed under it,
        and the referred entries naming them name the tombstone: each code's referred customers still add up."""
        return self._hand_over(application_id, integration_id, Handover.ANONYMISE, tombstone_id)

    def export(self, application_id: int, integration_id: str) -> Any:
        """Their codes as advocate (code, campaign, uses, limits, dates), the codes made out to them, and what they
        were referred by (campaign, code). Other people's ids (friends referred, advocates) are theirs, not shown."""
        codes: list[dict[str, Any]] = []
        made_out: list[dict[str, Any]] = []
        referred_by: list[dict[str, Any]] = []
        for page in self._partition.pages(application_id, integration_id):
            codes += [_exported(code, referral) for code, referral in page.advocate]
            made_out += [_exported(code, referral) for code, referral in page.named]
            if page.friend is not None:
                referred_by += [
                    {"campaignId": campaign, "code": code} for campaign, code in sorted(page.friend.codes.items())
                ]
        return {"advocateCodes": codes, "personalCodes": made_out, "referredBy": referred_by}

    def _hand_over(self, application_id: int, holder_id: str, how: Handover, to_id: str | None) -> int:
        """Every record of `holder_id`, handed over; how many things went. Pages go by the Query's cursor (a thing
        that lost a race stays behind it), then the whole partition is read again while any is left."""
        other = to_id if how is Handover.ABSORB else None
        done = 0
        for _ in range(_PASSES):
            left = 0
            for page in self._partition.pages(application_id, holder_id, other):
                for plan in self._plans(application_id, holder_id, page, how, to_id):
                    try:
                        self._partition.hand_over(plan)
                        done += 1
                    except ReferralRecordChangedError:
                        left += 1
                if page.friend is not None:
                    done_friend, left_friend = self._friend(application_id, holder_id, page, how, to_id)
                    done, left = done + done_friend, left + left_friend
            if not left:
                return done
        raise ConflictError(
            "The customer's referrals are being changed by other requests; try again.", "concurrent_update"
        )

    def _plans(
        self, application_id: int, holder_id: str, page: Page, how: Handover, to_id: str | None
    ) -> list[list[committer.Write]]:
        table = self._table
        plans = [advocate_code(table, application_id, holder_id, c, r, how, to_id) for c, r in page.advocate]
        plans += [named_code(table, application_id, holder_id, c, r, how, to_id) for c, r in page.named]
        return plans

    def _friend(
        self, application_id: int, holder_id: str, page: Page, how: Handover, to_id: str | None
    ) -> tuple[int, int]:
        """The friend record's campaigns, one transaction each; the last one (all others gone) deletes the record.
        A record with no campaign left (every close given back) is deleted alone. (done, left)."""
        assert page.friend is not None
        campaigns = sorted(page.friend.codes.items())
        if not campaigns:
            self._partition.hand_over([committer.delete(self._table, items.friend_key(application_id, holder_id))])
            return 1, 0
        done = left = 0
        for index, (campaign_id, code) in enumerate(campaigns):
            plan = referred_in(
                self._table,
                application_id,
                holder_id,
                campaign_id,
                code,
                last=index == len(campaigns) - 1 and not left,
                referred=page.referred.get(code),
                other=page.other_friend,
                how=how,
                to_id=to_id,
            )
            try:
                self._partition.hand_over(plan)
                done += 1
            except ReferralRecordChangedError:
                left += 1
        return done, left


def _exported(code: str, referral: Referral | None) -> dict[str, Any]:
    if referral is None:
        return {"code": code, "state": "deleted"}
    return {
        "code": code,
        "campaignId": referral.campaign_id,
        "created": iso(referral.created),
        "usageCounter": referral.usage_counter,
        "usageLimit": referral.usage_limit,
        "startDate": iso(referral.start_date) if referral.start_date else None,
        "expiryDate": iso(referral.expiry_date) if referral.expiry_date else None,
    }
