"""Alarms, the dashboard and tracing, read from template.yaml (docs/operations.md).

Written over whatever the template holds: a function, dead-letter queue, table or state machine added without its
alarms, its place on the dashboard or its runbook line fails here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.template.test_template import TEMPLATE, referenced_ids

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
TOPIC = "AlarmTopic"

ALARMS = TEMPLATE.resources_of("AWS::CloudWatch::Alarm")
FUNCTIONS = sorted(
    [*TEMPLATE.resources_of("AWS::Serverless::Function"), *TEMPLATE.resources_of("AWS::Lambda::Function")]
)
QUEUES = sorted(TEMPLATE.resources_of("AWS::SQS::Queue"))
TABLES = sorted(TEMPLATE.resources_of("AWS::DynamoDB::Table"))
STATE_MACHINES = sorted(
    [
        *TEMPLATE.resources_of("AWS::Serverless::StateMachine"),
        *TEMPLATE.resources_of("AWS::StepFunctions::StateMachine"),
    ]
)

# Where a template names a dead-letter target: SQS redrive, a function's DeadLetterQueue, an asynchronous invoke's or
# an event source's OnFailure destination, an EventBridge rule's DeadLetterConfig.
_DEAD_LETTER_KEYS = {"deadLetterTargetArn", "DeadLetterQueue", "DeadLetterConfig", "OnFailure"}


def _dead_letter_targets(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found |= referenced_ids(item) if key in _DEAD_LETTER_KEYS else _dead_letter_targets(item)
    elif isinstance(value, list):
        for item in value:
            found |= _dead_letter_targets(item)
    return found


# A queue is a dead-letter queue when something dead-letters into it, or when it is named as one (SAM logical ids
# end in DLQ): a DLQ added before whatever feeds it still needs its alarm.
DEAD_LETTER_QUEUES = sorted(
    {queue for queue in _dead_letter_targets(TEMPLATE.resources) if queue in QUEUES}
    | {queue for queue in QUEUES if queue.endswith("DLQ")}
)


@dataclass(frozen=True)
class Watched:
    """One metric an alarm (or a dashboard widget) reads."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]  # (name, value as JSON): intrinsic values compare by structure
    stat: str

    def of(self, **dimensions: Any) -> bool:
        return self.dimensions == _dims(dimensions)


def _dims(dimensions: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, json.dumps(value, sort_keys=True)) for name, value in dimensions.items()))


def alarm_metrics(properties: dict[str, Any]) -> list[Watched]:
    """The metrics an alarm reads: its one metric, or the inputs of its metric math."""
    if "MetricName" in properties:
        stat = properties.get("Statistic") or properties.get("ExtendedStatistic")
        dimensions = {d["Name"]: d["Value"] for d in properties.get("Dimensions", [])}
        return [Watched(properties["Namespace"], properties["MetricName"], _dims(dimensions), str(stat))]
    watched = []
    for query in properties.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            watched.append(
                Watched(metric["Namespace"], metric["MetricName"], _dims(dimensions), query["MetricStat"]["Stat"])
            )
    return watched


def alarms_on(namespace: str, metric: str, stat: str, **dimensions: Any) -> list[str]:
    """Alarms that fire on the first occurrence of the metric (> 0) for exactly these dimensions."""
    return [
        name
        for name, alarm in ALARMS.items()
        if alarm["Properties"].get("ComparisonOperator") == "GreaterThanThreshold"
        and alarm["Properties"].get("Threshold") == 0
        and any(
            w.namespace == namespace and w.name == metric and w.stat == stat and w.of(**dimensions)
            for w in alarm_metrics(alarm["Properties"])
        )
    ]


def _queue_name(queue: str) -> dict[str, Any]:
    # A queue's Ref is its URL; its metrics are named by QueueName.
    return {"Fn::GetAtt": [queue, "QueueName"]}


def _indexes(table: str) -> list[str]:
    properties = TEMPLATE.resources[table]["Properties"]
    return [str(index["IndexName"]) for index in properties.get("GlobalSecondaryIndexes", [])]


# ---------------------------------------------------------------- what must be alarmed


