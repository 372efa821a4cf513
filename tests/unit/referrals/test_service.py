"""ReferralService on in-memory fakes: one code (generated, upper-cased by the application's setting, a taken code
redrawn), many advocates (one batch, ids in a block, transactions whole), every fault named before anything is
written, the campaign checks, and a failure halfway undone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from patron.coupons.codes import CodeSettingsError
from patron.errors import ServiceUnavailableError, ValidationError
from patron.promotions.definitions import Ruleset
from patron.referrals.codes import referral_generator, referral_settings
from patron.referrals.model import Referral, ReferralTerms
from patron.referrals.service import (
    CampaignNotFoundError,
    ReferralService,
    ReferralsNotEnabledError,
)
from tests.unit.coupons.fakes import FixedRulesets
from tests.unit.referrals.fakes import FakeReferralRepository

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))


class Clock:
    def now(self) -> datetime:
        return NOW


def ruleset(case_sensitive: bool = True) -> Ruleset:
    return msgspec.convert(
        {
            "settings": {"caseSensitiveCodes": case_sensitive},
            "campaigns": [
                {
                    "id": 20,
                    "name": "Refer a friend",
                    "features": ["referrals"],
                    "rules": [{"title": "valid", "condition": "referral.valid"}],
                },
                {"id": 1, "name": "Plain", "rules": [{"title": "always"}]},
            ],
        },
        Ruleset,
    )


def service(
    case_sensitive: bool = True, repository: FakeReferralRepository | None = None
) -> tuple[ReferralService, FakeReferralRepository]:
    repository = repository or FakeReferralRepository()
    rulesets = FixedRulesets({1: ruleset(case_sensitive), 2: ruleset(case_sensitive)})
    return ReferralService(repository, rulesets, Clock(), new_key=lambda: KEY), repository


def test_one_code_is_generated_for_the_advocate_with_its_terms():
    referrals, repository = service()
    terms = ReferralTerms(NOW, NOW + timedelta(days=30), 5, {"channel": "mail"})
    referral = referrals.create_referral(1, 20, "adam", "fran", terms)
    assert re.fullmatch(r"[A-Z0-9]{8}", referral.code)
    assert (referral.id, referral.campaign_id, referral.advocate_integration_id) == (1, 20, "adam")
    assert (referral.friend_integration_id, referral.usage_limit, referral.usage_counter) == ("fran", 5, 0)
    assert referral.batch_id is None and referral.created == NOW and referral.attributes == {"channel": "mail"}
    assert repository.referrals[(1, referral.code)] == referral
    assert repository.entries == {
        ("APP#1#REFPROFILE#adam", f"ADVOCATE#{referral.code}"),
        ("APP#1#REFPROFILE#fran", f"NAMED#{referral.code}"),
    }
    assert referrals.create_referral(1, 20, "adam", None, ReferralTerms()).id == 2


def test_a_taken_code_is_replaced_by_the_next_one():
    referrals, repository = service()
    first = referral_generator(referral_settings(), 1, key=KEY).code(0)
    repository.referrals[(1, first)] = Referral(first, 20, "someone", 99, NOW)
    referral = referrals.create_referral(1, 20, "adam", None, ReferralTerms())
    assert referral.code != first and repository.referrals[(1, first)].advocate_integration_id == "someone"
    # Another application's code is its own.
    assert referrals.create_referral(2, 20, "adam", None, ReferralTerms()).code == first


def test_case_insensitive_applications_get_upper_cased_codes():
    referrals, _ = service(case_sensitive=False)
    created = referrals.create_for_advocates(1, 20, ["a", "b"], ReferralTerms(), list("abcdef"), "ref-######")
    assert all(re.fullmatch(r"REF-[A-F]{6}", referral.code) for referral in created)


def test_many_advocates_share_a_batch_and_a_block_of_ids():
    referrals, repository = service(repository=FakeReferralRepository(per_transaction=50))
    advocates = [f"adv-{n}" for n in range(1000)]
    taken = referral_generator(referral_settings(None, "REF-######"), 1000, key=KEY).code(500)
    repository.referrals[(1, taken)] = Referral(taken, 20, "someone", 9_999, NOW)
    created = referrals.create_for_advocates(1, 20, advocates, ReferralTerms(usage_limit=1), None, "REF-######")
    assert [r.advocate_integration_id for r in created] == advocates
    assert [r.id for r in created] == list(range(1, 1001))
    assert {r.batch_id for r in created} == {"r1"}
    assert len({r.code for r in created}) == 1000 and taken not in {r.code for r in created}
    assert len(repository.referrals) == 1001 and len(repository.entries) == 1000
    # 20 transactions, and the one holding the taken code again.
    assert repository.transactions == 21


@pytest.mark.parametrize(
    ("advocate", "friend", "terms", "paths"),
    [
        ("", None, ReferralTerms(), ["advocateProfileIntegrationId"]),
        ("  ", None, ReferralTerms(), ["advocateProfileIntegrationId"]),
        ("a\ud800", None, ReferralTerms(), ["advocateProfileIntegrationId"]),
        ("a\u0000", None, ReferralTerms(), ["advocateProfileIntegrationId"]),
        ("é" * 600, None, ReferralTerms(), ["advocateProfileIntegrationId"]),
        ("adam", "adam", ReferralTerms(), ["friendProfileIntegrationId"]),
        ("adam", "", ReferralTerms(), ["friendProfileIntegrationId"]),
        ("adam", None, ReferralTerms(usage_limit=1_000_000), ["usageLimit"]),
        ("adam", None, ReferralTerms(NOW, NOW), ["expiryDate"]),
        ("adam", None, ReferralTerms(NOW.replace(tzinfo=None)), ["startDate"]),
        ("adam", None, ReferralTerms(attributes={"a": "\udfff"}), ["attributes.a"]),
        ("adam", None, ReferralTerms(attributes={"a": "x" * 20_000}), ["attributes"]),
        (
            "",
            "",
            ReferralTerms(usage_limit=-1),
            ["advocateProfileIntegrationId", "friendProfileIntegrationId", "usageLimit"],
        ),
    ],
)
def test_every_fault_is_named_and_nothing_is_written(advocate, friend, terms, paths):
    referrals, repository = service()
    with pytest.raises(ValidationError) as refused:
        referrals.create_referral(1, 20, advocate, friend, terms)
    assert [issue.path for issue in refused.value.details] == paths
    assert not repository.referrals and not repository.counters


def test_many_advocates_faults_name_their_index():
    referrals, repository = service()
    with pytest.raises(ValidationError) as refused:
        referrals.create_for_advocates(1, 20, ["ann", "", "ann", "bob"], ReferralTerms())
    assert [(i.path, i.code) for i in refused.value.details] == [
        ("advocateProfileIntegrationIds[1]", "invalid_integration_id"),
        ("advocateProfileIntegrationIds[2]", "duplicate_advocate"),
    ]
    with pytest.raises(ValidationError) as empty:
        referrals.create_for_advocates(1, 20, [], ReferralTerms())
    assert empty.value.details[0].path == "advocateProfileIntegrationIds"
    with pytest.raises(CodeSettingsError) as small:
        referrals.create_for_advocates(1, 20, [f"a{n}" for n in range(200)], ReferralTerms(), None, "AB##")
    assert small.value.details[0].path == "advocateProfileIntegrationIds"
    with pytest.raises(CodeSettingsError) as short:
        referrals.create_for_advocates(1, 20, ["ann"], ReferralTerms(), None, "###")
    assert short.value.details[0].path == "referralPattern"
    assert not repository.referrals and not repository.counters


def test_the_campaign_must_be_live_and_take_referrals():
    referrals, repository = service()
    with pytest.raises(CampaignNotFoundError) as missing:
        referrals.create_referral(1, 404, "adam", None, ReferralTerms())
    assert missing.value.details[0].path == "campaignId"
    with pytest.raises(ReferralsNotEnabledError) as plain:
        referrals.create_referral(1, 1, "adam", None, ReferralTerms())
    assert plain.value.details[0].path == "campaignId"
    with pytest.raises(CampaignNotFoundError):  # an application without a live ruleset
        referrals.create_for_advocates(3, 20, ["adam"], ReferralTerms())
    assert not repository.referrals and not repository.counters


def test_a_failure_halfway_removes_what_was_written():
    repository = FakeReferralRepository(per_transaction=50, fail_after=7)
    referrals, _ = service(repository=repository)
    with pytest.raises(ServiceUnavailableError):
        referrals.create_for_advocates(1, 20, [f"adv-{n}" for n in range(1000)], ReferralTerms())
    assert repository.transactions == 7
    assert not repository.referrals and not repository.entries
