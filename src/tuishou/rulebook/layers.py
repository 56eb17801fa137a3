"""The layers rule (一级/二级分销): the member at generation g ≥ 1 gets ``rates[its tier][g - 1]``.

The rule's semantics, once: the pydantic model (what a policy file says, its budget and the
largest share per tier), and its integer form (``LayersUnits``) with the per-chain shares
``settle`` uses and the vectorised slots the batch engine uses, side by side.
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

__all__ = ["LayersRule", "LayersUnits"]


class LayersRule(RuleBase):
    """一级/二级分销: the member at generation g ≥ 1 gets ``rates[its tier][g - 1]``.

    >>> LayersRule(kind="layers", rates={"member": ["0.02", "0.01"]}).rates["member"]
    (Decimal('0.02'), Decimal('0.01'))
    """

    kind: Literal["layers"]
    rates: FrozenMap[tuple[Rate, ...]]
    pays: ClassVar[tuple[PayoutKind, ...]] = ("layer",)

    def problems(self, max_generation: int) -> list[str]:
        """Lists of rates longer than the generations the policy pays.

        >>> LayersRule(kind="layers", rates={"m": ["0.02", "0.01"]}).problems(1)
        ["rates['m'] lists 2 generations but max_generation=1; shorten the list or raise ..."]
        """
        return [
            f"rates[{tier!r}] lists {len(rates)} generations but "
            f"max_generation={max_generation}; shorten the list or raise max_generation"
            for tier, rates in self.rates.items()
            if len(rates) > max_generation
        ]

    def depth(self) -> int:
        """The number of generations the longest list of rates names."""
        return max((len(r) for r in self.rates.values()), default=0)

    def max_share(self) -> Decimal:
        """The most this rule can pay for one order: the top rate of every generation."""
        return sum(
            (
                max((r[g] for r in self.rates.values() if g < len(r)), default=Decimal(0))
                for g in range(self.depth())
            ),
            Decimal(0),
        )

    def tier_rates(self, tier: str) -> tuple[Decimal, ...]:
        """The rates this rule lists for ``tier``, generation 1 first."""
        return self.rates.get(tier, ())

    def seller_share(self, tier: str) -> Decimal:
        """The most a seller of ``tier`` gets from this rule: nothing, it pays uplines."""
        return Decimal(0)

    def upline_shares(self, tier: str, max_generation: int) -> tuple[Decimal, ...]:
        """The most an upline of ``tier`` gets, generation by generation (1..max_generation).

        >>> LayersRule(kind="layers", rates={"m": ["0.02"]}).upline_shares("m", 2)
        (Decimal('0.02'), Decimal('0'))
        """
        rates = self.rates.get(tier, ())[:max_generation]
        return (*rates, *(Decimal(0),) * (max_generation - len(rates)))

    def generations(self, max_generation: int) -> int:
        """The deepest generation above the seller this rule can pay."""
        return min(self.depth(), max_generation)

    def units(self, tiers: Sequence[str]) -> LayersUnits:
        """The rule in integer units over ``tiers``' ranks, one table per generation.

        >>> LayersRule(kind="layers", rates={"b": ["0.02", "0.01"]}).units(("a", "b")).tables
        ((0, 200, 0), (0, 100, 0))
        """
        by_generation = [
            {t: r[g] for t, r in self.rates.items() if g < len(r)} for g in range(self.depth())
        ]
        return LayersUnits(
            {t: tuple(rate_units(r) for r in rs) for t, rs in self.rates.items()},
            tuple(rank_table(rates, tiers) for rates in by_generation),
        )


@dataclass(frozen=True, slots=True)
class LayersUnits:
    """A layers rule in 1/10 000 of the pool: ``rates`` by tier (a tuple per generation from
    1), ``tables[g - 1]`` generation g's rates by tier rank."""

    rates: Mapping[str, tuple[int, ...]]
    tables: tuple[tuple[int, ...], ...]

    def shares(self, ranks: Sequence[int]) -> Iterator[Share]:
        """The shares of a chain given by its tier ranks (generation 0 first).

        >>> list(LayersUnits({}, ((0, 200, 0), (0, 100, 0))).shares([0, 1, 1, 1]))
        [(1, 'layer', 200), (2, 'layer', 100)]
        """
        for generation in range(1, min(len(ranks), len(self.tables) + 1)):
            yield generation, "layer", self.tables[generation - 1][ranks[generation]]

    def slots(self, ranks: Sequence[IntArray]) -> Iterator[Slot]:
        """``shares`` for many chains at once: ``ranks[g]`` holds every seller's rank at g.

        >>> [(g, k, s.tolist()) for g, k, s in LayersUnits({}, ((0, 200, 0),)).slots(
        ...     [np.array([0, 0]), np.array([1, 2])])]
        [(1, 'layer', [200, 0])]
        """
        for generation in range(1, min(len(ranks), len(self.tables) + 1)):
            table = np.array(self.tables[generation - 1], dtype=np.int64)
            yield generation, "layer", table[ranks[generation]]