def test_the_dead_letter_queues_are_found():
    assert {"ImportDLQ", "ImportUploadDLQ"} <= set(DEAD_LETTER_QUEUES)
    assert "ImportQueue" not in DEAD_LETTER_QUEUES


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_alarms_on_its_first_error(function):
    assert alarms_on("AWS/Lambda", "Errors", "Sum", FunctionName={"Ref": function}), f"no Errors alarm for {function}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_alarms_on_its_first_throttle(function):
    assert alarms_on("AWS/Lambda", "Throttles", "Sum", FunctionName={"Ref": function}), (
        f"no Throttles alarm for {function}"
    )


@pytest.mark.parametrize("queue", DEAD_LETTER_QUEUES)
def test_every_dead_letter_queue_alarms_on_its_depth(queue):
    # Visible and in flight: a consumer that keeps failing on a message holds it in flight most of the time.
    visible = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", QueueName=_queue_name(queue))
    in_flight = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "Maximum", QueueName=_queue_name(queue))
    assert set(visible) & set(in_flight), f"no depth alarm on {queue}"


@pytest.mark.parametrize("queue", DEAD_LETTER_QUEUES)
def test_dead_letters_alarm_as_they_arrive(queue):
    # SQS does not count a message it moves into a DLQ as sent; its consumer's receive counts it.
    assert alarms_on("AWS/SQS", "NumberOfMessagesReceived", "Sum", QueueName=_queue_name(queue)), queue


@pytest.mark.parametrize("table", TABLES)
def test_every_table_and_index_alarms_on_throttling(table):
    scopes: list[dict[str, Any]] = [{"TableName": {"Ref": table}}]
    scopes += [{"TableName": {"Ref": table}, "GlobalSecondaryIndexName": index} for index in _indexes(table)]
    for dimensions in scopes:
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            assert alarms_on("AWS/DynamoDB", metric, "Sum", **dimensions), f"{table}: no alarm on {metric} {dimensions}"


@pytest.mark.parametrize("state_machine", STATE_MACHINES)
def test_every_state_machine_alarms_on_failed_and_timed_out_executions(state_machine):
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
        assert alarms_on("AWS/States", metric, "Sum", StateMachineArn={"Ref": state_machine}), (state_machine, metric)


APIS = sorted(TEMPLATE.apis())


@pytest.mark.parametrize("api_name", APIS)
def test_the_apis_5xx_rate_is_alarmed_above_the_threshold_parameter(api_name):
    _, api = TEMPLATE.api(api_name)
    # API Gateway names a REST API's metrics by its name and stage: the template names the API explicitly.
    dimensions = {"ApiName": api["Name"], "Stage": api["StageName"]}
    (name,) = [
        name
        for name, alarm in ALARMS.items()
        if {(w.name, w.stat) for w in alarm_metrics(alarm["Properties"]) if w.of(**dimensions)}
        == {("5XXError", "Sum"), ("Count", "Sum")}
    ]
    properties = ALARMS[name]["Properties"]
    (expression,) = [query for query in properties["Metrics"] if "Expression" in query]
    assert expression["Expression"] == "100 * errors / requests"
    assert properties["Threshold"] == {"Ref": "ApiErrorRateThreshold"}
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    threshold = TEMPLATE.parameters["ApiErrorRateThreshold"]
    assert threshold["MinValue"] == 0 and threshold["MaxValue"] == 100 and 0 < threshold["Default"] <= 10


