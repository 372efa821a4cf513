"""Storage of audiences and memberships: the interface, and its DynamoDB implementation on the profiles table.

Key design in `patron.audiences.keys` (docs/data-model.md). A membership is two records: the member item in the
audience's partition (found by audience: deletion, bulk attribute updates) and an attribute of the profile item
(found by profile: sessions, profile reads, the person's lifecycle), built by `patron.profiles.items`.

Write order keeps one invariant through crashes: a member item never outlives the profile's own record of the
membership except for a moment: a join writes the profile first, a removal the profile first as well, so that an
interrupted removal is found again by its retry (the member item is still there) and an interrupted join leaves a
profile that is a member with no member item yet, which its retry completes.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from patron.audiences import keys
from patron.audiences.model import Audience, AudienceExistsError, AudienceNotFoundError, AudienceState, MembershipPlan
from patron.dynamo import batch, codec, committer
from patron.dynamo.errors import is_condition_failure, translate
from patron.dynamo.ids import allocate_ids
from patron.profiles import items as profile_items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Profile updates of one request in flight at once (the client's connection pool allows 16).
CONCURRENCY = 16


class AudienceRepository(Protocol):
    def next_id(self, application_id: int) -> int: ...

    def create(self, audience: Audience) -> None:
        """Writes a new audience, with its mirror claim when it mirrors a third-party one: AudienceExistsError when
        that claim is taken (nothing written)."""
        ...

    def get(self, application_id: int, audience_id: int) -> Audience | None:
        """The audience, deleted ones included (the caller decides what a deleted one means)."""
        ...

    def live(self, application_id: int, audience_ids: Iterable[int]) -> dict[int, Audience]:
        """The live audiences among these ids (one BatchGetItem per 100)."""
        ...

    def rename(self, application_id: int, audience_id: int, name: str) -> Audience:
        """AudienceNotFoundError when absent or deleted."""
        ...

    def mark_deleted(self, audience: Audience) -> None:
        """Makes the audience invisible at once and frees its mirror claim; AudienceNotFoundError when it is no longer
        live (a parallel deletion)."""
        ...

    def empty(self, application_id: int, audience_id: int, now: str) -> int:
        """Starts a new generation (memberships of older ones are to be removed): the new generation, or
        AudienceNotFoundError."""
        ...

    def touch(self, application_id: int, audience_ids: Iterable[int], now: str) -> None:
        """lastUpdate of these audiences (those still live)."""
        ...

    def apply(self, application_id: int, plan: MembershipPlan, now: str) -> None:
        """Writes the plan's joins and leaves (each idempotent: a retry after a failure finishes it)."""
        ...

    def members(
        self, application_id: int, audience_id: int, cursor: str | None, limit: int
    ) -> tuple[list[tuple[str, int]], str | None]:
        """One page of the audience's members (integration id, generation) after `cursor`, and the next cursor (None:
        the last page)."""
        ...

    def remove(
        self, application_id: int, audience_id: int, members: Sequence[tuple[str, int]], below: int | None
    ) -> int:
        """Removes these members if they joined before generation `below` (None: all); how many went."""
        ...

    def drop(self, application_id: int, audience_id: int) -> None:
        """Deletes a deleted audience's own item once its members are gone."""
        ...


def audience_from(item: dict[str, Any]) -> Audience:
    application_id = int(str(item["PK"]).split("#")[1])
    return Audience(
        application_id=application_id,
        audience_id=int(item["audienceId"]),
        name=str(item["name"]),
        created=str(item["created"]),
        generation=int(item.get("generation", 1)),
        state=AudienceState(str(item.get("state", AudienceState.LIVE))),
        description=item.get("description"),
        integration=item.get("integration"),
        integration_id=item.get("integrationId"),
        last_update=item.get("lastUpdate"),
    )


