"""The API key in a request, whichever dialect's header carries it.

Equivalent: `Authorization: ApiKey-v1 <key>` (Talon.One), `Authorization: Bearer <key>` (Gravity Field),
`api-key: <key>` (Rfmcube), `x-api-key: <key>` (ExpertSender). The same key in several headers is fine; two
different keys, or an Authorization header of another scheme, is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from patron.errors import UnauthorizedError

_AUTHORIZATION_SCHEMES = ("apikey-v1", "bearer")
_KEY_HEADERS = ("api-key", "x-api-key")


def _values(headers: Mapping[str, Iterable[str]], name: str) -> list[str]:
    return [value.strip() for value in headers.get(name, ())]


def presented_key(headers: Mapping[str, Iterable[str]]) -> str:
    """The one key presented; `headers` maps lower-case names to every value received."""
    keys: set[str] = set()
    for value in _values(headers, "authorization"):
        scheme, _, credential = value.partition(" ")
        if scheme.lower() not in _AUTHORIZATION_SCHEMES or not credential.strip():
            raise UnauthorizedError("Unsupported Authorization header; use ApiKey-v1 or Bearer.")
        keys.add(credential.strip())
    for name in _KEY_HEADERS:
        keys.update(value for value in _values(headers, name) if value)
    if not keys:
        raise UnauthorizedError("Missing API key.")
    if len(keys) > 1:
        raise UnauthorizedError("More than one API key in the request.")
    return keys.pop()


def header_values(headers: Mapping[str, str] | None, multi: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    """API Gateway's `headers` and `multiValueHeaders`, merged under lower-case names."""
    merged: dict[str, list[str]] = {}
    for name, values in (multi or {}).items():
        merged.setdefault(name.lower(), []).extend(values or [])
    for name, value in (headers or {}).items():
        bucket = merged.setdefault(name.lower(), [])
        if value not in bucket:
            bucket.append(value)
    return merged
