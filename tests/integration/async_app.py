"""Fixtures shared by the tests of the local runtime's asynchronous half (tests/fixtures/async_app)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from patron_local.functions import FunctionRegistry
from patron_local.moto_services import MotoServices
from patron_local.template import Template

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "async_app"


@pytest.fixture(scope="module")
def app_template() -> Iterator[Template]:
    # The fixture's CodeUri (async_app_functions/<name>/) is relative to its template, as in SAM.
    sys.path.insert(0, str(FIXTURE))
    try:
        yield Template.load(FIXTURE / "template.yaml")
    finally:
        sys.path.remove(str(FIXTURE))


@pytest.fixture(scope="module")
def moto_services(app_template: Template) -> Iterator[MotoServices]:
    services = MotoServices(FunctionRegistry(app_template.functions()))
    services.start()
    yield services
    services.stop()
