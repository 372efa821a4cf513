"""Every file under events/ (what `sam local invoke -e` and `make invoke` take) replays through the local runtime
with its documented outcome, below; every function of the template has files, one of them an unhappy path.

The files hold the ids of application 1, process 1 and the local bucket's name; each scenario first rewrites them
to the test's own (a fresh tenant, a process it created), as a deployed stack's would differ too.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Tenant

EVENTS = Path(__file__).resolve().parents[2] / "events"
IMPORT_FILE = b'{"customers": [{"id": "from-upload", "email": "upload@example.com"}]}'


def load_event(function: str, name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / function / f"{name}.json").read_text())
    return event


@dataclass
class Replay:
    """One scenario's runtime and tenant, and what its files need around them."""

    runtime: Any
    tenant: Tenant

    def function_of(self, folder: str) -> str:
        [logical_id] = [i for i, f in self.runtime.registry.functions.items() if Path(f.code_uri).name == folder]
        return str(logical_id)

    def invoke(self, folder: str, event: Any) -> Any:
        return self.runtime.registry.invoke(self.function_of(folder), event)

    def api(self, event: dict[str, Any]) -> dict[str, Any]:
        event["requestContext"]["authorizer"]["applicationId"] = str(self.tenant.application_id)
        return event

    def replay(self, name: str) -> Any:
        """Another file first, as a scenario's prerequisite (an API event, for the tenant)."""
        folder, scenario = name.split("/")
        return self.invoke(folder, self.api(load_event(folder, scenario)))

    @property
    def bucket(self) -> str:
        return str(self.runtime.resources.refs["ImportBucket"])

    def process_awaiting_upload(self, with_file: bool = True) -> tuple[int, str]:
        """A process created by POST /v1/import/uploads and its upload key; with its file in the bucket, put
        straight into moto so that no Object Created event starts its workflow."""
        created = self.runtime.request(
            "POST",
            "/v1/import/uploads",
            headers={"api-key": self.tenant.key},
            body={"format": "json", "contentLength": len(IMPORT_FILE)},
        )
        assert created.status == 201, created.body
        process_id = int(created.json()["processId"])
        key = f"imports/{self.tenant.application_id}/{process_id}/upload.json"
        if with_file:
            self.runtime._moto_s3.put_object(Bucket=self.bucket, Key=key, Body=IMPORT_FILE)
        return process_id, key

    def process(self, process_id: int) -> dict[str, Any]:
        response = self.runtime.request("GET", f"/v1/processes/{process_id}", headers={"api-key": self.tenant.key})
        assert response.status == 200, response.body
        return dict(response.json())

    def task(self, event: dict[str, Any], process_id: int | None = None) -> dict[str, Any]:
        """A Step Functions task payload for the tenant's process (a new one awaiting nothing but its split)."""
        event["applicationId"] = self.tenant.application_id
        event["processId"] = process_id if process_id is not None else self.process_awaiting_upload()[0]
        return event

    def object_event(self, event: dict[str, Any], key: str) -> dict[str, Any]:
        event["resources"] = [f"arn:aws:s3:::{self.bucket}"]
        event["detail"]["bucket"]["name"] = self.bucket
        event["detail"]["object"]["key"] = key
        return event


def with_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    [record] = event["Records"]
    record["body"] = json.dumps(body)
    return event


Prepare = Callable[[Replay, dict[str, Any]], Any]
Expect = Callable[[Replay, Any, dict[str, Any]], None]


@dataclass(frozen=True)
class Scenario:
    expect: Expect  # called with the function's result, or the exception it raised
    prepare: Prepare = field(default=Replay.api)
    unhappy: bool = False


Then = Callable[[Replay, dict[str, Any]], bool]


def answers(status: int, code: str | None = None, then: Then | None = None) -> Expect:
    """An API Gateway proxy answer with this status (and error code); `then` holds for its body."""

    def expect(replay: Replay, result: Any, event: dict[str, Any]) -> None:
        assert not isinstance(result, Exception), result
        assert result["statusCode"] == status, result
        body: Any = json.loads(result["body"]) if result.get("body") else None
        if code is not None:
            assert body["code"] == code, body
        if then is not None:
            assert then(replay, body), body

    return expect


def raises(error: str, message: str | None = None) -> Expect:
    def expect(replay: Replay, result: Any, event: dict[str, Any]) -> None:
        assert isinstance(result, Exception) and type(result).__name__ == error, result
        assert message is None or str(result) == message

    return expect


