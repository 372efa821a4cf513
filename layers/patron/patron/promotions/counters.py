"""Budget counters in the ledgers table: their keys, their reads, and the conditional writes a close consumes and
a cancel, return or reopen gives back (docs/data-model.md, "LedgersTable").

One item per counter (`CounterKey`): partition `APP#<application>#BUDGET#<campaign>`, sort key the counter's label.
A close adds what it consumed only if the counter stays within its limit (`attribute_not_exists(used) OR used <=
limit - amount`); a failed condition means another session took the room meanwhile: the caller reads again and
decides again. A give-back subtracts exactly what the close added, in the same transaction as the session's state
change, which is conditional on the session's version: so each close and each give-back happens once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from patron.dynamo import committer
from patron.errors import ConflictError
from patron.promotions.budgets import CounterKey, Subjects

if TYPE_CHECKING:
    from patron.promotions.ruleset import CompiledRuleset

USED = "used"


class BudgetExhaustedError(ConflictError):
    """A counter no longer has the room the decision counted on: decide again with fresh counters."""

    def __init__(self) -> None:
        super().__init__("A campaign budget was used up meanwhile; try again.", code="budget_exhausted")


def counter_pk(application_id: int, campaign_id: int) -> str:
    return f"APP#{application_id}#BUDGET#{campaign_id}"


def counter_item_key(application_id: int, key: CounterKey) -> dict[str, str]:
    return {"PK": counter_pk(application_id, key.campaign_id), "SK": key.label()}


def key_of(label: str) -> CounterKey:
    """The inverse of CounterKey.label (an entity id may itself hold '#': it sits between fixed fields)."""
    campaign, action, entity, rest = label.split("#", 3)
    entity_id, period = rest.rsplit("#", 1)
    return CounterKey(int(campaign), action, entity, entity_id, period)


def used_from(items: Iterable[Mapping[str, Any]]) -> dict[CounterKey, Decimal]:
    """What each counter read holds (items as codec.from_item gives them); a counter never written holds 0."""
    return {key_of(str(item["SK"])): Decimal(item.get(USED, 0)) for item in items}


def consume(
    table: str, application_id: int, key: CounterKey, amount: Decimal, limit: Decimal | None
) -> committer.Write:
    """Adds `amount` to the counter; with a limit, only if the counter stays within it."""
    condition, values = None, {":amount": amount}
    if limit is not None:
        condition = "attribute_not_exists(#used) OR #used <= :room"
        values[":room"] = limit - amount
    return committer.update(
        table,
        counter_item_key(application_id, key),
        "SET #used = if_not_exists(#used, :zero) + :amount",
        condition=condition,
        names={"#used": USED},
        values={**values, ":zero": Decimal(0)},
        failed=BudgetExhaustedError,
    )


def give_back(table: str, application_id: int, key: CounterKey, amount: Decimal) -> committer.Write:
    """Subtracts what a close consumed (the close's own amount, so the counter returns to what it would be)."""
    return committer.update(
        table,
        counter_item_key(application_id, key),
        "SET #used = if_not_exists(#used, :zero) - :amount",
        names={"#used": USED},
        values={":amount": amount, ":zero": Decimal(0)},
    )


def consumption_writes(
    table: str,
    application_id: int,
    ruleset: CompiledRuleset,
    consumed: Mapping[CounterKey, Decimal],
    subjects: Subjects,
    now: datetime,
) -> list[committer.Write]:
    """What an evaluation consumed, each counter conditional on its campaign's limit (a campaign no longer in the
    ruleset has none left to hold it to)."""
    limits: dict[CounterKey, Decimal] = {}
    for campaign_id in {key.campaign_id for key in consumed}:
        indexed = ruleset.campaigns.get(campaign_id)
        if indexed is None:
            continue
        for bound in ruleset.budget(indexed.campaign, subjects, now, {}).bounds:
            limits[bound.key] = bound.limit
    return [consume(table, application_id, key, amount, limits.get(key)) for key, amount in sorted(consumed.items())]
