"""The one port through which the customer lifecycle reaches every context holding data about a person.

A context that stores something about a person (orders, stored answers, notifications; later sessions,
coupons, loyalty, audiences) implements `PersonalData` and is listed once in `patron.customers.wiring`; merging,
erasing, anonymising and exporting then cover it without another change. The profile itself (attributes,
identifiers, consents) is the lifecycle's own root, handled by `patron.customers` directly.
"""

from __future__ import annotations

from typing import Any, Protocol


class PersonalData(Protocol):
    """What one context does when a person's lifecycle moves. Every method is idempotent: a retried merge or
    erasure calls it again."""

    @property
    def section(self) -> str:
        """The context's part of an export (`orders`, ...)."""
        ...

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        """A merge: what the absorbed person had becomes the survivor's, figures included (orders move with
        their statistics)."""
        ...

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        """A merge: records that only name the person (stored answers, notifications) are filed under the other
        id, so erasing the survivor later finds them."""
        ...

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        """Whether anything of the person is still here (a merge repeats while the absorbed one receives more)."""
        ...

    def forget(self, application_id: int, integration_id: str) -> int:
        """An erasure: everything of the person goes; returns how many records went."""
        ...

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        """An erasure keeping figures: what the application's figures need stays under `tombstone_id`, with
        nothing that identifies the person; the rest goes. Returns how many records were kept or went."""
        ...

    def export(self, application_id: int, integration_id: str) -> Any:
        """Everything this context holds about the person, as JSON values (GDPR Art. 15); None: nothing of its
        own to show (its records only copy what other sections show)."""
        ...
