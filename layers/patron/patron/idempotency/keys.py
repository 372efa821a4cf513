"""Keys of the idempotency table (docs/data-model.md). Every partition key begins with the application id.

record     PK=APP#<applicationId>#IDEM#<key>           SK=IDEM
subject    PK=APP#<applicationId>#SUBJECT#<subject>    SK=IDEM#<key>   (one per subject a stored response concerns)
"""

from __future__ import annotations

RECORD_SK = "IDEM"
SUBJECT_SK_PREFIX = "IDEM#"


def record_pk(application_id: int, key: str) -> str:
    return f"APP#{application_id}#IDEM#{key}"


def subject_pk(application_id: int, subject: str) -> str:
    return f"APP#{application_id}#SUBJECT#{subject}"


def subject_sk(key: str) -> str:
    return f"{SUBJECT_SK_PREFIX}{key}"


def key_of_subject_sk(sk: str) -> str:
    return sk[len(SUBJECT_SK_PREFIX) :]
