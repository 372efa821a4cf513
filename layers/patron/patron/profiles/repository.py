"""Storage of customer profiles: the interface and its DynamoDB implementation."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from botocore.exceptions import ClientError

from patron.dynamo import codec, committer
from patron.dynamo.errors import is_item_too_large, translate
from patron.errors import PatronError
from patron.profiles import items as profile_items
from patron.profiles.consents import Consent
from patron.profiles.identifiers import IdentifierKind, Identifiers
from patron.profiles.keys import (
    ATTRIBUTE_PREFIX,
    FIRST_ORDER_AT,
    IDENTIFIER_SK,
    LAST_ORDER_AT,
    MEMBERSHIP_PREFIX,
    ORDERS_COUNT,
    PROFILE_ID_INDEX,
    PROFILE_SK,
    SALES_TOTAL,
    identifier_pk,
    parse_profile_pk,
    profile_pk,
)
from patron.profiles.model import (
    CustomerProfile,
    IdentifierTakenError,
    ProfileTooLargeError,
    VersionConflictError,
    new_profile_id,
)
from patron.profiles.stats import CustomerStats

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Concurrent UpdateItem calls of one bulk request; the DynamoDB client's connection pool matches it.
BULK_CONCURRENCY = 16
_ERASE_ATTEMPTS = 3
# A claim may be taken or let go by its owner only; absent counts as free (a retry after a lost answer).
_FREE_OR_MINE = "attribute_not_exists(PK) OR #owner = :me"
_COPY_CHUNK = 150  # attributes per UpdateItem when merging profiles (the expression stays under 4 KB)


IDENTIFIERS_ATTRIBUTE = "ids"
CONSENTS_ATTRIBUTE = "consents"
_IDENTIFIER_PATHS = {
    IdentifierKind.EMAIL: "email",
    IdentifierKind.PHONE: "phone",
    IdentifierKind.CRM_ID: "crmId",
    IdentifierKind.DEVICE_ID: "deviceIds",
}


class ProfileChange(msgspec.Struct, frozen=True):
    """A read-modify-write of one profile: applied only if the profile is still at `expected_version`
    (0: it must not exist yet), together with the identifier claims it makes and releases."""

    integration_id: str
    set_attributes: dict[str, Any]
    remove: list[str]
    identifiers: Identifiers
    expected_version: int
    now: str
    # The whole consent map to store, when the change touches consents.
    consents: dict[str, Consent] | None = None


class ProfileUpdate(msgspec.Struct, frozen=True):
    integration_id: str
    set_attributes: dict[str, Any]
    remove: list[str]


class ProfileRepository(Protocol):
    def upsert(
        self,
        application_id: int,
        integration_id: str,
        set_attributes: dict[str, Any],
        remove: list[str],
        now: str,
    ) -> CustomerProfile: ...

    def upsert_many(
        self, application_id: int, updates: list[ProfileUpdate], now: str
    ) -> list[CustomerProfile | PatronError]:
        """One upsert per update (distinct integration ids); for each, in order, its profile or why it failed."""
        ...

    def get(self, application_id: int, integration_id: str) -> CustomerProfile | None: ...

    def write(
        self,
        application_id: int,
        current: CustomerProfile | None,
        change: ProfileChange,
        also: Sequence[committer.Write] = (),
    ) -> CustomerProfile:
        """Applies `change` in one transaction with its identifier claims and the items of `also` (another
        context's, built by its own builders: the catalog's new attributes); raises VersionConflictError or
        IdentifierTakenError, or the error of an item of `also` (and writes nothing) when the profile moved on, an
        identifier is taken or another item's condition failed."""
        ...

    def owner_of(self, application_id: int, kind: IdentifierKind, value: str) -> str | None:
        """The integration id of the profile holding this identifier, if any."""
        ...

    def holders_of_number(self, application_id: int, profile_id: int) -> list[str]:
        """The integration ids of this application's profiles with this numeric id (Talon.One's CustomerProfile.id):
        one, or none; more only if two profiles drew the same id. Read from an index: a profile created a moment
        ago may not be found yet."""
        ...

    def copy_missing_attributes(
        self, application_id: int, integration_id: str, attributes: dict[str, Any], now: str
    ) -> None:
        """Sets each attribute the profile does not have yet (creating the profile if needed); idempotent."""
        ...

    def absorb(
        self,
        application_id: int,
        survivor: CustomerProfile | None,
        survivor_id: str,
        absorbed: CustomerProfile,
        identifiers: Identifiers,
        consents: dict[str, Consent],
        now: str,
    ) -> None:
        """One transaction: the survivor takes `identifiers` and `consents` (version-checked), the absorbed
        profile is deleted (version-checked), and each of its claims passes to the survivor."""
        ...

    def erase(self, application_id: int, integration_id: str, current: CustomerProfile | None = None) -> bool:
        """Deletes everything stored for this profile; False when there was no profile. `current`, when the
        caller has just read it, saves the first read."""
        ...


