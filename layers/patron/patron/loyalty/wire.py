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


class LedgerInfoView(_Wire):
    """`LedgerInfo`: a ledger's balances now, and tentatively with the session's own changes."""

    current_balance: Decimal
    pending_balance: Decimal
    negative_balance: Decimal
    tentative_current_balance: Decimal
    tentative_pending_balance: Decimal
    tentative_negative_balance: Decimal
    expired_balance: Decimal  # deprecated by Talon.One, answered 0 as it does (required by its model)
    spent_balance: Decimal  # likewise
    current_tier: TierView | None = None
    points_to_next_tier: Decimal | None = None


class ProgramLedgersView(_Wire):
    """`LoyaltyProgramLedgers`: a program's main ledger and subledgers of the session's customer."""

    id: int
    title: str
    name: str
    ledger: LedgerInfoView
    join_date: str | None = None
    sub_ledgers: dict[str, LedgerInfoView] = {}


class LoyaltyView(_Wire):
    """`Loyalty`: the customer's ledgers in each program the live campaigns change, by program id."""

    programs: dict[str, ProgramLedgersView] = {}
