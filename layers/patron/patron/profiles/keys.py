"""Keys of the profiles table (docs/data-model.md). Every partition key begins with the application id."""

from __future__ import annotations

PROFILE_SK = "PROFILE"
# Custom attributes are stored as top-level item attributes under this prefix, so one UpdateItem can both
# create a profile and merge attributes into it (a nested map cannot be created and updated in one expression).
ATTRIBUTE_PREFIX = "a:"


def profile_pk(application_id: int, integration_id: str) -> str:
    return f"APP#{application_id}#PROFILE#{integration_id}"
