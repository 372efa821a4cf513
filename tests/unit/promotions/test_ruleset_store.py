"""Publishing rulesets with an in-memory repository: the plan, versions and the pointer, conflicts, refusals, and
the per-instance cache of compiled versions."""

from __future__ import annotations

import base64
import os
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from patron.dynamo import codec
from patron.dynamo.committer import Write
from patron.promotions.definitions import (
    Campaign,
    EvaluationGroup,
    EvaluationMode,
    LoyaltyProgram,
    Ruleset,
    Settings,
)
from patron.promotions.loading import merge
from patron.promotions.management import (
    RulesetInvalidError,
    RulesetService,
    VersionNotFoundError,
    plan,
)
from patron.promotions.store import (
    LivePointer,
    LiveRulesets,
    RulesetChangedError,
    RulesetTooLargeError,
    StoredVersion,
    VersionInfo,
    VersionMissingError,
    decode_body,
    encode_body,
    live_version,
    pointer_key,
    version_key,
)
from patron.settings import Tables

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "campaigns"


def campaign(id: int, **fields: Any) -> Campaign:
    rule = {"title": "Over 100", "condition": "session.cartItemTotal >= 100"}
    return msgspec.convert({"id": id, "name": f"C{id}", "rules": [rule], **fields}, Campaign)


class FakeRulesets:
    """The repository in memory; a plan's two writes are applied together or not at all, as the transaction."""

    def __init__(self) -> None:
        self.pointers: dict[int, LivePointer] = {}
        self.versions: dict[tuple[int, int], tuple[VersionInfo, bytes]] = {}
        self.commits = 0

    def live(self, application_id: int) -> LivePointer | None:
        return self.pointers.get(application_id)

    def version(self, application_id: int, version: int) -> StoredVersion | None:
        found = self.versions.get((application_id, version))
        return StoredVersion(found[0], decode_body(found[1])) if found else None

    def history(self, application_id: int, limit: int, before: int | None) -> list[VersionInfo]:
        infos = [info for (app, v), (info, _) in self.versions.items() if app == application_id]
        infos = [info for info in infos if before is None or info.version < before]
        return sorted(infos, key=lambda info: -info.version)[:limit]

    def publish_writes(self, application_id: int, info: VersionInfo, body: bytes, based_on: int | None) -> list[Write]:
        return [Write("Put", {"app": application_id, "info": info, "body": body, "basedOn": based_on})]

    def commit(self, writes: list[Write]) -> None:
        [write] = writes
        app, info, based_on = write.request["app"], write.request["info"], write.request["basedOn"]
        pointer = self.pointers.get(app)
        if (app, info.version) in self.versions or (pointer.version if pointer else None) != based_on:
            raise RulesetChangedError()
        self.versions[(app, info.version)] = (info, write.request["body"])
        self.pointers[app] = LivePointer(info.version, info.created, info.published_by, info.note)
        self.commits += 1


@pytest.fixture
def store() -> FakeRulesets:
    return FakeRulesets()


@pytest.fixture
def service(store: FakeRulesets) -> RulesetService:
    return RulesetService(store, lambda: "2026-12-03T10:00:00.000Z")


def test_the_plan_names_each_campaigns_change_and_the_fields_that_changed():
    live = Ruleset(campaigns=[campaign(1), campaign(2), campaign(3, priority=1)])
    proposed = Ruleset(
        settings=Settings(currency="USD"),
        campaigns=[
            campaign(1),
            campaign(3, priority=2, state="disabled", startTime="2026-12-01T00:00:00"),
            campaign(4),
        ],
    )
    changes = plan(live, 7, proposed)
    assert changes.based_on == 7 and changes.changed
    assert [(c.id, c.change, c.fields) for c in changes.campaigns] == [
        (1, "unchanged", ()),
        (2, "removed", ()),
        (3, "changed", ("priority", "schedule", "state")),
        (4, "added", ()),
    ]
    assert changes.settings == ("currency",)
    assert [changes.count(kind) for kind in ("added", "removed", "changed", "unchanged")] == [1, 1, 1, 1]


