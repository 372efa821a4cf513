"""Lints the CloudFormation that SAM's own translator makes of template.yaml (run with the SAM CLI's Python).

`sam validate --lint` runs cfn-lint in SAM mode, which no longer applies the transform and misses errors such as a
bad Runtime in Globals or a bad !GetAtt inside an event; linting the translated template catches them.
Standalone on purpose: it runs in .sam-venv, which has samtranslator and cfn-lint but not the project.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from cfnlint.api import lint_all
from cfnlint.decode import decode_str
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform


class _OfflinePolicies(ManagedPolicyLoader):  # type: ignore[misc]
    """The translator asks IAM for AWS managed policy ARNs; offline, build them (the template uses none)."""

    def __init__(self) -> None:
        super().__init__(iam_client=None)

    def load(self) -> dict[str, str]:
        return {}


def _as_packaged(template: dict[str, Any], base: Path) -> dict[str, Any]:
    """What `sam package` would hand CloudFormation: code in S3, state machine definitions inline."""
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(uri), str) and not properties[uri].startswith("s3://"):
                properties[uri] = "s3://patron-lint-bucket/artifact.zip"
        definition_uri = properties.get("DefinitionUri")
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(definition_uri, str):
            properties["Definition"] = json.loads((base / definition_uri).read_text())
            del properties["DefinitionUri"]
    return template


def main(path: str) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator fills AWS::Region from it
    template, matches = decode_str(Path(path).read_text())
    if matches or template is None:
        for match in matches:
            print(match)
        return 1
    try:
        translated = transform(_as_packaged(template, Path(path).parent), {}, _OfflinePolicies())
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"SAM translation: {cause.message}")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(translated, handle)
    matches = lint_all(Path(handle.name).read_text())
    # Informational rules (I*) are advice, and some fire on ARNs SAM itself generates; errors and warnings fail.
    problems = [match for match in matches if not match.rule.id.startswith("I")]
    for problem in problems:
        print(problem)
    resources = len(translated.get("Resources", {}))
    print(
        f"translated CloudFormation: {resources} resources, {len(problems)} errors or warnings, "
        f"{len(matches) - len(problems)} informational notes"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
