"""Customer profile use cases: create-or-merge (one or many), read, erase."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import msgspec

from patron.catalog.model import EntityKind
from patron.catalog.service import AttributeTypeTakenError, CatalogAdditions, PendingAdditions
from patron.clock import Clock, SystemClock, iso, normalise_timestamp
from patron.dynamo.committer import Write
from patron.errors import ConflictError, FieldIssue, NotFoundError, PatronError, ValidationError
from patron.profiles.consents import Consent, merged, parse_consents
from patron.profiles.identifiers import (
    IdentifierKind,
    IdentifierPatch,
    Identifiers,
    normalise_email,
    normalise_id,
    normalise_phone,
)
from patron.profiles.model import (
    CustomerProfile,
    VersionConflictError,
    attribute_issues,
    integration_id_issue,
    new_profile_id,
    reserved_id_issue,
)
from patron.profiles.repository import ProfileChange, ProfileRepository, ProfileUpdate

MAX_PROFILES_PER_BULK_UPDATE = 1000  # Talon.One's limit for PUT /v2/customer_profiles
# A read-modify-write that loses a race re-reads and re-applies (nothing is lost); after this many races in a
# row, the caller gets 409.
WRITE_ATTEMPTS = 4
# New attributes' descriptors ride in the profile's own transaction (100 items at most, of which the profile and
# its identifier claims and releases take up to 47). A write adding more registers them first, on their own.
MAX_DESCRIPTORS_PER_WRITE = 50


_NO_CHANGE = IdentifierPatch()

_NORMALISERS = {
    IdentifierKind.EMAIL: normalise_email,
    IdentifierKind.PHONE: normalise_phone,
    IdentifierKind.CRM_ID: normalise_id,
    IdentifierKind.DEVICE_ID: normalise_id,
}


def _issues(integration_id: str, attributes: dict[str, Any], client_id: bool = False) -> list[FieldIssue]:
    """`client_id`: the id comes from a client, who may not use the prefixes of anonymous profiles."""
    checks = [integration_id_issue(integration_id), reserved_id_issue(integration_id) if client_id else None]
    return [issue for issue in checks if issue] + attribute_issues(attributes)


def _check_integration_id(integration_id: str) -> None:
    issue = integration_id_issue(integration_id)
    if issue:
        raise ValidationError("The integration id is invalid.", [issue])


def _as_update(integration_id: str, attributes: dict[str, Any]) -> ProfileUpdate:
    return ProfileUpdate(
        integration_id=integration_id,
        set_attributes={name: value for name, value in attributes.items() if value is not None},
        remove=[name for name, value in attributes.items() if value is None],
    )


def _merged(application_id: int, current: CustomerProfile | None, update: ProfileUpdate, now: str) -> CustomerProfile:
    """The profile `upsert` would store for `update` over `current`: a dry call's answer."""
    if current is None:
        current = CustomerProfile(
            application_id=application_id,
            integration_id=update.integration_id,
            profile_id=new_profile_id(),
            created=now,
            updated=now,
            last_activity=now,
            version=0,
        )
    attributes = {**current.attributes, **update.set_attributes}
    for name in update.remove:
        attributes.pop(name, None)
    return msgspec.structs.replace(current, updated=now, version=current.version + 1, attributes=attributes)


class AttributeCatalog(Protocol):
    """The attribute catalog (patron.catalog): types inferred on first use, another type refused. Checking
    decides (and writes nothing); what a check decided is written as items of the writer's own transaction
    (`items`, then `written`), or on its own (`register`)."""

    def check_many(
        self,
        application_id: int,
        kind: EntityKind,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        overwrite: bool = False,
        pending: PendingAdditions | None = None,
    ) -> CatalogAdditions: ...

    def register(self, additions: CatalogAdditions) -> None: ...

    def items(self, additions: CatalogAdditions) -> list[Write]: ...

    def written(self, additions: CatalogAdditions) -> None: ...

    def recheck(self, additions: Sequence[CatalogAdditions]) -> list[CatalogAdditions]: ...

    def check_and_register_many(
        self,
        application_id: int,
        kind: EntityKind,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        overwrite: bool = False,
    ) -> None: ...


