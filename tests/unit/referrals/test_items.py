from datetime import UTC, datetime
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from patron.dynamo import codec, committer
from patron.referrals import items
from patron.referrals.model import NOT_REFERRED, FriendRecord, Redemption, Referral
from patron_local.dynamodb_local import PROJECT_ROOT, table_definitions
from patron_local.template import Template

NOW = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
FULL = Referral(
    code="REF#25%OFF",
    campaign_id=7,
    advocate_integration_id="adv#1",
    id=42,
    created=NOW,
    friend_integration_id="p-1",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    expiry_date=datetime(2027, 1, 1, tzinfo=UTC),
    usage_limit=5,
    usage_counter=2,
    attributes={"channel": "mail", "weight": Decimal("1.5")},
    batch_id="b-1",
    imported=True,
)
PLAIN = Referral("FRIEND-10", 3, "adv", 1, NOW)


def stored(item):
    """As DynamoDB hands the item back: through the wire format and back."""
    return codec.from_item(codec.to_item(item))


def values(write):
    return codec.from_item(write.request.get("ExpressionAttributeValues", {}))


def test_a_referral_survives_the_table_unchanged():
    assert items.referral_from_item(stored(items.referral_item(1, FULL))) == FULL
    assert items.referral_from_item(stored(items.referral_item(1, PLAIN))) == PLAIN


def test_a_plain_referral_item_holds_only_what_it_needs():
    item = items.referral_item(9, PLAIN)
    assert item == {
        "PK": "APP#9#REFERRAL#FRIEND-10",
        "SK": "REFERRAL",
        "id": 1,
        "campaignId": 3,
        "created": "2026-06-01T12:30:00.000Z",
        "advocateProfileIntegrationId": "adv",
        "usageLimit": 0,
        "usageCounter": 0,
    }
    assert len(str(codec.to_item(item))) < 400  # one write unit per referral, with room to spare


def test_keys():
    assert items.code_of(items.referral_pk(12, "A#B#C")) == "A#B#C"
    assert items.code_of(items.referred_pk(12, "A#B#C")) == "A#B#C"
    assert items.advocate_key(1, "p#1", "X") == {"PK": "APP#1#REFPROFILE#p#1", "SK": "ADVOCATE#X"}
    assert items.friend_key(1, "p#1") == {"PK": "APP#1#REFPROFILE#p#1", "SK": "FRIEND"}
    assert items.referred_key(1, "X", "p-1") == {"PK": "APP#1#REFERRED#X", "SK": "p-1"}
    assert items.advocate_code_of("ADVOCATE#A#B") == "A#B"
    with pytest.raises(ValueError):
        items.advocate_code_of("FRIEND")


def test_attributes_a_rule_computed_are_stored_in_storable_form():
    referral = Referral("FRIEND-10", 1, "adv", 1, NOW, attributes={"ratio": 0.5, "when": NOW, "gone": None})
    assert items.referral_item(1, referral)["attributes"] == {"ratio": Decimal("0.5"), "when": "2026-06-01T12:30:00Z"}


def test_friend_records():
    assert items.friend_record_from_item(None) == NOT_REFERRED
    read = stored({**items.friend_key(1, "p-1"), "c7": "FRIEND-10", "c12": "OTHER-1"})
    assert items.friend_record_from_item(read) == FriendRecord({7: "FRIEND-10", 12: "OTHER-1"})
    assert items.friend_record_from_item(stored(items.friend_key(1, "p-1"))) == NOT_REFERRED  # every mark removed


def test_creation_names_the_taken_code_first():
    writes = items.create("Ledgers", 1, FULL)
    assert [write.action for write in writes] == ["Put", "Put", "Put"]
    assert writes[0].request["ConditionExpression"] == "attribute_not_exists(PK)"
    assert isinstance(writes[0].failed and writes[0].failed(), items.ReferralCodeTakenError)
    assert codec.from_item(writes[1].request["Item"]) == items.advocate_key(1, "adv#1", FULL.code)
    # A code made out to a friend is filed in the friend's partition too (the lifecycle finds it there).
    assert codec.from_item(writes[2].request["Item"]) == items.named_key(1, "p-1", FULL.code)
    assert [write.action for write in items.create("Ledgers", 1, PLAIN)] == ["Put", "Put"]