def test_the_plan_sees_groups_added_removed_retyped_and_reordered():
    live = Ruleset(evaluation_groups=[EvaluationGroup("a"), EvaluationGroup("b"), EvaluationGroup("c")])
    exclusive = EvaluationGroup("b", mode=EvaluationMode.EXCLUSIVE)
    proposed = Ruleset(evaluation_groups=[exclusive, EvaluationGroup("a"), EvaluationGroup("d")])
    groups = plan(live, 1, proposed).groups
    assert (groups.added, groups.removed, groups.changed, groups.reordered) == (("d",), ("c",), ("b",), True)


def test_the_plan_sees_loyalty_programs_added_removed_and_changed():
    def program(program_id: int, **fields: Any) -> LoyaltyProgram:
        return msgspec.convert({"id": program_id, "name": f"p{program_id}", **fields}, LoyaltyProgram)

    live = Ruleset(loyalty_programs=[program(1), program(2)])
    proposed = Ruleset(loyalty_programs=[program(1, defaultValidity="365D"), program(3)])
    changes = plan(live, 1, proposed)
    assert changes.changed
    assert changes.programs == ((1, "p1", "changed"), (3, "p3", "added"), (2, "p2", "removed"))
    assert not plan(proposed, 2, proposed).changed


def test_a_default_written_out_is_no_change():
    assert not plan(Ruleset(campaigns=[campaign(1)]), 1, Ruleset(campaigns=[campaign(1, priority=0)])).changed


def test_publish_numbers_versions_and_moves_the_pointer(service, store):
    first = service.publish(1, Ruleset(campaigns=[campaign(1)]), note="one", published_by="t")
    second = service.publish(1, Ruleset(campaigns=[campaign(1), campaign(2)]), based_on=1)
    assert (first.info.version, second.info.version) == (1, 2)
    assert store.pointers[1].version == 2 and second.info.campaigns == 2
    assert [c.change for c in second.plan.campaigns] == ["unchanged", "added"]


def test_a_publish_based_on_a_version_no_longer_live_is_refused(service, store):
    service.publish(1, Ruleset(campaigns=[campaign(1)]))
    service.publish(1, Ruleset(campaigns=[campaign(2)]), based_on=1)
    with pytest.raises(RulesetChangedError) as refused:
        service.publish(1, Ruleset(campaigns=[campaign(3)]), based_on=1)
    assert refused.value.status == 409 and refused.value.code == "ruleset_changed"
    with pytest.raises(RulesetChangedError):
        service.publish(1, Ruleset(campaigns=[campaign(3)]), based_on=None)
    assert store.pointers[1].version == 2 and store.commits == 2


def test_rollback_publishes_a_copy_as_a_new_version(service, store):
    service.publish(1, Ruleset(campaigns=[campaign(1)]))
    service.publish(1, Ruleset(campaigns=[campaign(2)]))
    rolled = service.rollback(1, 1)
    assert (rolled.info.version, rolled.info.source, rolled.info.rolled_back_from) == (3, "rollback", 1)
    assert service.version(1, 3).ruleset == service.version(1, 1).ruleset
    assert [info.version for info in service.history(1, 10)] == [3, 2, 1]
    with pytest.raises(VersionNotFoundError):
        service.rollback(2, 1)  # another application's version


