"""Redemptions and give-backs of referral codes, in any order and with stale reads, never take a code's counter past
its limit or below zero, never refer a friend twice in one campaign, and always equal what the redemptions still
standing wrote (counters, the friends' marks, the codes' referred entries). Checked on an in-memory model of the
conditional writes `items` builds (many sequences), and the model checked against DynamoDB's own semantics (moto,
in-process, the ledgers table's key schema from template.yaml) on fewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from patron.dynamo import codec, committer
from patron.referrals import items
from patron.referrals.model import FriendRecord, Redemption, Referral
from patron.referrals.validation import rejection
from patron_local.dynamodb_local import PROJECT_ROOT, table_definitions
from patron_local.template import Template

TABLE, APP = "Ledgers", 1
NOW = datetime(2026, 6, 1, tzinfo=UTC)
PROFILES = ("p-1", "p-2", "p-3", "p-4", "adv", None)  # "adv" is every code's advocate; None an anonymous session
CAMPAIGNS = {"REF#A": 7, "REF#B": 7, "REF-C": 8}  # two codes share campaign 7
FAILURES = (items.ReferralExhaustedError, items.FriendAlreadyReferredError, items.ReferralChangedError)


class Refused(Exception):
    pass


def _key(write: committer.Write) -> tuple[str, str]:
    key = codec.from_item(write.request["Key"] if "Key" in write.request else write.request["Item"])
    return str(key["PK"]), str(key["SK"])


def _applied(write: committer.Write, item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The item after `write` (None: deleted), or Refused: each write items builds, and its condition, by hand."""
    if write.action == "Put":
        if "ConditionExpression" in write.request:
            raise AssertionError("the model knows no conditional put: teach it")
        return codec.from_item(write.request["Item"])
    if write.action == "Delete":
        return None
    v = codec.from_item(write.request.get("ExpressionAttributeValues", {}))
    names = write.request.get("ExpressionAttributeNames", {})
    expression = write.request["UpdateExpression"]
    pk, sk = _key(write)
    current: dict[str, Any] = dict(item) if item is not None else {"PK": pk, "SK": sk}
    if expression == "SET #campaign = :code":
        if names["#campaign"] in current:
            raise Refused
        current[names["#campaign"]] = v[":code"]
    elif expression == "REMOVE #campaign":
        if current.get(names["#campaign"]) != v[":code"]:
            raise Refused
        del current[names["#campaign"]]
    elif expression == "SET #usageCounter = #usageCounter + :one":
        if item is None or not (current["usageLimit"] == 0 or current["usageCounter"] < current["usageLimit"]):
            raise Refused
        current["usageCounter"] += 1
    elif expression == "SET #usageCounter = #usageCounter - :one":
        if item is None or current["usageCounter"] < 1:
            raise Refused
        current["usageCounter"] -= 1
    else:
        raise AssertionError(f"the model does not know {expression!r}: teach it the new expression")
    return current


@dataclass
class Model:
    """The ledgers table in memory, a plan applied whole or not at all."""

    table: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def put(self, item: dict[str, Any]) -> None:
        self.table[(item["PK"], item["SK"])] = codec.from_item(codec.to_item(item))

    def commit(self, plan: list[committer.Write]) -> Exception | None:
        staged = dict(self.table)
        for write in plan:
            try:
                after = _applied(write, staged.get(_key(write)))
            except Refused:
                assert write.failed is not None
                return write.failed()
            if after is None:
                staged.pop(_key(write), None)
            else:
                staged[_key(write)] = after
        self.table = staged
        return None

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        return self.table.get((key["PK"], key["SK"]))

    def referred(self, code: str) -> set[str]:
        return {sk for pk, sk in self.table if pk == items.referred_pk(APP, code)}


