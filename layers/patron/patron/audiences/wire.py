"""Talon.One's wire shapes for audiences (talon-one-sdk: NewAudience, Audience, UpdateAudience,
CustomerProfileAudienceRequest and its Item, AudienceMembership), mapped to and from the entity."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from patron.audiences.model import Audience

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class NewAudience(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: NonEmpty
    # Talon.One's sandbox flag names the kind of application; Patron has one kind (live): only false is taken.
    sandbox: bool | None = None
    description: str | None = None
    integration: str | None = None
    integration_id: str | None = None
    created_in3rd_party: bool | None = msgspec.field(default=None, name="createdIn3rdParty")
    last_update: str | None = None  # Talon.One's readOnly in effect: ignored, as it is set by membership changes


class UpdateAudience(msgspec.Struct, forbid_unknown_fields=True):
    name: NonEmpty


class CustomerProfileAudienceRequestItem(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    action: Literal["add", "delete"]
    profile_integration_id: str
    audience_id: int


class CustomerProfileAudienceRequest(msgspec.Struct, forbid_unknown_fields=True):
    data: list[CustomerProfileAudienceRequestItem] | None = None


class AudienceResponse(msgspec.Struct, rename="camel", omit_defaults=True):
    """talon_one.models.Audience."""

    account_id: int
    id: int
    created: str
    name: str
    sandbox: bool
    created_in3rd_party: bool = msgspec.field(name="createdIn3rdParty")
    description: str | None = None
    integration: str | None = None
    integration_id: str | None = None
    last_update: str | None = None


class AudienceMembership(msgspec.Struct):
    """talon_one.models.AudienceMembership: an audience a profile belongs to."""

    id: int
    name: str


def audience_response(audience: Audience, account_id: int) -> AudienceResponse:
    return AudienceResponse(
        account_id=account_id,
        id=audience.audience_id,
        created=audience.created,
        name=audience.name,
        sandbox=False,
        description=audience.description,
        integration=audience.integration,
        integration_id=audience.integration_id,
        created_in3rd_party=audience.mirrored,
        last_update=audience.last_update,
    )


def memberships(audiences: list[Audience]) -> list[AudienceMembership]:
    return [AudienceMembership(one.audience_id, one.name) for one in sorted(audiences, key=lambda a: a.audience_id)]
