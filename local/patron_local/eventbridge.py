"""The default event bus with the template's rules, and the template's schedules, delivered to Lambda the way
EventBridge and EventBridge Scheduler deliver.

Rules: each function's `Type: EventBridgeRule` event (its Pattern). Schedules: `AWS::Scheduler::Schedule`
resources targeting a function, functions' `Type: ScheduleV2` events (SAM makes each such a schedule) and
`Type: Schedule` events (an EventBridge rule with a ScheduleExpression). Both services invoke a Lambda target
asynchronously, so delivery happens on a thread of its own: a handler error is retried
`EventInvokeConfig.MaximumRetryAttempts` times (default 2; AWS waits about a minute, then two, here a fraction of
a second), then the event goes to the `DestinationConfig.OnFailure` queue in Lambda's destination record. The
services' own RetryPolicy and DeadLetterConfig cover failures to *reach* the function (throttling, permissions),
which cannot happen in one process; MaximumEventAgeInSeconds is not applied.

Patterns support what the template uses and a little more: exact values, `prefix`, `suffix`, `wildcard`,
`equals-ignore-case`, `anything-but` and `exists`. Any other operator fails at start, not silently. So does a
schedule expression AWS would refuse, or a schedule whose target is not a function of the template.

Schedules fire by a clock (UTC, or the schedule's ScheduleExpressionTimezone): `rate(...)` every interval from
its StartDate or the runtime's start, `cron(...)` with AWS's six fields (`L`, `W` and `#` included), `at(...)`
once. A thread fires what is due; `run_due(now)` fires it deterministically (tests pass the time). A
FlexibleTimeWindow is not applied (an invocation comes at the scheduled minute), and a schedule that fell behind
(the machine slept) fires once for the occurrences it missed, with the first one's time.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Protocol

from patron_local.functions import FunctionRegistry
from patron_local.template import PhysicalResources, Template

LOGGER = logging.getLogger(__name__)

# boto3 ships no type information and only the DynamoDB stubs are installed: clients are untyped.
Client = Any

_EVENT_TYPES = ("EventBridgeRule", "CloudWatchEvent")
_OPERATORS = {"prefix", "suffix", "wildcard", "equals-ignore-case", "anything-but", "exists"}
_DEFAULT_RETRIES = 2  # Lambda's default for asynchronous invocations
RETRY_DELAYS_S = (0.2, 0.5)


class PatternError(ValueError):
    """A pattern the local bus cannot apply faithfully."""


@dataclass(frozen=True)
class Rule:
    function_id: str
    event_id: str
    pattern: dict[str, Any]


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """A function's `EventInvokeConfig`: retries of a failed asynchronous invocation, and where it goes then."""

    maximum_retry_attempts: int = _DEFAULT_RETRIES
    on_failure: str | None = None  # an SQS queue ARN


# -- patterns ------------------------------------------------------------------------------------------------


def check_pattern(pattern: Any, where: str) -> None:
    """Raises PatternError for anything `matches` would not apply as EventBridge does."""
    if not isinstance(pattern, Mapping):
        raise PatternError(f"{where}: a pattern is an object")
    for name, rule in pattern.items():
        if isinstance(rule, Mapping):
            check_pattern(rule, f"{where}.{name}")
        elif isinstance(rule, list):
            for matcher in rule:
                if isinstance(matcher, Mapping):
                    unknown = set(matcher) - _OPERATORS
                    if unknown or len(matcher) != 1:
                        raise PatternError(f"{where}.{name}: operator {sorted(matcher)} is not supported locally")
                elif isinstance(matcher, list):
                    raise PatternError(f"{where}.{name}: nested lists are not patterns")
        else:
            raise PatternError(f"{where}.{name}: a pattern's leaves are lists of matchers")


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether `event` matches `pattern`: every field of the pattern matches (AND), any matcher of a list (OR)."""
    for name, rule in pattern.items():
        present = isinstance(event, Mapping) and name in event
        value = event[name] if present else None
        if isinstance(rule, Mapping):
            if not (present and isinstance(value, Mapping) and matches(rule, value)):
                return False
        elif not _any_matcher(rule, present, value):
            return False
    return True


def _any_matcher(matchers: list[Any], present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, Mapping) and "exists" in matcher:
            if bool(matcher["exists"]) == present:
                return True
        elif present and any(_matches_one(matcher, item) for item in values):
            return True
    return False


def _matches_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        return _equal(matcher, value)
    operator, argument = next(iter(matcher.items()))
    if operator == "anything-but":
        if isinstance(argument, Mapping):
            return not _matches_one(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return value is not None and not any(_equal(item, value) for item in excluded)
    if not isinstance(value, str):
        return False
    if operator == "prefix":
        return value.startswith(str(argument))
    if operator == "suffix":
        return value.endswith(str(argument))
    if operator == "equals-ignore-case":
        return value.casefold() == str(argument).casefold()
    if operator == "wildcard":
        return _wildcard(str(argument)).fullmatch(value) is not None
    raise PatternError(f"operator {operator} is not supported locally")


def _equal(expected: Any, value: Any) -> bool:
    numbers = (int, float)
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, numbers) and isinstance(value, numbers):
        return float(expected) == float(value)
    return type(expected) is type(value) and bool(expected == value)


def _wildcard(text: str) -> re.Pattern[str]:
    """EventBridge's wildcard: `*` is any run of characters (slashes too), `\\*` a literal star."""
    parts = re.split(r"(\\\*|\*)", text)
    return re.compile("".join(".*" if part == "*" else re.escape("*" if part == "\\*" else part) for part in parts))


