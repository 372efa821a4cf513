"""Unit tests run with the network switched off: anything that tries to connect fails loudly."""

from __future__ import annotations

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
    yield
