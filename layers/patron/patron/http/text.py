"""Text that cannot be stored is refused at the edge, once, before any route runs.

A lone UTF-16 surrogate (`"\\ud800"` in JSON) is valid JSON but not Unicode text: UTF-8 cannot encode it, so
DynamoDB, S3, logs and every later answer would fail on it, and an object holding one could not be read back.
A path id whose percent-escapes are not UTF-8 (`%FE%FE`) decodes to U+FFFD, so different ids would fold into one.
The resolver (patron.http.api) asks this module for every such value of a request: path ids, query names and
values, header values and every string or key at any depth of a JSON body, each named by its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from patron.errors import FieldIssue, PatronError
from patron.http import jsonbody

NOT_TEXT = "Not Unicode text (a lone UTF-16 surrogate), which cannot be stored."
NOT_UTF8 = "Its percent-escapes are not UTF-8."


def _not_text(path: str) -> FieldIssue:
    return FieldIssue(path, "invalid_text", NOT_TEXT)


def _path_issues(path: str, resource: str) -> list[FieldIssue]:
    """Path parameters whose raw segment (REST APIs deliver `path` still percent-encoded) is not UTF-8 text.
    Segments are matched from the end: a custom domain's base path may precede the resource's."""
    names = [segment for segment in resource.split("/") if segment]
    raw = [segment for segment in path.split("/") if segment]
    issues: list[FieldIssue] = []
    for name, segment in zip(reversed(names), reversed(raw), strict=False):
        if not (name.startswith("{") and name.endswith("}")):
            continue
        try:
            unquote_to_bytes(segment.encode("utf-8", "surrogatepass")).decode("utf-8")
        except UnicodeDecodeError:
            issues.append(FieldIssue(name.strip("{}+"), "invalid_encoding", NOT_UTF8))
    return issues[::-1]


def _body_issues(body: bytes) -> list[FieldIssue]:
    if not jsonbody.may_be_unencodable(body):
        return []
    try:
        value = jsonbody.loads(body)
    except PatronError:
        return []  # malformed: the route's own parsing answers it
    return [_not_text(path) for path in jsonbody.unencodable_paths(value)]


def unreadable_text(
    *,
    path: str,
    resource: str,
    path_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    check_body: bool = True,
) -> list[FieldIssue]:
    """Every value of the request that is not storable text, by its path (`integrationId`, `query.limit`,
    `header.x-y`, `attributes.name`); empty when the request is clean. `check_body=False` leaves the body to
    the route (an import rejects such records one by one)."""
    issues = _path_issues(path, resource)
    encoding = {issue.path for issue in issues}
    issues += [
        _not_text(name)
        for name, value in path_params.items()
        if name not in encoding and jsonbody.is_unencodable(value)
    ]
    issues += [
        _not_text(f"query.{name}")
        for name, value in query.items()
        if jsonbody.is_unencodable(name) or jsonbody.is_unencodable(value)
    ]
    issues += [
        _not_text(f"header.{name}")
        for name, value in headers.items()
        if jsonbody.is_unencodable(name) or jsonbody.is_unencodable(value)
    ]
    if check_body:
        issues += _body_issues(body)
    return issues[: jsonbody.MAX_TEXT_ISSUES]
