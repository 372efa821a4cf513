"""A `Ruleset` compiled once per published version: every condition and expression into closures (rules/), the
groups in evaluation order, each campaign's index keys and limits. A Lambda instance keeps the compiled version
while the application's pointer names it.

Compiling reports every fault at once (each with its file, campaign, rule and path), so `patron campaigns
validate` and the management API refuse a ruleset before it is published, never while a session is evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from patron.loyalty.durations import parse as parse_duration
from patron.loyalty.program import check_pending, check_validity
from patron.promotions import actions
from patron.promotions.budgets import (
    OWN_CODES,
    Bound,
    Budget,
    CounterKey,
    Subjects,
    counter_keys,
    coupon_discount_key,
)
from patron.promotions.definitions import (
    AddFreeItem,
    AddLoyaltyPoints,
    AddToAudience,
    Campaign,
    CampaignState,
    ChangeLoyaltyTierLevel,
    CreateCoupon,
    CreateReferral,
    CustomEffect,
    DeductLoyaltyPoints,
    EffectDefinition,
    EventFieldType,
    Limit,
    LoyaltyProgram,
    RemoveFromAudience,
    ReserveCoupon,
    Ruleset,
    SetDiscount,
    SetDiscountPerAdditionalCost,
    SetDiscountPerItem,
    ShowNotification,
    TriggerWebhook,
    UpdateAttribute,
)
from patron.promotions.effects import Effect, RuleFailureReason
from patron.promotions.evaluator import (
    EFFECT_COULD_NOT_BE_APPLIED,
    CompiledCampaign,
    CompiledEffect,
    CompiledGroup,
    CompiledRule,
)
from patron.promotions.loading import DefinitionError, DefinitionIssue
from patron.promotions.money import Money
from patron.promotions.rules import (
    Compiler,
    CouponFacts,
    Facts,
    Requirements,
    RuleError,
    RuleLocation,
    parse,
    requirements,
)
from patron.promotions.rules.errors import line_and_column
from patron.promotions.rules.functions import EVENT_COUNT_FUNCTIONS, LOYALTY_FUNCTIONS
from patron.promotions.rules.index_keys import either, field_reader
from patron.promotions.rules.schema import DYNAMIC, NUMBER, STRING, SchemaLike, Type
from patron.promotions.rules.tree import Call, Node, Number, String, children, reads
from patron.promotions.stored import storable_attributes

_TEMPLATE = re.compile(r"\$\{([^}]*)\}")
_NOTHING = Requirements()


def expression(value: str | int | float | bool) -> str:
    """A definition's expression as text: YAML's `value: 10` is the expression `10`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


class Indexed(msgspec.Struct, frozen=True):
    campaign: CompiledCampaign
    requires: Requirements | None  # None: nothing known, every request may match
    limits: tuple[Limit, ...]
    enabled: bool


