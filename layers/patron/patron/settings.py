"""Configuration: one typed model per function, read from the environment once (at first use) and validated.

Resource names come only from here; nothing defaults a table name. Lambda functions get these variables from
`template.yaml`; the local runtime sets the same ones from the same template.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError


class ConfigurationError(RuntimeError):
    """A function was deployed without a setting it needs; raised at cold start, never per request."""


def _env_name(field_name: str) -> str:
    return field_name.upper()


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=_env_name, populate_by_name=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        names = {field.alias or name for name, field in cls.model_fields.items()}
        try:
            return cls.model_validate({name: source[name] for name in names if name in source})
        except PydanticValidationError as exc:
            problems = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigurationError(f"{cls.__name__} is invalid: {problems}") from None

    @classmethod
    def variable_names(cls) -> set[str]:
        """The environment variables this model reads; the template tests check each function sets them."""
        return {field.alias or name for name, field in cls.model_fields.items()}


class HttpSettings(Settings):
    # Bodies over this many bytes answer 413 before any handler work (API Gateway's own ceiling is 10 MB).
    max_body_bytes: int = Field(gt=0, le=6 * 1024 * 1024)


class AuthorizerSettings(Settings):
    config_table_name: str = Field(min_length=3)
    # How long the authorizer may trust a key lookup: the documented bound on revocation.
    key_cache_ttl_seconds: int = Field(ge=0, le=300)
    # Routes a `public` key may call, as "METHOD /resource" separated by commas.
    public_routes: str = ""

    def public_route_set(self) -> frozenset[str]:
        return frozenset(route.strip() for route in self.public_routes.split(",") if route.strip())


class ProfilesSettings(HttpSettings):
    profiles_table_name: str = Field(min_length=3)
    # Reported as CustomerProfile.accountId (Talon.One's account); one Patron deployment is one account.
    account_id: int = Field(ge=1)
