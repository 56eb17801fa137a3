"""The seller rule (分享赚 / 自购省): the seller (generation 0) gets ``rates[its tier]``.

The rule's semantics, once: the pydantic model (what a policy file says, its budget and the
largest share per tier), and its integer form (``SellerUnits``) with the per-chain share
``settle`` uses and the vectorised slot the batch engine uses, side by side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Literal

import numpy as np

from tuishou.models import FrozenMap
from tuishou.money import Rate, rate_units
from tuishou.rulebook.base import IntArray, PayoutKind, RuleBase, Share, Slot, rank_table

__all__ = ["SellerRule", "SellerUnits"]


class SellerRule(RuleBase):
    """分享赚 / 自购省: the seller (generation 0) gets ``rates[its tier]`` of the pool.

    >>> SellerRule(kind="seller", rates={"member": "0.05"}).rates["member"]
    Decimal('0.05')
    """

    kind: Literal["seller"]
    rates: FrozenMap[Rate]
    pays: ClassVar[tuple[PayoutKind, ...]] = ("seller",)

    def max_share(self) -> Decimal:
        """The most this rule can pay for one order, as a share of the pool."""
        return max(self.rates.values(), default=Decimal(0))

    def tier_rates(self, tier: str) -> tuple[Decimal, ...]:
        """The rates this rule lists for ``tier`` (none when it names no rate)."""
        return (self.rates[tier],) if tier in self.rates else ()

    def seller_share(self, tier: str) -> Decimal:
        """The most a seller of ``tier`` gets from this rule for one order."""
        return self.rates.get(tier, Decimal(0))

    def upline_shares(self, tier: str, max_generation: int) -> tuple[Decimal, ...]:
        """The most an upline of ``tier`` gets, generation by generation (1..max_generation)."""
        return (Decimal(0),) * max_generation

    def generations(self, max_generation: int) -> int:
        """The deepest generation above the seller this rule can pay: none."""
        return 0

    def units(self, tiers: Sequence[str]) -> SellerUnits:
        """The rule in integer units over ``tiers``' ranks.

        >>> SellerRule(kind="seller", rates={"b": "0.05"}).units(("a", "b")).table
        (0, 500, 0)
        """
        return SellerUnits(
            {t: rate_units(r) for t, r in self.rates.items()}, rank_table(self.rates, tiers)
        )


@dataclass(frozen=True, slots=True)
class SellerUnits:
    """A seller rule in 1/10 000 of the pool: ``rates`` by tier, ``table`` by tier rank."""

    rates: Mapping[str, int]
    table: tuple[int, ...]

    def shares(self, ranks: Sequence[int]) -> Iterator[Share]:
        """The share of a chain given by its tier ranks (generation 0 first).

        >>> list(SellerUnits({"b": 500}, (0, 500, 0)).shares([1, 0]))
        [(0, 'seller', 500)]
        """
        yield 0, "seller", self.table[ranks[0]]

    def slots(self, ranks: Sequence[IntArray]) -> Iterator[Slot]:
        """``shares`` for many chains at once: ``ranks[g]`` holds every seller's rank at g.

        >>> [(g, k, s.tolist()) for g, k, s in
        ...  SellerUnits({"b": 500}, (0, 500, 0)).slots([np.array([1, 0, 2])])]
        [(0, 'seller', [500, 0, 0])]
        """
        yield 0, "seller", np.array(self.table, dtype=np.int64)[ranks[0]]
