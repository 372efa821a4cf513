"""A profile's referral partition, read whole and handed over: what the customer lifecycle (merge, erasure,
anonymisation, export) and the inventory need (docs/data-model.md, "LedgersTable — referrals", "A person's
referrals").

- read: one Query of the profile's partition (`APP#<application>#REFPROFILE#<integrationId>`, consistent, paged):
  its advocate entries (its own codes), its named entries (codes made out to it) and its friend record (what it was
  referred in); then per page one BatchGetItem of the referrals those entries name, the referred entries naming the
  profile (one per campaign of the friend record: `REFERRED#<code>` / `<integrationId>`) and, for a merge, the
  survivor's friend record;
- hand over: one TransactWriteItems per moved thing (`advocate_code`, `named_code`, `referred_in`), built from what
  was read and conditional on it. A transaction that commits leaves nothing of the thing under the profile, one
  that fails writes nothing: a retried merge or erasure finds nothing left, or does it whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import Enum
from typing import Any

import msgspec

from patron.dynamo import codec, committer
from patron.dynamo.batch import read_all
from patron.errors import ConflictError
from patron.referrals import items
from patron.referrals.model import FriendRecord, Referral

PAGE = 50  # partition items per page: their referrals and referred entries fill one BatchGetItem of 100 keys


class ReferralRecordChangedError(ConflictError):
    """A referral, an entry or a friend record changed between the read and the hand-over (a close, a cancel)."""

    def __init__(self) -> None:
        super().__init__("A referral record changed meanwhile; try again.", code="referral_record_changed")


class Handover(Enum):
    """What becomes of a profile's referral records when it leaves."""

    ABSORB = "absorb"  # a merge: codes, marks and entries become the survivor's
    ANONYMISE = "anonymise"  # an erasure keeping figures: what counts stays under the tombstone id
    FORGET = "forget"  # an erasure: nothing names the person any more (the codes and their counters stay)


class Page(msgspec.Struct, frozen=True):
    """One page of a profile's partition as read: its codes as advocate and as named friend (each with its referral,
    None: deleted since), its friend record (None: not in this page) with the referred entries naming the profile
    (by code), and the survivor's friend record (a merge's)."""

    advocate: list[tuple[str, Referral | None]] = msgspec.field(default_factory=list)
    named: list[tuple[str, Referral | None]] = msgspec.field(default_factory=list)
    friend: FriendRecord | None = None
    friend_item: Mapping[str, Any] | None = None
    referred: Mapping[str, Mapping[str, Any]] = msgspec.field(default_factory=dict)
    other_friend: FriendRecord = msgspec.field(default_factory=FriendRecord)


def _to(to_id: str | None) -> str:
    if to_id is None:
        raise ValueError("a merge or an anonymisation names where the records go")
    return to_id


class _Role(msgspec.Struct, frozen=True):
    """How a referral names the holder of one of its codes: as its advocate, or as the friend it is made out to."""

    entry_key: Callable[[int, str, str], dict[str, str]]  # the code's entry in a profile's partition
    placeholder: str  # `attribute` in expressions
    attribute: str  # the referral's attribute naming the holder
    erased: str  # the referral's mark of that holder erased


_ADVOCATE = _Role(items.advocate_key, "#advocate", "advocateProfileIntegrationId", "advocateErased")
_NAMED = _Role(items.named_key, "#friend", "friendProfileIntegrationId", "friendErased")


def _code_handed_over(
    table: str,
    application_id: int,
    holder_id: str,
    code: str,
    role: _Role,
    holds: bool,
    *,
    move: bool,
    erase: bool,
    to_id: str | None,
) -> list[committer.Write]:
    """One code the holder holds in `role`. The entry leaves the holder's partition (conditional on being there).
    Where the referral still names the holder (`holds`), conditional on that, it names `to_id` instead (`move`; the
    entry moves there too) or nobody, and `erase` marks the holder erased."""
    fail = ReferralRecordChangedError
    entry = role.entry_key(application_id, holder_id, code)
    writes = [committer.delete(table, entry, condition="attribute_exists(PK)", failed=fail)]
    if not holds:
        return writes  # the code is gone or not the holder's: only the stray entry goes
    names = {role.placeholder: role.attribute}
    values: dict[str, Any] = {":holder": holder_id}
    sets: list[str] = []
    if move:
        values[":to"] = _to(to_id)
        sets.append(f"{role.placeholder} = :to")
    if erase:
        names["#erased"] = role.erased
        values[":true"] = True
        sets.append("#erased = :true")
    expression = "SET " + ", ".join(sets) + ("" if move else f" REMOVE {role.placeholder}")
    condition = f"{role.placeholder} = :holder"
    referral_key = items.referral_key(application_id, code)
    writes.append(
        committer.update(table, referral_key, expression, condition=condition, names=names, values=values, failed=fail)
    )
    if move:
        writes.append(committer.put(table, role.entry_key(application_id, _to(to_id), code)))
    return writes


