"""Loyalty cards as stored and as paths name them (patron.loyalty.cards): an item reads back as the card written,
identifiers follow the SDK's pattern exactly, and a card's ledger lives in its own partition."""

from __future__ import annotations

import pytest

from patron.loyalty import items
from patron.loyalty.cards import CardNotFoundError, Linked, StoredCard, card_from_item, card_to_item, identifier_of
from patron.loyalty.items import Card


def test_a_card_reads_back_as_written():
    card = StoredCard(
        identifier="Card-0001",
        program_id=2,
        status="inactive",
        created="2026-12-01T10:00:00+00:00",
        modified="2026-12-02T10:00:00+00:00",
        users_per_card=3,
        profiles=(Linked("alice", "2026-12-01T10:00:00+00:00"), Linked("bob", "2026-12-01T11:00:00+00:00")),
        block_reason="lost",
        version=4,
    )
    item = card_to_item(7, card)
    assert (item["PK"], item["SK"]) == ("APP#7#LOYALTY#2#CARD#Card-0001", "CARD")
    assert card_from_item(item) == card
    assert items.holder_of(item) == Card("Card-0001") and items.program_of(item) == 2
    assert card.linked("bob") and not card.linked("carol") and not card.active


@pytest.mark.parametrize("identifier", ["abcd", "A_b-9" * 20, "0000", "x" * 108])
def test_identifiers_of_the_sdks_pattern_are_taken_as_they_are(identifier):
    assert identifier_of(identifier) == identifier


@pytest.mark.parametrize("identifier", ["abc", "x" * 109, "a b c", "card.1", "ca%rd", "carte-\u00e9", ""])
def test_anything_else_names_no_card(identifier):
    with pytest.raises(CardNotFoundError):
        identifier_of(identifier)


def test_a_cards_ledger_and_a_profiles_are_apart():
    assert items.ledger_key(1, 2, Card("ABCD")) == {"PK": "APP#1#LOYALTY#2#CARD#ABCD", "SK": "LEDGER"}
    assert items.ledger_key(1, 2, "ABCD") == {"PK": "APP#1#LOYALTY#2#PROFILE#ABCD", "SK": "LEDGER"}
    assert items.holder_attributes(Card("ABCD")) == {"cardIdentifier": "ABCD"}
    assert items.card_index_key(1, "alice", 2, "ABCD") == {"PK": "APP#1#LOYALTY#MEMBER#alice", "SK": "CARD#2#ABCD"}
