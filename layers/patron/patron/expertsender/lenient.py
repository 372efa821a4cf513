"""Reading ExpertSender payloads as its clients really send them (docs/research/expertsender-wire.md, D10 to D12):
member names in any letter case (`Name`/`Value`, `MatchBy`), numbers as strings (`"49.99"`, `"3"`) and ids as
numbers (`customerId: 53492`), enum values in any case, and `null` or `""` for anything absent. Every problem is
collected with its path (`data[2].totalValue`), so one answer names them all."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from patron.errors import FieldIssue

MAX_TEXT = 1000  # any text member not bounded more tightly


def folded(value: Any) -> dict[str, Any] | None:
    """A JSON object with its member names in lower case (the last of two spellings wins); None otherwise."""
    if not isinstance(value, Mapping):
        return None
    return {str(name).lower(): member for name, member in value.items()}


class Reader:
    """Reads members of folded objects, collecting the issues."""

    def __init__(self) -> None:
        self.issues: list[FieldIssue] = []

    def problem(self, path: str, message: str, code: str = "invalid_value") -> None:
        self.issues.append(FieldIssue(path, code, message))

    def object(self, value: Any, path: str, required: bool = False) -> dict[str, Any] | None:
        if value is None:
            if required:
                self.problem(path, "Required.", "missing_field")
            return None
        found = folded(value)
        if found is None:
            self.problem(path, "Expected an object.")
        return found

    def array(self, value: Any, path: str, required: bool = False) -> list[Any]:
        if value is None:
            if required:
                self.problem(path, "Required.", "missing_field")
            return []
        if not isinstance(value, list):
            self.problem(path, "Expected an array.")
            return []
        return value

    def text(self, value: Any, path: str, max_length: int = MAX_TEXT, required: bool = False) -> str | None:
        """Text, or a number written as its decimal digits (an id sent as a number); "" and null are absent."""
        if isinstance(value, bool):
            self.problem(path, "Expected text.")
            return None
        if isinstance(value, int | Decimal):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(path, "Required.", "missing_field")
            return None
        if not isinstance(value, str):
            self.problem(path, "Expected text.")
            return None
        if len(value) > max_length:
            self.problem(path, f"At most {max_length} characters.", "too_long")
            return None
        return value

    def number(self, value: Any, path: str, required: bool = False) -> Decimal | None:
        """A number, or text holding one (`"49.99"`); "" and null are absent."""
        if isinstance(value, bool):
            self.problem(path, "Expected a number.")
            return None
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, Decimal):
            return value
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(path, "Required.", "missing_field")
            return None
        if isinstance(value, str) and len(value) <= 40:
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                pass
            else:
                if number.is_finite():
                    return number
        self.problem(path, "Expected a number.")
        return None

    def integer(self, value: Any, path: str, required: bool = False) -> int | None:
        number = self.number(value, path, required)
        if number is None:
            return None
        if number != number.to_integral_value() or abs(number) >= 2**31:
            self.problem(path, "Expected a whole number (32 bits).")
            return None
        return int(number)

    def choice(self, value: Any, path: str, choices: Mapping[str, str], required: bool = False) -> str | None:
        """One of `choices` (keys in lower case, values canonical), in any letter case."""
        text = self.text(value, path, 64, required)
        if text is None:
            return None
        found = choices.get(text.strip().lower())
        if found is None:
            allowed = ", ".join(sorted(set(choices.values())))
            self.problem(path, f"One of: {allowed}.")
        return found

    def boolean(self, value: Any, path: str) -> bool | None:
        if isinstance(value, bool) or value is None:
            return value
        text = self.text(value, path, 8)
        if text is None:
            return None
        found = {"true": True, "1": True, "false": False, "0": False}.get(text.strip().lower())
        if found is None:
            self.problem(path, "Expected true or false.")
        return found


def name_values(reader: Reader, value: Any, path: str) -> dict[str, Any]:
    """`[{name, value}]` (any letter case) as a mapping; a null value is absent (D6), a repeated name the last."""
    found: dict[str, Any] = {}
    for index, raw in enumerate(reader.array(value, path)):
        at = f"{path}[{index}]"
        pair = reader.object(raw, at, required=True)
        if pair is None:
            continue
        name = reader.text(pair.get("name"), f"{at}.name", 256, required=True)
        member = pair.get("value")
        if name is None or member is None:
            continue
        if isinstance(member, list | dict):
            reader.problem(f"{at}.value", "Expected text, a number or a boolean.")
            continue
        found[name] = member
    return found
