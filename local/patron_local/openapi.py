"""docs/openapi.json, generated from the template's routes and the handlers that serve them.

`python -m patron_local.openapi` rewrites it; a test fails when the committed file drifts from the routes.
Request and response bodies follow the dialect each route speaks (see README and docs/architecture.md);
every error answers the same JSON shape.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from patron_local.dynamodb_local import PROJECT_ROOT
from patron_local.template import Template

OUTPUT = PROJECT_ROOT / "docs" / "openapi.json"

_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "Stable, machine-readable."},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "code", "message", "title", "source"],
                "description": "Patron's members (path, code, message) and Talon.One's APIError (title, details, "
                "source), so a client of either reads every error.",
                "properties": {
                    "path": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "title": {"type": "string", "description": "The issue's code."},
                    "details": {"type": "string", "description": "The issue's message."},
                    "source": {
                        "type": "object",
                        "description": "A JSON pointer into the body, or the query, header or path parameter.",
                        "properties": {"pointer": {"type": "string"}, "parameter": {"type": "string"}},
                    },
                },
            },
        },
    },
}
_ERRORS = {
    "400": "Invalid input: `errors` names each field by its path.",
    "401": "No key, an unknown, malformed or revoked key, or two different keys.",
    "403": "The key's scope does not allow this route.",
    "404": "No such object in this application (another application's objects are not found either).",
    "409": "A conflict: a parallel update, a version mismatch, an identifier held by another customer.",
    "413": "The body is over the configured limit.",
    "422": "An Idempotency-Key reused with another request.",
    "429": "Over the application's rate limit (see Retry-After).",
}
_SECURITY = {
    "talonOne": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "ApiKey-v1 <key>"},
    "rfmcube": {"type": "apiKey", "in": "header", "name": "api-key"},
    "expertSender": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "bearer": {"type": "http", "scheme": "bearer"},
}


def _handler_docs(module: Any) -> dict[tuple[str, str], tuple[str, str, bool]]:
    """(method, resource) -> (operation id, summary, idempotent) for every route the module's api serves."""
    found = {}
    api = getattr(module, "api", None)
    specs = getattr(api, "_routes", {})
    for route, spec in specs.items():
        doc = inspect.getdoc(spec.handler) or ""
        summary = doc.split("\n\n")[0].replace("\n", " ") if doc else spec.handler.__name__.replace("_", " ")
        found[route] = (spec.handler.__name__, summary, bool(spec.idempotent))
    return found


def build(template: Template) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for function_id, function in sorted(template.functions().items()):
        routes = [route for route in template.routes() if route.function_id == function_id]
        if not routes:
            continue
        docs = _handler_docs(importlib.import_module(function.module))
        for route in routes:
            operation_id, summary, idempotent = docs[(route.method, route.resource)]
            parameters: list[dict[str, Any]] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"\{([^}+]+)\+?\}", route.resource)
            ]
            if idempotent:
                parameters.append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Retries with the same key and request replay the stored answer.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                )
            responses: dict[str, Any] = {"200": {"description": "Success (204 when there is nothing to return)."}}
            responses.update(
                {
                    status: {
                        "description": text,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    }
                    for status, text in _ERRORS.items()
                }
            )
            paths.setdefault(route.resource, {})[route.method.lower()] = {
                "operationId": operation_id,
                "summary": summary,
                "tags": [function_id.removesuffix("Function")],
                "parameters": parameters,
                "responses": responses,
            }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Patron",
            "version": "1",
            "description": "Generated from template.yaml and the handlers (python -m patron_local.openapi).",
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make run"}],
        "security": [{name: []} for name in _SECURITY],
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": _SECURITY, "schemas": {"Error": _ERROR}},
    }


def render(template_path: Path = PROJECT_ROOT / "template.yaml") -> str:
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    return json.dumps(build(Template.load(template_path)), indent=2) + "\n"


def main() -> int:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
