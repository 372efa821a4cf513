"""The ECDP request bodies as documented, for docs/openapi.json only: the routes read what clients really send
leniently (patron.expertsender.lenient), in any letter case and with numbers as strings, which no schema says."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from patron.http.wire import Number


class EcdpNameValue(msgspec.Struct):
    name: Annotated[str, Meta(min_length=1, max_length=256)]
    value: str | float | bool | None


class EcdpConsent(msgspec.Struct):
    id: int
    value: Literal["True", "False", "AwaitingConfirmation"]


class EcdpConsentsData(msgspec.Struct, rename="camel"):
    consents: list[EcdpConsent]
    force: bool = False
    confirmation_message_id: int | None = None


class EcdpCustomer(msgspec.Struct, rename="camel"):
    email: Annotated[str, Meta(max_length=320)] | None = None
    phone: Annotated[str, Meta(max_length=20)] | None = None
    crm_id: Annotated[str, Meta(max_length=128)] | None = None
    visitor_id: Annotated[str, Meta(max_length=38)] | None = None
    first_name: Annotated[str, Meta(max_length=256)] | None = None
    last_name: Annotated[str, Meta(max_length=256)] | None = None
    date_of_birth: str | None = None
    gender: Literal["Male", "Female", "NotSpecified"] | None = None
    custom_attributes: list[EcdpNameValue] | None = None
    consents_data: EcdpConsentsData | None = None


class EcdpCustomersRequest(msgspec.Struct, rename="camel"):
    mode: Literal["Add", "Update", "AddOrUpdate"]
    data: Annotated[list[EcdpCustomer], Meta(min_length=1, max_length=1000)]
    match_by: Literal["Email", "PhoneNumber", "CrmId", "visitorId"] = "Email"


class EcdpProduct(msgspec.Struct, rename="camel"):
    id: Annotated[str, Meta(min_length=1, max_length=128)]
    name: str | None = None
    price: Number | None = None
    quantity: int | None = None
    returned: int | None = None
    url: str | None = None
    image_url: str | None = None
    category: str | None = None
    product_attributes: list[EcdpNameValue] | None = None


class EcdpOrderCustomer(msgspec.Struct, rename="camel"):
    email: Annotated[str, Meta(max_length=320)] | None = None
    phone: Annotated[str, Meta(max_length=20)] | None = None
    crm_id: Annotated[str, Meta(max_length=128)] | None = None
    consents_data: EcdpConsentsData | None = None


class EcdpOrder(msgspec.Struct, rename="camel"):
    id: Annotated[str, Meta(min_length=1, max_length=128)]
    total_value: Number
    customer: EcdpOrderCustomer
    date: str | None = None
    time_zone: str | None = None
    website_id: int | None = None
    status: Literal["placed", "paid", "completed", "canceled"] | None = None
    currency: Annotated[str, Meta(min_length=3, max_length=3)] | None = None
    returns_value: Number | None = None
    products: list[EcdpProduct] | None = None
    order_attributes: list[EcdpNameValue] | None = None


class EcdpOrdersRequest(msgspec.Struct):
    mode: Literal["Add", "AddOrReplace", "Replace"]
    data: Annotated[list[EcdpOrder], Meta(min_length=1, max_length=1000)]


class EcdpDataField(msgspec.Struct):
    name: Annotated[str, Meta(min_length=1, max_length=256)]
    type: Literal["String", "Text", "Number", "Money", "Date", "DateTime", "Boolean", "URL"]
    value: str


class EcdpScenarioCustomEvent(msgspec.Struct, rename="camel"):
    custom_event_id: int
    customer_email: Annotated[str, Meta(max_length=320)] | None = None
    customer_phone: Annotated[str, Meta(max_length=20)] | None = None
    customer_crm_id: Annotated[str, Meta(max_length=128)] | None = None
    data_fields: list[EcdpDataField] | None = None


class EcdpOrderStatusRequest(msgspec.Struct, rename="camel"):
    order_id: Annotated[str, Meta(min_length=1, max_length=128)]
    order_status: Literal["placed", "paid", "completed", "canceled"]
    website_id: int | None = None
