"""Configuration: six settings groups read from the environment, every variable declared once.

  Tables   the DynamoDB tables (and how long the items of those that expire live)
  Api      the HTTP edge: body limits, the account id Talon.One's shapes report
  Imports  the import's bucket, queue and state machine, and the limits of uploads
  Auth     the authorizer: how long a key lookup is trusted, the routes a public or management key may call
  Loyalty  the loyalty expiry job: how many days ahead members hear that points expire
  Audiences the audience queue (background work on every member)

Lambda functions get these variables from `template.yaml` (the local runtime sets the same ones from the same
template); field `foo_bar` is read from `FOO_BAR`. A function is given only what it uses: its own tables, and so
its own IAM reach. So a group is read with whatever of it the function was given, every value given is validated
then, and a value the function was not given is a ConfigurationError when its composition root asks for it
(`patron.wiring`: at the function's first use, never at import time and never from a route's own work). Nothing
defaults a resource name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self, TypeVar

import msgspec

from patron.errors import PatronError

T = TypeVar("T")


class ConfigurationError(PatronError):
    """A function deployed without a setting it needs, or with one that is invalid: raised while its composition
    root is built. Callers see a 500 `configuration_error` whose body names nothing of the deployment; `problem`
    (in logs and Lambda's error report) names the variable."""

    def __init__(self, problem: str) -> None:
        super().__init__(message="The service is not configured correctly.", code="configuration_error", status=500)
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.code}: {self.problem}"


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=False, rename="upper"):
    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        values = {name: source[name] for name in cls.variable_names() if name in source}
        try:
            # strict=False: environment values are strings; "60" becomes 60 where an int is declared.
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as error:
            raise ConfigurationError(f"{cls.__name__} is invalid: {error}") from None

    @classmethod
    def variable_names(cls) -> set[str]:
        """The environment variables this group reads."""
        return set(cls.__struct_encode_fields__)


def given(value: T | None, variable: str) -> T:
    """A setting the caller needs: its value, or a ConfigurationError naming the variable the function lacks."""
    if value is None:
        raise ConfigurationError(f"{variable} is not set: this function's environment in template.yaml must give it")
    return value


Positive = Annotated[int, msgspec.Meta(gt=0)]
TableName = Annotated[str, msgspec.Meta(min_length=3, max_length=255)]
BucketName = Annotated[str, msgspec.Meta(min_length=3, max_length=63)]
# How long stored answers (Idempotency-Key) and outbox records live. At least an hour: a record must outlive the
# longest request that can hold it in flight (Lambda's 15 minutes), or a running request's key could be taken over.
IdempotencyTtl = Annotated[int, msgspec.Meta(ge=3600, le=30 * 86400)]
OutboxTtl = Annotated[int, msgspec.Meta(ge=3600, le=90 * 86400)]
# How long a tracked event is kept (docs/events.md), at most ten years. `eventCount` reads day counts kept apart,
# so a retention shorter than its longest window does not shorten what rules count.
RetentionDays = Annotated[int, msgspec.Meta(ge=1, le=3650)]
# Lambda takes 6 MB per synchronous invocation, envelope included: 5 MB keeps room for the envelope.
InlineBytes = Annotated[int, msgspec.Meta(gt=0, le=5 * 1024 * 1024)]
# S3 takes at most 5 GiB in one PUT, and a presigned URL is one PUT.
UploadBytes = Annotated[int, msgspec.Meta(gt=0, le=5 * 1024 * 1024 * 1024)]


class Tables(Settings, frozen=True):
    """The DynamoDB tables, by what they hold (docs/data-model.md). A function is given only the tables it uses."""

    config_table_name: TableName | None = None
    profiles_table_name: TableName | None = None
    orders_table_name: TableName | None = None
    idempotency_table_name: TableName | None = None
    outbox_table_name: TableName | None = None
    processes_table_name: TableName | None = None
    ledgers_table_name: TableName | None = None
    # Given with the table whose items expire.
    idempotency_ttl_seconds: IdempotencyTtl | None = None
    outbox_ttl_seconds: OutboxTtl | None = None
    event_retention_days: RetentionDays | None = None

    @property
    def config(self) -> str:
        """Applications, API keys, the attribute catalog, status mappings."""
        return given(self.config_table_name, "CONFIG_TABLE_NAME")

    @property
    def profiles(self) -> str:
        """Customer profiles and their identifier claims."""
        return given(self.profiles_table_name, "PROFILES_TABLE_NAME")

    @property
    def orders(self) -> str:
        return given(self.orders_table_name, "ORDERS_TABLE_NAME")

    @property
    def idempotency(self) -> str:
        """Idempotency-Key records and the references that erase them with their subject."""
        return given(self.idempotency_table_name, "IDEMPOTENCY_TABLE_NAME")

    @property
    def idempotency_ttl(self) -> int:
        """How long an Idempotency-Key is remembered, in seconds."""
        return given(self.idempotency_ttl_seconds, "IDEMPOTENCY_TTL_SECONDS")

    @property
    def outbox(self) -> str:
        """Changes recorded for third-party integrations (triggerIntegrations)."""
        return given(self.outbox_table_name, "OUTBOX_TABLE_NAME")

    @property
    def outbox_ttl(self) -> int:
        """How long an outbox record waits before it expires, in seconds."""
        return given(self.outbox_ttl_seconds, "OUTBOX_TTL_SECONDS")

    @property
    def event_retention(self) -> int:
        """How long a tracked custom event is kept before DynamoDB's TTL removes it, in days."""
        return given(self.event_retention_days, "EVENT_RETENTION_DAYS")

    @property
    def processes(self) -> str:
        """Import processes, their chunks and rejected records."""
        return given(self.processes_table_name, "PROCESSES_TABLE_NAME")

    @property
    def ledgers(self) -> str:
        """Campaign budget counters (later: coupon and referral redemptions, loyalty ledgers)."""
        return given(self.ledgers_table_name, "LEDGERS_TABLE_NAME")


