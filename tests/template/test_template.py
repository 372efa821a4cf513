"""The template's guarantees, read from template.yaml itself (we cannot deploy from here)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from patron_local.runtime import DEFAULT_TEMPLATE
from patron_local.template import Template

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
def test_every_setting_a_function_reads_is_given_by_the_template(function):
    module = importlib.import_module(TEMPLATE.functions()[function].module)
    # One settings class, or a tuple of them when a handler reads several (profiles + idempotency).
    classes = module.SETTINGS if isinstance(module.SETTINGS, tuple) else (module.SETTINGS,)
    wanted = set().union(*(settings.variable_names() for settings in classes))
    given = set(TEMPLATE.functions()[function].environment)
    assert wanted <= given, f"{function} misses {wanted - given}"


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


def test_every_route_is_behind_the_authorizer_and_a_usage_plan():
    _, api = TEMPLATE.api()
    assert api["Auth"]["DefaultAuthorizer"] == "ApiKeyAuthorizer"
    assert api["Auth"]["ApiKeyRequired"] is True and api["ApiKeySourceType"] == "AUTHORIZER"
    # No identity source means no API Gateway cache: revocation is bounded by the authorizer's own cache.
    assert api["Auth"]["Authorizers"]["ApiKeyAuthorizer"]["Identity"]["ReauthorizeEvery"] == 0
    routes = TEMPLATE.routes()
    assert routes and all(route.authorized and route.api_key_required for route in routes)


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


def test_public_routes_name_routes_that_exist():
    public = TEMPLATE.functions()["AuthorizerFunction"].environment["PUBLIC_ROUTES"]
    declared = {f"{route.method} {route.resource}" for route in TEMPLATE.routes()}
    assert {route.strip() for route in public.split(",") if route.strip()} <= declared


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
