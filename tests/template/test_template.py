"""The template's guarantees, read from template.yaml itself (we cannot deploy from here)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from patron.imports.model import InputFormat
from patron.imports.uploads import upload_key
from patron_local.eventbridge import check_pattern, matches
from patron_local.runtime import DEFAULT_TEMPLATE
from patron_local.template import PhysicalResources, Template

TEMPLATE = Template.load(DEFAULT_TEMPLATE)
FUNCTIONS = sorted(TEMPLATE.resources_of("AWS::Serverless::Function"))


def own_properties(logical_id: str) -> dict[str, Any]:
    return dict(TEMPLATE.resources[logical_id]["Properties"])


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a value refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value:
            found.add(str(value["Ref"]))
        if "Fn::GetAtt" in value:
            found.add(str(value["Fn::GetAtt"][0]))
        if "Fn::Sub" in value:
            import re

            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found.update(match.split(".")[0] for match in re.findall(r"\$\{([^}]+)\}", text))
        for item in value.values():
            found |= referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    return found


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_sets_its_own_timeout_and_memory(function):
    properties = own_properties(function)
    serves_api = any(event.get("Type") == "Api" for event in (properties.get("Events") or {}).values())
    # Behind API Gateway a function has 29 s at most; a queue worker or workflow task up to Lambda's 15 minutes.
    ceiling = 29 if serves_api else 900
    assert isinstance(properties.get("Timeout"), int) and 1 <= properties["Timeout"] <= ceiling
    assert isinstance(properties.get("MemorySize"), int) and 128 <= properties["MemorySize"] <= 3008


@pytest.mark.parametrize("function", FUNCTIONS)
def test_iam_reaches_only_the_functions_own_resources_with_named_actions(function):
    properties = own_properties(function)
    own = referenced_ids(properties.get("Environment", {}))
    statements = [s for policy in properties.get("Policies", []) for s in policy.get("Statement", [])]
    assert statements, f"{function} has no explicit policy statements"
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), f"{function}: wildcard action {actions}"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            assert resource != "*", f"{function}: wildcard resource"
            targets = referenced_ids(resource)
            assert targets and targets <= own, f"{function} reaches {targets - own} which it does not own"
    # No SAM policy templates or managed policies: those reach further than the function needs.
    assert all(set(policy) == {"Statement"} for policy in properties.get("Policies", []))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_routes_a_handler_serves_are_exactly_its_template_events(function):
    module = importlib.import_module(TEMPLATE.functions()[function].module)
    declared = {(route.method, route.resource) for route in TEMPLATE.routes() if route.function_id == function}
    served = set(module.api.routes) if hasattr(module, "api") else set()
    assert served == declared


def test_runtime_and_architecture_are_chosen_and_the_layer_matches():
    globals_ = TEMPLATE.globals_function()
    assert globals_["Runtime"] == "python3.13" and globals_["Architectures"] == ["arm64"]
    layer = TEMPLATE.resources["PatronLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("table", sorted(TEMPLATE.resources_of("AWS::DynamoDB::Table")))
def test_tables_are_on_demand_encrypted_recoverable_and_retained(table):
    resource = TEMPLATE.resources[table]
    properties = resource["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert resource["DeletionPolicy"] == "Retain"
    assert "TableName" not in properties  # names reach code through settings, never hard-coded


APIS = sorted(TEMPLATE.apis())


@pytest.mark.parametrize("api_name", APIS)
def test_every_route_is_behind_the_authorizer_and_a_usage_plan(api_name):
    _, api = TEMPLATE.api(api_name)
    assert api["Auth"]["DefaultAuthorizer"] == "ApiKeyAuthorizer"
    assert api["Auth"]["Authorizers"]["ApiKeyAuthorizer"]["FunctionArn"] == {
        "Fn::GetAtt": ["AuthorizerFunction", "Arn"]
    }
    assert api["Auth"]["ApiKeyRequired"] is True and api["ApiKeySourceType"] == "AUTHORIZER"
    # No identity source means no API Gateway cache: revocation is bounded by the authorizer's own cache.
    assert api["Auth"]["Authorizers"]["ApiKeyAuthorizer"]["Identity"]["ReauthorizeEvery"] == 0
    routes = [route for route in TEMPLATE.routes() if route.api == api_name]
    assert routes and all(route.authorized and route.api_key_required for route in routes)


def test_expertsenders_wire_is_an_api_of_its_own_answering_every_refusal_as_problem_details():
    """ECDP's clients read a failure only from ProblemDetails with `errors` (a list of strings): WooCommerce counts
    any other answer as a success and never sends again. API Gateway's own refusals (wrong key, throttling, unknown
    route) have one static body per API, so ECDP's routes, and only they, are on an API of their own."""
    on_it = {route.function_id for route in TEMPLATE.routes() if route.api == "ExpertSenderApi"}
    assert on_it == {"ExpertSenderFunction", "SessionsFunction"}
    assert {r.resource for r in TEMPLATE.routes() if r.function_id == "ExpertSenderFunction"} and all(
        r.api == "ExpertSenderApi" for r in TEMPLATE.routes() if r.function_id == "ExpertSenderFunction"
    )
    sessions = {
        r.resource for r in TEMPLATE.routes() if r.api == "ExpertSenderApi" and r.function_id == "SessionsFunction"
    }
    assert sessions == {"/scenariocustomevents"}
    main, ecdp = TEMPLATE.gateway_responses(), TEMPLATE.gateway_responses("ExpertSenderApi")
    assert set(ecdp) == set(main)  # every refusal the main API shapes, this one shapes too
    for kind, response in ecdp.items():
        assert response.status == main[kind].status, kind
        assert response.headers.get("Content-Type") == "application/problem+json", kind
        body = json.loads((response.body or "").replace("$context.error.messageString", '"message"'))
        assert {"type", "title", "substatus", "detail", "errors"} <= set(body), kind
        assert body["errors"] and all(isinstance(line, str) for line in body["errors"]), kind
        if response.status is not None:
            assert body["status"] == response.status, kind
    assert ecdp["THROTTLED"].headers.get("Retry-After") == "1"


