"""Anonymous profiles merging into known customers.

A device seen before its customer is known has an anonymous profile (`anon-…`), and so has an Rfmcube guest
known only by email (`guest-…`). When a known customer claims one of their identifiers, the anonymous profile
merges into the customer: orders (their figures move with them), attributes (the customer's win), consents
(the latest decision per channel), identifiers (the customer's win per kind; device ids add up). Its claims
then answer for the customer, so the device or email resolves to the survivor from then on.

Every context holding data about the person takes part through the port (patron.customers.port): each absorbs
what it holds (orders move with their figures), then refiles what only names the person (stored answers,
notifications). Each step can be retried: orders move one transaction each, attributes are copied only where
missing, and the last step (identifiers, consents, the anonymous profile's deletion) is one version-checked
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from patron.clock import Clock, SystemClock, iso
from patron.customers.port import PersonalData
from patron.errors import ConflictError
from patron.profiles.consents import merged
from patron.profiles.identifiers import MAX_DEVICE_IDS, IdentifierKind, IdentifierPatch, Identifiers
from patron.profiles.model import (
    DEVICE_PREFIX,
    CustomerProfile,
    IdentifierTakenError,
    VersionConflictError,
    is_anonymous,
)
from patron.profiles.repository import ProfileRepository
from patron.profiles.service import ProfileService

_ATTEMPTS = 4


def _requested_claims(patch: IdentifierPatch) -> list[tuple[IdentifierKind, str]]:
    claims = [(IdentifierKind.DEVICE_ID, device) for device in sorted(patch.add_device_ids)]
    for kind, value in (
        (IdentifierKind.EMAIL, patch.email),
        (IdentifierKind.PHONE, patch.phone),
        (IdentifierKind.CRM_ID, patch.crm_id),
    ):
        if isinstance(value, str):
            claims.append((kind, value))
    return claims


def _combined(survivor: Identifiers, absorbed: Identifiers) -> Identifiers:
    devices = survivor.device_ids | absorbed.device_ids
    if len(devices) > MAX_DEVICE_IDS:  # the survivor's own devices first, then the newest we can keep
        devices = survivor.device_ids | frozenset(
            sorted(absorbed.device_ids)[: MAX_DEVICE_IDS - len(survivor.device_ids)]
        )
    return Identifiers(
        email=survivor.email or absorbed.email,
        phone=survivor.phone or absorbed.phone,
        crm_id=survivor.crm_id or absorbed.crm_id,
        device_ids=devices,
    )


class CustomerMerger:
    def __init__(
        self,
        profiles: ProfileService,
        repository: ProfileRepository,
        holders: Sequence[PersonalData],
        clock: Clock | None = None,
    ):
        self._profiles = profiles
        self._repository = repository
        self._holders = holders
        self._clock = clock or SystemClock()

    def update_customer(
        self,
        application_id: int,
        integration_id: str,
        attributes: dict[str, Any],
        identifiers: IdentifierPatch,
        expected_version: int | None = None,
        consents: dict[str, Any] | None = None,
    ) -> CustomerProfile:
        """ProfileService.update_customer, merging in any anonymous profile that holds a claimed identifier."""
        for _ in range(_ATTEMPTS):
            try:
                return self._profiles.update_customer(
                    application_id, integration_id, attributes, identifiers, expected_version, consents
                )
            except IdentifierTakenError:
                if is_anonymous(integration_id) or not self._absorb_holders(
                    application_id, integration_id, identifiers, expected_version
                ):
                    raise
        raise ConflictError("The customer is being changed by other requests; try again.", "concurrent_update")

    def track_device(
        self, application_id: int, device_id: str, attributes: dict[str, Any], consents: dict[str, Any] | None
    ) -> CustomerProfile:
        """Updates whoever holds the device: its customer, or an anonymous profile created for it."""
        patch = IdentifierPatch(add_device_ids=frozenset({device_id}))
        for _ in range(_ATTEMPTS):
            owner = self._repository.owner_of(application_id, IdentifierKind.DEVICE_ID, device_id)
            target = owner or f"{DEVICE_PREFIX}{uuid.uuid4().hex}"
            try:
                return self._profiles.update_customer(
                    application_id, target, attributes, patch if owner is None else IdentifierPatch(), None, consents
                )
            except IdentifierTakenError:
                continue  # another request created the device's profile first: update that one
        raise ConflictError("The device is being changed by other requests; try again.", "concurrent_update")

    def link_email(self, application_id: int, customer_id: str, email: str) -> None:
        """An order names its customer by id and email (Rfmcube's merge_order): a guest holding the email merges
        into the customer; a free email is given to a customer who has none. A known customer holding it keeps
        it: the order still belongs to the id it names."""
        owner = self._repository.owner_of(application_id, IdentifierKind.EMAIL, email)
        if owner == customer_id:
            return
        if owner is not None:
            if is_anonymous(owner):
                self.absorb(application_id, customer_id, owner)
            return
        current = self._repository.get(application_id, customer_id)
        if current is None or current.identifiers.email is None:
            # Claimed meanwhile by someone else: the order still names its customer by id.
            with suppress(IdentifierTakenError):
                self._profiles.update_customer(application_id, customer_id, {}, IdentifierPatch(email=email))

    def _absorb_holders(
        self, application_id: int, survivor_id: str, patch: IdentifierPatch, expected_version: int | None
    ) -> bool:
        """Merges the anonymous holders of the identifiers the customer claims, but only if the whole update
        can then succeed: nothing is merged when a known customer holds one, or the version does not match."""
        holders = {
            owner
            for kind, value in _requested_claims(patch)
            if (owner := self._repository.owner_of(application_id, kind, value)) not in (None, survivor_id)
        }
        if not holders or not all(is_anonymous(owner) for owner in holders if owner is not None):
            return False
        if expected_version is not None:
            current = self._repository.get(application_id, survivor_id)
            if (current.version if current else 0) != expected_version:
                raise VersionConflictError()
        for owner in sorted(holder for holder in holders if holder is not None):
            self.absorb(application_id, survivor_id, owner)
        return True

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        for _ in range(_ATTEMPTS):
            self._absorb_once(application_id, survivor_id, absorbed_id)
            # An order may have reached the anonymous profile while it was merging (and re-created it for its
            # figures): merge again until nothing is left behind.
            left = any(holder.still_holds(application_id, absorbed_id) for holder in self._holders)
            if not left and self._repository.get(application_id, absorbed_id) is None:
                return
        raise ConflictError("The customers are being changed by other requests; try again.", "concurrent_update")

    def _absorb_once(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        for holder in self._holders:
            holder.absorb(application_id, survivor_id, absorbed_id)
        for holder in self._holders:
            # What was recorded for the anonymous profile now concerns the customer (and is erased with them).
            holder.refile(application_id, absorbed_id, survivor_id)
        for _ in range(_ATTEMPTS):
            absorbed = self._repository.get(application_id, absorbed_id)
            if absorbed is None:
                return  # merged by another request meanwhile
            now = iso(self._clock.now())
            self._repository.copy_missing_attributes(application_id, survivor_id, absorbed.attributes, now)
            survivor = self._repository.get(application_id, survivor_id)
            identifiers = _combined(survivor.identifiers if survivor else Identifiers(), absorbed.identifiers)
            consents = merged(survivor.consents if survivor else {}, absorbed.consents)
            try:
                self._repository.absorb(application_id, survivor, survivor_id, absorbed, identifiers, consents, now)
                return
            except VersionConflictError:
                continue
        raise ConflictError("The customers are being changed by other requests; try again.", "concurrent_update")
