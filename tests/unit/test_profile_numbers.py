"""A profile found by its numeric id (ExpertSender's customer id): in its own application only, and never the wrong
person when two profiles drew the same id."""

from __future__ import annotations

import msgspec
import pytest

from patron.errors import ConflictError, NotFoundError
from patron.profiles.service import ProfileService
from tests.fakes import InMemoryProfileRepository

NOW = "2026-12-04T00:00:00.000Z"


def test_a_profile_is_found_by_its_number_in_its_own_application_only():
    repository = InMemoryProfileRepository()
    service = ProfileService(repository)
    ann = repository.upsert(1, "ann", {}, [], NOW)
    assert service.find_by_number(1, ann.profile_id).integration_id == "ann"
    with pytest.raises(NotFoundError):
        service.find_by_number(2, ann.profile_id)  # another application: nobody
    with pytest.raises(NotFoundError):
        service.find_by_number(1, ann.profile_id + 1)


def test_two_profiles_of_one_application_with_one_number_answer_neither():
    repository = InMemoryProfileRepository()
    service = ProfileService(repository)
    ann = repository.upsert(1, "ann", {}, [], NOW)
    bob = repository.upsert(1, "bob", {}, [], NOW)
    repository.profiles[(1, "bob")] = msgspec.structs.replace(bob, profile_id=ann.profile_id)
    with pytest.raises(ConflictError) as refused:
        service.find_by_number(1, ann.profile_id)
    assert refused.value.code == "customer_id_ambiguous"
