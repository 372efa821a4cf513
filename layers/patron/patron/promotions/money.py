"""Money is exact: `Decimal` from the wire to the ledger, rounded once, at the effect, to the currency's minor
unit, half up (commercial rounding). Never a float."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

ZERO = Decimal(0)

# ISO 4217 minor units where they are not 2.
_MINOR_UNITS = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KMF": 0, "KRW": 0,
    "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0,
    "XOF": 0, "XPF": 0,
}  # fmt: skip


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


class Money:
    """Rounding for one currency."""

    __slots__ = ("currency", "places", "quantum")

    def __init__(self, currency: str):
        self.currency = currency.upper()
        self.places = minor_units(self.currency)
        self.quantum = Decimal(1).scaleb(-self.places)

    def round(self, amount: Decimal) -> Decimal:
        return amount.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def floor(self, amount: Decimal) -> Decimal:
        return amount.quantize(self.quantum, rounding=ROUND_DOWN)

    def split(self, total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
        """`total` (already rounded) shared by `weights` in whole minor units that add up to it exactly: each share
        rounded down, the minor units left over go to the largest remainders (ties: the first position)."""
        weight_sum = sum(weights, ZERO)
        if weight_sum <= 0 or total <= 0:
            return [ZERO for _ in weights]
        exact = [total * weight / weight_sum for weight in weights]
        shares = [self.floor(value) for value in exact]
        left = int((total - sum(shares, ZERO)) / self.quantum)
        order = sorted(range(len(weights)), key=lambda index: (-(exact[index] - shares[index]), index))
        for index in order[:left]:
            shares[index] += self.quantum
        return shares
