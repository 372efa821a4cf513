"""Cards generated, linked to profiles, blocked and unblocked (docs/loyalty.md, "Cards"): each change is one
transaction, the card on the version read and each linked person's member-index entry (patron.loyalty.cards)."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from typing import Any

import msgspec

from patron.clock import Clock
from patron.dynamo import codec, committer
from patron.dynamo.batch import read_batch
from patron.loyalty import items
from patron.loyalty.cards import (
    INACTIVE,
    CardChangedError,
    CardExistsError,
    CardInactiveError,
    CardNotFoundError,
    Linked,
    StoredCard,
    UsersPerCardLimitError,
    card_from_item,
    card_write,
    check_kind,
    index_write,
)
from patron.loyalty.service import ProfileNotFoundError, live_program
from patron.profiles.keys import PROFILE_SK, profile_pk
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.store import LiveRulesets, pointer_key
from patron.settings import Tables

ATTEMPTS = 4  # reads and decisions when the card moved meanwhile
_ALPHABET = string.ascii_uppercase + string.digits
_GENERATED_LENGTH = 16  # 36^16: a collision (refused by the conditional put, then drawn again) is negligible


class LoyaltyCards:
    def __init__(self, client: Any, tables: Tables, rulesets: LiveRulesets, clock: Clock):
        self._client = client
        self._tables = tables
        self._rulesets = rulesets
        self._clock = clock
        self._committer = committer.Committer(client)

    def generate(
        self,
        application_id: int,
        program_id: int,
        status: str,
        profile_ids: Sequence[str],
        identifier: str | None,
    ) -> tuple[StoredCard, LoyaltyProgram]:
        """A new card, linked to the profiles named (each must exist, at most the program's users per card); its
        identifier is the one given (409 if the program has it already) or a random one."""
        wanted = list(dict.fromkeys(profile_ids))
        pointer, profiles, _ = self._read(application_id, program_id, None, wanted)
        program = live_program(self._rulesets, application_id, pointer, program_id)
        check_kind(program, card=True)
        if program.users_per_card and len(wanted) > program.users_per_card:
            raise UsersPerCardLimitError(program.users_per_card, "customerProfileIds")
        if any(one not in profiles for one in wanted):
            raise ProfileNotFoundError()
        for _ in range(ATTEMPTS):
            now = self._clock.now().isoformat()
            card = StoredCard(
                identifier=identifier or _generated(),
                program_id=program_id,
                status=status,
                created=now,
                modified=now,
                users_per_card=program.users_per_card,
                profiles=tuple(Linked(one, now) for one in wanted),
            )
            writes = [card_write(self._tables.ledgers, application_id, card, 0)]
            writes += [index_write(self._tables.ledgers, application_id, card, one) for one in wanted]
            try:
                self._committer.commit(writes)
            except CardExistsError:
                if identifier is not None:
                    raise
                continue  # a generated identifier taken: draw another
            return card, program
        raise CardExistsError()

    def link(
        self, application_id: int, program_id: int, identifier: str, integration_id: str
    ) -> tuple[StoredCard, LoyaltyProgram]:
        """The profile linked to the card (once: linked already, the card is answered as it is). An inactive card
        takes no new profile; a card at its users-per-card limit neither (400)."""
        for _ in range(ATTEMPTS):
            pointer, profiles, card = self._read(application_id, program_id, identifier, [integration_id])
            program = live_program(self._rulesets, application_id, pointer, program_id)
            check_kind(program, card=True)
            if card is None:
                raise CardNotFoundError()
            if integration_id not in profiles:
                raise ProfileNotFoundError()
            if card.linked(integration_id):
                return card, program
            if not card.active:
                raise CardInactiveError()
            if card.users_per_card and len(card.profiles) >= card.users_per_card:
                raise UsersPerCardLimitError(card.users_per_card, "integrationId")
            now = self._clock.now().isoformat()
            after = msgspec.structs.replace(
                card, profiles=(*card.profiles, Linked(integration_id, now)), modified=now, version=card.version + 1
            )
            writes = [
                card_write(self._tables.ledgers, application_id, after, card.version),
                index_write(self._tables.ledgers, application_id, after, integration_id),
            ]
            try:
                self._committer.commit(writes, conflict=CardChangedError)
            except CardChangedError:
                continue  # another link or change meanwhile: read and decide again
            return after, program
        raise CardChangedError()

    def update(
        self, application_id: int, program_id: int, identifier: str, status: str, block_reason: str | None
    ) -> tuple[StoredCard, LoyaltyProgram]:
        """The card blocked (`inactive`, with its reason) or unblocked (`active`: the reason goes)."""
        for _ in range(ATTEMPTS):
            pointer, _, card = self._read(application_id, program_id, identifier, [])
            program = live_program(self._rulesets, application_id, pointer, program_id)
            check_kind(program, card=True)
            if card is None:
                raise CardNotFoundError()
            reason = block_reason if status == INACTIVE else None
            after = msgspec.structs.replace(
                card,
                status=status,
                block_reason=reason,
                modified=self._clock.now().isoformat(),
                version=card.version + 1,
            )
            try:
                self._committer.commit([card_write(self._tables.ledgers, application_id, after, card.version)],
                                       conflict=CardChangedError)  # fmt: skip
            except CardChangedError:
                continue
            return after, program
        raise CardChangedError()

    def _read(
        self, application_id: int, program_id: int, identifier: str | None, profile_ids: Sequence[str]
    ) -> tuple[dict[str, Any] | None, set[str], StoredCard | None]:
        """The ruleset pointer, which of the profiles exist, and the card: one BatchGetItem."""
        tables = self._tables
        request: dict[str, Any] = {
            tables.config: {"Keys": [codec.to_item(pointer_key(application_id))], "ConsistentRead": True}
        }
        if profile_ids:
            request[tables.profiles] = {
                "Keys": [
                    codec.to_item({"PK": profile_pk(application_id, one), "SK": PROFILE_SK}) for one in profile_ids
                ],
                "ConsistentRead": True,
                "ProjectionExpression": "PK",
            }
        if identifier is not None:
            key = items.card_key(application_id, program_id, identifier)
            request[tables.ledgers] = {"Keys": [codec.to_item(key)], "ConsistentRead": True}
        found = read_batch(self._client, request)
        pointer = next((item for table, item in found if table == tables.config), None)
        pks = {item["PK"] for table, item in found if table == tables.profiles}
        card_item = next((item for table, item in found if table == tables.ledgers), None)
        existing = {one for one in profile_ids if profile_pk(application_id, one) in pks}
        return pointer, existing, card_from_item(card_item) if card_item is not None else None


def _generated() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_GENERATED_LENGTH))
