"""The session item as DynamoDB holds it: effects stored compressed, and sessions written before that still read."""

from __future__ import annotations

import zlib
from decimal import Decimal

from boto3.dynamodb.types import Binary

from patron.dynamo import codec
from patron.promotions import effects as fx
from patron.sessions.model import CartItem, Session, SessionState
from patron.sessions.store import StoredSession, encode_effects, from_item, to_item


def _stored() -> StoredSession:
    session = Session(
        "cart-1",
        7,
        "2026-12-04T10:00:00Z",
        "2026-12-04T10:00:00Z",
        SessionState.OPEN,
        cart_items=(CartItem("SKU-1", 2, Decimal("19.99"), name="Socks"),),
    )
    effects = [
        fx.Effect(
            campaign_id=3,
            ruleset_id=2,
            rule_index=0,
            rule_name="Ten percent",
            effect_type="setDiscount",
            props=fx.SetDiscountProps(name="Ten percent", value=Decimal("4.00")),
        )
    ]
    return StoredSession(session, effects * 40, ruleset_version=2)


def test_effects_are_stored_compressed_and_read_back_exactly() -> None:
    stored = _stored()
    item = to_item(5, stored)
    assert "effects" not in item
    assert len(item["effectsZ"]) * 10 < len(zlib.decompress(encode_effects(stored.effects)))
    # As a read answers it: through DynamoDB's attribute values, binary as boto3's Binary.
    read = codec.from_item(codec.to_item(item))
    assert isinstance(read["effectsZ"], Binary)
    again = from_item(read)
    assert again.effects == stored.effects
    assert isinstance(again.effects[0].props, fx.SetDiscountProps)
    assert again.effects[0].props.value == Decimal("4.00")


def test_a_session_written_before_compression_still_reads() -> None:
    stored = _stored()
    item = to_item(5, stored)
    del item["effectsZ"]
    item["effects"] = (
        '[{"campaignId":3,"rulesetId":2,"ruleIndex":0,"ruleName":"Ten percent","effectType":"setDiscount",'
        '"props":{"name":"Ten percent","value":4.00}}]'
    )
    again = from_item(codec.from_item(codec.to_item(item)))
    assert [(effect.effect_type, effect.props.value) for effect in again.effects] == [("setDiscount", Decimal("4.00"))]
