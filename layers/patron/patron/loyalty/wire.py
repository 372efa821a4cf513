"""Talon.One's loyalty answers (the `talon-one-sdk` models `LoyaltyBalancesWithTiers`, `LoyaltyBalanceWithTier`,
`Tier`): points as JSON numbers with two decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    pass


class TierView(_Wire):
    """`Tier`: the member's tier, since when and (advanced tiers) until its reevaluation."""

    id: int  # the tier's position in the program, from 1 (lowest)
    name: str
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    downgrade_policy: str | None = None  # advanced tiers': one_down | balance_based


class ProjectedTierView(_Wire):
    """`ProjectedTier`: the tier the member will have when its current tier expires, as things stand."""

    projected_active_points: Decimal
    stay_in_tier_points: Decimal | None = None
    projected_tier_name: str | None = None


class BalanceView(_Wire):
    """`LoyaltyBalanceWithTier`."""

    active_points: Decimal
    pending_points: Decimal
    spent_points: Decimal
    expired_points: Decimal
    negative_points: Decimal
    current_tier: TierView | None = None
    projected_tier: ProjectedTierView | None = None
    points_to_next_tier: Decimal | None = None
    next_tier_name: str | None = None


class BalancesView(_Wire):
    """`LoyaltyBalancesWithTiers`: the main ledger's balance and each subledger's."""

    balance: BalanceView
    subledger_balances: dict[str, BalanceView] = {}


class PointsView(_Wire):
    """`LedgerPointsEntryIntegrationAPI`: what is left of one addition's points (active, pending or expired)."""

    id: int  # Talon.One's entry number; Patron's: derived from the transaction id (patron.loyalty.history)
    transaction_uuid: str = msgspec.field(name="transactionUUID")
    created: datetime
    program_id: int
    name: str
    start_date: str  # RFC 3339, or `on_action` (awaiting activation)
    expiry_date: str  # RFC 3339, or `unlimited`
    subledger_id: str
    amount: Decimal
    customer_session_id: str | None = None
    validity_duration: str | None = None  # points awaiting activation: how long they last once active


class PointsPage(_Wire):
    """`GetLoyaltyProgramProfilePoints200Response`."""

    has_more: bool
    data: list[PointsView]


class TransactionFlags(_Wire):
    """`LoyaltyLedgerEntryFlags`."""

    creates_negative_balance: bool


class TransactionView(_Wire):
    """`LedgerTransactionLogEntryIntegrationAPI`: one entry of the member's ledger."""

    id: int
    transaction_uuid: str = msgspec.field(name="transactionUUID")
    created: datetime
    program_id: int
    kind: Literal["addition", "subtraction"] = msgspec.field(name="type")
    name: str
    start_date: str  # RFC 3339, `immediate` or `on_action`
    expiry_date: str  # RFC 3339 or `unlimited`
    subledger_id: str
    amount: Decimal
    customer_session_id: str | None = None
    flags: TransactionFlags | None = None


class TransactionsPage(_Wire):
    """`GetLoyaltyProgramProfileTransactions200Response`."""

    has_more: bool
    data: list[TransactionView]


class ExpirationView(_Wire):
    """Points of one subledger that expire at one instant (Patron's; Talon.One answers only the next one)."""

    subledger_id: str
    points: Decimal
    expiry_date: datetime


class ExpirationsView(_Wire):
    """Every upcoming expiry of the member's points, soonest first."""

    data: list[ExpirationView]


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
    """`Loyalty`: the customer's ledgers in each program the live campaigns change, by program id (and, in the
    customer inventory, the cards linked to the customer)."""

    programs: dict[str, ProgramLedgersView]
    cards: list[LoyaltyCardView] = []


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    pass


Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
PointsName = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Subledger = Annotated[str, msgspec.Meta(max_length=64)]


class AddPointsRequest(_In):
    """Points added by hand. `reference`: the caller's id of this change; a second call with it changes nothing."""

    points: Decimal
    name: PointsName = "Manual addition"
    subledger_id: Subledger = ""
    pending_duration: str | None = None  # "immediate", "on_action" or a duration; default: the program's
    validity_duration: str | None = None  # "unlimited" or a duration; default: the program's
    reference: Reference | None = None


class DeductPointsRequest(_In):
    points: Decimal
    name: PointsName = "Manual deduction"
    subledger_id: Subledger = ""
    reference: Reference | None = None