# -- schedule expressions --------------------------------------------------------------------------------------


class ScheduleError(ValueError):
    """A schedule the local runtime cannot run as AWS would: an expression AWS refuses, a target not a function."""


class Recurrence(Protocol):
    def next_after(self, moment: datetime) -> datetime | None:
        """The first invocation time (UTC) strictly after `moment`, or None when there is none."""
        ...


@dataclass(frozen=True)
class Rate:
    """`rate(5 minutes)`: every interval from the origin (the StartDate, or when the schedule began here)."""

    every: timedelta
    origin: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        if moment < self.origin:
            return self.origin + self.every
        return self.origin + ((moment - self.origin) // self.every + 1) * self.every


@dataclass(frozen=True)
class At:
    """`at(2030-01-01T09:00:00)`: once, at that wall time of the schedule's time zone."""

    moment: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        return self.moment if self.moment > moment else None


_MONTHS = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_WEEKDAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_SEARCH_YEARS = 10  # a cron expression with no time within ten years has no next time (its years are past)


def _aws_weekday(day: date) -> int:
    """AWS numbers the days of the week 1 (Sunday) to 7 (Saturday); Python 0 (Monday) to 6 (Sunday)."""
    return (day.weekday() + 1) % 7 + 1


def _last_day(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _values(field: str, low: int, high: int, names: Mapping[str, int], what: str) -> frozenset[int]:
    """A field of numbers (or names): `*`, `5`, `1-5`, `*/15`, `10/5`, `1-30/2`, and lists of these."""

    def number(text: str) -> int:
        value = names.get(text.upper()) if not text.isdigit() else int(text)
        if value is None or not low <= value <= high:
            raise ScheduleError(f"{what}: {text!r} is not between {low} and {high}")
        return value

    found: set[int] = set()
    for part in field.split(","):
        span, slash, step_text = part.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ScheduleError(f"{what}: the step in {part!r} is not a positive number")
        step = int(step_text) if slash else 1
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (number(bound) for bound in span.split("-", 1))
        else:
            first = number(span)
            last = high if slash else first  # `10/5`: from 10 on, every 5
        if first > last:
            raise ScheduleError(f"{what}: the range {span!r} runs backwards")
        found.update(range(first, last + 1, step))
    return frozenset(found)


@dataclass(frozen=True)
class _DaySpec:
    """Day-of-month or day-of-week: a set of numbers, or one of the forms AWS adds (`L`, `W`, `#`)."""

    numbers: frozenset[int] | None = None  # None: any day
    last: bool = False  # L: the month's last day, or (day of week, `5L`) the month's last such weekday
    weekday: bool = False  # W: the weekday nearest that day (`15W`) or the last day (`LW`), within the month
    nth: tuple[int, int] | None = None  # 3#2: the month's second Tuesday


def _days_of_month(field: str) -> _DaySpec:
    if field in ("*", "?"):
        return _DaySpec()
    if field == "L":
        return _DaySpec(last=True)
    if field == "LW":
        return _DaySpec(last=True, weekday=True)
    if match := re.fullmatch(r"(\d{1,2})W", field):
        return _DaySpec(numbers=_values(match.group(1), 1, 31, {}, "day of month"), weekday=True)
    return _DaySpec(numbers=_values(field, 1, 31, {}, "day of month"))


def _days_of_week(field: str) -> _DaySpec:
    if field in ("*", "?"):
        return _DaySpec()
    if field == "L":
        return _DaySpec(numbers=frozenset({7}))  # alone, L is the week's last day: Saturday
    if match := re.fullmatch(r"(\w+)L", field):
        return _DaySpec(numbers=_values(match.group(1), 1, 7, _WEEKDAYS, "day of week"), last=True)
    if match := re.fullmatch(r"(\w+)#([1-5])", field):
        (weekday,) = _values(match.group(1), 1, 7, _WEEKDAYS, "day of week")
        return _DaySpec(nth=(weekday, int(match.group(2))))
    return _DaySpec(numbers=_values(field, 1, 7, _WEEKDAYS, "day of week"))


def _day_of_month_matches(spec: _DaySpec, day: date) -> bool:
    last = _last_day(day.year, day.month)
    if spec.weekday:
        target = date(day.year, day.month, last if spec.last else min(min(spec.numbers or {last}), last))
        if target.weekday() == 5:  # Saturday: Friday before, unless that leaves the month
            target = target - timedelta(days=1) if target.day > 1 else target + timedelta(days=2)
        elif target.weekday() == 6:  # Sunday: Monday after, unless that leaves the month
            target = target + timedelta(days=1) if target.day < last else target - timedelta(days=2)
        return day == target
    if spec.last:
        return day.day == last
    return spec.numbers is None or day.day in spec.numbers


def _day_of_week_matches(spec: _DaySpec, day: date) -> bool:
    weekday = _aws_weekday(day)
    if spec.nth is not None:
        return weekday == spec.nth[0] and (day.day - 1) // 7 + 1 == spec.nth[1]
    if spec.numbers is not None and weekday not in spec.numbers:
        return False
    return not spec.last or day.day + 7 > _last_day(day.year, day.month)


@dataclass(frozen=True)
class Cron:
    """`cron(minutes hours day-of-month month day-of-week year)`, AWS's six fields, in the schedule's time zone."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: _DaySpec
    months: frozenset[int]
    days_of_week: _DaySpec
    years: frozenset[int]
    zone: tzinfo

    @classmethod
    def parse(cls, fields: str, zone: tzinfo) -> Cron:
        parts = fields.split()
        if len(parts) != 6:
            raise ScheduleError(f"cron({fields}): AWS's cron has six fields, not {len(parts)}")
        minutes, hours, days_of_month, months, days_of_week, years = parts
        if (days_of_month == "?") == (days_of_week == "?"):
            raise ScheduleError(f"cron({fields}): one of day-of-month and day-of-week must be ?, not both")
        return cls(
            minutes=tuple(sorted(_values(minutes, 0, 59, {}, "minutes"))),
            hours=tuple(sorted(_values(hours, 0, 23, {}, "hours"))),
            days_of_month=_days_of_month(days_of_month),
            months=_values(months, 1, 12, _MONTHS, "month"),
            days_of_week=_days_of_week(days_of_week),
            years=_values(years, 1970, 2199, {}, "year"),
            zone=zone,
        )

    def _matches(self, day: date) -> bool:
        return _day_of_month_matches(self.days_of_month, day) and _day_of_week_matches(self.days_of_week, day)

    def next_after(self, moment: datetime) -> datetime | None:
        # Whole minutes of wall time in the schedule's zone; the first candidate is the next minute.
        start = moment.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        horizon = date(min(day.year + _SEARCH_YEARS, 2199), 12, 31)
        while day <= horizon:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
            elif day.month not in self.months:
                day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            else:
                if self._matches(day):
                    for hour in self.hours:
                        for minute in self.minutes:
                            candidate = datetime(day.year, day.month, day.day, hour, minute)
                            if candidate >= start:
                                return candidate.replace(tzinfo=self.zone).astimezone(UTC)
                day += timedelta(days=1)
        return None


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def parse_expression(expression: str, zone: tzinfo, origin: datetime) -> Recurrence:
    """A ScheduleExpression as AWS reads it; ScheduleError for one AWS would refuse."""
    text = expression.strip()
    if match := _RATE.fullmatch(text):
        value, unit = int(match.group(1)), match.group(2)
        if value < 1 or (value == 1) == unit.endswith("s"):
            raise ScheduleError(f"{expression}: a rate is a positive number, its unit singular for 1, plural above")
        return Rate(every=value * _UNITS[unit.rstrip("s")], origin=origin)
    if text.startswith("cron(") and text.endswith(")"):
        return Cron.parse(text[5:-1], zone)
    if text.startswith("at(") and text.endswith(")"):
        try:
            moment = datetime.strptime(text[3:-1], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ScheduleError(f"{expression}: an at() expression is at(yyyy-mm-ddThh:mm:ss)") from None
        return At(moment.replace(tzinfo=zone).astimezone(UTC))
    raise ScheduleError(f"{expression}: a schedule expression is rate(...), cron(...) or at(...)")


# -- schedules -------------------------------------------------------------------------------------------------

SCHEDULE_TYPE = "AWS::Scheduler::Schedule"
_SCHEDULE_EVENT_TYPES = ("ScheduleV2", "Schedule")
# What EventBridge Scheduler replaces in a target's Input when it invokes it.
_CONTEXT_ATTRIBUTES = ("schedule-arn", "scheduled-time", "execution-id", "attempt-number")


@dataclass(frozen=True)
class Schedule:
    name: str
    arn: str
    function_id: str
    recurrence: Recurrence
    # The target's Input (JSON text), or None for the service's default event.
    input: str | None
    # aws.scheduler (EventBridge Scheduler: schedules and ScheduleV2) or aws.events (a rule's Schedule event).
    source: str
    start: datetime | None = None
    end: datetime | None = None

    def next_after(self, moment: datetime) -> datetime | None:
        if self.start is not None and moment < self.start:
            moment = self.start - timedelta(microseconds=1)  # on or after StartDate
        following = self.recurrence.next_after(moment)
        return None if following is None or (self.end is not None and following > self.end) else following

    def event(self, scheduled: datetime) -> Any:
        """What the target receives for the invocation due at `scheduled`."""
        execution_id = str(uuid.uuid4())
        when = scheduled.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.input is not None:
            text = self.input
            if self.source == "aws.scheduler":
                values = dict(zip(_CONTEXT_ATTRIBUTES, (self.arn, when, execution_id, "1"), strict=True))
                for name, value in values.items():
                    text = text.replace(f"<aws.scheduler.{name}>", value)
            return json.loads(text)
        arn_parts = self.arn.split(":")  # arn:aws:<service>:<region>:<account>:...
        return {
            "version": "0",
            "id": execution_id,
            "detail-type": "Scheduled Event",
            "source": self.source,
            "account": arn_parts[4],
            "time": when,
            "region": arn_parts[3],
            "resources": [self.arn],
            # Scheduler's default event carries its detail as the text "{}"; a rule's is an object.
            "detail": "{}" if self.source == "aws.scheduler" else {},
        }


def _utc(text: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise ScheduleError(f"{what}: {text!r} is not an ISO-8601 date") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _zone(name: Any, where: str) -> tzinfo:
    if name in (None, "", "UTC", "Etc/UTC"):
        return UTC
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{where}: {name!r} is not a time zone") from None


def _enabled(value: Any) -> bool:
    return str(value).upper() not in ("DISABLED", "FALSE")


def _checked_input(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScheduleError(f"{where}: Input is a string of JSON")
    try:
        json.loads(value)
    except json.JSONDecodeError:
        raise ScheduleError(f"{where}: a Lambda target's Input must be JSON") from None
    return value


@dataclass(frozen=True)
class _Declared:
    """A schedule as the template declares it, before its expression and dates are read."""

    name: str
    arn: str
    function_id: str
    properties: dict[str, Any]  # ScheduleExpression, ScheduleExpressionTimezone, StartDate, EndDate
    input: Any
    enabled: Any


def _declared(template: Template, resources: PhysicalResources) -> list[_Declared]:
    functions = template.functions()
    scheduler_arn = f"arn:aws:scheduler:{resources.region}:{resources.account_id}:schedule"
    declared = []
    for logical_id, resource in template.resources_of(SCHEDULE_TYPE).items():
        properties = dict(resource.get("Properties") or {})
        target = dict(properties.get("Target") or {})
        arn = str(resources.resolve(target.get("Arn", "")))
        function_id = arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in arn else ""
        if function_id not in functions:
            raise ScheduleError(f"{logical_id}: only a function of the template can be a schedule's target locally")
        name = str(resources.resolve(properties.get("Name", logical_id)))
        group = str(resources.resolve(properties.get("GroupName", "default")))
        enabled = properties.get("State", "ENABLED")
        declared.append(
            _Declared(name, f"{scheduler_arn}/{group}/{name}", function_id, properties, target.get("Input"), enabled)
        )
    for function_id in functions:
        for event_id, event in (template.function_properties(function_id).get("Events") or {}).items():
            properties = dict(event.get("Properties") or {})
            # SAM names a ScheduleV2's schedule (and a Schedule's rule) after the function and the event.
            name = str(resources.resolve(properties.get("Name", f"{function_id}{event_id}")))
            if event.get("Type") == "ScheduleV2":
                group = str(resources.resolve(properties.get("GroupName", "default")))
                arn = f"{scheduler_arn}/{group}/{name}"
                enabled = properties.get("State", "ENABLED")
            elif event.get("Type") == "Schedule":
                # An EventBridge rule: UTC only, enabled by `Enabled` or `State`.
                arn = f"arn:aws:events:{resources.region}:{resources.account_id}:rule/{name}"
                properties.pop("ScheduleExpressionTimezone", None)
                enabled = properties.get("Enabled", properties.get("State", "ENABLED"))
            else:
                continue
            declared.append(_Declared(name, arn, function_id, properties, properties.get("Input"), enabled))
    for machine_id, machine in template.resources_of("AWS::Serverless::StateMachine").items():
        for event_id, event in ((machine.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") in _SCHEDULE_EVENT_TYPES:
                raise ScheduleError(f"{machine_id}.{event_id}: only functions run on a schedule locally")
    return declared


def load_schedules(template: Template, resources: PhysicalResources, now: datetime) -> list[Schedule]:
    """The template's enabled schedules; ScheduleError for one AWS would refuse or this runtime cannot run."""
    schedules = []
    for declared in _declared(template, resources):
        if not _enabled(resources.resolve(declared.enabled)):
            continue
        properties, name = declared.properties, declared.name
        zone = _zone(resources.resolve(properties.get("ScheduleExpressionTimezone")), name)
        start = _utc(resources.resolve(properties["StartDate"]), name) if "StartDate" in properties else None
        expression = str(resources.resolve(properties.get("ScheduleExpression", "")))
        schedules.append(
            Schedule(
                name=name,
                arn=declared.arn,
                function_id=declared.function_id,
                recurrence=parse_expression(expression, zone, origin=start or now),
                input=_checked_input(resources.resolve(declared.input), name),
                source="aws.events" if ":rule/" in declared.arn else "aws.scheduler",
                start=start,
                end=_utc(resources.resolve(properties["EndDate"]), name) if "EndDate" in properties else None,
            )
        )
    return schedules


class Scheduler:
    """Fires each schedule when its time comes by the clock. `run_due(now)` fires what is due at `now` (the thread
    calls it with the clock's time; tests with the time they choose)."""

    _MAX_PAUSE_S = 1.0  # the thread looks at the clock at least this often (a clock may jump: tests, sleep)

    def __init__(
        self,
        schedules: Iterable[Schedule],
        fire: Callable[[Schedule, datetime], None],
        clock: Callable[[], datetime],
    ):
        self.schedules = list(schedules)
        self._fire = fire
        self._clock = clock
        now = clock()
        self._due = {schedule.name: schedule.next_after(now) for schedule in self.schedules}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self, name: str) -> datetime | None:
        """When the schedule fires next (None: never again)."""
        with self._lock:
            return self._due[name]

    def run_due(self, now: datetime | None = None) -> list[tuple[Schedule, datetime]]:
        """Fire every schedule due at `now` (default: the clock's time) once; returns them with their times."""
        moment = now or self._clock()
        fired = []
        with self._lock:
            for schedule in self.schedules:
                due = self._due[schedule.name]
                if due is None or due > moment:
                    continue
                following = schedule.next_after(due)
                if following is not None and following <= moment:
                    LOGGER.warning("schedule %s fell behind: its missed invocations fire once", schedule.name)
                    following = schedule.next_after(moment)
                self._due[schedule.name] = following
                fired.append((schedule, due))
        for schedule, due in fired:
            self._fire(schedule, due)
        return fired

    def start(self) -> None:
        if self._thread is None and self.schedules:
            self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        # The runtime creating the bus finishes its start (the functions' environment, IAM) before a first firing.
        if self._stop.wait(self._MAX_PAUSE_S):
            return
        while not self._stop.wait(self._pause()):
            try:
                self.run_due()
            except Exception:
                LOGGER.exception("the scheduler failed to fire a schedule")

    def _pause(self) -> float:
        with self._lock:
            upcoming = [due for due in self._due.values() if due is not None]
        if not upcoming:
            return self._MAX_PAUSE_S
        seconds = (min(upcoming) - self._clock()).total_seconds()
        return min(max(seconds, 0.01), self._MAX_PAUSE_S)


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- the bus ---------------------------------------------------------------------------------------------------


class EventBusRuntime:
    """The rules (put_event) and the schedules (a Scheduler, started with the bus unless `start_scheduler` is
    False), each invocation asynchronous as EventBridge makes it."""

    def __init__(
        self,
        template: Template,
        resources: PhysicalResources,
        registry: FunctionRegistry,
        sqs_client: Client,
        queue_url: Callable[[str], str | None],
        retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
        clock: Callable[[], datetime] = utc_now,
        start_scheduler: bool = True,
    ):
        self.template = template
        self.resources = resources
        self.registry = registry
        self.sqs = sqs_client
        self._queue_url = queue_url
        self._retry_delays = retry_delays
        self.rules = self._load_rules()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running = 0
        self._lock = threading.Lock()
        self.scheduler = Scheduler(load_schedules(template, resources, clock()), self._fire_schedule, clock)
        if start_scheduler:
            self.scheduler.start()

    def _load_rules(self) -> list[Rule]:
        rules = []
        for function_id in self.template.resources_of("AWS::Serverless::Function"):
            events = self.template.function_properties(function_id).get("Events") or {}
            for event_id, event in events.items():
                if event.get("Type") not in _EVENT_TYPES:
                    continue
                properties = event.get("Properties", {})
                bus = properties.get("EventBusName", "default")
                if bus != "default":
                    raise PatternError(f"{function_id}.{event_id}: only the default event bus runs locally")
                pattern = self.resources.resolve(properties["Pattern"])
                check_pattern(pattern, f"{function_id}.{event_id}")
                rules.append(Rule(function_id, event_id, pattern))
        return rules

    def invoke_config(self, function_id: str) -> AsyncInvokeConfig:
        config = self.template.function_properties(function_id).get("EventInvokeConfig") or {}
        on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure")) or {}
        destination = self.resources.resolve(on_failure["Destination"]) if "Destination" in on_failure else None
        if destination is not None and on_failure.get("Type", "SQS") != "SQS":
            raise PatternError(f"{function_id}: only SQS OnFailure destinations run locally")
        return AsyncInvokeConfig(
            maximum_retry_attempts=int(config.get("MaximumRetryAttempts", _DEFAULT_RETRIES)),
            on_failure=str(destination) if destination is not None else None,
        )

    def put_event(self, event: dict[str, Any]) -> list[Rule]:
        """PutEvents of one event: each matching rule's target is invoked asynchronously. Returns the rules."""
        matched = [rule for rule in self.rules if matches(rule.pattern, event)]
        for rule in matched:
            self._invoke_async(rule.function_id, event)
        return matched

    def run_due(self, now: datetime | None = None) -> list[tuple[Schedule, datetime]]:
        """Fire the schedules due at `now` (default: the clock's time), as the scheduler's thread does."""
        return self.scheduler.run_due(now)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._running == 0:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def stop(self) -> None:
        self.scheduler.stop()
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=30)

    def _fire_schedule(self, schedule: Schedule, scheduled: datetime) -> None:
        self._invoke_async(schedule.function_id, schedule.event(scheduled))

    def _invoke_async(self, function_id: str, event: Any) -> None:
        with self._lock:
            self._running += 1
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            thread = threading.Thread(
                target=self._deliver, args=(function_id, event), name=f"events-{function_id}", daemon=True
            )
            self._threads.append(thread)
        thread.start()

    def _deliver(self, function_id: str, event: Any) -> None:
        try:
            config = self.invoke_config(function_id)
            attempts = 1 + config.maximum_retry_attempts
            for attempt in range(attempts):
                try:
                    self.registry.invoke(function_id, event)
                    return
                except Exception as exc:
                    LOGGER.warning("%s failed an event (attempt %d of %d)", function_id, attempt + 1, attempts)
                    error: Exception = exc
                if attempt + 1 < attempts and self._stop.wait(
                    self._retry_delays[min(attempt, len(self._retry_delays) - 1)]
                ):
                    return
            self._dead_letter(function_id, config, event, error, attempts)
        finally:
            with self._lock:
                self._running -= 1

    def _dead_letter(
        self, function_id: str, config: AsyncInvokeConfig, event: Any, error: Exception, attempts: int
    ) -> None:
        url = self._queue_url(config.on_failure) if config.on_failure else None
        if url is None:
            LOGGER.error("%s: an event was dropped after %d attempts", function_id, attempts)
            return
        # Lambda's destination record for a failed asynchronous invocation.
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{self.resources.attributes.get((function_id, 'Arn'), function_id)}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        }
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
