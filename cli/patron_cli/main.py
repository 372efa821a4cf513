"""patron: manage applications (tenants) and API keys, and read their API calls, locally or on a deployed stack.

  patron applications create NAME [--rate R --burst B]     patron keys create APP_ID [--scope S] [--label L]
  patron applications list                                  patron keys list APP_ID
  patron applications set-rate-limit APP_ID --rate R --burst B
  patron applications sync-usage-plans      (after a deploy that adds an API)
                                                            patron keys revoke KEY_ID
  patron logs APP_ID [--since 1h] [--limit 50] [--route "PUT /v1/orders/{orderId}"] [--errors]
  patron health APP_ID [--since 1h]
  patron campaigns validate DIR                             patron campaigns plan APP_ID DIR
  patron campaigns publish APP_ID DIR [--note N]            patron campaigns history APP_ID [--limit 20]
  patron campaigns rollback APP_ID VERSION [--note N]       patron campaigns show APP_ID [VERSION]
  patron campaigns simulate APP_ID DIR [--sessions 100]
  patron coupons create APP_ID CAMPAIGN_ID --count N [--pattern P --charset C --prefix X --suffix Y --usage-limit N
                        --discount-limit D --profile-limit N --start T --expiry T --recipient ID] | --code CODE
  patron coupons import APP_ID CAMPAIGN_ID FILE.csv         patron coupons show APP_ID CODE
  patron coupons export APP_ID BATCH_ID [-o FILE]
  patron catalogs create APP_ID NAME [--description D]     patron catalogs list APP_ID
  patron catalogs show APP_ID CATALOG_ID                    patron catalogs delete APP_ID CATALOG_ID

Without --stack the CLI acts on the local runtime (`make run`'s data). --stack NAME acts on a deployed stack
with your AWS credentials. Every command takes --json. A new key's secret is printed once and never again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from patron.applications.model import DEFAULT_RATE_LIMIT, ApiKey, Application, RateLimit, Scope
from patron.applications.service import ApplicationService
from patron.errors import PatronError
from patron.promotions.simulation import DEFAULT_SESSIONS, MAX_SESSIONS
from patron_cli import campaigns, catalogs, coupons
from patron_cli.calls import (
    DEFAULT_LIMIT,
    DEFAULT_SINCE,
    CallLog,
    CallQuery,
    parse_limit,
    parse_route,
    parse_since,
)
from patron_cli.insights import InsightsError
from patron_cli.output import table as _table
from patron_cli.targets import (
    TargetError,
    local_call_log,
    local_catalogs,
    local_coupons,
    local_rulesets,
    local_service,
    local_simulations,
    stack_call_log,
    stack_catalogs,
    stack_coupons,
    stack_rulesets,
    stack_service,
    stack_simulations,
)

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def _application_view(application: Application) -> dict[str, Any]:
    return {
        "id": application.id,
        "name": application.name,
        "created": application.created,
        "rateLimit": application.rate_limit.rate,
        "burstLimit": application.rate_limit.burst,
    }


def _key_view(key: ApiKey) -> dict[str, Any]:
    # Never the hash nor the usage-plan key: neither is the operator's business.
    return {
        "keyId": key.key_id,
        "applicationId": key.application_id,
        "scope": key.scope.value,
        "label": key.label,
        "created": key.created,
        "revoked": key.revoked,
        "revokedAt": key.revoked_at,
    }


# The first argument is what the target gives: an ApplicationService, a CallLog for `logs` and `health`, a
# RulesetService for `campaigns` (a SimulationService for `campaigns simulate`; nothing for `campaigns validate`,
# which is offline).
Command = Callable[[Any, argparse.Namespace], tuple[Any, str]]


def create_application(service: ApplicationService, args: argparse.Namespace) -> tuple[Any, str]:
    application = service.create_application(args.name, RateLimit(args.rate, args.burst))
    view = _application_view(application)
    return view, f"Created application {application.id} ({application.name})"


def list_applications(service: ApplicationService, args: argparse.Namespace) -> tuple[Any, str]:
    views = [_application_view(app) for app in service.list_applications()]
    return views, _table(views, ["id", "name", "created", "rateLimit", "burstLimit"])


def set_rate_limit(service: ApplicationService, args: argparse.Namespace) -> tuple[Any, str]:
    application = service.set_rate_limit(args.application_id, RateLimit(args.rate, args.burst))
    view = _application_view(application)
    return (
        view,
        f"Application {application.id}: {application.rate_limit.rate}/s, burst {application.rate_limit.burst}",
    )


def sync_usage_plans(service: ApplicationService, args: argparse.Namespace) -> tuple[Any, str]:
    views = [_application_view(app) for app in service.sync_usage_plans()]
    return views, f"{len(views)} applications' usage plans cover every API of the stack."


def create_key(service: ApplicationService, args: argparse.Namespace) -> tuple[Any, str]:
    new = service.create_key(args.application_id, Scope(args.scope), args.label)
    view = {**_key_view(new.key), "key": new.secret}
    text = f"Created {new.key.scope.value} key {new.key.key_id} for application {new.key.application_id}.\n"
    text += f"Key (shown once, store it now): {new.secret}"
    return view, text


def list_keys(service: ApplicationService, args: argparse.Namespace) -> tuple[Any, str]:
    views = [_key_view(key) for key in service.list_keys(args.application_id)]
    return views, _table(views, ["keyId", "scope", "label", "created", "revoked"])


def revoke_key(service: ApplicationService, args: argparse.Namespace) -> tuple[Any, str]:
    key = service.revoke_key(args.key_id)
    return _key_view(key), f"Revoked key {key.key_id} (at {key.revoked_at})"


def show_logs(log: CallLog, args: argparse.Namespace) -> tuple[Any, str]:
    query = CallQuery.recent(
        args.application_id, args.since, limit=args.limit, route=args.route, errors_only=args.errors
    )
    views = [call.view() for call in log.calls(query)]
    rows = [
        {
            **view,
            "code": view["code"] or "",
            "latencyMs": "" if view["latencyMs"] is None else f"{view['latencyMs']:.1f}",
            "requestId": view["requestId"] or "",
        }
        for view in views
    ]
    return views, _table(rows, ["time", "route", "status", "code", "latencyMs", "requestId"])


def show_health(log: CallLog, args: argparse.Namespace) -> tuple[Any, str]:
    views = [route.view() for route in log.health(CallQuery.recent(args.application_id, args.since))]
    rows = [
        {
            **view,
            "p50Ms": "" if view["p50Ms"] is None else f"{view['p50Ms']:.1f}",
            "p99Ms": "" if view["p99Ms"] is None else f"{view['p99Ms']:.1f}",
            "errorCodes": " ".join(f"{code}={count}" for code, count in view["errorCodes"].items()),
        }
        for view in views
    ]
    return views, _table(rows, ["route", "requests", "4xx", "5xx", "p50Ms", "p99Ms", "errorCodes"])


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("--stack", help="a deployed stack's name (default: the local runtime)")
    common.add_argument("--region", help="AWS region of the stack (default: your AWS configuration)")

    parser = argparse.ArgumentParser(
        prog="patron", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    groups = parser.add_subparsers(dest="group", required=True)

    apps = groups.add_parser("applications", help="applications (tenants)").add_subparsers(dest="action", required=True)
    create = apps.add_parser("create", parents=[common], help="create an application")
    create.add_argument("name")
    create.add_argument("--rate", type=float, default=DEFAULT_RATE_LIMIT.rate, help="requests per second")
    create.add_argument("--burst", type=int, default=DEFAULT_RATE_LIMIT.burst, help="burst size")
    create.set_defaults(command=create_application)
    apps.add_parser("list", parents=[common], help="list applications").set_defaults(command=list_applications)
    limit = apps.add_parser("set-rate-limit", parents=[common], help="change an application's rate limit")
    limit.add_argument("application_id", type=int)
    limit.add_argument("--rate", type=float, required=True)
    limit.add_argument("--burst", type=int, required=True)
    limit.set_defaults(command=set_rate_limit)
    sync = apps.add_parser(
        "sync-usage-plans", parents=[common], help="attach every application's usage plan to each of the stack's APIs"
    )
    sync.set_defaults(command=sync_usage_plans)

    keys = groups.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    key_create = keys.add_parser("create", parents=[common], help="create a key (shown once)")
    key_create.add_argument("application_id", type=int)
    key_create.add_argument("--scope", choices=[scope.value for scope in Scope], default=Scope.INTEGRATION.value)
    key_create.add_argument("--label", default="")
    key_create.set_defaults(command=create_key)
    key_list = keys.add_parser("list", parents=[common], help="list an application's keys")
    key_list.add_argument("application_id", type=int)
    key_list.set_defaults(command=list_keys)
    key_revoke = keys.add_parser("revoke", parents=[common], help="revoke a key")
    key_revoke.add_argument("key_id")
    key_revoke.set_defaults(command=revoke_key)

    since_help = f"how far back: 90s, 15m, 1h, 2d (default {DEFAULT_SINCE})"
    logs = groups.add_parser("logs", parents=[common], help="an application's recent API calls, newest first")
    logs.add_argument("application_id", type=int)
    logs.add_argument("--since", type=parse_since, default=DEFAULT_SINCE, help=since_help)
    logs.add_argument(
        "--limit", type=parse_limit, default=DEFAULT_LIMIT, help=f"how many calls at most (default {DEFAULT_LIMIT})"
    )
    logs.add_argument("--route", type=parse_route, help='one route, as in the template: "PUT /v1/orders/{orderId}"')
    logs.add_argument("--errors", action="store_true", help="only calls answered 4xx or 5xx")
    logs.set_defaults(command=show_logs)
    health = groups.add_parser("health", parents=[common], help="per route: requests, errors by code, latency")
    health.add_argument("application_id", type=int)
    health.add_argument("--since", type=parse_since, default=DEFAULT_SINCE, help=since_help)
    health.set_defaults(command=show_health)

    rulesets = groups.add_parser("campaigns", help="campaigns as code: validate, plan, publish, roll back")
    actions = rulesets.add_subparsers(dest="action", required=True)
    check = actions.add_parser("validate", parents=[common], help="check a folder of campaign files (offline)")
    check.add_argument("folder")
    check.set_defaults(command=campaigns.validate)
    plan = actions.add_parser("plan", parents=[common], help="what publishing a folder would change")
    plan.add_argument("application_id", type=int)
    plan.add_argument("folder")
    plan.set_defaults(command=campaigns.show_plan)
    simulate = actions.add_parser(
        "simulate", parents=[common], help="what a folder would change on the newest recorded sessions (dry)"
    )
    simulate.add_argument("application_id", type=int)
    simulate.add_argument("folder")
    simulate.add_argument(
        "--sessions",
        type=campaigns.session_count,
        default=DEFAULT_SESSIONS,
        metavar=f"1-{MAX_SESSIONS}",
        help=f"how many of the newest sessions (default {DEFAULT_SESSIONS})",
    )
    simulate.set_defaults(command=campaigns.simulate)
    publish = actions.add_parser("publish", parents=[common], help="publish a folder as the live version")
    publish.add_argument("application_id", type=int)
    publish.add_argument("folder")
    publish.add_argument("--note", default="", help="why (kept with the version)")
    publish.set_defaults(command=campaigns.publish)
    history = actions.add_parser("history", parents=[common], help="published versions, newest first")
    history.add_argument("application_id", type=int)
    history.add_argument("--limit", type=int, default=20, choices=range(1, 101), metavar="1-100")
    history.set_defaults(command=campaigns.history)
    rollback = actions.add_parser("rollback", parents=[common], help="publish a copy of an earlier version")
    rollback.add_argument("application_id", type=int)
    rollback.add_argument("version", type=int)
    rollback.add_argument("--note", default="")
    rollback.set_defaults(command=campaigns.rollback)
    show = actions.add_parser("show", parents=[common], help="a version's definitions (default: the live one)")
    show.add_argument("application_id", type=int)
    show.add_argument("version", type=int, nargs="?")
    show.set_defaults(command=campaigns.show)
    coupons.add_commands(groups, common)
    catalogs.add_commands(groups, common)
    return parser


def _target(args: argparse.Namespace) -> AbstractContextManager[Any]:
    if args.group == "campaigns" and args.action == "validate":
        return nullcontext()  # offline
    if args.group == "campaigns" and args.action == "simulate":
        return stack_simulations(args.stack, args.region) if args.stack else local_simulations()
    if args.group == "coupons":
        return stack_coupons(args.stack, args.region) if args.stack else local_coupons()
    if args.group == "catalogs":
        return stack_catalogs(args.stack, args.region) if args.stack else local_catalogs()
    if args.group == "campaigns":
        return stack_rulesets(args.stack, args.region) if args.stack else local_rulesets()
    if args.group in ("logs", "health"):
        return stack_call_log(args.stack, args.region) if args.stack else local_call_log()
    return stack_service(args.stack, args.region) if args.stack else local_service()


def _json(result: Any) -> str:
    """Money stays exact: a Decimal is written as the JSON number it is (as the API answers it)."""
    return msgspec.json.format(_ENCODER.encode(result), indent=2).decode()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command: Command = args.command
    try:
        with _target(args) as service:
            result, text = command(service, args)
    except campaigns.FolderInvalidError as error:
        if args.json:
            print(json.dumps({"error": error.body()}), file=sys.stderr)
        else:
            print("\n".join(campaigns.issue_line(issue) for issue in error.issues), file=sys.stderr)
        return 1
    except PatronError as error:
        if args.json:
            print(json.dumps({"error": error.body()}), file=sys.stderr)
        else:
            print(f"patron: {error.message}", file=sys.stderr)
        return 1
    except (TargetError, InsightsError, ClientError, BotoCoreError, LookupError) as error:
        # The target is unreachable or refused (credentials, permissions, a missing stack or usage plan, a query
        # that failed or ran too long).
        message = str(error)
        print(
            json.dumps({"error": {"code": "target_error", "message": message}}) if args.json else f"patron: {message}",
            file=sys.stderr,
        )
        return 2
    if args.json or text:  # `coupons export` wrote its CSV to standard output itself
        print(_json(result) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
