"""Campaign files and API bodies -> one `Ruleset`, or every problem found, each naming its file and path.

A directory of campaign files (the CLI reads YAML or JSON into plain data first) is merged in file-name order:
`settings` may appear in one file only, `evaluationGroups`, `campaigns`, `loyaltyPrograms` and `customEvents` are
concatenated.
Each campaign, group, program and the settings are checked on their own, so one run reports a fault in each of
them, not only the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from patron.promotions.definitions import (
    Campaign,
    CustomEventDefinition,
    EvaluationGroup,
    LoyaltyProgram,
    Ruleset,
    Settings,
)


class DefinitionIssue(msgspec.Struct, frozen=True):
    file: str  # "" for an API body
    path: str  # `campaigns[2].rules[0].effects[1].value`, `$` for the document itself
    code: str
    message: str
    campaign: str | None = None  # the campaign's name, when the fault is inside one
    column: int | None = None  # in a condition or expression, from 1

    def describe(self) -> str:
        where = f"{self.file}: " if self.file else ""
        campaign = f"campaign {self.campaign!r}, " if self.campaign else ""
        column = f", column {self.column}" if self.column else ""
        return f"{where}{campaign}{self.path}{column}: {self.message}"


class DefinitionError(ValueError):
    def __init__(self, issues: Sequence[DefinitionIssue]):
        super().__init__("; ".join(issue.describe() for issue in issues[:5]))
        self.issues = list(issues)


def _issue(file: str, root: str, error: msgspec.ValidationError, campaign: str | None) -> DefinitionIssue:
    message = str(error)
    path = ""
    if " - at `$" in message:
        message, _, located = message.partition(" - at `$")
        path = located.rstrip("`")
    full = f"{root}{path}" if path.startswith(("[", ".")) or not path else f"{root}.{path}"
    return DefinitionIssue(file=file, path=full or "$", code="invalid_definition", message=message, campaign=campaign)


def _convert(kind: Any, data: Any, file: str, root: str, issues: list[DefinitionIssue], campaign: str | None) -> Any:
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as error:
        issues.append(_issue(file, root, error, campaign))
        return None


_SECTIONS = ("settings", "evaluationGroups", "campaigns", "loyaltyPrograms", "customEvents")


def merge(documents: Iterable[tuple[str, Any]]) -> Ruleset:
    """`documents`: (file name, its parsed content) in order. Raises DefinitionError with every fault found."""
    return merge_located(documents)[0]


def merge_located(documents: Iterable[tuple[str, Any]]) -> tuple[Ruleset, dict[int, tuple[str, str]]]:
    """`merge`, and where each campaign came from (its file, and its path there) for the compiler's errors."""
    issues: list[DefinitionIssue] = []
    settings: Settings | None = None
    settings_file = ""
    groups: list[EvaluationGroup] = []
    campaigns: list[Campaign] = []
    programs: list[LoyaltyProgram] = []
    custom_events: list[CustomEventDefinition] = []
    # Where each campaign was defined: its file and path there.
    seen: dict[int, tuple[str, str]] = {}
    for file, data in documents:
        if not isinstance(data, dict):
            issues.append(DefinitionIssue(file, "$", "invalid_definition", "A campaign file holds one mapping."))
            continue
        unknown = sorted(str(key) for key in data if key not in _SECTIONS)
        issues += [DefinitionIssue(file, name, "unknown_field", "Unknown field.") for name in unknown]
        if "settings" in data:
            if settings is not None:
                message = f"Settings are already defined in {settings_file}."
                issues.append(DefinitionIssue(file, "settings", "duplicate_settings", message))
            else:
                settings = _convert(Settings, data["settings"], file, "settings", issues, None) or Settings()
                settings_file = file
        for index, group in enumerate(_list(data, "evaluationGroups", file, issues)):
            converted = _convert(EvaluationGroup, group, file, f"evaluationGroups[{index}]", issues, None)
            if converted is not None:
                groups.append(converted)
        for index, raw in enumerate(_list(data, "campaigns", file, issues)):
            name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
            campaign = _convert(Campaign, raw, file, f"campaigns[{index}]", issues, name)
            if campaign is None:
                continue
            if campaign.id in seen:
                message = f"Campaign id {campaign.id} is already used in {seen[campaign.id][0]}."
                issues.append(DefinitionIssue(file, f"campaigns[{index}].id", "duplicate_id", message, name))
                continue
            seen[campaign.id] = (file, f"campaigns[{index}]")
            campaigns.append(campaign)
        for index, raw in enumerate(_list(data, "loyaltyPrograms", file, issues)):
            at = f"loyaltyPrograms[{index}]"
            program = _convert(LoyaltyProgram, raw, file, at, issues, None)
            if program is None:
                continue
            for other in programs:
                if other.id == program.id or other.name == program.name:
                    message = f"Loyalty program {program.id} ({program.name!r}) is already defined."
                    issues.append(DefinitionIssue(file, f"{at}.id", "duplicate_program", message))
                    break
            else:
                programs.append(program)
        for index, raw in enumerate(_list(data, "customEvents", file, issues)):
            definition = _convert(CustomEventDefinition, raw, file, f"customEvents[{index}]", issues, None)
            if definition is not None:
                custom_events.append(definition)  # duplicates: compile_ruleset names them
    ruleset = Ruleset(
        settings=settings or Settings(),
        evaluation_groups=groups,
        campaigns=campaigns,
        loyalty_programs=programs,
        custom_events=custom_events,
    )
    issues += _check_references(ruleset, seen)
    if issues:
        raise DefinitionError(issues)
    return ruleset, seen


def _list(data: dict[str, Any], name: str, file: str, issues: list[DefinitionIssue]) -> list[Any]:
    value = data.get(name, [])
    if isinstance(value, list):
        return value
    issues.append(DefinitionIssue(file, name, "invalid_definition", "Expected a list."))
    return []


def _check_references(ruleset: Ruleset, origin: dict[int, tuple[str, str]]) -> list[DefinitionIssue]:
    issues: list[DefinitionIssue] = []
    names = [group.name for group in ruleset.evaluation_groups]
    for name in sorted({name for name in names if names.count(name) > 1}):
        issues.append(DefinitionIssue("", "evaluationGroups", "duplicate_group", f"Group {name!r} is defined twice."))
    known = {group.name for group in ruleset.groups()}
    for campaign in ruleset.campaigns:
        file, at = origin.get(campaign.id, ("", "campaigns[?]"))
        if campaign.evaluation_group not in known:
            issues.append(
                DefinitionIssue(
                    file,
                    f"{at}.evaluationGroup",
                    "unknown_group",
                    f"No evaluation group is named {campaign.evaluation_group!r}.",
                    campaign.name,
                )
            )
        start, end = campaign.start_time, campaign.end_time
        # Only comparable when both carry an offset or neither does (then both are in the application's timezone).
        if start and end and (start.tzinfo is None) == (end.tzinfo is None) and end <= start:
            message = "The campaign ends before it starts."
            issues.append(DefinitionIssue(file, f"{at}.endTime", "invalid_schedule", message, campaign.name))
    return issues
