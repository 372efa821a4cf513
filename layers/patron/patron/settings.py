"""Configuration: one typed model per function, read from the environment once (at first use) and validated.

Resource names come only from here; nothing defaults a table name. Lambda functions get these variables from
`template.yaml`; the local runtime sets the same ones from the same template. Field `foo_bar` is read from the
variable `FOO_BAR`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self

import msgspec


class ConfigurationError(RuntimeError):
    """A function was deployed without a setting it needs; raised at cold start, never per request."""


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
        """The environment variables this model reads; the template tests check each function sets them."""
        return set(cls.__struct_encode_fields__)


Positive = Annotated[int, msgspec.Meta(gt=0)]
TableName = Annotated[str, msgspec.Meta(min_length=3, max_length=255)]


class HttpSettings(Settings, frozen=True):
    # Bodies over this many bytes answer 413 before any handler work. API Gateway takes 10 MB, but Lambda only
    # 6 MB per synchronous invocation, envelope included: 5 MB keeps room for the envelope.
    max_body_bytes: Annotated[int, msgspec.Meta(gt=0, le=5 * 1024 * 1024)]


class AuthorizerSettings(Settings, frozen=True):
    config_table_name: TableName
    # How long the authorizer may trust a key lookup: the documented bound on revocation.
    key_cache_ttl_seconds: Annotated[int, msgspec.Meta(ge=0, le=300)]
    # Routes a `public` key may call, as "METHOD /resource" separated by commas.
    public_routes: str = ""

    def public_route_set(self) -> frozenset[str]:
        return frozenset(route.strip() for route in self.public_routes.split(",") if route.strip())


class ProfilesSettings(HttpSettings, frozen=True):
    profiles_table_name: TableName
    # Reported as CustomerProfile.accountId (Talon.One's account); one Patron deployment is one account.
    account_id: Positive


class ProfileTableSettings(Settings, frozen=True):
    """What the profile repository needs, whichever function it runs in."""

    profiles_table_name: TableName


class CustomersSettings(HttpSettings, frozen=True):
    profiles_table_name: TableName


class OrdersSettings(HttpSettings, frozen=True):
    orders_table_name: TableName
    profiles_table_name: TableName
    config_table_name: TableName


class CustomerDataSettings(Settings, frozen=True):
    """What erasing or merging a person touches: their orders, profile and identifiers, the status mapping
    (erasure also needs IdempotencySettings)."""

    orders_table_name: TableName
    profiles_table_name: TableName
    config_table_name: TableName


class ProcessStoreSettings(Settings, frozen=True):
    """Where import processes and their data live."""

    processes_table_name: TableName
    import_bucket_name: Annotated[str, msgspec.Meta(min_length=3, max_length=63)]


class ImportStartSettings(Settings, frozen=True):
    # POST /v1/import takes bodies inline up to this many bytes (above: 416, pointing at the upload route).
    # Lambda takes 6 MB per synchronous call, counting the whole event, where the body is a JSON string: an
    # ordinary import body grows ~16 % there (quotes escaped), so 5 MB is the most that always fits.
    max_import_inline_bytes: Annotated[int, msgspec.Meta(gt=0, le=5 * 1024 * 1024)]
    processes_table_name: TableName
    import_bucket_name: Annotated[str, msgspec.Meta(min_length=3, max_length=63)]
    import_state_machine_arn: Annotated[str, msgspec.Meta(min_length=20)]


class ImportSplitSettings(Settings, frozen=True):
    processes_table_name: TableName
    import_bucket_name: Annotated[str, msgspec.Meta(min_length=3, max_length=63)]
    import_queue_url: Annotated[str, msgspec.Meta(min_length=10)]


ImportBucketName = Annotated[str, msgspec.Meta(min_length=3, max_length=63)]
# S3 takes at most 5 GiB in one PUT, and a presigned URL is one PUT.
UploadBytes = Annotated[int, msgspec.Meta(gt=0, le=5 * 1024 * 1024 * 1024)]


class ImportUploadSettings(HttpSettings, frozen=True):
    """POST /v1/import/uploads: the process, and the presigned URL for its file."""

    processes_table_name: TableName
    import_bucket_name: ImportBucketName
    # The largest file an upload may declare (above it: 416), in bytes.
    max_import_upload_bytes: UploadBytes
    # How long an upload URL works. At most an hour: a URL signed with a Lambda role's temporary credentials
    # stops working when they expire, whatever it says.
    import_upload_url_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=3600)]


class ImportUploadedSettings(Settings, frozen=True):
    """The Object Created consumer: checks the upload and starts its process."""

    processes_table_name: TableName
    import_bucket_name: ImportBucketName
    import_state_machine_arn: Annotated[str, msgspec.Meta(min_length=20)]
    max_import_upload_bytes: UploadBytes
