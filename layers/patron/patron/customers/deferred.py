"""A context's personal data built at its first use: a merge, an erasure or an export is rare next to the calls of
the functions that may make one, so those functions need not import the context's code at their cold start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from patron.customers.port import PersonalData


class Deferred:
    """`PersonalData` of the section `section`, built by `build` when first asked."""

    def __init__(self, section: str, build: Callable[[], PersonalData]):
        self.section = section
        self._build = build
        self._built: PersonalData | None = None

    def _holder(self) -> PersonalData:
        if self._built is None:
            self._built = self._build()
        return self._built

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        self._holder().absorb(application_id, survivor_id, absorbed_id)

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        self._holder().refile(application_id, from_id, to_id)

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return self._holder().still_holds(application_id, integration_id)

    def forget(self, application_id: int, integration_id: str) -> int:
        return self._holder().forget(application_id, integration_id)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        return self._holder().anonymise(application_id, integration_id, tombstone_id)

    def export(self, application_id: int, integration_id: str) -> Any:
        return self._holder().export(application_id, integration_id)
