"""Referrals through the customer lifecycle's port (patron.referrals.personal_data) on DynamoDB's semantics (moto,
in-process, the ledgers table's key schema from template.yaml): a merge moves codes, codes made out to the person and
what they were referred in, an erasure takes the person out of every code and keeps the codes' counters (an erased
advocate's code answers AdvocateNotFound), an anonymisation keeps the counts under the tombstone, retries find
nothing left, and another application is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from patron.customers.port import PersonalData
from patron.dynamo import codec, committer
from patron.referrals import items
from patron.referrals.inventory import ReferralInventory
from patron.referrals.model import FriendRecord, Redemption, Referral
from patron.referrals.partition import DynamoReferralPartition
from patron.referrals.personal_data import ReferralsPersonalData
from patron.referrals.validation import ReferralRejection, rejection
from patron_local.dynamodb_local import PROJECT_ROOT, table_definitions
from patron_local.template import Template

TABLE, APP, OTHER_APP = "Ledgers", 1, 2
NOW = datetime(2026, 6, 1, tzinfo=UTC)


class Ledgers:
    def __init__(self, client: Any):
        self.client = client
        self.committer = committer.Committer(client)

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=TABLE, Key=codec.to_item(key), ConsistentRead=True).get("Item")
        return codec.from_item(found) if found else None

    def referral(self, app: int, code: str, campaign: int, advocate: str, **fields: Any) -> Referral:
        referral = Referral(code, campaign, advocate, abs(hash(code)) % 1000, NOW - timedelta(days=1), **fields)
        self.committer.commit(items.create(TABLE, app, referral))
        return referral

    def refer(self, app: int, referral: Referral, friend: str) -> None:
        self.committer.commit(items.redeem(TABLE, app, self.stored(app, referral.code), friend, NOW))

    def stored(self, app: int, code: str) -> Referral:
        found = self.get(items.referral_key(app, code))
        assert found is not None
        return items.referral_from_item(found)

    def friend(self, app: int, person: str) -> FriendRecord | None:
        found = self.get(items.friend_key(app, person))
        return items.friend_record_from_item(found) if found else None

    def partition(self, app: int, person: str) -> list[str]:
        answer = self.client.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues=codec.to_item({":pk": items.profile_pk(app, person)}),
        )
        return [str(codec.from_item(item)["SK"]) for item in answer["Items"]]

    def referred(self, app: int, code: str) -> list[str]:
        answer = self.client.query(**items.referred_query(TABLE, app, code))
        return [str(codec.from_item(item)["SK"]) for item in answer["Items"]]


@pytest.fixture
def ledgers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledgers]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        definition = table_definitions(Template.load(PROJECT_ROOT / "template.yaml"))["LedgersTable"]
        client.create_table(TableName=TABLE, **definition)
        yield Ledgers(client)


def port(ledgers: Ledgers, partition: DynamoReferralPartition | None = None) -> ReferralsPersonalData:
    return ReferralsPersonalData(partition or DynamoReferralPartition(ledgers.client, TABLE), TABLE)


_typed: type[PersonalData] = ReferralsPersonalData  # mypy: the context keeps satisfying the port


def seed(ledgers: Ledgers, app: int = APP) -> None:
    """anon: advocate of ANON-CODE (used by fran), holds FOR-ANON (erin's, made out to anon), was referred in
    campaign 7 by OTHER-7 (carl's) and in campaign 8 by OTHER-8; bob was referred in campaign 8 too, by BOBS-8."""
    anon_code = ledgers.referral(app, "ANON-CODE", 7, "anon", usage_limit=5)
    ledgers.refer(app, anon_code, "fran")
    ledgers.referral(app, "FOR-ANON", 7, "erin", friend_integration_id="anon")
    ledgers.refer(app, ledgers.referral(app, "OTHER-7", 7, "carl"), "anon")
    ledgers.refer(app, ledgers.referral(app, "OTHER-8", 8, "carl"), "anon")
    ledgers.refer(app, ledgers.referral(app, "BOBS-8", 8, "dora"), "bob")


def test_a_merge_moves_codes_marks_and_referred_entries_to_the_survivor(ledgers):
    seed(ledgers)
    seed(ledgers, OTHER_APP)
    referrals = port(ledgers)
    referrals.absorb(APP, "bob", "anon")

    assert not referrals.still_holds(APP, "anon") and ledgers.partition(APP, "anon") == []
    assert ledgers.stored(APP, "ANON-CODE").advocate_integration_id == "bob"
    assert ledgers.stored(APP, "ANON-CODE").usage_counter == 1
    assert ledgers.stored(APP, "FOR-ANON").friend_integration_id == "bob"
    assert sorted(ledgers.partition(APP, "bob")) == ["ADVOCATE#ANON-CODE", "FRIEND", "NAMED#FOR-ANON"]
    # Campaign 7 joins bob's record; in campaign 8 both were referred: bob's own mark is kept.
    assert ledgers.friend(APP, "bob") == FriendRecord({7: "OTHER-7", 8: "BOBS-8"})
    assert ledgers.referred(APP, "OTHER-7") == ["bob"]
    assert ledgers.referred(APP, "OTHER-8") == []  # the absorbed one's entry went; its use stays counted
    assert ledgers.stored(APP, "OTHER-8").usage_counter == 1
    assert ledgers.referred(APP, "BOBS-8") == ["bob"]

    referrals.absorb(APP, "bob", "anon")  # a retried merge finds nothing left
    assert ledgers.friend(APP, "bob") == FriendRecord({7: "OTHER-7", 8: "BOBS-8"})
    assert referrals.still_holds(OTHER_APP, "anon")  # another application's person is not touched
    assert ledgers.stored(OTHER_APP, "ANON-CODE").advocate_integration_id == "anon"


def test_an_erasure_takes_the_person_out_and_keeps_the_codes_counters(ledgers):
    seed(ledgers)
    referrals = port(ledgers)
    assert referrals.forget(APP, "anon") == 4  # a code as advocate, one made out to them, two campaigns
    assert ledgers.partition(APP, "anon") == [] and not referrals.still_holds(APP, "anon")
    erased = ledgers.stored(APP, "ANON-CODE")
    assert (erased.advocate_integration_id, erased.advocate_erased, erased.usage_counter) == ("", True, 1)
    assert "advocateProfileIntegrationId" not in (ledgers.get(items.referral_key(APP, "ANON-CODE")) or {})
    assert ledgers.referred(APP, "ANON-CODE") == ["fran"]  # the friends it referred are theirs, not the advocate's
    # The code answers AdvocateNotFound; the one made out to them is usable by nobody.
    assert rejection(
        erased, now=NOW, profile_id="gina", campaign_running=True, advocate_found=erased.advocate_found
    ) == (ReferralRejection.ADVOCATE_NOT_FOUND)
    made_out = ledgers.stored(APP, "FOR-ANON")
    assert made_out.friend_erased and made_out.friend_integration_id == ""
    assert "friendProfileIntegrationId" not in (ledgers.get(items.referral_key(APP, "FOR-ANON")) or {})
    assert rejection(made_out, now=NOW, profile_id="gina", campaign_running=True) is (
        ReferralRejection.RECIPIENT_DOES_NOT_MATCH
    )
    assert ledgers.referred(APP, "OTHER-7") == [] and ledgers.stored(APP, "OTHER-7").usage_counter == 1
    assert ledgers.friend(APP, "bob") == FriendRecord({8: "BOBS-8"})  # others untouched
    assert referrals.forget(APP, "anon") == 0


def test_anonymising_keeps_the_counts_under_the_tombstone(ledgers):
    seed(ledgers)
    referrals = port(ledgers)
    assert referrals.anonymise(APP, "anon", "anonymous-1") == 4
    assert ledgers.partition(APP, "anon") == []
    kept = ledgers.stored(APP, "ANON-CODE")
    assert (kept.advocate_integration_id, kept.advocate_erased, kept.usage_counter) == ("anonymous-1", True, 1)
    assert ledgers.partition(APP, "anonymous-1") == ["ADVOCATE#ANON-CODE"]  # no friend record, no named code
    assert ledgers.referred(APP, "OTHER-7") == ["anonymous-1"] and ledgers.referred(APP, "OTHER-8") == ["anonymous-1"]
    assert ledgers.stored(APP, "FOR-ANON").friend_erased


def test_an_export_lists_codes_personal_codes_and_what_referred_them(ledgers):
    seed(ledgers)
    exported = port(ledgers).export(APP, "anon")
    assert exported["advocateCodes"] == [
        {
            "code": "ANON-CODE",
            "campaignId": 7,
            "created": "2026-05-31T00:00:00.000Z",
            "usageCounter": 1,
            "usageLimit": 5,
            "startDate": None,
            "expiryDate": None,
        }
    ]
    assert [entry["code"] for entry in exported["personalCodes"]] == ["FOR-ANON"]
    assert exported["referredBy"] == [{"campaignId": 7, "code": "OTHER-7"}, {"campaignId": 8, "code": "OTHER-8"}]
    assert port(ledgers).export(APP, "nobody") == {"advocateCodes": [], "personalCodes": [], "referredBy": []}


def test_the_inventory_lists_the_advocates_codes_with_their_friends(ledgers):
    seed(ledgers)
    for friend in ("gina", "hugo"):
        ledgers.refer(APP, ledgers.stored(APP, "ANON-CODE"), friend)
    ledgers.referral(APP, "ANON-NEW", 8, "anon")
    answered = ReferralInventory(DynamoReferralPartition(ledgers.client, TABLE), max_referred=2).referrals(APP, "anon")
    assert [(r.code, r.usage_counter, r.referred_customers) for r in answered] == [
        ("ANON-CODE", 3, ["fran", "gina"]),  # bounded: at most max_referred friends a code
        ("ANON-NEW", 0, []),
    ]
    assert ReferralInventory(DynamoReferralPartition(ledgers.client, TABLE)).referrals(APP, "nobody") == []


class RacingPartition(DynamoReferralPartition):
    """A close or a cancel commits between the read and the first hand-over."""

    def __init__(self, client: Any, race: Any):
        super().__init__(client, TABLE)
        self._race = race

    def hand_over(self, plan: Any) -> None:
        if self._race is not None:
            race, self._race = self._race, None
            race()
        super().hand_over(plan)


def test_a_mark_given_back_meanwhile_is_read_again(ledgers):
    code = ledgers.referral(APP, "OTHER-7", 7, "carl")
    ledgers.refer(APP, code, "anon")
    ledgers.refer(APP, ledgers.referral(APP, "OTHER-8", 8, "carl"), "anon")

    def cancel() -> None:
        record = ledgers.friend(APP, "anon") or FriendRecord()
        stored = ledgers.stored(APP, "OTHER-7")
        ledgers.committer.commit(
            items.give_back(TABLE, APP, Redemption("OTHER-7", 7, "anon"), referral=stored, friend=record)
        )

    port(ledgers, RacingPartition(ledgers.client, cancel)).absorb(APP, "bob", "anon")
    assert ledgers.friend(APP, "bob") == FriendRecord({8: "OTHER-8"})  # the given-back mark does not move
    assert ledgers.partition(APP, "anon") == [] and ledgers.referred(APP, "OTHER-7") == []


def test_a_survivor_mark_given_back_meanwhile_lets_the_absorbed_one_move(ledgers):
    ledgers.refer(APP, ledgers.referral(APP, "ANONS-7", 7, "carl"), "anon")
    ledgers.refer(APP, ledgers.referral(APP, "BOBS-7", 7, "carl"), "bob")

    def cancel() -> None:
        record = ledgers.friend(APP, "bob") or FriendRecord()
        stored = ledgers.stored(APP, "BOBS-7")
        ledgers.committer.commit(
            items.give_back(TABLE, APP, Redemption("BOBS-7", 7, "bob"), referral=stored, friend=record)
        )

    port(ledgers, RacingPartition(ledgers.client, cancel)).absorb(APP, "bob", "anon")
    assert ledgers.friend(APP, "bob") == FriendRecord({7: "ANONS-7"})
    assert ledgers.referred(APP, "ANONS-7") == ["bob"]


def test_a_deleted_code_and_an_emptied_friend_record_leave_only_entries_to_remove(ledgers):
    ledgers.referral(APP, "GONE", 7, "anon", friend_integration_id="anon-2")
    ledgers.client.delete_item(TableName=TABLE, Key=codec.to_item(items.referral_key(APP, "GONE")))
    ledgers.client.put_item(TableName=TABLE, Item=codec.to_item(items.friend_key(APP, "anon")))  # keys only
    assert port(ledgers).export(APP, "anon")["advocateCodes"] == [{"code": "GONE", "state": "deleted"}]
    assert port(ledgers).forget(APP, "anon") == 2
    assert port(ledgers).forget(APP, "anon-2") == 1
    assert ledgers.partition(APP, "anon") == [] and ledgers.partition(APP, "anon-2") == []
