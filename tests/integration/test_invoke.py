"""`make invoke FN= EVENT=` (python -m patron_local.invoke): one function on one event file in the local runtime,
its result on stdout, a non-zero exit when it raised."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from patron_local.invoke import EXIT_RAISED, function_id, invoke

ROOT = Path(__file__).resolve().parents[2]


def test_the_module_prints_the_functions_answer_to_an_event_file(dynamodb_endpoint) -> None:
    # As `make invoke` runs it, but on the suite's DynamoDB Local (starting another takes seconds) and without the
    # endpoints the suite's own runtime put in this process's environment.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_ENDPOINT_URL") and name != "MOTO_PORT"
    }
    command = [sys.executable, "-m", "patron_local.invoke", "orders", "events/orders/upsert_order_missing_amount.json"]

    run = subprocess.run(
        [*command, "--dynamodb-endpoint", dynamodb_endpoint],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)  # stdout is the answer alone: logs go to stderr
    assert answer["statusCode"] == 400
    assert [error["path"] for error in json.loads(answer["body"])["errors"]] == ["amount"]


def test_an_invocation_that_raises_prints_lambdas_error_and_fails(runtime) -> None:
    event = json.loads((ROOT / "events" / "authorizer" / "request_without_key.json").read_text())
    out = io.StringIO()

    status = invoke(runtime, "AuthorizerFunction", event, out)

    assert status == EXIT_RAISED
    error = json.loads(out.getvalue())
    assert (error["errorType"], error["errorMessage"]) == ("Exception", "Unauthorized")
    assert error["stackTrace"]


def test_a_function_is_named_by_its_logical_id_or_its_folder(runtime) -> None:
    functions = runtime.registry.functions

    assert function_id(functions, "OrdersFunction") == "OrdersFunction"
    assert function_id(functions, "import_worker") == "ImportWorkerFunction"
    with pytest.raises(LookupError, match="import_steps"):
        function_id(functions, "order")
