"""Keys of the audiences in the profiles table (docs/data-model.md). Every partition key begins with the application id.

  audience   PK=APP#<app>#AUDIENCE#<id>                 SK=AUDIENCE
  member     PK=APP#<app>#AUDIENCE#<id>                 SK=M#<profile integration id>
  mirror     PK=APP#<app>#AUDIENCE_MIRROR#<n>#<integration>#<integrationId>   SK=MIRROR   (a third-party audience)
  ids        PK=APP#<app>#AUDIENCE_IDS                  SK=COUNTER

An audience and its members share a partition, so its members are one paged Query (deletion, bulk attribute
updates) and never a Scan. The profile's side of a membership is an attribute of the profile item
(patron.profiles.items.join_audiences), read with the profile.
"""

from __future__ import annotations

from patron.applications.keys import application_pk

AUDIENCE_SK = "AUDIENCE"
MEMBER_PREFIX = "M#"
MIRROR_SK = "MIRROR"
COUNTER_SK = "COUNTER"


def audience_pk(application_id: int, audience_id: int) -> str:
    return f"{application_pk(application_id)}#AUDIENCE#{audience_id}"


def audience_key(application_id: int, audience_id: int) -> dict[str, str]:
    return {"PK": audience_pk(application_id, audience_id), "SK": AUDIENCE_SK}


def member_key(application_id: int, audience_id: int, integration_id: str) -> dict[str, str]:
    return {"PK": audience_pk(application_id, audience_id), "SK": f"{MEMBER_PREFIX}{integration_id}"}


def member_id(sk: str) -> str:
    return sk.removeprefix(MEMBER_PREFIX)


def mirror_key(application_id: int, integration: str, integration_id: str) -> dict[str, str]:
    """The claim of a third-party audience's id; the integration's length first, so `a#b`+`c` and `a`+`b#c` differ."""
    pk = f"{application_pk(application_id)}#AUDIENCE_MIRROR#{len(integration)}#{integration}#{integration_id}"
    return {"PK": pk, "SK": MIRROR_SK}


def counter_key(application_id: int) -> dict[str, str]:
    return {"PK": f"{application_pk(application_id)}#AUDIENCE_IDS", "SK": COUNTER_SK}
