"""The example campaigns (examples/campaigns/, the demo application's) load, compile and give the effects their
files promise: from YAML through the decide step, as `patron campaigns` and the sessions route use them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import yaml

from patron.promotions.budgets import CounterKey
from patron.promotions.decide import Snapshot, counters_to_read, decide
from patron.promotions.loading import merge
from patron.promotions.pricing import Line
from patron.promotions.rules import EventFacts, ProfileFacts
from patron.promotions.ruleset import compile_ruleset

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "campaigns"
THURSDAY = datetime(2026, 12, 3, 12, tzinfo=UTC)
SATURDAY = datetime(2026, 12, 5, 12, tzinfo=UTC)


def examples():
    documents = [(path.name, yaml.safe_load(path.read_text())) for path in sorted(EXAMPLES.glob("*.yaml"))]
    return compile_ruleset(merge(documents), version=1)


def line(position: int, sku: str, price: str, quantity: int = 1, category: str | None = None) -> Line:
    return Line(position, sku, quantity, Decimal(price), category=category)


POINTS = 11  # loyalty.yaml: every customer's purchase earns points; its own test below, left out of the others


def effects_of(evaluation):
    return [
        (e.campaign_id, e.effect_type, getattr(e.props, "value", None))
        for e in evaluation.effects
        if e.campaign_id != POINTS
    ]


def test_ten_percent_over_100_discounts_the_session_and_says_so():
    ruleset = examples()
    evaluation = decide(ruleset, Snapshot("s1", lines=[line(0, "tee", "60", 2)]), THURSDAY)
    assert effects_of(evaluation) == [(1, "setDiscount", Decimal("12.00")), (1, "showNotification", None)]
    assert evaluation.effects[1].props.body == "Orders of 100 or more get 10% off: 12 off this one."
    assert decide(ruleset, Snapshot("s1", lines=[line(0, "tee", "99.99")]), THURSDAY).effects == []


def test_two_pairs_of_shoes_take_20_percent_off_each_pair_and_shipping_is_free_over_50():
    ruleset = examples()
    snapshot = Snapshot(
        "s2",
        lines=[line(0, "boot", "40", 1, "shoes"), line(1, "sneaker", "25", 2, "shoes"), line(2, "sock", "5")],
        additional_costs={"shipping": Decimal("4.90")},
    )
    evaluation = decide(ruleset, snapshot, THURSDAY)
    assert effects_of(evaluation) == [
        (2, "setDiscountPerItem", Decimal("8.00")),
        (2, "setDiscountPerItem", Decimal("5.00")),
        (2, "setDiscountPerItem", Decimal("5.00")),
        (3, "setDiscountPerAdditionalCost", Decimal("4.90")),
    ]
    assert [(e.props.position, e.props.sub_position) for e in evaluation.effects[:3]] == [(0, 0), (1, 0), (1, 1)]


def test_the_weekend_campaign_reads_its_budget_and_is_out_once_the_customer_used_it_this_week():
    ruleset = examples()
    profile = ProfileFacts(integration_id="c1", closed_sessions=3)
    snapshot = Snapshot("s3", lines=[line(0, "tee", "30")], profile=profile, first_session=False)
    keys = counters_to_read(ruleset, snapshot, SATURDAY)
    weekly = CounterKey(4, "setDiscountEffect", "Profile", "c1", "2026-W49")
    assert keys == {CounterKey(4, "setDiscount", "", "", "overall"), weekly}
    fresh = decide(ruleset, snapshot, SATURDAY)
    assert effects_of(fresh) == [(4, "setDiscount", Decimal("5.00"))]
    assert fresh.consumption == {CounterKey(4, "setDiscount", "", "", "overall"): Decimal(5), weekly: Decimal(1)}
    used = Snapshot(
        "s3", lines=[line(0, "tee", "30")], profile=profile, first_session=False, counters={weekly: Decimal(1)}
    )
    assert effects_of(decide(ruleset, used, SATURDAY)) == []
    assert effects_of(decide(ruleset, snapshot, THURSDAY)) == []


def test_the_exclusive_member_group_gives_one_deal_and_fills_templates():
    ruleset = examples()
    vip = ProfileFacts(integration_id="c9", attributes={"tier": "vip"}, closed_sessions=0)
    evaluation = decide(ruleset, Snapshot("s4", lines=[line(0, "tee", "20")], profile=vip), THURSDAY)
    assert [(e.campaign_id, e.effect_type) for e in evaluation.effects if e.campaign_id != POINTS] == [
        (5, "setDiscount"),
        (5, "updateAttribute"),
    ]
    assert evaluation.profile_attributes["lastVipDiscount"] == THURSDAY
    newcomer = ProfileFacts(integration_id="c10", closed_sessions=0)
    welcome = decide(ruleset, Snapshot("s5", lines=[line(0, "tee", "20")], profile=newcomer), THURSDAY)
    assert [(e.campaign_id, e.effect_type) for e in welcome.effects if e.campaign_id != POINTS] == [(6, "customEffect")]
    [custom] = [effect for effect in welcome.effects if effect.campaign_id == 6]
    assert custom.props.payload == {"headline": "Welcome, c10!", "cartTotal": Decimal(20)}


def test_a_newsletter_signup_event_marks_the_profile_and_calls_the_welcome_webhook_once_per_profile():
    ruleset = examples()
    profile = ProfileFacts(integration_id="ada")
    event = EventFacts(type="newsletter_signup", attributes={"source": "footer"})
    snapshot = Snapshot("event:1", state="", first_session=False, profile=profile, event=event)
    evaluation = decide(ruleset, snapshot, THURSDAY)
    assert [(e.campaign_id, e.effect_type) for e in evaluation.effects] == [
        (7, "updateAttribute"),
        (7, "triggerWebhook"),
        (7, "showNotification"),
    ]
    assert evaluation.profile_attributes == {"subscribed": True}
    assert evaluation.webhooks[0].payload == {"profile": "ada", "source": "footer"}
    # Once per profile: with the profile's redemption counted, the campaign is out.
    used = {key: Decimal(1) for key in counters_to_read(ruleset, snapshot, THURSDAY) if key.campaign_id == 7}
    again = decide(
        ruleset,
        Snapshot("event:2", state="", first_session=False, profile=profile, event=event, counters=used),
        THURSDAY,
    )
    assert again.effects == []


def test_a_new_profile_is_welcomed():
    snapshot = Snapshot(
        "event:3",
        state="",
        first_session=False,
        profile=ProfileFacts(integration_id="bo"),
        event=EventFacts(type="talon_profile_created"),
    )
    assert [(e.campaign_id, e.effect_type) for e in decide(examples(), snapshot, THURSDAY).effects] == [
        (8, "customEffect")
    ]


def test_every_customers_purchase_earns_a_point_per_whole_euro_in_program_1():
    ruleset = examples()
    customer = ProfileFacts(integration_id="c11", closed_sessions=2)
    evaluation = decide(ruleset, Snapshot("s6", lines=[line(0, "tee", "42.90")], profile=customer), THURSDAY)
    [points] = [effect for effect in evaluation.effects if effect.campaign_id == POINTS]
    assert (points.effect_type, points.props.program_id, points.props.value) == ("addLoyaltyPoints", 1, 42)
    assert ruleset.programs[1].default_validity == "365D"
    assert [tier.name for tier in ruleset.programs[1].tiers] == ["Silver", "Gold"]
    anonymous = decide(ruleset, Snapshot("s7", lines=[line(0, "tee", "42.90")]), THURSDAY)
    assert all(effect.campaign_id != POINTS for effect in anonymous.effects)