class Dynamo:
    """The same interface on DynamoDB's semantics (moto)."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb", region_name="eu-west-1")
        ledgers = table_definitions(Template.load(PROJECT_ROOT / "template.yaml"))["LedgersTable"]
        self.client.create_table(TableName=TABLE, **ledgers)
        self.committer = committer.Committer(self.client)

    def put(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName=TABLE, Item=codec.to_item(item))

    def commit(self, plan: list[committer.Write]) -> Exception | None:
        try:
            self.committer.commit(plan)
        except FAILURES as refused:
            return refused
        return None

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=TABLE, Key=codec.to_item(key), ConsistentRead=True).get("Item")
        return codec.from_item(found) if found else None

    def referred(self, code: str) -> set[str]:
        page = self.client.query(**items.referred_query(TABLE, APP, code), ConsistentRead=True)
        return {str(codec.from_item(row)["SK"]) for row in page["Items"]}


Read = tuple[dict[str, Referral], dict[str, FriendRecord]]


def read_all(store: Model | Dynamo) -> Read:
    referrals = {}
    for code in CAMPAIGNS:
        found = store.get(items.referral_key(APP, code))
        assert found is not None
        referrals[code] = items.referral_from_item(found)
    friends = {
        profile: items.friend_record_from_item(store.get(items.friend_key(APP, profile)))
        for profile in PROFILES
        if profile is not None
    }
    return referrals, friends


referral_sets = st.fixed_dictionaries(
    {code: st.tuples(st.integers(0, 2), st.sampled_from([None, None, None, "p-1"])) for code in CAMPAIGNS}
).map(
    lambda terms: [
        Referral(code, CAMPAIGNS[code], "adv", n, NOW, usage_limit=limit, friend_integration_id=friend)
        for n, (code, (limit, friend)) in enumerate(terms.items(), start=1)
    ]
)
# A close: which code, which profile, how many steps old its read is (a concurrent session).
closes = st.tuples(st.just("close"), st.sampled_from(sorted(CAMPAIGNS)), st.sampled_from(PROFILES), st.integers(0, 3))
cancels = st.tuples(st.just("cancel"), st.integers(0, 50))
operations = st.lists(st.one_of(closes, cancels), max_size=30)


def run(store: Model | Dynamo, referrals: list[Referral], ops: list[tuple[Any, ...]]) -> list[Any]:
    """Plays the operations; checks the invariants after each; returns what happened (outcomes and counters)."""
    for referral in referrals:
        for write in items.create(TABLE, APP, referral):
            store.put(codec.from_item(write.request["Item"]))
    reads: list[Read] = [read_all(store)]  # the table as each step read it
    standing: list[Redemption] = []
    trace: list[Any] = []
    for op in ops:
        if op[0] == "close":
            _, code, profile, age = op
            known, friends = reads[max(0, len(reads) - 1 - age)]
            read = known[code]
            friend = friends[profile] if profile is not None else FriendRecord()
            refused = rejection(read, now=NOW, profile_id=profile, campaign_running=True, friend=friend)
            outcome: Any = refused.value if refused else None
            if refused is None:
                assert profile is not None
                failed = store.commit(items.redeem(TABLE, APP, read, profile, NOW))
                outcome = type(failed).__name__ if failed else "redeemed"
                if failed is None:
                    standing.append(Redemption(code, read.campaign_id, profile))
        elif standing:
            redemption = standing.pop(op[1] % len(standing))
            known, friends = read_all(store)  # a cancel reads afresh in its own cycle
            plan = items.give_back(
                TABLE,
                APP,
                redemption,
                referral=known[redemption.code],
                friend=friends[redemption.friend_integration_id],
            )
            assert len(plan) == 3, "a standing redemption's referral and mark are always found"
            assert store.commit(plan) is None, "a give-back of a standing redemption always succeeds"
            outcome = "given back"
        else:
            continue
        now_read = read_all(store)
        reads.append(now_read)
        known, friends = now_read
        for referral in referrals:
            mine = [r for r in standing if r.code == referral.code]
            assert known[referral.code].usage_counter == len(mine) >= 0
            if referral.usage_limit:
                assert len(mine) <= referral.usage_limit
            assert store.referred(referral.code) == {r.friend_integration_id for r in mine}
            assert all(r.friend_integration_id != referral.advocate_integration_id for r in mine)
            if referral.friend_integration_id is not None:
                assert all(r.friend_integration_id == referral.friend_integration_id for r in mine)
        for profile, record in friends.items():
            theirs = [r for r in standing if r.friend_integration_id == profile]
            assert len({r.campaign_id for r in theirs}) == len(theirs), "referred twice in one campaign"
            assert record == FriendRecord({r.campaign_id: r.code for r in theirs})
        trace.append((outcome, tuple(known[code].usage_counter for code in sorted(CAMPAIGNS))))
    return trace


@settings(max_examples=400, deadline=None)
@given(referrals=referral_sets, ops=operations)
def test_counters_and_marks_equal_the_standing_redemptions(referrals, ops):
    run(Model(), referrals, ops)


@settings(max_examples=25, deadline=None)
@given(referrals=referral_sets, ops=operations)
def test_the_model_behaves_as_dynamodb_does(referrals, ops):
    with mock_aws():
        assert run(Dynamo(), referrals, ops) == run(Model(), referrals, ops)


def test_stale_reads_cannot_refer_a_friend_twice_nor_take_the_last_use_twice():
    """Two sessions of one friend read the campaign unreferred: the second close is refused, not counted. Two
    friends read the single-use code unused: likewise."""
    single = [Referral(code, CAMPAIGNS[code], "adv", 1, NOW, usage_limit=1) for code in CAMPAIGNS]
    twice = [("close", "REF#A", "p-1", 0), ("close", "REF#B", "p-1", 1), ("close", "REF#A", "p-2", 2)]
    expected = ["redeemed", "FriendAlreadyReferredError", "ReferralExhaustedError"]
    assert [outcome for outcome, _ in run(Model(), single, twice)] == expected
    with mock_aws():
        assert [outcome for outcome, _ in run(Dynamo(), single, twice)] == expected