def test_a_ruleset_that_does_not_compile_is_refused_with_every_fault_and_nothing_is_written(service, store):
    broken = Ruleset(
        campaigns=[
            campaign(1, rules=[{"title": "a", "condition": "session.nope > 1"}]),
            campaign(
                2,
                rules=[
                    {
                        "title": "b",
                        "condition": "true",
                        "effects": [{"type": "setDiscount", "name": "x", "value": '"t"'}],
                    }
                ],
            ),
        ]
    )
    with pytest.raises(RulesetInvalidError) as refused:
        service.publish(1, broken)
    body = refused.value.body()
    assert refused.value.status == 400 and body["code"] == "invalid_ruleset"
    assert [(e["campaign"], e["rule"], e["path"]) for e in body["errors"]] == [
        ("C1", 0, "campaigns[0].rules[0].condition"),
        ("C2", 0, "campaigns[1].rules[0].effects[0].value"),
    ]
    with pytest.raises(RulesetInvalidError):
        service.plan(1, broken)
    assert store.commits == 0 and store.pointers == {}


def test_a_ruleset_too_large_for_an_item_is_refused(service, store):
    noise = [campaign(i + 1, description=base64.b64encode(os.urandom(7500)).decode()) for i in range(60)]
    with pytest.raises(RulesetTooLargeError) as refused:
        service.publish(1, Ruleset(campaigns=noise))
    assert refused.value.status == 413 and refused.value.code == "ruleset_too_large"
    assert store.commits == 0


def test_publishing_unchanged_definitions_if_changed_writes_nothing(service, store):
    ruleset = Ruleset(campaigns=[campaign(1)])
    service.publish(1, ruleset)
    again = service.publish(1, msgspec.convert(msgspec.to_builtins(ruleset), Ruleset), if_changed=True)
    assert again.unchanged and again.info.version == 1 and store.commits == 1
    assert not service.publish(1, Ruleset(campaigns=[campaign(2)]), if_changed=True).unchanged


def test_the_examples_survive_storage_unchanged():
    import yaml

    documents = [(path.name, yaml.safe_load(path.read_text())) for path in sorted(EXAMPLES.glob("*.yaml"))]
    ruleset = merge(documents)
    body = encode_body(ruleset)
    assert decode_body(body) == ruleset
    assert len(body) < len(zlib.decompress(body)) / 2


def test_keys_and_the_pointer_as_the_sessions_read_them():
    assert pointer_key(4) == {"PK": "APP#4#RULESET", "SK": "LIVE"}
    assert version_key(4, 12) == {"PK": "APP#4#RULESET", "SK": "V#0000000012"}
    assert live_version(None) is None and live_version({}) is None
    assert live_version(codec.to_item({**pointer_key(4), "version": 3, "published": "x"})) == 3


class FakeClient:
    def __init__(self, items: dict[str, dict[str, Any]]):
        self.items = items
        self.reads = 0

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool = False) -> dict[str, Any]:
        self.reads += 1
        found = self.items.get(codec.from_item(Key)["SK"] + codec.from_item(Key)["PK"])
        return {"Item": found} if found else {}


def _version_item(app: int, version: int, ruleset: Ruleset) -> dict[str, Any]:
    values = {**version_key(app, version), "version": version, "created": "x", "body": encode_body(ruleset)}
    return codec.to_item(values)


def test_live_rulesets_compile_a_version_once_and_keep_the_most_recently_used():
    items = {}
    for version in (1, 2, 3):
        key = version_key(5, version)
        items[key["SK"] + key["PK"]] = _version_item(5, version, Ruleset(campaigns=[campaign(version)]))
    client = FakeClient(items)
    rulesets = LiveRulesets(client, Tables(config_table_name="config"), cache_size=2)
    one = rulesets.compiled(5, 1)
    assert rulesets.compiled(5, 1) is one and client.reads == 1
    assert list(one.campaigns) == [1] and one.version == 1
    rulesets.compiled(5, 2)
    rulesets.compiled(5, 1)  # 1 is now the most recently used
    rulesets.compiled(5, 3)  # evicts 2
    assert client.reads == 3
    rulesets.compiled(5, 1)
    assert client.reads == 3
    rulesets.compiled(5, 2)
    assert client.reads == 4
    with pytest.raises(VersionMissingError):
        rulesets.compiled(6, 1)
