"""API key format, generation and verification.

A key reads `patron_<key id>_<secret>`: the prefix makes it recognisable (and findable by secret scanners), the
key id (16 base32 characters) is the lookup handle, the secret carries 256 bits. Only a SHA-256 of the whole key
is stored; with this much entropy a slow hash adds nothing, and comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

KEY_PREFIX = "patron_"
_KEY_PATTERN = re.compile(r"^patron_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$")


def new_key_id() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def new_key() -> tuple[str, str]:
    """A new (key id, full key)."""
    key_id = new_key_id()
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str | None:
    """The key id of a well-formed key, or None for anything else."""
    match = _KEY_PATTERN.match(key)
    return match.group(1) if match else None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)


def new_usage_key() -> str:
    # API Gateway API key values need at least 20 characters.
    return secrets.token_urlsafe(30)
