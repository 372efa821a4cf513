"""Settings of the idempotency store, for any function that serves idempotent routes."""

from __future__ import annotations

from typing import Annotated

import msgspec

from patron.settings import Settings, TableName

DAY = 24 * 3600


class IdempotencySettings(Settings, frozen=True):
    idempotency_table_name: TableName
    # How long a key is remembered. At least an hour: a record must outlive the longest request that can hold it
    # in flight (Lambda's 15 minutes), or a running request's key could be taken over.
    idempotency_ttl_seconds: Annotated[int, msgspec.Meta(ge=3600, le=30 * DAY)] = DAY
