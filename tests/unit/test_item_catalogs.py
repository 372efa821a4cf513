"""Cart item catalogs without I/O: the six sync actions and their errors, filters, prices at a time, and the rule
that a sync shows all of its changes or none, for every sequence of syncs, some of them dying half-way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.catalog.service import CatalogService
from patron.errors import PatronError, ValidationError
from patron.item_catalogs import actions as act
from patron.item_catalogs.model import ItemState, PriceAdjustment
from patron.item_catalogs.repository import CatalogBusyError
from patron.item_catalogs.service import (
    HOLD,
    CatalogVersionMismatchError,
    ItemCatalogService,
    SyncRequest,
)
from tests.fakes import InMemoryCatalogRepository, InMemoryItemCatalogRepository

APP = 7
NOW = "2026-01-01T00:00:00.000Z"


class FakeClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


def service(repository: InMemoryItemCatalogRepository, clock: FakeClock | None = None) -> ItemCatalogService:
    clock = clock or FakeClock()
    return ItemCatalogService(repository, CatalogService(InMemoryCatalogRepository(), clock), clock)


def add(sku: str, price: int | None = 1, replace: bool = False, **attributes: Any) -> act.Add:
    return act.Add(sku, Decimal(price) if price is not None else None, attributes or None, None, replace)


def visible(repository: InMemoryItemCatalogRepository, app: int = APP) -> dict[str, ItemState]:
    catalog = repository.catalog(app)
    return {
        sku: state
        for (a, sku), stored in repository.stored.items()
        if a == app and (state := stored.visible(catalog)) is not None
    }


# -- actions --------------------------------------------------------------------------------------------------


def test_add_of_an_existing_sku_is_409_naming_each_action_and_replace_keeps_the_price():
    current = {"A": ItemState("A", NOW, 1, Decimal(5), {"x": 1}, "P")}
    with pytest.raises(act.CatalogItemConflictError) as raised:
        act.decide_by_sku([add("B"), add("A")], current, 2, NOW)
    assert [issue.path for issue in raised.value.details] == ["actions[1].payload.sku"]
    replaced = act.decide_by_sku([add("A", None, replace=True, y=2)], current, 2, NOW)["A"]
    assert replaced is not None
    assert (replaced.price, dict(replaced.attributes), replaced.product) == (Decimal(5), {"y": 2}, None)


def test_patch_remove_and_adjust_of_a_missing_sku_are_404_and_patch_may_create():
    for action in (act.Patch("A", None, None, None, False), act.Remove("A"), act.AdjustPrice("A", ())):
        with pytest.raises(act.CatalogItemNotFoundError):
            act.decide_by_sku([action], {}, 2, NOW)
    created = act.decide_by_sku([act.Patch("A", Decimal(3), {"c": "red"}, None, True)], {}, 2, NOW)["A"]
    assert created is not None and created.price == Decimal(3) and dict(created.attributes) == {"c": "red"}


def test_patch_changes_what_is_sent_and_null_removes_an_attribute():
    current = {"A": ItemState("A", NOW, 1, Decimal(5), {"x": 1, "y": 2}, "P")}
    patched = act.decide_by_sku([act.Patch("A", None, {"x": None, "z": 3}, None, False)], current, 2, NOW)["A"]
    assert patched is not None
    assert (patched.price, dict(patched.attributes), patched.product, patched.version) == (
        Decimal(5),
        {"y": 2, "z": 3},
        "P",
        2,
    )


@pytest.mark.parametrize(
    ("op", "value", "held", "expected"),
    [
        ("EQ", "red", "red", True),
        ("EQ", 3, Decimal("3.0"), True),
        ("LT", 5, 4, True),
        ("LE", 5, 5, True),
        ("GT", 5, 5, False),
        ("GE", 5, "9", False),  # numbers only: text never matches
        ("IN", "red,blue", "blue", True),
        ("IN", ["red", 3], 3, True),
        ("IN", "1,2", 2, True),
        ("IN", "red", ["green", "red"], True),
        ("EQ", "red", None, False),
    ],
)
def test_filters(op, value, held, expected):
    attributes = {"a": held} if held is not None else {}
    assert act.matches([act.Filter("a", op, value)], attributes) is expected


def test_numeric_operators_refuse_values_that_are_not_numbers():
    issues = act.filter_issues([act.Filter("a", "EQ", "x"), act.Filter("a", "LT", "x")], "actions[0].payload.filters")
    assert [issue.path for issue in issues] == ["actions[0].payload.filters[1].value"]


def test_the_price_at_a_time_is_the_newest_effective_base_adjustment():
    def adjustment(ref: str, price: int, calculated: str, start: str | None = None, end: str | None = None) -> Any:
        return PriceAdjustment("base", Decimal(price), ref, calculated, start, end)

    item = ItemState(
        "A",
        NOW,
        1,
        Decimal(100),
        adjustments=(
            adjustment("old", 90, "2026-01-01T00:00:00.000Z"),
            adjustment("new", 80, "2026-01-02T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"),
            PriceAdjustment("members", Decimal(10), "m", "2026-01-03T00:00:00.000Z"),
        ),
    )
    assert item.price_at("2026-01-15T00:00:00.000Z") == Decimal(90)
    assert item.price_at("2026-02-15T00:00:00.000Z") == Decimal(80)
    assert item.price_at("2026-03-01T00:00:00.000Z") == Decimal(90)  # until is exclusive
    assert ItemState("B", NOW, 1, Decimal(7)).price_at(NOW) == Decimal(7)


def test_a_null_adjustment_price_withdraws_its_price_type():
    current = {"A": ItemState("A", NOW, 1, Decimal(5))}
    new = act.NewAdjustment("base", Decimal(4), "r1", None, None, None, None)
    adjusted = act.decide_by_sku([act.AdjustPrice("A", (new,))], current, 2, NOW)["A"]
    assert adjusted is not None and adjusted.price_at(NOW) == Decimal(4)
    withdrawn = act.NewAdjustment("base", None, "r2", None, None, None, None)
    cleared = act.decide_by_sku([act.AdjustPrice("A", (withdrawn,))], {"A": adjusted}, 3, NOW)["A"]
    assert cleared is not None and cleared.adjustments == () and cleared.price_at(NOW) == Decimal(5)


# -- the service ------------------------------------------------------------------------------------------------


def test_a_stale_version_is_refused_and_a_held_catalog_is_busy():
    repository = InMemoryItemCatalogRepository()
    catalogs = service(repository)
    catalog = catalogs.create(APP, "c", "")
    assert catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("A"),), version=1)).version == 2
    with pytest.raises(CatalogVersionMismatchError):
        catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("B"),), version=1))
    repository.fail_stage_after = 0
    held = repository.catalogs[APP]
    repository.release = lambda *args: None  # type: ignore[method-assign]  # the Lambda died: no release either
    with pytest.raises(ConnectionError):
        catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("B"),)))
    assert repository.catalogs[APP].pending is not None and repository.catalogs[APP].version == held.version
    with pytest.raises(CatalogBusyError):
        catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("C"),)))


def test_a_sync_that_died_half_way_shows_nothing_and_the_next_one_voids_it():
    repository = InMemoryItemCatalogRepository()
    clock = FakeClock()
    catalogs = service(repository, clock)
    catalog = catalogs.create(APP, "c", "")
    catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("A", 1), add("B", 1))))
    repository.fail_stage_after = 1  # the first item is staged, then the Lambda dies
    repository.release = lambda *args: None  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("A", 9, replace=True), add("B", 9, replace=True))))
    assert {sku: s.price for sku, s in visible(repository).items()} == {"A": 1, "B": 1}
    clock.moment += HOLD + timedelta(seconds=1)
    synced = catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("C", 3),)))
    assert synced.version == 4 and synced.aborted == (3,)
    assert {sku: s.price for sku, s in visible(repository).items()} == {"A": 1, "B": 1, "C": 3}


def test_patch_many_past_its_bound_changes_nothing(monkeypatch):
    from patron.item_catalogs import service as module

    monkeypatch.setattr(module, "MAX_EXAMINED", 3)
    monkeypatch.setattr(module, "PAGE_SIZE", 2)
    repository = InMemoryItemCatalogRepository()
    catalogs = service(repository)
    catalog = catalogs.create(APP, "c", "")
    catalogs.sync(APP, catalog.id, SyncRequest(by_sku=tuple(add(f"S{n}", 1) for n in range(4))))
    with pytest.raises(PatronError) as raised:
        catalogs.sync(APP, catalog.id, SyncRequest(many=(act.PatchMany(Decimal(2), None, ()),)))
    assert raised.value.code == "catalog_too_large_for_filters"
    assert {s.price for s in visible(repository).values()} == {Decimal(1)}
    assert repository.catalogs[APP].pending is None  # released


def test_attributes_of_another_type_than_the_products_are_refused_before_anything_is_written():
    repository = InMemoryItemCatalogRepository()
    catalogs = service(repository)
    catalog = catalogs.create(APP, "c", "")
    catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("A", size=40),)))
    with pytest.raises(ValidationError) as raised:
        catalogs.sync(APP, catalog.id, SyncRequest(by_sku=(add("B", size="big"),)))
    assert [issue.path for issue in raised.value.details] == ["actions[0].payload.attributes.size"]
    assert set(visible(repository)) == {"A"} and repository.catalogs[APP].version == 2


# -- the property -----------------------------------------------------------------------------------------------

SKUS = st.sampled_from(["A", "B", "C", "D"])
by_sku_action = st.one_of(
    st.builds(lambda sku, price: add(sku, price, replace=True), SKUS, st.integers(0, 9)),
    st.builds(lambda sku, price: act.Patch(sku, Decimal(price), {"n": price}, None, True), SKUS, st.integers(0, 9)),
    st.builds(act.Remove, SKUS),
)
many_action = st.one_of(
    st.builds(
        lambda limit, price: act.PatchMany(Decimal(price), None, (act.Filter("n", "LE", limit),)),
        st.integers(0, 9),
        st.integers(0, 9),
    ),
    st.builds(lambda limit: act.RemoveMany((act.Filter("n", "GE", limit),)), st.integers(0, 9)),
)
sync_step = st.tuples(
    st.one_of(
        st.lists(by_sku_action, min_size=1, max_size=4, unique_by=lambda a: a.sku).map(
            lambda actions: SyncRequest(by_sku=tuple(actions))
        ),
        many_action.map(lambda action: SyncRequest(many=(action,))),
    ),
    st.one_of(st.none(), st.integers(0, 3)),  # the sync fails after staging this many items
    st.booleans(),  # ... and the Lambda dies with it (no release: the hold expires)
)


def model_apply(model: dict[str, ItemState], request: SyncRequest, version: int) -> dict[str, ItemState]:
    """The catalog as a plain dict: what a sync that commits must leave."""
    try:
        outcome = act.decide_by_sku(request.by_sku, model, version, NOW)
    except PatronError:
        return model
    result = {**model, **{sku: s for sku, s in outcome.items() if s is not None}}
    for sku, state in outcome.items():
        if state is None:
            del result[sku]
    for action in request.many:
        for sku, item in list(result.items()):
            changed = act.apply_many(action, item, version)
            if changed is None:
                del result[sku]
            elif changed is not False:
                result[sku] = changed
    return result


@settings(max_examples=150, deadline=None)
@given(st.lists(sync_step, min_size=1, max_size=8))
def test_every_sequence_of_syncs_shows_exactly_the_committed_ones(steps):
    repository = InMemoryItemCatalogRepository()
    clock = FakeClock()
    catalogs = service(repository, clock)
    catalog = catalogs.create(APP, "c", "")
    model: dict[str, ItemState] = {}
    release = repository.release
    for request, fails_after, dies in steps:
        clock.moment += HOLD + timedelta(seconds=1)  # any hold of a dead sync has expired
        repository.fail_stage_after = fails_after
        repository.release = (lambda *args: None) if dies else release  # type: ignore[method-assign]
        before = repository.catalogs[APP]
        version = max(before.claimed, before.version) + 1
        try:
            catalogs.sync(APP, catalog.id, request)
        except (ConnectionError, PatronError):
            pass
        else:
            model = model_apply(model, request, version)
        repository.fail_stage_after = None
        shown = {sku: (s.price, dict(s.attributes)) for sku, s in visible(repository).items()}
        assert shown == {sku: (s.price, dict(s.attributes)) for sku, s in model.items()}
