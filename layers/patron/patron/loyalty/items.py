"""How a member's points are stored (LedgersTable): one partition per application, program and profile, holding
the member's ledger (its open lots and totals: what a balance read needs, in one item, read in one round trip)
and one entry per transaction, keyed by its transaction id so a replay cannot add it twice.

    PK APP#<app>#LOYALTY#<program>#PROFILE#<integration id>
       SK LEDGER              the `Ledger` (JSON), `version` (every change is conditional on the one read)
       SK TXN#<transaction>   an entry: addition or subtraction, its amount, dates, session, a
                              subtraction's draws (which lots it took from), for rollbacks and the history,
                              and a rollback's `rollsBack` (the transaction it undoes)
    PK APP#<app>#LOYALTY#PENDING#<transaction>
       SK PENDING             points awaiting an action (`on_action`): whose they are (program, member,
                              subledger), so `activate_points` finds them by transaction id; gone when activated
    PK APP#<app>#LOYALTY#MEMBER#<integration id>
       SK PROGRAM#<program>   the programs the person has a ledger in (written with the ledger's first
                              version): what a merge, an erasure or an export goes through
       SK CARD#<program>#<identifier>   the cards the person is linked to (patron.loyalty.cards)

A card-based program's ledgers are its cards' (`Card`): the same items under the card's partition,

    PK APP#<app>#LOYALTY#<program>#CARD#<identifier>
       SK CARD                the card: status, block reason, linked profiles, users-per-card limit, version
       SK LEDGER, TXN#...     as a profile's

The ledger item is in two sparse time indexes (KEYS_ONLY) the scheduled job Queries (`patron.loyalty.expiry`),
each sharded by a stable hash of the ledger's key (`DUE_SHARDS`) so no index partition is hot:

    GSI1PK LOYALTY#DUE#<nn>      GSI1SK the next start or expiry (`due.next_change`)
    GSI2PK LOYALTY#NOTICE#<nn>   GSI2SK the earliest expiry of a lot not noticed yet (`due.next_notice`)

Instants are ISO UTC with microseconds (`index_instant`): they sort as text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.dynamo import committer
from patron.errors import ConflictError
from patron.loyalty import due
from patron.loyalty.ledger import Draw, Ledger

LEDGER_SK = "LEDGER"
ENTRY_PREFIX = "TXN#"
PROGRAM_PREFIX = "PROGRAM#"
_ledger_decoder = msgspec.json.Decoder(Ledger)
_draws_decoder = msgspec.json.Decoder(list[Draw])


class LedgerChangedError(ConflictError):
    """The member's ledger changed since it was read (another session or call): decide again."""

    def __init__(self) -> None:
        super().__init__("The loyalty ledger changed meanwhile.", code="loyalty_ledger_changed")


class Card(msgspec.Struct, frozen=True):
    """A card-based program's ledger holder: a loyalty card, by its identifier (a profile is its integration id)."""

    identifier: str


Holder = str | Card  # whose ledger: a profile's integration id, or a card
LedgerRef = tuple[int, Holder]  # a loyalty ledger: its program, and whose it is (a profile or a card)


class StoredLedger(msgspec.Struct, frozen=True):
    ledger: Ledger
    version: int  # 0: not stored yet
    joined: str | None = None  # when the member joined the program (ISO)
    noticed: tuple[str, ...] = ()  # open lots whose "expiring soon" notice was sent (the expiry job's)


class Entry(msgspec.Struct, frozen=True):
    """One transaction of a member's ledger."""

    transaction_id: str
    kind: str  # "addition" or "subtraction"
    subledger: str
    amount: Decimal
    name: str
    created: datetime
    session_id: str | None = None
    campaign_id: int | None = None
    starts: datetime | None = None  # an addition's; None: awaits an action
    expires: datetime | None = None  # an addition's; None: never
    draws: Sequence[Draw] = ()  # a subtraction's
    into_debt: Decimal = Decimal(0)  # a subtraction's part beyond the active balance
    rolls_back: str | None = None  # a rollback's (cancel, reopen, return): the transaction it undoes
    card: str | None = None  # a card's ledger's (card-based programs): kept with the session, for its rollback
    recipient: str | None = None  # a recipient's ledger's (not the session's customer): kept likewise
    lines: Mapping[int, Decimal] = {}  # a per-item addition's points by cart item position: a return's are its lines'


