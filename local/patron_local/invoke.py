"""`python -m patron_local.invoke FUNCTION [EVENT]` (what `make invoke FN= EVENT=` calls): one function of the
template on one event, as `sam local invoke -e EVENT FUNCTION` runs it in Docker.

The local runtime starts in memory; the function runs as any invocation does there (the template's environment,
its IAM statements enforced on DynamoDB); its result is printed as JSON on stdout, its logs and the runtime's on
stderr. When the function raises, its error is printed as Lambda reports it and the exit status is 1.

FUNCTION is the template's logical id (`OrdersFunction`) or the function's folder (`orders`). EVENT is a JSON
file (`events/<folder>/<scenario>.json`), `-` for stdin, or nothing for `{}`, as with SAM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from patron_local.functions import error_payload
from patron_local.runtime import DEFAULT_TEMPLATE, LocalRuntime, RuntimeOptions
from patron_local.template import Function, Template

EXIT_RAISED = 1
EXIT_USAGE = 2


def function_id(functions: dict[str, Function], name: str) -> str:
    """The logical id of `name`: a logical id itself, or the folder of a function's CodeUri."""
    if name in functions:
        return name
    by_folder = {Path(function.code_uri).name: logical_id for logical_id, function in functions.items()}
    if name in by_folder:
        return by_folder[name]
    choices = ", ".join(sorted(by_folder))
    raise LookupError(f"no function {name!r} in the template: a logical id, or one of the folders {choices}")


def read_event(source: str | None) -> Any:
    if source is None:
        return {}
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return json.loads(text)


def invoke(runtime: LocalRuntime, logical_id: str, event: Any, out: TextIO) -> int:
    """Invoke the function on the event in a started runtime; print its result (or its error) to `out`."""
    try:
        text = json.dumps(runtime.registry.invoke(logical_id, event))
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        print(json.dumps(error_payload(exc)), file=out)
        return EXIT_RAISED
    print(text, file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m patron_local.invoke", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("function", help="logical id (OrdersFunction) or folder (orders)")
    parser.add_argument("event", nargs="?", help="a JSON event file, - for stdin; {} without")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="default: the project's")
    parser.add_argument(
        "--dynamodb-endpoint", help="a running DynamoDB Local to use instead of starting one (the tests pass theirs)"
    )
    args = parser.parse_args(argv)
    try:
        logical_id = function_id(Template.load(args.template).functions(), args.function)
        event = read_event(args.event)
    except (LookupError, OSError, json.JSONDecodeError) as error:
        print(f"patron invoke: {error}", file=sys.stderr)
        return EXIT_USAGE
    out = sys.stdout
    # Handlers log to stdout (CloudWatch on AWS): here their lines go to stderr, so stdout is the result alone.
    with contextlib.redirect_stdout(sys.stderr):
        options = RuntimeOptions(template_path=args.template, dynamodb_endpoint=args.dynamodb_endpoint)
        runtime = LocalRuntime(options).start()
        try:
            return invoke(runtime, logical_id, event, out)
        finally:
            runtime.stop()


if __name__ == "__main__":
    sys.exit(main())
