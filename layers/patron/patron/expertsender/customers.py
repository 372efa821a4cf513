"""ECDP's customers (POST /customers, GET /customers/{email|phone|crmId}/{value}) on Patron's one customer model:
the same profiles, identifiers, attributes and consents as every other dialect (docs/expertsender.md).

A customer ECDP's clients create has no id of the shop's: Patron gives it a guest id (`guest-…`) and finds it by
its identifiers from then on, as it does for an order's unknown e-mail. A guest is absorbed into the customer that
later claims one of its identifiers (a Talon.One profile of the same e-mail), as any anonymous profile is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

import msgspec

from patron.catalog.model import AttributeDescriptor, EntityKind, is_iso_date
from patron.errors import FieldIssue, NotFoundError, UnsupportedFeatureError, ValidationError
from patron.expertsender.lenient import Reader, name_values
from patron.expertsender.lists import CUSTOMER_MEMBERS, channels_by_id, stable_id
from patron.expertsender.problems import ExpertSenderError
from patron.profiles.identifiers import KEEP, Change, IdentifierKind, IdentifierPatch, normalise_phone, parse_patch
from patron.profiles.model import CustomerProfile, IdentifierTakenError, new_guest_id

MAX_ITEMS = 1000  # research D15
SOURCE = "expertsender"  # the consents' source

MODES = {"add": "Add", "update": "Update", "addorupdate": "AddOrUpdate"}
MATCH_BY = {
    "email": "Email",
    "phonenumber": "PhoneNumber",
    "phone": "PhoneNumber",
    "crmid": "CrmId",
    "guid": "GUID",
    "visitorid": "visitorId",
}
GENDERS = {"male": "Male", "female": "Female", "notspecified": "NotSpecified"}
CONSENT_VALUES = {
    "true": "True",
    "false": "False",
    "awaitingconfirmation": "AwaitingConfirmation",
    "1": "True",
    "0": "False",
}
# matchBy: the identifier, and the customer's member holding it.
_KEYS = {
    "Email": (IdentifierKind.EMAIL, "email"),
    "PhoneNumber": (IdentifierKind.PHONE, "phone"),
    "CrmId": (IdentifierKind.CRM_ID, "crmId"),
    "visitorId": (IdentifierKind.DEVICE_ID, "visitorId"),
}


class SentCustomer(msgspec.Struct, frozen=True):
    path: str  # `data[3]`: where it sat in the request
    email: str | None
    phone: str | None
    crm_id: str | None
    visitor_id: str | None
    attributes: dict[str, Any]  # firstName, lastName, dateOfBirth, gender and the custom attributes
    consents: list[tuple[int, str, str]]  # (id, value: True|False|AwaitingConfirmation, path)


class CustomersPost(msgspec.Struct, frozen=True):
    mode: str
    match_by: str
    customers: list[SentCustomer]


def _date_of_birth(reader: Reader, value: Any, path: str) -> str | None:
    """A date or a date-time (Magento: `1990-05-01T00:00:00Z`), kept as the date."""
    text = reader.text(value, path, 40)
    if text is None:
        return None
    if not is_iso_date(text):
        reader.problem(path, "Expected an ISO-8601 date.")
        return None
    day = date.fromisoformat(text[:10])
    if not 1900 <= day.year <= 2999:
        reader.problem(path, "Expected a date between the years 1900 and 2999.")
        return None
    return day.isoformat()


def sent_consents(reader: Reader, raw: Any, path: str) -> list[tuple[int, str, str]]:
    """`consentsData: {consents: [{id, value}], force, confirmationMessageId}` as (id, value, path)s. `force`
    and `confirmationMessageId` are read past: consents are applied as sent (docs/expertsender.md)."""
    consents: list[tuple[int, str, str]] = []
    data = reader.object(raw, path)
    if data is None:
        return consents
    for index, one in enumerate(reader.array(data.get("consents"), f"{path}.consents")):
        at = f"{path}.consents[{index}]"
        consent = reader.object(one, at, required=True)
        if consent is None:
            continue
        consent_id = reader.integer(consent.get("id"), f"{at}.id", required=True)
        raw_value = consent.get("value")
        if isinstance(raw_value, bool):
            raw_value = str(raw_value).lower()
        value = reader.choice(raw_value, f"{at}.value", CONSENT_VALUES, required=True)
        if consent_id is not None and value is not None:
            consents.append((consent_id, value, at))
    return consents


def consent_changes(
    sent: list[tuple[int, str, str]], channels: dict[int, str], issues: list[FieldIssue]
) -> dict[str, Any]:
    """The consents as Patron's profile update takes them, by channel; an unknown id is an issue."""
    consents: dict[str, Any] = {}
    for consent_id, value, at in sent:
        channel = channels.get(consent_id)
        if channel is None:
            issues.append(FieldIssue(f"{at}.id", "unknown_consent", "No consent has this id (GET /customerconsents)."))
        elif value != "AwaitingConfirmation":  # not given yet: the consent stays as it is
            consents[channel] = {"value": value == "True", "source": SOURCE}
    return consents


