"""Reading a member's points (docs/loyalty.md): one BatchGetItem holds the live-ruleset pointer (for the
program's definition), the profile and its ledger; the balance at the instant asked is the ledger advanced to it,
exact whether the scheduled job has materialised what happened meanwhile or not."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.clock import Clock
from patron.dynamo import codec
from patron.errors import FieldIssue, NotFoundError, ValidationError
from patron.loyalty import items
from patron.loyalty.ledger import Balance, Ledger, advance
from patron.loyalty.program import tier_of
from patron.loyalty.wire import BalancesView, BalanceView, LedgerInfoView, ProgramLedgersView, TierView
from patron.profiles.keys import PROFILE_SK, profile_pk
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.store import LiveRulesets, live_version, pointer_key
from patron.settings import Tables


class ProgramNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No loyalty program has this id in the application.", code="loyalty_program_not_found")


class ProfileNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No customer profile has this integration id.", code="profile_not_found")


class LoyaltyService:
    def __init__(self, client: Any, tables: Tables, rulesets: LiveRulesets, clock: Clock):
        self._client = client
        self._ledgers, self._profiles, self._config = tables.ledgers, tables.profiles, tables.config
        self._rulesets = rulesets
        self._clock = clock

    def balances(
        self,
        application_id: int,
        program_id: int,
        integration_id: str,
        end_date: datetime | None = None,
        subledger: str | None = None,
        include_tiers: bool = False,
    ) -> BalancesView:
        """The member's balances at `end_date` (now when none; a future instant projects pending points starting
        and points expiring by then). A subledger named: only its balance, as `balance`."""
        now = self._clock.now()
        at = end_date or now
        pointer, profile, ledger_item = self._read(application_id, program_id, integration_id)
        program = self._program(application_id, live_version(pointer), program_id)
        if profile is None:
            raise ProfileNotFoundError()
        stored = items.ledger_from_item(ledger_item, now)
        if at < stored.ledger.as_of:
            message = "endDate before the member's last change is not answered yet: give a later one, or none."
            raise ValidationError(message, [FieldIssue("query.endDate", "end_date_too_early", message)])
        ledger = advance(stored.ledger, at)
        tiers = program.tiers if include_tiers else []
        if subledger is not None:
            if subledger and subledger not in program.subledgers:
                message = f"Program {program_id} has no subledger {subledger!r}."
                raise ValidationError(message, [FieldIssue("query.subledgerId", "unknown_subledger", message)])
            return BalancesView(balance=_view(ledger.balance(subledger), at, tiers))
        subledgers = {name: _view(ledger.balance(name), at, []) for name in program.subledgers}
        return BalancesView(balance=_view(ledger.balance(""), at, tiers), subledger_balances=subledgers)

    def _read(
        self, application_id: int, program_id: int, integration_id: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        """The pointer (client format), the profile item and the ledger item, in one BatchGetItem."""
        request = {
            self._config: {"Keys": [codec.to_item(pointer_key(application_id))], "ConsistentRead": True},
            self._profiles: {
                "Keys": [codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK})],
                "ConsistentRead": True,
                "ProjectionExpression": "PK",
            },
            self._ledgers: {
                "Keys": [codec.to_item(items.ledger_key(application_id, program_id, integration_id))],
                "ConsistentRead": True,
            },
        }
        found: dict[str, list[dict[str, Any]]] = {}
        for _ in range(5):
            answer = self._client.batch_get_item(RequestItems=request)
            for table, table_items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(table_items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        pointer, profile, ledger = (next(iter(found.get(table, [])), None) for table in self._tables())
        return pointer, profile, codec.from_item(ledger) if ledger else None

    def _tables(self) -> tuple[str, str, str]:
        return self._config, self._profiles, self._ledgers

    def _program(self, application_id: int, version: int | None, program_id: int) -> LoyaltyProgram:
        program = self._rulesets.compiled(application_id, version).programs.get(program_id) if version else None
        if program is None:
            raise ProgramNotFoundError()
        return program


def _view(balance: Balance, at: datetime, tiers: list[Any]) -> BalanceView:
    active = balance.active_points(at)
    view = BalanceView(
        active_points=active,
        pending_points=balance.pending_points(at),
        spent_points=balance.spent,
        expired_points=balance.expired,
        negative_points=balance.debt,
    )
    if not tiers:
        return view
    reached = tier_of(tiers, active)
    position = tiers.index(reached) if reached is not None else -1
    following = tiers[position + 1] if position + 1 < len(tiers) else None
    view.current_tier = TierView(id=position + 1, name=reached.name) if reached is not None else None
    if following is not None:
        view.next_tier_name = following.name
        view.points_to_next_tier = max(following.min_points - active, Decimal(0))
    return view


def tentative_view(
    program: LoyaltyProgram, before: Ledger, after: Ledger, now: datetime, joined: str | None
) -> ProgramLedgersView:
    """A program's ledgers as a session answers them: `before` is the stored ledger, `after` with the session's
    own changes settled (tentatively while it is open; what the close wrote once it is closed)."""

    def info(subledger: str, tiers: list[Any]) -> LedgerInfoView:
        now_balance, then = before.balance(subledger), after.balance(subledger)
        view = _view(now_balance, now, tiers)
        return LedgerInfoView(
            current_balance=view.active_points,
            pending_balance=view.pending_points,
            negative_balance=view.negative_points,
            tentative_current_balance=then.active_points(now),
            tentative_pending_balance=then.pending_points(now),
            tentative_negative_balance=then.debt,
            expired_balance=Decimal(0),
            spent_balance=Decimal(0),
            current_tier=view.current_tier,
            points_to_next_tier=view.points_to_next_tier,
        )

    return ProgramLedgersView(
        id=program.id,
        title=program.title or program.name,
        name=program.name,
        ledger=info("", program.tiers),
        join_date=joined,
        sub_ledgers={name: info(name, []) for name in program.subledgers},
    )
