"""`patron coupons ...` on the local runtime (create one or a batch with its progress bar, import, show, export) and
`make run`'s demo coupons, created once across restarts."""

from __future__ import annotations

import csv
import json

import pytest

from patron_cli.main import main
from patron_local.state import LocalState
from tests.integration.rulesets import publish
from tests.integration.test_coupons_api import _definitions


@pytest.fixture
def local_state(runtime, tmp_path, monkeypatch):
    path = tmp_path / "local.json"
    LocalState("http://unused", runtime.dynamodb_endpoint, runtime.table_names["ConfigTable"], 0).save(path)
    monkeypatch.setenv("PATRON_LOCAL_STATE", str(path))
    return path


@pytest.fixture
def app(runtime, tenant) -> str:
    publish(runtime, tenant.application_id, _definitions())
    return str(tenant.application_id)


def test_create_show_export_and_import(app, local_state, capsys, tmp_path):
    assert main(["coupons", "create", app, "9", "--code", "SUMMER25%OFF", "--usage-limit", "2"]) == 0
    assert "Created coupon SUMMER25%OFF" in capsys.readouterr().out
    assert main(["coupons", "show", app, "SUMMER25%OFF", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["usageLimit"] == 2 and shown["usesLeft"] == 2

    argv = ["coupons", "create", app, "9", "--count", "2500", "--pattern", "CLI-######", "--progress", "--json"]
    assert main([*argv, "--expiry", "2030-01-01T00:00:00Z", "--profile-limit", "1"]) == 0
    captured = capsys.readouterr()
    batch = json.loads(captured.out)
    assert batch["count"] == 2500 and batch["status"] == "created"
    assert "2,500/2,500 coupons" in captured.err  # the progress bar, on stderr

    out = tmp_path / "codes.csv"
    assert main(["coupons", "export", app, batch["batchId"], "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 2500 and len({row["value"] for row in rows}) == 2500
    assert all(row["value"].startswith("CLI-") and row["expiryDate"].startswith("2030") for row in rows)
    capsys.readouterr()
    assert main(["coupons", "export", app, batch["batchId"]]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2501

    source = tmp_path / "import.csv"
    source.write_text("value,limitval\nIMPORTED-1,1\nIMPORTED-2,2\n", encoding="utf-8")
    assert main(["coupons", "import", app, "9", str(source), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 2
    assert main(["coupons", "import", app, "9", str(source)]) == 1
    assert "exist already" in capsys.readouterr().err


def test_cli_refusals_exit_1(app, local_state, capsys):
    assert main(["coupons", "create", app, "1", "--count", "5"]) == 1
    assert "coupons feature" in capsys.readouterr().err
    assert main(["coupons", "create", app, "9", "--count", "5", "--pattern", "AB"]) == 1
    assert main(["coupons", "show", app, "NOPE-NOPE"]) == 1
    assert "No coupon" in capsys.readouterr().err


def test_make_run_creates_the_demo_coupons_once(runtime, tenant):
    from patron_local.__main__ import create_demo_coupons, publish_demo_campaigns

    publish_demo_campaigns(runtime, tenant.application_id)
    first = create_demo_coupons(runtime, tenant.application_id)
    assert first == [("WELCOME10", True), *((f"SINGLE-USE-{n}", True) for n in range(1, 6))]
    again = create_demo_coupons(runtime, tenant.application_id)
    assert all(not created for _, created in again)