def _customer(reader: Reader, raw: Any, path: str) -> SentCustomer | None:
    found = reader.object(raw, path, required=True)
    if found is None:
        return None
    attributes = name_values(reader, found.get("customattributes"), f"{path}.customAttributes")
    for member, name in (("firstname", "firstName"), ("lastname", "lastName")):
        if (text := reader.text(found.get(member), f"{path}.{name}", 256)) is not None:
            attributes[name] = text
    if (born := _date_of_birth(reader, found.get("dateofbirth"), f"{path}.dateOfBirth")) is not None:
        attributes["dateOfBirth"] = born
    if (gender := reader.choice(found.get("gender"), f"{path}.gender", GENDERS)) is not None:
        attributes["gender"] = gender
    consents = sent_consents(reader, found.get("consentsdata"), f"{path}.consentsData")
    return SentCustomer(
        path,
        reader.text(found.get("email"), f"{path}.email", 320),
        reader.text(found.get("phone"), f"{path}.phone", 20),
        reader.text(found.get("crmid"), f"{path}.crmId", 128),
        reader.text(found.get("visitorid"), f"{path}.visitorId", 38),
        attributes,
        consents,
    )


def parse_customers(payload: Any) -> CustomersPost:
    """`{mode, matchBy, data: [customer]}` read leniently; every problem at once (400, nothing written)."""
    reader = Reader()
    body = reader.object(payload, "$", required=True) or {}
    mode = reader.choice(body.get("mode"), "mode", MODES, required=True)
    match_by = reader.choice(body.get("matchby"), "matchBy", MATCH_BY) or "Email"
    items = reader.array(body.get("data"), "data", required=True)
    if not items and "data" in body:
        reader.problem("data", "At least one customer.")
    if len(items) > MAX_ITEMS:
        raise ExpertSenderError(400, "TooManyItems", f"At most {MAX_ITEMS} customers per request.")
    customers = [one for index, raw in enumerate(items) if (one := _customer(reader, raw, f"data[{index}]"))]
    if reader.issues:
        raise ValidationError("The customers are invalid.", reader.issues)
    if match_by == "GUID":
        raise UnsupportedFeatureError("Customers are not matched by ECDP's GUID.", "match_by_unsupported", "matchBy")
    return CustomersPost(mode or "AddOrUpdate", match_by, customers)


class Profiles(Protocol):
    """Patron's one customer model, as ECDP's customers, orders and events use it (ProfileService)."""

    def find(self, application_id: int, kind: IdentifierKind, value: str) -> CustomerProfile: ...

    def find_by_id(self, application_id: int, integration_id: str) -> CustomerProfile | None: ...

    def find_by_number(self, application_id: int, profile_id: int) -> CustomerProfile: ...

    def update_customer(
        self,
        application_id: int,
        integration_id: str,
        attributes: dict[str, Any],
        identifiers: IdentifierPatch,
        expected_version: int | None = None,
        consents: dict[str, Any] | None = None,
    ) -> CustomerProfile: ...


class Catalog(Protocol):
    def list(self, application_id: int, kind: EntityKind) -> list[AttributeDescriptor]: ...


class _Prepared(msgspec.Struct, frozen=True):
    sent: SentCustomer
    key: str  # the matchBy identifier's value, normalised
    patch: IdentifierPatch
    consents: dict[str, Any]


def _given(value: str | None) -> Change:
    return KEEP if value is None else value


