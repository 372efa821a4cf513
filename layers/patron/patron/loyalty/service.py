"""Reading a member's points (docs/loyalty.md): one BatchGetItem holds the live-ruleset pointer (for the
program's definition), the profile and its ledger; the balance at the instant asked is the ledger advanced to it,
exact whether the scheduled job has materialised what happened meanwhile or not. The history routes (points,
transactions, expirations) add what they need of the member's entries: a BatchGetItem of those a page names, or
one Query of them all (patron.loyalty.history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.clock import Clock
from patron.dynamo import codec
from patron.dynamo.batch import read_all, read_batch
from patron.errors import FieldIssue, NotFoundError, UnsupportedFeatureError, ValidationError
from patron.loyalty import cards, history, items
from patron.loyalty.ledger import Balance, Ledger, advance
from patron.loyalty.program import joined_by
from patron.loyalty.replay import ledger_at
from patron.loyalty.tiers import carried, projected
from patron.loyalty.wire import (
    BalancesView,
    BalanceView,
    CardBalancesView,
    CardTransactionsPage,
    CardTransactionView,
    ExpirationsView,
    LedgerInfoView,
    LoyaltyCardView,
    LoyaltyView,
    PointsPage,
    ProgramLedgersView,
    ProjectedTierView,
    TierView,
    TransactionsPage,
)
from patron.profiles.keys import PROFILE_SK, profile_pk
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.store import LiveRulesets, live_version, pointer_key
from patron.settings import Tables


class ProgramNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No loyalty program has this id in the application.", code="loyalty_program_not_found")


def program_id_of(path_value: str) -> int:
    """A path's program id; anything that is not one names no program (404), as a version path does."""
    if not path_value.isascii() or not path_value.isdigit() or len(path_value) > 10:
        raise ProgramNotFoundError()
    return int(path_value)


def live_program(
    rulesets: LiveRulesets, application_id: int, pointer: dict[str, Any] | None, program_id: int
) -> LoyaltyProgram:
    """The program of the live version a pointer item (decoded, as read in a batch) names, or 404."""
    version = live_version(codec.to_item(pointer)) if pointer is not None else None
    program = rulesets.compiled(application_id, version).programs.get(program_id) if version is not None else None
    if program is None:
        raise ProgramNotFoundError()
    return program


class ProfileNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No customer profile has this integration id.", code="profile_not_found")


