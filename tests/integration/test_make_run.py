"""`make run`'s command in a process of its own: it starts, prints the base URL and the demo key, serves that
key, keeps data between restarts when persistent, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from patron.applications import apikeys
from patron_local.dynamodb_local import PROJECT_ROOT, free_port


def start(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "patron_local", "run"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PATRON_LOCAL_STATE": str(tmp_path / "local.json"), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.startswith("Press Ctrl-C"):
            return process, lines
    process.kill()
    raise AssertionError("make run did not start: " + "\n".join(lines))


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def put(port: int, key: str, integration_id: str, attributes: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v2/customer_profiles/{integration_id}",
        data=json.dumps({"attributes": attributes, "responseContent": ["customerProfile"]}).encode(),
        headers={"Authorization": f"ApiKey-v1 {key}", "Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.load(response)


def test_make_run_prints_a_working_demo_key_and_persists_data(tmp_path):
    port = free_port()
    _, fixed_key = apikeys.new_key()
    env = {"PATRON_PORT": str(port), "PATRON_DATA_DIR": str(tmp_path / "data"), "PATRON_DEMO_API_KEY": fixed_key}
    process, lines = start(tmp_path, **env)
    try:
        assert f"Patron is running at http://127.0.0.1:{port}" in lines[0]
        assert f"Demo application key: {fixed_key}" in lines
        assert (tmp_path / "local.json").exists()
        put(port, fixed_key, "persisted", {"tier": "gold"})
    finally:
        assert stop(process) == 0
    assert not (tmp_path / "local.json").exists()

    process, _ = start(tmp_path, **env)  # the same data folder and the same fixed key, after a restart
    try:
        profile = put(port, fixed_key, "persisted", {"visits": 2})["customerProfile"]
        assert profile["attributes"] == {"tier": "gold", "visits": 2}
    finally:
        assert stop(process) == 0


def test_without_a_fixed_key_each_start_prints_a_new_one_in_memory(tmp_path):
    port = free_port()
    process, lines = start(tmp_path, PATRON_PORT=str(port), PATRON_IN_MEMORY="1")
    try:
        key = next(line.split(": ", 1)[1] for line in lines if line.startswith("Demo application key"))
        assert apikeys.key_id_of(key) is not None
        assert "data in memory" in lines[0]
        assert put(port, key, "someone", {"a": 1})["customerProfile"]["attributes"] == {"a": 1}
    finally:
        assert stop(process) == 0