class TransferPointsRequest(_In):
    """Points moved from one member to another (beyond Talon.One): the giver's soonest-expiring points, given to
    the receiver as new points of the program's default validity."""

    from_integration_id: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    to_integration_id: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    points: Decimal
    name: PointsName = "Transfer"
    subledger_id: Subledger = ""
    reference: Reference | None = None


class EntryView(_Wire):
    transaction_uuid: str = msgspec.field(name="transactionUUID")
    type: str  # addition, subtraction
    subledger_id: str
    amount: Decimal
    name: str
    created: str
    integration_id: str | None = None  # a profile's entry
    card_identifier: str | None = None  # a card's entry (card-based programs)
    start_date: str | None = None
    expiry_date: str | None = None


class ManualChangeView(_Wire):
    transaction_uuid: str = msgspec.field(name="transactionUUID")
    replayed: bool  # the reference's change was made before: nothing was written now
    entries: list[EntryView]


class ActivatePointsRequest(_In):
    """Talon.One's `ActivateLoyaltyPoints`: the points of one session, or of given transactions."""

    session_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    transaction_uuids: (
        Annotated[
            list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(min_length=1, max_length=50)
        ]
        | None
    ) = msgspec.field(default=None, name="transactionUUIDs")


class LedgerEntryView(_Wire):
    """`LoyaltyLedgerEntry`."""

    created: str
    program_id: int = msgspec.field(name="programID")
    type: str
    amount: Decimal
    name: str
    sub_ledger_id: str = msgspec.field(name="subLedgerID")
    customer_profile_id: str | None = msgspec.field(default=None, name="customerProfileID")
    card_id: int | None = msgspec.field(default=None, name="cardID")  # a card's points (card-based programs)
    start_date: str | None = None
    expiry_date: str | None = None


class ActivatePointsResponse(_Wire):
    ledger_entries: list[LedgerEntryView]


# -- cards (card-based programs) ----------------------------------------------------------------------------------

# Talon.One's card identifier: 4 to 108 letters, digits, `_` and `-` (the SDK's pattern; exact, case kept).
CardIdentifier = Annotated[str, msgspec.Meta(min_length=4, max_length=108, pattern=r"^[A-Za-z0-9_-]+$")]
CardStatus = Literal["active", "inactive"]
IntegrationId = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
BlockReason = Annotated[str, msgspec.Meta(max_length=255)]


class GenerateCardRequest(_In):
    """`GenerateLoyaltyCard`: the card's status, the profiles linked at once, and its identifier (else generated)."""

    status: CardStatus = "active"
    customer_profile_ids: Annotated[list[IntegrationId], msgspec.Meta(max_length=1000)] = []
    card_identifier: CardIdentifier | None = None


class LinkCardRequest(_In):
    """`LoyaltyCardRegistration`."""

    integration_id: IntegrationId


class UpdateCardRequest(_In):
    """`UpdateLoyaltyCard`: a card blocked (`inactive`, with a reason) or unblocked."""

    status: CardStatus
    block_reason: BlockReason | None = None


class LinkedProfileView(_Wire):
    """`LoyaltyCardProfileRegistration`."""

    integration_id: str
    timestamp: datetime


class LoyaltyCardView(_Wire):
    """`LoyaltyCard`."""

    id: int  # Talon.One's number; Patron's derives from the card's identifier
    created: datetime
    program_id: int = msgspec.field(name="programID")
    status: str
    identifier: str
    users_per_card_limit: int
    program_name: str | None = None
    program_title: str | None = None
    block_reason: str | None = None
    profiles: list[LinkedProfileView] = []
    modified: datetime | None = None
    ledger: LedgerInfoView | None = None  # the card's main ledger (the customer inventory's)
    subledgers: dict[str, LedgerInfoView] = {}


class CardBalancesView(_Wire):
    """`LoyaltyCardBalances`: the card's main ledger, its subledgers, and the profiles linked to it."""

    balance: BalanceView
    subledger_balances: dict[str, BalanceView] = {}
    profiles: list[LinkedProfileView] = []


class CardTransactionView(_Wire):
    """`CardLedgerTransactionLogEntryIntegrationAPI`: one entry of the card's ledger."""

    transaction_uuid: str = msgspec.field(name="transactionUUID")
    created: datetime
    program_id: int
    card_identifier: str
    kind: Literal["addition", "subtraction"] = msgspec.field(name="type")
    name: str
    start_date: str
    expiry_date: str
    subledger_id: str
    amount: Decimal
    id: int
    customer_session_id: str | None = None


class CardTransactionsPage(_Wire):
    """`GetLoyaltyCardTransactions200Response`."""

    has_more: bool
    data: list[CardTransactionView]