def advocate_code(
    table: str,
    application_id: int,
    holder_id: str,
    code: str,
    referral: Referral | None,
    how: Handover,
    to_id: str | None = None,
) -> list[committer.Write]:
    """One code of the holder's as advocate. The entry leaves the holder's partition (conditional on being there);
    the referral names the survivor (ABSORB), or loses its advocate (FORGET: the id removed; ANONYMISE: the
    tombstone's), marked `advocateErased` so a session answers `AdvocateNotFound`, conditional on naming the holder.
    The survivor and the tombstone get the entry. A referral deleted since leaves only the entry to delete."""
    holds = referral is not None and not referral.advocate_erased and referral.advocate_integration_id == holder_id
    move, erase = how is not Handover.FORGET, how is not Handover.ABSORB
    return _code_handed_over(
        table, application_id, holder_id, code, _ADVOCATE, holds, move=move, erase=erase, to_id=to_id
    )


def named_code(
    table: str,
    application_id: int,
    holder_id: str,
    code: str,
    referral: Referral | None,
    how: Handover,
    to_id: str | None = None,
) -> list[committer.Write]:
    """One code made out to the holder as its friend. The entry leaves the holder's partition; the referral names
    the survivor (ABSORB, which gets the entry) or loses its friend, marked `friendErased` (FORGET, ANONYMISE: the
    code stays, usable by nobody), conditional on naming the holder."""
    holds = referral is not None and not referral.friend_erased and referral.friend_integration_id == holder_id
    absorb = how is Handover.ABSORB
    return _code_handed_over(
        table, application_id, holder_id, code, _NAMED, holds, move=absorb, erase=not absorb, to_id=to_id
    )


def referred_in(
    table: str,
    application_id: int,
    holder_id: str,
    campaign_id: int,
    code: str,
    *,
    last: bool,
    referred: Mapping[str, Any] | None,
    other: FriendRecord,
    how: Handover,
    to_id: str | None = None,
) -> list[committer.Write]:
    """One campaign of the holder's friend record (referred there by `code`). The mark leaves the record (`last`:
    the record itself goes, nothing else being left in it), conditional on still naming the code. ABSORB: the
    survivor takes the mark where it has none in the campaign (`attribute_not_exists`), and the code's referred
    entry names the survivor; where the survivor was referred in the campaign too, its own mark is kept (checked to
    stand) and the absorbed one's referred entry goes: a friend is referred once per campaign, and the code's
    usageCounter keeps the use. FORGET: the referred entry goes. ANONYMISE: it names the tombstone, so the code's
    referred customers still add up to its uses."""
    fail = ReferralRecordChangedError
    names = {"#campaign": items.campaign_attribute(campaign_id)}
    values = {":code": code}
    key = items.friend_key(application_id, holder_id)
    if last:
        mark = committer.delete(table, key, condition="#campaign = :code", names=names, values=values, failed=fail)
    else:
        mark = committer.update(
            table, key, "REMOVE #campaign", condition="#campaign = :code", names=names, values=values, failed=fail
        )
    writes = [mark]
    entry_key = items.referred_key(application_id, code, holder_id)
    moves_entry = how is Handover.ANONYMISE or (how is Handover.ABSORB and not other.referred_in(campaign_id))
    if how is Handover.ABSORB:
        survivor = items.friend_key(application_id, _to(to_id))
        if other.referred_in(campaign_id):  # the survivor's mark is kept: it must still be there
            writes.append(committer.check(table, survivor, "attribute_exists(#campaign)", names=names, failed=fail))
        else:
            writes.append(
                committer.update(
                    table,
                    survivor,
                    "SET #campaign = :code",
                    condition="attribute_not_exists(#campaign)",
                    names=names,
                    values=values,
                    failed=fail,
                )
            )
    if referred is None:
        return writes  # given back meanwhile (a cancel), or never written: only the mark moves
    writes.append(committer.delete(table, entry_key, condition="attribute_exists(PK)", failed=fail))
    if moves_entry:
        moved = {k: v for k, v in referred.items() if k not in ("PK", "SK")}
        writes.append(committer.put(table, {**items.referred_key(application_id, code, _to(to_id)), **moved}))
    return writes


