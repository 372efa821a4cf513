"""Referrals in the ledgers table: keys, items, and the conditional writes a creation, a close and a cancel make
(docs/data-model.md, "LedgersTable — referrals").

- referral: `APP#<application>#REFERRAL#<code>` / `REFERRAL`, with its usage counter, so a session's BatchGetItem
  fetches the code it names and a redemption is one conditional update of the item it read;
- a profile's referral items, one partition per profile, `APP#<application>#REFPROFILE#<integrationId>`:
  - advocate entry, SK `ADVOCATE#<code>`: the profile's own codes, listed by one Query (inventory `referrals=true`)
    without an index; written with the referral;
  - named entry, SK `NAMED#<code>`: the codes made out to the profile as their friend (`friendProfileIntegrationId`),
    so the customer lifecycle finds them by the same Query; written with the referral;
  - friend record, SK `FRIEND`: one attribute per campaign the profile was referred in, `c<campaignId>` = the code,
    so the session reads it by key before knowing the code's campaign, and a redemption sets its campaign's
    attribute only where it is absent (a friend is referred once per campaign);
- referred entry: `APP#<application>#REFERRED#<code>` / `<friendIntegrationId>`, the friends a code referred (the
  inventory's `referredCustomers`; a partition of its own: an integration id fills a sort key's 1,024 bytes alone).

The code is stored only in the keys (every write is charged for the whole item). Items and values are Python values
as codec.from_item gives them and committer's builders take them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from patron.clock import iso
from patron.dynamo import codec, committer
from patron.errors import ConflictError
from patron.promotions.stored import storable_attributes
from patron.referrals.model import FriendRecord, Redemption, Referral

REFERRAL_SK = "REFERRAL"
ADVOCATE_PREFIX = "ADVOCATE#"
NAMED_PREFIX = "NAMED#"
FRIEND_SK = "FRIEND"
IDS_SK = "COUNTER"
CAMPAIGN_ATTRIBUTE = "c"  # the friend record's attribute of campaign 7 is `c7`


class ReferralExhaustedError(ConflictError):
    """A code's redemptions ran out since the read: decide again with fresh items."""

    def __init__(self) -> None:
        super().__init__("A referral code was used up meanwhile; try again.", code="referral_exhausted")


class FriendAlreadyReferredError(ConflictError):
    """The friend was referred in the code's campaign since the read (a concurrent close): decide again."""

    def __init__(self) -> None:
        super().__init__("The customer was referred meanwhile; try again.", code="referral_already_referred")


class ReferralChangedError(ConflictError):
    """A referral was deleted or its counter moved under a give-back: read it again."""

    def __init__(self) -> None:
        super().__init__("A referral changed meanwhile; try again.", code="referral_changed")


class ReferralCodeTakenError(ConflictError):
    """A referral with this code exists already: a generator draws another code, an explicit one is refused."""

    def __init__(self) -> None:
        super().__init__("A referral with this code exists already.", code="referral_code_taken")


# -- keys ---------------------------------------------------------------------------------------------------------


def referral_pk(application_id: int, code: str) -> str:
    return f"APP#{application_id}#REFERRAL#{code}"


def referral_key(application_id: int, code: str) -> dict[str, str]:
    return {"PK": referral_pk(application_id, code), "SK": REFERRAL_SK}


def ids_key(application_id: int) -> dict[str, str]:
    """The application's referral id counter (`value`: the last id handed out; Talon.One's `Referral.id` is an
    integer). A partition of its own: every `REFERRAL#` key names a code."""
    return {"PK": f"APP#{application_id}#REFERRAL_IDS", "SK": IDS_SK}


def profile_pk(application_id: int, integration_id: str) -> str:
    """The partition of everything a profile has of referrals (its codes as advocate, its friend record)."""
    return f"APP#{application_id}#REFPROFILE#{integration_id}"


def advocate_key(application_id: int, integration_id: str, code: str) -> dict[str, str]:
    return {"PK": profile_pk(application_id, integration_id), "SK": ADVOCATE_PREFIX + code}


def named_key(application_id: int, integration_id: str, code: str) -> dict[str, str]:
    """The entry of a code made out to the profile (its friend), in the profile's partition."""
    return {"PK": profile_pk(application_id, integration_id), "SK": NAMED_PREFIX + code}


def friend_key(application_id: int, integration_id: str) -> dict[str, str]:
    return {"PK": profile_pk(application_id, integration_id), "SK": FRIEND_SK}


def referred_pk(application_id: int, code: str) -> str:
    return f"APP#{application_id}#REFERRED#{code}"


