"""Loyalty cards of card-based programs (docs/loyalty.md, "Cards"): a card holds the ledger, and profiles are
linked to it, up to the program's users-per-card limit.

A card is one item (`patron.loyalty.items.card_key`) in its own ledger partition: status (`active`, `inactive`),
block reason, the profiles linked with their link time, the limit it was generated with, and a version. Every
change is one transaction: the card on the version read (so concurrent links never pass the limit) and each linked
person's entry in the member index (`CARD#<program>#<identifier>`), which a merge, an erasure or an export goes
through (patron.loyalty.personal_data)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from patron.dynamo import committer
from patron.errors import ConflictError, FieldIssue, NotFoundError, ValidationError
from patron.loyalty import items
from patron.loyalty.history import entry_number
from patron.loyalty.wire import LinkedProfileView, LoyaltyCardView
from patron.promotions.definitions import LoyaltyProgram

ACTIVE, INACTIVE = "active", "inactive"
CARD_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{4,108}")  # Talon.One's (the SDK's pattern and lengths)


class Linked(msgspec.Struct, frozen=True):
    integration_id: str
    timestamp: str  # ISO


class StoredCard(msgspec.Struct, frozen=True):
    identifier: str
    program_id: int
    status: str
    created: str
    modified: str
    users_per_card: int  # 0: no limit
    profiles: tuple[Linked, ...] = ()
    block_reason: str | None = None
    version: int = 1

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def linked(self, integration_id: str) -> bool:
        return any(one.integration_id == integration_id for one in self.profiles)


class CardNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No loyalty card has this identifier in the program.", code="loyalty_card_not_found")


class CardExistsError(ConflictError):
    def __init__(self) -> None:
        super().__init__("A loyalty card has this identifier in the program already.", code="loyalty_card_exists")


class CardChangedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("The loyalty card changed meanwhile.", code="loyalty_card_changed")


class UsersPerCardLimitError(ValidationError):
    def __init__(self, limit: int, path: str) -> None:
        message = f"The card is linked to its limit of {limit} customer profiles."
        super().__init__(message, [FieldIssue(path, "users_per_card_limit_reached", message)],
                         code="users_per_card_limit_reached")  # fmt: skip


class CardInactiveError(ValidationError):
    def __init__(self, path: str = "path.loyaltyCardId") -> None:
        message = "The loyalty card is inactive (blocked)."
        super().__init__(message, [FieldIssue(path, "loyalty_card_inactive", message)], code="loyalty_card_inactive")


class ProgramKindError(ValidationError):
    """A card route for a profile-based program, or a profile route for a card-based one."""

    def __init__(self, card_based: bool) -> None:
        if card_based:
            code, message = "loyalty_program_card_based", "The loyalty program is card-based: use its cards' routes."
        else:
            code, message = "loyalty_program_not_card_based", "The loyalty program is not card-based."
        super().__init__(message, [FieldIssue("path.loyaltyProgramId", code, message)], code=code)


def identifier_of(path_value: str) -> str:
    """A path's card identifier; anything that cannot be one names no card (404), as `program_id_of`."""
    if not CARD_IDENTIFIER.fullmatch(path_value):
        raise CardNotFoundError()
    return path_value


def check_kind(program: LoyaltyProgram, card: bool) -> None:
    if program.card_based != card:
        raise ProgramKindError(program.card_based)


def card_to_item(application_id: int, card: StoredCard) -> dict[str, Any]:
    item: dict[str, Any] = {
        **items.card_key(application_id, card.program_id, card.identifier),
        "programId": card.program_id,
        "cardIdentifier": card.identifier,
        "status": card.status,
        "created": card.created,
        "modified": card.modified,
        "usersPerCard": card.users_per_card,
        "profiles": [{"integrationId": one.integration_id, "timestamp": one.timestamp} for one in card.profiles],
        "version": card.version,
    }
    if card.block_reason is not None:
        item["blockReason"] = card.block_reason
    return item


def card_from_item(item: dict[str, Any]) -> StoredCard:
    return StoredCard(
        identifier=str(item["cardIdentifier"]),
        program_id=int(item["programId"]),
        status=str(item["status"]),
        created=str(item["created"]),
        modified=str(item["modified"]),
        users_per_card=int(item.get("usersPerCard", 0)),
        profiles=tuple(Linked(str(one["integrationId"]), str(one["timestamp"])) for one in item.get("profiles") or ()),
        block_reason=str(item["blockReason"]) if item.get("blockReason") is not None else None,
        version=int(item["version"]),
    )


def card_write(table: str, application_id: int, card: StoredCard, read_version: int) -> committer.Write:
    """The card, if nobody changed it since it was read at `read_version` (0: it did not exist)."""
    item = card_to_item(application_id, card)
    return committer.put_on_version(table, item, read_version, CardChangedError, exists=CardExistsError)


def index_write(table: str, application_id: int, card: StoredCard, integration_id: str) -> committer.Write:
    key = items.card_index_key(application_id, integration_id, card.program_id, card.identifier)
    return committer.put(table, {**key, "programId": card.program_id, "cardIdentifier": card.identifier})


def card_view(application_id: int, card: StoredCard, program: LoyaltyProgram | None = None) -> LoyaltyCardView:
    return LoyaltyCardView(
        id=card_id_number(application_id, card.program_id, card.identifier),
        created=datetime.fromisoformat(card.created),
        program_id=card.program_id,
        program_name=program.name if program is not None else None,
        program_title=(program.title or program.name) if program is not None else None,
        status=card.status,
        block_reason=card.block_reason,
        identifier=card.identifier,
        users_per_card_limit=card.users_per_card,
        profiles=linked_views(card),
        modified=datetime.fromisoformat(card.modified),
    )


def card_id_number(application_id: int, program_id: int, identifier: str) -> int:
    """Talon.One numbers its cards; Patron's number derives from the card (stable, 52 bits)."""
    return entry_number(f"{application_id}:{program_id}:{identifier}")


def linked_views(card: StoredCard) -> list[LinkedProfileView]:
    return [LinkedProfileView(one.integration_id, datetime.fromisoformat(one.timestamp)) for one in card.profiles]
