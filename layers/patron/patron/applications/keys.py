"""Keys of the config table (docs/data-model.md): applications, API keys and the application id counter."""

from __future__ import annotations

APPLICATION_SK = "APP"
API_KEY_SK = "KEY"
ALL_APPLICATIONS = "APPS"  # GSI1 partition listing every application
COUNTER_PK, COUNTER_SK = "COUNTER", "APP"


def application_pk(application_id: int) -> str:
    return f"APP#{application_id}"


def application_gsi1sk(application_id: int) -> str:
    # Zero-padded so applications list in id order.
    return f"{application_id:012d}"


def api_key_pk(key_id: str) -> str:
    return f"KEY#{key_id}"


def application_keys_gsi1pk(application_id: int) -> str:
    return f"{application_pk(application_id)}#KEYS"


def api_key_gsi1sk(created: str, key_id: str) -> str:
    return f"{created}#{key_id}"