def test_gateway_errors_are_json_with_stable_codes():
    responses = TEMPLATE.gateway_responses()
    expected = {
        "UNAUTHORIZED": 401,
        "ACCESS_DENIED": 403,
        "MISSING_AUTHENTICATION_TOKEN": 404,
        "THROTTLED": 429,
        "REQUEST_TOO_LARGE": 413,
    }
    for kind, status in expected.items():
        assert responses[kind].status == status
        assert '"code":' in (responses[kind].body or "")
    assert "Retry-After" in responses["THROTTLED"].headers


@pytest.mark.parametrize("api_name", APIS)
def test_no_gateway_response_that_can_quote_a_key_echoes_the_request(api_name):
    """API Gateway's messages for a bad signature quote the Authorization header (an API key here): those
    responses are static, and no response that names the request's headers uses the error's own message."""
    responses = TEMPLATE.gateway_responses(api_name)
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "INCOMPLETE_SIGNATURE", "INVALID_SIGNATURE", "UNAUTHORIZED"):
        assert kind in responses, kind
        assert "$context.error" not in (responses[kind].body or ""), kind


def test_public_routes_name_routes_that_exist():
    public = TEMPLATE.functions()["AuthorizerFunction"].environment["PUBLIC_ROUTES"]
    declared = {f"{route.method} {route.resource}" for route in TEMPLATE.routes()}
    assert {route.strip() for route in public.split(",") if route.strip()} <= declared


# The functions serving the management API (its own key scope).
MANAGEMENT_FUNCTIONS = {"CampaignsFunction", "ItemCatalogsFunction"}