def test_a_redemption_marks_the_friend_counts_the_code_and_records_the_friend():
    mark, count, entry = items.redeem("Ledgers", 1, FULL, "p-1", NOW)
    assert mark.request["Key"] == codec.to_item(items.friend_key(1, "p-1"))
    assert mark.request["ExpressionAttributeNames"] == {"#campaign": "c7"}
    assert mark.request["ConditionExpression"] == "attribute_not_exists(#campaign)"
    assert isinstance(mark.failed and mark.failed(), items.FriendAlreadyReferredError)
    assert count.request["Key"] == codec.to_item(items.referral_key(1, FULL.code))
    assert isinstance(count.failed and count.failed(), items.ReferralExhaustedError)
    assert codec.from_item(entry.request["Item"]) == {
        **items.referred_key(1, FULL.code, "p-1"),
        "campaignId": 7,
        "redeemed": "2026-06-01T12:30:00.000Z",
    }


def test_a_give_back_leaves_out_what_the_read_did_not_find():
    redemption = Redemption(FULL.code, 7, "p-1")
    whole = items.give_back("Ledgers", 1, redemption, referral=FULL, friend=FriendRecord({7: FULL.code}))
    assert [write.action for write in whole] == ["Update", "Update", "Delete"]
    assert values(whole[0]) == {":code": FULL.code}
    gone = items.give_back("Ledgers", 1, redemption, referral=None, friend=FriendRecord({7: "OTHER-1"}))
    assert [write.action for write in gone] == ["Delete"]


class Table:
    def __init__(self) -> None:
        self.client = boto3.client("dynamodb", region_name="eu-west-1")
        ledgers = table_definitions(Template.load(PROJECT_ROOT / "template.yaml"))["LedgersTable"]
        self.client.create_table(TableName="Ledgers", **ledgers)
        self.committer = committer.Committer(self.client)

    def get(self, key):
        found = self.client.get_item(TableName="Ledgers", Key=codec.to_item(key), ConsistentRead=True).get("Item")
        return codec.from_item(found) if found else None


@mock_aws
def test_an_advocates_codes_are_one_query_and_a_taken_code_is_refused():
    table = Table()
    for code, advocate in (("AAAA-1", "adv"), ("BBBB-2", "adv"), ("CCCC-3", "adv-2"), ("DDDD-4", "adv#x")):
        table.committer.commit(items.create("Ledgers", 1, Referral(code, 7, advocate, 1, NOW)))
    with pytest.raises(items.ReferralCodeTakenError):
        table.committer.commit(items.create("Ledgers", 1, Referral("AAAA-1", 8, "adv-2", 2, NOW)))
    table.committer.commit(items.redeem("Ledgers", 1, Referral("AAAA-1", 7, "adv", 1, NOW), "adv", NOW))
    page = table.client.query(**items.advocate_query("Ledgers", 1, "adv"))
    assert [items.advocate_code_of(codec.from_item(row)["SK"]) for row in page["Items"]] == ["AAAA-1", "BBBB-2"]
    referred = table.client.query(**items.referred_query("Ledgers", 1, "AAAA-1"))
    assert [codec.from_item(row) for row in referred["Items"]] == [{"SK": "adv"}]


@mock_aws
def test_a_friend_is_referred_once_per_campaign_and_again_after_a_give_back():
    table = Table()
    first, second, elsewhere = (
        Referral(code, campaign, "adv", 1, NOW) for code, campaign in (("AAAA-1", 7), ("BBBB-2", 7), ("CCCC-3", 8))
    )
    for referral in (first, second, elsewhere):
        table.committer.commit(items.create("Ledgers", 1, referral))
    table.committer.commit(items.redeem("Ledgers", 1, first, "p-1", NOW))
    with pytest.raises(items.FriendAlreadyReferredError):
        table.committer.commit(items.redeem("Ledgers", 1, second, "p-1", NOW))
    table.committer.commit(items.redeem("Ledgers", 1, elsewhere, "p-1", NOW))
    record = items.friend_record_from_item(table.get(items.friend_key(1, "p-1")))
    assert record == FriendRecord({7: "AAAA-1", 8: "CCCC-3"})
    stored_first = items.referral_from_item(table.get(items.referral_key(1, "AAAA-1")))
    table.committer.commit(
        items.give_back("Ledgers", 1, Redemption("AAAA-1", 7, "p-1"), referral=stored_first, friend=record)
    )
    table.committer.commit(items.redeem("Ledgers", 1, second, "p-1", NOW))
    assert items.friend_record_from_item(table.get(items.friend_key(1, "p-1"))) == FriendRecord(
        {7: "BBBB-2", 8: "CCCC-3"}
    )
    assert table.get(items.referred_key(1, "AAAA-1", "p-1")) is None
    assert items.referral_from_item(table.get(items.referral_key(1, "AAAA-1"))).usage_counter == 0