class HistoryTooLongError(UnsupportedFeatureError):
    def __init__(self) -> None:
        message = f"The member has more than {history.MAX_ENTRIES} loyalty transactions: listing them is not built yet."
        super().__init__(message, code="loyalty_history_too_long", path="path.integrationId")


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
        include_projected_tier: bool = False,
    ) -> BalancesView:
        """The member's balances at `end_date` (now when none; a future instant projects pending points starting
        and points expiring by then). A subledger named: only its balance, as `balance`."""
        now = self._clock.now()
        at = end_date or now
        program, stored, _ = self._member(application_id, program_id, integration_id, subledger, now)
        return self._balances(
            application_id, integration_id, program, stored, at, subledger, include_tiers, include_projected_tier
        )

    def card_balances(
        self,
        application_id: int,
        program_id: int,
        identifier: str,
        end_date: datetime | None = None,
        subledger: str | None = None,
    ) -> CardBalancesView:
        """A card's balances, as a profile's (`balances`), with the profiles linked to it. An inactive (blocked)
        card's are answered too."""
        now = self._clock.now()
        program, stored, card = self._member(application_id, program_id, items.Card(identifier), subledger, now)
        holder = items.Card(identifier)
        found = self._balances(application_id, holder, program, stored, end_date or now, subledger, False, False)
        linked = cards.linked_views(card) if card is not None else []
        return CardBalancesView(balance=found.balance, subledger_balances=found.subledger_balances, profiles=linked)

    def card_transactions(
        self,
        application_id: int,
        program_id: int,
        identifier: str,
        subledger: str | None = None,
        kind: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        page_size: int = history.MAX_PAGE,
        skip: int = 0,
        chosen: history.Chosen = history.ANY,
        awaiting: bool = False,
    ) -> CardTransactionsPage:
        """A card's entries, as a profile's (`transactions`), each naming the card."""
        holder = items.Card(identifier)
        page = self.transactions(
            application_id, program_id, holder, subledger, kind, start, end, page_size, skip, chosen, awaiting
        )
        data = [
            CardTransactionView(
                transaction_uuid=one.transaction_uuid,
                created=one.created,
                program_id=one.program_id,
                card_identifier=identifier,
                customer_session_id=one.customer_session_id,
                kind=one.kind,
                name=one.name,
                start_date=one.start_date,
                expiry_date=one.expiry_date,
                subledger_id=one.subledger_id,
                amount=one.amount,
                id=one.id,
            )
            for one in page.data
        ]
        return CardTransactionsPage(has_more=page.has_more, data=data)

    def _balances(
        self,
        application_id: int,
        holder: items.Holder,
        program: LoyaltyProgram,
        stored: items.StoredLedger,
        at: datetime,
        subledger: str | None,
        include_tiers: bool,
        projection: bool,
    ) -> BalancesView:
        """A holder's balances at `at` (a subledger named: only its balance, as `balance`); before the ledger's
        last change, replayed from the holder's entries (the tier with them)."""
        tiers = include_tiers or projection
        if at < stored.ledger.as_of:
            ledger = ledger_at(self._entries(application_id, program.id, holder), at, program)
        elif tiers:
            ledger = carried(stored.ledger, advance(stored.ledger, at), program, at)
        else:
            ledger = advance(stored.ledger, at)
        if subledger is not None:
            return BalancesView(balance=_view(ledger.balance(subledger), at))
        subledgers = {name: _view(ledger.balance(name), at) for name in program.subledgers}
        balance = _view(ledger.balance(""), at)
        if tiers:
            _with_tier(balance, ledger, program, projection)
        return BalancesView(balance=balance, subledger_balances=subledgers)

    def points(
        self,
        application_id: int,
        program_id: int,
        integration_id: items.Holder,
        status: history.PointsStatus = history.PointsStatus.ACTIVE,
        subledger: str | None = None,
        page_size: int = history.MAX_PAGE,
        skip: int = 0,
        chosen: history.Chosen = history.ANY,
        sort: str | None = None,
    ) -> PointsPage:
        """What is left of each addition, of one subledger or all: active or pending now (from the ledger item,
        then the page's entries for their names and dates), or expired (replayed from all the entries); of the
        sessions and transactions `chosen` (all the entries read to know the lots' sessions), sorted by `sort`."""
        now = self._clock.now()
        _, stored, _ = self._member(application_id, program_id, integration_id, subledger, now)
        if status is history.PointsStatus.EXPIRED:
            found = history.expired(self._entries(application_id, program_id, integration_id), now, subledger)
            found = [one for one in found if chosen.keeps(one.addition.transaction_id, one.addition.session_id)]
            found = history.sorted_points(found, sort, lambda one: (one.addition.starts, one.addition.expires))
            shown, more = history.page(found, skip, page_size)
            return PointsPage(has_more=more, data=[history.expired_view(program_id, one) for one in shown])
        lots = history.open_lots(advance(stored.ledger, now), status is history.PointsStatus.ACTIVE, subledger, now)
        everything: dict[str, items.Entry] | None = None
        if chosen.sessions is not None:  # a lot's session is its entry's
            everything = {one.transaction_id: one for one in self._entries(application_id, program_id, integration_id)}
        if chosen:
            lots = [one for one in lots if _keeps(chosen, one, application_id, everything)]
        lots = history.sorted_points(lots, sort, lambda one: (one.lot.starts, one.lot.expires))
        shown_lots, more = history.page(lots, skip, page_size)
        sources = [history.source_of(one.lot.id, application_id) for one in shown_lots]
        if everything is not None:
            entries = {source: everything[source] for source in sources if source in everything}
        else:
            entries = self._entries_named(application_id, program_id, integration_id, sources)
        data = [
            history.lot_view(program_id, one, entries.get(source), stored.ledger.as_of)
            for one, source in zip(shown_lots, sources, strict=True)
        ]
        return PointsPage(has_more=more, data=data)

    def transactions(
        self,
        application_id: int,
        program_id: int,
        integration_id: items.Holder,
        subledger: str | None = None,
        kind: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        page_size: int = history.MAX_PAGE,
        skip: int = 0,
        chosen: history.Chosen = history.ANY,
        awaiting: bool = False,
    ) -> TransactionsPage:
        """The member's entries, newest first, filtered by subledger, origin (`history.TRANSACTION_TYPES`),
        creation within [start, end], the sessions and transactions `chosen`, and (`awaiting`) additions still
        awaiting an action."""
        self._member(application_id, program_id, integration_id, subledger, self._clock.now())
        entries = self._entries(application_id, program_id, integration_id)
        found = history.transactions(entries, subledger, kind, start, end, chosen, awaiting)
        shown, more = history.page(found, skip, page_size)
        backs = history.given_back(entries)
        return TransactionsPage(has_more=more, data=[history.transaction_view(program_id, e, backs) for e in shown])

    def expirations(
        self, application_id: int, program_id: int, integration_id: str, subledger: str | None = None
    ) -> ExpirationsView:
        """Every upcoming expiry of the member's points (the ledger item alone)."""
        now = self._clock.now()
        _, stored, _ = self._member(application_id, program_id, integration_id, subledger, now)
        return ExpirationsView(data=history.expirations(advance(stored.ledger, now), subledger, now))

    def _member(
        self, application_id: int, program_id: int, integration_id: items.Holder, subledger: str | None, now: datetime
    ) -> tuple[LoyaltyProgram, items.StoredLedger, cards.StoredCard | None]:
        """The program, the holder's stored ledger and (a card's) the card; 404 without either the program or the
        holder (a profile, a card), 400 for a program of the other kind (profile-based, card-based) or a subledger
        the program does not have ("" is the main ledger)."""
        pointer, owner, ledger_item = self._read(application_id, program_id, integration_id)
        program = self._program(application_id, pointer, program_id)
        card = isinstance(integration_id, items.Card)
        cards.check_kind(program, card)
        if owner is None:
            raise cards.CardNotFoundError() if card else ProfileNotFoundError()
        if subledger and subledger not in program.subledgers:
            message = f"Program {program_id} has no subledger {subledger!r}."
            raise ValidationError(message, [FieldIssue("query.subledgerId", "unknown_subledger", message)])
        stored_card = cards.card_from_item(owner) if card else None
        return program, items.ledger_from_item(ledger_item, now), stored_card

    def _entries(self, application_id: int, program_id: int, integration_id: items.Holder) -> list[items.Entry]:
        """All the member's entries (one Query of its partition, `TXN#...`): refused beyond MAX_ENTRIES, since
        they come in transaction-id order and a listing sorts them all by time."""
        request: dict[str, Any] = {
            "TableName": self._ledgers,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :entry)",
            "ExpressionAttributeValues": codec.to_item(
                {":pk": items.member_pk(application_id, program_id, integration_id), ":entry": items.ENTRY_PREFIX}
            ),
            "ConsistentRead": True,
        }
        found: list[items.Entry] = []
        while True:
            answer = self._client.query(**request, Limit=history.MAX_ENTRIES + 1 - len(found))
            found.extend(items.entry_from_item(codec.from_item(item)) for item in answer.get("Items", []))
            if len(found) > history.MAX_ENTRIES:
                raise HistoryTooLongError()
            if "LastEvaluatedKey" not in answer:
                return found
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _entries_named(
        self, application_id: int, program_id: int, integration_id: items.Holder, transactions: list[str]
    ) -> dict[str, items.Entry]:
        """The member's entries of these transactions (at most a page: one BatchGetItem), by transaction id."""
        if not transactions:
            return {}
        pk = items.member_pk(application_id, program_id, integration_id)
        keys = [{"PK": pk, "SK": items.ENTRY_PREFIX + one} for one in dict.fromkeys(transactions)]
        return {
            entry.transaction_id: entry
            for entry in map(items.entry_from_item, read_all(self._client, self._ledgers, keys))
        }

    def _read(
        self, application_id: int, program_id: int, integration_id: items.Holder
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        """The pointer, the holder (a profile's keys only, or the card) and the ledger item, in one BatchGetItem."""
        ledger_keys = [codec.to_item(items.ledger_key(application_id, program_id, integration_id))]
        request: dict[str, Any] = {
            self._config: {"Keys": [codec.to_item(pointer_key(application_id))], "ConsistentRead": True},
            self._ledgers: {"Keys": ledger_keys, "ConsistentRead": True},
        }
        if isinstance(integration_id, items.Card):
            ledger_keys.append(codec.to_item(items.card_key(application_id, program_id, integration_id.identifier)))
        else:
            request[self._profiles] = {
                "Keys": [codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK})],
                "ConsistentRead": True,
                "ProjectionExpression": "PK",
            }
        found = read_batch(self._client, request)
        pointer = next((item for table, item in found if table == self._config), None)
        ledger = next((item for t, item in found if t == self._ledgers and item["SK"] == items.LEDGER_SK), None)
        owner = next(
            (item for t, item in found if t == self._profiles or (t == self._ledgers and item["SK"] == items.CARD_SK)),
            None,
        )
        return pointer, owner, ledger

    def _program(self, application_id: int, pointer: dict[str, Any] | None, program_id: int) -> LoyaltyProgram:
        return live_program(self._rulesets, application_id, pointer, program_id)