def audience_item(audience: Audience) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.audience_key(audience.application_id, audience.audience_id),
        "audienceId": audience.audience_id,
        "name": audience.name,
        "created": audience.created,
        "generation": audience.generation,
        "state": audience.state.value,
    }
    optional = {
        "description": audience.description,
        "integration": audience.integration,
        "integrationId": audience.integration_id,
        "lastUpdate": audience.last_update,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def _mirror(audience: Audience) -> dict[str, str] | None:
    if audience.integration_id is None:
        return None
    return keys.mirror_key(audience.application_id, audience.integration or "", audience.integration_id)


class DynamoAudienceRepository:
    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name
        self._committer = committer.Committer(client)

    def next_id(self, application_id: int) -> int:
        return allocate_ids(self._client, self._table, keys.counter_key(application_id), 1)

    def create(self, audience: Audience) -> None:
        plan = [committer.put(self._table, audience_item(audience), condition="attribute_not_exists(PK)")]
        mirror = _mirror(audience)
        if mirror is not None:
            claim = {**mirror, "audienceId": audience.audience_id}
            plan.append(
                committer.put(self._table, claim, condition="attribute_not_exists(PK)", failed=AudienceExistsError)
            )
        self._committer.commit(plan)

    def get(self, application_id: int, audience_id: int) -> Audience | None:
        try:
            found = self._client.get_item(
                TableName=self._table,
                Key=codec.to_item(keys.audience_key(application_id, audience_id)),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise translate(exc) from exc
        return audience_from(codec.from_item(found["Item"])) if "Item" in found else None

    def live(self, application_id: int, audience_ids: Iterable[int]) -> dict[int, Audience]:
        wanted = [keys.audience_key(application_id, one) for one in sorted(set(audience_ids))]
        if not wanted:
            return {}
        try:
            items = batch.read_all(self._client, self._table, wanted)
        except ClientError as exc:
            raise translate(exc) from exc
        found = (audience_from(item) for item in items)
        return {one.audience_id: one for one in found if one.state is AudienceState.LIVE}

    def _update_live(
        self, application_id: int, audience_id: int, expression: str, names: dict[str, str], values: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=codec.to_item(keys.audience_key(application_id, audience_id)),
                UpdateExpression=expression,
                ConditionExpression="#state = :live",
                ExpressionAttributeNames={**names, "#state": "state"},
                ExpressionAttributeValues=codec.to_item({**values, ":live": AudienceState.LIVE.value}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise AudienceNotFoundError() from None
            raise translate(exc) from exc
        return codec.from_item(answer["Attributes"])

    def rename(self, application_id: int, audience_id: int, name: str) -> Audience:
        item = self._update_live(application_id, audience_id, "SET #name = :name", {"#name": "name"}, {":name": name})
        return audience_from(item)

    def mark_deleted(self, audience: Audience) -> None:
        key = keys.audience_key(audience.application_id, audience.audience_id)
        plan = [
            committer.update(
                self._table,
                key,
                "SET #state = :deleted",
                condition="#state = :live",
                names={"#state": "state"},
                values={":deleted": AudienceState.DELETED.value, ":live": AudienceState.LIVE.value},
                failed=AudienceNotFoundError,
            )
        ]
        mirror = _mirror(audience)
        if mirror is not None:
            plan.append(committer.delete(self._table, mirror))
        self._committer.commit(plan)

    def empty(self, application_id: int, audience_id: int, now: str) -> int:
        item = self._update_live(
            application_id,
            audience_id,
            "SET #generation = #generation + :one, #updated = :now",
            {"#generation": "generation", "#updated": "lastUpdate"},
            {":one": 1, ":now": now},
        )
        return int(item["generation"])

    def touch(self, application_id: int, audience_ids: Iterable[int], now: str) -> None:
        for audience_id in sorted(set(audience_ids)):
            try:
                self._update_live(
                    application_id, audience_id, "SET #updated = :now", {"#updated": "lastUpdate"}, {":now": now}
                )
            except AudienceNotFoundError:
                continue  # deleted meanwhile: its memberships are being removed anyway

    def apply(self, application_id: int, plan: MembershipPlan, now: str) -> None:
        profiles = sorted(set(plan.joins) | set(plan.leaves))

        def profile_side(integration_id: str) -> None:
            joined = plan.joins.get(integration_id)
            if joined:
                request = profile_items.join_audiences(self._table, application_id, integration_id, joined, now)
                self._call(self._client.update_item, request)
            left = plan.leaves.get(integration_id)
            if left:
                request = profile_items.leave_audiences(self._table, application_id, integration_id, left)
                self._call(self._client.update_item, request, absent_ok=True)

        self._each(profile_side, profiles)
        requests: list[dict[str, Any]] = []
        for integration_id, joined in plan.joins.items():
            for audience_id, generation in joined.items():
                item = {**keys.member_key(application_id, audience_id, integration_id), "g": generation}
                requests.append({"PutRequest": {"Item": codec.to_item(item)}})
        for integration_id, left in plan.leaves.items():
            for audience_id in left:
                key = keys.member_key(application_id, audience_id, integration_id)
                requests.append({"DeleteRequest": {"Key": codec.to_item(key)}})
        try:
            batch.write_all(self._client, self._table, requests)
        except ClientError as exc:
            raise translate(exc) from exc

    def members(
        self, application_id: int, audience_id: int, cursor: str | None, limit: int
    ) -> tuple[list[tuple[str, int]], str | None]:
        pk = keys.audience_pk(application_id, audience_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :member)",
            "ExpressionAttributeValues": codec.to_item({":pk": pk, ":member": keys.MEMBER_PREFIX}),
            "ProjectionExpression": "SK, g",
            "Limit": limit,
        }
        if cursor is not None:
            request["ExclusiveStartKey"] = codec.to_item({"PK": pk, "SK": cursor})
        try:
            answer = self._client.query(**request)
        except ClientError as exc:
            raise translate(exc) from exc
        items = [codec.from_item(item) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        following = str(codec.from_item(last)["SK"]) if last else None
        return [(keys.member_id(str(item["SK"])), int(item["g"])) for item in items], following

    def remove(
        self, application_id: int, audience_id: int, members: Sequence[tuple[str, int]], below: int | None
    ) -> int:
        gone = [member for member in members if below is None or member[1] < below]

        def profile_side(member: tuple[str, int]) -> None:
            request = profile_items.leave_audience_before(self._table, application_id, member[0], audience_id, below)
            self._call(self._client.update_item, request, absent_ok=True)

        self._each(profile_side, gone)
        requests = [
            {"DeleteRequest": {"Key": codec.to_item(keys.member_key(application_id, audience_id, integration_id))}}
            for integration_id, _ in gone
        ]
        try:
            batch.write_all(self._client, self._table, requests)
        except ClientError as exc:
            raise translate(exc) from exc
        return len(gone)

    def drop(self, application_id: int, audience_id: int) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=codec.to_item(keys.audience_key(application_id, audience_id)),
                ConditionExpression="#state = :deleted",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=codec.to_item({":deleted": AudienceState.DELETED.value}),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):  # gone already: a retried job
                raise translate(exc) from exc

    def _call(self, operation: Any, request: dict[str, Any], absent_ok: bool = False) -> None:
        try:
            operation(**request)
        except ClientError as exc:
            if absent_ok and is_condition_failure(exc):
                return  # no such profile, or not a member (of that generation): nothing to remove
            raise translate(exc) from exc

    @staticmethod
    def _each(work: Any, things: Sequence[Any]) -> None:
        """One call per thing, CONCURRENCY in flight, each in a copy of the caller's context (logging, the local
        runtime's per-function IAM check); the first failure is raised once all have run."""
        if len(things) <= 1:
            for thing in things:
                work(thing)
            return
        contexts = [contextvars.copy_context() for _ in things]
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            list(pool.map(lambda context, thing: context.run(work, thing), contexts, things))