class _Index(msgspec.Struct, frozen=True):
    """The enabled campaigns by the facts they require, built once per version: a request's candidates are the
    campaigns keyed by a fact it holds, plus those without keys. A campaign is filed under the first kind of key it
    has (its own valid referral code or coupon, event type, coupon code, SKU, category, a string field such as the
    store or a profile attribute); one that requires more than one key is then asked `admits`. Campaigns are
    numbered by their place in evaluation order (their rank), so sorting the ranks restores the order."""

    always: tuple[int, ...]  # ranks
    by_coupon: Mapping[str, tuple[int, ...]]  # a coupon campaign's id (as text) -> its rank
    by_referral: Mapping[str, tuple[int, ...]]  # a referral campaign's id (as text) -> its rank
    by_event: Mapping[str, tuple[int, ...]]
    by_code: Mapping[str, tuple[int, ...]]
    by_sku: Mapping[str, tuple[int, ...]]
    by_category: Mapping[str, tuple[int, ...]]
    # field -> (its reader, string -> ranks): `session.storeIntegrationId == "store-7"` and the like
    by_field: Mapping[str, tuple[Callable[[Facts], object], Mapping[str, tuple[int, ...]]]]
    recheck: Mapping[int, Requirements]  # rank -> more than one key: `admits` decides
    limited: frozenset[int]  # ids of the campaigns with limits
    ranked: tuple[tuple[int, CompiledCampaign], ...]  # rank -> (group index, campaign)

    @classmethod
    def build(cls, groups: Sequence[CompiledGroup], campaigns: Mapping[int, Indexed]) -> _Index:
        always: list[int] = []
        kinds_keyed = ("coupon", "referral", "event", "code", "sku", "category")
        keyed: dict[str, dict[str, list[int]]] = {kind: {} for kind in kinds_keyed}
        by_field: dict[str, dict[str, list[int]]] = {}
        recheck: dict[int, Requirements] = {}
        ranked: list[tuple[int, CompiledCampaign]] = []
        for group_index, group in enumerate(groups):
            for campaign in group.campaigns:
                indexed = campaigns[campaign.id]
                rank = len(ranked)
                ranked.append((group_index, campaign))
                if not indexed.enabled:
                    continue
                needs = indexed.requires
                if needs is None:
                    always.append(rank)
                    continue
                kinds = [
                    (kind, keys)
                    for kind, keys in (
                        ("event", needs.event_types),
                        ("code", needs.coupon_codes),
                        ("sku", needs.skus),
                        ("category", needs.categories),
                    )
                    if keys is not None
                ]
                kinds += [(field, allowed) for field, allowed in needs.fields]
                if needs.coupon:  # the campaign's own valid coupon: the most selective key
                    kinds.insert(0, ("coupon", frozenset([str(campaign.id)])))
                if needs.referral:  # its own valid referral code: rarer still (one per session)
                    kinds.insert(0, ("referral", frozenset([str(campaign.id)])))
                kind, keys = kinds[0]
                filed = keyed[kind] if kind in keyed else by_field.setdefault(kind, {})
                for key in keys:
                    filed.setdefault(key, []).append(rank)
                if len(kinds) > 1:
                    recheck[rank] = needs

        def frozen(index: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
            return {key: tuple(ranks) for key, ranks in index.items()}

        return cls(
            tuple(always),
            frozen(keyed["coupon"]),
            frozen(keyed["referral"]),
            frozen(keyed["event"]),
            frozen(keyed["code"]),
            frozen(keyed["sku"]),
            frozen(keyed["category"]),
            {field: (field_reader(field), frozen(index)) for field, index in by_field.items()},
            recheck,
            frozenset(campaign_id for campaign_id, indexed in campaigns.items() if indexed.limits),
            tuple(ranked),
        )

    def candidates(self, facts: Facts) -> list[int]:
        found = set(self.always)
        for campaign_id in facts.coupons:
            found.update(self.by_coupon.get(str(campaign_id), ()))
        for campaign_id in facts.referrals:
            found.update(self.by_referral.get(str(campaign_id), ()))
        if facts.event is not None:
            found.update(self.by_event.get(facts.event.type, ()))
        by_code = self.by_code
        for code in facts.session.coupon_codes:
            found.update(by_code.get(code, ()))
        by_sku, by_category = self.by_sku, self.by_category
        if by_sku or by_category:
            for item in facts.items:
                found.update(by_sku.get(item.sku, ()))
                found.update(by_category.get(item.category or "", ()))
        for read, by_value in self.by_field.values():
            value = read(facts)
            if type(value) is str:  # (a list or an object is no key, and unhashable)
                found.update(by_value.get(value, ()))
        ranks = sorted(found)
        recheck = self.recheck
        if recheck:
            ranks = [rank for rank in ranks if (needs := recheck.get(rank)) is None or needs.admits(facts)]
        return ranks


class CompiledRuleset(msgspec.Struct, frozen=True):
    version: int
    ruleset: Ruleset
    money: Money
    zone: tzinfo
    groups: tuple[CompiledGroup, ...]
    campaigns: Mapping[int, Indexed]
    index: _Index | None = None  # built by compile_ruleset
    programs: Mapping[int, LoyaltyProgram] = {}  # the loyalty programs, by id
    loyalty: frozenset[int] = frozenset()  # the programs whose points the campaigns change or read (ledgers read)
    loyalty_read: frozenset[int] = frozenset()  # those whose standing expressions read (`loyaltyPoints(1)`)
    # The event types whose per-day counts expressions read (`eventCount("review_written", 30)`): the customer's
    # count items of these types are read in a call's one batch.
    event_counts_read: frozenset[str] = frozenset()
    audiences: frozenset[int] = frozenset()  # the audiences the campaigns' effects name: read with the session

    def not_applied(self, effect: Effect) -> RuleFailureReason:
        """The failure of an effect the evaluation answered but its settlement could not apply (a ledger or
        audience that is not there): Talon.One's `EffectCouldNotBeApplied`, naming its campaign and rule."""
        indexed = self.campaigns.get(effect.campaign_id)
        return RuleFailureReason(
            campaign_id=effect.campaign_id,
            campaign_name=indexed.campaign.name if indexed is not None else "",
            ruleset_id=effect.ruleset_id,
            rule_index=effect.rule_index,
            rule_name=effect.rule_name,
            details=EFFECT_COULD_NOT_BE_APPLIED,
        )

    def candidates(self, facts: Facts, only: frozenset[int] | None = None) -> tuple[CompiledGroup, ...]:
        """The groups with only the campaigns that can match these facts: enabled (or, in a dry request, named
        in `only`), and whose index keys the facts hold."""
        if only is None and self.index is not None:
            return self._indexed_candidates(self.index, facts)
        groups: list[CompiledGroup] = []
        for group in self.groups:
            kept = []
            for campaign in group.campaigns:
                indexed = self.campaigns[campaign.id]
                allowed = indexed.enabled if only is None else campaign.id in only
                if allowed and (indexed.requires is None or indexed.requires.admits(facts)):
                    kept.append(campaign)
            if kept:
                groups.append(CompiledGroup(group.id, group.name, group.mode, tuple(kept)))
        return tuple(groups)

    def _indexed_candidates(self, index: _Index, facts: Facts) -> tuple[CompiledGroup, ...]:
        groups: list[CompiledGroup] = []
        ranked = index.ranked
        current = -1
        kept: list[CompiledCampaign] = []
        for rank in index.candidates(facts):
            group_index, campaign = ranked[rank]
            if group_index != current:
                if kept:
                    group = self.groups[current]
                    groups.append(CompiledGroup(group.id, group.name, group.mode, tuple(kept)))
                current, kept = group_index, []
            kept.append(campaign)
        if kept:
            group = self.groups[current]
            groups.append(CompiledGroup(group.id, group.name, group.mode, tuple(kept)))
        return tuple(groups)

    def counter_keys(self, groups: Sequence[CompiledGroup], subjects: Subjects, now: datetime) -> set[CounterKey]:
        """Every counter the candidate campaigns' limits bind for this session: what to read before deciding."""
        local = now.astimezone(self.zone)
        keys: set[CounterKey] = set()
        for group in groups:
            for campaign in group.campaigns:
                for limit in self.campaigns[campaign.id].limits:
                    keys.update(counter_keys(campaign.id, limit, subjects, local))
        return keys

    def budget(
        self, campaign: CompiledCampaign, subjects: Subjects, now: datetime, used: Mapping[CounterKey, Decimal]
    ) -> Budget:
        limits = self.campaigns[campaign.id].limits
        if not limits:
            return Budget([], used)
        local = now if now.tzinfo is self.zone else now.astimezone(self.zone)
        bounds = [
            Bound(key, limit.limit) for limit in limits for key in counter_keys(campaign.id, limit, subjects, local)
        ]
        return Budget(bounds, used)


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _aware(moment: datetime | None, zone: tzinfo) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


class _CampaignCompiler:
    """Compiles one campaign's expressions, collecting every fault instead of stopping at the first."""

    def __init__(
        self,
        compiler: Compiler,
        campaign: Campaign,
        root: str,
        file: str,
        cost_ids: Mapping[str, int],
        programs: Mapping[int, LoyaltyProgram],
    ):
        self.compiler = compiler
        self.campaign = campaign
        self.root = root
        self.file = file
        self.cost_ids = cost_ids
        self.programs = programs
        self.issues: list[DefinitionIssue] = []
        self.programs_read: set[int] = set()  # by loyaltyPoints(...), loyaltyTier(...): their ledgers are read
        self.event_types_read: set[str] = set()  # by eventCount(...): their count items are read

    def _location(self, rule_index: int, path: str) -> RuleLocation:
        rule = self.campaign.rules[rule_index]
        return RuleLocation(self.file, self.campaign.name, rule_index, rule.title, f"{self.root}.{path}")

    def _guard(self, build: Callable[[], Any], rule_index: int, path: str, text: str) -> Any:
        for root, feature in (("coupon", "coupons"), ("referral", "referrals")):
            if feature not in self.campaign.features and root in text and _reads(text, root):
                message = f"`{root}` names the campaign's own {root}: give the campaign `features: [{feature}]`."
                self._refuse(path, f"{feature}_feature_required", message)
                return None
        if "oyalty" in text:
            for program_id in sorted(_programs_read(text)):
                if program_id not in self.programs:
                    self._refuse(path, "unknown_program", f"No loyalty program has id {program_id}.")
                    return None
                self.programs_read.add(program_id)
        if "eventCount" in text:
            self.event_types_read |= _event_types_counted(text)
        try:
            return build()
        except RuleError as error:
            source = error.source
            for issue in error.issues:
                column = line_and_column(source, issue.start)[1] if source and issue.start is not None else None
                self.issues.append(
                    DefinitionIssue(
                        self.file, f"{self.root}.{path}", issue.code, issue.message, self.campaign.name, column
                    )
                )
            return None

    def condition(self, rule_index: int, source: str) -> Callable[[Facts], bool] | None:
        where = self._location(rule_index, f"rules[{rule_index}].condition")
        built = self._guard(
            lambda: self.compiler.condition(source, where), rule_index, f"rules[{rule_index}].condition", source
        )
        return built  # type: ignore[no-any-return]

    def value(self, rule_index: int, path: str, source: Any, kind: Type = NUMBER) -> Any:
        text = expression(source)
        where = self._location(rule_index, path)
        return self._guard(lambda: self.compiler.value(text, kind, where), rule_index, path, text)

    def item_value(self, rule_index: int, path: str, source: Any) -> Any:
        text = expression(source)
        where = self._location(rule_index, path)
        return self._guard(lambda: self.compiler.item_value(text, NUMBER, where), rule_index, path, text)

    def item_filter(self, rule_index: int, path: str, source: Any) -> Any:
        text = expression(source)
        where = self._location(rule_index, path)
        return self._guard(lambda: self.compiler.item_filter(text, where), rule_index, path, text)

    def template(self, rule_index: int, path: str, text: str) -> Callable[[Facts], str]:
        """`Hello ${profile.attributes.name}`: each `${...}` an expression, written as text (absent: empty)."""
        parts: list[str | Callable[[Facts], Any]] = []
        last = 0
        for found in _TEMPLATE.finditer(text):
            parts.append(text[last : found.start()])
            parts.append(self.value(rule_index, path, found.group(1), DYNAMIC) or (lambda _facts: None))
            last = found.end()
        parts.append(text[last:])
        if len(parts) == 1:
            return lambda _facts: text

        def render(facts: Facts) -> str:
            return "".join(part if isinstance(part, str) else _text(part(facts)) for part in parts)

        return render

    def payload(self, rule_index: int, path: str, payload: Mapping[str, Any]) -> Callable[[Facts], dict[str, Any]]:
        """A JSON payload whose strings may hold `${...}`; a string that is exactly one `${...}` takes its value."""

        def build(value: Any, at: str) -> Callable[[Facts], Any]:
            if isinstance(value, str):
                whole = _TEMPLATE.fullmatch(value)
                if whole:
                    return self.value(rule_index, at, whole.group(1), DYNAMIC) or (lambda _facts: None)
                return self.template(rule_index, at, value)
            if isinstance(value, dict):
                members = {key: build(member, f"{at}.{key}") for key, member in value.items()}
                return lambda facts: {key: _json(member(facts)) for key, member in members.items()}
            if isinstance(value, list):
                elements = [build(member, f"{at}[{index}]") for index, member in enumerate(value)]
                return lambda facts: [_json(element(facts)) for element in elements]
            return lambda _facts: value

        built = build(dict(payload), path)
        return built

    def effect(self, rule_index: int, effect_index: int, effect: EffectDefinition) -> CompiledEffect | None:
        at = f"rules[{rule_index}].effects[{effect_index}]"
        match effect:
            case SetDiscount():
                value = self.value(rule_index, f"{at}.value", effect.value)
                return actions.set_discount(effect.name, value, effect.scope) if value else None
            case SetDiscountPerItem():
                if (effect.percent is None) == (effect.amount is None):
                    self._refuse(f"{at}", "percent_or_amount", "Give either `percent` or `amount`.")
                    return None
                matches = self.item_filter(rule_index, f"{at}.filter", effect.filter) if effect.filter else None
                percent = self.item_value(rule_index, f"{at}.percent", effect.percent) if effect.percent else None
                amount = self.item_value(rule_index, f"{at}.amount", effect.amount) if effect.amount else None
                cap = self.value(rule_index, f"{at}.cap", effect.cap) if effect.cap is not None else None
                return actions.set_discount_per_item(effect.name, matches, percent, amount, effect.distribution, cap)
            case SetDiscountPerAdditionalCost():
                if (effect.percent is None) == (effect.amount is None):
                    self._refuse(f"{at}", "percent_or_amount", "Give either `percent` or `amount`.")
                    return None
                percent = self.value(rule_index, f"{at}.percent", effect.percent) if effect.percent else None
                amount = self.value(rule_index, f"{at}.amount", effect.amount) if effect.amount else None
                cost_id = self.cost_ids.get(effect.additional_cost, 0)
                return actions.set_discount_per_additional_cost(
                    effect.name, effect.additional_cost, cost_id, percent, amount
                )
            case AddFreeItem():
                return actions.add_free_item(effect.sku, effect.name)
            case ShowNotification():
                title = self.template(rule_index, f"{at}.title", effect.title)
                body = self.template(rule_index, f"{at}.body", effect.body)
                return actions.show_notification(effect.notification_type, title, body)
            case CustomEffect():
                payload = self.payload(rule_index, f"{at}.payload", effect.payload)
                return actions.custom_effect(effect.name, effect.effect_id, payload)
            case UpdateAttribute():
                value = self.value(rule_index, f"{at}.value", effect.value, DYNAMIC)
                return actions.update_attribute(effect.target.value, effect.attribute, value) if value else None
            case TriggerWebhook():
                payload = self.payload(rule_index, f"{at}.payload", effect.payload)
                return actions.trigger_webhook(effect.webhook_id, effect.webhook_name, payload)
            case CreateCoupon():
                if not self._featured(at, "coupons", "A campaign creates coupons of its own"):
                    return None
                limit = (
                    self.value(rule_index, f"{at}.discountLimit", effect.discount_limit)
                    if effect.discount_limit
                    else None
                )
                if effect.discount_limit is not None and limit is None:
                    return None
                attributes = storable_attributes(effect.attributes)
                return actions.create_coupon(effect.prefix, effect.usage_limit, limit, effect.valid_days, attributes)
            case ReserveCoupon():
                if not self._featured(at, "coupons", "A campaign reserves coupons of its own"):
                    return None
                earlier = self.campaign.rules[rule_index].effects[:effect_index]
                return actions.reserve_coupon(created=any(isinstance(one, CreateCoupon) for one in earlier))
            case CreateReferral():
                if not self._featured(at, "referrals", "A campaign creates referral codes of its own"):
                    return None
                attributes = storable_attributes(effect.attributes)
                return actions.create_referral(effect.prefix, effect.usage_limit, effect.valid_days, attributes)
            case AddLoyaltyPoints() | DeductLoyaltyPoints():
                return self._loyalty(rule_index, at, effect)
            case ChangeLoyaltyTierLevel():
                return self._tier(at, effect)
            case AddToAudience() | RemoveFromAudience():  # no feature: any campaign may (Talon.One's)
                return actions.audience_membership(effect.audience_id, isinstance(effect, AddToAudience))
        return None

    def _tier(self, at: str, effect: ChangeLoyaltyTierLevel) -> CompiledEffect | None:
        """A tier change names a program of the ruleset and one of its tiers."""
        if not self._featured(at, "loyalty", "A campaign changes loyalty tiers"):
            return None
        program = self.programs.get(effect.program_id)
        if program is None:
            self._refuse(f"{at}.programId", "unknown_program", f"No loyalty program has id {effect.program_id}.")
            return None
        if effect.tier not in [tier.name for tier in program.tiers]:
            self._refuse(f"{at}.tier", "unknown_tier", f"Program {program.id} has no tier {effect.tier!r}.")
            return None
        if effect.expires_in is not None:
            try:
                parse_duration(effect.expires_in)
            except ValueError as error:
                self._refuse(f"{at}.expiresIn", "invalid_duration", str(error))
                return None
        return actions.loyalty_tier(program.id, effect.tier, effect.expires_in, program.card_based)

    def _loyalty(
        self, rule_index: int, at: str, effect: AddLoyaltyPoints | DeductLoyaltyPoints
    ) -> CompiledEffect | None:
        """A points effect names a program of the ruleset (and one of its subledgers); an addition's pending
        period and validity default to the program's."""
        if not self._featured(at, "loyalty", "A campaign changes loyalty points"):
            return None
        program = self.programs.get(effect.program_id)
        if program is None:
            self._refuse(f"{at}.programId", "unknown_program", f"No loyalty program has id {effect.program_id}.")
            return None
        if effect.subledger and effect.subledger not in program.subledgers:
            message = f"Program {program.id} has no subledger {effect.subledger!r} (its `subledgers`)."
            self._refuse(f"{at}.subledger", "unknown_subledger", message)
            return None
        per_item = isinstance(effect, AddLoyaltyPoints) and effect.per_item
        if isinstance(effect, AddLoyaltyPoints) and effect.filter is not None and not per_item:
            self._refuse(f"{at}.filter", "filter_needs_per_item", "A filter chooses lines: give `perItem: true`.")
            return None
        if per_item:
            value = self.item_value(rule_index, f"{at}.value", effect.value)
        else:
            value = self.value(rule_index, f"{at}.value", effect.value)
        if value is None:
            return None
        recipient = None
        if isinstance(effect, AddLoyaltyPoints) and effect.recipient is not None:
            if program.card_based:
                message = f"Program {program.id} is card-based: its points go to the session's card, not a recipient."
                self._refuse(f"{at}.recipient", "recipient_card_based", message)
                return None
            recipient = self.value(rule_index, f"{at}.recipient", effect.recipient, STRING)
            if recipient is None:
                return None
        if isinstance(effect, DeductLoyaltyPoints):
            return actions.loyalty_points(
                False, program.id, effect.subledger, effect.name, value, card_based=program.card_based
            )
        pending = effect.pending or program.default_pending
        validity = effect.validity or program.default_validity
        try:
            check_pending(pending, "pending")
            check_validity(validity, "validity")
        except ValueError as error:
            self._refuse(at, "invalid_duration", str(error))
            return None
        if per_item:
            chosen = self.item_filter(rule_index, f"{at}.filter", effect.filter) if effect.filter else None
            if effect.filter and chosen is None:
                return None
            return actions.loyalty_points_per_item(
                program.id, effect.subledger, effect.name, chosen, value, pending, validity, program.card_based,
                recipient,
            )  # fmt: skip
        return actions.loyalty_points(
            True, program.id, effect.subledger, effect.name, value, pending, validity, program.card_based, recipient
        )

    def _featured(self, at: str, feature: str, why: str) -> bool:
        """Whether the campaign has `feature`; refused (`<feature>_feature_required`) when not."""
        if feature in self.campaign.features:
            return True
        self._refuse(at, f"{feature}_feature_required", f"{why}: give it `features: [{feature}]`.")
        return False

    def _refuse(self, path: str, code: str, message: str) -> None:
        self.issues.append(DefinitionIssue(self.file, f"{self.root}.{path}", code, message, self.campaign.name))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json(value: Any) -> Any:
    """A computed value as JSON can carry it (a date as its ISO text; a tuple as a list)."""
    if isinstance(value, tuple):
        return [_json(element) for element in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def compile_ruleset(
    ruleset: Ruleset,
    version: int,
    schema: SchemaLike = None,
    origins: Mapping[int, tuple[str, str]] | None = None,
    compiler: Compiler | None = None,
) -> CompiledRuleset:
    """Raises DefinitionError with every fault; `origins` names each campaign's file and path (loading.merge).
    `compiler` replaces the default `Compiler(schema, share_aggregates=True)` (bench/decide.py passes one that
    interprets every expression, and one that runs conditions in CEL, to measure the same ruleset)."""
    issues: list[DefinitionIssue] = _custom_event_issues(ruleset)
    if schema is None and ruleset.custom_events:
        schema = event_schema(ruleset)
    zone = _zone(ruleset.settings.timezone)
    if zone is None:
        message = f"Unknown timezone {ruleset.settings.timezone!r} (an IANA name, e.g. Europe/Rome)."
        issues.append(DefinitionIssue("", "settings.timezone", "invalid_timezone", message))
        zone = ZoneInfo("UTC")
    compiler = compiler or Compiler(schema, share_aggregates=True)
    groups = ruleset.groups()
    group_index = {group.name: index for index, group in enumerate(groups)}
    cost_ids = {name: index + 1 for index, name in enumerate(sorted(_cost_names(ruleset)))}
    programs = {program.id: program for program in ruleset.loyalty_programs}
    members: list[list[CompiledCampaign]] = [[] for _ in groups]
    programs_read: set[int] = set()
    event_types_read: set[str] = set()
    indexed: dict[int, Indexed] = {}
    for position, campaign in enumerate(ruleset.campaigns):
        if campaign.state is CampaignState.ARCHIVED:
            continue
        file, root = (origins or {}).get(campaign.id, ("", f"campaigns[{position}]"))
        one = _CampaignCompiler(compiler, campaign, root, file, cost_ids, programs)
        rules = []
        needs: Requirements | None = None
        for rule_index, rule in enumerate(campaign.rules):
            text = expression(rule.condition)
            condition = one.condition(rule_index, text)
            effects = [one.effect(rule_index, index, effect) for index, effect in enumerate(rule.effects)]
            if condition is None or any(effect is None for effect in effects):
                continue
            required = _requirements_of(text)
            compiled_rule = CompiledRule(
                rule_index,
                rule.title,
                condition,
                tuple(e for e in effects if e),
                accepts_coupon=required.coupon,
                accepts_referral=required.referral,
            )
            rules.append(compiled_rule)
            needs = _loosest(needs, required)
        issues += one.issues
        programs_read |= one.programs_read
        event_types_read |= one.event_types_read
        if one.issues or campaign.evaluation_group not in group_index:
            continue
        compiled = CompiledCampaign(
            id=campaign.id,
            name=campaign.name,
            group=group_index[campaign.evaluation_group],
            priority=campaign.priority,
            start=_aware(campaign.start_time, zone),
            end=_aware(campaign.end_time, zone),
            rules=tuple(rules),
            coupons="coupons" in campaign.features,
            referrals="referrals" in campaign.features,
        )
        members[compiled.group].append(compiled)
        requires = None if needs is None or needs == _NOTHING else needs
        indexed[campaign.id] = Indexed(
            compiled, requires, tuple(campaign.limits), campaign.state is CampaignState.ENABLED
        )
    issues += _audience_issues(ruleset, origins)
    if issues:
        raise DefinitionError(issues)
    compiled_groups = tuple(
        CompiledGroup(
            index + 1, group.name, group.mode, tuple(sorted(members[index], key=lambda c: (c.priority, c.id)))
        )
        for index, group in enumerate(groups)
    )
    return CompiledRuleset(
        version,
        ruleset,
        Money(ruleset.settings.currency),
        zone,
        compiled_groups,
        indexed,
        _Index.build(compiled_groups, indexed),
        programs,
        frozenset(
            effect.program_id
            for campaign in ruleset.campaigns
            if campaign.state is not CampaignState.ARCHIVED
            for rule in campaign.rules
            for effect in rule.effects
            if isinstance(effect, AddLoyaltyPoints | DeductLoyaltyPoints | ChangeLoyaltyTierLevel)
        )
        | programs_read,
        frozenset(programs_read),
        frozenset(event_types_read),
        _audiences_named(ruleset),
    )


# Each audience the effects name is one more key of every session's read and, when a close changes the membership,
# three more items of its transaction (DynamoDB's holds 100): a bound keeps both small.
MAX_AUDIENCES = 20


def _audience_effects(ruleset: Ruleset) -> list[tuple[str, int]]:
    """(path, audience id) of every membership effect of the campaigns that can run."""
    return [
        (f"campaigns[{position}].rules[{rule_index}].effects[{index}].audienceId", effect.audience_id)
        for position, campaign in enumerate(ruleset.campaigns)
        if campaign.state is not CampaignState.ARCHIVED
        for rule_index, rule in enumerate(campaign.rules)
        for index, effect in enumerate(rule.effects)
        if isinstance(effect, AddToAudience | RemoveFromAudience)
    ]


def _audiences_named(ruleset: Ruleset) -> frozenset[int]:
    return frozenset(audience_id for _, audience_id in _audience_effects(ruleset))


def _audience_issues(ruleset: Ruleset, origins: Mapping[int, tuple[str, str]] | None) -> list[DefinitionIssue]:
    """More than MAX_AUDIENCES distinct audiences named: refused at the first effect past the bound."""
    seen: set[int] = set()
    for path, audience_id in _audience_effects(ruleset):
        seen.add(audience_id)
        if len(seen) > MAX_AUDIENCES:
            position = int(path.split("]", 1)[0].removeprefix("campaigns["))
            campaign = ruleset.campaigns[position]
            file, root = (origins or {}).get(campaign.id, ("", f"campaigns[{position}]"))
            message = f"A ruleset's effects name at most {MAX_AUDIENCES} audiences."
            return [DefinitionIssue(file, root + path.split("]", 1)[1], "too_many_audiences", message, campaign.name)]
    return []


def _cost_names(ruleset: Ruleset) -> set[str]:
    return {
        effect.additional_cost
        for campaign in ruleset.campaigns
        for rule in campaign.rules
        for effect in rule.effects
        if isinstance(effect, SetDiscountPerAdditionalCost)
    }


def _reads(text: str, root: str) -> bool:
    try:
        return reads(parse(text), root)
    except RuleError:
        return False  # the compiler reports it


def _first_arguments(text: str, functions: Collection[str]) -> list[Node]:
    """The first argument of every call to one of `functions` in an expression (none if it does not parse: the
    compiler reports it)."""
    try:
        stack = [parse(text)]
    except RuleError:
        return []
    found: list[Node] = []
    while stack:
        node = stack.pop()
        if isinstance(node, Call) and node.function in functions and node.args:
            found.append(node.args[0])
        stack.extend(children(node))
    return found


def _programs_read(text: str) -> set[int]:
    """The loyalty programs an expression reads (`loyaltyPoints(1) >= 500`)."""
    return {
        int(first.value)
        for first in _first_arguments(text, LOYALTY_FUNCTIONS)
        if isinstance(first, Number) and first.value == first.value.to_integral_value()
    }


# The condition language's type of each data field type (the attribute catalog's names: rules/schema.py).
_FIELD_TYPES = {
    EventFieldType.STRING: "string",
    EventFieldType.TEXT: "string",
    EventFieldType.URL: "string",
    EventFieldType.NUMBER: "number",
    EventFieldType.MONEY: "number",
    EventFieldType.BOOLEAN: "boolean",
    EventFieldType.DATE: "time",
    EventFieldType.DATETIME: "time",
}


def event_schema(ruleset: Ruleset) -> dict[str, dict[str, str]]:
    """`event.attributes.<field>` typed by the custom event definitions: a field every definition declaring it gives
    the same type is declared (`event.attributes.amount >= 50` is checked as a number); others stay dynamic."""
    seen: dict[str, set[str]] = {}
    for definition in ruleset.custom_events:
        for field in definition.fields:
            seen.setdefault(field.name, set()).add(_FIELD_TYPES[field.type])
    return {"event": {name: next(iter(kinds)) for name, kinds in sorted(seen.items()) if len(kinds) == 1}}


def _custom_event_issues(ruleset: Ruleset) -> list[DefinitionIssue]:
    issues: list[DefinitionIssue] = []
    ids: set[int] = set()
    types: set[str] = set()
    for index, definition in enumerate(ruleset.custom_events):
        at = f"customEvents[{index}]"
        if definition.id in ids:
            issues.append(
                DefinitionIssue("", f"{at}.id", "duplicate_id", f"Custom event {definition.id} is defined twice.")
            )
        if definition.type in types:
            message = f"Custom event type {definition.type!r} is defined twice."
            issues.append(DefinitionIssue("", f"{at}.type", "duplicate_type", message))
        if definition.type.startswith("talon_"):
            message = "`talon_…` names Talon.One's built-in events; a custom event needs another type."
            issues.append(DefinitionIssue("", f"{at}.type", "built_in_event", message))
        ids.add(definition.id)
        types.add(definition.type)
        names: set[str] = set()
        for position, field in enumerate(definition.fields):
            if field.name in names:
                message = f"Field {field.name!r} is defined twice."
                issues.append(DefinitionIssue("", f"{at}.fields[{position}].name", "duplicate_field", message))
            names.add(field.name)
    return issues


def _event_types_counted(text: str) -> set[str]:
    """The event types an expression counts (`eventCount("review_written", 30) >= 2`)."""
    return {first.value for first in _first_arguments(text, EVENT_COUNT_FUNCTIONS) if isinstance(first, String)}


def _requirements_of(text: str) -> Requirements:
    try:
        return requirements(parse(text))
    except RuleError:
        return _NOTHING


def _loosest(current: Requirements | None, more: Requirements) -> Requirements:
    """A campaign can match when any of its rules can: keys are kept only when every rule has them (a union of
    each kind); a rule without keys leaves the campaign unindexed."""
    if current is None:
        return more
    if current == _NOTHING or more == _NOTHING:
        return _NOTHING
    return either(current, more)


def budgets_for(
    compiled: CompiledRuleset,
    subjects: Subjects,
    now: datetime,
    used: Mapping[CounterKey, Decimal],
    coupons: Mapping[int, CouponFacts] | None = None,
) -> Budgets:
    return Budgets(compiled, subjects, now, used, coupons or {})


class Budgets:
    """Each campaign's budget for one evaluation, built at its first use (only campaigns whose rules hold ask), and
    the budget counters those budgets consulted: a decision is complete when its read held all of them. A coupon
    campaign's budget also holds its coupon's discount remainder (a gift card's value), read with the coupon."""

    __slots__ = ("_cache", "_compiled", "_coupons", "_limited", "_local", "_subjects", "_unbounded", "_used")

    def __init__(
        self,
        compiled: CompiledRuleset,
        subjects: Subjects,
        now: datetime,
        used: Mapping[CounterKey, Decimal],
        coupons: Mapping[int, CouponFacts],
    ):
        self._compiled = compiled
        self._subjects = subjects
        self._used = used
        self._coupons = coupons
        self._cache: dict[int, Budget] = {}
        self._unbounded = Budget([], used)  # the campaigns without limits share one
        self._limited = compiled.index.limited if compiled.index is not None else None
        self._local = now.astimezone(compiled.zone)  # once per evaluation, not per campaign

    def __call__(self, campaign: CompiledCampaign) -> Budget:
        found = self._cache.get(campaign.id)
        if found is not None:
            return found
        limited = self._limited
        coupon = self._coupons.get(campaign.id) if campaign.coupons else None
        remainder = coupon.discount_remainder if coupon is not None else None
        if remainder is None and limited is not None and campaign.id not in limited:
            return self._unbounded
        found = self._compiled.budget(campaign, self._subjects, self._local, self._used)
        if coupon is not None and remainder is not None:
            # Its key is absent from `used`: the remainder is what is left.
            gift = Bound(coupon_discount_key(campaign.id, coupon.value), remainder)
            found = Budget([*found.bounds, gift], self._used)
        self._cache[campaign.id] = found
        return found

    def consulted(self) -> frozenset[CounterKey]:
        return frozenset(
            bound.key for budget in self._cache.values() for bound in budget.bounds if bound.key.entity not in OWN_CODES
        )
