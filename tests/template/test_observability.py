"""Every function of the template goes through patron.observability, with the stack its trigger calls for."""

from __future__ import annotations

import importlib

import pytest

from patron_local.runtime import DEFAULT_TEMPLATE
from patron_local.template import Template

TEMPLATE = Template.load(DEFAULT_TEMPLATE)
FUNCTIONS = sorted(TEMPLATE.resources_of("AWS::Serverless::Function"))


def expected_stack(logical_id: str) -> str:
    events = TEMPLATE.function_properties(logical_id).get("Events") or {}
    kinds = {event.get("Type") for event in events.values()}
    if "SQS" in kinds:
        return "sqs"
    return "api" if "Api" in kinds else "event"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_handler_goes_through_the_observability_stack_of_its_trigger(function):
    handler = importlib.import_module(TEMPLATE.functions()[function].module).lambda_handler
    assert getattr(handler, "observability", None) == expected_stack(function)


def test_powertools_names_the_stack_and_the_metrics_namespace():
    variables = TEMPLATE.globals_function()["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}
    assert variables["POWERTOOLS_METRICS_NAMESPACE"]
