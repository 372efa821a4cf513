"""The attribute catalog service over an in-memory repository that counts DynamoDB round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patron.catalog.model import AttributeDescriptor, AttributeType, EntityKind
from patron.catalog.service import AttributeTypeTakenError, CatalogService, PendingAdditions
from patron.clock import iso
from patron.dynamo.committer import Write
from patron.errors import ValidationError
from tests.fakes import InMemoryCatalogRepository

T = AttributeType
CUSTOMER, ORDER = EntityKind.CUSTOMER, EntityKind.ORDER
APP, OTHER_APP = 1, 2
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def repository() -> InMemoryCatalogRepository:
    return InMemoryCatalogRepository()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(repository, clock) -> CatalogService:
    return CatalogService(repository, clock, ttl_seconds=60)


def stored(repository: InMemoryCatalogRepository, app: int = APP, kind: EntityKind = CUSTOMER) -> dict[str, T]:
    return {name: d.type for (a, k, name), d in repository.descriptors.items() if (a, k) == (app, kind)}


def refusal(error: ValidationError) -> list[tuple[str, str]]:
    return [(issue.path, issue.code) for issue in error.details]


# -- registration and inference ------------------------------------------------------------------------------


def test_first_use_registers_every_attribute_with_its_inferred_type_and_time(service, repository):
    service.check_and_register(
        APP,
        CUSTOMER,
        {
            "tier": "gold",
            "visits": 3,
            "vip": True,
            "birthday": "1990-05-01",
            "lastLogin": "2020-01-01T13:06:39Z",
            "address": {"city": "Milano", "since": "2020-01-01"},
            "tags": ["a", 1],
            "removed": None,
        },
    )
    listed = service.list(APP, CUSTOMER)
    assert [(d.name, d.type) for d in listed] == [
        ("address", T.OBJECT),
        ("birthday", T.DATE),
        ("lastLogin", T.DATE),
        ("tags", T.ARRAY),
        ("tier", T.STRING),
        ("vip", T.BOOLEAN),
        ("visits", T.NUMBER),
    ]
    assert {d.first_seen for d in listed} == {iso(START)}


def test_first_seen_is_kept_when_the_attribute_comes_again(service, clock):
    service.check_and_register(APP, CUSTOMER, {"visits": 1})
    clock.advance(3600)
    service.check_and_register(APP, CUSTOMER, {"visits": 2, "tier": "gold"})
    first_seen = {d.name: d.first_seen for d in service.list(APP, CUSTOMER)}
    assert first_seen == {"visits": iso(START), "tier": iso(START + timedelta(seconds=3600))}


def test_nulls_and_empty_updates_cost_nothing(service, repository):
    service.check_and_register(APP, CUSTOMER, {})
    service.check_and_register(APP, CUSTOMER, {"gone": None})
    assert repository.calls == [] and stored(repository) == {}


# -- mismatches ------------------------------------------------------------------------------------------------


def test_a_value_of_another_type_is_refused_with_one_issue_per_attribute_and_nothing_registered(service, repository):
    service.check_and_register(APP, CUSTOMER, {"visits": 3, "tier": "gold", "vip": True, "tags": []})
    with pytest.raises(ValidationError) as raised:
        service.check_and_register(
            APP, CUSTOMER, {"visits": "three", "tier": "silver", "vip": 1, "tags": {}, "brandNew": "x"}
        )
    error = raised.value
    assert error.status == 400
    assert refusal(error) == [
        ("attributes.visits", "attribute_type_mismatch"),
        ("attributes.vip", "attribute_type_mismatch"),
        ("attributes.tags", "attribute_type_mismatch"),
    ]
    messages = [issue.message for issue in error.details]
    assert "number" in messages[0] and "string" in messages[0]
    assert "boolean" in messages[1] and "number" in messages[1]
    assert "array" in messages[2] and "object" in messages[2]
    assert not any("three" in message for message in messages)  # types, never values
    assert "brandNew" not in stored(repository)


def test_a_date_attribute_refuses_plain_strings_but_a_string_attribute_takes_dates(service, repository):
    service.check_and_register(APP, CUSTOMER, {"birthday": "1990-05-01", "nickname": "Bob"})
    service.check_and_register(APP, CUSTOMER, {"birthday": "1991-06-02T00:00:00Z", "nickname": "2020-01-01"})
    with pytest.raises(ValidationError) as raised:
        service.check_and_register(APP, CUSTOMER, {"birthday": "soon"})
    assert refusal(raised.value) == [("attributes.birthday", "attribute_type_mismatch")]
    assert "date" in raised.value.details[0].message
    with pytest.raises(ValidationError):
        service.check_and_register(APP, CUSTOMER, {"birthday": "1990-02-30"})  # not a real date: a string
    assert stored(repository) == {"birthday": T.DATE, "nickname": T.STRING}


def test_a_null_never_conflicts(service):
    service.check_and_register(APP, CUSTOMER, {"visits": 3})
    service.check_and_register(APP, CUSTOMER, {"visits": None})


def test_issues_can_be_rerooted_by_the_caller(service):
    service.check_and_register(APP, CUSTOMER, {"visits": 3})
    with pytest.raises(ValidationError) as raised:
        service.check_and_register(APP, CUSTOMER, {"visits": "x"})
    assert raised.value.details[0].under("customerProfiles[2]").path == "customerProfiles[2].attributes.visits"


def test_catalogs_are_per_application_and_per_entity_kind(service, repository):
    service.check_and_register(APP, CUSTOMER, {"code": 1})
    service.check_and_register(OTHER_APP, CUSTOMER, {"code": "A1"})
    service.check_and_register(APP, ORDER, {"code": True})
    assert stored(repository, APP, CUSTOMER) == {"code": T.NUMBER}
    assert stored(repository, OTHER_APP, CUSTOMER) == {"code": T.STRING}
    assert stored(repository, APP, ORDER) == {"code": T.BOOLEAN}
    assert [d.name for d in service.list(OTHER_APP, ORDER)] == []


@pytest.mark.parametrize("name", ["", "\ud800", "x" * 1023])
def test_names_no_sort_key_can_hold_are_refused(service, repository, name):
    with pytest.raises(ValidationError) as raised:
        service.check_and_register(APP, CUSTOMER, {name: 1, "fine": 2})
    assert [issue.code for issue in raised.value.details] == ["invalid_name"]
    assert repository.calls == []


# -- overwrite (Rfmcube's overwriteDescriptors) ---------------------------------------------------------------


def test_overwrite_replaces_the_types_of_the_attributes_in_the_call(service, repository, clock):
    service.check_and_register(APP, CUSTOMER, {"visits": 3, "tier": "gold", "since": "2020-01-01"})
    clock.advance(10)
    service.check_and_register(APP, CUSTOMER, {"visits": "three", "since": "2020-01-01"}, overwrite=True)
    assert stored(repository) == {"visits": T.STRING, "tier": T.STRING, "since": T.DATE}
    assert {d.name: d.first_seen for d in service.list(APP, CUSTOMER)}["visits"] == iso(START)
    with pytest.raises(ValidationError):
        service.check_and_register(APP, CUSTOMER, {"visits": 4})


def test_overwrite_reads_the_table_and_writes_only_the_types_that_change(service, repository):
    service.check_and_register(APP, CUSTOMER, {"visits": 3, "tier": "gold"})
    repository.calls.clear()
    service.check_and_register(APP, CUSTOMER, {"visits": 5, "tier": "silver"}, overwrite=True)
    assert repository.calls == ["Query"]
    service.check_and_register(APP, CUSTOMER, {"visits": True, "tier": "x", "new": []}, overwrite=True)
    assert repository.calls == ["Query", "Query", "PutItem", "PutItem"]
    assert stored(repository) == {"visits": T.BOOLEAN, "tier": T.STRING, "new": T.ARRAY}


def test_overwrite_may_narrow_a_string_to_a_date(service, repository):
    service.check_and_register(APP, CUSTOMER, {"since": "long ago"})
    service.check_and_register(APP, CUSTOMER, {"since": "2020-01-01"}, overwrite=True)
    assert stored(repository) == {"since": T.DATE}


def test_overwrite_is_not_fooled_by_a_stale_cache(repository, clock):
    ours, elsewhere = CatalogService(repository, clock), CatalogService(repository, clock)
    ours.check_and_register(APP, CUSTOMER, {"visits": 3})  # cached: number
    elsewhere.check_and_register(APP, CUSTOMER, {"visits": "x"}, overwrite=True)  # the table: string
    ours.check_and_register(APP, CUSTOMER, {"visits": 4}, overwrite=True)  # the caller wants number back
    assert stored(repository) == {"visits": T.NUMBER}


# -- cost: the cache ------------------------------------------------------------------------------------------


def test_a_cold_catalog_is_one_query_and_each_new_attribute_one_conditional_write(service, repository):
    service.check_and_register(APP, CUSTOMER, {"a": 1, "b": "x"})
    assert repository.calls == ["Query", "PutItem", "PutItem"]


def test_a_warm_cache_costs_no_dynamodb_call(service, repository, clock):
    service.check_and_register(APP, CUSTOMER, {"a": 1, "b": "x", "c": "2020-01-01"})
    repository.calls.clear()
    for _ in range(100):
        service.check_and_register(APP, CUSTOMER, {"a": 2, "b": "2021-01-01", "c": "2021-02-03", "d": None})
    clock.advance(59.9)
    service.check_and_register(APP, CUSTOMER, {"a": 3})
    assert repository.calls == []


def test_the_cache_expires_after_its_ttl(service, repository, clock):
    service.check_and_register(APP, CUSTOMER, {"a": 1})
    repository.calls.clear()
    clock.advance(60)
    service.check_and_register(APP, CUSTOMER, {"a": 2})
    service.check_and_register(APP, CUSTOMER, {"a": 3})
    assert repository.calls == ["Query"]


def test_a_clock_stepping_back_does_not_keep_the_cache_forever(service, repository, clock):
    service.check_and_register(APP, CUSTOMER, {"a": 1})
    repository.calls.clear()
    clock.advance(-3600)
    service.check_and_register(APP, CUSTOMER, {"a": 2})
    assert repository.calls == ["Query"]


def test_a_warm_catalog_with_a_new_attribute_costs_one_write(service, repository):
    service.check_and_register(APP, CUSTOMER, {"a": 1})
    repository.calls.clear()
    service.check_and_register(APP, CUSTOMER, {"a": 1, "b": True})
    service.check_and_register(APP, CUSTOMER, {"a": 1, "b": False})
    assert repository.calls == ["PutItem"]


def test_a_zero_ttl_reads_the_catalog_on_every_call(repository, clock):
    service = CatalogService(repository, clock, ttl_seconds=0)
    service.check_and_register(APP, CUSTOMER, {"a": 1})
    service.check_and_register(APP, CUSTOMER, {"a": 1})
    assert repository.calls == ["Query", "PutItem", "Query"]


def test_the_cache_holds_a_bounded_number_of_catalogs(repository, clock):
    service = CatalogService(repository, clock, max_cached=2)
    for app in (1, 2, 3):
        service.check_and_register(app, CUSTOMER, {"a": 1})
    repository.calls.clear()
    service.check_and_register(3, CUSTOMER, {"a": 1})
    service.check_and_register(2, CUSTOMER, {"a": 1})
    assert repository.calls == []
    service.check_and_register(1, CUSTOMER, {"a": 1})  # evicted first
    assert repository.calls == ["Query"]


def test_listing_always_reads_the_table(service, repository):
    service.check_and_register(APP, CUSTOMER, {"a": 1})
    repository.calls.clear()
    service.list(APP, CUSTOMER)
    service.list(APP, CUSTOMER)
    assert repository.calls == ["Query", "Query"]


def test_invalid_cache_settings_are_refused(repository):
    with pytest.raises(ValueError):
        CatalogService(repository, ttl_seconds=-1)


# -- a stale cache is rechecked before refusing --------------------------------------------------------------


def test_a_type_overwritten_elsewhere_is_rechecked_and_accepted(repository, clock):
    ours, elsewhere = CatalogService(repository, clock), CatalogService(repository, clock)
    ours.check_and_register(APP, CUSTOMER, {"visits": 3})
    elsewhere.check_and_register(APP, CUSTOMER, {"visits": "many"}, overwrite=True)
    clock.advance(5)
    repository.calls.clear()
    ours.check_and_register(APP, CUSTOMER, {"visits": "lots"})
    assert repository.calls == ["Query"]
    ours.check_and_register(APP, CUSTOMER, {"visits": "more"})  # the recheck refreshed the cache
    assert repository.calls == ["Query"]


def test_a_real_mismatch_costs_one_recheck_for_all_attributes_then_is_refused(service, repository):
    service.check_and_register(APP, CUSTOMER, {"a": 1, "b": True})
    repository.calls.clear()
    with pytest.raises(ValidationError) as raised:
        service.check_and_register(APP, CUSTOMER, {"a": "x", "b": "y"})
    assert repository.calls == ["Query"]
    assert [issue.path for issue in raised.value.details] == ["attributes.a", "attributes.b"]


def test_a_mismatch_found_on_a_cold_read_is_not_read_twice(repository, clock):
    CatalogService(repository, clock).check_and_register(APP, CUSTOMER, {"a": 1})
    repository.calls.clear()
    with pytest.raises(ValidationError):
        CatalogService(repository, clock).check_and_register(APP, CUSTOMER, {"a": "x"})
    assert repository.calls == ["Query"]


# -- concurrency: the conditional write decides ---------------------------------------------------------------


def racing(repository: InMemoryCatalogRepository, name: str, winner: AttributeType) -> None:
    """The next conditional write loses: another request registers `name` with `winner` just before it."""

    def other_request_wins() -> None:
        repository.descriptors[(APP, CUSTOMER, name)] = AttributeDescriptor(name, winner, iso(START))

    repository.before_add = other_request_wins


def test_the_loser_of_a_race_for_a_new_attribute_gets_the_winners_type_as_a_mismatch(service, repository):
    service.check_and_register(APP, CUSTOMER, {"other": 1})
    repository.calls.clear()
    racing(repository, "score", T.NUMBER)
    with pytest.raises(ValidationError) as raised:
        service.check_and_register(APP, CUSTOMER, {"score": "high"})
    assert refusal(raised.value) == [("attributes.score", "attribute_type_mismatch")]
    assert "number" in raised.value.details[0].message
    assert stored(repository)["score"] == T.NUMBER
    assert repository.calls == ["PutItem"]  # the losing write itself returns the winner
    service.check_and_register(APP, CUSTOMER, {"score": 7})  # and the cache learnt it
    assert repository.calls == ["PutItem"]


def test_the_loser_of_a_race_with_a_value_the_winner_accepts_succeeds(service, repository):
    racing(repository, "since", T.STRING)
    service.check_and_register(APP, CUSTOMER, {"since": "2020-01-01"})
    assert stored(repository) == {"since": T.STRING}


def test_an_attribute_registered_after_the_cache_was_loaded_is_caught_by_the_conditional_write(repository, clock):
    ours, elsewhere = CatalogService(repository, clock), CatalogService(repository, clock)
    ours.check_and_register(APP, CUSTOMER, {"a": 1})
    elsewhere.check_and_register(APP, CUSTOMER, {"b": 1})
    repository.calls.clear()
    with pytest.raises(ValidationError):
        ours.check_and_register(APP, CUSTOMER, {"b": "x"})
    assert repository.calls == ["PutItem"] and stored(repository) == {"a": T.NUMBER, "b": T.NUMBER}


def test_a_lost_race_keeps_the_other_new_attributes_it_wrote(service, repository):
    racing(repository, "b", T.BOOLEAN)
    with pytest.raises(ValidationError) as raised:
        service.check_and_register(APP, CUSTOMER, {"a": 1, "b": "x"})
    assert [issue.path for issue in raised.value.details] == ["attributes.b"]
    assert stored(repository) == {"a": T.NUMBER, "b": T.BOOLEAN}


# -- batches ---------------------------------------------------------------------------------------------------


def test_a_batch_is_checked_as_a_whole_before_anything_is_registered(service, repository):
    with pytest.raises(ValidationError) as raised:
        service.check_and_register_many(
            APP,
            CUSTOMER,
            [("customerProfiles[0]", {"a": 1}), ("customerProfiles[1]", {"a": "x", "b": True})],
        )
    assert refusal(raised.value) == [("customerProfiles[1].attributes.a", "attribute_type_mismatch")]
    assert repository.calls == [] and stored(repository) == {}


def test_a_batch_with_dates_and_plain_strings_for_one_attribute_registers_a_string(service, repository):
    service.check_and_register_many(APP, CUSTOMER, [("", {"d": "2020-01-01"}), ("", {"d": "soon"}), ("", {"d": None})])
    assert stored(repository) == {"d": T.STRING}
    assert repository.calls == ["Query", "PutItem"]


def test_a_batch_refuses_against_the_catalog_with_each_items_root(service, repository):
    service.check_and_register(APP, CUSTOMER, {"a": 1})
    with pytest.raises(ValidationError) as raised:
        service.check_and_register_many(APP, CUSTOMER, [("items[0]", {"a": 2}), ("items[1]", {"a": "x"})])
    assert [issue.path for issue in raised.value.details] == ["items[1].attributes.a"]


def test_an_overwrite_batch_must_agree_with_itself(service, repository):
    with pytest.raises(ValidationError) as raised:
        service.check_and_register_many(APP, CUSTOMER, [("c[0]", {"a": 1}), ("c[1]", {"a": True})], overwrite=True)
    assert [issue.path for issue in raised.value.details] == ["c[1].attributes.a"]
    assert stored(repository) == {}


# -- additions written by the writer's own transaction ----------------------------------------------------------


def commit(repository: InMemoryCatalogRepository, writes: list[Write]) -> None:
    """What the writer's transaction does with the catalog's items: all of them, or none."""
    for write in writes:
        application_id, kind, descriptor = write.request["descriptor"]
        if (application_id, kind, descriptor.name) in repository.descriptors:
            assert write.failed is not None
            raise write.failed()
    for write in writes:
        repository.added(write)


def test_items_are_one_conditional_put_per_new_attribute_and_call_nothing(service, repository, clock):
    additions = service.check_many(APP, CUSTOMER, [("", {"a": 1, "b": "x", "gone": None})])
    repository.calls.clear()
    writes = service.items(additions)
    assert [w.action for w in writes] == ["Put", "Put"] and repository.calls == []
    assert stored(repository) == {}  # nothing written until the writer commits
    commit(repository, writes)
    service.written(additions)
    assert stored(repository) == {"a": T.NUMBER, "b": T.STRING}
    assert {d.first_seen for d in service.list(APP, CUSTOMER)} == {iso(START)}


def test_written_additions_are_known_to_the_cache(service, repository):
    additions = service.check_many(APP, CUSTOMER, [("", {"a": 1})])
    commit(repository, service.items(additions))
    service.written(additions)
    repository.calls.clear()
    assert service.check_many(APP, CUSTOMER, [("", {"a": 2})]).types == {}
    assert repository.calls == []


def test_an_overwrite_is_never_an_item_of_a_transaction(service):
    with pytest.raises(ValueError):
        service.items(service.check_many(APP, CUSTOMER, [("", {"a": 1})], overwrite=True))


def test_a_name_taken_meanwhile_by_an_accepting_type_leaves_the_next_attempt(service, repository):
    additions = service.check_many(APP, CUSTOMER, [("", {"since": "2020-01-01", "b": 1})])
    repository.descriptors[(APP, CUSTOMER, "since")] = AttributeDescriptor("since", T.STRING, iso(START))
    with pytest.raises(AttributeTypeTakenError):
        commit(repository, service.items(additions))
    assert stored(repository) == {"since": T.STRING}  # the transaction wrote nothing
    repository.calls.clear()
    still = service.recheck([additions])
    assert repository.calls == ["Query"]
    assert [a.types for a in still] == [{"b": T.NUMBER}]
    commit(repository, service.items(still[0]))
    assert stored(repository) == {"since": T.STRING, "b": T.NUMBER}


def test_a_name_taken_meanwhile_by_another_type_refuses_the_values_it_does_not_take(service, repository):
    additions = service.check_many(APP, CUSTOMER, [("customerProfiles[3]", {"score": "high", "b": 1})])
    repository.descriptors[(APP, CUSTOMER, "score")] = AttributeDescriptor("score", T.NUMBER, iso(START))
    with pytest.raises(ValidationError) as raised:
        service.recheck([additions])
    assert refusal(raised.value) == [("customerProfiles[3].attributes.score", "attribute_type_mismatch")]
    assert "number" in raised.value.details[0].message


# -- pending additions (an import's batches) ---------------------------------------------------------------------


def test_pending_additions_are_decided_record_by_record_and_written_by_nobody(service, repository):
    pending = PendingAdditions()
    service.check_many(APP, CUSTOMER, [("", {"level": 3})], pending=pending)
    with pytest.raises(ValidationError) as raised:
        service.check_many(APP, CUSTOMER, [("", {"level": "gold"})], pending=pending)  # as if 3 were registered
    assert refusal(raised.value) == [("attributes.level", "attribute_type_mismatch")]
    later = service.check_many(APP, CUSTOMER, [("", {"level": 4, "tier": "x"})], pending=pending)
    assert later.types == {"tier": T.STRING}  # level is not new to it: an earlier record adds it
    assert [a.types for a in pending.additions()] == [{"level": T.NUMBER, "tier": T.STRING}]
    assert repository.calls == ["Query"] and stored(repository) == {}
    for additions in pending.additions():
        service.register(additions)
    assert stored(repository) == {"level": T.NUMBER, "tier": T.STRING}


def test_pending_additions_keep_each_application_and_kind_apart(service):
    pending = PendingAdditions()
    service.check_many(APP, CUSTOMER, [("", {"a": 1})], pending=pending)
    service.check_many(OTHER_APP, CUSTOMER, [("", {"a": "x"})], pending=pending)
    service.check_many(APP, ORDER, [("", {"a": True})], pending=pending)
    assert sorted((a.application_id, a.kind, dict(a.types)) for a in pending.additions()) == [
        (APP, CUSTOMER, {"a": T.NUMBER}),
        (APP, ORDER, {"a": T.BOOLEAN}),
        (OTHER_APP, CUSTOMER, {"a": T.STRING}),
    ]
