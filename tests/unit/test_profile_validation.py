from decimal import Decimal

import pytest

from patron.errors import ValidationError
from patron.profiles.model import MAX_ATTRIBUTE_VALUE_BYTES, attribute_issues
from patron.profiles.service import ProfileService
from tests.fakes import InMemoryProfileRepository


def paths(issues):
    return {(issue.path, issue.code) for issue in issues}


def test_ordinary_values_pass():
    assert (
        attribute_issues(
            {
                "tier": "gold",
                "n": Decimal("1.5"),
                "tags": ["a"],
                "address": {"city": "Milano"},
                "vip": True,
                "gone": None,
            }
        )
        == []
    )


def test_each_problem_is_reported_with_its_path():
    deep: dict = {}
    node = deep
    for _ in range(20):
        node["x"] = {}
        node = node["x"]
    issues = attribute_issues(
        {
            "big": "x" * (MAX_ATTRIBUTE_VALUE_BYTES + 1),
            "nested": {"list": [1, Decimal("1" * 39)]},
            "deep": deep,
            "": 1,
        }
    )
    found = paths(issues)
    assert ("attributes.big", "value_too_large") in found
    assert ("attributes.nested.list[1]", "number_out_of_range") in found
    assert any(path.startswith("attributes.deep") and code == "too_deep" for path, code in found)
    assert ("attributes.", "invalid_name") in found


def test_values_are_never_echoed_in_issues():
    secret = "mario.rossi@example.com" + "x" * MAX_ATTRIBUTE_VALUE_BYTES
    issues = attribute_issues({"email": secret})
    assert all("mario" not in issue.message for issue in issues)


def test_update_merges_attributes_and_null_removes_one():
    service = ProfileService(InMemoryProfileRepository())
    service.update(1, "alice", {"a": 1, "b": 2})
    profile = service.update(1, "alice", {"b": None, "c": 3})
    assert profile.attributes == {"a": 1, "c": 3}
    assert profile.version == 2


@pytest.mark.parametrize("integration_id", ["", "   ", "x" * 1001])
def test_invalid_integration_ids_are_refused_and_nothing_is_written(integration_id):
    repository = InMemoryProfileRepository()
    with pytest.raises(ValidationError):
        ProfileService(repository).update(1, integration_id, {"a": 1})
    assert repository.profiles == {}


def test_an_invalid_attribute_writes_nothing_even_beside_valid_ones():
    repository = InMemoryProfileRepository()
    with pytest.raises(ValidationError):
        ProfileService(repository).update(1, "alice", {"ok": 1, "bad": "x" * (MAX_ATTRIBUTE_VALUE_BYTES + 1)})
    assert repository.profiles == {}


def test_bulk_update_validates_everything_before_writing_and_names_each_item():
    repository = InMemoryProfileRepository()
    items: list[tuple[str, dict]] = [
        ("ok", {"a": 1}),
        ("", {"a": 1}),
        ("fine", {"big": "x" * (MAX_ATTRIBUTE_VALUE_BYTES + 1)}),
    ]
    with pytest.raises(ValidationError) as raised:
        ProfileService(repository).update_many(1, items)
    found = paths(raised.value.details)
    assert ("customerProfiles[1].integrationId", "invalid_value") in found
    assert ("customerProfiles[2].attributes.big", "value_too_large") in found
    assert repository.profiles == {}


def test_bulk_update_merges_repeated_ids_in_order_and_answers_per_item():
    service = ProfileService(InMemoryProfileRepository())
    result = service.update_many(1, [("a", {"x": 1, "y": 1}), ("b", {"x": 2}), ("a", {"y": None, "z": 3})])
    assert [profile.integration_id for profile in result] == ["a", "b", "a"]
    assert result[0].attributes == result[2].attributes == {"x": 1, "z": 3}
    assert result[0].version == 1  # one write for both items of "a"


def test_bulk_update_refuses_more_than_1000_profiles():
    with pytest.raises(ValidationError) as raised:
        ProfileService(InMemoryProfileRepository()).update_many(1, [(f"c{i}", {}) for i in range(1001)])
    assert paths(raised.value.details) == {("customerProfiles", "too_many")}


def test_erasing_an_unknown_profile_is_not_found():
    from patron.errors import NotFoundError

    with pytest.raises(NotFoundError):
        ProfileService(InMemoryProfileRepository()).erase(1, "nobody")
