"""The loyalty expiry job, on a schedule (EventBridge Scheduler; the local runtime's scheduler locally): stores
what time did to the due ledgers and records the outbox events (patron.loyalty.expiry). It stops a safety
margin before the Lambda timeout; what it did not reach stays due for the next run."""

from __future__ import annotations

from typing import Any

from patron.clock import SystemClock
from patron.dynamo.client import dynamodb_client
from patron.loyalty import wiring
from patron.observability import event_handler
from patron.settings import Loyalty, Tables
from patron.wiring import CompositionRoot

JOB = "loyalty-expiry"  # the schedule's Input names the job: any other event is refused
MARGIN_MS = 30_000  # a page (a Query, a BatchGetItem, up to 100 transactions) takes well under this

# This function's composition root: the ledgers and their time indexes, the outbox, the live rulesets (tiers).
expiry_job = CompositionRoot(
    lambda environ: wiring.expiry_job(dynamodb_client(), Tables.from_environ(environ), Loyalty.from_environ(environ))
)
clock = SystemClock()


@event_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("job") != JOB:
        raise ValueError(f"this function runs the {JOB!r} job only")
    report = expiry_job().run(clock.now(), lambda: context.get_remaining_time_in_millis() < MARGIN_MS)
    return {
        "finished": report.finished,
        "examined": report.examined,
        "written": report.written,
        "conflicts": report.conflicts,
        "records": report.records,
    }
