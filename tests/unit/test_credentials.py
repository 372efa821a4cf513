import pytest

from patron.auth.credentials import header_values, presented_key
from patron.errors import UnauthorizedError

KEY = "patron_aaaaaaaaaaaaaaaa_" + "k" * 43


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"ApiKey-v1 {KEY}"},
        {"authorization": f"apikey-v1 {KEY}"},
        {"Authorization": f"Bearer {KEY}"},
        {"api-key": KEY},
        {"X-Api-Key": KEY},
        {"x-api-key": KEY, "Authorization": f"ApiKey-v1 {KEY}"},  # the same key twice is one key
    ],
)
def test_each_dialects_header_presents_the_key(headers):
    assert presented_key(header_values(headers, None)) == KEY


@pytest.mark.parametrize(
    ("headers", "multi"),
    [
        ({}, None),
        ({"x-api-key": ""}, None),
        ({"Authorization": f"Basic {KEY}"}, None),
        ({"Authorization": "ApiKey-v1"}, None),
        ({"x-api-key": KEY, "api-key": KEY + "x"}, None),
        (None, {"x-api-key": [KEY, KEY[:-1] + "z"]}),
    ],
)
def test_missing_ambiguous_or_foreign_credentials_are_refused(headers, multi):
    with pytest.raises(UnauthorizedError):
        presented_key(header_values(headers, multi))
