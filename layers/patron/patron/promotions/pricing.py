"""What a session holds to be discounted, and what is left of it as effects apply: a discount never exceeds what
it applies to (an item's price, an additional cost, the cart items' total, the session total).

A `Pricing` is mutable state of one evaluation; `copy()` lets a campaign be tried in isolation (highest and
lowest discount groups) and thrown away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import msgspec

from patron.promotions.money import ZERO


class Line(msgspec.Struct, frozen=True):
    """A cart item as the session sent it (after the wire's checks): `position` is its index in `cartItems`."""

    position: int
    sku: str
    quantity: int
    price: Decimal  # per unit
    name: str | None = None
    category: str | None = None
    attributes: Mapping[str, object] | None = None

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity


class Pricing:
    __slots__ = ("_units", "additional_costs", "items_left", "lines", "lines_left", "total_left")

    def __init__(self, lines: Sequence[Line], additional_costs: Mapping[str, Decimal]):
        self.lines = tuple(lines)
        self.lines_left = [line.total for line in self.lines]
        # Per unit, built for a line the first time a per-unit discount reaches it.
        self._units: dict[int, list[Decimal]] = {}
        self.additional_costs = dict(additional_costs)
        self.items_left = sum(self.lines_left, ZERO)
        self.total_left = self.items_left + sum(self.additional_costs.values(), ZERO)

    def copy(self) -> Pricing:
        clone = Pricing.__new__(Pricing)
        clone.lines = self.lines
        clone.lines_left = list(self.lines_left)
        clone._units = {index: list(units) for index, units in self._units.items()}
        clone.additional_costs = dict(self.additional_costs)
        clone.items_left = self.items_left
        clone.total_left = self.total_left
        return clone

    def restore(self, other: Pricing) -> None:
        self.lines_left = other.lines_left
        self._units = other._units
        self.additional_costs = other.additional_costs
        self.items_left = other.items_left
        self.total_left = other.total_left

    # -- what a discount may take, and taking it ------------------------------------------------------------

    def session_room(self) -> Decimal:
        return self.total_left

    def take_session(self, amount: Decimal) -> None:
        self.total_left -= amount

    def cart_items_room(self) -> Decimal:
        return min(self.items_left, self.total_left)

    def take_cart_items(self, amount: Decimal) -> None:
        self.items_left -= amount
        self.total_left -= amount

    def additional_costs_room(self) -> Decimal:
        return min(sum(self.additional_costs.values(), ZERO), self.total_left)

    def take_additional_costs(self, amount: Decimal) -> None:
        """Taken from the costs in their order until `amount` is covered."""
        self.total_left -= amount
        for name, left in self.additional_costs.items():
            part = min(left, amount)
            self.additional_costs[name] = left - part
            amount -= part
            if amount <= 0:
                break

    def cost_room(self, name: str) -> Decimal:
        return min(self.additional_costs.get(name, ZERO), self.total_left)

    def take_cost(self, name: str, amount: Decimal) -> None:
        self.additional_costs[name] -= amount
        self.total_left -= amount

    def line_room(self, index: int) -> Decimal:
        return min(self.lines_left[index], self.items_left, self.total_left)

    def take_line(self, index: int, amount: Decimal) -> None:
        self.lines_left[index] -= amount
        self.items_left -= amount
        self.total_left -= amount
        units = self._units.get(index)
        if units is not None:
            # A line-wide discount after per-unit ones: spread over the units, first units first.
            for unit, left in enumerate(units):
                part = min(left, amount)
                units[unit] = left - part
                amount -= part
                if amount <= 0:
                    break

    def units(self, index: int) -> list[Decimal]:
        """What is left of each unit of the line (changed in place by `take_unit`)."""
        return self._unit_values(index)

    def _unit_values(self, index: int) -> list[Decimal]:
        units = self._units.get(index)
        if units is None:
            line = self.lines[index]
            # A line-wide discount taken before: the units keep what is left, the first ones first.
            taken = line.total - self.lines_left[index]
            units = []
            for _ in range(line.quantity):
                part = min(line.price, taken)
                units.append(line.price - part)
                taken -= part
            self._units[index] = units
        return units

    def unit_room(self, index: int, unit: int) -> Decimal:
        return min(self._unit_values(index)[unit], self.items_left, self.total_left)

    def take_unit(self, index: int, unit: int, amount: Decimal) -> None:
        self._unit_values(index)[unit] -= amount
        self.lines_left[index] -= amount
        self.items_left -= amount
        self.total_left -= amount

    def unit_price_left(self, index: int) -> Decimal:
        """What a unit of the line costs now (cascading conditions read it as `item.price`)."""
        line = self.lines[index]
        return self.lines_left[index] / line.quantity if line.quantity else ZERO
