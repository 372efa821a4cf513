"""The customer lifecycle through its port: a context that implements PersonalData is merged, erased,
anonymised and exported with the person, without any other change. The next context proves it is wired in by
being listed in patron.customers.wiring.personal_data (tests/integration/test_customer_data_export.py)."""

from __future__ import annotations

from typing import Any

import pytest

from patron.customers.erasure import ANONYMOUS_PREFIX, CustomerEraser
from patron.customers.export import CustomerExporter
from patron.customers.merge import CustomerMerger
from patron.customers.port import PersonalData
from patron.errors import NotFoundError
from patron.profiles.identifiers import IdentifierPatch
from patron.profiles.service import ProfileService
from tests.fakes import InMemoryProfileRepository

APP = 7


class FakeContext:
    """A context holding records per person in memory (points, say), and a log of what it was asked."""

    section = "points"

    def __init__(self) -> None:
        self.held: dict[tuple[int, str], list[int]] = {}
        self.mentions: dict[tuple[int, str], int] = {}  # records that only name the person
        self.calls: list[tuple[str, ...]] = []

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        self.calls.append(("absorb", survivor_id, absorbed_id))
        moved = self.held.pop((application_id, absorbed_id), [])
        self.held.setdefault((application_id, survivor_id), []).extend(moved)

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        self.calls.append(("refile", from_id, to_id))
        moved = self.mentions.pop((application_id, from_id), 0)
        self.mentions[(application_id, to_id)] = self.mentions.get((application_id, to_id), 0) + moved

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return bool(self.held.get((application_id, integration_id)))

    def forget(self, application_id: int, integration_id: str) -> int:
        self.calls.append(("forget", integration_id))
        person = (application_id, integration_id)
        return len(self.held.pop(person, [])) + self.mentions.pop(person, 0)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        self.calls.append(("anonymise", integration_id, tombstone_id))
        kept = self.held.pop((application_id, integration_id), [])
        self.held[(application_id, tombstone_id)] = kept
        return len(kept)

    def export(self, application_id: int, integration_id: str) -> Any:
        return list(self.held.get((application_id, integration_id), []))


_context: PersonalData = FakeContext()  # mypy: the fake keeps satisfying the port


@pytest.fixture
def world() -> tuple[ProfileService, InMemoryProfileRepository, FakeContext]:
    repository = InMemoryProfileRepository()
    return ProfileService(repository), repository, FakeContext()


def test_merging_an_anonymous_profile_moves_what_every_context_holds(world):
    profiles, repository, context = world
    merger = CustomerMerger(profiles, repository, [context])
    anonymous = merger.track_device(APP, "device-1", {"seen": 1}, None).integration_id
    context.held[(APP, anonymous)], context.mentions[(APP, anonymous)] = [5, 10], 1
    merger.update_customer(APP, "alice", {"tier": "gold"}, IdentifierPatch(add_device_ids=frozenset({"device-1"})))
    assert context.held == {(APP, "alice"): [5, 10]} and context.mentions == {(APP, "alice"): 1}
    assert context.calls == [("absorb", "alice", anonymous), ("refile", anonymous, "alice")]
    assert repository.get(APP, anonymous) is None
    assert repository.get(APP, "alice").attributes == {"tier": "gold", "seen": 1}


def test_erasing_forgets_the_person_in_every_context_then_the_profile(world):
    profiles, repository, context = world
    profiles.update(APP, "bob", {"a": 1})
    context.held[(APP, "bob")], context.mentions[(APP, "bob")] = [1, 2, 3], 2
    counts = CustomerEraser(profiles, [context]).erase(APP, "bob")
    assert counts == {"points": 5}
    assert context.calls == [("forget", "bob")] and (APP, "bob") not in context.held
    assert repository.get(APP, "bob") is None
    with pytest.raises(NotFoundError):
        CustomerEraser(profiles, [context]).erase(APP, "bob")  # nothing left anywhere


def test_anonymising_keeps_the_figures_under_a_tombstone(world):
    profiles, repository, context = world
    profiles.update(APP, "carol", {})
    context.held[(APP, "carol")] = [7]
    CustomerEraser(profiles, [context]).erase(APP, "carol", anonymise=True)
    [(_, _, tombstone)] = context.calls
    assert tombstone.startswith(ANONYMOUS_PREFIX) and context.held == {(APP, tombstone): [7]}
    assert repository.get(APP, "carol") is None


def test_an_export_holds_the_profile_and_every_contexts_section(world):
    profiles, _, context = world
    profiles.update(APP, "dave", {"tier": "silver"})
    context.held[(APP, "dave")] = [3]
    document = CustomerExporter(profiles, [context]).export(APP, "dave")
    assert document["integrationId"] == "dave" and document["points"] == [3]
    assert document["profile"]["attributes"] == {"tier": "silver"}
    with pytest.raises(NotFoundError):
        CustomerExporter(profiles, [context]).export(APP + 1, "dave")  # another application's person
    context.held[(APP, "erin")] = [1]  # known to a context only (no profile): still exported
    assert CustomerExporter(profiles, [context]).export(APP, "erin")["profile"] is None
