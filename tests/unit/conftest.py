"""Unit tests run with the network switched off: anything that tries to connect fails loudly."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest


class NetworkDisabledError(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*_: object, **__: object) -> None:
        raise NetworkDisabledError("unit tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    # A local runtime started earlier in the same run (the integration tests) points boto3 at DynamoDB Local through
    # these variables; moto's in-memory AWS must not be sent there.
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    yield
