"""What a shop writes: an application's promotion settings, evaluation groups and campaigns (docs/campaigns.md).

The same Structs read campaign files (YAML or JSON, through the CLI), the management API's bodies and the stored
ruleset versions, and generate the published JSON Schema (`schema.json`), so an editor completes and checks a
file with exactly the rules the engine applies. Conditions and value expressions are text in the condition
language (`rules/`); they are parsed and type-checked when a ruleset is compiled (`ruleset.py`), not here.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Expression = (
    Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=4096,
            description="An expression of the condition language (docs/rules.md), e.g. `session.total * 0.1`.",
        ),
    ]
    # A plain number may be written as one (YAML's `value: 10`); it is read as the text it was written as.
    | int
    | float
    | bool
)
CampaignId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Template = Annotated[
    str,
    msgspec.Meta(max_length=4096, description="Text where `${expression}` is replaced by the expression's value."),
]


class _Definition(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, rename="camel"):
    pass


class _Effect(_Definition, frozen=True, tag_field="type"):
    pass


class DiscountScope(StrEnum):
    SESSION_TOTAL = "sessionTotal"
    CART_ITEMS = "cartItems"
    ADDITIONAL_COSTS = "additionalCosts"


class SetDiscount(_Effect, frozen=True, tag="setDiscount"):
    """A discount on the session: `value` is the amount, capped by what the scope holds."""

    name: Name
    value: Expression
    scope: DiscountScope = DiscountScope.SESSION_TOTAL


class ItemDistribution(StrEnum):
    EACH = "each"  # per matching cart item (line): the amount for that line
    UNIT = "unit"  # per unit after flattening: one effect per unit, with its subPosition
    PRO_RATA = "proRata"  # `amount` is a total shared by the matching items in proportion to their price


class SetDiscountPerItem(_Effect, frozen=True, tag="setDiscountPerItem"):
    """A discount on each matching item: `percent` of its price, or a fixed `amount` (an expression that may read
    `item`). `cap`, when set, bounds the effect's total over all items."""

    name: Name
    filter: Expression | None = None
    percent: Expression | None = None
    amount: Expression | None = None
    distribution: ItemDistribution = ItemDistribution.EACH
    cap: Expression | None = None


class SetDiscountPerAdditionalCost(_Effect, frozen=True, tag="setDiscountPerAdditionalCost"):
    """A discount on one of the session's additional costs (shipping, ...): `percent` of it or a fixed `amount`."""

    name: Name
    additional_cost: Name
    percent: Expression | None = None
    amount: Expression | None = None


class AddFreeItem(_Effect, frozen=True, tag="addFreeItem"):
    sku: Name
    name: Name


class ShowNotification(_Effect, frozen=True, tag="showNotification"):
    title: Template
    body: Template
    notification_type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "info"


class CustomEffect(_Effect, frozen=True, tag="customEffect"):
    """A shop-defined effect: `payload` is answered as given, with `${expression}` in its strings evaluated."""

    name: Name
    effect_id: Annotated[int, msgspec.Meta(ge=1)] = 1
    payload: dict[str, Any] = {}


class AttributeTarget(StrEnum):
    SESSION = "session"
    PROFILE = "profile"


class UpdateAttribute(_Effect, frozen=True, tag="updateAttribute"):
    target: AttributeTarget
    attribute: Name
    value: Expression


class TriggerWebhook(_Effect, frozen=True, tag="triggerWebhook"):
    """Recorded in the outbox when the session closes (delivered at least once, with its id)."""

    webhook_id: Annotated[int, msgspec.Meta(ge=1)]
    webhook_name: Name
    payload: dict[str, Any] = {}


class CreateCoupon(_Effect, frozen=True, tag="createCoupon"):
    """Talon.One's "create coupon": when the session closes, a coupon of this campaign (which has the `coupons`
    feature) is created for the session's customer, answered as `couponCreated` and in `createdCoupons`. The code
    is `prefix` and 8 random characters of [A-Z0-9]."""

    prefix: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    usage_limit: Annotated[int, msgspec.Meta(ge=0, le=999_999)] = 1
    discount_limit: Expression | None = None  # an expression (money); none: no discount limit
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None  # from the close; none: never expires
    attributes: dict[str, Any] = {}