def _keeps(
    chosen: history.Chosen, open_lot: history.OpenLot, application_id: int, entries: dict[str, items.Entry] | None
) -> bool:
    """An open lot of the sessions and transactions chosen (its source entry's; `entries`: all of them, when
    sessions are chosen)."""
    source = history.source_of(open_lot.lot.id, application_id)
    entry = entries.get(source) if entries is not None else None
    return chosen.keeps(source, entry.session_id if entry is not None else None)


def _view(balance: Balance, at: datetime) -> BalanceView:
    return BalanceView(
        active_points=balance.active_points(at),
        pending_points=balance.pending_points(at),
        spent_points=balance.spent,
        expired_points=balance.expired,
        negative_points=balance.debt,
    )


def _with_tier(view: BalanceView, ledger: Ledger, program: LoyaltyProgram, projection: bool) -> None:
    """The main ledger's view with the member's tier (`ledger.tier`, carried to the view's instant), the points
    to the next tier and, asked, the tier projected for when the current one expires."""
    view.current_tier, view.next_tier_name, view.points_to_next_tier = _tier_fields(ledger, program)
    if projection:
        ahead = projected(ledger, ledger.tier, program)
        if ahead is not None:
            view.projected_tier = ProjectedTierView(ahead.active_points, ahead.stay_points, ahead.tier)


