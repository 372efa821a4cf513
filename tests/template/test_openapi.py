"""docs/openapi.json is generated from the routes: it must not drift from them."""

from __future__ import annotations

from patron_local.openapi import OUTPUT, render


def test_the_committed_openapi_document_matches_the_routes():
    assert OUTPUT.read_text() == render(), "run: .venv/bin/python -m patron_local.openapi"
