"""Coupons through the customer lifecycle's port (patron.coupons.personal_data) on DynamoDB's semantics (moto,
in-process, the ledgers table's key schema from template.yaml): a merge moves holdings, reservations and personal
codes, an erasure takes the person out of every coupon and keeps the coupons' counters, an anonymisation keeps the
redemption counts under the tombstone, retries find nothing left, and another application is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from patron.coupons import items
from patron.coupons.holdings import DynamoHoldings, Handover, handover
from patron.coupons.inventory import CampaignSchedule
from patron.coupons.model import Coupon
from patron.coupons.personal_data import CouponsPersonalData
from patron.customers.port import PersonalData
from patron.dynamo import codec, committer
from patron_local.dynamodb_local import PROJECT_ROOT, table_definitions
from patron_local.template import Template

TABLE, APP, OTHER_APP = "Ledgers", 1, 2
NOW = datetime(2026, 6, 1, tzinfo=UTC)
RESERVED_AT = "2026-05-01T10:00:00.000Z"
SURVIVOR_RESERVED_AT = "2026-05-02T10:00:00.000Z"


class FixedClock:
    def now(self) -> datetime:
        return NOW


class Ledgers:
    def __init__(self, client: Any):
        self.client = client

    def put(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName=TABLE, Item=codec.to_item(item))

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=TABLE, Key=codec.to_item(key), ConsistentRead=True).get("Item")
        return codec.from_item(found) if found else None

    def coupon(self, app: int, code: str, **fields: Any) -> Coupon:
        coupon = Coupon(code, 10, abs(hash(code)) % 1000, NOW - timedelta(days=1), **fields)
        self.put(items.coupon_item(app, coupon))
        if coupon.recipient_integration_id is not None:
            self.put(items.recipient_holding_item(app, coupon))
        return coupon

    def stored(self, app: int, code: str) -> Coupon:
        found = self.get(items.coupon_key(app, code))
        assert found is not None
        return items.coupon_from_item(found)

    def holding(self, app: int, holder: str, code: str) -> dict[str, Any] | None:
        found = self.get(items.holding_key(app, holder, code))
        return {k: v for k, v in found.items() if k not in ("PK", "SK")} if found else None

    def hold(self, app: int, holder: str, code: str, used: int = 0, reserved_at: str | None = None) -> None:
        item: dict[str, Any] = {**items.holding_key(app, holder, code)}
        if used:
            item["used"] = used
        if reserved_at:
            item["reservedAt"] = reserved_at
            self.put({**items.reservation_key(app, code, holder), "reservedAt": reserved_at})
            coupon = self.stored(app, code)
            self.client.update_item(
                TableName=TABLE,
                Key=codec.to_item(items.coupon_key(app, code)),
                UpdateExpression="SET reservationCounter = :n",
                ExpressionAttributeValues=codec.to_item({":n": coupon.reservation_counter + 1}),
            )
        self.put(item)

    def entries(self, app: int, code: str) -> dict[str, str]:
        answer = self.client.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues=codec.to_item({":pk": items.reservations_pk(app, code)}),
        )
        return {str(i["SK"]): str(i["reservedAt"]) for i in map(codec.from_item, answer["Items"])}


def _campaigns(application_id: int) -> dict[int, CampaignSchedule]:
    return {10: CampaignSchedule(accepts_coupons=True)}


@pytest.fixture
def ledgers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledgers]:
    # A local runtime started earlier in the session points boto3 at DynamoDB Local through the environment.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        definition = table_definitions(Template.load(PROJECT_ROOT / "template.yaml"))["LedgersTable"]
        client.create_table(TableName=TABLE, **definition)
        yield Ledgers(client)


def port(ledgers: Ledgers, holdings: DynamoHoldings | None = None) -> CouponsPersonalData:
    return CouponsPersonalData(holdings or DynamoHoldings(ledgers.client, TABLE), TABLE, _campaigns, FixedClock())


_typed: type[PersonalData] = CouponsPersonalData  # mypy: the context keeps satisfying the port


def seed(ledgers: Ledgers, app: int = APP) -> None:
    """anon: redeemed SHARED twice (bob once), reserved WALLET alone, reserved BOTH as bob did, holds PERSONAL."""
    ledgers.coupon(app, "SHARED", usage_limit=10, usage_counter=3, discount_counter=Decimal("12.50"))
    ledgers.coupon(app, "WALLET", reservation_limit=5)
    ledgers.coupon(app, "BOTH", reservation_limit=5)
    ledgers.coupon(app, "PERSONAL", recipient_integration_id="anon")
    ledgers.hold(app, "anon", "SHARED", used=2)
    ledgers.hold(app, "bob", "SHARED", used=1)
    ledgers.hold(app, "anon", "WALLET", reserved_at=RESERVED_AT)
    ledgers.hold(app, "anon", "BOTH", used=1, reserved_at=RESERVED_AT)
    ledgers.hold(app, "bob", "BOTH", reserved_at=SURVIVOR_RESERVED_AT)


def test_a_merge_moves_counts_reservations_and_personal_codes(ledgers):
    seed(ledgers)
    seed(ledgers, OTHER_APP)
    coupons = port(ledgers)
    coupons.absorb(APP, "bob", "anon")

    assert not coupons.still_holds(APP, "anon")
    assert ledgers.holding(APP, "bob", "SHARED") == {"used": 3}
    assert ledgers.holding(APP, "bob", "WALLET") == {"reservedAt": RESERVED_AT}
    assert ledgers.entries(APP, "WALLET") == {"bob": RESERVED_AT}
    assert ledgers.stored(APP, "WALLET").reservation_counter == 1
    # Both reserved: the survivor's reservation is kept, the absorbed one's released.
    assert ledgers.holding(APP, "bob", "BOTH") == {"used": 1, "reservedAt": SURVIVOR_RESERVED_AT}
    assert ledgers.entries(APP, "BOTH") == {"bob": SURVIVOR_RESERVED_AT}
    assert ledgers.stored(APP, "BOTH").reservation_counter == 1
    assert ledgers.holding(APP, "bob", "PERSONAL") == {"recipient": True}
    assert ledgers.stored(APP, "PERSONAL").recipient_integration_id == "bob"
    assert ledgers.stored(APP, "SHARED").usage_counter == 3  # the coupon's own counters do not move

    coupons.absorb(APP, "bob", "anon")  # a retried merge finds nothing left
    assert ledgers.holding(APP, "bob", "SHARED") == {"used": 3}
    assert coupons.still_holds(OTHER_APP, "anon")  # another application's person is not touched
    assert ledgers.stored(OTHER_APP, "PERSONAL").recipient_integration_id == "anon"


def test_an_erasure_takes_the_person_out_and_keeps_the_coupons_counters(ledgers):
    seed(ledgers)
    coupons = port(ledgers)
    assert coupons.forget(APP, "anon") == 4
    for code in ("SHARED", "WALLET", "BOTH", "PERSONAL"):
        assert ledgers.holding(APP, "anon", code) is None
    assert ledgers.entries(APP, "WALLET") == {} and ledgers.entries(APP, "BOTH") == {"bob": SURVIVOR_RESERVED_AT}
    assert ledgers.stored(APP, "WALLET").reservation_counter == 0
    assert ledgers.stored(APP, "BOTH").reservation_counter == 1
    assert ledgers.stored(APP, "PERSONAL").recipient_integration_id is None
    shared = ledgers.stored(APP, "SHARED")
    assert (shared.usage_counter, shared.discount_counter) == (3, Decimal("12.50"))
    assert ledgers.holding(APP, "bob", "SHARED") == {"used": 1}
    assert coupons.forget(APP, "anon") == 0 and not coupons.still_holds(APP, "anon")


def test_anonymising_keeps_only_the_redemption_counts_under_the_tombstone(ledgers):
    seed(ledgers)
    coupons = port(ledgers)
    assert coupons.anonymise(APP, "anon", "anonymous-1") == 4
    assert not coupons.still_holds(APP, "anon")
    assert ledgers.holding(APP, "anonymous-1", "SHARED") == {"used": 2}
    assert ledgers.holding(APP, "anonymous-1", "BOTH") == {"used": 1}  # the count, not the reservation
    assert ledgers.holding(APP, "anonymous-1", "WALLET") is None  # nothing to keep
    assert ledgers.holding(APP, "anonymous-1", "PERSONAL") is None
    assert ledgers.stored(APP, "PERSONAL").recipient_integration_id is None
    assert ledgers.stored(APP, "BOTH").reservation_counter == 1 and ledgers.entries(APP, "BOTH") == {
        "bob": SURVIVOR_RESERVED_AT
    }


def test_an_export_lists_every_holding(ledgers):
    seed(ledgers)
    exported = {entry["code"]: entry for entry in port(ledgers).export(APP, "anon")}
    assert set(exported) == {"SHARED", "WALLET", "BOTH", "PERSONAL"}
    assert exported["BOTH"] == {
        "code": "BOTH",
        "campaignId": 10,
        "state": "active",
        "profileRedemptionCount": 1,
        "reservedAt": RESERVED_AT,
        "recipient": False,
    }
    assert exported["PERSONAL"]["recipient"] is True and exported["SHARED"]["reservedAt"] is None
    assert port(ledgers).export(APP, "nobody") == []


class RacingHoldings(DynamoHoldings):
    """A session redeems the holding between the read and the first hand-over."""

    def __init__(self, client: Any, race: Any):
        super().__init__(client, TABLE)
        self._race = race

    def hand_over(self, plan: Any) -> None:
        if self._race is not None:
            race, self._race = self._race, None
            race()
        super().hand_over(plan)


def test_a_holding_changed_meanwhile_is_read_again(ledgers):
    ledgers.coupon(APP, "SHARED")
    ledgers.hold(APP, "anon", "SHARED", used=1)

    def redeem() -> None:
        coupon = ledgers.stored(APP, "SHARED")
        committer.Committer(ledgers.client).commit([items.redeem_for_profile(TABLE, APP, coupon, "anon")])

    port(ledgers, RacingHoldings(ledgers.client, redeem)).absorb(APP, "bob", "anon")
    assert ledgers.holding(APP, "bob", "SHARED") == {"used": 2}  # the redemption made meanwhile moved too
    assert ledgers.holding(APP, "anon", "SHARED") is None


def test_a_survivor_reservation_released_meanwhile_is_not_lost(ledgers):
    ledgers.coupon(APP, "BOTH", reservation_limit=5)
    ledgers.hold(APP, "anon", "BOTH", reserved_at=RESERVED_AT)
    ledgers.hold(APP, "bob", "BOTH", reserved_at=SURVIVOR_RESERVED_AT)
    holdings = DynamoHoldings(ledgers.client, TABLE)
    [(page, _)] = list(holdings.pages(APP, "anon", "bob"))
    committer.Committer(ledgers.client).commit(items.unreserve(TABLE, APP, "BOTH", "bob"))  # bob releases
    with pytest.raises(Exception, match="changed meanwhile"):
        holdings.hand_over(handover(TABLE, APP, "anon", page[0], Handover.ABSORB, "bob"))
    port(ledgers).absorb(APP, "bob", "anon")  # read again: anon's reservation moves instead
    assert ledgers.holding(APP, "bob", "BOTH") == {"reservedAt": RESERVED_AT}
    assert ledgers.entries(APP, "BOTH") == {"bob": RESERVED_AT}
    assert ledgers.stored(APP, "BOTH").reservation_counter == 1


def test_a_deleted_coupon_leaves_only_its_holding_to_remove(ledgers):
    ledgers.coupon(APP, "GONE", reservation_limit=5)
    ledgers.hold(APP, "anon", "GONE", used=1, reserved_at=RESERVED_AT)
    ledgers.client.delete_item(TableName=TABLE, Key=codec.to_item(items.coupon_key(APP, "GONE")))
    assert port(ledgers).export(APP, "anon")[0]["state"] == "deleted"
    assert port(ledgers).forget(APP, "anon") == 1
    assert ledgers.entries(APP, "GONE") == {} and not port(ledgers).still_holds(APP, "anon")
