"""The checks creating coupons and creating referral codes share (patron.coupons.service, patron.referrals.service
and patron.referrals.codes): control characters in a code or an id, a validity period, custom attributes, and the
400 that names every fault. Creation code: the sessions function does not import it."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from patron.errors import FieldIssue, ValidationError
from patron.http import jsonbody
from patron.http.text import NOT_TEXT

MAX_REPORTED_ISSUES = 100
MAX_ATTRIBUTES_BYTES = 10 * 1024


def invalid(issues: list[FieldIssue]) -> ValidationError:
    """A creation refused: nothing written, the first MAX_REPORTED_ISSUES faults named."""
    return ValidationError("The request is invalid; nothing was written.", issues[:MAX_REPORTED_ISSUES])


def has_control(text: str) -> bool:
    """Whether `text` holds a control character (or a lone surrogate)."""
    return any(unicodedata.category(character) in ("Cc", "Cs") for character in text)


def _at(root: str, name: str) -> str:
    return f"{root}.{name}" if root else name


def period_issues(start: datetime | None, expiry: datetime | None, root: str = "") -> list[FieldIssue]:
    """Faults of a validity period: a date without its offset, an expiry not after the start."""
    issues: list[FieldIssue] = []
    for name, moment in (("startDate", start), ("expiryDate", expiry)):
        if moment is not None and moment.tzinfo is None:
            issues.append(FieldIssue(_at(root, name), "invalid_date", "A date-time with its offset (RFC 3339)."))
    if start and expiry and start.tzinfo and expiry.tzinfo and expiry <= start:
        message = "The expiry date must be after the start date."
        issues.append(FieldIssue(_at(root, "expiryDate"), "invalid_date", message))
    return issues


def attributes_issues(attributes: Mapping[str, Any], noun: str, root: str = "") -> list[FieldIssue]:
    """Faults of custom attributes (`noun`: whose, in the message): text that cannot be stored, or more than
    MAX_ATTRIBUTES_BYTES of JSON."""
    if not attributes:
        return []
    values = dict(attributes)
    unencodable = jsonbody.unencodable_paths(values, _at(root, "attributes"))
    issues = [FieldIssue(path, "invalid_text", NOT_TEXT) for path in unencodable]
    if not unencodable and jsonbody.encoded_size(values) > MAX_ATTRIBUTES_BYTES:
        message = f"{noun} attributes take at most {MAX_ATTRIBUTES_BYTES} bytes of JSON."
        issues.append(FieldIssue(_at(root, "attributes"), "attributes_too_large", message))
    return issues