class ReserveCoupon(_Effect, frozen=True, tag="reserveCoupon"):
    """Talon.One's "reserve coupon": when the session closes, the coupon on scope is reserved for the session's
    customer, as `POST /v1/coupon_reservations/{code}` would (the customer's inventory and the coupon's reserved
    customers list it), answered as `reserveCoupon`. On scope: the coupon a `createCoupon` before it in the same rule
    creates; otherwise the presented coupon the rule is triggered by (its condition requires `coupon.valid`). The
    campaign has the `coupons` feature."""


class CreateReferral(_Effect, frozen=True, tag="createReferral"):
    """Talon.One's "create referral code for the current customer profile": when the session closes, a referral code
    of this campaign (which has the `referrals` feature) whose advocate is the session's customer, answered as
    `referralCreated` and in `createdReferrals`. The code is `prefix` and 8 random characters of [A-Z0-9]."""

    prefix: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    usage_limit: Annotated[int, msgspec.Meta(ge=0, le=999_999)] = 0  # as POST /v1/referrals: 0 is unlimited
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None  # from the close; none: never expires
    attributes: dict[str, Any] = {}


class AddLoyaltyPoints(_Effect, frozen=True, tag="addLoyaltyPoints"):
    """Talon.One's "add loyalty points": `value` points (an expression, rounded down to 2 decimals) to the session's
    customer in program `programId` (the campaign has the `loyalty` feature), tentative in an open session and
    written at close. `pending` and `validity` default to the program's (`defaultPending`, `defaultValidity`)."""

    program_id: Annotated[int, msgspec.Meta(ge=1)]
    value: Expression
    name: Annotated[str, msgspec.Meta(max_length=255)] = ""  # the ledger entry's name; default: the rule's title
    subledger: Annotated[str, msgspec.Meta(max_length=64)] = ""  # "": the main ledger
    pending: str | None = None  # "immediate", "on_action" or a duration (patron.loyalty.durations)
    validity: str | None = None  # "unlimited" or a duration
    # Talon.One's "per item": `value` is each cart line's points, read with `item` the line (of those `filter`
    # keeps); answered one effect per line (`cartItemPosition`), written as one addition, returned line by line.
    per_item: bool = False
    filter: Expression | None = None
    # Another profile than the session's earns the points (Talon.One's recipient: a referral's advocate, say): an
    # expression giving an existing profile's integration id (profile-based programs only). The effect fails
    # (`EffectCouldNotBeApplied`) when it gives nothing or names no profile.
    recipient: Expression | None = None


class DeductLoyaltyPoints(_Effect, frozen=True, tag="deductLoyaltyPoints"):
    """Talon.One's "deduct loyalty points": `value` points from the customer's active balance in `programId`,
    soonest-expiring first; only what can be deducted unless the program allows negative balances."""

    program_id: Annotated[int, msgspec.Meta(ge=1)]
    value: Expression
    name: Annotated[str, msgspec.Meta(max_length=255)] = ""
    subledger: Annotated[str, msgspec.Meta(max_length=64)] = ""


class ChangeLoyaltyTierLevel(_Effect, frozen=True, tag="changeLoyaltyTierLevel"):
    """Talon.One's "change tier level": moves the customer up to tier `tier` of program `programId` (never down:
    a customer already there or higher is left), held until `expiresIn` (a duration) has passed whatever the
    balance; without it, until the program's advanced tiers reevaluate it, or for good under basic tiers."""

    program_id: Annotated[int, msgspec.Meta(ge=1)]
    tier: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    expires_in: Annotated[str, msgspec.Meta(max_length=16)] | None = None


# -- audiences (docs/audiences.md, "Effects") -------------------------------------------------------------------
AudienceId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1, description="An audience's id (POST /v2/audiences).")]


class AddToAudience(_Effect, frozen=True, tag="addToAudience"):
    """Talon.One's "add customer to audience": the session's customer joins audience `audienceId`, when the session
    closes (tentative while it is open) or at once for an event. An anonymous session, or an audience that does not
    exist or was deleted: the effect fails (`EffectCouldNotBeApplied`)."""

    audience_id: AudienceId


class RemoveFromAudience(_Effect, frozen=True, tag="removeFromAudience"):
    """Talon.One's "remove customer from audience": the session's customer leaves audience `audienceId`, as
    `addToAudience` joins it (a customer who is not a member: nothing written)."""

    audience_id: AudienceId


