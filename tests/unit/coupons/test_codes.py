import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.coupons.codes import DEFAULT_CHARSET, CodeGenerator, CodeSettings, CodeSettingsError, check_room

KEY = bytes(range(32))


def test_defaults_are_talon_ones_charset_and_eight_placeholders():
    codes = list(CodeGenerator(CodeSettings(), KEY).chunks(50, 7))
    assert [len(chunk) for chunk in codes] == [7] * 7 + [1]
    assert all(re.fullmatch(r"[A-Z0-9]{8}", code) for chunk in codes for code in chunk)


def test_a_pattern_keeps_its_literals_and_the_prefix_and_suffix_stay_whole():
    generator = CodeGenerator(CodeSettings(charset="XYZ", pattern="##-%s-##", prefix="P#", suffix="%"), KEY)
    code = generator.code(0)
    assert re.fullmatch(r"P#[XYZ]{2}-%s-[XYZ]{2}%", code), code


def test_a_small_space_is_enumerated_exactly_once():
    generator = CodeGenerator(CodeSettings(charset="ab", pattern="###"), KEY)
    codes = list(generator)
    assert sorted(codes) == sorted(a + b + c for a in "ab" for b in "ab" for c in "ab")


def test_the_same_key_gives_the_same_codes_and_another_key_others():
    settings_ = CodeSettings(length=10)
    first = [CodeGenerator(settings_, KEY).code(index) for index in range(20)]
    assert first == [CodeGenerator(settings_, KEY).code(index) for index in range(20)]
    assert first != [CodeGenerator(settings_).code(index) for index in range(20)]


def test_codes_use_every_character_about_evenly():
    generator = CodeGenerator(CodeSettings(charset="0123456789", length=6), KEY)
    counts = dict.fromkeys("0123456789", 0)
    for index in range(5000):
        for character in generator.code(index):
            counts[character] += 1
    assert min(counts.values()) > 0.8 * 3000 and max(counts.values()) < 1.2 * 3000


def test_check_room_refuses_more_codes_than_exist():
    with pytest.raises(CodeSettingsError) as refused:
        check_room(CodeSettings(charset="ab", pattern="##"), 5)
    assert refused.value.code == "code_space_exhausted"
    assert refused.value.details[0].path == "numberOfCoupons"


def test_check_room_keeps_nine_tenths_of_the_space_free():
    tight = CodeSettings(charset=string.digits, pattern="###")  # 1,000 codes
    check_room(tight, 100)
    with pytest.raises(CodeSettingsError) as refused:
        check_room(tight, 101)
    assert refused.value.code == "code_space_too_small"
    assert "100" in refused.value.message
    with pytest.raises(CodeSettingsError):
        check_room(tight, 60, taken=50)


def test_a_million_codes_fit_the_default_charset_at_seven_placeholders():
    check_room(CodeSettings(length=7), 1_000_000)  # 36^7 = 78 billion


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"charset": "a"}, "validCharacters"),
        ({"charset": "aba"}, "validCharacters"),
        ({"length": 0}, "length"),
        ({"pattern": "ABC"}, "couponPattern"),
        ({"pattern": "#" * 101}, "couponPattern"),
        ({"charset": "".join(map(chr, range(256, 600))), "pattern": "#" * 100}, "couponPattern"),
        ({"prefix": "x" * 995}, "prefix"),
    ],
)
def test_invalid_settings_are_refused_with_their_field(arguments, path):
    with pytest.raises(CodeSettingsError) as refused:
        CodeSettings(**arguments)
    assert refused.value.details[0].path == path


def test_a_case_insensitive_application_generates_upper_case_codes_from_merged_characters():
    merged = CodeSettings(charset="abAB12", pattern="x-###").for_application(case_sensitive=False)
    assert merged.charset == "AB12"
    assert merged.space == 4**3
    assert re.fullmatch(r"X-[AB12]{3}", CodeGenerator(merged, KEY).code(3))
    with pytest.raises(CodeSettingsError):
        CodeSettings(charset="aß").for_application(case_sensitive=False)
    assert CodeSettings(charset="ab").for_application(case_sensitive=True).charset == "ab"


charsets = st.lists(st.sampled_from(DEFAULT_CHARSET + "abcdefxyz-_éß€"), min_size=2, max_size=12, unique=True)
templates = st.lists(st.sampled_from(["#", "#", "-", "A", "%"]), min_size=1, max_size=12).map("".join)


@settings(max_examples=60, deadline=None)
@given(charset=charsets, template=templates, prefix=st.text(max_size=3), suffix=st.text(max_size=3))
def test_generated_codes_match_their_settings_and_are_unique(charset, template, prefix, suffix):
    if "#" not in template:
        template += "#"
    generated = CodeSettings("".join(charset), pattern=template, prefix=prefix, suffix=suffix)
    count = min(generated.space, 300)
    codes = [code for chunk in CodeGenerator(generated).chunks(count, 64) for code in chunk]
    assert len(set(codes)) == len(codes) == count
    body = "".join(f"[{re.escape(''.join(charset))}]" if part == "#" else re.escape(part) for part in template)
    shape = re.compile(re.escape(prefix) + body + re.escape(suffix), re.DOTALL)
    assert all(shape.fullmatch(code) for code in codes)


def test_generation_does_not_remember_its_codes():
    """Memory does not grow with the count: the generator holds its key and settings, nothing per code."""
    import tracemalloc

    from patron.coupons import codes

    # What the generator's own code allocated and kept, for 2,000 and for 20,000 codes: the process's peak would also
    # count other threads (a local runtime's pollers, when the integration tests ran first in the same process).
    only_codes = [tracemalloc.Filter(True, codes.__file__)]

    def kept(count: int) -> int:
        generator = CodeGenerator(CodeSettings(length=10))
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot().filter_traces(only_codes)
            for _ in generator.chunks(count, 1000):
                pass
            after = tracemalloc.take_snapshot().filter_traces(only_codes)
        finally:
            tracemalloc.stop()
        return sum(stat.size_diff for stat in after.compare_to(before, "filename"))

    assert kept(20_000) < kept(2_000) + 16 * 1024
