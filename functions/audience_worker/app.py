"""Works through an audience's members from the audience queue (removals, attributes on every member), a page at a
time; a job that runs out of time is sent on with its cursor. Failed messages come back alone (partial batch)."""

from __future__ import annotations

import time
from collections.abc import Mapping

import msgspec

from patron.audiences.jobs import AudienceJob, JobQueue, SqsJobQueue
from patron.audiences.wiring import audience_worker
from patron.audiences.worker import AudienceWorker
from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.observability.sqs import SQSRecord, sqs_handler
from patron.profiles.wiring import profile_service
from patron.settings import Audiences, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    worker: AudienceWorker
    queue: JobQueue


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: the audiences (profiles table), profiles with the catalog (attributes set
    on members), and its own queue (a job sent on)."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    profiles = profile_service(client, tables, catalog_service(client, tables))
    return Services(audience_worker(client, tables, profiles), SqsJobQueue(Audiences.from_environ(environ).queue_url))


services = CompositionRoot(compose)

# The function's timeout is 120 s (template.yaml); a job works at most this long per message, then is sent on.
BUDGET_MS = 60_000


def run_job(record: SQSRecord) -> None:
    job = AudienceJob.decode(record.body)
    started = time.monotonic()
    following = services().worker.run(job, lambda: BUDGET_MS - int((time.monotonic() - started) * 1000))
    if following is not None:
        services().queue.send(following)


lambda_handler = sqs_handler(run_job)
