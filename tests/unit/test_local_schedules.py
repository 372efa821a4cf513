"""The local runtime's schedules (eventbridge.py): AWS's schedule expressions, the events Scheduler and rules send,
and when they fire, by a clock the tests move (nothing here waits for a minute)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from patron_local.eventbridge import EventBusRuntime, ScheduleError, parse_expression
from patron_local.moto_services import local_function_arn
from patron_local.template import PhysicalResources, Template

T0 = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)
SCHEDULER = "arn:aws:scheduler:us-east-1:123456789012:schedule/default"


class FakeClock:
    def __init__(self, now: datetime):
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.now += timedelta(**delta)
            return self.now


class Registry:
    """Stands in for FunctionRegistry: records invocations, failing those of the functions named in `failing`."""

    def __init__(self, failing: tuple[str, ...] = ()):
        self.failing = failing
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def invoke(self, logical_id: str, event: Any) -> Any:
        with self._lock:
            self.calls.append((logical_id, event))
        if logical_id in self.failing:
            raise RuntimeError("boom")
        return None


class Sqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append((QueueUrl, MessageBody))


def function(**properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {"CodeUri": "x/", "Handler": "app.handler", **properties},
    }


def bus(
    resources: dict[str, Any], clock: FakeClock, registry: Registry | None = None, start: bool = False
) -> EventBusRuntime:
    template = Template(Path("template.yaml"), {"Resources": resources})
    physical = PhysicalResources(parameters={})
    for function_id in template.functions():
        physical.attributes[(function_id, "Arn")] = local_function_arn(function_id)
    return EventBusRuntime(
        template,
        physical,
        registry or Registry(),  # type: ignore[arg-type]
        Sqs(),
        lambda arn: "http://queue/failures" if arn == "arn:aws:sqs:us-east-1:123456789012:failures" else None,
        retry_delays=(0.01,),
        clock=clock,
        start_scheduler=start,
    )


def delivered(events: EventBusRuntime, registry: Registry) -> list[tuple[str, Any]]:
    assert events.wait_idle(5)
    calls = list(registry.calls)
    registry.calls.clear()
    return calls


EXPIRY: dict[str, Any] = {
    "Type": "AWS::Scheduler::Schedule",
    "Properties": {
        "ScheduleExpression": "rate(1 minute)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": {"Fn::GetAtt": ["TickFunction", "Arn"]},
            "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},  # not resolved locally: no IAM role exists
            "Input": '{"job": "expire", "at": "<aws.scheduler.scheduled-time>", "by": "<aws.scheduler.schedule-arn>"}',
        },
    },
}


def test_a_rate_schedule_fires_every_interval_with_its_input_and_schedulers_context_attributes() -> None:
    clock, registry = FakeClock(T0), Registry()
    events = bus({"TickFunction": function(), "ExpirySchedule": EXPIRY}, clock, registry)

    assert events.run_due(T0 + timedelta(seconds=59)) == []
    [(schedule, scheduled)] = events.run_due(T0 + timedelta(seconds=60))

    assert (schedule.name, scheduled) == ("ExpirySchedule", T0 + timedelta(minutes=1))
    assert delivered(events, registry) == [
        ("TickFunction", {"job": "expire", "at": "2026-03-01T10:01:30Z", "by": f"{SCHEDULER}/ExpirySchedule"})
    ]
    assert events.scheduler.due("ExpirySchedule") == T0 + timedelta(minutes=2)


def test_a_schedule_that_fell_behind_fires_once_then_keeps_its_rhythm() -> None:
    clock, registry = FakeClock(T0), Registry()
    events = bus({"TickFunction": function(), "ExpirySchedule": EXPIRY}, clock, registry)

    [(_, scheduled)] = events.run_due(T0 + timedelta(minutes=4, seconds=10))  # the machine slept

    assert scheduled == T0 + timedelta(minutes=1)  # the first it missed
    assert len(delivered(events, registry)) == 1
    assert events.scheduler.due("ExpirySchedule") == T0 + timedelta(minutes=5)


def test_schedule_v2_and_schedule_events_without_input_send_the_services_default_events() -> None:
    clock, registry = FakeClock(datetime(2026, 3, 1, 2, 59, tzinfo=UTC)), Registry()
    events = bus(
        {
            "TickFunction": function(
                Events={
                    "Nightly": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "cron(0 3 * * ? *)"}},
                    "Often": {"Type": "Schedule", "Properties": {"ScheduleExpression": "rate(5 minutes)"}},
                }
            )
        },
        clock,
        registry,
    )

    fired = events.run_due(datetime(2026, 3, 1, 3, 4, tzinfo=UTC))

    assert [schedule.name for schedule, _ in fired] == ["TickFunctionNightly", "TickFunctionOften"]
    calls = {event["source"]: event for _, event in delivered(events, registry)}
    scheduler, rule = calls["aws.scheduler"], calls["aws.events"]
    assert scheduler == {
        "version": "0",
        "id": scheduler["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": "2026-03-01T03:00:00Z",
        "region": "us-east-1",
        "resources": [f"{SCHEDULER}/TickFunctionNightly"],
        "detail": "{}",  # Scheduler's default event carries its detail as text
    }
    assert rule["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/TickFunctionOften"]
    assert rule["detail"] == {} and rule["time"] == "2026-03-01T03:04:00Z"


def test_disabled_schedules_and_rules_never_fire() -> None:
    events = bus(
        {
            "TickFunction": function(
                Events={
                    "Paused": {
                        "Type": "ScheduleV2",
                        "Properties": {"ScheduleExpression": "rate(1 minute)", "State": "DISABLED"},
                    },
                    "Off": {
                        "Type": "Schedule",
                        "Properties": {"ScheduleExpression": "rate(1 minute)", "Enabled": False},
                    },
                }
            ),
            "PausedSchedule": {**EXPIRY, "Properties": {**EXPIRY["Properties"], "State": "DISABLED"}},
        },
        FakeClock(T0),
    )

    assert events.scheduler.schedules == []
    assert events.run_due(T0 + timedelta(days=1)) == []


def test_cron_honours_the_schedules_time_zone_and_its_start_and_end_dates() -> None:
    schedule = {
        "Type": "ScheduleV2",
        "Properties": {
            "ScheduleExpression": "cron(0 9 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/Rome",
            "StartDate": "2026-03-03T00:00:00Z",
            "EndDate": "2026-07-02T00:00:00Z",
        },
    }
    events = bus({"TickFunction": function(Events={"Morning": schedule})}, FakeClock(T0))
    [morning] = events.scheduler.schedules

    assert morning.next_after(T0) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # 9:00 CET, from the start date
    assert morning.next_after(datetime(2026, 6, 1, tzinfo=UTC)) == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # CEST
    assert morning.next_after(datetime(2026, 7, 1, 8, tzinfo=UTC)) is None  # the next is past the end date


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(15 minutes)", "2026-03-01T10:07:30", "2026-03-01T10:15:30"),  # from the origin, T0
        ("cron(0/15 * * * ? *)", "2026-03-01T10:07:30", "2026-03-01T10:15:00"),
        ("cron(0 12 ? * MON-FRI *)", "2026-03-07T13:00:00", "2026-03-09T12:00:00"),  # from a Saturday
        ("cron(*/10 8-9 ? * SAT,SUN *)", "2026-03-06T23:00:00", "2026-03-07T08:00:00"),
        ("cron(0 0 L * ? *)", "2026-02-10T00:00:00", "2026-02-28T00:00:00"),
        ("cron(0 0 LW * ? *)", "2026-05-01T00:00:00", "2026-05-29T00:00:00"),  # the 31st is a Sunday
        ("cron(0 0 15W * ? *)", "2026-08-01T00:00:00", "2026-08-14T00:00:00"),  # a Saturday: the Friday
        ("cron(0 0 15W * ? *)", "2026-03-01T00:00:00", "2026-03-16T00:00:00"),  # a Sunday: the Monday
        ("cron(0 0 1W * ? *)", "2026-10-31T12:00:00", "2026-11-02T00:00:00"),  # not back into October
        ("cron(0 10 ? * 6#3 *)", "2026-03-01T00:00:00", "2026-03-20T10:00:00"),  # the third Friday
        ("cron(0 10 ? * 2L *)", "2026-03-01T00:00:00", "2026-03-30T10:00:00"),  # the last Monday
        ("cron(0 0 1 JAN ? 2030)", "2026-03-01T00:00:00", "2030-01-01T00:00:00"),
        ("cron(0 0 29 2 ? *)", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("cron(0 0 1 1 ? 2020)", "2026-03-01T00:00:00", None),
        ("at(2026-03-02T08:30:00)", "2026-03-01T00:00:00", "2026-03-02T08:30:00"),
        ("at(2026-03-02T08:30:00)", "2026-03-02T08:30:00", None),
    ],
)
def test_expressions_give_the_next_time_as_aws_computes_it(expression: str, after: str, expected: str | None) -> None:
    recurrence = parse_expression(expression, UTC, origin=T0)

    following = recurrence.next_after(datetime.fromisoformat(after).replace(tzinfo=UTC))

    assert following == (datetime.fromisoformat(expected).replace(tzinfo=UTC) if expected else None)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(30 seconds)",
        "cron(0 12 * * * *)",  # day of month and day of week: one must be ?
        "cron(0 12 ? * ? *)",
        "cron(0 12 * *)",
        "cron(61 * * * ? *)",
        "cron(0 12 ? * MON#6 *)",
        "cron(0 12 ? * FUNDAY *)",
        "cron(0/0 * * * ? *)",
        "at(tomorrow)",
        "every 5 minutes",
    ],
)
def test_an_expression_aws_refuses_fails_at_start(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_expression(expression, UTC, origin=T0)


def test_a_schedule_the_runtime_cannot_run_as_aws_would_fails_at_start() -> None:
    queue_target = {**EXPIRY, "Properties": {**EXPIRY["Properties"], "Target": {"Arn": "arn:aws:sqs:us-east-1:1:q"}}}
    with pytest.raises(ScheduleError, match="only a function"):
        bus({"TickFunction": function(), "QueueSchedule": queue_target}, FakeClock(T0))
    not_json = {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "rate(1 hour)", "Input": "expire"}}
    with pytest.raises(ScheduleError, match="must be JSON"):
        bus({"TickFunction": function(Events={"Hourly": not_json})}, FakeClock(T0))


def test_a_failing_scheduled_function_is_retried_then_dead_lettered_as_lambda_does() -> None:
    registry = Registry(failing=("TickFunction",))
    config = {
        "MaximumRetryAttempts": 1,
        "DestinationConfig": {
            "OnFailure": {"Type": "SQS", "Destination": "arn:aws:sqs:us-east-1:123456789012:failures"}
        },
    }
    events = bus(
        {"TickFunction": function(EventInvokeConfig=config), "ExpirySchedule": EXPIRY}, FakeClock(T0), registry
    )

    events.run_due(T0 + timedelta(minutes=1))

    assert len(delivered(events, registry)) == 2  # the first attempt and MaximumRetryAttempts: 1
    assert [url for url, _ in events.sqs.sent] == ["http://queue/failures"]


def test_the_scheduler_thread_fires_when_the_clock_reaches_the_time() -> None:
    clock, registry = FakeClock(T0), Registry()
    events = bus({"TickFunction": function(), "ExpirySchedule": EXPIRY}, clock, registry, start=True)
    try:
        clock.advance(minutes=1)  # the thread looks at the clock at least once a second
        deadline = time.monotonic() + 5
        while not registry.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [function_id for function_id, _ in delivered(events, registry)] == ["TickFunction"]
    finally:
        events.stop()
