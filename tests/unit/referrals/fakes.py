"""An in-memory ReferralRepository (type-checked against the Protocol): referrals and entries in dicts, written a
transaction of `per_transaction` referrals at a time, whole or not at all, as DynamoDB's TransactWriteItems would;
`fail_after` makes the n-th transaction fail (a throttled or lost call) to exercise the undo."""

from __future__ import annotations

from collections.abc import Sequence

from patron.errors import ServiceUnavailableError
from patron.referrals import items
from patron.referrals.model import Referral
from patron.referrals.service import InsertInterruptedError, ReferralRepository, Stored


class FakeReferralRepository:
    def __init__(self, per_transaction: int = 50, fail_after: int | None = None):
        self.referrals: dict[tuple[int, str], Referral] = {}
        self.entries: set[tuple[str, str]] = set()  # (PK, SK) of advocate and named entries
        self.counters: dict[int, int] = {}
        self.transactions = 0
        self.per_transaction = per_transaction
        self.fail_after = fail_after

    def allocate_ids(self, application_id: int, count: int) -> int:
        self.counters[application_id] = self.counters.get(application_id, 0) + count
        return self.counters[application_id] - count + 1

    def insert(self, application_id: int, referrals: Sequence[Referral]) -> list[Stored]:
        outcomes: list[Stored] = []
        for start in range(0, len(referrals), self.per_transaction):
            chunk = referrals[start : start + self.per_transaction]
            if self.fail_after is not None and self.transactions >= self.fail_after:
                rest = [Stored.NOT_WRITTEN] * (len(referrals) - len(outcomes))
                raise InsertInterruptedError(outcomes + rest, ServiceUnavailableError())
            self.transactions += 1
            taken = [(application_id, r.code) in self.referrals for r in chunk]
            if any(taken):
                outcomes += [Stored.TAKEN if there else Stored.NOT_WRITTEN for there in taken]
                continue
            for referral in chunk:
                self.referrals[(application_id, referral.code)] = referral
                for entry in (
                    items.advocate_entry_item(application_id, referral),
                    items.named_entry_item(application_id, referral),
                ):
                    if entry is not None:
                        self.entries.add((entry["PK"], entry["SK"]))
            outcomes += [Stored.WRITTEN] * len(chunk)
        return outcomes

    def remove(self, application_id: int, referrals: Sequence[Referral]) -> None:
        for referral in referrals:
            self.referrals.pop((application_id, referral.code), None)
            for entry in (
                items.advocate_entry_item(application_id, referral),
                items.named_entry_item(application_id, referral),
            ):
                if entry is not None:
                    self.entries.discard((entry["PK"], entry["SK"]))


_typed: ReferralRepository = FakeReferralRepository()