EffectDefinition = (
    SetDiscount
    | SetDiscountPerItem
    | SetDiscountPerAdditionalCost
    | AddFreeItem
    | ShowNotification
    | CustomEffect
    | UpdateAttribute
    | TriggerWebhook
    | CreateCoupon
    | ReserveCoupon
    | CreateReferral
    | AddLoyaltyPoints
    | DeductLoyaltyPoints
    | ChangeLoyaltyTierLevel
    | AddToAudience
    | RemoveFromAudience
)


class Rule(_Definition, frozen=True):
    title: Name
    condition: Expression = "true"
    effects: Annotated[list[EffectDefinition], msgspec.Meta(max_length=50)] = []


class CampaignState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    ARCHIVED = "archived"


class LimitAction(StrEnum):
    # Talon.One's names: the total value of the discounts the campaign gave ...
    SET_DISCOUNT = "setDiscount"
    # ... and its redemptions: closed sessions in which the campaign triggered.
    SET_DISCOUNT_EFFECT = "setDiscountEffect"


class LimitEntity(StrEnum):
    PROFILE = "Profile"
    SESSION = "Session"
    IDENTIFIER = "Identifier"


class LimitPeriod(StrEnum):
    OVERALL = "overall"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class Limit(_Definition, frozen=True):
    """A budget: at most `limit` of `action` per campaign, or per each of `entities` (a profile, a session, a
    session identifier), in each `period` (calendar periods in the application's timezone; weeks start Monday)."""

    action: LimitAction
    # A number (`1000`, `99.50`); a string holding one is taken too, as the stored versions write it.
    limit: Decimal
    entities: Annotated[list[LimitEntity], msgspec.Meta(max_length=1)] = []
    period: LimitPeriod = LimitPeriod.OVERALL

    def __post_init__(self) -> None:
        if self.limit < 0 or not self.limit.is_finite():
            raise ValueError("a limit is a number of at least 0")
        if self.action is LimitAction.SET_DISCOUNT_EFFECT and self.limit != self.limit.to_integral_value():
            raise ValueError("a redemption limit is a whole number")


class Campaign(_Definition, frozen=True):
    id: CampaignId
    name: Name
    rules: Annotated[list[Rule], msgspec.Meta(min_length=1, max_length=100)]
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    state: CampaignState = CampaignState.ENABLED
    # A date-time without an offset is in the application's timezone.
    start_time: datetime | None = None
    end_time: datetime | None = None
    evaluation_group: Name = "default"
    # Inside its group, campaigns are evaluated by ascending priority, then by id.
    priority: int = 0
    limits: Annotated[list[Limit], msgspec.Meta(max_length=20)] = []
    tags: Annotated[list[Name], msgspec.Meta(max_length=50)] = []
    features: Annotated[list[Literal["coupons", "referrals", "loyalty", "giveaways"]], msgspec.Meta(max_length=4)] = []
    attributes: dict[str, Any] = {}


class EvaluationMode(StrEnum):
    STACKABLE = "stackable"  # every triggered campaign applies
    LIST_ORDER = "listOrder"  # the first triggered campaign applies
    HIGHEST_DISCOUNT = "highestDiscount"  # the triggered campaign with the largest discount total applies
    LOWEST_DISCOUNT = "lowestDiscount"
    # The first triggered campaign applies, and no campaign of a later group is evaluated.
    EXCLUSIVE = "exclusive"


class EvaluationGroup(_Definition, frozen=True):
    name: Name
    mode: EvaluationMode = EvaluationMode.STACKABLE


class Settings(_Definition, frozen=True):
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")] = "EUR"
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "UTC"
    # Later campaigns see earlier campaigns' discounts (session.total, item.price are discounted).
    cascading_discounts: bool = False
    # Coupon and referral codes match exactly as written (Talon.One's default); false: `summer25` finds SUMMER25,
    # codes being stored upper-cased (patron.coupons.model.normalise_code).
    case_sensitive_codes: bool = True
    # Checkout holds (docs/coupons.md): an open session holds a use of each limited coupon it presents for this
    # many seconds after its last update; 0: no holds.
    coupon_hold_seconds: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 0


class TierDowngradePolicy(StrEnum):
    ONE_DOWN = "one_down"  # a member short of its tier's minimum goes one tier down
    BALANCE_BASED = "balance_based"  # a member goes to the tier its active balance reaches


