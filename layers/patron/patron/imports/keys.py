"""Keys of the processes table. Every partition key begins with the application id."""

from __future__ import annotations

PROCESS_SK = "PROCESS"
CHUNK_PREFIX = "CHUNK#"
REJECT_PREFIX = "REJECT#"


def counter_pk(application_id: int) -> str:
    return f"APP#{application_id}#PROCESSES"


def process_pk(application_id: int, process_id: int) -> str:
    return f"APP#{application_id}#PROCESS#{process_id}"


def chunk_sk(index: int) -> str:
    return f"{CHUNK_PREFIX}{index:06d}"


def reject_sk(chunk: int, position: int) -> str:
    # Sorted by chunk, then position in the chunk: the order the records came in.
    return f"{REJECT_PREFIX}{chunk:06d}#{position:04d}"
