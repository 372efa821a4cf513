"""The scheduled job that materialises what time does to ledgers (docs/loyalty.md "The expiry job").

Balances are exact without it (`ledger.advance` runs on every read); the job stores the advanced ledgers and
writes what integrations hear about: points expired, points expiring within the notice window, balances and
tiers changed (`patron.loyalty.events`). It never Scans: per index shard (`items.DUE_SHARDS`), one paged Query of
the due index (GSI1: the next start or expiry <= now), then one of the notice index (GSI2: an unnoticed lot's
expiry <= now + the window). Each page of keys (at most PAGE) is read in one consistent BatchGetItem, then each
ledger is advanced to now and written on the version read, its outbox records in the same transaction; a page's
ledgers are written by WORKERS threads at once (a transaction is a round trip of ~10 ms: one at a time, a
15-minute run would reach only ~90,000 ledgers).

At-least-once safe: a ledger changed meanwhile (a session, a concurrent run) fails its condition and is skipped;
it stays due and the next run takes it. A run stops before its time budget ends; what it did not reach stays
due. Memory holds one page."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import msgspec

from patron.dynamo import codec, committer
from patron.dynamo.batch import read_all
from patron.logs import get_logger
from patron.loyalty import due, events, items
from patron.loyalty.ledger import Lot, advance
from patron.loyalty.tiers import carried
from patron.outbox.repository import record_write
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.store import LiveRulesets, live_version, pointer_key

PAGE = 100  # keys per Query page: one BatchGetItem's worth
WORKERS = 8  # transactions in flight per page
_log = get_logger("patron.loyalty.expiry")


class RunReport(msgspec.Struct):
    examined: int = 0  # ledgers read
    written: int = 0  # ledgers stored advanced
    conflicts: int = 0  # changed meanwhile: left for the next run
    too_large: int = 0  # more records than one transaction holds even one step at a time: left (logged)
    records: int = 0
    kinds: dict[str, int] = {}
    finished: bool = True  # False: the budget ran out first; the rest stays due


class ExpiryJob:
    def __init__(
        self,
        client: Any,
        ledgers_table: str,
        outbox_table: str,
        outbox_ttl: int,
        config_table: str,
        notice_days: int,
        rulesets: LiveRulesets | None = None,
    ) -> None:
        self._client = client
        self._ledgers, self._outbox, self._ttl, self._config = ledgers_table, outbox_table, outbox_ttl, config_table
        self._window = timedelta(days=notice_days)
        self._rulesets = rulesets
        self._committer = committer.Committer(client)
        self._lock = threading.Lock()  # the tiers' cache and the report, shared by a page's workers

    def run(self, now: datetime, out_of_time: Callable[[], bool] = lambda: False) -> RunReport:
        """One run at `now`: the due ledgers, then those with a notice due, shard by shard, page by page."""
        report = RunReport()
        kinds: Counter[str] = Counter()
        programs: dict[tuple[int, int], LoyaltyProgram | None] = {}
        passes = [(items.DUE_INDEX, items.due_pk, now)]
        if self._window > timedelta(0):
            passes.append((items.NOTICE_INDEX, items.notice_pk, now + self._window))
        with ThreadPoolExecutor(WORKERS) as workers:
            for index, partition, until in passes:
                for shard in range(items.DUE_SHARDS):
                    for keys in self._due_pages(index, partition(shard), until):
                        if out_of_time():
                            report.finished = False
                            report.kinds = dict(kinds)
                            return report
                        page = read_all(self._client, self._ledgers, keys)
                        report.examined += len(page)
                        for _ in workers.map(lambda item: self._settle(item, now, programs, report, kinds), page):
                            pass
        report.kinds = dict(kinds)
        return report

    def _due_pages(self, index: str, partition: str, until: datetime) -> Iterator[list[dict[str, Any]]]:
        number = index[-1]
        arguments: dict[str, Any] = {
            "TableName": self._ledgers,
            "IndexName": index,
            "KeyConditionExpression": f"GSI{number}PK = :pk AND GSI{number}SK <= :until",
            "ExpressionAttributeValues": codec.to_item({":pk": partition, ":until": items.index_instant(until)}),
            "Limit": PAGE,
        }
        while True:
            page = self._client.query(**arguments)
            keys = [{"PK": item["PK"]["S"], "SK": item["SK"]["S"]} for item in page.get("Items", [])]
            if keys:
                yield keys
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _settle(
        self,
        item: Mapping[str, Any],
        now: datetime,
        programs: dict[tuple[int, int], LoyaltyProgram | None],
        report: RunReport,
        kinds: Counter[str],
    ) -> None:
        application_id = int(str(item["PK"]).split("#", 2)[1])
        program_id, member = int(item["programId"]), items.holder_of(item)
        stored = items.ledger_from_item(item, now)
        # Two steps at most: all that is due by now, or (too many records for one transaction) only the first
        # instant; what is left stays due.
        for to, window in ((now, self._window), (due.next_change(stored.ledger), timedelta(0))):
            if to is None or to > now:
                return
            plan = self._plan(application_id, program_id, member, stored, to, window, programs)
            if plan is None:
                return  # nothing to do: the index had not caught up with a write yet
            writes, records = plan
            if len(writes) > committer.MAX_ITEMS:
                continue
            try:
                self._committer.commit(writes)
            except items.LedgerChangedError:
                with self._lock:
                    report.conflicts += 1
                return
            with self._lock:
                report.written += 1
                report.records += len(records)
                kinds.update(record.kind for record in records)
            return
        with self._lock:
            report.too_large += 1
        _log.error("loyalty ledger has too many changes for one transaction", program=program_id)

    def _plan(
        self,
        application_id: int,
        program_id: int,
        member: items.Holder,
        stored: items.StoredLedger,
        to: datetime,
        window: timedelta,
        programs: dict[tuple[int, int], LoyaltyProgram | None],
    ) -> tuple[list[committer.Write], list[Any]] | None:
        # The tier moves with time too (a tier expiring, points starting or expiring): carried to `to`.
        program = self._program(application_id, program_id, programs)
        after = carried(stored.ledger, advance(stored.ledger, to), program, to)
        noticed: list[tuple[str, Lot]] = due.notices(after, stored.noticed, to, window)
        if after == stored.ledger and not noticed:
            return None
        version = stored.version + 1
        new = items.StoredLedger(after, version, stored.joined, stored.noticed + tuple(lot.id for _, lot in noticed))
        change = events.Change(application_id, program_id, member, stored.ledger, after, version)
        records = events.change_records(change, to, noticed)
        writes = [items.ledger_write(self._ledgers, application_id, program_id, member, new, stored.version)]
        writes += [record_write(self._outbox, self._ttl, record) for record in records]
        return writes, records

    def _program(
        self, application_id: int, program_id: int, cache: dict[tuple[int, int], LoyaltyProgram | None]
    ) -> LoyaltyProgram | None:
        """The program in the application's live ruleset (read once per program and run; the workers wait for the
        first to read it); None without one (the tier is then left as it is)."""
        key = (application_id, program_id)
        with self._lock:
            if key not in cache:
                cache[key] = None
                if self._rulesets is not None:
                    pointer = codec.to_item(pointer_key(application_id))
                    version = live_version(self._client.get_item(TableName=self._config, Key=pointer).get("Item"))
                    compiled = self._rulesets.compiled(application_id, version) if version else None
                    cache[key] = compiled.programs.get(program_id) if compiled else None
            return cache[key]
