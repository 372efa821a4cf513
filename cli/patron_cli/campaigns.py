"""`patron campaigns ...`: a folder of campaign files (YAML or JSON) read, merged and compiled as the engine will
(`validate`, offline: every fault with its file, campaign, rule, path and column), then planned against, published
to, simulated over the application's recent sessions, or rolled back on an application, through the services the
management API uses (docs/campaigns.md)."""

from __future__ import annotations

import argparse
import getpass
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import yaml

from patron.promotions import wire
from patron.promotions.definitions import Ruleset
from patron.promotions.loading import DefinitionError, DefinitionIssue, merge_located
from patron.promotions.management import Plan, RulesetInvalidError, RulesetService, rule_index
from patron.promotions.ruleset import CompiledRuleset, compile_ruleset
from patron.promotions.simulation import MAX_SESSIONS, Simulation, SimulationService
from patron.promotions.store import VersionInfo
from patron_cli.output import table as _table

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Checked:
    ruleset: Ruleset | None
    compiled: CompiledRuleset | None
    issues: list[DefinitionIssue]


def read_folder(folder: Path) -> tuple[list[tuple[str, Any]], list[DefinitionIssue]]:
    documents: list[tuple[str, Any]] = []
    issues: list[DefinitionIssue] = []
    paths = sorted(path for path in folder.iterdir() if path.suffix.lower() in SUFFIXES and path.is_file())
    if not paths:
        issues.append(DefinitionIssue(str(folder), "$", "no_files", "No .yaml, .yml or .json file in the folder."))
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
            message = f"Not readable as {path.suffix[1:].upper()}: {type(error).__name__}."
            if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
                mark = error.problem_mark
                message = f"Not readable as YAML at line {mark.line + 1}, column {mark.column + 1}: {error.problem}."
            issues.append(DefinitionIssue(path.name, "$", "unreadable_file", message))
            continue
        documents.append((path.name, data if data is not None else {}))
    return documents, issues


def check_folder(folder: Path, version: int = 0) -> Checked:
    if not folder.is_dir():
        return Checked(None, None, [DefinitionIssue(str(folder), "$", "no_folder", "No such folder.")])
    documents, issues = read_folder(folder)
    if issues:
        return Checked(None, None, issues)
    try:
        ruleset, origins = merge_located(documents)
    except DefinitionError as error:
        return Checked(None, None, error.issues)
    try:
        return Checked(ruleset, compile_ruleset(ruleset, version, origins=origins), [])
    except DefinitionError as error:
        return Checked(ruleset, None, error.issues)


def issue_view(issue: DefinitionIssue) -> dict[str, Any]:
    view: dict[str, Any] = {"file": issue.file, "path": issue.path, "code": issue.code, "message": issue.message}
    if issue.campaign:
        view["campaign"] = issue.campaign
    if issue.column:
        view["column"] = issue.column
    return view


def issue_line(issue: DefinitionIssue) -> str:
    """One fault on one line: file, campaign, rule, path (and column), code, message."""
    parts = [issue.file or "(body)"]
    if issue.campaign:
        parts.append(f"campaign {issue.campaign!r}")
    rule = rule_index(issue.path)
    if rule is not None:
        parts.append(f"rule {rule}")
    parts.append(issue.path + (f", column {issue.column}" if issue.column else ""))
    return f"{', '.join(parts)}: [{issue.code}] {issue.message}"


class FolderInvalidError(RulesetInvalidError):
    """A campaign folder that does not compile: the CLI prints every fault, one per line, and exits 1."""


def checked_ruleset(folder: Path) -> Ruleset:
    checked = check_folder(folder)
    if checked.issues or checked.ruleset is None:
        raise FolderInvalidError(checked.issues)
    return checked.ruleset


# -- the commands (argparse handlers: the service, the arguments -> JSON view, text) ---------------------------


def _summary_view(info: VersionInfo, live: int | None = None) -> dict[str, Any]:
    view = msgspec.to_builtins(wire.version_summary(info))
    if live is not None:
        view["live"] = info.version == live
    return dict(view)


def _plan_text(plan: Plan) -> str:
    lines = [f"Against live version {plan.based_on}:" if plan.based_on else "Nothing is live yet:"]
    for campaign in plan.campaigns:
        if campaign.change == "unchanged":
            continue
        sign = {"added": "+", "removed": "-", "changed": "~"}[campaign.change]
        fields = f" ({', '.join(campaign.fields)})" if campaign.fields else ""
        lines.append(f"  {sign} campaign {campaign.id} {campaign.name!r} {campaign.change}{fields}")
    for program_id, name, change in plan.programs:
        sign = {"added": "+", "removed": "-", "changed": "~"}[change]
        lines.append(f"  {sign} loyalty program {program_id} {name!r} {change}")
    for definition_id, event_type, change in plan.custom_events:
        sign = {"added": "+", "removed": "-", "changed": "~"}[change]
        lines.append(f"  {sign} custom event {definition_id} {event_type!r} {change}")
    if plan.settings:
        lines.append(f"  ~ settings: {', '.join(plan.settings)}")
    groups = plan.groups
    for name in groups.added:
        lines.append(f"  + evaluation group {name!r}")
    for name in groups.removed:
        lines.append(f"  - evaluation group {name!r}")
    for name in groups.changed:
        lines.append(f"  ~ evaluation group {name!r} (mode)")
    if groups.reordered:
        lines.append("  ~ evaluation groups reordered")
    counts = ", ".join(f"{plan.count(kind)} {kind}" for kind in ("added", "removed", "changed", "unchanged"))
    lines.append(f"Campaigns: {counts}." if plan.changed else "No changes.")
    return "\n".join(lines)


