"""Loyalty through the official talon-one-sdk IntegrationApi: a closed session's addLoyaltyPoints and
deductLoyaltyPoints parse as the SDK's effect props, and get_loyalty_balances parses as its
LoyaltyBalancesWithTiers, with tiers and at a future endDate; another application's key finds nothing. A card-based
program's cards: generate_loyalty_card and link_loyalty_card_to_profile parse as LoyaltyCard, a session with
loyaltyCards earns on the card, and its balances, points and transactions parse as the SDK's card models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import talon_one
from talon_one.exceptions import BadRequestException, NotFoundException

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.integration.rulesets import publish
from tests.integration.test_loyalty_cards import CARD_EARN, CARD_PROGRAM
from tests.integration.test_session_loyalty import EARN, PROGRAM, REDEEM

__all__ = ["base_url"]  # the module's server fixture, shared


def close(api: talon_one.IntegrationApi, customer: str, price: float) -> talon_one.IntegrationStateV2:
    session = talon_one.NewCustomerSessionV2(
        profileId=customer,
        state="closed",
        cartItems=[talon_one.CartItem(name="Bag", sku="BAG-1", quantity=1, price=price)],
    )
    request = talon_one.IntegrationRequest(customerSession=session, responseContent=["loyalty"])
    return api.update_customer_session_v2(f"sdk-s-{uuid.uuid4().hex[:8]}", request)


def test_points_effects_and_balances_parse_as_talon_ones(runtime, base_url, tenant, other_tenant):
    definitions = {"settings": {"currency": "EUR"}, "loyaltyPrograms": [PROGRAM], "campaigns": [EARN, REDEEM]}
    publish(runtime, tenant.application_id, definitions)
    api = integration_api(base_url, tenant.key)
    customer = f"sdk-{uuid.uuid4().hex[:8]}"

    earned = close(api, customer, 1200)
    [added] = [effect for effect in earned.effects or [] if effect.effect_type == "addLoyaltyPoints"]
    props = talon_one.AddLoyaltyPointsEffectProps.from_dict(added.props)
    assert props is not None
    assert (props.program_id, props.value, props.recipient_integration_id) == (1, 1200, customer)
    assert props.expiry_date is not None and props.start_date is not None and props.transaction_uuid
    assert earned.loyalty is not None and isinstance(earned.loyalty.programs["1"], talon_one.LoyaltyProgramLedgers)
    assert earned.loyalty.programs["1"].ledger.tentative_current_balance == 1200

    spent = close(api, customer, 5)
    [deducted] = [effect for effect in spent.effects or [] if effect.effect_type == "deductLoyaltyPoints"]
    taken = talon_one.DeductLoyaltyPointsEffectProps.from_dict(deducted.props)
    assert taken is not None
    assert (taken.program_id, taken.value, taken.name) == (1, 500, "Paid with points")

    balances = api.get_loyalty_balances(1, customer, include_tiers=True)
    assert isinstance(balances, talon_one.LoyaltyBalancesWithTiers) and balances.balance is not None
    assert balances.balance.current_tier is not None
    assert (balances.balance.active_points, balances.balance.spent_points) == (700, 500)
    assert balances.balance.current_tier.name == "Silver" and balances.balance.next_tier_name == "Gold"
    assert balances.balance.points_to_next_tier == 300

    later = api.get_loyalty_balances(1, customer, end_date=datetime.now(UTC) + timedelta(days=400))
    assert later.balance is not None
    assert (later.balance.active_points, later.balance.expired_points) == (0, 700)

    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_loyalty_balances(1, customer)

    # The points are active at once in this program: an activation finds nothing to do, and says so.
    activated = api.activate_loyalty_points(
        1, talon_one.ActivateLoyaltyPoints(transactionUUIDs=[uuid.UUID(props.transaction_uuid)])
    )
    assert isinstance(activated, talon_one.ActivateLoyaltyPointsResponse) and activated.ledger_entries == []


def test_advanced_tiers_parse_with_their_expiry_and_projected_tier(runtime, base_url, tenant):
    """With `tiersExpireIn`, a member keeps its tier after spending until the tier expires: the balance answers
    the tier's dates and policy, the tier projected for its expiry, and, read past it, the lower tier."""
    program = {**PROGRAM, "tiersExpireIn": "30D", "tiersDowngradePolicy": "one_down"}
    definitions = {"settings": {"currency": "EUR"}, "loyaltyPrograms": [program], "campaigns": [EARN, REDEEM]}
    publish(runtime, tenant.application_id, definitions)
    api = integration_api(base_url, tenant.key)
    customer = f"sdk-{uuid.uuid4().hex[:8]}"
    close(api, customer, 1200)
    close(api, customer, 5)  # 500 paid with points: 700 left, short of Gold's 1000

    balance = api.get_loyalty_balances(1, customer, include_tiers=True, include_projected_tier=True).balance
    assert balance is not None and balance.current_tier is not None and balance.projected_tier is not None
    tier, ahead = balance.current_tier, balance.projected_tier
    assert (tier.name, tier.downgrade_policy) == ("Gold", "one_down")  # kept until it expires
    assert tier.start_date is not None and tier.expiry_date is not None
    assert timedelta(days=29) < tier.expiry_date - datetime.now(UTC) <= timedelta(days=30)
    assert (ahead.projected_active_points, ahead.projected_tier_name, ahead.stay_in_tier_points) == (700, "Silver", 300)

    later = api.get_loyalty_balances(1, customer, end_date=tier.expiry_date + timedelta(hours=1), include_tiers=True)
    assert later.balance is not None and later.balance.current_tier is not None
    assert later.balance.current_tier.name == "Silver"
    assert later.balance.current_tier.start_date == tier.expiry_date