class Api(Settings, frozen=True):
    """The HTTP edge of the API functions."""

    # Bodies over this many bytes answer 413 before any handler work. API Gateway takes 10 MB, Lambda 6 MB.
    max_body_bytes: InlineBytes | None = None
    # POST /v1/import takes bodies inline up to this many bytes (above: 416, pointing at the upload route). The
    # event holds the body as a JSON string, where an ordinary import body grows ~16 % (quotes escaped).
    max_import_inline_bytes: InlineBytes | None = None
    # PUT /v1/catalogs/{catalogId}/sync takes bodies up to this many bytes (1,000 items with their attributes).
    max_catalog_sync_bytes: InlineBytes | None = None
    # Reported as CustomerProfile.accountId (Talon.One's account); one Patron deployment is one account.
    account_id: Positive | None = None

    @property
    def body_limit(self) -> int:
        return given(self.max_body_bytes, "MAX_BODY_BYTES")

    @property
    def catalog_sync_limit(self) -> int:
        return given(self.max_catalog_sync_bytes, "MAX_CATALOG_SYNC_BYTES")

    @property
    def import_inline_limit(self) -> int:
        return given(self.max_import_inline_bytes, "MAX_IMPORT_INLINE_BYTES")

    @property
    def account(self) -> int:
        return given(self.account_id, "ACCOUNT_ID")


class Imports(Settings, frozen=True):
    """Where an import's data goes between its steps, and the limits of uploaded files."""

    import_bucket_name: BucketName | None = None
    import_queue_url: Annotated[str, msgspec.Meta(min_length=10)] | None = None
    import_state_machine_arn: Annotated[str, msgspec.Meta(min_length=20)] | None = None
    # The largest file an upload may declare (above it: 416), in bytes.
    max_import_upload_bytes: UploadBytes | None = None
    # How long an upload URL works. At most an hour: a URL signed with a Lambda role's temporary credentials stops
    # working when they expire, whatever it says.
    import_upload_url_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=3600)] | None = None

    @property
    def bucket(self) -> str:
        """Inputs, chunks, uploaded files and error reports."""
        return given(self.import_bucket_name, "IMPORT_BUCKET_NAME")

    @property
    def queue_url(self) -> str:
        """The chunk queue the split fills and the workers drain."""
        return given(self.import_queue_url, "IMPORT_QUEUE_URL")

    @property
    def state_machine_arn(self) -> str:
        """The process workflow (statemachines/import.asl.json)."""
        return given(self.import_state_machine_arn, "IMPORT_STATE_MACHINE_ARN")

    @property
    def max_upload_bytes(self) -> int:
        return given(self.max_import_upload_bytes, "MAX_IMPORT_UPLOAD_BYTES")

    @property
    def upload_url_ttl(self) -> int:
        return given(self.import_upload_url_ttl_seconds, "IMPORT_UPLOAD_URL_TTL_SECONDS")


class Auth(Settings, frozen=True):
    """The authorizer's own settings (it also reads Tables.config: API keys live there)."""

    # How long the authorizer may trust a key lookup: the documented bound on revocation.
    key_cache_ttl_seconds: Annotated[int, msgspec.Meta(ge=0, le=300)] | None = None
    # Routes a `public` key may call, as "METHOD /resource" separated by commas (none: empty).
    public_routes: str = ""
    # Routes only a `management` key may call, and the only routes it may call (the same format).
    management_routes: str = ""

    @property
    def key_cache_ttl(self) -> int:
        return given(self.key_cache_ttl_seconds, "KEY_CACHE_TTL_SECONDS")

    def public_route_set(self) -> frozenset[str]:
        return _routes(self.public_routes)

    def management_route_set(self) -> frozenset[str]:
        return _routes(self.management_routes)


class Loyalty(Settings, frozen=True):
    """The loyalty expiry job's own settings."""

    # Members hear that points expire this many days before (a `loyalty_expiring` outbox record per lot); 0: never.
    loyalty_expiry_notice_days: Annotated[int, msgspec.Meta(ge=0, le=365)] | None = None

    @property
    def expiry_notice_days(self) -> int:
        return given(self.loyalty_expiry_notice_days, "LOYALTY_EXPIRY_NOTICE_DAYS")


def _routes(listed: str) -> frozenset[str]:
    return frozenset(route.strip() for route in listed.split(",") if route.strip())


class Audiences(Settings, frozen=True):
    """The audience queue: work on every member of an audience (removals, attributes) runs behind it."""

    audience_queue_url: Annotated[str, msgspec.Meta(min_length=10)] | None = None

    @property
    def queue_url(self) -> str:
        return given(self.audience_queue_url, "AUDIENCE_QUEUE_URL")