def validate(_: Any, args: argparse.Namespace) -> tuple[Any, str]:
    ruleset = checked_ruleset(Path(args.folder))
    view = {"valid": True, "campaigns": len(ruleset.campaigns)}
    return view, f"{args.folder}: {len(ruleset.campaigns)} campaigns, valid."


def show_plan(service: RulesetService, args: argparse.Namespace) -> tuple[Any, str]:
    plan = service.plan(args.application_id, checked_ruleset(Path(args.folder)))
    return msgspec.to_builtins(wire.plan_response(plan)), _plan_text(plan)


def session_count(text: str) -> int:
    """`--sessions`: 1 to MAX_SESSIONS."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_SESSIONS:
        raise argparse.ArgumentTypeError(f"a number of sessions from 1 to {MAX_SESSIONS}")
    return int(text)


def _signed(amount: Any) -> str:
    return f"+{amount}" if amount > 0 else str(amount)


def _simulation_text(simulation: Simulation) -> str:
    against = f"live version {simulation.based_on}" if simulation.based_on else "nothing live (no discounts)"
    if not simulation.sessions:
        return "No recorded sessions: nothing to simulate."
    span = f"{simulation.oldest} .. {simulation.newest}" if simulation.oldest else "none evaluated"
    skipped = f", {simulation.skipped} cancelled skipped" if simulation.skipped else ""
    lines = [f"Against {against}, over the {simulation.sessions} newest sessions ({span}{skipped}):"]
    rows = [
        {
            "id": campaign.id,
            "campaign": campaign.name,
            "change": campaign.change,
            "triggered": f"{campaign.triggered_before} -> {campaign.triggered_after}",
            "sessionsChanged": campaign.sessions_changed,
            "discountBefore": campaign.discount_before,
            "discountAfter": campaign.discount_after,
            "difference": _signed(campaign.discount_difference),
        }
        for campaign in simulation.campaigns
    ]
    columns = ["id", "campaign", "change", "triggered", "sessionsChanged", "discountBefore", "discountAfter"]
    lines.append(_table(rows, [*columns, "difference"]))
    lines.append(
        f"Sessions changed: {simulation.sessions_changed} of {simulation.evaluated}. Discounts: "
        f"{simulation.discount_before} -> {simulation.discount_after} ({_signed(simulation.discount_difference)})."
    )
    return "\n".join(lines)


def simulate(service: SimulationService, args: argparse.Namespace) -> tuple[Any, str]:
    """The folder against the live version over the application's newest sessions; nothing is written."""
    simulation = service.simulate(args.application_id, checked_ruleset(Path(args.folder)), args.sessions)
    return msgspec.to_builtins(wire.simulation_response(simulation), builtin_types=(Decimal,)), _simulation_text(
        simulation
    )


def publish(service: RulesetService, args: argparse.Namespace) -> tuple[Any, str]:
    ruleset = checked_ruleset(Path(args.folder))
    published = service.publish(args.application_id, ruleset, note=args.note, published_by=_operator())
    view = msgspec.to_builtins(wire.published_response(published))
    return view, f"{_plan_text(published.plan)}\nPublished version {published.info.version} (live)."


def history(service: RulesetService, args: argparse.Namespace) -> tuple[Any, str]:
    pointer = service.live(args.application_id)
    live = pointer.version if pointer else None
    views = [_summary_view(info, live) for info in service.history(args.application_id, args.limit)]
    rows = [
        {**view, "live": "*" if view["live"] else "", "rolledBackFrom": view.get("rolledBackFrom") or ""}
        for view in views
    ]
    columns = ["version", "live", "created", "source", "rolledBackFrom", "campaigns", "publishedBy", "note"]
    return views, _table(rows, columns)


def rollback(service: RulesetService, args: argparse.Namespace) -> tuple[Any, str]:
    published = service.rollback(args.application_id, args.version, note=args.note, published_by=_operator())
    view = msgspec.to_builtins(wire.published_response(published))
    text = f"{_plan_text(published.plan)}\nPublished version {published.info.version}, a copy of {args.version} (live)."
    return view, text


def show(service: RulesetService, args: argparse.Namespace) -> tuple[Any, str]:
    pointer = service.live(args.application_id)
    if args.version is None:
        stored = service.live_version(args.application_id)
    else:
        stored = service.version(args.application_id, args.version)
    view = msgspec.to_builtins(wire.version_response(stored, pointer.version if pointer else None))
    return view, yaml.safe_dump(view["definitions"], sort_keys=False, allow_unicode=True).rstrip()


def _operator() -> str:
    return f"cli:{getpass.getuser()}"
