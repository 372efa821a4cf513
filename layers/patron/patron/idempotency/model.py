"""Idempotency keys, records and stored responses; the errors a client sees when it reuses a key."""

from __future__ import annotations

import base64
import re
import zlib

import msgspec

from patron.errors import FieldIssue, PatronError, ValidationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Printable ASCII, space included (HTTP trims a value's outer spaces before we see it).
_KEY = re.compile(r"[\x20-\x7e]+")

# A stored response (body, headers and key attributes) must fit DynamoDB's 400 KB item with room to spare.
MAX_STORED_BYTES = 350 * 1024
# Bodies above this many bytes are stored zlib-compressed (base64 text): JSON shrinks 3-10x, and each KB written
# is a write unit.
COMPRESS_ABOVE_BYTES = 1024


def invalid_key() -> ValidationError:
    """The 400 for a missing-in-substance, malformed or repeated Idempotency-Key (never echoing the value)."""
    issue = FieldIssue(
        f"header.{HEADER}", "invalid_value", f"Expected one value of 1 to {MAX_KEY_LENGTH} printable ASCII characters."
    )
    return ValidationError("The Idempotency-Key header is invalid.", [issue])


def parse_key(value: str) -> str:
    """The Idempotency-Key header's value, or a 400 naming the header."""
    if not (1 <= len(value) <= MAX_KEY_LENGTH) or not _KEY.fullmatch(value):
        raise invalid_key()
    return value


class StoredResponse(msgspec.Struct, frozen=True):
    """A route's answer as API Gateway receives it: replayed byte for byte."""

    status: int
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: str = ""


class IdempotencyRecord(msgspec.Struct, frozen=True):
    """One key of one application: in flight (`response` None) until the route's answer is stored."""

    application_id: int
    key: str
    fingerprint: str  # SHA-256 (hex) of the canonical request (patron.idempotency.fingerprint)
    owner: str  # random token of the request holding it in flight; completion and release check it
    started_at_ms: int
    locked_until_ms: int  # past this (epoch ms) an in-flight record is abandoned: its Lambda was stopped
    expires_at: int  # epoch seconds; DynamoDB's TTL attribute, and reads treat a past value as absent
    response: StoredResponse | None = None

    @property
    def in_flight(self) -> bool:
        return self.response is None


class IdempotencyKeyReusedError(PatronError):
    def __init__(self) -> None:
        super().__init__(
            message="This Idempotency-Key was used with a different request; use a new key for a new request.",
            code="idempotency_key_reused",
            status=422,
        )


class IdempotencyKeyInFlightError(PatronError):
    def __init__(self) -> None:
        super().__init__(
            message="A request with this Idempotency-Key is still being processed; retry later.",
            code="idempotency_key_in_flight",
            status=409,
            headers={"Retry-After": "1"},
        )


class ResponseTooLargeToStoreError(Exception):
    """The response does not fit an item: it is not stored and the key is released (an internal outcome)."""


# -- stored form of a body ------------------------------------------------------------------------------------


def encode_body(body: str) -> tuple[str, bool]:
    """(stored text, compressed?). Text stays as it is when small; larger bodies are compressed when it pays."""
    raw = body.encode("utf-8", "surrogatepass")
    try:
        body.encode("utf-8")
        valid_text = True
    except UnicodeEncodeError:  # a lone surrogate: DynamoDB strings must be valid UTF-8
        valid_text = False
    if valid_text and len(raw) <= COMPRESS_ABOVE_BYTES:
        return body, False
    packed = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
    if valid_text and len(packed) >= len(raw):
        return body, False
    return packed, True


def decode_body(stored: str, compressed: bool) -> str:
    if not compressed:
        return stored
    return zlib.decompress(base64.b64decode(stored)).decode("utf-8", "surrogatepass")


def stored_size(response: StoredResponse, body: str) -> int:
    """Bytes the response takes in an item (attribute names included), as DynamoDB counts them."""
    headers = sum(
        len(name.encode()) + len(value.encode("utf-8", "replace")) + 3 for name, value in response.headers.items()
    )
    return len(body.encode("utf-8")) + headers + 32
