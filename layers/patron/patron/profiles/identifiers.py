"""A customer's identifiers besides the integration id: email, phone, CRM id and device ids.

Each is unique within an application, claimed by an item of its own (see keys.identifier_pk), and stored
normalised: emails trimmed and case-folded, phones in E.164, CRM and device ids trimmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Literal

import msgspec

from patron.errors import FieldIssue, ValidationError

MAX_EMAIL_LENGTH = 254  # RFC 5321's path limit
MAX_ID_LENGTH = 255
MAX_DEVICE_IDS = 20  # per customer: bounds the claims one write may carry (a transaction takes 100 items)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
# ASCII digits only: other scripts' digits would let two spellings of one number be two identifiers.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CRM_ID = "crmId"
    DEVICE_ID = "deviceId"


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalise_email(raw: str) -> str | None:
    email = raw.strip().casefold()
    return email if len(email) <= MAX_EMAIL_LENGTH and _is_text(email) and _EMAIL.fullmatch(email) else None


def normalise_phone(raw: str) -> str | None:
    """E.164: '+', country code and number, 8 to 15 digits. Separators are dropped and a leading 00 reads as +;
    a number without its country code cannot be placed, so it is refused rather than guessed."""
    phone = _PHONE_SEPARATORS.sub("", raw.strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    return phone if _E164.fullmatch(phone) else None


def normalise_id(raw: str) -> str | None:
    value = raw.strip()
    return value if 0 < len(value) <= MAX_ID_LENGTH and value.isprintable() and _is_text(value) else None


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | set | frozenset | tuple) else []


class Identifiers(msgspec.Struct, frozen=True):
    email: str | None = None
    phone: str | None = None
    crm_id: str | None = None
    device_ids: frozenset[str] = msgspec.field(default_factory=frozenset)

    def claims(self) -> set[tuple[IdentifierKind, str]]:
        found: set[tuple[IdentifierKind, str]] = {(IdentifierKind.DEVICE_ID, d) for d in self.device_ids}
        for kind, value in (
            (IdentifierKind.EMAIL, self.email),
            (IdentifierKind.PHONE, self.phone),
            (IdentifierKind.CRM_ID, self.crm_id),
        ):
            if value is not None:
                found.add((kind, value))
        return found

    def as_dict(self) -> dict[str, object]:
        stored: dict[str, object] = {}
        if self.email is not None:
            stored["email"] = self.email
        if self.phone is not None:
            stored["phone"] = self.phone
        if self.crm_id is not None:
            stored["crmId"] = self.crm_id
        if self.device_ids:
            stored["deviceIds"] = sorted(self.device_ids)
        return stored

    @classmethod
    def from_dict(cls, stored: dict[str, object] | None) -> Identifiers:
        stored = stored or {}
        return cls(
            email=str(stored["email"]) if "email" in stored else None,
            phone=str(stored["phone"]) if "phone" in stored else None,
            crm_id=str(stored["crmId"]) if "crmId" in stored else None,
            device_ids=frozenset(str(d) for d in _as_list(stored.get("deviceIds"))),
        )


class Keep(Enum):
    """An identifier the request did not mention: left as it is (None, by contrast, removes it)."""

    KEEP = "keep"


KEEP = Keep.KEEP
Change = str | None | Literal[Keep.KEEP]


class IdentifierPatch(msgspec.Struct, frozen=True):
    """What a request says of the identifiers: a value sets, None removes, KEEP leaves as is; device ids are
    added or removed one by one (a device, once tied to a customer, stays theirs until removed)."""

    email: Change = KEEP
    phone: Change = KEEP
    crm_id: Change = KEEP
    add_device_ids: frozenset[str] = frozenset()
    remove_device_ids: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return (
            self.email is KEEP
            and self.phone is KEEP
            and self.crm_id is KEEP
            and not self.add_device_ids
            and not self.remove_device_ids
        )

    def applied_to(self, current: Identifiers) -> Identifiers:
        devices = (current.device_ids | self.add_device_ids) - self.remove_device_ids
        if len(devices) > MAX_DEVICE_IDS and len(devices) > len(current.device_ids):
            raise ValidationError(
                "Too many device ids.",
                [FieldIssue("deviceIds", "too_many", f"A customer holds at most {MAX_DEVICE_IDS} device ids.")],
            )
        return Identifiers(
            email=current.email if self.email is KEEP else self.email,
            phone=current.phone if self.phone is KEEP else self.phone,
            crm_id=current.crm_id if self.crm_id is KEEP else self.crm_id,
            device_ids=frozenset(devices),
        )


def parse_patch(
    email: Change = KEEP,
    phone: Change = KEEP,
    crm_id: Change = KEEP,
    device_ids: list[str] | None = None,
    remove_device_ids: list[str] | None = None,
) -> tuple[IdentifierPatch, list[FieldIssue]]:
    """Normalises what a request sent; every value that cannot be normalised is an issue with its path."""
    issues: list[FieldIssue] = []

    def one(value: Change, path: str, normalise: Callable[[str], str | None], what: str) -> Change:
        if value is KEEP or value is None:
            return value
        normalised = normalise(value)
        if normalised is None:
            issues.append(FieldIssue(path, "invalid_value", f"Not a valid {what}."))
        return normalised

    patch_email = one(email, "email", normalise_email, "email address")
    patch_phone = one(phone, "phone", normalise_phone, "phone number in international form (+ and country code)")
    patch_crm = one(crm_id, "crmId", normalise_id, "CRM id (1 to 255 printable characters)")
    added: set[str] = set()
    for index, raw in enumerate(device_ids or []):
        device = normalise_id(raw)
        if device is None:
            issues.append(FieldIssue(f"deviceIds[{index}]", "invalid_device_id", "Not a valid device id."))
        else:
            added.add(device)
    if len(added) > MAX_DEVICE_IDS:
        issues.append(FieldIssue("deviceIds", "too_many", f"At most {MAX_DEVICE_IDS} device ids per customer."))
    if len(remove_device_ids or []) > MAX_DEVICE_IDS:
        issues.append(FieldIssue("removeDeviceIds", "too_many", f"At most {MAX_DEVICE_IDS} device ids."))
    removed = {d for d in (normalise_id(raw) for raw in remove_device_ids or []) if d is not None}
    patch = IdentifierPatch(patch_email, patch_phone, patch_crm, frozenset(added), frozenset(removed))
    return patch, issues