def test_management_routes_are_exactly_the_management_functions_routes():
    """The authorizer keeps management keys on these routes and every other key off them: a route of the
    management API missing from the list would take integration keys, one listed elsewhere would refuse them."""
    listed = TEMPLATE.functions()["AuthorizerFunction"].environment["MANAGEMENT_ROUTES"]
    management = {
        f"{route.method} {route.resource}"
        for route in TEMPLATE.routes()
        if route.resource.startswith("/v1/management/")
    }
    assert {route.strip() for route in listed.split(",") if route.strip()} == management
    serving = {route.function_id for route in TEMPLATE.routes() if route.resource.startswith("/v1/management/")}
    assert serving <= MANAGEMENT_FUNCTIONS
    assert all(route.split(" ")[1].startswith("/v1/management/") for route in management)


def test_the_revocation_bound_is_at_most_five_minutes():
    parameter = TEMPLATE.parameters["KeyCacheTtlSeconds"]
    assert parameter["MaxValue"] <= 300 and parameter["Default"] <= parameter["MaxValue"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_shared_config_table_is_reached_only_through_key_prefixes(function):
    """Applications, API keys, the catalog and status mappings share the config table: a function that is
    not the key manager reaches it only under partition-key conditions (dynamodb:LeadingKeys)."""
    properties = own_properties(function)
    statements = [s for policy in properties.get("Policies", []) for s in policy.get("Statement", [])]
    for statement in statements:
        if referenced_ids(statement["Resource"]) == {"ConfigTable"}:
            leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
            assert leading, f"{function} reaches the whole config table"
            assert all(pattern.startswith(("KEY#", "APP#*#")) for pattern in leading)


def _events_of(function: str, kind: str) -> dict[str, Any]:
    events = own_properties(function).get("Events") or {}
    return {name: event["Properties"] for name, event in events.items() if event.get("Type") == kind}


EVENT_DRIVEN = [function for function in FUNCTIONS if _events_of(function, "EventBridgeRule")]


def test_uploads_start_processes_through_eventbridge():
    assert EVENT_DRIVEN == ["ImportUploadedFunction"]
    # S3 -> EventBridge, not S3 -> Lambda: a direct notification would make bucket and function depend on each other.
    notifications = TEMPLATE.resources["ImportBucket"]["Properties"]["NotificationConfiguration"]
    assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


@pytest.mark.parametrize("function", EVENT_DRIVEN)
def test_event_driven_functions_retry_then_dead_letter(function):
    properties = own_properties(function)
    # Asynchronous invocations (EventBridge's): a handler error is retried, then the event goes to an SQS DLQ.
    invoke = properties["EventInvokeConfig"]
    assert 1 <= invoke["MaximumRetryAttempts"] <= 2 and invoke["MaximumEventAgeInSeconds"] <= 21600
    on_failure = invoke["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    dlq = on_failure["Destination"]["Fn::GetAtt"][0]
    queue = TEMPLATE.resources[dlq]
    assert queue["Type"] == "AWS::SQS::Queue" and queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 1209600
    # Events EventBridge cannot deliver (throttling, permissions) retry for a bounded time, then the same DLQ.
    for name, event in _events_of(function, "EventBridgeRule").items():
        assert set(event["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}, name
        assert event["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}, name
        # EventBridge may send to the DLQ only for this rule (the rule is named so its ARN is known).
        policies = [
            r["Properties"]
            for r in TEMPLATE.resources_of("AWS::SQS::QueuePolicy").values()
            if r["Properties"]["Queues"] == [{"Ref": dlq}]
        ]
        assert len(policies) == 1
        (statement,) = policies[0]["PolicyDocument"]["Statement"]
        assert (
            statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
        )
        rule_name = event["RuleName"]["Fn::Sub"]
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(f":rule/{rule_name}")
    # A HeadObject, a GetItem, a conditional update and a StartExecution: well under the timeout.
    assert properties["Timeout"] <= 60


def _s3_resources(function: str, action: str) -> list[Any]:
    statements = [s for policy in own_properties(function)["Policies"] for s in policy["Statement"]]
    return [s["Resource"] for s in statements if action in s["Action"]]


def test_upload_urls_can_write_upload_objects_only():
    # A presigned URL carries the permissions of the role that signed it.
    assert _s3_resources("ImportUploadsFunction", "s3:PutObject") == [
        {"Fn::Sub": "${ImportBucket.Arn}/imports/*/upload.*"}
    ]
    assert _s3_resources("ImportUploadsFunction", "s3:GetObject") == []
    assert _s3_resources("ImportUploadedFunction", "s3:GetObject") == [
        {"Fn::Sub": "${ImportBucket.Arn}/imports/*/upload.*"}
    ]
    assert _s3_resources("ImportUploadedFunction", "s3:PutObject") == []
    # The inline route writes its body, not uploads.
    assert _s3_resources("ImportFunction", "s3:PutObject") == [{"Fn::Sub": "${ImportBucket.Arn}/imports/*/input.json"}]


def test_the_upload_limits_are_bounded():
    size = TEMPLATE.parameters["MaxImportUploadBytes"]
    assert size["Default"] == 200 * 1024 * 1024 and size["MaxValue"] == 5 * 1024**3  # S3's single-PUT maximum
    ttl = TEMPLATE.parameters["ImportUploadUrlTtlSeconds"]
    assert ttl["Default"] == 900 and ttl["MaxValue"] <= 3600


def test_the_templates_rule_matches_upload_keys_only():
    event = _events_of("ImportUploadedFunction", "EventBridgeRule")["Uploaded"]
    resources = PhysicalResources(parameters={}, refs={"ImportBucket": "imports"})
    pattern = resources.resolve(event["Pattern"])
    check_pattern(pattern, "Uploaded")  # what the local runtime's bus applies

    def created(key: str, bucket: str = "imports") -> dict:
        return {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}},
        }

    for input_format in InputFormat:
        assert matches(pattern, created(upload_key(12, 345, input_format)))
    assert not matches(pattern, created(upload_key(12, 345, InputFormat.JSON), bucket="elsewhere"))
    for key in ("imports/12/345/input.json", "imports/12/345/chunks/000001.json", "upload.json"):
        assert not matches(pattern, created(key))


def test_the_loyalty_expiry_job_runs_on_a_schedule_and_reaches_only_ledgers_their_indexes_and_the_outbox():
    properties = own_properties("LoyaltyExpiryFunction")
    [schedule] = _events_of("LoyaltyExpiryFunction", "ScheduleV2").values()
    assert schedule["ScheduleExpression"].startswith("rate(") and schedule["Input"] == '{"job": "loyalty-expiry"}'
    assert properties["EventInvokeConfig"]["MaximumRetryAttempts"] == 0  # the next run is the retry
    statements = [s for policy in properties["Policies"] for s in policy["Statement"]]
    reach: dict[str, set[str]] = {}
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            target = resource["Fn::Sub"] if "Fn::Sub" in resource else resource["Fn::GetAtt"][0]
            reach.setdefault(target, set()).update(statement["Action"])
    assert reach == {
        "${LedgersTable.Arn}/index/GSI1": {"dynamodb:Query"},
        "${LedgersTable.Arn}/index/GSI2": {"dynamodb:Query"},
        "LedgersTable": {"dynamodb:BatchGetItem", "dynamodb:PutItem"},  # no Scan anywhere
        "ConfigTable": {"dynamodb:GetItem"},  # the live ruleset's tiers (under APP#*#RULESET only)
        "OutboxTable": {"dynamodb:PutItem"},
    }
    ledgers = TEMPLATE.resources["LedgersTable"]["Properties"]
    assert [index["IndexName"] for index in ledgers["GlobalSecondaryIndexes"]] == ["GSI1", "GSI2"]
    assert all(index["Projection"] == {"ProjectionType": "KEYS_ONLY"} for index in ledgers["GlobalSecondaryIndexes"])