def _tier_fields(ledger: Ledger, program: LoyaltyProgram) -> tuple[TierView | None, str | None, Decimal | None]:
    tiers, state = program.tiers, ledger.tier
    if not tiers:
        return None, None, None
    names = [tier.name for tier in tiers]
    position = names.index(state.name) if state is not None and state.name in names else -1
    current = None
    if state is not None and position >= 0:
        expires = state.expires
        policy = str(program.tiers_downgrade_policy) if program.tiers_expire_in else None
        current = TierView(id=position + 1, name=state.name, start_date=state.since, expiry_date=expires,
                           downgrade_policy=policy)  # fmt: skip
    if position + 1 >= len(tiers):
        return current, None, None
    following = tiers[position + 1]
    active = ledger.balance("").active_points(ledger.as_of)
    return current, following.name, max(following.min_points - active, Decimal(0))


def tentative_view(
    program: LoyaltyProgram, before: Ledger, after: Ledger, now: datetime, joined: str | None
) -> ProgramLedgersView:
    """A program's ledgers as a session answers them: `before` is the stored ledger, `after` with the session's
    own changes settled (tentatively while it is open; what the close wrote once it is closed)."""

    def info(subledger: str) -> LedgerInfoView:
        now_balance, then = before.balance(subledger), after.balance(subledger)
        view = _view(now_balance, now)
        if subledger == "":
            view.current_tier, view.next_tier_name, view.points_to_next_tier = _tier_fields(before, program)
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
        ledger=info(""),
        join_date=joined_by(joined, now),
        sub_ledgers={name: info(name) for name in program.subledgers},
    )


def loyalty_view(ledgers: Sequence[Any], now: datetime, application_id: int) -> LoyaltyView:
    """Talon.One's `Loyalty` as a session or event answers it: the profile's ledgers by program, and the session's
    card with its ledgers (`ledgers`: patron.sessions.loyalty.ProgramLedgers)."""
    programs: dict[str, ProgramLedgersView] = {}
    found_cards: list[LoyaltyCardView] = []
    for one in ledgers:
        view = tentative_view(one.program, one.before, one.after, now, one.joined)
        if one.card is None:
            programs[str(one.program.id)] = view
        else:
            card = cards.card_view(application_id, one.card, one.program)
            card.ledger, card.subledgers = view.ledger, view.sub_ledgers
            found_cards.append(card)
    return LoyaltyView(programs=programs, cards=found_cards) if found_cards else LoyaltyView(programs=programs)