def test_a_tier_change_parses_as_talon_ones_effect(runtime, base_url, tenant):
    from tests.integration.test_session_loyalty import GOLD_FOR_BIG_CARTS

    publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM], "campaigns": [GOLD_FOR_BIG_CARTS]})
    api = integration_api(base_url, tenant.key)
    customer = f"sdk-{uuid.uuid4().hex[:8]}"
    [effect] = [e for e in close(api, customer, 600).effects or [] if e.effect_type == "changeLoyaltyTierLevel"]
    props = talon_one.ChangeLoyaltyTierLevelEffectProps.from_dict(effect.props)
    assert props is not None
    assert (props.program_id, props.previous_tier_name, props.new_tier_name) == (1, "Silver", "Gold")
    assert props.expiry_date is not None and props.rule_title == "Big cart, Gold tier"


def test_a_profile_update_answers_the_customers_loyalty_as_talon_ones(runtime, base_url, tenant):
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM], "campaigns": [EARN]})
    api = integration_api(base_url, tenant.key)
    customer = f"sdk-{uuid.uuid4().hex[:8]}"
    close(api, customer, 1200)
    request = talon_one.CustomerProfileIntegrationRequestV2(attributes={}, responseContent=["loyalty"])
    answer = api.update_customer_profile_v2(customer, request, run_rule_engine=True)
    assert answer.loyalty is not None
    ledger = answer.loyalty.programs["1"].ledger
    assert (ledger.current_balance, ledger.tentative_current_balance) == (1200, 1200)
    assert ledger.current_tier is not None and ledger.current_tier.name == "Gold"


def test_cards_generated_linked_and_read_parse_as_talon_ones(runtime, base_url, tenant, other_tenant):
    definitions = {
        "settings": {"currency": "EUR"},
        "loyaltyPrograms": [PROGRAM, CARD_PROGRAM],
        "campaigns": [EARN, REDEEM, CARD_EARN],
    }
    publish(runtime, tenant.application_id, definitions)
    api = integration_api(base_url, tenant.key)
    alice, bob = f"sdk-{uuid.uuid4().hex[:8]}", f"sdk-{uuid.uuid4().hex[:8]}"
    for person in (alice, bob):
        api.update_customer_profile_v2(person, talon_one.CustomerProfileIntegrationRequestV2(attributes={}))

    card = api.generate_loyalty_card(2, talon_one.GenerateLoyaltyCard(status="active", customerProfileIds=[alice]))
    assert isinstance(card, talon_one.LoyaltyCard)
    assert (card.program_id, card.status, card.users_per_card_limit) == (2, "active", 2)
    assert [one.integration_id for one in card.profiles or []] == [alice]

    linked = api.link_loyalty_card_to_profile(2, card.identifier, talon_one.LoyaltyCardRegistration(integrationId=bob))
    assert isinstance(linked, talon_one.LoyaltyCard)
    assert [one.integration_id for one in linked.profiles or []] == [alice, bob]

    session = talon_one.NewCustomerSessionV2(
        profileId=alice,
        state="closed",
        loyaltyCards=[card.identifier],
        cartItems=[talon_one.CartItem(name="Bag", sku="BAG-1", quantity=1, price=80)],
    )
    request = talon_one.IntegrationRequest(customerSession=session, responseContent=["loyalty"])
    closed = api.update_customer_session_v2(f"sdk-s-{uuid.uuid4().hex[:8]}", request)
    added = [
        props
        for effect in closed.effects or []
        if effect.effect_type == "addLoyaltyPoints"
        and (props := talon_one.AddLoyaltyPointsEffectProps.from_dict(effect.props)) is not None
        and props.program_id == 2
    ]
    assert [(props.card_identifier, props.value) for props in added] == [(card.identifier, 80)]
    assert closed.loyalty is not None and closed.loyalty.cards is not None
    [shown] = closed.loyalty.cards
    assert shown.identifier == card.identifier and shown.ledger is not None
    assert shown.ledger.tentative_current_balance == 80

    balances = api.get_loyalty_card_balances(2, card.identifier)
    assert isinstance(balances, talon_one.LoyaltyCardBalances) and balances.balance is not None
    assert balances.balance.active_points == 80
    assert [one.integration_id for one in balances.profiles or []] == [alice, bob]
    later = api.get_loyalty_card_balances(2, card.identifier, end_date=datetime.now(UTC) + timedelta(days=400))
    assert later.balance is not None and later.balance.expired_points == 80

    points = api.get_loyalty_card_points(2, card.identifier, status="active", page_size=10)
    assert isinstance(points, talon_one.GetLoyaltyCardPoints200Response)
    assert [one.amount for one in points.data] == [80]
    logged = api.get_loyalty_card_transactions(2, card.identifier, loyalty_transaction_type="session")
    assert isinstance(logged, talon_one.GetLoyaltyCardTransactions200Response)
    [entry] = logged.data
    assert (entry.card_identifier, entry.type, entry.amount) == (card.identifier, "addition", 80)

    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_loyalty_card_balances(2, card.identifier)
    with pytest.raises(BadRequestException):
        api.generate_loyalty_card(1, talon_one.GenerateLoyaltyCard())  # a profile-based program
