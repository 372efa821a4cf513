"""Talon.One's loyalty answers (the `talon-one-sdk` models `LoyaltyBalancesWithTiers`, `LoyaltyBalanceWithTier`,
`Tier`): points as JSON numbers with two decimals."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    pass


class TierView(_Wire):
    id: int
    name: str


class BalanceView(_Wire):
    """`LoyaltyBalanceWithTier`."""

    active_points: Decimal
    pending_points: Decimal
    spent_points: Decimal
    expired_points: Decimal
    negative_points: Decimal
    current_tier: TierView | None = None
    points_to_next_tier: Decimal | None = None
    next_tier_name: str | None = None


class BalancesView(_Wire):
    """`LoyaltyBalancesWithTiers`: the main ledger's balance and each subledger's."""

    balance: BalanceView
    subledger_balances: dict[str, BalanceView] = {}
