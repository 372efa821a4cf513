"""`patron campaigns ...`: validate offline, then plan, publish, history, show and rollback on the local runtime."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from patron.promotions.wiring import ruleset_service
from patron_cli.main import main
from patron_local.state import LocalState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"


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


def test_validate_accepts_the_examples(capsys):
    assert main(["campaigns", "validate", str(EXAMPLES)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_reports_every_fault_with_its_place_and_exits_1(tmp_path, capsys):
    folder = tmp_path / "campaigns"
    shutil.copytree(EXAMPLES, folder)
    (folder / "zz-broken.yaml").write_text(
        "campaigns:\n"
        "  - id: 900\n"
        "    name: Typo\n"
        "    rules:\n"
        "      - title: Misspelt\n"
        "        condition: session.cartItemTotl >= 100\n"
        "  - id: 901\n"
        "    name: Wrong group\n"
        "    evaluationGroup: nowhere\n"
        "    rules: [{title: Always}]\n"
    )
    assert main(["campaigns", "validate", str(folder)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "zz-broken.yaml, campaign 'Wrong group', campaigns[1].evaluationGroup"
    )
    (folder / "zz-broken.yaml").write_text((folder / "zz-broken.yaml").read_text().replace("nowhere", "default"))
    assert main(["campaigns", "validate", str(folder)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("zz-broken.yaml, campaign 'Typo', rule 0, campaigns[0].rules[0].condition, column ")
    assert ": [unknown_name] Unknown name" in line
    assert main(["campaigns", "publish", "1", str(folder)]) == 1  # refused before any target is asked


def test_plan_publish_history_show_and_rollback_locally(runtime, tenant, local_state, capsys, tmp_path):
    app = str(tenant.application_id)
    key = run_json(capsys, "keys", "create", app, "--scope", "management", "--label", "ci")
    assert key["scope"] == "management"
    ops = {"Authorization": f"ApiKey-v1 {key['key']}"}
    assert runtime.request("GET", "/v1/management/rulesets", headers=ops).status == 200
    plan = run_json(capsys, "campaigns", "plan", app, str(EXAMPLES))
    assert plan["basedOn"] is None and plan["added"] == len(plan["campaigns"]) > 0

    first = run_json(capsys, "campaigns", "publish", app, str(EXAMPLES), "--note", "examples")
    assert first["version"]["version"] == 1 and first["version"]["publishedBy"].startswith("cli:")
    assert run_json(capsys, "campaigns", "plan", app, str(EXAMPLES))["changed"] is False

    folder = tmp_path / "campaigns"
    shutil.copytree(EXAMPLES, folder)
    shipping = folder / "free-shipping.yaml"
    shipping.write_text(shipping.read_text().replace("priority: 2", "priority: 7"))
    assert main(["campaigns", "publish", app, str(folder)]) == 0
    out = capsys.readouterr().out
    assert "changed (priority)" in out and "Published version 2" in out

    history = run_json(capsys, "campaigns", "history", app)
    assert [(v["version"], v["live"]) for v in history] == [(2, True), (1, False)]
    rolled = run_json(capsys, "campaigns", "rollback", app, "1")
    assert rolled["version"]["version"] == 3 and rolled["version"]["rolledBackFrom"] == 1
    shown = run_json(capsys, "campaigns", "show", app)
    assert (
        shown["version"] == 3 and shown["definitions"] == run_json(capsys, "campaigns", "show", app, "1")["definitions"]
    )
    assert main(["campaigns", "show", app, "99"]) == 1
    assert "No ruleset version" in capsys.readouterr().err


def test_make_run_publishes_the_examples_once(runtime, tenant):
    from patron_local.__main__ import publish_demo_campaigns

    first = publish_demo_campaigns(runtime, tenant.application_id)
    assert first.info.version == 1 and not first.unchanged
    again = publish_demo_campaigns(runtime, tenant.application_id)
    assert again.unchanged and again.info.version == 1
    service = ruleset_service(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    assert [info.version for info in service.history(tenant.application_id, 10)] == [1]


def test_simulate_shows_what_a_folder_changes_on_the_newest_sessions(runtime, tenant, local_state, capsys, tmp_path):
    app = str(tenant.application_id)
    assert main(["campaigns", "publish", app, str(EXAMPLES)]) == 0
    for session_id, price in (("cli-big", 150), ("cli-small", 20)):
        session = {"profileId": f"p-{session_id}", "cartItems": [{"sku": "bag", "price": price, "quantity": 1}]}
        answer = runtime.request(
            "PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body={"customerSession": session}
        )
        assert answer.status == 200, answer.body
    folder = tmp_path / "campaigns"
    shutil.copytree(EXAMPLES, folder)
    ten = folder / "ten-percent-over-100.yaml"
    ten.write_text(ten.read_text().replace("value: session.total * 0.1", "value: session.total * 0.2"))
    capsys.readouterr()

    report = run_json(capsys, "campaigns", "simulate", app, str(folder), "--sessions", "5")
    assert (report["basedOn"], report["sessions"], report["evaluated"]) == (1, 2, 2)
    ten_percent = {c["id"]: c for c in report["campaigns"]}[1]
    assert (ten_percent["change"], ten_percent["triggeredBefore"], ten_percent["triggeredAfter"]) == ("changed", 1, 1)
    # Exact numbers, as the API writes them.
    assert (ten_percent["discountBefore"], ten_percent["discountAfter"]) == (15, 30)
    assert ten_percent["changedSessions"] == ["cli-big"]

    assert main(["campaigns", "simulate", app, str(folder)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Against live version 1, over the 2 newest sessions (")
    [row] = [line for line in text.splitlines() if line.startswith("1 ")]
    assert (
        "Ten percent over 100" in row
        and "changed" in row
        and "1 -> 1" in row
        and row.split()[-3:] == ["15.00", "30.00", "+15.00"]
    )
    assert "Sessions changed: 1 of 2." in text
    assert run_json(capsys, "campaigns", "plan", app, str(folder))["basedOn"] == 1  # nothing was published

    with pytest.raises(SystemExit):
        main(["campaigns", "simulate", app, str(folder), "--sessions", "1001"])
    assert "from 1 to 1000" in capsys.readouterr().err
