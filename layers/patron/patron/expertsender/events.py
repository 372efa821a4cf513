"""ECDP's scenario custom events (POST /scenariocustomevents) on Patron's one event model (docs/events.md): the
customer is resolved by e-mail, CRM id or phone as an order's is, and the event is recorded by its definition's id
through the custom event service, as Talon.One's tracked events are (stored, counted, campaigns evaluated)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from patron.errors import FieldIssue, NotFoundError, UnsupportedFeatureError, ValidationError
from patron.events.definitions import DataField
from patron.events.model import EventOutcome
from patron.expertsender.customers import Profiles, customer_number, resolve_customer
from patron.expertsender.lenient import Reader
from patron.expertsender.problems import ExpertSenderError
from patron.profiles.model import new_guest_id

# ECDP's field types, and the names clients use for them (a Laravel client sends `int`, `string`, `dateTime`).
FIELD_TYPES = {
    "string": "String",
    "text": "Text",
    "number": "Number",
    "int": "Number",
    "integer": "Number",
    "decimal": "Number",
    "money": "Money",
    "date": "Date",
    "datetime": "DateTime",
    "boolean": "Boolean",
    "bool": "Boolean",
    "url": "URL",
}


class Recorder(Protocol):
    def record(
        self,
        application_id: int,
        profile_id: str,
        event: int | str,
        data_fields: Sequence[DataField] = (),
        *,
        source: str = "expertsender",
    ) -> EventOutcome: ...


class ExpertSenderEvents:
    def __init__(self, recorder: Recorder, profiles: Profiles, new_id: Callable[[], str] = new_guest_id):
        self._recorder = recorder
        self._profiles = profiles
        self._new_id = new_id

    def post(self, application_id: int, payload: Any) -> EventOutcome:
        """`{customEventId, customerId | customerEmail | customerPhone | customerCrmId, dataFields: [{name, type,
        value}]}`. `customerId` (the numeric id lookups answer) names an existing customer, or 404; the other
        identifiers find one or make a guest. The e-mail hashes name no Patron customer: refused when nothing else
        does."""
        reader = Reader()
        body = reader.object(payload, "$", required=True) or {}
        event_id = reader.integer(body.get("customeventid"), "customEventId", required=True)
        email = reader.text(body.get("customeremail"), "customerEmail", 320)
        phone = reader.text(body.get("customerphone"), "customerPhone", 20)
        crm_id = reader.text(body.get("customercrmid"), "customerCrmId", 128)
        # ECDP's own customer id may be one Patron never gave (a GUID, say): read past it when another identifier
        # names the customer, refused only when it is all there is.
        alone = email is None and phone is None and crm_id is None
        number = customer_number(reader if alone else Reader(), body.get("customerid"), "customerId")
        fields: list[DataField] = []
        for index, raw in enumerate(reader.array(body.get("datafields"), "dataFields")):
            at = f"dataFields[{index}]"
            field = reader.object(raw, at, required=True)
            if field is None:
                continue
            name = reader.text(field.get("name"), f"{at}.name", 256, required=True)
            kind = reader.choice(field.get("type"), f"{at}.type", FIELD_TYPES, required=True)
            value = field.get("value")
            if isinstance(value, bool):
                value = str(value).lower()
            text = reader.text(value, f"{at}.value", 4000, required=True)
            if name is not None and kind is not None and text is not None:
                fields.append(DataField(name, kind, text))
        if reader.issues or event_id is None:
            raise ValidationError("The custom event is invalid.", reader.issues)
        if number is not None:
            # ECDP's customer id first; when it names nobody, the other identifiers sent (if any) decide.
            try:
                customer = self._profiles.find_by_number(application_id, number).integration_id
            except NotFoundError:
                if email is None and phone is None and crm_id is None:
                    message = "No customer with this id."
                    raise ExpertSenderError(404, "CustomerNotFound", message, "customer_not_found") from None
            else:
                return self._recorder.record(application_id, customer, event_id, fields, source="expertsender")
        if email is None and phone is None and crm_id is None:
            hashes = [name for name in ("customeremailmd5", "customeremailsha256") if body.get(name)]
            if hashes:
                message = "Customers are named by customerId, customerEmail, customerPhone or customerCrmId here."
                raise UnsupportedFeatureError(message, "customer_lookup_unsupported", "customerEmailMd5")
            message = "A customerId, customerEmail, customerPhone or customerCrmId."
            raise ValidationError(
                "The custom event is invalid.", [FieldIssue("customerEmail", "missing_field", message)]
            )
        try:
            customer = resolve_customer(self._profiles, self._new_id, application_id, email, phone, crm_id)
        except ValidationError:
            issue = FieldIssue("customerPhone", "invalid_value", "A phone number in international form.")
            raise ValidationError("The custom event is invalid.", [issue]) from None
        return self._recorder.record(application_id, customer, event_id, fields, source="expertsender")