def referred_key(application_id: int, code: str, friend_integration_id: str) -> dict[str, str]:
    return {"PK": referred_pk(application_id, code), "SK": friend_integration_id}


def campaign_attribute(campaign_id: int) -> str:
    return f"{CAMPAIGN_ATTRIBUTE}{campaign_id}"


def code_of(referral_item_pk: str) -> str:
    """The code a referral's (or referred entries') partition key names: the key's last field, '#' and all."""
    return referral_item_pk.split("#", 3)[3]


def advocate_code_of(sort_key: str) -> str:
    """The code an advocate entry's sort key names."""
    if not sort_key.startswith(ADVOCATE_PREFIX):
        raise ValueError("not an advocate entry")
    return sort_key[len(ADVOCATE_PREFIX) :]


# -- reads --------------------------------------------------------------------------------------------------------


def advocate_query(table: str, application_id: int, integration_id: str) -> dict[str, Any]:
    """Query arguments (wire format) listing a profile's codes as advocate, in code order: the inventory's
    `referrals=true`, then a BatchGetItem of the referrals named (`advocate_code_of` each entry's SK)."""
    return {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": codec.to_item(
            {":pk": profile_pk(application_id, integration_id), ":prefix": ADVOCATE_PREFIX}
        ),
    }


def referred_query(table: str, application_id: int, code: str) -> dict[str, Any]:
    """Query arguments (wire format) listing the friends a code referred (keys only: the SK is the friend)."""
    return {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": codec.to_item({":pk": referred_pk(application_id, code)}),
        "ProjectionExpression": "SK",
    }


# -- items --------------------------------------------------------------------------------------------------------


