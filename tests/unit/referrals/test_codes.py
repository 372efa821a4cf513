import re

import pytest

from patron.coupons.codes import CodeSettingsError
from patron.referrals.codes import referral_generator, referral_settings

KEY = bytes(range(32))


def test_defaults_are_eight_characters_of_talon_ones_charset():
    codes = [referral_generator(referral_settings(), 100, key=KEY).code(index) for index in range(100)]
    assert all(re.fullmatch(r"[A-Z0-9]{8}", code) for code in codes)
    assert len(set(codes)) == 100


def test_a_pattern_and_characters_as_talon_one_sends_them():
    settings = referral_settings(["a", "b", "c"], "REF-####-##")
    code = referral_generator(settings, 10, key=KEY).code(0)
    assert re.fullmatch(r"REF-[abc]{4}-[abc]{2}", code), code


def test_a_case_insensitive_application_gets_upper_cased_codes():
    settings = referral_settings(["a", "b", "A"], "ref-#####", case_sensitive=False)
    assert settings.charset == "AB"
    assert re.fullmatch(r"REF-[AB]{5}", referral_generator(settings, 1, key=KEY).code(0))


@pytest.mark.parametrize(
    ("characters", "pattern", "path"),
    [
        (["ab"], None, "validCharacters"),
        (["a"], None, "validCharacters"),
        (["a", "\n"], None, "validCharacters"),
        (None, "###", "referralPattern"),  # codes shorter than Talon.One's clients read
        (None, "NO-PLACEHOLDER", "referralPattern"),
        (None, "#\t##", "referralPattern"),
    ],
)
def test_refusals_name_the_referral_requests_fields(characters, pattern, path):
    with pytest.raises(CodeSettingsError) as refused:
        referral_settings(characters, pattern)
    assert refused.value.details[0].path == path


def test_a_batch_too_large_for_its_settings_names_the_advocates():
    with pytest.raises(CodeSettingsError) as refused:
        referral_generator(referral_settings(["a", "b"], "R-####"), 5)
    assert refused.value.code == "code_space_too_small"
    assert refused.value.details[0].path == "advocateProfileIntegrationIds"


def test_generated_codes_are_read_by_talon_ones_clients():
    from talon_one.models.referral import Referral as TalonReferral

    code = referral_generator(referral_settings(), 1, key=KEY).code(0)
    wire = {"id": 1, "created": "2026-06-01T12:30:00Z", "campaignId": 7, "advocateProfileIntegrationId": "adv"}
    parsed = TalonReferral.from_dict({**wire, "code": code, "usageCounter": 0})
    assert parsed is not None and parsed.code == code