class JoinPolicy(StrEnum):
    NOT_JOIN = "not_join"  # earning and spending do not make a member (no join date, no tier)
    POINTS_ACTIVATED = "points_activated"  # a member joins when its first points become active
    POINTS_EARNED = "points_earned"  # a member joins when it first earns points


SubledgerId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class LoyaltyTier(_Definition, frozen=True):
    name: Name
    min_points: Decimal  # at least 0 (checked with the program)


class LoyaltyProgram(_Definition, frozen=True):
    """A profile-based (or card-based) loyalty program (docs/loyalty.md): its ledgers, the default pending period
    and validity of the points it adds (Talon.One's durations, `365D`, `12M_U`), its tiers by minimum active
    points, what returns take back, and whether a balance may go negative."""

    id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$")]
    title: Annotated[str, msgspec.Meta(max_length=255)] = ""
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    card_based: bool = False
    subledgers: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(max_length=50)
    ] = []
    default_validity: str = "unlimited"
    default_pending: str = "immediate"
    tiers: Annotated[list[LoyaltyTier], msgspec.Meta(max_length=20)] = []
    tiers_downgrade_policy: TierDowngradePolicy = TierDowngradePolicy.ONE_DOWN
    # Advanced tiers: a tier is kept until it expires, then reevaluated by the downgrade policy (docs/loyalty.md).
    tiers_expire_in: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    tiers_expiration_policy: Literal["tier_start_date", "absolute_expiration"] = "tier_start_date"
    tier_cycle_start_date: datetime | None = None  # absolute_expiration: when the first tier cycle starts
    return_policy: Literal["only_pending", "within_balance", "unlimited"] = "only_pending"
    allow_negative_balance: bool = False
    join_policy: JoinPolicy = JoinPolicy.NOT_JOIN
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "UTC"
    users_per_card: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0  # 0: no limit (card-based programs)

    def __post_init__(self) -> None:
        from patron.loyalty.program import check_program  # the durations and zone, checked where they are known

        check_program(self)


class EventFieldType(StrEnum):
    """ExpertSender's data field types; Talon.One's event attributes map onto them (docs/events.md)."""

    STRING = "String"
    TEXT = "Text"
    NUMBER = "Number"
    MONEY = "Money"
    DATE = "Date"
    DATETIME = "DateTime"
    BOOLEAN = "Boolean"
    URL = "URL"


class EventField(_Definition, frozen=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    type: EventFieldType
    required: bool = False


class CustomEventDefinition(_Definition, frozen=True):
    """A custom event the application tracks (docs/events.md): ExpertSender names it by `id` (customEventId),
    Talon.One by `type` (`POST /v2/events`). Its fields type the event's attributes: a tracked event of this type is
    refused when a field has a value of another type, a required one is missing, or an attribute is not a field."""

    id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$")]
    name: Name
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    fields: Annotated[list[EventField], msgspec.Meta(max_length=100)] = []


class Ruleset(_Definition, frozen=True):
    """Everything an application evaluates: what `patron campaigns publish` sends and a version stores."""

    settings: Settings = Settings()
    # Groups in evaluation order; a campaign's group must be one of them ("default" exists unless redefined).
    evaluation_groups: Annotated[list[EvaluationGroup], msgspec.Meta(max_length=100)] = []
    campaigns: Annotated[list[Campaign], msgspec.Meta(max_length=5000)] = []
    loyalty_programs: Annotated[list[LoyaltyProgram], msgspec.Meta(max_length=50)] = []
    custom_events: Annotated[list[CustomEventDefinition], msgspec.Meta(max_length=500)] = []

    def groups(self) -> list[EvaluationGroup]:
        named = {group.name for group in self.evaluation_groups}
        default = [] if "default" in named else [EvaluationGroup(name="default")]
        return [*default, *self.evaluation_groups]


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of a campaign file (docs/campaigns.schema.json), from these Structs."""
    schema = msgspec.json.schema(Ruleset)
    # msgspec writes a Decimal as a string; a file writes a limit or a tier's minimum as a number (`limit: 1000`),
    # and either is read.
    schema["$defs"]["Limit"]["properties"]["limit"] = {"type": ["number", "string"], "minimum": 0}
    schema["$defs"]["LoyaltyTier"]["properties"]["minPoints"] = {"type": ["number", "string"], "minimum": 0}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Patron campaigns"
    return schema


def render_json_schema() -> str:
    """The schema as committed (docs/campaigns.schema.json; a test keeps the two the same)."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