def referral_item(application_id: int, referral: Referral) -> dict[str, Any]:
    """The referral as stored. The counter and limit the conditional writes compare are always present (a missing
    attribute fails every comparison); the rest only when set."""
    item: dict[str, Any] = {
        **referral_key(application_id, referral.code),
        "id": referral.id,
        "campaignId": referral.campaign_id,
        "created": iso(referral.created),
        "usageLimit": referral.usage_limit,
        "usageCounter": referral.usage_counter,
    }
    optional: dict[str, Any] = {
        "advocateProfileIntegrationId": referral.advocate_integration_id or None,  # "": erased
        "advocateErased": referral.advocate_erased or None,
        "friendProfileIntegrationId": None if referral.friend_erased else referral.friend_integration_id,
        "friendErased": referral.friend_erased or None,
        "startDate": iso(referral.start_date) if referral.start_date else None,
        "expiryDate": iso(referral.expiry_date) if referral.expiry_date else None,
        "attributes": storable_attributes(referral.attributes) or None,
        "batchId": referral.batch_id,
        "imported": referral.imported or None,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value is not None else None


def referral_from_item(item: Mapping[str, Any]) -> Referral:
    """The referral as stored. An erased advocate (`advocateErased`, its id removed or the tombstone's) reads as
    `advocate_erased` (a session answers `AdvocateNotFound`); an erased friend (`friendErased`, the id removed)
    as the friend "", whom no profile matches."""
    friend_erased = bool(item.get("friendErased", False))
    return Referral(
        code=code_of(str(item["PK"])),
        campaign_id=int(item["campaignId"]),
        advocate_integration_id=str(item.get("advocateProfileIntegrationId", "")),
        advocate_erased=bool(item.get("advocateErased", False)),
        friend_erased=friend_erased,
        id=int(item["id"]),
        created=datetime.fromisoformat(str(item["created"])),
        friend_integration_id="" if friend_erased else item.get("friendProfileIntegrationId"),
        start_date=_time(item.get("startDate")),
        expiry_date=_time(item.get("expiryDate")),
        usage_limit=int(item["usageLimit"]),
        usage_counter=int(item["usageCounter"]),
        attributes=dict(item.get("attributes") or {}),
        batch_id=item.get("batchId"),
        imported=bool(item.get("imported", False)),
    )


def advocate_entry_item(application_id: int, referral: Referral) -> dict[str, Any]:
    """The code's entry in its advocate's partition: keys only (the inventory reads the referral itself)."""
    return advocate_key(application_id, referral.advocate_integration_id, referral.code)


def named_entry_item(application_id: int, referral: Referral) -> dict[str, Any] | None:
    """The code's entry in the partition of the friend it is made out to (None: it names no friend)."""
    if not referral.friend_integration_id:
        return None
    return named_key(application_id, referral.friend_integration_id, referral.code)


def friend_record_from_item(item: Mapping[str, Any] | None) -> FriendRecord:
    """A friend record as read (None: the profile was never referred)."""
    if item is None:
        return FriendRecord()
    codes: dict[int, str] = {}
    for name, value in item.items():
        number = name[len(CAMPAIGN_ATTRIBUTE) :]
        if name.startswith(CAMPAIGN_ATTRIBUTE) and number.isascii() and number.isdigit():
            codes[int(number)] = str(value)
    return FriendRecord(codes)


# -- creation -----------------------------------------------------------------------------------------------------


def create(table: str, application_id: int, referral: Referral) -> list[committer.Write]:
    """One transaction: the referral, only if its code is free (`ReferralCodeTakenError`: named first), its entry
    in the advocate's partition and, for a code made out to a friend, its entry in the friend's. A batch
    (`referrals_for_multiple_advocates`) writes the same items per code by its own means (the referrals by PartiQL
    INSERT, which fails alone on a taken code; then the entries of those written), built by `referral_item`,
    `advocate_entry_item` and `named_entry_item`."""
    writes = [
        committer.put(
            table,
            referral_item(application_id, referral),
            condition="attribute_not_exists(PK)",
            failed=ReferralCodeTakenError,
        ),
        committer.put(table, advocate_entry_item(application_id, referral)),
    ]
    named = named_entry_item(application_id, referral)
    if named is not None:
        writes.append(committer.put(table, named))
    return writes


# -- redemption ---------------------------------------------------------------------------------------------------


def redeem(
    table: str, application_id: int, referral: Referral, friend_integration_id: str, now: datetime
) -> list[committer.Write]:
    """What a close that accepted `referral` for the friend adds to its transaction, in the validation's order:
    the friend's record gains the code's campaign, only where it has none (`FriendAlreadyReferredError`); the code
    counts one more use, only while `usageCounter < usageLimit` (unless 0: unlimited; `ReferralExhaustedError`);
    the code's referred entries gain the friend. Either failure means "decide again": validation then answers
    `ReferralCustomerAlreadyReferred` or `ReferralLimitReached`. The close stores `Redemption(code, campaign,
    friend)` with the session, for `give_back`."""
    return [
        committer.update(
            table,
            friend_key(application_id, friend_integration_id),
            "SET #campaign = :code",
            condition="attribute_not_exists(#campaign)",
            names={"#campaign": campaign_attribute(referral.campaign_id)},
            values={":code": referral.code},
            failed=FriendAlreadyReferredError,
        ),
        committer.update(
            table,
            referral_key(application_id, referral.code),
            "SET #usageCounter = #usageCounter + :one",
            condition="attribute_exists(PK) AND (#usageLimit = :zero OR #usageCounter < #usageLimit)",
            names={"#usageCounter": "usageCounter", "#usageLimit": "usageLimit"},
            values={":one": 1, ":zero": 0},
            failed=ReferralExhaustedError,
        ),
        committer.put(
            table,
            {
                **referred_key(application_id, referral.code, friend_integration_id),
                "campaignId": referral.campaign_id,
                "redeemed": iso(now),
            },
        ),
    ]


def give_back(
    table: str,
    application_id: int,
    redemption: Redemption,
    *,
    referral: Referral | None,
    friend: FriendRecord,
) -> list[committer.Write]:
    """Takes back what a close's `redeem` wrote (a cancel, a reopen), given what the cancel's read found: the code's
    referral (None: deleted since) and the friend's record. The counter never goes below zero; the campaign's mark
    is removed only while it is this code's. What the read did not find is left out (a deleted referral, a mark an
    erasure removed), so the session's state change still commits; a counter or mark that moved between that read
    and the commit fails it (`ReferralChangedError`: read again)."""
    writes: list[committer.Write] = []
    if friend.codes.get(redemption.campaign_id) == redemption.code:
        writes.append(
            committer.update(
                table,
                friend_key(application_id, redemption.friend_integration_id),
                "REMOVE #campaign",
                condition="#campaign = :code",
                names={"#campaign": campaign_attribute(redemption.campaign_id)},
                values={":code": redemption.code},
                failed=ReferralChangedError,
            )
        )
    if referral is not None:
        writes.append(
            committer.update(
                table,
                referral_key(application_id, redemption.code),
                "SET #usageCounter = #usageCounter - :one",
                condition="#usageCounter >= :one",
                names={"#usageCounter": "usageCounter"},
                values={":one": 1},
                failed=ReferralChangedError,
            )
        )
    writes.append(
        committer.delete(table, referred_key(application_id, redemption.code, redemption.friend_integration_id))
    )
    return writes
