"""The customer profile entity, and the rules every attribute value must satisfy before it is stored."""

from __future__ import annotations

import random
import time
import uuid
from decimal import Decimal
from typing import Any

import msgspec

from patron.errors import ConflictError, FieldIssue, ValidationError
from patron.http.jsonbody import encoded_size
from patron.profiles.consents import Consent
from patron.profiles.identifiers import Identifiers
from patron.profiles.stats import CustomerStats

MAX_INTEGRATION_ID_LENGTH = 1000  # Talon.One's CustomerProfile.integrationId maxLength, in characters
# ... and in UTF-8 bytes: the id is part of a partition key (2048 bytes at most, with our prefix).
MAX_INTEGRATION_ID_BYTES = 1024
MAX_ATTRIBUTE_NAME_LENGTH = 255
MAX_ATTRIBUTE_VALUE_BYTES = 16 * 1024  # one value, as JSON; the whole profile must also fit a 400 KB item
# One UpdateItem carries every attribute of a request, and DynamoDB caps an update expression at 4 KB:
# 200 placeholders ("#a199=:a199," is 12 bytes) plus the fixed part stay well under it.
MAX_ATTRIBUTES_PER_REQUEST = 200
MAX_NESTING_DEPTH = 16  # DynamoDB allows 32 levels; half leaves room for our own structure
# DynamoDB numbers: 38 significant digits, magnitudes 1E-130 .. 9.99E+125.
MAX_NUMBER_DIGITS = 38


# Profiles Patron creates for someone not yet known: a device seen before its customer (Maestra's DeviceUUID), a
# guest known only by email (Rfmcube). When a known customer claims one of their identifiers, they merge into it.
DEVICE_PREFIX = "anon-"
GUEST_PREFIX = "guest-"


def new_guest_id() -> str:
    """The id of a guest: a customer Patron creates, known only by the identifiers an order or event names."""
    return f"{GUEST_PREFIX}{uuid.uuid4().hex}"


def is_anonymous(integration_id: str) -> bool:
    return integration_id.startswith((DEVICE_PREFIX, GUEST_PREFIX))


def reserved_id_issue(integration_id: str, path: str = "integrationId") -> FieldIssue | None:
    """Clients cannot choose ids Patron gives anonymous profiles: such a customer would be merged away."""
    if is_anonymous(integration_id):
        return FieldIssue(path, "reserved_id", f"Ids starting with {DEVICE_PREFIX} or {GUEST_PREFIX} are Patron's own.")
    return None


_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def new_profile_id() -> int:
    """A numeric id (Talon.One's CustomerProfile.id is an integer): time-ordered, 12 random bits, < 2**53."""
    return ((int(time.time() * 1000) - _EPOCH_MS) << 12) | random.getrandbits(12)


class CustomerProfile(msgspec.Struct, frozen=True):
    application_id: int
    integration_id: str
    profile_id: int
    created: str
    updated: str
    last_activity: str
    version: int
    closed_sessions: int = 0
    total_sales: Decimal = Decimal(0)
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)
    identifiers: Identifiers = msgspec.field(default_factory=Identifiers)
    stats: CustomerStats = msgspec.field(default_factory=CustomerStats)
    consents: dict[str, Consent] = msgspec.field(default_factory=dict)
    # The audiences the profile belongs to: audience id -> the audience's generation when it joined.
    audiences: dict[int, int] = msgspec.field(default_factory=dict)