class ExpertSenderCustomers:
    def __init__(self, profiles: Profiles, catalog: Catalog, new_id: Callable[[], str] = new_guest_id):
        self._profiles = profiles
        self._catalog = catalog
        self._new_id = new_id

    def post(self, application_id: int, payload: Any) -> int:
        """Adds or updates every customer of a POST /customers, or none when one is invalid (400 naming each
        problem) or `mode` refuses one (Add: CustomerAlreadyExists; Update: CustomerDoesNotExist). Returns how
        many were written. Each customer is its own write: a failure midway (409) leaves the earlier ones."""
        request = parse_customers(payload)
        prepared = self._prepare(application_id, request)
        owners: dict[str, CustomerProfile | None] = {}
        for one in prepared:
            if one.key not in owners:
                owners[one.key] = self._owner(application_id, request.match_by, one.key)
            exists = owners[one.key] is not None
            if request.mode == "Add" and exists:
                raise ExpertSenderError(400, "CustomerAlreadyExists", f"{one.sent.path}: the customer exists (Add).")
            if request.mode == "Update" and not exists:
                message = f"{one.sent.path}: no such customer (Update)."
                raise ExpertSenderError(400, "CustomerDoesNotExist", message)
        written: set[str] = set()
        for one in prepared:
            # Found again only when an earlier customer of the same request had the same key (and may have created
            # it); otherwise as found above.
            owner = self._owner(application_id, request.match_by, one.key) if one.key in written else owners[one.key]
            written.add(one.key)
            try:
                self._write(application_id, owner.integration_id if owner is not None else self._new_id(), one)
            except IdentifierTakenError:
                # Another request created this customer since it was looked up: update theirs (else the 409 stands).
                found = None if owner is not None else self._owner(application_id, request.match_by, one.key)
                if found is None:
                    raise
                self._write(application_id, found.integration_id, one)
        return len(prepared)

    def _write(self, application_id: int, integration_id: str, one: _Prepared) -> None:
        self._profiles.update_customer(
            application_id, integration_id, one.sent.attributes, one.patch, None, one.consents or None
        )

    def _owner(self, application_id: int, match_by: str, key: str) -> CustomerProfile | None:
        try:
            return self._profiles.find(application_id, _KEYS[match_by][0], key)
        except NotFoundError:
            return None

    def _prepare(self, application_id: int, request: CustomersPost) -> list[_Prepared]:
        issues: list[FieldIssue] = []
        channels: dict[int, str] = {}
        if any(sent.consents for sent in request.customers):
            channels = channels_by_id(self._catalog.list(application_id, EntityKind.CONSENT))
        prepared: list[_Prepared] = []
        for sent in request.customers:
            patch, patch_issues = parse_patch(
                email=_given(sent.email),
                phone=_given(usable_phone(sent.phone)),
                crm_id=_given(sent.crm_id),
                device_ids=[sent.visitor_id] if sent.visitor_id else [],
            )
            issues += [FieldIssue(f"{sent.path}.{i.path.replace('deviceIds[0]', 'visitorId')}", i.code, i.message)
                       for i in patch_issues]  # fmt: skip
            member = _KEYS[request.match_by][1]
            key = {"email": patch.email, "phone": patch.phone, "crmId": patch.crm_id}.get(member)
            if member == "visitorId":
                key = next(iter(patch.add_device_ids), None)
            if not isinstance(key, str):
                if not patch_issues:
                    issues.append(
                        FieldIssue(f"{sent.path}.{member}", "missing_field", f"Required by {request.match_by}.")
                    )
                continue
            consents = consent_changes(sent.consents, channels, issues)
            prepared.append(_Prepared(sent, key, patch, consents))
        if issues:
            raise ValidationError("The customers are invalid.", issues)
        return prepared

    def find(self, application_id: int, lookup: str, value: str) -> CustomerProfile:
        """GET /customers/{id|email|phone|crmId}/{value} (any letter case): the customer, or 404 CustomerNotFound.
        `id` is the customer's numeric id, as every lookup answers it (Patron's profile id)."""
        kinds = {"email": IdentifierKind.EMAIL, "phone": IdentifierKind.PHONE, "crmid": IdentifierKind.CRM_ID}
        kind = kinds.get(lookup.lower())
        if kind is None and lookup.lower() != "id":
            raise ExpertSenderError(404, "RouteNotFound", "No such route.", code="route_not_found")
        if kind is IdentifierKind.PHONE:
            value = usable_phone(value) or value
        try:
            if kind is None:
                reader = Reader()
                number = customer_number(reader, value, "id", required=True)
                if number is None:
                    raise ValidationError("The customer id is invalid.", reader.issues)
                return self._profiles.find_by_number(application_id, number)
            return self._profiles.find(application_id, kind, value)
        except NotFoundError:
            raise ExpertSenderError(
                404, "CustomerNotFound", "No customer with this identifier.", "customer_not_found"
            ) from None

    def view(self, application_id: int, profile: CustomerProfile) -> CustomerView:
        """The customer as ECDP's lookups answer it (`data`)."""
        attributes = profile.attributes
        ids = profile.identifiers
        consents = [
            ConsentView(stable_id(EntityKind.CONSENT, channel), "True" if consent.value else "False")
            for channel, consent in sorted(profile.consents.items())
        ]
        custom = [NameValue(name, value) for name, value in sorted(attributes.items()) if name not in CUSTOMER_MEMBERS]
        return CustomerView(
            id=profile.profile_id,
            email=ids.email,
            phone=ids.phone,
            crm_id=ids.crm_id,
            visitor_id=min(ids.device_ids) if ids.device_ids else None,
            first_name=_text(attributes.get("firstName")),
            last_name=_text(attributes.get("lastName")),
            date_of_birth=_text(attributes.get("dateOfBirth")),
            gender=_text(attributes.get("gender")),
            custom_attributes=custom,
            consents_data=ConsentsView(consents),
        )