# ---------------------------------------------------------------- how every alarm behaves


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_topic_on_alarm_and_on_recovery(alarm):
    properties = ALARMS[alarm]["Properties"]
    assert {"Ref": TOPIC} in properties.get("AlarmActions", [])
    assert {"Ref": TOPIC} in properties.get("OKActions", [])
    assert properties.get("ActionsEnabled", True) is True


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_reads_five_minute_periods_and_treats_no_data_as_nothing_happened(alarm):
    properties = ALARMS[alarm]["Properties"]
    # Every alarm here counts failures or a share of failed requests: no data means no traffic, not trouble.
    assert properties["TreatMissingData"] == "notBreaching"
    periods = [properties["Period"]] if "Period" in properties else []
    periods += [query["MetricStat"]["Period"] for query in properties.get("Metrics", []) if "MetricStat" in query]
    assert periods and set(periods) == {300}
    evaluation = properties["EvaluationPeriods"]
    assert 1 <= properties.get("DatapointsToAlarm", evaluation) <= evaluation <= 3
    if "Metrics" in properties:
        # Metric math: the inputs return no data, one expression is what the alarm compares.
        returned = [query for query in properties["Metrics"] if query.get("ReturnData", True)]
        assert len(returned) == 1 and "Expression" in returned[0]
        assert len(properties["Metrics"]) <= 10  # CloudWatch's limit on an alarm's metrics


def test_the_topic_takes_an_optional_email_subscription():
    assert TEMPLATE.resources[TOPIC]["Type"] == "AWS::SNS::Topic"
    parameter = TEMPLATE.parameters["AlarmEmail"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "") and re.fullmatch(
        parameter["AllowedPattern"], "ops@example.com"
    )
    assert not re.fullmatch(parameter["AllowedPattern"], "not an address")
    subscriptions = TEMPLATE.resources_of("AWS::SNS::Subscription")
    assert len(subscriptions) == 1
    (subscription,) = subscriptions.values()
    condition = subscription["Condition"]
    assert TEMPLATE.document["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": TOPIC},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }


def _runbook_names() -> list[re.Pattern[str]]:
    """The alarm names in docs/operations.md's runbook table (`<Function>ErrorsAlarm` stands for every function's)."""
    kinds = {"Function": FUNCTIONS, "DeadLetterQueue": DEAD_LETTER_QUEUES, "Table": TABLES}
    patterns = []
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        for name in re.findall(r"`([A-Za-z<>]+Alarm)`", line.split("|")[1]):
            regex = re.sub(r"<(\w+)>", lambda m: "(?:" + "|".join(kinds[m.group(1)]) + ")", name)
            patterns.append(re.compile(regex))
    return patterns


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_has_a_runbook_line(alarm):
    assert any(pattern.fullmatch(alarm) for pattern in _runbook_names()), f"{alarm} is not in docs/operations.md"
    assert "docs/operations.md" in json.dumps(ALARMS[alarm]["Properties"]["AlarmDescription"])


# ---------------------------------------------------------------- the dashboard


