"""The published JSON Schema of campaign files is generated from the models the engine reads them with."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from patron.promotions.definitions import render_json_schema

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_schema_matches_the_models():
    committed = (ROOT / "docs" / "campaigns.schema.json").read_text()
    assert committed == render_json_schema(), "regenerate: see docs/campaigns.md (Editors)"


def test_an_editor_checking_with_the_schema_accepts_the_examples_and_refuses_a_typo():
    validator = Draft202012Validator(json.loads(render_json_schema()))
    for path in sorted((ROOT / "examples" / "campaigns").glob("*.yaml")):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path.name
    typo = {"campaigns": [{"id": 1, "name": "x", "rules": [{"title": "r", "effects": [{"type": "setDiscont"}]}]}]}
    assert list(validator.iter_errors(typo))