def resolve_customer(
    profiles: Profiles,
    new_id: Callable[[], str],
    application_id: int,
    email: str | None,
    phone: str | None,
    crm_id: str | None,
) -> str:
    """Whom an order or a custom event names: who holds its email, else its crmId, else its phone; else a guest of
    its own, holding the email (or, without one, the phone and crmId). Never two e-mails merged through a crmId."""
    patch, _ = parse_patch(email=email or KEEP, phone=usable_phone(phone) or KEEP, crm_id=crm_id or KEEP)
    for kind, value in (
        (IdentifierKind.EMAIL, patch.email),
        (IdentifierKind.CRM_ID, patch.crm_id),
        (IdentifierKind.PHONE, patch.phone),
    ):
        if isinstance(value, str):
            try:
                return profiles.find(application_id, kind, value).integration_id
            except NotFoundError:
                continue
    if patch.empty:
        raise ValidationError(
            "No usable identifier.", [FieldIssue("customer", "missing_field", "An email, phone or crmId.")]
        )
    guest = new_id()
    held = IdentifierPatch(email=patch.email) if isinstance(patch.email, str) else patch
    try:
        profiles.update_customer(application_id, guest, {}, held)
    except IdentifierTakenError:  # another request created them meanwhile: theirs now
        return resolve_customer(profiles, new_id, application_id, email, phone, crm_id)
    return guest


def customer_number(reader: Reader, value: Any, path: str, required: bool = False) -> int | None:
    """ECDP's customer id: Patron's numeric profile id (a positive whole number, as text or a number)."""
    number = reader.number(value, path, required)
    if number is None:
        return None
    if number != number.to_integral_value() or not 0 < number < 2**53:
        reader.problem(path, "A customer id: a positive whole number.")
        return None
    return int(number)


def usable_phone(value: str | None) -> str | None:
    """A phone Patron can hold (international form: `+48600100200`, or its digits `48600100200`), else None:
    shops' plugins send what their customers typed (`600 700 800`), which names no one country's number. Such a
    phone is not stored; the rest of the customer is."""
    if value is None:
        return None
    compact = "".join(value.split())
    if compact.isascii() and compact.isdigit() and len(compact) >= 10:
        compact = f"+{compact}"
    return compact if normalise_phone(compact) is not None else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class NameValue(msgspec.Struct, frozen=True):
    name: str
    value: Any


class ConsentView(msgspec.Struct, frozen=True):
    id: int
    value: str


class ConsentsView(msgspec.Struct, frozen=True):
    consents: list[ConsentView]


class CustomerView(msgspec.Struct, frozen=True, rename="camel"):
    id: int
    email: str | None
    phone: str | None
    crm_id: str | None
    visitor_id: str | None
    first_name: str | None
    last_name: str | None
    date_of_birth: str | None
    gender: str | None
    custom_attributes: list[NameValue]
    consents_data: ConsentsView


class CustomerAnswer(msgspec.Struct, frozen=True):
    """ECDP's read answer: `{"status": 0, "data": {...}}`."""

    data: CustomerView
    status: int = 0


class Done(msgspec.Struct, frozen=True):
    """ECDP's write answer (research D1): `{"status": 0, "data": null}`; never an `errors` member."""

    data: None = None
    status: int = 0