def profile_from_item(item: dict[str, Any]) -> CustomerProfile:
    application_id, integration_id = parse_profile_pk(str(item["PK"]))
    return CustomerProfile(
        application_id=application_id,
        integration_id=integration_id,
        profile_id=int(item["profileId"]),
        created=str(item["created"]),
        updated=str(item["updated"]),
        last_activity=str(item["lastActivity"]),
        version=int(item["version"]),
        # Absent until sessions exist: every byte of a profile item is paid on each write.
        closed_sessions=int(item.get("closedSessions", 0)),
        total_sales=Decimal(item.get("totalSales", 0)),
        attributes={
            name[len(ATTRIBUTE_PREFIX) :]: value for name, value in item.items() if name.startswith(ATTRIBUTE_PREFIX)
        },
        identifiers=Identifiers.from_dict(item.get(IDENTIFIERS_ATTRIBUTE)),
        stats=CustomerStats.from_item(item),
        consents={channel: Consent.from_dict(value) for channel, value in (item.get(CONSENTS_ATTRIBUTE) or {}).items()},
        audiences={
            int(name[len(MEMBERSHIP_PREFIX) :]): int(value)
            for name, value in item.items()
            if name.startswith(MEMBERSHIP_PREFIX)
        },
    )


def profile_to_item(profile: CustomerProfile) -> dict[str, Any]:
    """The item a profile is stored as (the inverse of profile_from_item): what a first write of this profile
    would leave, for writers that put whole new profiles (an import's batches)."""
    item: dict[str, Any] = {
        "PK": profile_pk(profile.application_id, profile.integration_id),
        "SK": PROFILE_SK,
        "profileId": profile.profile_id,
        "created": profile.created,
        "updated": profile.updated,
        "lastActivity": profile.last_activity,
        "version": profile.version,
    }
    if stored := profile.identifiers.as_dict():
        item[IDENTIFIERS_ATTRIBUTE] = stored
    if profile.consents:
        item[CONSENTS_ATTRIBUTE] = {channel: consent.as_dict() for channel, consent in profile.consents.items()}
    if profile.closed_sessions:
        item["closedSessions"] = profile.closed_sessions
    if profile.total_sales:
        item["totalSales"] = profile.total_sales
    stats = profile.stats
    if stats.orders_count:
        item.update({ORDERS_COUNT: stats.orders_count, SALES_TOTAL: stats.sales_total})
        item.update({FIRST_ORDER_AT: stats.first_order_at, LAST_ORDER_AT: stats.last_order_at})
    item.update({ATTRIBUTE_PREFIX + name: value for name, value in profile.attributes.items()})
    item.update({f"{MEMBERSHIP_PREFIX}{audience}": generation for audience, generation in profile.audiences.items()})
    return item


