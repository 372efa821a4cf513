"""The `patron` command line against the local runtime's tables and against a deployed stack (moto)."""

from __future__ import annotations

import json
import os
import time

import boto3
import pytest
from moto import mock_aws

from patron.applications.model import Application, RateLimit
from patron_cli.main import main
from patron_cli.usage_plans import ApiGatewayUsagePlans
from patron_local.state import LocalState
from tests.conftest import TEST_KEY_CACHE_TTL_SECONDS


@pytest.fixture
def local_state(runtime, tmp_path, monkeypatch):
    path = tmp_path / "local.json"
    LocalState("http://unused", runtime.dynamodb_endpoint, runtime.table_names["ConfigTable"], 0).save(path)
    monkeypatch.setenv("PATRON_LOCAL_STATE", str(path))
    return path


def run_json(capsys, *argv: str):
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_applications_and_keys_lifecycle_locally(runtime, local_state, capsys):
    application = run_json(capsys, "applications", "create", "cli-shop", "--rate", "1", "--burst", "60")
    assert application["rateLimit"] == 1 and application["burstLimit"] == 60
    assert application["id"] in [app["id"] for app in run_json(capsys, "applications", "list")]

    created = run_json(capsys, "keys", "create", str(application["id"]), "--label", "pos")
    secret = created["key"]
    assert secret.startswith("patron_") and created["scope"] == "integration"
    listed = run_json(capsys, "keys", "list", str(application["id"]))
    assert [key["keyId"] for key in listed] == [created["keyId"]]
    assert secret not in json.dumps(listed) and "keyHash" not in listed[0]

    headers = {"api-key": secret}
    reached = runtime.request("GET", "/v1/customer_profiles/x/inventory", headers=headers)
    assert reached.status == 404 and reached.json()["code"] == "profile_not_found"
    revoked = run_json(capsys, "keys", "revoke", created["keyId"])
    assert revoked["revoked"] is True
    time.sleep(TEST_KEY_CACHE_TTL_SECONDS + 0.2)
    assert runtime.request("GET", "/v1/customer_profiles/x/inventory", headers=headers).status == 401


def test_errors_are_reported_with_a_nonzero_exit(local_state, capsys):
    assert main(["keys", "create", "999999", "--json"]) == 1
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "application_not_found"
    assert main(["keys", "revoke", "nosuchkeyaaaaaaa"]) == 1
    assert "No such API key" in capsys.readouterr().err


def test_text_output_shows_the_key_once(local_state, capsys):
    assert main(["applications", "create", "text-shop"]) == 0
    app_id = capsys.readouterr().out.split()[2]
    assert main(["keys", "create", app_id]) == 0
    assert "shown once" in capsys.readouterr().out


@pytest.fixture
def aws_account():
    """moto in-process, without resetting its state on the way in or out: the session's local runtime keeps its
    own queues, buckets and state machines in the same process-wide moto backends."""
    mock = mock_aws()
    mock.start(reset=False)
    yield
    mock.stop(remove_data=False)


def test_a_deployed_stack_is_found_by_name_and_gets_usage_plans(aws_account, monkeypatch, capsys):
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name, raising=False)
    region = "eu-west-1"
    dynamodb = boto3.client("dynamodb", region_name=region)
    dynamodb.create_table(
        TableName="patron-config",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    apigateway = boto3.client("apigateway", region_name=region)
    api_id = apigateway.create_rest_api(name="patron")["id"]
    ecdp_id = apigateway.create_rest_api(name="patron-expertsender")["id"]
    stack_body = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "ConfigTableName": {"Value": "patron-config"},
            "RestApiId": {"Value": api_id},
            "ExpertSenderRestApiId": {"Value": ecdp_id},
            "StageName": {"Value": "live"},
        },
    }
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName="shop-prod", TemplateBody=json.dumps(stack_body)
    )

    application = run_json(
        capsys,
        "applications",
        "create",
        "eu-shop",
        "--rate",
        "2",
        "--burst",
        "20",
        "--stack",
        "shop-prod",
        "--region",
        region,
    )
    plans = apigateway.get_usage_plans()["items"]
    assert [(p["name"], p["throttle"]) for p in plans] == [
        (f"patron-{api_id}-app-{application['id']}", {"rateLimit": 2.0, "burstLimit": 20})
    ]
    # One plan for both of the stack's APIs: a key is throttled the same on ExpertSender's wire.
    assert plans[0]["apiStages"] == [{"apiId": api_id, "stage": "live"}, {"apiId": ecdp_id, "stage": "live"}]
    assert len(apigateway.get_usage_plan_keys(usagePlanId=plans[0]["id"])["items"]) == 1

    # Registering again (an interrupted earlier run) completes without duplicating anything.
    again = Application(application["id"], "eu-shop", "", RateLimit(2, 20), usage_key="x" * 30)
    ApiGatewayUsagePlans(apigateway, api_id, "live").register(again)
    assert len(apigateway.get_usage_plans()["items"]) == 1
    assert len(apigateway.get_api_keys()["items"]) == 1
    assert len(apigateway.get_usage_plan_keys(usagePlanId=plans[0]["id"])["items"]) == 1
    # A plan made before the stack had ExpertSender's API (registered with the main API only) gains it when the
    # operator syncs the plans after the deploy, as the README says.
    plan_id = plans[0]["id"]
    apigateway.update_usage_plan(
        usagePlanId=plan_id, patchOperations=[{"op": "remove", "path": "/apiStages", "value": f"{ecdp_id}:live"}]
    )
    assert len(apigateway.get_usage_plan(usagePlanId=plan_id)["apiStages"]) == 1
    synced = run_json(capsys, "applications", "sync-usage-plans", "--stack", "shop-prod", "--region", region)
    assert [app["id"] for app in synced] == [application["id"]]
    stages = apigateway.get_usage_plan(usagePlanId=plan_id)["apiStages"]
    assert {(stage["apiId"], stage["stage"]) for stage in stages} == {(api_id, "live"), (ecdp_id, "live")}
    assert len(apigateway.get_usage_plans()["items"]) == 1 and len(apigateway.get_api_keys()["items"]) == 1

    run_json(
        capsys,
        "applications",
        "set-rate-limit",
        str(application["id"]),
        "--rate",
        "5",
        "--burst",
        "50",
        "--stack",
        "shop-prod",
        "--region",
        region,
    )
    throttle = apigateway.get_usage_plan(usagePlanId=plans[0]["id"])["throttle"]
    assert (float(throttle["rateLimit"]), int(throttle["burstLimit"])) == (5.0, 50)

    assert main(["applications", "list", "--stack", "no-such-stack", "--region", region, "--json"]) == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "target_error"