def member_pk(application_id: int, program_id: int, integration_id: Holder) -> str:
    if isinstance(integration_id, Card):
        return f"APP#{application_id}#LOYALTY#{program_id}#CARD#{integration_id.identifier}"
    return f"APP#{application_id}#LOYALTY#{program_id}#PROFILE#{integration_id}"


def holder_attributes(holder: Holder) -> dict[str, str]:
    """Whose an item is, as its attributes name it: `integrationId` (a profile) or `cardIdentifier`."""
    if isinstance(holder, Card):
        return {"cardIdentifier": holder.identifier}
    return {"integrationId": holder}


def holder_of(item: Mapping[str, Any]) -> Holder:
    """Whose an item is, from the attributes `holder_attributes` wrote."""
    if "cardIdentifier" in item:
        return Card(str(item["cardIdentifier"]))
    return str(item["integrationId"])


def ledger_key(application_id: int, program_id: int, integration_id: Holder) -> dict[str, str]:
    return {"PK": member_pk(application_id, program_id, integration_id), "SK": LEDGER_SK}


CARD_SK = "CARD"
CARD_PREFIX = "CARD#"


def card_key(application_id: int, program_id: int, identifier: str) -> dict[str, str]:
    return {"PK": member_pk(application_id, program_id, Card(identifier)), "SK": CARD_SK}


def card_index_key(application_id: int, integration_id: str, program_id: int, identifier: str) -> dict[str, str]:
    """A profile's link to a card, in the person's member index (what a merge, an erasure or an export finds)."""
    return {"PK": member_index_pk(application_id, integration_id), "SK": f"{CARD_PREFIX}{program_id}#{identifier}"}


def program_of(item: Mapping[str, Any]) -> int:
    return int(str(item["PK"]).split("#", 4)[3])


PENDING_SK = "PENDING"


def pending_key(application_id: int, transaction: str) -> dict[str, str]:
    return {"PK": f"APP#{application_id}#LOYALTY#PENDING#{transaction}", "SK": PENDING_SK}


def pending_write(
    table: str, application_id: int, program_id: int, integration_id: Holder, entry: Entry
) -> committer.Write:
    """An addition awaiting an action, findable by its transaction id."""
    item = {
        **pending_key(application_id, entry.transaction_id),
        "programId": program_id,
        **holder_attributes(integration_id),
        "subledger": entry.subledger,
    }
    return committer.put(table, item)


def entry_writes(
    table: str, application_id: int, program_id: int, integration_id: Holder, entry: Entry
) -> list[committer.Write]:
    """The entry and, for points awaiting an action, their pending index item."""
    writes = [entry_write(table, application_id, program_id, integration_id, entry)]
    if entry.kind == "addition" and entry.starts is None:
        writes.append(pending_write(table, application_id, program_id, integration_id, entry))
    return writes


def ledger_from_item(item: Mapping[str, Any] | None, now: datetime) -> StoredLedger:
    """The stored ledger, or an empty one as of `now` (version 0) when there is none."""
    if item is None:
        return StoredLedger(Ledger(as_of=now), 0)
    joined = item.get("joined")
    return StoredLedger(
        _ledger_decoder.decode(str(item["ledger"])),
        int(item["version"]),
        str(joined) if joined else None,
        tuple(str(lot) for lot in item.get("noticed") or ()),
    )


def member_index_pk(application_id: int, integration_id: str) -> str:
    return f"APP#{application_id}#LOYALTY#MEMBER#{integration_id}"


def member_index_key(application_id: int, integration_id: str, program_id: int) -> dict[str, str]:
    return {"PK": member_index_pk(application_id, integration_id), "SK": f"{PROGRAM_PREFIX}{program_id}"}


def ledger_writes(
    table: str, application_id: int, program_id: int, integration_id: Holder, stored: StoredLedger, read_version: int
) -> list[committer.Write]:
    """The ledger on the version read and, with a profile's first version, the person's entry in the member index
    (a card's holders are linked to it, `CARD#...`, instead)."""
    writes = [ledger_write(table, application_id, program_id, integration_id, stored, read_version)]
    if read_version == 0 and isinstance(integration_id, str):
        writes.append(committer.put(table, member_index_key(application_id, integration_id, program_id)))
    return writes