class ProfileService:
    def __init__(
        self, repository: ProfileRepository, clock: Clock | None = None, catalog: AttributeCatalog | None = None
    ):
        self._repository = repository
        self._clock = clock or SystemClock()
        self._catalog = catalog

    def update(
        self, application_id: int, integration_id: str, attributes: dict[str, Any], dry: bool = False
    ) -> CustomerProfile:
        """Creates the profile if new; merges `attributes` into it (a null value removes that attribute). The
        descriptors of attributes new to the catalog are written in the profile's own transaction, or not at all.
        `dry`: checked exactly the same way, and the profile it would make answered, but nothing is written (not
        the profile, not the catalog's new attributes)."""
        issues = _issues(integration_id, attributes, client_id=True)
        if issues:
            raise ValidationError("The profile update is invalid.", issues)
        additions = self._check(application_id, EntityKind.CUSTOMER, [("", attributes)])
        update = _as_update(integration_id, attributes)
        now = iso(self._clock.now())
        if dry:
            return _merged(application_id, self._repository.get(application_id, integration_id), update, now)
        if not additions:
            # Nothing new for the catalog: one UpdateItem creates or merges, without reading first.
            return self._repository.upsert(application_id, integration_id, update.set_attributes, update.remove, now)
        return self._write(application_id, update, additions)

    def register_attributes(self, application_id: int, attributes: dict[str, Any]) -> None:
        """What `update` checks of `attributes` (storable, typed as the catalog says), and the new ones registered
        in the catalog: a change made later to many profiles (an audience's members) is refused now, or the
        catalog agrees with it for every member, rather than member by member."""
        issues = attribute_issues(attributes)
        if issues:
            raise ValidationError("The attributes are invalid.", issues)
        for additions in self._check(application_id, EntityKind.CUSTOMER, [("", attributes)]):
            self._register(additions)

    def _check(
        self,
        application_id: int,
        kind: EntityKind,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        pending: PendingAdditions | None = None,
    ) -> list[CatalogAdditions]:
        """Every value's type checked against the catalog, writing nothing: what the call adds to it, if anything."""
        if self._catalog is None:
            return []
        additions = self._catalog.check_many(application_id, kind, items, pending=pending)
        return [additions] if additions.types else []

    def update_many(self, application_id: int, items: list[tuple[str, dict[str, Any]]]) -> list[CustomerProfile]:
        """Updates up to 1000 profiles. Every item is validated before anything is written; the same integration
        id twice merges in request order (later values win). Returns the resulting profile for each item."""
        if len(items) > MAX_PROFILES_PER_BULK_UPDATE:
            raise ValidationError(
                "Too many profiles in one request.",
                [FieldIssue("customerProfiles", "too_many", f"At most {MAX_PROFILES_PER_BULK_UPDATE} profiles.")],
            )
        issues = [
            issue.under(f"customerProfiles[{index}]")
            for index, (integration_id, attributes) in enumerate(items)
            for issue in _issues(integration_id, attributes, client_id=True)
        ]
        if issues:
            raise ValidationError("The profile update is invalid.", issues)
        roots = [(f"customerProfiles[{index}]", attributes) for index, (_, attributes) in enumerate(items)]
        # A thousand profiles cannot share one transaction: the new attributes are registered first, so a value is
        # never stored without its descriptor (a descriptor may stay without one, if every write using it fails).
        for additions in self._check(application_id, EntityKind.CUSTOMER, roots):
            self._register(additions)
        merged_items: dict[str, dict[str, Any]] = {}
        for integration_id, attributes in items:
            merged_items.setdefault(integration_id, {}).update(attributes)
        updates = [_as_update(integration_id, attributes) for integration_id, attributes in merged_items.items()]
        outcomes = self._repository.upsert_many(application_id, updates, iso(self._clock.now()))
        by_id = {update.integration_id: outcome for update, outcome in zip(updates, outcomes, strict=True)}
        failed = [
            (index, outcome)
            for index, (integration_id, _) in enumerate(items)
            if isinstance(outcome := by_id[integration_id], PatronError)
        ]
        if failed:
            if any(not isinstance(error, ValidationError) for _, error in failed):
                raise next(error for _, error in failed if not isinstance(error, ValidationError))
            raise ValidationError(
                "Some profiles could not be updated; the others were.",
                [issue.under(f"customerProfiles[{index}]") for index, error in failed for issue in error.details],
            )
        return [outcome for integration_id, _ in items if isinstance(outcome := by_id[integration_id], CustomerProfile)]

    def update_customer(
        self,
        application_id: int,
        integration_id: str,
        attributes: dict[str, Any],
        identifiers: IdentifierPatch,
        expected_version: int | None = None,
        consents: dict[str, Any] | None = None,
    ) -> CustomerProfile:
        """Creates or merges a customer with identifiers. `expected_version` (0: must be new) makes the write
        conditional for the caller: a mismatch is 409 `version_conflict`. Without it, a parallel update is
        absorbed by re-reading and re-applying, so no update is ever lost. An identifier held by another
        customer is 409 `identifier_taken`; nothing is written in either case (not the catalog's new attributes
        or consent channels either: they are items of the same transaction)."""
        given, consent_issues = parse_consents(consents or {}, iso(self._clock.now()), normalise_timestamp)
        issues = _issues(integration_id, attributes) + consent_issues
        if issues:
            raise ValidationError("The customer update is invalid.", issues)
        additions = self._check(application_id, EntityKind.CUSTOMER, [("", attributes)])
        if given:
            channels = {channel: consent.value for channel, consent in given.items()}
            additions += self._check(application_id, EntityKind.CONSENT, [("consents", channels)])
        update = _as_update(integration_id, attributes)
        if identifiers.empty and expected_version is None and not given and not additions:
            return self._repository.upsert(
                application_id, integration_id, update.set_attributes, update.remove, iso(self._clock.now())
            )
        return self._write(application_id, update, additions, identifiers, expected_version, given)

    def _write(
        self,
        application_id: int,
        update: ProfileUpdate,
        additions: list[CatalogAdditions],
        identifiers: IdentifierPatch = _NO_CHANGE,
        expected_version: int | None = None,
        consents: dict[str, Consent] | None = None,
    ) -> CustomerProfile:
        """Read, then one transaction conditional on the version read: the profile, the identifier claims it makes
        and releases, and the descriptors of the attributes (and consent channels) it adds to the catalog."""
        if sum(len(added.types) for added in additions) > MAX_DESCRIPTORS_PER_WRITE:
            for added in additions:
                self._register(added)
            additions = []
        descriptors = [item for added in additions for item in self._catalog_items(added)]
        integration_id = update.integration_id
        for _ in range(WRITE_ATTEMPTS):
            current = self._repository.get(application_id, integration_id)
            version = current.version if current else 0
            if expected_version is not None and expected_version != version:
                raise VersionConflictError()
            change = ProfileChange(
                integration_id=integration_id,
                set_attributes=update.set_attributes,
                remove=update.remove,
                identifiers=identifiers.applied_to(current.identifiers if current else Identifiers()),
                expected_version=version,
                now=iso(self._clock.now()),
                consents=merged(current.consents if current else {}, consents) if consents else None,
            )
            try:
                profile = self._repository.write(application_id, current, change, also=descriptors)
            except VersionConflictError:
                # The profile moved, or another transaction held one of the same items (a descriptor two requests
                # add at once): read again. With If-Match, the version read next decides between 409 and a retry.
                if expected_version is not None and not descriptors:
                    raise
                continue
            except AttributeTypeTakenError:
                # Another request registered one of the attributes meanwhile: its type refuses the values (400, as
                # a check would), or takes them and the descriptor leaves the next attempt.
                assert self._catalog is not None
                additions = self._catalog.recheck(additions)
                descriptors = [item for added in additions for item in self._catalog_items(added)]
                continue
            for added in additions:
                self._written(added)
            return profile
        raise ConflictError("The customer is being changed by other requests; try again.", "concurrent_update")

    def _catalog_items(self, additions: CatalogAdditions) -> list[Write]:
        return self._catalog.items(additions) if self._catalog is not None else []

    def _written(self, additions: CatalogAdditions) -> None:
        if self._catalog is not None:
            self._catalog.written(additions)

    def _register(self, additions: CatalogAdditions) -> None:
        if self._catalog is not None:
            self._catalog.register(additions)

    def new_customer(
        self,
        application_id: int,
        integration_id: str,
        attributes: dict[str, Any],
        identifiers: IdentifierPatch,
        pending: PendingAdditions,
    ) -> CustomerProfile:
        """The profile update_customer would create for a customer not stored yet, checked the same way (id,
        attributes, catalog types) but not written: for writers that store many new customers at once (an
        import's batches), which then write it only if it still does not exist. What it adds to the catalog joins
        `pending`, which the caller registers before writing the profile."""
        issues = _issues(integration_id, attributes)
        if issues:
            raise ValidationError("The customer update is invalid.", issues)
        self._check(application_id, EntityKind.CUSTOMER, [("", attributes)], pending)
        now = iso(self._clock.now())
        return CustomerProfile(
            application_id=application_id,
            integration_id=integration_id,
            profile_id=new_profile_id(),
            created=now,
            updated=now,
            last_activity=now,
            version=1,
            attributes=_as_update(integration_id, attributes).set_attributes,
            identifiers=identifiers.applied_to(Identifiers()),
        )

    def find(self, application_id: int, kind: IdentifierKind, value: str) -> CustomerProfile:
        """The customer holding an identifier (one index read, then the profile read)."""
        normalised = _NORMALISERS[kind](value)
        owner = self._repository.owner_of(application_id, kind, normalised) if normalised else None
        profile = self._repository.get(application_id, owner) if owner else None
        if profile is None:
            raise NotFoundError("No customer with this identifier.", code="customer_not_found")
        return profile

    def find_by_number(self, application_id: int, profile_id: int) -> CustomerProfile:
        """The customer with this numeric id (Talon.One's CustomerProfile.id; ExpertSender's customer id)."""
        holders = self._repository.holders_of_number(application_id, profile_id)
        if len(holders) > 1:
            # Ids are time-ordered with 12 random bits per millisecond: two profiles of one application created in
            # the same millisecond may share one. Never answer for the wrong person.
            raise ConflictError("Several customers have this id.", code="customer_id_ambiguous")
        profile = self._repository.get(application_id, holders[0]) if holders else None
        if profile is None:
            raise NotFoundError("No customer with this id.", code="customer_not_found")
        return profile

    def find_by_id(self, application_id: int, integration_id: str) -> CustomerProfile | None:
        """The profile, or None (also for an id that cannot exist)."""
        if integration_id_issue(integration_id) is not None:
            return None
        return self._repository.get(application_id, integration_id)

    def exists(self, application_id: int, integration_id: str) -> bool:
        return integration_id_issue(integration_id) is None and (
            self._repository.get(application_id, integration_id) is not None
        )

    def get(self, application_id: int, integration_id: str) -> CustomerProfile:
        _check_integration_id(integration_id)
        profile = self._repository.get(application_id, integration_id)
        if profile is None:
            raise NotFoundError("No customer profile with this integration id.", code="profile_not_found")
        return profile

    def erase(self, application_id: int, integration_id: str, current: CustomerProfile | None = None) -> None:
        """Deletes the profile and everything stored about the person under it."""
        _check_integration_id(integration_id)
        if not self._repository.erase(application_id, integration_id, current):
            raise NotFoundError("No customer profile with this integration id.", code="profile_not_found")
