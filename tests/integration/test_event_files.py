"""The files under events/ (what `sam local invoke -e` takes) replay through the real handlers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(function: str, name: str) -> dict:
    return json.loads((EVENTS / function / f"{name}.json").read_text())


def with_tenant(event: dict, tenant) -> dict:
    event["requestContext"]["authorizer"]["applicationId"] = str(tenant.application_id)
    return event


def test_every_function_has_an_unhappy_path_event():
    for folder in EVENTS.iterdir():
        names = [path.stem for path in folder.glob("*.json")]
        assert any(word in name for name in names for word in ("malformed", "without", "invalid", "unknown", "missing"))


def test_update_profile_event(runtime, tenant):
    response = runtime.registry.invoke(
        "CustomerProfilesFunction", with_tenant(load_event("customer_profiles", "update_profile"), tenant)
    )
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["customerProfile"]["attributes"] == {"tier": "gold", "visits": 3}
    read = runtime.registry.invoke(
        "CustomerProfilesFunction", with_tenant(load_event("customer_profiles", "get_inventory"), tenant)
    )
    assert json.loads(read["body"])["profile"]["integrationId"] == "customer-42"


def test_malformed_json_event(runtime, tenant):
    event = with_tenant(load_event("customer_profiles", "update_profile_malformed_json"), tenant)
    response = runtime.registry.invoke("CustomerProfilesFunction", event)
    assert response["statusCode"] == 400 and json.loads(response["body"])["code"] == "malformed_json"


def test_authorizer_events(runtime, tenant):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        runtime.registry.invoke("AuthorizerFunction", load_event("authorizer", "request_without_key"))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        runtime.registry.invoke("AuthorizerFunction", load_event("authorizer", "request"))  # unknown key
    event = load_event("authorizer", "request")
    event["headers"] = {"Authorization": f"ApiKey-v1 {tenant.key}"}
    event["multiValueHeaders"] = {"Authorization": [f"ApiKey-v1 {tenant.key}"]}
    result = runtime.registry.invoke("AuthorizerFunction", event)
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["context"]["applicationId"] == str(tenant.application_id)
    assert tenant.key not in json.dumps(result)


def test_bulk_update_and_delete_customer_data_events(runtime, tenant):
    bulk = runtime.registry.invoke(
        "CustomerProfilesFunction", with_tenant(load_event("customer_profiles", "update_profiles_bulk"), tenant)
    )
    assert bulk["statusCode"] == 200
    assert len(json.loads(bulk["body"])["integrationStates"]) == 2
    deleted = runtime.registry.invoke(
        "CustomerProfilesFunction", with_tenant(load_event("customer_profiles", "delete_customer_data"), tenant)
    )
    assert deleted["statusCode"] == 204


def test_customer_order_and_rfmcube_events(runtime, tenant):
    def invoke(function: str, folder: str, name: str) -> dict:
        return runtime.registry.invoke(function, with_tenant(load_event(folder, name), tenant))

    assert invoke("CustomersFunction", "customers", "update_customer")["statusCode"] == 200
    found = invoke("CustomersFunction", "customers", "find_customer_by_email")
    assert json.loads(found["body"])["crmId"] == "CRM-42"
    invalid = invoke("CustomersFunction", "customers", "update_customer_invalid_phone")
    assert invalid["statusCode"] == 400
    order = invoke("OrdersFunction", "orders", "upsert_order")
    assert json.loads(order["body"])["customerId"] == "customer-42"
    assert invoke("OrdersFunction", "orders", "upsert_order_missing_amount")["statusCode"] == 400
    assert invoke("RfmcubeFunction", "rfmcube", "merge_order")["statusCode"] == 200
    assert invoke("RfmcubeFunction", "rfmcube", "delete_customer_unknown")["statusCode"] == 404


def test_import_upload_events(runtime, tenant):
    created = runtime.registry.invoke(
        "ImportUploadsFunction", with_tenant(load_event("import_uploads", "create_upload"), tenant)
    )
    assert created["statusCode"] == 201
    ticket = json.loads(created["body"])
    assert ticket["headers"]["Content-Length"] == "52428800" and ticket["statusDetail"] == "awaiting_upload"
    invalid = runtime.registry.invoke(
        "ImportUploadsFunction", with_tenant(load_event("import_uploads", "create_upload_invalid"), tenant)
    )
    assert invalid["statusCode"] == 400
    assert {e["path"] for e in json.loads(invalid["body"])["errors"]} == {"format", "contentLength"}


def test_import_uploaded_events(runtime, tenant):
    bucket = runtime.resources.refs["ImportBucket"]
    event = load_event("import_uploaded", "object_created_unknown_process")
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = f"imports/{tenant.application_id}/999999999/upload.csv"
    assert runtime.registry.invoke("ImportUploadedFunction", event) == {"outcome": "ignored"}
    # The documented event, for a process whose file is in the bucket (the event's size is S3's report; the
    # consumer asks S3 itself).
    data = b'{"customers": []}'
    created = runtime.request(
        "POST",
        "/v1/import/uploads",
        headers={"api-key": tenant.key},
        body={"format": "json", "contentLength": len(data)},
    ).json()
    event = load_event("import_uploaded", "object_created")
    key = f"imports/{tenant.application_id}/{created['processId']}/upload.json"
    runtime._moto_s3.put_object(Bucket=bucket, Key=key, Body=data)  # straight into moto: no event of its own
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = key
    assert runtime.registry.invoke("ImportUploadedFunction", event) == {"outcome": "started"}
