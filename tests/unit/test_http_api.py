import json

from patron.errors import NotFoundError
from patron.http.api import Request, Response, RestApi

AUTH = {"authorizer": {"applicationId": "7", "scope": "integration", "keyId": "k"}}


def event(method="PUT", resource="/things/{id}", body=None, context=AUTH):
    return {
        "httpMethod": method,
        "resource": resource,
        "path": "/things/1",
        "pathParameters": {"id": "1"},
        "queryStringParameters": None,
        "headers": {"Content-Type": "application/json"},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "r1", **context},
    }


def make_api(limit=100):
    api = RestApi(max_body_bytes=lambda: limit)
    seen: list[Request] = []

    @api.route("PUT", "/things/{id}")
    def put_thing(request: Request) -> Response:
        seen.append(request)
        return Response.json({"id": request.path_params["id"], "body": request.json()})

    @api.route("GET", "/boom")
    def boom(request: Request) -> Response:
        raise RuntimeError("secret value mario@example.com")

    @api.route("GET", "/missing")
    def missing(request: Request) -> Response:
        raise NotFoundError("No such thing.", code="thing_not_found")

    return api, seen


def body_of(response):
    return json.loads(response["body"])


def test_routes_receive_the_tenant_from_the_authorizer_context():
    api, seen = make_api()
    response = api.resolve(event(body='{"n": 1.10}'))
    assert response["statusCode"] == 200
    assert body_of(response) == {"id": "1", "body": {"n": 1.1}}
    assert seen[0].caller.application_id == 7


def test_bodies_over_the_limit_are_refused_before_the_route_runs():
    api, seen = make_api(limit=10)
    response = api.resolve(event(body='{"n": "' + "x" * 20 + '"}'))
    assert response["statusCode"] == 413
    assert body_of(response)["code"] == "payload_too_large"
    assert seen == []


def test_malformed_json_and_non_finite_numbers_are_400():
    api, _ = make_api()
    for bad in ['{"n": ', '{"n": NaN}', '{"n": Infinity}', "\ud800"]:
        response = api.resolve(event(body=bad))
        assert response["statusCode"] == 400
        assert body_of(response)["code"] == "malformed_json"


def test_domain_errors_map_to_their_status_and_code():
    api, _ = make_api()
    response = api.resolve(event(method="GET", resource="/missing"))
    assert response["statusCode"] == 404
    assert body_of(response) == {"code": "thing_not_found", "message": "No such thing."}


def test_unexpected_errors_are_500_without_details():
    api, _ = make_api()
    response = api.resolve(event(method="GET", resource="/boom"))
    assert response["statusCode"] == 500
    assert "mario" not in response["body"] and "secret" not in response["body"]
    assert body_of(response)["code"] == "internal_error"


def test_a_request_without_authorizer_context_is_refused_not_guessed():
    api, seen = make_api()
    response = api.resolve(event(body="{}", context={}))
    assert response["statusCode"] == 401
    assert seen == []


def test_unexpected_errors_are_logged_without_their_text(capsys):
    api, _ = make_api()
    api.resolve(event(method="GET", resource="/boom"))
    logged = capsys.readouterr().out
    assert "RuntimeError" in logged
    assert "mario" not in logged


def test_a_repeated_query_parameter_gives_every_value_and_each_is_checked_for_text():
    api, seen = make_api()
    repeated = {
        **event(body="{}"),
        "queryStringParameters": {"id": "b"},
        "multiValueQueryStringParameters": {"id": ["a", "b"]},
    }
    assert api.resolve(repeated)["statusCode"] == 200
    assert seen[0].query_list("id") == ["a", "b"] and seen[0].query["id"] == "b"
    assert seen[0].query_list("absent") == []
    lone = "\ud800"  # a lone surrogate: not storable text
    hostile = {**repeated, "multiValueQueryStringParameters": {"id": [lone, "b"]}}
    response = api.resolve(hostile)
    assert response["statusCode"] == 400
    assert [error["path"] for error in body_of(response)["errors"]] == ["query.id"]
    assert len(seen) == 1