def ledger_write(
    table: str, application_id: int, program_id: int, integration_id: Holder, stored: StoredLedger, read_version: int
) -> committer.Write:
    """The ledger, if nobody changed it since it was read at `read_version` (0: it did not exist)."""
    item: dict[str, Any] = {
        **ledger_key(application_id, program_id, integration_id),
        "ledger": msgspec.json.encode(stored.ledger).decode(),
        "version": stored.version,
        "programId": program_id,
        **holder_attributes(integration_id),
    }
    if stored.joined:
        item["joined"] = stored.joined
    item.update(index_attributes(item["PK"], stored))
    return committer.put_on_version(table, item, read_version, LedgerChangedError)


DUE_SHARDS = 16  # index partitions per time index: a Query each per run; 16 x 1,000 WCU/s of index writes
DUE_INDEX = "GSI1"
NOTICE_INDEX = "GSI2"


def due_shard(pk: str) -> int:
    """The ledger's index shard: a stable hash of its key (the same in every process, unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(pk.encode(), digest_size=4).digest(), "big") % DUE_SHARDS


def due_pk(shard: int) -> str:
    return f"LOYALTY#DUE#{shard:02d}"


def notice_pk(shard: int) -> str:
    return f"LOYALTY#NOTICE#{shard:02d}"


def index_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def index_attributes(pk: str, stored: StoredLedger) -> dict[str, Any]:
    """The ledger item's time-index keys (absent when nothing is due: the indexes are sparse) and its noticed lots
    (only those still open)."""
    attributes: dict[str, Any] = {}
    shard = due_shard(pk)
    change = due.next_change(stored.ledger)
    if change is not None:
        attributes |= {"GSI1PK": due_pk(shard), "GSI1SK": index_instant(change)}
    noticed = due.still_noticed(stored.ledger, stored.noticed)
    notice = due.next_notice(stored.ledger, noticed)
    if notice is not None:
        attributes |= {"GSI2PK": notice_pk(shard), "GSI2SK": index_instant(notice)}
    if noticed:
        attributes["noticed"] = list(noticed)
    return attributes


def entry_write(
    table: str, application_id: int, program_id: int, integration_id: Holder, entry: Entry
) -> committer.Write:
    """The entry, only once: its transaction id is its key."""
    item: dict[str, Any] = {
        "PK": member_pk(application_id, program_id, integration_id),
        "SK": ENTRY_PREFIX + entry.transaction_id,
        "type": entry.kind,
        "subledger": entry.subledger,
        "amount": entry.amount,
        "name": entry.name,
        "created": entry.created.isoformat(),
    }
    if entry.session_id is not None:
        item["sessionId"] = entry.session_id
    if entry.campaign_id is not None:
        item["campaignId"] = entry.campaign_id
    if entry.rolls_back is not None:
        item["rollsBack"] = entry.rolls_back
    if entry.kind == "addition":
        item["startDate"] = entry.starts.isoformat() if entry.starts else "on_action"
        item["expiryDate"] = entry.expires.isoformat() if entry.expires else "unlimited"
    else:
        item["draws"] = msgspec.json.encode(list(entry.draws)).decode()
        if entry.into_debt:
            item["intoDebt"] = entry.into_debt
    return committer.put(table, item, condition="attribute_not_exists(PK)", failed=LedgerChangedError)


def entry_from_item(item: Mapping[str, Any]) -> Entry:
    starts = item.get("startDate")
    expires = item.get("expiryDate")
    return Entry(
        transaction_id=str(item["SK"])[len(ENTRY_PREFIX) :],
        kind=str(item["type"]),
        subledger=str(item.get("subledger", "")),
        amount=Decimal(str(item["amount"])),
        name=str(item.get("name", "")),
        created=datetime.fromisoformat(str(item["created"])),
        session_id=str(item["sessionId"]) if "sessionId" in item else None,
        campaign_id=int(item["campaignId"]) if "campaignId" in item else None,
        starts=datetime.fromisoformat(str(starts)) if starts and starts != "on_action" else None,
        expires=datetime.fromisoformat(str(expires)) if expires and expires != "unlimited" else None,
        draws=_draws_decoder.decode(str(item["draws"])) if "draws" in item else (),
        into_debt=Decimal(str(item.get("intoDebt", 0))),
        rolls_back=str(item["rollsBack"]) if "rollsBack" in item else None,
    )
