"""Generated coupon codes: Talon.One's code settings (`validCharacters`, `couponPattern`), plus a prefix, a suffix
and a length for a pattern of placeholders only.

A code is `prefix + body + suffix`. The body is the pattern with each `#` replaced by a character of the charset;
every other character of the pattern is literal (Talon.One has no escape: a pattern cannot hold a literal `#`).
Without a pattern the body is `length` placeholders. The charset defaults to Talon.One's `[A-Z0-9]`.

How codes are drawn. A batch draws a random secret key (`secrets`), and the i-th code is the body numbered
`permute(i)`, where `permute` is a keyed pseudorandom permutation of every possible body (a four-round Feistel
network whose round function is keyed BLAKE2b, walked back into range when it lands past the last body). So the
codes of a batch are unique by construction, without remembering any of them (memory does not grow with the
count), and they are as unpredictable as the key: seeing some codes of a batch tells nothing of the others. After
the requested count the generator goes on with new codes, for the ones the application already holds (the writes
find them: a PartiQL INSERT fails alone when its key exists).

Room. A batch may take at most a tenth of the codes its settings allow (`HEADROOM`): a code guessed at random is then
valid at most one time in ten, and a code colliding with one generated earlier stays rare. A larger request, or one
for more codes than exist, is refused with the number allowed.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import string
from collections.abc import Iterator, Sequence
from itertools import islice

import msgspec

from patron.coupons.model import MAX_CODE_BYTES
from patron.errors import FieldIssue, ValidationError

PLACEHOLDER = "#"
DEFAULT_CHARSET = string.ascii_uppercase + string.digits
MAX_PATTERN_LENGTH = 100  # Talon.One's `couponPattern`
HEADROOM = 10
# The round function's digest (64 bytes at most) must exceed half a body's bits by 8 bytes, so it is near
# uniform modulo the half's size: bodies beyond 2^800 (a hundred placeholders of 256 characters) are refused.
MAX_SPACE_BITS = 800
_ROUNDS = 4
_SPARE_BYTES = 8


class CodeSettingsError(ValidationError):
    def __init__(self, path: str, message: str, code: str = "invalid_code_settings"):
        super().__init__(message, [FieldIssue(path, code, message)], code=code)


class CodeSettings(msgspec.Struct, frozen=True):
    charset: str = DEFAULT_CHARSET
    length: int = 8  # placeholders, when there is no pattern
    pattern: str | None = None
    prefix: str = ""
    suffix: str = ""

    def __post_init__(self) -> None:
        if len(self.charset) < 2:
            raise CodeSettingsError("validCharacters", "Codes need at least two characters to choose from.")
        if len(set(self.charset)) != len(self.charset):
            raise CodeSettingsError("validCharacters", "The characters to choose from must be distinct.")
        if self.pattern is None and not 1 <= self.length <= MAX_PATTERN_LENGTH:
            raise CodeSettingsError("length", f"A code's length must be between 1 and {MAX_PATTERN_LENGTH}.")
        pattern = self.pattern
        if pattern is not None and not (PLACEHOLDER in pattern and len(pattern) <= MAX_PATTERN_LENGTH):
            raise CodeSettingsError(
                "couponPattern", f"A pattern holds at least one '#' and at most {MAX_PATTERN_LENGTH} characters."
            )
        if self.placeholders * math.log2(len(self.charset)) > MAX_SPACE_BITS:
            raise CodeSettingsError("couponPattern", "The pattern allows too many codes; use fewer placeholders.")
        literal = self.prefix + self.template.replace(PLACEHOLDER, "") + self.suffix
        widest = max(len(character.encode("utf-8", "surrogatepass")) for character in self.charset)
        if len(literal.encode("utf-8", "surrogatepass")) + widest * self.placeholders > MAX_CODE_BYTES:
            raise CodeSettingsError("prefix", f"Codes would pass {MAX_CODE_BYTES} bytes; shorten the prefix or suffix.")

    @property
    def template(self) -> str:
        return self.pattern if self.pattern is not None else PLACEHOLDER * self.length

    @property
    def placeholders(self) -> int:
        return self.template.count(PLACEHOLDER)

    @property
    def space(self) -> int:
        """How many distinct codes these settings allow."""
        return int(len(self.charset) ** self.placeholders)

    def for_application(self, case_sensitive: bool) -> CodeSettings:
        """The settings as a case-insensitive application stores codes (model.normalise_code): upper-cased, the
        charset's letters merged with their capitals, so `space` counts the codes that can really be told apart."""
        if case_sensitive:
            return self
        upper = [character.upper() for character in self.charset]
        if any(len(character) != 1 for character in upper):
            raise CodeSettingsError("validCharacters", "A character upper-cases to several; use its capitals.")
        pattern = self.pattern.upper() if self.pattern is not None else None
        charset = "".join(dict.fromkeys(upper))
        return CodeSettings(charset, self.length, pattern, self.prefix.upper(), self.suffix.upper())


