"""Coupon reservations (Talon.One's coupon wallet): `POST`/`DELETE /v1/coupon_reservations/{couponValue}` and
`GET /v1/coupon_reservations/customerprofiles/{couponValue}` (docs/coupons.md, "Reservations").

A reservation attaches a coupon to a customer: the profile's holding marks it, the coupon counts it within its
reservation limit, and the coupon's list of reserving profiles names it (patron.coupons.items.reserve: one
transaction per profile). A coupon whose reservation is mandatory can then be redeemed only by those profiles (a
"hard" reservation); any other reservation is "soft": the wallet lists it, anyone may still redeem the code.

Decide, then write: the coupon and the holdings are read first, and a request that would pass the reservation
limit, or names a personal code (reserved for its recipient by construction, as Talon.One documents) or an expired
one, is refused before anything is written. Reserving a profile twice is no error (a retried call changes nothing).
If another request takes the last reservations meanwhile, the profiles this request reserved are released again
and it answers 409: never a partial write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from patron.clock import Clock
from patron.coupons import items
from patron.coupons.model import Coupon, Holding
from patron.dynamo import codec, committer
from patron.dynamo.batch import read_all
from patron.errors import ConflictError, FieldIssue, NotFoundError, ValidationError
from patron.profiles.keys import PROFILE_SK, profile_pk
from patron.profiles.model import CustomerProfile
from patron.profiles.repository import profile_from_item

MAX_PROFILES = 1000  # Talon.One's CouponReservations.integrationIDs


class CouponNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No coupon with this code.", code="coupon_not_found")


def _refused(code: str, message: str) -> ValidationError:
    return ValidationError("The coupon cannot be reserved.", [FieldIssue("couponValue", code, message)])


class Reserved(msgspec.Struct, frozen=True):
    coupon: Coupon  # as it is after the call
    integration_ids: list[str]  # the profiles that hold a reservation of it now, of those the call named


class ReservationService:
    def __init__(self, client: Any, ledgers: str, profiles: str, clock: Clock):
        self._client = client
        self._table = ledgers
        self._profiles = profiles
        self._committer = committer.Committer(client)
        self._clock = clock

    def reserve(self, application_id: int, code: str, integration_ids: Sequence[str]) -> Reserved:
        now = self._clock.now()
        wanted = _unique(integration_ids)
        coupon, holdings = self._read(application_id, code, wanted)
        if coupon.recipient_integration_id is not None:
            raise _refused("coupon_not_reservable", "A personal code is reserved for its recipient only.")
        if coupon.expiry_date is not None and now >= coupon.expiry_date:
            raise _refused("coupon_expired", "The coupon has expired.")
        new = [profile for profile in wanted if not holdings[profile].reserved]
        left = coupon.reservations_left
        if left is not None and len(new) > left:
            raise _refused(
                "reservation_limit_reached",
                f"The coupon can be reserved {left} more times; the request reserves {len(new)} profiles.",
            )
        done: list[str] = []
        for profile in new:
            try:
                self._committer.commit(items.reserve(self._table, application_id, coupon.value, profile, now))
            except items.AlreadyReservedError:
                continue  # reserved by a parallel call meanwhile: as wanted
            except (items.ReservationLimitReachedError, items.CouponChangedError):
                self._release(application_id, coupon.value, done)
                raise ConflictError(
                    "Other reservations took the coupon's last places meanwhile; nothing was reserved.",
                    code="reservation_conflict",
                ) from None
            done.append(profile)
        after, _ = self._read(application_id, coupon.value, [])
        return Reserved(after, wanted)

    def release(self, application_id: int, code: str, integration_ids: Sequence[str]) -> None:
        """Ends the named profiles' reservations (profiles without one are no error)."""
        wanted = _unique(integration_ids)
        coupon, holdings = self._read(application_id, code, wanted)
        self._release(application_id, coupon.value, [p for p in wanted if holdings[p].reserved])

    def reserved_by(self, application_id: int, code: str) -> list[str]:
        """Every profile holding a reservation of the coupon (one Query of its reservations partition)."""
        coupon, _ = self._read(application_id, code, [])
        found: list[str] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": items.reservations_pk(application_id, coupon.value)}},
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**request)
            found += [str(codec.from_item(item)["SK"]) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def reserved_profiles(self, application_id: int, code: str) -> list[CustomerProfile]:
        """The profiles of `reserved_by` that exist (a reservation may name a customer not known yet)."""
        profiles = self.reserved_by(application_id, code)
        keys = [{"PK": profile_pk(application_id, profile), "SK": PROFILE_SK} for profile in profiles]
        found = {
            profile.integration_id: profile for profile in map(profile_from_item, self._batch_get(keys, self._profiles))
        }
        return [found[profile] for profile in profiles if profile in found]

    def _release(self, application_id: int, code: str, profiles: Iterable[str]) -> None:
        for profile in profiles:
            try:
                self._committer.commit(items.unreserve(self._table, application_id, code, profile))
            except (items.NotReservedError, items.CouponChangedError):
                continue  # released by a parallel call meanwhile

    def _read(self, application_id: int, code: str, profiles: Sequence[str]) -> tuple[Coupon, dict[str, Holding]]:
        """The coupon (as sent or upper-cased: an application whose codes are not case-sensitive stores them so),
        and each profile's holding of it, in one BatchGetItem of at most 100 keys per call."""
        forms = list(dict.fromkeys([code, code.upper()]))
        keys = [items.coupon_key(application_id, form) for form in forms]
        found = self._batch_get(keys)
        coupon = next((items.coupon_from_item(item) for item in found if item["SK"] == items.COUPON_SK), None)
        if coupon is None:
            raise CouponNotFoundError()
        holding_keys = [items.holding_key(application_id, profile, coupon.value) for profile in profiles]
        by_holder = {str(item["PK"]): items.holding_from_item(item) for item in self._batch_get(holding_keys)}
        holdings = {profile: by_holder.get(items.holder_pk(application_id, profile), Holding()) for profile in profiles}
        return coupon, holdings

    def _batch_get(self, keys: Sequence[dict[str, str]], table: str | None = None) -> list[dict[str, Any]]:
        return read_all(self._client, table or self._table, keys)


def _unique(integration_ids: Sequence[str]) -> list[str]:
    issues = [
        FieldIssue(f"integrationIDs[{index}]", "invalid_value", "An integration id must not be empty.")
        for index, profile in enumerate(integration_ids)
        if not profile.strip()
    ]
    if len(integration_ids) > MAX_PROFILES:
        issues.append(FieldIssue("integrationIDs", "too_many", f"At most {MAX_PROFILES} profiles per request."))
    if issues:
        raise ValidationError("The reservation request is invalid.", issues)
    return list(dict.fromkeys(integration_ids))
