"""Each function's composition root against its own environment in template.yaml: it builds from exactly what the
template gives the function (every variable it reads is there), and it reads every resource it is given (a table,
bucket, queue or state machine nobody reads would be reach the function holds for nothing)."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from patron.errors import PatronError
from patron.settings import Api, Audiences, Auth, ConfigurationError, Imports, Loyalty, Settings, Tables
from patron.wiring import CompositionRoot
from patron_local.runtime import DEFAULT_TEMPLATE
from patron_local.template import ACCOUNT, REGION, PhysicalResources, Template

TEMPLATE = Template.load(DEFAULT_TEMPLATE)
FUNCTIONS = sorted(TEMPLATE.resources_of("AWS::Serverless::Function"))
GROUPS: list[type[Settings]] = [Tables, Api, Imports, Auth, Loyalty, Audiences]

# A resource's physical name as AWS would give it (the roots validate them: a bucket name's length, an ARN's).
_PHYSICAL = {
    "AWS::DynamoDB::Table": lambda logical_id: f"patron-{logical_id}-1A2B3C4D5E6F",
    "AWS::S3::Bucket": lambda logical_id: f"patron-{logical_id.lower()}-1a2b3c4d5e6f",
    "AWS::SQS::Queue": lambda logical_id: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/patron-{logical_id}",
    "AWS::Serverless::StateMachine": lambda logical_id: f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}",
}
RESOURCES = {
    logical_id: kind
    for logical_id, resource in TEMPLATE.resources.items()
    if (kind := str(resource.get("Type"))) in _PHYSICAL
}


def resources() -> PhysicalResources:
    physical = PhysicalResources(parameters=TEMPLATE.parameter_defaults())
    for logical_id, kind in RESOURCES.items():
        physical.refs[logical_id] = _PHYSICAL[kind](logical_id)
    return physical


def environment(function: str) -> dict[str, str]:
    """The function's variables as Lambda would see them: parameters at their defaults, resources named."""
    physical = resources()
    return {name: str(physical.resolve(value)) for name, value in TEMPLATE.functions()[function].environment.items()}


def resource_variables(function: str) -> list[str]:
    """The variables naming one of the template's tables, buckets, queues or state machines."""
    variables = TEMPLATE.functions()[function].environment
    return sorted(
        name for name, value in variables.items() if isinstance(value, dict) and value.get("Ref") in RESOURCES
    )


def root_of(function: str) -> CompositionRoot[Any]:
    module = importlib.import_module(TEMPLATE.functions()[function].module)
    roots = [value for value in vars(module).values() if isinstance(value, CompositionRoot)]
    assert len(roots) == 1, f"{function} has {len(roots)} composition roots"
    return roots[0]


@pytest.fixture(autouse=True)
def _aws_region(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Building a root builds its clients (no call is made): they need a region and credentials to be built. A
    local runtime of the same session may have set them already: they are left as they are."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "template-test",
        "AWS_SECRET_ACCESS_KEY": "template-test",
    }.items():
        if name not in os.environ:
            monkeypatch.setenv(name, value)
    yield


def test_every_variable_is_declared_once_in_one_group():
    declared = [name for group in GROUPS for name in group.variable_names()]
    assert len(declared) == len(set(declared))


def test_every_variable_a_function_is_given_is_one_a_group_declares():
    declared = set().union(*(group.variable_names() for group in GROUPS))
    ambient = set(TEMPLATE.globals_function()["Environment"]["Variables"])  # logging and metrics, every function
    for function in FUNCTIONS:
        unknown = set(TEMPLATE.functions()[function].environment) - declared - ambient
        assert not unknown, f"{function} is given {unknown}, which no settings group reads"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_root_builds_from_the_functions_own_environment(function):
    """Every variable the root reads is in the function's environment, with a value its group accepts."""
    root_of(function).build(environment(function))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_root_reads_every_resource_the_function_is_given(function):
    """Least privilege, from the code's side: take away any table, bucket, queue or state machine the template
    gives the function and its root no longer builds. (IAM's side: test_template's reach test.)"""
    root, full = root_of(function), environment(function)
    assert resource_variables(function), f"{function} is given no resource"
    for name in resource_variables(function):
        without = {key: value for key, value in full.items() if key != name}
        with pytest.raises(ConfigurationError) as raised:
            root.build(without)
        assert name in raised.value.problem


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_invalid_value_is_a_configuration_error_naming_it(function):
    name = resource_variables(function)[0]
    with pytest.raises(ConfigurationError) as raised:
        root_of(function).build({**environment(function), name: "x"})
    assert name in raised.value.problem


def test_a_configuration_error_is_a_typed_500_that_names_nothing_of_the_deployment():
    error = ConfigurationError("PROFILES_TABLE_NAME is not set")
    assert isinstance(error, PatronError) and error.status == 500
    assert error.body() == {"code": "configuration_error", "message": "The service is not configured correctly."}
    assert "PROFILES_TABLE_NAME" in str(error)  # what Lambda reports and the root logs


@pytest.fixture
def catalog_function(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The catalog function's module, its root to be built again from this test's environment and after it."""
    module = importlib.import_module(TEMPLATE.functions()["CatalogFunction"].module)
    module.services.forget()
    yield module
    monkeypatch.undo()
    module.services.forget()


def test_a_function_missing_a_variable_answers_a_typed_500_and_logs_which(catalog_function, monkeypatch):
    for name, value in environment("CatalogFunction").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAX_BODY_BYTES")
    lines: list[str] = []
    monkeypatch.setattr("patron.logs._sink", lines.append)  # restored after: a runtime may own the sink
    event = {
        "httpMethod": "GET",
        "resource": "/v1/attributes/{entity}",
        "path": "/v1/attributes/customer",
        "pathParameters": {"entity": "customer"},
        "requestContext": {"requestId": "r1", "authorizer": {"applicationId": "1"}},
    }
    response = catalog_function.lambda_handler(event, None)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["code"] == "configuration_error"
    assert "MAX_BODY_BYTES" not in response["body"]
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert any("MAX_BODY_BYTES" in str(line.get("problem")) for line in logged)
    assert not any("frames" in line for line in logged)  # a known error, not an unhandled one