def check_room(settings: CodeSettings, count: int, taken: int = 0) -> None:
    """Refuses a batch of `count` codes the settings leave too little room for (`taken`: codes of the application
    already made with the same settings, when the caller knows them)."""
    if count < 1:
        raise CodeSettingsError("numberOfCoupons", "At least one code must be generated.")
    space = settings.space
    allowed = space // HEADROOM - taken
    if count + taken > space:
        message = f"These settings allow {space} codes, fewer than requested; use a longer pattern or more characters."
        raise CodeSettingsError("numberOfCoupons", message, code="code_space_exhausted")
    if count > allowed:
        message = (
            f"These settings allow {space} codes; a batch may take a tenth of them ({max(allowed, 0)} more), so codes "
            "stay hard to guess. Use a longer pattern or more characters."
        )
        raise CodeSettingsError("numberOfCoupons", message, code="code_space_too_small")


class CodeGenerator:
    """The codes of one batch, in the order of a keyed permutation (see the module's docstring). `key`: 32 random
    bytes by default; a batch that keeps its key can be resumed, the i-th code being the same each time."""

    def __init__(self, settings: CodeSettings, key: bytes | None = None):
        self.settings = settings
        self._space = settings.space
        self._half = math.isqrt(self._space - 1) + 1  # the body's number as two digits base _half
        width = (self._half - 1).bit_length() // 8 + 1
        self._width = width
        key = key if key is not None else secrets.token_bytes(32)
        digest = min(64, width + _SPARE_BYTES)
        self._rounds = [
            hashlib.blake2b(key=key, digest_size=digest, person=b"patron-coupon", salt=bytes([n]))
            for n in range(_ROUNDS)
        ]
        self._format = _Formatter(settings)

    def permute(self, index: int) -> int:
        half, width = self._half, self._width
        while True:  # cycle walking: the Feistel domain is half^2 >= space, so this loops about once
            left, right = divmod(index, half)
            for keyed in self._rounds:
                mixer = keyed.copy()
                mixer.update(right.to_bytes(width, "big"))
                left, right = right, (left + int.from_bytes(mixer.digest(), "big")) % half
            index = left * half + right
            if index < self._space:
                return index

    def code(self, index: int) -> str:
        """The batch's `index`-th code (0 <= index < space)."""
        return self._format(self.permute(index))

    def __iter__(self) -> Iterator[str]:
        """Every code these settings allow, each once; a batch takes what it needs."""
        return map(self.code, range(self._space))

    def chunks(self, count: int, size: int = 1000) -> Iterator[list[str]]:
        """The first `count` codes in lists of `size`: what one write step takes."""
        codes = islice(iter(self), count)
        while chunk := list(islice(codes, size)):
            yield chunk


class _Formatter:
    """A body's number -> the code: its digits base len(charset), two at a time from a table of every pair."""

    def __init__(self, settings: CodeSettings):
        charset = settings.charset
        self._base = len(charset)
        self._pairs: Sequence[str] | None = None
        if self._base**2 <= 1 << 16:
            self._pairs = [first + second for first in charset for second in charset]
        self._charset = charset
        self._digits = settings.placeholders
        template = settings.template
        self._prefix, self._suffix = settings.prefix, settings.suffix
        # A pattern with literals: printf-style, one `%s` per placeholder (`%` escaped); else the body alone.
        self._template: str | None = None
        if template != PLACEHOLDER * len(template):
            self._template = template.replace("%", "%%").replace(PLACEHOLDER, "%s")

    def __call__(self, number: int) -> str:
        body = self._body(number)
        if self._template is not None:
            body = self._template % tuple(body)
        return self._prefix + body + self._suffix

    def _body(self, number: int) -> str:
        digits, base, charset = self._digits, self._base, self._charset
        parts: list[str] = []
        if self._pairs is not None:
            pairs, square = self._pairs, base * base
            for _ in range(digits // 2):
                number, pair = divmod(number, square)
                parts.append(pairs[pair])
            if digits % 2:
                parts.append(charset[number % base])
        else:
            for _ in range(digits):
                number, digit = divmod(number, base)
                parts.append(charset[digit])
        return "".join(parts)