def claim_item(application_id: int, kind: IdentifierKind, value: str, owner: str) -> dict[str, Any]:
    """The item by which one profile holds one identifier."""
    return {"PK": identifier_pk(application_id, kind, value), "SK": IDENTIFIER_SK, "owner": owner}


def _merge_expression(
    set_attributes: dict[str, Any],
    remove: list[str],
    now: str,
    identifiers: Identifiers | None = None,
    next_version: int | None = None,
    profile_id: int | None = None,
    consents: dict[str, Consent] | None = None,
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The UpdateExpression that creates a profile or merges into it. Without `next_version` the version is
    incremented in place (the single-request path); with it, it is set (the read-modify-write path)."""
    names = {
        "#pid": "profileId",
        "#created": "created",
        "#updated": "updated",
        "#activity": "lastActivity",
        "#version": "version",
    }
    values: dict[str, Any] = {":pid": profile_id or new_profile_id(), ":now": now}
    # The application and integration ids live in the key only (see parse_profile_pk).
    sets = [
        "#pid = if_not_exists(#pid, :pid)",
        "#created = if_not_exists(#created, :now)",
        "#activity = if_not_exists(#activity, :now)",
        "#updated = :now",
    ]
    if next_version is None:
        values.update({":zero": 0, ":one": 1})
        sets.append("#version = if_not_exists(#version, :zero) + :one")
    else:
        values[":version"] = next_version
        sets.append("#version = :version")
    removes: list[str] = []
    if identifiers is not None:
        names["#ids"] = IDENTIFIERS_ATTRIBUTE
        stored = identifiers.as_dict()
        if stored:
            values[":ids"] = stored
            sets.append("#ids = :ids")
        else:
            removes.append("#ids")
    if consents is not None:
        names["#consents"] = CONSENTS_ATTRIBUTE
        values[":consents"] = {channel: consent.as_dict() for channel, consent in consents.items()}
        sets.append("#consents = :consents")
    for index, (name, value) in enumerate(set_attributes.items()):
        names[f"#a{index}"] = ATTRIBUTE_PREFIX + name
        values[f":a{index}"] = value
        sets.append(f"#a{index} = :a{index}")
    for index, name in enumerate(remove):
        names[f"#r{index}"] = ATTRIBUTE_PREFIX + name
        removes.append(f"#r{index}")
    expression = "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression, names, values


class DynamoProfileRepository:
    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name
        self._committer = committer.Committer(client)

    def upsert(
        self,
        application_id: int,
        integration_id: str,
        set_attributes: dict[str, Any],
        remove: list[str],
        now: str,
    ) -> CustomerProfile:
        """Creates the profile or merges into it, in one UpdateItem (one write, one round trip)."""
        expression, names, values = _merge_expression(set_attributes, remove, now)
        try:
            result = self._client.update_item(
                TableName=self._table,
                Key=codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=codec.to_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_item_too_large(exc):
                raise ProfileTooLargeError() from None
            raise translate(exc) from exc
        return profile_from_item(codec.from_item(result["Attributes"]))

    def upsert_many(
        self, application_id: int, updates: list[ProfileUpdate], now: str
    ) -> list[CustomerProfile | PatronError]:
        # A merge needs UpdateItem (BatchWriteItem only replaces whole items), so the calls run side by side: one
        # round trip per profile, BULK_CONCURRENCY in flight. Profiles are independent items: one that fails (it
        # would pass 400 KB, or DynamoDB throttles) is reported and the others stand; a retry is safe.
        def one(update: ProfileUpdate) -> CustomerProfile | PatronError:
            try:
                return self.upsert(application_id, update.integration_id, update.set_attributes, update.remove, now)
            except PatronError as error:
                return error

        # Each call runs in a copy of the caller's context, so request-scoped context (logging, the local
        # runtime's per-function IAM check) follows the work into the pool's threads.
        contexts = [contextvars.copy_context() for _ in updates]
        with ThreadPoolExecutor(max_workers=BULK_CONCURRENCY) as pool:
            return list(pool.map(lambda context, update: context.run(one, update), contexts, updates))

    def write(
        self,
        application_id: int,
        current: CustomerProfile | None,
        change: ProfileChange,
        also: Sequence[committer.Write] = (),
    ) -> CustomerProfile:
        """One plan: the profile (conditional on its version), every identifier claimed or released, and `also`;
        the committer sends it alone as one conditional UpdateItem when there is nothing else. The result is
        computed from `current` and `change`: the condition guarantees it is exact."""
        me = change.integration_id
        old_claims = current.identifiers.claims() if current else set()
        new_claims = change.identifiers.claims()
        claims = sorted(new_claims - old_claims)
        releases = sorted(old_claims - new_claims)
        profile_id = current.profile_id if current else new_profile_id()
        expression, names, values = _merge_expression(
            change.set_attributes,
            change.remove,
            change.now,
            identifiers=change.identifiers,
            next_version=change.expected_version + 1,
            profile_id=profile_id,
            consents=change.consents,
        )
        plan = [
            profile_items.versioned_update(
                self._table, application_id, me, expression, names, values, change.expected_version
            ),
            # Free, or already ours (a retry after a lost answer).
            *(
                committer.put(
                    self._table,
                    claim_item(application_id, kind, value, me),
                    condition=_FREE_OR_MINE,
                    names={"#owner": "owner"},
                    values={":me": me},
                    failed=partial(IdentifierTakenError, _IDENTIFIER_PATHS[kind]),
                )
                for kind, value in claims
            ),
            # A released claim that moved means the profile changed under us.
            *(
                committer.delete(
                    self._table,
                    {"PK": identifier_pk(application_id, kind, value), "SK": IDENTIFIER_SK},
                    condition=_FREE_OR_MINE,
                    names={"#owner": "owner"},
                    values={":me": me},
                    failed=VersionConflictError,
                )
                for kind, value in releases
            ),
            *also,
        ]
        self._committer.commit(plan, too_large=ProfileTooLargeError, conflict=VersionConflictError)
        attributes = {**(current.attributes if current else {}), **change.set_attributes}
        for name in change.remove:
            attributes.pop(name, None)
        return CustomerProfile(
            application_id=application_id,
            integration_id=me,
            profile_id=profile_id,
            created=current.created if current else change.now,
            updated=change.now,
            last_activity=current.last_activity if current else change.now,
            version=change.expected_version + 1,
            closed_sessions=current.closed_sessions if current else 0,
            total_sales=current.total_sales if current else Decimal(0),
            attributes=attributes,
            identifiers=change.identifiers,
            stats=current.stats if current else CustomerStats(),
            consents=change.consents if change.consents is not None else (current.consents if current else {}),
            audiences=current.audiences if current else {},
        )

    def copy_missing_attributes(
        self, application_id: int, integration_id: str, attributes: dict[str, Any], now: str
    ) -> None:
        names = list(attributes)
        for start in range(0, len(names), _COPY_CHUNK):
            chunk = {name: attributes[name] for name in names[start : start + _COPY_CHUNK]}
            expression, expression_names, values = _merge_expression({}, [], now)
            for index, (name, value) in enumerate(chunk.items()):
                expression_names[f"#c{index}"] = ATTRIBUTE_PREFIX + name
                values[f":c{index}"] = value
                expression += f", #c{index} = if_not_exists(#c{index}, :c{index})"
            self._client.update_item(
                TableName=self._table,
                Key=codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}),
                UpdateExpression=expression,
                ExpressionAttributeNames=expression_names,
                ExpressionAttributeValues=codec.to_item(values),
            )

    def absorb(
        self,
        application_id: int,
        survivor: CustomerProfile | None,
        survivor_id: str,
        absorbed: CustomerProfile,
        identifiers: Identifiers,
        consents: dict[str, Consent],
        now: str,
    ) -> None:
        version = survivor.version if survivor else 0
        expression, names, values = _merge_expression(
            {},
            [],
            now,
            identifiers=identifiers,
            next_version=version + 1,
            profile_id=survivor.profile_id if survivor else None,
            consents=consents,
        )
        plan = [
            profile_items.versioned_update(
                self._table, application_id, survivor_id, expression, names, values, version
            ),
            committer.delete(
                self._table,
                {"PK": profile_pk(application_id, absorbed.integration_id), "SK": PROFILE_SK},
                condition="#version = :version",
                names={"#version": "version"},
                values={":version": absorbed.version},
            ),
        ]
        kept = identifiers.claims()
        for kind, value in sorted(absorbed.identifiers.claims()):
            key = {"PK": identifier_pk(application_id, kind, value), "SK": IDENTIFIER_SK}
            owner, origin = {"#owner": "owner"}, {":from": absorbed.integration_id}
            if (kind, value) in kept:
                # The claim passes to the survivor: it answers for this identifier from now on.
                claim = {**key, "owner": survivor_id}
                plan.append(committer.put(self._table, claim, condition="#owner = :from", names=owner, values=origin))
            else:
                # The survivor has its own identifier of this kind: the absorbed one is let go.
                plan.append(committer.delete(self._table, key, condition="#owner = :from", names=owner, values=origin))
        # Any condition failing means one of the two profiles changed since they were read: the merger reads again.
        self._committer.commit(plan, conflict=VersionConflictError)

    def owner_of(self, application_id: int, kind: IdentifierKind, value: str) -> str | None:
        result = self._client.get_item(
            TableName=self._table,
            Key=codec.to_item({"PK": identifier_pk(application_id, kind, value), "SK": IDENTIFIER_SK}),
            ConsistentRead=True,
        )
        return str(codec.from_item(result["Item"])["owner"]) if "Item" in result else None

    def holders_of_number(self, application_id: int, profile_id: int) -> list[str]:
        # Another application's profile of the same id is skipped (keys only; one page holds thousands).
        own = f"APP#{application_id}#PROFILE#"
        result = self._client.query(
            TableName=self._table,
            IndexName=PROFILE_ID_INDEX,
            KeyConditionExpression="profileId = :id",
            ExpressionAttributeValues=codec.to_item({":id": profile_id}),
        )
        found = [codec.from_item(raw) for raw in result.get("Items", [])]
        return [
            parse_profile_pk(str(item["PK"]))[1]
            for item in found
            if str(item["PK"]).startswith(own) and item["SK"] == PROFILE_SK
        ]

    def erase(self, application_id: int, integration_id: str, current: CustomerProfile | None = None) -> bool:
        """The profile and every identifier claim it holds, in one transaction conditional on the version read;
        retried if the profile changes in between."""
        for attempt in range(_ERASE_ATTEMPTS):
            if attempt or current is None:
                current = self.get(application_id, integration_id)
            if current is None:
                return False
            plan = [
                committer.delete(
                    self._table,
                    {"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK},
                    condition="#version = :version",
                    names={"#version": "version"},
                    values={":version": current.version},
                ),
                *(
                    committer.delete(
                        self._table,
                        {"PK": identifier_pk(application_id, kind, value), "SK": IDENTIFIER_SK},
                        condition=_FREE_OR_MINE,
                        names={"#owner": "owner"},
                        values={":me": integration_id},
                    )
                    for kind, value in sorted(current.identifiers.claims())
                ),
            ]
            try:
                self._committer.commit(plan, conflict=VersionConflictError)
                return True
            except VersionConflictError:
                continue  # the profile changed in between: read it again
        raise VersionConflictError()

    def get(self, application_id: int, integration_id: str) -> CustomerProfile | None:
        result = self._client.get_item(
            TableName=self._table,
            Key=codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}),
            # Read-your-writes: an integration reads the profile it has just updated.
            ConsistentRead=True,
        )
        return profile_from_item(codec.from_item(result["Item"])) if "Item" in result else None