def _dashboard_body() -> str:
    (dashboard,) = TEMPLATE.resources_of("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)  # one string: every ${...} in it names a parameter, a resource or a pseudo parameter
    return body


def _dashboard_metrics() -> list[Watched]:
    """Every metric the dashboard draws, `${...}` left as written (CloudWatch's "." shorthand expanded)."""
    # Number parameters may stand where JSON wants a number (the alarm threshold's line): read them at their defaults.
    numbers = {name: str(spec["Default"]) for name, spec in TEMPLATE.parameters.items() if spec["Type"] == "Number"}
    document = json.loads(re.sub(r"\$\{(\w+)\}", lambda m: numbers.get(m.group(1), m.group(0)), _dashboard_body()))
    watched = []
    for widget in document["widgets"]:
        properties = widget["properties"]
        previous: list[Any] = []
        for row in properties.get("metrics", []):
            if isinstance(row[0], dict):  # a math expression
                continue
            options = row[-1] if isinstance(row[-1], dict) else {}
            fields = [
                previous[i] if value == "." and i < len(previous) else value
                for i, value in enumerate(row[:-1] if options else row)
            ]
            previous = fields
            namespace, name, *pairs = fields
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            stat = options.get("stat", properties.get("stat", "Average"))
            watched.append(Watched(namespace, name, tuple(sorted(dimensions.items())), stat))
    return watched


DASHBOARD = _dashboard_metrics()


def _drawn(namespace: str, name: str, stat: str | None = None, **dimensions: str) -> bool:
    wanted = tuple(sorted(dimensions.items()))
    return any(
        w.namespace == namespace and w.name == name and w.dimensions == wanted and stat in (None, w.stat)
        for w in DASHBOARD
    )


def test_the_dashboard_names_only_what_the_template_defines():
    known = set(TEMPLATE.parameters) | set(TEMPLATE.resources) | {"AWS::Region", "AWS::StackName", "AWS::AccountId"}
    for reference in re.findall(r"\$\{([^}]+)\}", _dashboard_body()):
        assert reference.split(".")[0] in known, reference
        if "." in reference:
            logical_id, attribute = reference.split(".")
            assert (TEMPLATE.resources[logical_id]["Type"], attribute) == ("AWS::SQS::Queue", "QueueName")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_dashboard_shows_every_functions_errors_duration_and_throttles(function):
    for metric in ("Errors", "Duration", "Throttles"):
        assert _drawn("AWS/Lambda", metric, FunctionName=f"${{{function}}}"), (function, metric)


@pytest.mark.parametrize("queue", QUEUES)
def test_the_dashboard_shows_every_queues_depth_and_age(queue):
    for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
        assert _drawn("AWS/SQS", metric, QueueName=f"${{{queue}.QueueName}}"), (queue, metric)


@pytest.mark.parametrize("table", TABLES)
def test_the_dashboard_shows_every_tables_consumed_capacity_and_throttles(table):
    for metric in (
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
    ):
        assert _drawn("AWS/DynamoDB", metric, TableName=f"${{{table}}}"), (table, metric)
    for index in _indexes(table):
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            assert _drawn("AWS/DynamoDB", metric, TableName=f"${{{table}}}", GlobalSecondaryIndexName=index)


@pytest.mark.parametrize("state_machine", STATE_MACHINES)
def test_the_dashboard_shows_every_state_machines_executions(state_machine):
    for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"):
        assert _drawn("AWS/States", metric, StateMachineArn=f"${{{state_machine}}}"), (state_machine, metric)


@pytest.mark.parametrize("api_name", APIS)
def test_the_dashboard_shows_the_apis_requests_errors_and_latency(api_name):
    _, api = TEMPLATE.api(api_name)
    assert api["StageName"] == {"Ref": "StageName"}
    # The name API Gateway's metrics carry: the stack's (main API) or `<stack>-expertsender`.
    name = api["Name"]["Ref"] if "Ref" in api["Name"] else api["Name"]["Fn::Sub"]
    name = name if name.startswith("$") else f"${{{name}}}"
    api_dims = {"ApiName": name, "Stage": "${StageName}"}
    for metric in ("Count", "4XXError", "5XXError"):
        assert _drawn("AWS/ApiGateway", metric, "Sum", **api_dims), metric
    for stat in ("p50", "p99"):
        assert _drawn("AWS/ApiGateway", "Latency", stat, **api_dims), stat


# ---------------------------------------------------------------- tracing and parameters


def test_tracing_is_one_parameter_applied_to_every_function_and_the_api_stage():
    parameter = TEMPLATE.parameters["Tracing"]
    # Disabled, not PassThrough, by default: SAM grants X-Ray's write policy to every role for any other value.
    assert set(parameter["AllowedValues"]) == {"Active", "Disabled"} and parameter["Default"] == "Disabled"
    assert TEMPLATE.globals_function()["Tracing"] == {"Ref": "Tracing"}
    for function in FUNCTIONS:
        assert "Tracing" not in TEMPLATE.resources[function].get("Properties", {}), f"{function} overrides Tracing"
    for name in APIS:
        _, api = TEMPLATE.api(name)
        assert api["TracingEnabled"] == TEMPLATE.api()[1]["TracingEnabled"], name
    _, api = TEMPLATE.api()
    condition, when_true, when_false = api["TracingEnabled"]["Fn::If"]
    assert (when_true, when_false) == (True, False)
    equals = TEMPLATE.document["Conditions"][condition]["Fn::Equals"]
    assert sorted(equals, key=str) == sorted([{"Ref": "Tracing"}, "Active"], key=str)


@pytest.mark.parametrize("parameter", sorted(TEMPLATE.parameters))
def test_every_parameter_is_described(parameter):
    assert str(TEMPLATE.parameters[parameter].get("Description", "")).strip(), parameter
