"""Generated referral codes: the coupons' generator (`patron.coupons.codes`: keyed permutation, unique by
construction, a tenth of the space at most), under Talon.One's referral settings and field names.

`POST /v1/referrals_for_multiple_advocates` sends `validCharacters` (a list of single characters) and
`referralPattern` (`#` a character of the set, every other character literal; 3 to 100 characters); a referral
created alone (`POST /v1/referrals`, a rule's `createReferral`) takes the defaults: eight characters of `[A-Z0-9]`.
Every refusal names the referral request's fields (`referralPattern`, not the coupons' `couponPattern`), and codes
shorter than `MIN_CODE_LENGTH` are refused (Talon.One's clients cannot read them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from patron.coupons.checks import has_control
from patron.coupons.codes import DEFAULT_CHARSET, CodeGenerator, CodeSettings, CodeSettingsError, check_room
from patron.referrals.model import MIN_CODE_LENGTH

# The coupons' field names as the referral requests call them.
_PATHS = {
    "couponPattern": "referralPattern",
    "length": "referralPattern",
    "prefix": "referralPattern",
    "numberOfCoupons": "advocateProfileIntegrationIds",
}


@contextmanager
def _referral_fields() -> Iterator[None]:
    try:
        yield
    except CodeSettingsError as refused:
        path = _PATHS.get(refused.details[0].path, refused.details[0].path) if refused.details else "referralPattern"
        raise CodeSettingsError(path, refused.message, refused.code) from None


def referral_settings(
    valid_characters: Sequence[str] | None = None,
    referral_pattern: str | None = None,
    *,
    case_sensitive: bool = True,
) -> CodeSettings:
    """The generator settings of a referral request, as the application stores codes (upper-cased when codes are
    case-insensitive: `CodeSettings.for_application`). Raises `CodeSettingsError` naming the request's field."""
    characters = list(valid_characters) if valid_characters is not None else list(DEFAULT_CHARSET)
    if any(len(character) != 1 for character in characters):
        raise CodeSettingsError("validCharacters", "Each valid character is a single character.")
    charset = "".join(characters)
    if has_control(charset):
        raise CodeSettingsError("validCharacters", "Control characters cannot be part of a code.")
    if referral_pattern is not None and has_control(referral_pattern):
        raise CodeSettingsError("referralPattern", "Control characters cannot be part of a code.")
    with _referral_fields():
        settings = CodeSettings(charset=charset, pattern=referral_pattern).for_application(case_sensitive)
    if len(settings.template) < MIN_CODE_LENGTH:
        raise CodeSettingsError("referralPattern", f"Codes would be shorter than {MIN_CODE_LENGTH} characters.")
    return settings


def referral_generator(
    settings: CodeSettings, count: int, *, taken: int = 0, key: bytes | None = None
) -> CodeGenerator:
    """The generator of a batch of `count` referral codes (one per advocate), refused when the settings leave too
    little room (`check_room`: `code_space_too_small`, `code_space_exhausted`). It goes on past `count` for the
    codes the application already holds (`items.create` fails alone on a taken code: `ReferralCodeTakenError`)."""
    with _referral_fields():
        check_room(settings, count, taken)
    return CodeGenerator(settings, key)
