"""Which customer an order belongs to: its customer id, or the customer holding its email."""

from __future__ import annotations

from patron.errors import NotFoundError
from patron.profiles.identifiers import IdentifierKind, IdentifierPatch
from patron.profiles.model import IdentifierTakenError, new_guest_id
from patron.profiles.service import ProfileService


class ProfileCustomerResolver:
    def __init__(self, profiles: ProfileService):
        self._profiles = profiles

    def exists(self, application_id: int, customer_id: str) -> bool:
        return self._profiles.exists(application_id, customer_id)

    def resolve(self, application_id: int, customer_id: str | None, email: str | None) -> str:
        if customer_id is not None:
            return customer_id
        assert email is not None  # the payload parser requires one of the two
        try:
            return self._profiles.find(application_id, IdentifierKind.EMAIL, email).integration_id
        except NotFoundError:
            pass
        # A guest (Rfmcube: an email and no id): a customer of its own, found by that email from now on.
        guest = new_guest_id()
        try:
            self._profiles.update_customer(application_id, guest, {}, IdentifierPatch(email=email))
        except IdentifierTakenError:
            pass  # another request created the guest first: it holds the email now
        else:
            return guest
        return self._profiles.find(application_id, IdentifierKind.EMAIL, email).integration_id