def returns(value: Any, then: Then | None = None) -> Expect:
    """This result; `then` holds afterwards (called with the event)."""

    def expect(replay: Replay, result: Any, event: dict[str, Any]) -> None:
        assert result == value
        if then is not None:
            assert then(replay, event)

    return expect


def reports_the_record_failed(replay: Replay, result: Any, event: dict[str, Any]) -> None:
    """SQS partial batch response: the record comes back (and, at its maxReceiveCount, moves to the DLQ)."""
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


NO_FAILURES: dict[str, list[Any]] = {"batchItemFailures": []}


# -- what each file needs first --------------------------------------------------------------------------------


def as_is(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    return event


def with_tenant_key(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    event["headers"] = {"Authorization": f"ApiKey-v1 {replay.tenant.key}"}
    event["multiValueHeaders"] = {"Authorization": [f"ApiKey-v1 {replay.tenant.key}"]}
    return event


def after(*names: str) -> Prepare:
    def prepare(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
        for name in names:
            replay.replay(name)
        return replay.api(event)

    return prepare


def for_a_process(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    process_id = str(replay.process_awaiting_upload()[0])
    event["pathParameters"]["processId"] = process_id
    event["path"] = f"/v1/processes/{process_id}"
    event["requestContext"]["path"] = f"/live/v1/processes/{process_id}"
    return replay.api(event)


def task_of_a_new_process(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    return replay.task(event)


def task_of_an_unknown_process(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    return replay.task(event, process_id=999_999_999)


def upload_of_an_unknown_process(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    return replay.object_event(event, f"imports/{replay.tenant.application_id}/999999999/upload.csv")


def upload_of_a_process(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    return replay.object_event(event, replay.process_awaiting_upload()[1])


def a_chunk_in_the_bucket(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    """The chunk the split would have stored (one new customer), for a process of the tenant."""
    process_id, _ = replay.process_awaiting_upload(with_file=False)
    application_id = replay.tenant.application_id
    key = f"imports/{application_id}/{process_id}/chunks/000000.json"
    customer = {"id": f"chunk-{uuid.uuid4().hex[:8]}", "email": "chunk@example.com"}
    chunk = {"indices": [0], "problems": [], "customers": [customer]}
    replay.runtime._moto_s3.put_object(Bucket=replay.bucket, Key=key, Body=json.dumps(chunk).encode())
    message = {"applicationId": application_id, "processId": process_id, "chunk": 0, "key": key}
    return with_body(event, message)


def a_deleted_audience_with_members(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    """A job of the tenant's deleted audience of three members, as DELETE /v2/audiences/{id} sends it."""
    headers = replay.tenant.headers
    audience = replay.runtime.request("POST", "/v2/audiences", headers=headers, body={"name": "gone"}).json()["id"]
    members = [f"m-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    data = [{"action": "add", "profileIntegrationId": m, "audienceId": audience} for m in members]
    assert replay.runtime.request("POST", "/v2/customer_audiences", headers=headers, body={"data": data}).status == 204
    assert replay.runtime.request("DELETE", f"/v2/audiences/{audience}", headers=headers).status == 204
    assert replay.runtime.wait_idle(30)  # its own job ran: this file's is a second delivery, which must change nothing
    message = {"kind": "remove", "applicationId": replay.tenant.application_id, "audienceId": audience, "below": None}
    return with_body(event, message)


def the_audience_is_gone(replay: Replay, event: dict[str, Any]) -> bool:
    audience = json.loads(event["Records"][0]["body"])["audienceId"]
    renamed = replay.runtime.request(
        "PUT", f"/v2/audiences/{audience}", headers=replay.tenant.headers, body={"name": "back"}
    )
    return bool(renamed.status == 404)


def dead_chunk_of_a_process(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    """The message of a chunk of the tenant's process that kept failing, as SQS moved it to the DLQ."""
    message = replay.task(json.loads(event["Records"][0]["body"]))
    message["key"] = f"imports/{message['applicationId']}/{message['processId']}/chunks/000000.json"
    return with_body(event, message)


def dead_letter_of_an_upload(replay: Replay, event: dict[str, Any]) -> dict[str, Any]:
    """The dead-lettered Object Created event of the tenant's waiting upload (as the body, or inside Lambda's
    destination record)."""
    [record] = event["Records"]
    body = json.loads(record["body"])
    uploaded = body.get("requestPayload", body)
    replay.object_event(uploaded, replay.process_awaiting_upload()[1])
    return with_body(event, body)


# -- what each file does afterwards ----------------------------------------------------------------------------


def the_chunks_customer_is_written(replay: Replay, event: dict[str, Any]) -> bool:
    key = json.loads(event["Records"][0]["body"])["key"]
    [customer] = json.loads(replay.runtime._moto_s3.get_object(Bucket=replay.bucket, Key=key)["Body"].read())[
        "customers"
    ]
    read = replay.runtime.request("GET", f"/v1/customers/{customer['id']}", headers=replay.tenant.headers)
    return bool(read.status == 200 and read.json()["email"] == customer["email"])


def the_upload_failed(replay: Replay, event: dict[str, Any]) -> bool:
    body = json.loads(event["Records"][0]["body"])
    key = body.get("requestPayload", body)["detail"]["object"]["key"]
    process = replay.process(int(key.split("/")[2]))
    return bool(process["status"] == "failed" and process["failure"].startswith("upload_not_started"))


def the_process_finishes_failed(replay: Replay, event: dict[str, Any]) -> bool:
    """A dead chunk counts as done and failed: the workflow's Finish then fails the process."""
    message = json.loads(event["Records"][0]["body"])
    finish = {"step": "finish", "applicationId": message["applicationId"], "processId": message["processId"]}
    return bool(replay.invoke("import_steps", finish) == {"status": "failed"})


def the_process_failed_with_the_task_error(replay: Replay, event: dict[str, Any]) -> bool:
    process = replay.process(event["processId"])
    return bool(process["status"] == "failed" and process["failure"] == "NotFoundError")


def the_import_completes(replay: Replay, body: dict[str, Any]) -> bool:
    """The answer, then the import itself: its workflow runs in the background until the process completes."""
    deadline = time.monotonic() + 60
    while (process := replay.process(body["processId"]))["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, process
        time.sleep(0.5)
    return bool(process["status"] == "completed" and process["data"]["processedOrders"] == 1)


def allows_the_tenant(replay: Replay, result: Any, event: dict[str, Any]) -> None:
    assert not isinstance(result, Exception), result
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["context"]["applicationId"] == str(replay.tenant.application_id)
    assert replay.tenant.key not in json.dumps(result)


def runs_to_the_end(replay: Replay, result: Any, event: dict[str, Any]) -> None:
    assert not isinstance(result, Exception), result
    assert result["finished"] is True and result["examined"] >= result["written"] >= 0


def listed(*names: str) -> Then:
    return lambda replay, body: [item["name"] for item in body["data"]] == list(names)


SCENARIOS: dict[str, Scenario] = {
    # The file's key is unknown; with the tenant's key, the same request is allowed.
    "authorizer/request": Scenario(allows_the_tenant, prepare=with_tenant_key),
    "authorizer/request_without_key": Scenario(raises("Exception", "Unauthorized"), prepare=as_is, unhappy=True),
    "catalog/list_customer_attributes": Scenario(answers(200, then=listed())),
    "catalog/list_unknown_entity": Scenario(answers(400, "invalid_request"), unhappy=True),
    "customer_profiles/update_profile": Scenario(
        answers(200, then=lambda r, body: body["customerProfile"]["attributes"] == {"tier": "gold", "visits": 3})
    ),
    "customer_profiles/update_profile_malformed_json": Scenario(answers(400, "malformed_json"), unhappy=True),
    "customer_profiles/get_inventory": Scenario(
        answers(200, then=lambda r, body: body["profile"]["integrationId"] == "customer-42"),
        prepare=after("customer_profiles/update_profile"),
    ),
    "customer_profiles/export_customer_data": Scenario(
        answers(200, then=lambda r, body: body["profile"]["integrationId"] == "customer-42"),
        prepare=after("customer_profiles/update_profile"),
    ),
    "customer_profiles/update_profiles_bulk": Scenario(
        answers(200, then=lambda r, body: len(body["integrationStates"]) == 2)
    ),
    "customer_profiles/delete_customer_data": Scenario(
        answers(204), prepare=after("customer_profiles/update_profiles_bulk")
    ),
    "sessions/update_session": Scenario(
        answers(200, then=lambda r, body: body["customerSession"]["cartItemTotal"] == 120)
    ),
    "sessions/update_session_invalid": Scenario(
        answers(400, then=lambda r, body: {e["path"] for e in body["errors"]} >= {"customerSession.state"}),
        unhappy=True,
    ),
    "sessions/get_session": Scenario(
        answers(200, then=lambda r, body: body["customerSession"]["state"] == "open"),
        prepare=after("sessions/update_session"),
    ),
    "sessions/track_event": Scenario(
        answers(
            200,
            then=lambda r, body: (
                body["customerProfile"]["integrationId"] == "customer-42" and body["triggeredCampaigns"] == []
            ),
        )
    ),
    # Only a closed session reopens: an open one is an invalid transition.
    "sessions/reopen_open_session": Scenario(answers(400), prepare=after("sessions/update_session"), unhappy=True),
    # The tenant's live ruleset defines no loyalty program (tests/integration/test_loyalty_history.py has them).
    "sessions/get_loyalty_transactions": Scenario(answers(404, "loyalty_program_not_found"), unhappy=True),
    # Likewise no card-based program (tests/integration/test_loyalty_cards.py has them).
    "sessions/link_loyalty_card": Scenario(answers(404, "loyalty_program_not_found"), unhappy=True),
    "item_catalogs/create_catalog": Scenario(
        answers(201, then=lambda r, body: (body["id"], body["version"]) == (1, 1))
    ),
    "item_catalogs/sync_catalog": Scenario(
        answers(200, then=lambda r, body: body["version"] == 2), prepare=after("item_catalogs/create_catalog")
    ),
    # Talon.One: a SKU named twice in one sync is refused, whatever the actions.
    "item_catalogs/sync_catalog_duplicate_sku": Scenario(
        answers(400, "invalid_request"), prepare=after("item_catalogs/create_catalog"), unhappy=True
    ),
    "campaigns/publish_ruleset": Scenario(answers(201, then=lambda r, body: body["version"]["version"] == 1)),
    "campaigns/publish_ruleset_invalid": Scenario(
        answers(400, "invalid_ruleset", then=lambda r, body: len(body["errors"]) == 2), unhappy=True
    ),
    # The session's cart (120 and 4.90 shipping) gets 10% live (12.49); the candidate's 20% would give 24.98.
    "campaigns/simulate_ruleset": Scenario(
        answers(
            200,
            then=lambda r, body: (
                (body["basedOn"], body["evaluated"], body["campaigns"][0]["change"]) == (1, 1, "changed")
                and (body["discountBefore"], body["discountAfter"]) == (12.49, 24.98)
            ),
        ),
        prepare=after("campaigns/publish_ruleset", "sessions/update_session"),
    ),
    "campaigns/get_live_ruleset": Scenario(
        answers(200, then=lambda r, body: body["live"] and len(body["definitions"]["campaigns"]) == 1),
        prepare=after("campaigns/publish_ruleset"),
    ),
    "campaigns/list_ruleset_versions": Scenario(
        answers(200, then=lambda r, body: [v["version"] for v in body["versions"]] == [1]),
        prepare=after("campaigns/publish_ruleset"),
    ),
    "customers/update_customer": Scenario(answers(200)),
    "customers/find_customer_by_email": Scenario(
        answers(200, then=lambda r, body: body["crmId"] == "CRM-42"), prepare=after("customers/update_customer")
    ),
    "customers/update_customer_invalid_phone": Scenario(answers(400), unhappy=True),
    "expertsender/post_orders": Scenario(answers(201, then=lambda r, body: body == {"status": 0, "data": None})),
    "expertsender/post_orders_not_a_number": Scenario(
        answers(400, then=lambda r, body: body["errors"] == ["data[0].totalValue: Expected a number."]), unhappy=True
    ),
    "orders/upsert_order": Scenario(answers(200, then=lambda r, body: body["customerId"] == "customer-42")),
    "orders/upsert_order_missing_amount": Scenario(answers(400), unhappy=True),
    "rfmcube/merge_order": Scenario(answers(200)),
    "rfmcube/delete_customer_unknown": Scenario(answers(404), unhappy=True),
    "imports/start_import": Scenario(answers(202, then=the_import_completes)),
    "imports/get_process": Scenario(
        answers(200, then=lambda r, body: (body["status"], body["statusDetail"]) == ("pending", "awaiting_upload")),
        prepare=for_a_process,
    ),
    "imports/get_process_unknown": Scenario(answers(404, "process_not_found"), unhappy=True),
    "import_uploads/create_upload": Scenario(
        answers(
            201,
            then=lambda r, body: (
                body["headers"]["Content-Length"] == "52428800" and body["statusDetail"] == "awaiting_upload"
            ),
        )
    ),
    "import_uploads/create_upload_invalid": Scenario(
        answers(400, then=lambda r, body: {e["path"] for e in body["errors"]} == {"format", "contentLength"}),
        unhappy=True,
    ),
    # The bucket's Object Created event through its EventBridge rule: the waiting process starts.
    "import_uploaded/object_created": Scenario(returns({"outcome": "started"}), prepare=upload_of_a_process),
    "import_uploaded/object_created_unknown_process": Scenario(
        returns({"outcome": "ignored"}), prepare=upload_of_an_unknown_process, unhappy=True
    ),
    # The workflow's tasks (statemachines/import.asl.json passes these payloads).
    "import_steps/split": Scenario(returns({"chunks": 1}), prepare=task_of_a_new_process),
    "import_steps/check": Scenario(returns({"done": True}), prepare=task_of_a_new_process),  # no chunk pending
    "import_steps/finish": Scenario(returns({"status": "completed"}), prepare=task_of_a_new_process),
    "import_steps/fail": Scenario(
        returns({"status": "failed"}, then=the_process_failed_with_the_task_error), prepare=task_of_a_new_process
    ),
    # Raised to Step Functions, whose Catch sends the execution to MarkFailed.
    "import_steps/check_unknown_process": Scenario(
        raises("NotFoundError"), prepare=task_of_an_unknown_process, unhappy=True
    ),
    "import_worker/chunk": Scenario(
        returns(NO_FAILURES, then=the_chunks_customer_is_written), prepare=a_chunk_in_the_bucket
    ),
    "import_worker/chunk_malformed_body": Scenario(reports_the_record_failed, prepare=as_is, unhappy=True),
    "import_dead_letters/dead_chunk": Scenario(
        returns(NO_FAILURES, then=the_process_finishes_failed), prepare=dead_chunk_of_a_process
    ),
    "import_dead_letters/dead_chunk_without_process_id": Scenario(
        reports_the_record_failed, prepare=as_is, unhappy=True
    ),
    "import_upload_dead_letters/undelivered_event": Scenario(
        returns(NO_FAILURES, then=the_upload_failed), prepare=dead_letter_of_an_upload
    ),
    "import_upload_dead_letters/failed_invocation": Scenario(
        returns(NO_FAILURES, then=the_upload_failed), prepare=dead_letter_of_an_upload
    ),
    "import_upload_dead_letters/not_an_upload_event": Scenario(reports_the_record_failed, prepare=as_is, unhappy=True),
    # The schedule's Input: a run over whatever ledgers are due now (those of other tests too), to the end.
    "loyalty_expiry/scheduled_run": Scenario(runs_to_the_end, prepare=as_is),
    "audiences/create_audience": Scenario(answers(201, then=lambda r, body: body["name"] == "VIP customers")),
    "audiences/create_audience_invalid": Scenario(
        answers(400, then=lambda r, body: {e["path"] for e in body["errors"]} >= {"name"}), unhappy=True
    ),
    "audience_worker/remove_members": Scenario(
        returns(NO_FAILURES, then=the_audience_is_gone), prepare=a_deleted_audience_with_members
    ),
    "audience_worker/unknown_job_kind": Scenario(reports_the_record_failed, prepare=as_is, unhappy=True),
    "loyalty_expiry/unknown_job": Scenario(
        raises("ValueError", "this function runs the 'loyalty-expiry' job only"), prepare=as_is, unhappy=True
    ),
}


def event_files() -> set[str]:
    return {f"{path.parent.name}/{path.stem}" for path in EVENTS.glob("*/*.json")}


def test_every_event_file_has_a_documented_outcome() -> None:
    assert event_files() == set(SCENARIOS)


def test_every_function_of_the_template_has_event_files_one_of_them_unhappy(runtime) -> None:
    folders = {Path(function.code_uri).name: logical_id for logical_id, function in runtime.registry.functions.items()}
    assert sorted(path.name for path in EVENTS.iterdir() if path.is_dir()) == sorted(folders)
    for folder, logical_id in folders.items():
        names = [f"{folder}/{path.stem}" for path in (EVENTS / folder).glob("*.json")]
        assert names, f"{logical_id} has no event file under events/{folder}/"
        unhappy = [name for name in names if name in SCENARIOS and SCENARIOS[name].unhappy]
        assert unhappy, f"{logical_id} has no unhappy-path event file"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_event_file_gives_its_documented_outcome(runtime, tenant, name) -> None:
    folder, scenario_name = name.split("/")
    scenario, replay = SCENARIOS[name], Replay(runtime, tenant)
    event = scenario.prepare(replay, load_event(folder, scenario_name))
    try:
        result: Any = replay.invoke(folder, event)
    except Exception as error:
        result = error
    scenario.expect(replay, result, event)
    assert runtime.wait_idle(30)  # what the invocation set going (chunks, workflows) ends within the test