def _is_text(value: str) -> bool:
    """Encodable as UTF-8 (a JSON escape can smuggle in a lone surrogate, which DynamoDB cannot store)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def integration_id_issue(integration_id: str) -> FieldIssue | None:
    if not integration_id or not integration_id.strip():
        return FieldIssue("integrationId", "invalid_value", "The integration id must not be empty.")
    if not _is_text(integration_id):
        return FieldIssue("integrationId", "invalid_value", "The integration id is not valid text.")
    if len(integration_id) > MAX_INTEGRATION_ID_LENGTH or len(integration_id.encode()) > MAX_INTEGRATION_ID_BYTES:
        return FieldIssue(
            "integrationId",
            "too_long",
            f"The integration id has at most {MAX_INTEGRATION_ID_LENGTH} characters"
            f" and {MAX_INTEGRATION_ID_BYTES} bytes of UTF-8.",
        )
    return None


def value_issues(value: Any, path: str, depth: int = 1) -> list[FieldIssue]:
    """Why a JSON value cannot be stored in DynamoDB (each issue with its path); empty when it can."""
    # Nearly every value can: checked first without building a path per element (a session's cart is ~360
    # values, and the paths were most of the check's time).
    if _storable(value, depth):
        return []
    return _value_issues(value, path, depth)


def _storable(value: Any, depth: int) -> bool:
    if depth > MAX_NESTING_DEPTH:
        return False
    kind = type(value)
    if kind is str:
        return value.isascii() or _is_text(value)
    if kind is bool or value is None:
        return True
    if kind is dict:
        return all(type(key) is str and key and (key.isascii() or _is_text(key)) for key in value) and all(
            _storable(item, depth + 1) for item in value.values()
        )
    if kind is list:
        return all(_storable(item, depth + 1) for item in value)
    if kind is int or kind is Decimal:
        number = Decimal(value)
        if number.is_zero():
            return True
        return len(number.as_tuple().digits) <= MAX_NUMBER_DIGITS and -130 <= number.adjusted() <= 125
    return False  # anything else (a subclass, another type): the full check says why


def _value_issues(value: Any, path: str, depth: int = 1) -> list[FieldIssue]:
    if depth > MAX_NESTING_DEPTH:
        return [FieldIssue(path, "too_deep", f"Values nest at most {MAX_NESTING_DEPTH} levels.")]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, str):
        return [] if _is_text(value) else [FieldIssue(path, "invalid_value", "Not valid text.")]
    if isinstance(value, int | Decimal):
        number = Decimal(value)
        if number.is_zero():
            return []  # any zero is stored as 0 (jsonbody normalises 0E+999999)
        digits = len(number.as_tuple().digits)
        if digits > MAX_NUMBER_DIGITS or not -130 <= number.adjusted() <= 125:
            return [FieldIssue(path, "number_out_of_range", "Numbers have at most 38 significant digits.")]
        return []
    if isinstance(value, list):
        return [issue for i, item in enumerate(value) for issue in _value_issues(item, f"{path}[{i}]", depth + 1)]
    if isinstance(value, dict):
        issues = []
        for key, item in value.items():
            if not key or not _is_text(key):
                issues.append(FieldIssue(f"{path}.{key}", "invalid_name", "Map keys must be non-empty text."))
            else:
                issues.extend(_value_issues(item, f"{path}.{key}", depth + 1))
        return issues
    return [FieldIssue(path, "invalid_type", "Unsupported value type.")]


def attribute_issues(attributes: dict[str, Any]) -> list[FieldIssue]:
    """Every reason these attributes cannot be stored, each with its field path; empty when they can."""
    issues: list[FieldIssue] = []
    if len(attributes) > MAX_ATTRIBUTES_PER_REQUEST:
        issues.append(
            FieldIssue("attributes", "too_many", f"At most {MAX_ATTRIBUTES_PER_REQUEST} attributes per request.")
        )
    for name, value in attributes.items():
        path = f"attributes.{name}"
        if not name or len(name) > MAX_ATTRIBUTE_NAME_LENGTH or not _is_text(name):
            issues.append(
                FieldIssue(path, "invalid_name", f"Attribute names have 1 to {MAX_ATTRIBUTE_NAME_LENGTH} characters.")
            )
            continue
        nested = value_issues(value, path, 1)
        if nested:
            issues.extend(nested)
        elif encoded_size(value) > MAX_ATTRIBUTE_VALUE_BYTES:
            issues.append(
                FieldIssue(
                    path,
                    "value_too_large",
                    f"An attribute value is at most {MAX_ATTRIBUTE_VALUE_BYTES} bytes.",
                )
            )
    return issues


class ProfileTooLargeError(ValidationError):
    """The merge is valid on its own, but the stored profile would pass DynamoDB's 400 KB item limit."""

    def __init__(self, root: str = "") -> None:
        issue = FieldIssue("attributes", "profile_too_large", "The profile would exceed the 400 KB stored limit.")
        super().__init__("The profile would exceed the maximum stored size.", [issue.under(root) if root else issue])


class VersionConflictError(ConflictError):
    """The profile changed since it was read (a parallel update): nothing was written."""

    def __init__(self) -> None:
        super().__init__("The profile was changed by another request; read it and try again.", "version_conflict")


class IdentifierTakenError(ConflictError):
    """Another profile of the application holds this identifier: nothing was written."""

    def __init__(self, path: str) -> None:
        super().__init__("Another customer already has this identifier.", "identifier_taken")
        self.details = [FieldIssue(path, "identifier_taken", "Another customer already has this identifier.")]
