"""The differential rule (级差) with its optional peer bonus (平级), docs/domain.md §8.

The walk, once: going up the chain (from the seller when ``include_seller``, else from
generation 1), a member whose tier rate is above what was paid so far gets the difference;
a member above the seller of the same tier as the last one who raised the rate gets
``peer_rate``, at most ``peer_max`` times per order.

This module holds the rule's semantics: the pydantic model (what a policy file says, its
budget and the largest share per tier), and its integer form (``DifferentialUnits``) with the
per-chain walk ``settle`` uses and the vectorised walk the batch engine uses, side by side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from tuishou.models import FrozenMap
from tuishou.money import Rate, rate_units
from tuishou.rulebook.base import (
    GenerationCount,
    IntArray,
    PayoutKind,
    RuleBase,
    Share,
    Slot,
    rank_table,
)

__all__ = ["DifferentialRule", "DifferentialUnits"]


class DifferentialRule(RuleBase):
    """级差 with an optional 平级 peer bonus; see docs/domain.md §8 for the walk.

    >>> rule = DifferentialRule(kind="differential", rates={"pusher": "0.5", "mentor": "0.65"},
    ...                         peer_rate="0.05", peer_max=1)
    >>> rule.max_share()
    Decimal('0.70')
    """

    kind: Literal["differential"]
    rates: FrozenMap[Rate]
    include_seller: bool = Field(default=True, strict=True)
    peer_rate: Rate = Decimal(0)
    peer_max: GenerationCount = 0  # no order has more peers than uplines
    pays: ClassVar[tuple[PayoutKind, ...]] = ("differential", "peer")

    def max_share(self) -> Decimal:
        """Top tier rate plus ``peer_rate × peer_max`` (docs/domain.md §8's budget)."""
        return max(self.rates.values(), default=Decimal(0)) + self.peer_rate * self.peer_max

    def tier_rates(self, tier: str) -> tuple[Decimal, ...]:
        """The rates this rule lists for ``tier`` (none when it names no rate)."""
        return (self.rates[tier],) if tier in self.rates else ()

    def seller_share(self, tier: str) -> Decimal:
        """The most a seller of ``tier`` gets: its rate, when the walk starts at the seller."""
        return self.rates.get(tier, Decimal(0)) if self.include_seller else Decimal(0)

    def upline_shares(self, tier: str, max_generation: int) -> tuple[Decimal, ...]:
        """The most an upline of ``tier`` gets, generation by generation (1..max_generation).

        A member gets the difference (at most its rate) or a peer bonus, not both; a peer
        bonus needs a tier that raised the rate, so a positive rate.

        >>> DifferentialRule(kind="differential", rates={"m": "0.1"}, peer_rate="0.2",
        ...                  peer_max=1).upline_shares("m", 2)
        (Decimal('0.2'), Decimal('0.2'))
        """
        rate = self.rates.get(tier, Decimal(0))
        peer = self.peer_rate if self.peer_max and rate > 0 else Decimal(0)
        return (max(rate, peer),) * max_generation

    def generations(self, max_generation: int) -> int:
        """The deepest generation above the seller this rule can pay: any, if it pays at all."""
        return max_generation if any(self.rates.values()) else 0

    def units(self, tiers: Sequence[str]) -> DifferentialUnits:
        """The rule in integer units over ``tiers``' ranks.

        >>> DifferentialRule(kind="differential", rates={"b": "0.5"}).units(("a", "b")).table
        (0, 5000, 0)
        """
        return DifferentialUnits(
            {t: rate_units(r) for t, r in self.rates.items()},
            rank_table(self.rates, tiers),
            rate_units(self.peer_rate),
            self.peer_max,
            self.include_seller,
        )


@dataclass(frozen=True, slots=True)
class DifferentialUnits:
    """A differential rule in 1/10 000 of the pool: ``rates`` by tier, ``table`` by tier rank
    (its last entry, 0, for nobody), the peer bonus and where the walk starts."""

    rates: Mapping[str, int]
    table: tuple[int, ...]
    peer_rate: int
    peer_max: int
    include_seller: bool

    @property
    def nobody(self) -> int:
        """The rank that stands for "no member" and "no tier raised the rate yet"."""
        return len(self.table) - 1

    def shares(self, ranks: Sequence[int]) -> Iterator[Share]:
        """The walk up one chain given by its tier ranks (generation 0 first).

        >>> walk = DifferentialUnits({}, (0, 5000, 6500, 0), 500, 1, True)
        >>> list(walk.shares([1, 2, 2, 2]))
        [(0, 'differential', 5000), (1, 'differential', 1500), (2, 'peer', 500)]
        """
        paid, top, peers = 0, self.nobody, 0
        for generation in range(0 if self.include_seller else 1, len(ranks)):
            rank = ranks[generation]
            rate = self.table[rank]
            if rate > paid:
                yield generation, "differential", rate - paid
                paid, top = rate, rank
            elif generation >= 1 and rank == top and peers < self.peer_max:
                yield generation, "peer", self.peer_rate
                peers += 1

    def slots(self, ranks: Sequence[IntArray]) -> Iterator[Slot]:
        """``shares`` for many chains at once: ``ranks[g]`` holds every seller's rank at g,
        the slots (a differential and a peer one per generation) every seller's share.

        >>> walk = DifferentialUnits({}, (0, 5000, 6500, 0), 500, 1, True)
        >>> ranks = [np.array([1, 1]), np.array([2, 3]), np.array([2, 3])]
        >>> [(g, k, s.tolist()) for g, k, s in walk.slots(ranks) if s.any()]
        [(0, 'differential', [5000, 5000]), (1, 'differential', [1500, 0]), (2, 'peer', [500, 0])]
        """
        table = np.array(self.table, dtype=np.int64)
        sellers = len(ranks[0])
        paid = np.zeros(sellers, dtype=np.int64)
        top = np.full(sellers, self.nobody, dtype=np.int64)
        peers = np.zeros(sellers, dtype=np.int64)
        peer_max = min(self.peer_max, len(ranks))  # no chain has more peers than links
        for generation in range(0 if self.include_seller else 1, len(ranks)):
            rank = ranks[generation]
            rate = table[rank]
            raise_ = rate > paid
            peer = (
                ~raise_
                & (generation >= 1)
                & (rank == top)
                & (rank != self.nobody)
                & (peers < peer_max)
            )
            yield generation, "differential", np.where(raise_, rate - paid, 0)
            yield generation, "peer", np.where(peer, self.peer_rate, 0)
            peers += peer
            paid = np.where(raise_, rate, paid)
            top = np.where(raise_, rank, top)
