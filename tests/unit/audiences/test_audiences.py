"""Audiences decided and written against in-memory fakes: memberships, the background jobs' generations, paging,
and the person's lifecycle."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.audiences.jobs import AudienceJob, JobKind
from patron.audiences.model import AudienceExistsError, AudienceNotFoundError, MembershipPlan
from patron.audiences.personal_data import AudiencesPersonalData
from patron.audiences.service import AudienceService, MembershipAction, MembershipService, NewAudience
from patron.audiences.worker import AudienceWorker
from patron.errors import ValidationError
from patron.profiles.service import ProfileService
from tests.fakes import InMemoryProfileRepository
from tests.unit.audiences.fakes import InMemoryAudienceRepository, InMemoryJobQueue

APP = 1
FOREVER: Callable[[], int] = lambda: 10**9  # noqa: E731


class World:
    def __init__(self, page: int = 100) -> None:
        self.profiles = InMemoryProfileRepository()
        self.repository = InMemoryAudienceRepository(self.profiles)
        self.queue = InMemoryJobQueue()
        profile_service = ProfileService(self.profiles)
        self.audiences = AudienceService(self.repository, self.queue, profile_service)
        self.memberships = MembershipService(self.repository)
        self.worker = AudienceWorker(self.repository, profile_service, page=page)

    def new(self, name: str = "VIP") -> int:
        return self.audiences.create(APP, NewAudience(name)).audience_id

    def add(self, person: str, audience: int) -> None:
        self.memberships.change(APP, [MembershipAction(True, person, audience)])

    def joined(self, person: str) -> set[int]:
        profile = self.profiles.get(APP, person)
        return set(profile.audiences) if profile else set()

    def run_jobs(self, remaining: Callable[[], int] = FOREVER) -> int:
        runs = 0
        while self.queue.jobs:
            following = self.worker.run(self.queue.jobs.pop(0), remaining)
            runs += 1
            if following is not None:
                self.queue.send(following)
        return runs


def test_the_last_action_on_a_pair_wins_and_adding_creates_the_profile() -> None:
    world = World()
    vip = world.new()
    world.memberships.change(
        APP, [MembershipAction(True, "p", vip), MembershipAction(False, "p", vip), MembershipAction(True, "p", vip)]
    )
    assert world.joined("p") == {vip} and world.repository.members_of(APP, vip) == {"p": 1}


def test_an_unknown_or_deleted_audience_refuses_the_whole_request() -> None:
    world = World()
    vip, gone = world.new(), world.new("Gone")
    world.audiences.delete(APP, gone)
    for missing in (gone, 99):
        with pytest.raises(AudienceNotFoundError):
            world.memberships.change(APP, [MembershipAction(True, "p", vip), MembershipAction(True, "p", missing)])
    assert world.joined("p") == set() and world.repository.members_of(APP, vip) == {}


def test_reserved_and_bad_ids_are_400_with_their_paths() -> None:
    world = World()
    with pytest.raises(ValidationError) as raised:
        world.memberships.change(APP, [MembershipAction(True, "anon-1", 1), MembershipAction(True, "ok", 0)])
    assert [issue.path for issue in raised.value.details] == ["data[0].profileIntegrationId", "data[1].audienceId"]


def test_a_mirrored_audience_is_taken_once_per_integration() -> None:
    world = World()
    world.audiences.create(APP, NewAudience("A", integration="segment", integration_id="42"))
    with pytest.raises(AudienceExistsError):
        world.audiences.create(APP, NewAudience("B", integration="segment", integration_id="42"))
    world.audiences.create(APP, NewAudience("C", integration=None, integration_id="42"))
    with pytest.raises(ValidationError):
        world.audiences.create(APP, NewAudience("D", integration="segment"))


def test_deletion_answers_at_once_and_its_job_removes_every_member_page_by_page() -> None:
    world = World(page=2)
    vip, other = world.new(), world.new("Other")
    people = [f"p{i}" for i in range(7)]
    world.memberships.change(
        APP, [MembershipAction(True, p, vip) for p in people] + [MembershipAction(True, "p0", other)]
    )
    world.audiences.delete(APP, vip)
    assert world.memberships.memberships(APP, world.joined("p0")) == [world.repository.get(APP, other)]
    # Out of time after every page: the job is sent on with its cursor, one page per message.
    assert world.run_jobs(remaining=lambda: 0) == 4
    assert all(world.joined(p) == set() for p in people[1:]) and world.joined("p0") == {other}
    assert world.repository.get(APP, vip) is None  # the audience's own item went last
    assert world.repository.members_of(APP, vip) == {}


def test_a_job_delivered_twice_ends_the_same() -> None:
    world = World(page=3)
    vip = world.new()
    world.memberships.change(APP, [MembershipAction(True, f"p{i}", vip) for i in range(5)])
    world.audiences.delete(APP, vip)
    world.queue.jobs.append(world.queue.jobs[0])
    world.run_jobs()
    assert world.repository.get(APP, vip) is None and all(world.joined(f"p{i}") == set() for i in range(5))


def test_attributes_reach_every_member_and_no_one_else() -> None:
    world = World(page=2)
    vip, other = world.new(), world.new("Other")
    world.memberships.change(APP, [MembershipAction(True, f"m{i}", vip) for i in range(5)])
    world.add("outsider", other)
    world.audiences.update_members(APP, vip, {"segment": "vip"})
    assert world.queue.jobs[0].kind is JobKind.ATTRIBUTES
    world.run_jobs()
    for i in range(5):
        profile = world.profiles.get(APP, f"m{i}")
        assert profile is not None and profile.attributes == {"segment": "vip"}
    outsider = world.profiles.get(APP, "outsider")
    assert outsider is not None and outsider.attributes == {}


def test_an_attribute_job_of_a_deleted_audience_stops() -> None:
    world = World()
    vip = world.new()
    world.add("m", vip)
    world.queue.send(AudienceJob(JobKind.ATTRIBUTES, APP, vip, attributes={"a": 1}))
    world.audiences.delete(APP, vip)
    world.run_jobs()
    profile = world.profiles.get(APP, "m")
    assert profile is not None and profile.attributes == {}


def test_a_merge_moves_memberships_and_an_erasure_removes_them() -> None:
    world = World()
    vip, gold = world.new(), world.new("Gold")
    # As the lifecycle's own plans write it (the API refuses anonymous ids).
    world.memberships.apply(APP, MembershipPlan(joins={"anon-1": {vip: 1}}, leaves={}, audiences=frozenset({vip})))
    world.add("c", gold)
    holder = AudiencesPersonalData(world.repository, world.profiles)
    holder.absorb(APP, "c", "anon-1")
    assert world.joined("c") == {vip, gold} and world.joined("anon-1") == set()
    assert holder.still_holds(APP, "c") and not holder.still_holds(APP, "anon-1")
    assert world.repository.members_of(APP, vip) == {"c": 1}
    assert holder.export(APP, "c") == [{"id": vip, "name": "VIP"}, {"id": gold, "name": "Gold"}]
    assert holder.forget(APP, "c") == 2
    assert world.joined("c") == set() and world.repository.members_of(APP, gold) == {}


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from("abc"), st.sampled_from([1, 2])),
        st.tuples(st.just("delete"), st.sampled_from("abc"), st.sampled_from([1, 2])),
        st.tuples(st.just("empty"), st.just(""), st.sampled_from([1, 2])),
        st.tuples(st.just("work"), st.just(""), st.just(0)),  # the oldest pending job runs
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(OPERATIONS)
def test_emptying_removes_exactly_the_members_of_the_moment_whenever_its_job_runs(operations) -> None:
    world = World(page=1)
    assert world.new("one") == 1 and world.new("two") == 2
    expected: dict[int, set[str]] = {1: set(), 2: set()}
    for kind, person, audience in operations:
        if kind == "add":
            world.add(person, audience)
            expected[audience].add(person)
        elif kind == "delete":
            world.memberships.change(APP, [MembershipAction(False, person, audience)])
            expected[audience].discard(person)
        elif kind == "empty":
            world.audiences.empty(APP, audience)
            expected[audience] = set()
        elif world.queue.jobs:
            following = world.worker.run(world.queue.jobs.pop(0), lambda: 0)
            if following is not None:
                world.queue.send(following)
    world.run_jobs()
    for audience, members in expected.items():
        assert set(world.repository.members_of(APP, audience)) == members
        assert {p for p in "abc" if audience in world.joined(p)} == members


def test_a_job_keeps_attribute_values_exact_through_the_queue() -> None:
    from decimal import Decimal

    job = AudienceJob(JobKind.ATTRIBUTES, APP, 3, attributes={"score": Decimal("0.1"), "big": 10**30, "tags": ["a"]})
    again = AudienceJob.decode(job.encode())
    assert again == job and isinstance(again.attributes["score"], Decimal)  # type: ignore[index]
    with pytest.raises(Exception):  # noqa: B017 - an unknown kind never runs (the message returns, then DLQ)
        AudienceJob.decode('{"kind": "shuffle", "applicationId": 1, "audienceId": 1}')


def test_an_anonymous_member_is_skipped_by_an_attribute_job_and_the_others_are_updated() -> None:
    world = World()
    vip = world.new()
    plan = MembershipPlan(joins={"anon-1": {vip: 1}, "known": {vip: 1}}, leaves={}, audiences=frozenset({vip}))
    world.memberships.apply(APP, plan)
    world.audiences.update_members(APP, vip, {"segment": "vip"})
    world.run_jobs()
    known, anonymous = world.profiles.get(APP, "known"), world.profiles.get(APP, "anon-1")
    assert known is not None and known.attributes == {"segment": "vip"}
    assert anonymous is not None and anonymous.attributes == {}
