"""Text -> tokens, each with its offsets. Hand-written: one pass, no regular expressions."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import msgspec

from patron.promotions.rules.errors import RuleError, RuleIssue
from patron.promotions.rules.tree import DIGITS as _DIGITS
from patron.promotions.rules.tree import MAX_NUMBER_DIGITS
from patron.promotions.rules.tree import NAME_PART as _NAME_PART
from patron.promotions.rules.tree import NAME_START as _NAME_START


class Kind(Enum):
    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    KEYWORD = "keyword"
    SYMBOL = "symbol"
    END = "end of the expression"


class Token(msgspec.Struct, frozen=True):
    kind: Kind
    text: str  # the keyword, symbol or name; a string's value; a number's digits
    start: int
    end: int

    def number(self) -> Decimal:
        return Decimal(self.text)


KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_TWO_CHARACTER_SYMBOLS = frozenset({"==", "!=", "<=", ">="})
_SYMBOLS = frozenset("<>+-*/()[],.")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_WHITESPACE = frozenset(" \t\r\n")


def _fail(code: str, message: str, start: int, end: int) -> RuleError:
    return RuleError([RuleIssue(code, message, start, end)])


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position, size = 0, len(source)
    while position < size:
        character = source[position]
        start = position
        if character in _WHITESPACE:
            position += 1
        elif character in _DIGITS:
            position = _number_end(source, position)
            tokens.append(Token(Kind.NUMBER, source[start:position], start, position))
        elif character == '"':
            text, position = _string(source, position)
            tokens.append(Token(Kind.STRING, text, start, position))
        elif character in _NAME_START:
            while position < size and source[position] in _NAME_PART:
                position += 1
            word = source[start:position]
            tokens.append(Token(Kind.KEYWORD if word in KEYWORDS else Kind.NAME, word, start, position))
        elif source[position : position + 2] in _TWO_CHARACTER_SYMBOLS:
            position += 2
            tokens.append(Token(Kind.SYMBOL, source[start:position], start, position))
        elif character in _SYMBOLS:
            position += 1
            tokens.append(Token(Kind.SYMBOL, character, start, position))
        else:
            hint = " (strings are in double quotes)" if character == "'" else ""
            hint = " (write == to compare)" if character == "=" else hint
            hint = " (write `and`, `or`)" if character in "&|" else hint
            hint = " (write `not`)" if character == "!" else hint
            raise _fail("unexpected_character", f"Unexpected character {character!r}{hint}.", start, start + 1)
    tokens.append(Token(Kind.END, "", size, size))
    return tokens


def _number_end(source: str, position: int) -> int:
    """Digits, optionally a dot and more digits: 12, 0.5, 100.00 (no exponent, no leading dot)."""
    start, size = position, len(source)
    while position < size and source[position] in _DIGITS:
        position += 1
    if position < size and source[position] == ".":
        if position + 1 >= size or source[position + 1] not in _DIGITS:
            raise _fail("invalid_number", "A number's dot is followed by digits: 1.5, not 1.", start, position + 1)
        position += 1
        while position < size and source[position] in _DIGITS:
            position += 1
    if position < size and source[position] in _NAME_START:
        raise _fail("invalid_number", "A number is digits with an optional fraction: 12, 0.5.", start, position + 1)
    if sum(character in _DIGITS for character in source[start:position]) > MAX_NUMBER_DIGITS:
        raise _fail("invalid_number", f"A number has at most {MAX_NUMBER_DIGITS} digits.", start, position)
    return position


def _string(source: str, position: int) -> tuple[str, int]:
    start, size = position, len(source)
    position += 1
    parts: list[str] = []
    while position < size:
        character = source[position]
        if character == '"':
            return "".join(parts), position + 1
        if character == "\n":
            break
        if character != "\\":
            parts.append(character)
            position += 1
            continue
        escape = source[position + 1 : position + 2]
        if escape in _ESCAPES:
            parts.append(_ESCAPES[escape])
            position += 2
        elif escape == "u" and _is_character(source[position + 2 : position + 6]):
            parts.append(chr(int(source[position + 2 : position + 6], 16)))
            position += 6
        else:
            message = 'Unknown escape: use \\", \\\\, \\/, \\n, \\t, \\r, \\b, \\f or \\uXXXX.'
            raise _fail("invalid_escape", message, position, min(position + 2, size))
    raise _fail("unterminated_string", "A string is not closed by a double quote on its line.", start, position)


def _is_character(text: str) -> bool:
    """Four hex digits naming a character; a lone surrogate is not one (it cannot be stored as UTF-8)."""
    if len(text) != 4 or not all(character in "0123456789abcdefABCDEF" for character in text):
        return False
    return not 0xD800 <= int(text, 16) <= 0xDFFF
