"""The local API Gateway's own decisions, without a network or a handler: what a function receives for a path, which
methods match, and the method ARN's quota. The template's functions are answered by a recording fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patron_local.apigateway import API_ID, METHOD_ARN_MAX_BYTES, ApiGateway, HttpRequest, HttpResponse, RateLimits
from patron_local.functions import FunctionRegistry
from patron_local.template import ACCOUNT, REGION, Template

PATRON = Template.load(Path(__file__).resolve().parents[2] / "template.yaml")
STAGE = "test"


class RecordingFunctions(FunctionRegistry):
    """The template's functions, answered here: the authorizer allows every call, every other function records
    the event it gets and answers 200."""

    def __init__(self, template: Template):
        super().__init__(template.functions())
        self.authorizer = template.authorizer_function()
        self.events: list[dict[str, Any]] = []
        self.authorized: list[str] = []

    def invoke(self, logical_id: str, event: Any) -> Any:
        if logical_id == self.authorizer:
            self.authorized.append(event["methodArn"])
            statement = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": event["methodArn"]}
            return {
                "principalId": "application-1",
                "usageIdentifierKey": "plan-key-1",
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            }
        self.events.append(event)
        return {"statusCode": 200, "body": "{}"}


def gateway(template: Template = PATRON) -> tuple[ApiGateway, RecordingFunctions]:
    functions = RecordingFunctions(template)
    return ApiGateway(template, functions, STAGE, limits=lambda key, context: RateLimits(1000, 1000)), functions


def send(template: Template, method: str, path: str) -> tuple[HttpResponse, RecordingFunctions]:
    api, functions = gateway(template)
    return api.handle(HttpRequest(method=method, path=path)), functions


def test_a_path_id_reaches_the_function_encoded_in_path_and_decoded_in_path_parameters():
    response, functions = send(PATRON, "PUT", "/v2/customer_profiles/caf%C3%A9%2Fx")
    assert response.status == 200
    (event,) = functions.events
    assert event["path"] == "/v2/customer_profiles/caf%C3%A9%2Fx"  # as REST APIs deliver it
    assert event["pathParameters"] == {"integrationId": "café/x"}


def test_ids_whose_escapes_are_not_utf8_reach_the_function_told_apart_by_their_raw_path():
    """The emulator decodes them to U+FFFD (as a Java decoder would; docs/local-runtime.md): only the raw `path`
    tells %FE%FE from %FF%FF, and that is where the resolver looks before refusing both with 400."""
    events = [send(PATRON, "PUT", f"/v2/customer_profiles/{escaped}")[1].events[0] for escaped in ("%FE%FE", "%FF%FF")]
    assert [event["path"] for event in events] == ["/v2/customer_profiles/%FE%FE", "/v2/customer_profiles/%FF%FF"]
    assert [event["pathParameters"] for event in events] == [{"integrationId": "\ufffd\ufffd"}] * 2


ANY_METHOD = Template(
    path=Path("any.yaml"),
    document={
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": STAGE}},
            "Things": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "things/",
                    "Handler": "app.handler",
                    "Events": {
                        "Any": {
                            "Type": "Api",
                            "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/things", "Method": "ANY"},
                        }
                    },
                },
            },
        }
    },
)


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FOO"])
def test_a_method_no_rest_api_has_matches_no_route_not_even_an_any_method(method):
    response, functions = send(ANY_METHOD, method, "/things")
    assert (response.status, response.json()) == (403, {"message": "Missing Authentication Token"})
    assert functions.events == []
    assert send(ANY_METHOD, "PATCH", "/things")[0].status == 200  # ANY covers the methods a REST API has


def arn_sized_path(total_bytes: int) -> str:
    """A path to GET /v1/customers/{integrationId} whose method ARN is `total_bytes` long."""
    prefix = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/GET/v1/customers/"
    return "/v1/customers/" + "c" * (total_bytes - len(prefix))


def test_an_authorized_methods_arn_over_its_quota_is_414_before_the_authorizer():
    response, functions = send(PATRON, "GET", arn_sized_path(METHOD_ARN_MAX_BYTES + 1))
    assert response.status == 414
    assert response.json() == {"code": "bad_request", "message": "Request URI too long"}  # the template's DEFAULT_4XX
    assert functions.authorized == [] and functions.events == []
    response, functions = send(PATRON, "GET", arn_sized_path(METHOD_ARN_MAX_BYTES))
    assert response.status == 200 and len(functions.events) == 1


def test_the_method_arn_quota_counts_the_path_decoded():
    # Every "c" sent as %63: three times over the quota as sent, exactly at it decoded.
    path = arn_sized_path(METHOD_ARN_MAX_BYTES)
    escaped = "/v1/customers/" + "%63" * (len(path) - len("/v1/customers/"))
    assert send(PATRON, "GET", escaped)[0].status == 200