class DynamoReferralPartition:
    """The reads and the hand-over transactions of a profile's referral partition, in the ledgers table."""

    def __init__(self, client: Any, table: str):
        self._client = client
        self._table = table
        self._committer = committer.Committer(client)

    def any(self, application_id: int, integration_id: str) -> bool:
        """Whether the profile's partition holds anything (one Query, Limit 1, keys only)."""
        answer = self._client.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues=codec.to_item({":pk": items.profile_pk(application_id, integration_id)}),
            ConsistentRead=True,
            Limit=1,
            ProjectionExpression="PK",
        )
        return bool(answer.get("Items"))

    def pages(self, application_id: int, integration_id: str, other_id: str | None = None) -> Iterator[Page]:
        """The profile's partition, a page at a time, with the referrals its entries name, the referred entries
        naming the profile and (`other_id`, a merge's survivor) the other profile's friend record."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": codec.to_item({":pk": items.profile_pk(application_id, integration_id)}),
            "ConsistentRead": True,
            "Limit": PAGE,
        }
        while True:
            answer = self._client.query(**request)
            found = [codec.from_item(item) for item in answer.get("Items", [])]
            yield self._page(application_id, integration_id, other_id, found)
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _page(
        self, application_id: int, integration_id: str, other_id: str | None, found: Sequence[Mapping[str, Any]]
    ) -> Page:
        advocate: list[str] = []
        named: list[str] = []
        friend_item: Mapping[str, Any] | None = None
        for item in found:
            sort_key = str(item["SK"])
            if sort_key.startswith(items.ADVOCATE_PREFIX):
                advocate.append(sort_key[len(items.ADVOCATE_PREFIX) :])
            elif sort_key.startswith(items.NAMED_PREFIX):
                named.append(sort_key[len(items.NAMED_PREFIX) :])
            elif sort_key == items.FRIEND_SK:
                friend_item = item
        friend = items.friend_record_from_item(friend_item) if friend_item is not None else None
        keys = [items.referral_key(application_id, code) for code in dict.fromkeys(advocate + named)]
        if friend is not None:
            codes = dict.fromkeys(friend.codes.values())
            keys += [items.referred_key(application_id, code, integration_id) for code in codes]
            if other_id is not None:
                keys.append(items.friend_key(application_id, other_id))
        read = self.batch_get(keys)
        referral_prefix, referred_prefix = items.referral_pk(application_id, ""), items.referred_pk(application_id, "")
        referrals = {
            items.code_of(str(item["PK"])): items.referral_from_item(item)
            for item in read
            if str(item["PK"]).startswith(referral_prefix)
        }
        referred = {
            items.code_of(str(item["PK"])): item for item in read if str(item["PK"]).startswith(referred_prefix)
        }
        other_pk = items.profile_pk(application_id, other_id) if other_id is not None else None
        other = next((item for item in read if item["PK"] == other_pk), None)
        return Page(
            advocate=[(code, referrals.get(code)) for code in advocate],
            named=[(code, referrals.get(code)) for code in named],
            friend=friend,
            friend_item=friend_item,
            referred=referred,
            other_friend=items.friend_record_from_item(other),
        )

    def advocate_codes(self, application_id: int, integration_id: str) -> Iterator[list[Referral]]:
        """The profile's codes as advocate, a page of the advocate entries at a time (code order), each page's
        referrals read in one BatchGetItem (eventually consistent: the inventory's read); a code deleted since is
        left out."""
        request: dict[str, Any] = {**items.advocate_query(self._table, application_id, integration_id), "Limit": 100}
        while True:
            answer = self._client.query(**request)
            codes = [items.advocate_code_of(str(codec.from_item(row)["SK"])) for row in answer.get("Items", [])]
            read = self.batch_get([items.referral_key(application_id, code) for code in codes], consistent=False)
            referrals = {items.code_of(str(item["PK"])): items.referral_from_item(item) for item in read}
            yield [referrals[code] for code in codes if code in referrals]
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def referred(self, application_id: int, code: str, limit: int) -> list[str]:
        """The friends a code referred, in id order, at most `limit` of them (keys-only Query pages)."""
        request: dict[str, Any] = {**items.referred_query(self._table, application_id, code), "Limit": limit}
        friends: list[str] = []
        while len(friends) < limit:
            answer = self._client.query(**request)
            friends += [str(codec.from_item(row)["SK"]) for row in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            request["Limit"] = limit - len(friends)
        return friends[:limit]

    def hand_over(self, plan: Sequence[committer.Write]) -> None:
        self._committer.commit(plan, conflict=ReferralRecordChangedError)

    def batch_get(self, keys: Sequence[Mapping[str, Any]], consistent: bool = True) -> list[dict[str, Any]]:
        """Items of the ledgers table by key (at most 100 keys a call, unprocessed keys retried)."""
        return read_all(self._client, self._table, keys, consistent=consistent)
