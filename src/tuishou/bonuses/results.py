"""What a period plan computes: team bonus columns and rows, mentor shares, promotion rewards,
tier reviews, and the plan's result for one period (``PlanResult``).

Amounts are int fen. The team bonus keeps one numpy column per measure (a row per member, in
``tree.arrays()`` order) so that a million members cost no million objects; ``TeamBonusRow``
is built on demand. Columns are int64, or Python ints (dtype object) when a product of a rate
and a volume could pass int64.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.bonuses.models import TeamBonus
from tuishou.bonuses.words import team_text
from tuishou.errors import UnknownMemberError, did_you_mean
from tuishou.tiers import TierChange

__all__ = [
    "BONUS_KINDS",
    "MentorShare",
    "PlanResult",
    "PromotionReward",
    "TeamBonusResult",
    "TeamBonusRow",
    "TierReview",
]

IntArray = npt.NDArray[np.int64]

BONUS_KINDS = ("team_bonus", "mentor_share", "promotion_reward")
"""The kinds of period bonus, as ledger entries and payout rows name them."""


@dataclass(frozen=True, slots=True)
class TeamBonusRow:
    """One member's team bonus in a period (fen; ``rate`` a Decimal, 0 with no bracket).

    ``bracket`` is the index of the bracket applied (-1: none); ``entitlement`` is
    ``floor(rate × team)``; ``below_paid`` what the teams of its direct invitees were paid;
    ``bonus = max(0, entitlement - below_paid)``; ``clamped = min(0, entitlement -
    below_paid)``, the shortfall a gate caused (docs/domain.md §20).
    """

    member_id: str
    personal: int
    team: int
    bracket: int
    rate: Decimal
    entitlement: int
    below_paid: int
    bonus: int
    clamped: int

    @property
    def team_paid(self) -> int:
        """What the member and everyone below it were paid: ``bonus + below_paid``."""
        return self.bonus + self.below_paid


@dataclass(frozen=True, eq=False)
class TeamBonusResult:
    """The team bonus of every member of a tree in one period, as columns.

    ``ids`` are the member ids in ``tree.arrays()`` order, ``inviter`` each member's inviter
    as a position in ``ids`` (-1 for a root), ``tier`` its rank in ``tiers`` during the
    period, ``active_directs`` its active direct invitees (for the gates). The other columns
    are those of ``TeamBonusRow``.
    """

    plan: TeamBonus
    period: str
    tiers: tuple[str, ...]
    ids: tuple[str, ...]
    inviter: IntArray
    tier: IntArray
    active_directs: IntArray
    personal: Any
    team: Any
    bracket: IntArray
    entitlement: Any
    below_paid: Any
    bonus: Any

    def position(self, member_id: str) -> int:
        """The member's row position; ``UnknownMemberError`` for an id not in the tree."""
        index = self._index.get(member_id)
        if index is None:
            raise UnknownMemberError(
                f"member_id={member_id!r} is not in the tree; {did_you_mean(member_id, self.ids)}"
            )
        return index

    @property
    def _index(self) -> dict[str, int]:
        cached: dict[str, int] | None = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {member: i for i, member in enumerate(self.ids)}
            object.__setattr__(self, "_index_cache", cached)
        return cached

    def invitees(self, i: int) -> list[int]:
        """The row positions of the direct invitees of the member at position ``i``: one
        lookup in an index built once (a sort of ``inviter``), so explaining every member
        stays linear."""
        cached: tuple[IntArray, IntArray] | None = self.__dict__.get("_invitees_cache")
        if cached is None:
            order = np.argsort(self.inviter, kind="stable")
            starts = np.searchsorted(self.inviter[order], np.arange(len(self.ids) + 1))
            cached = (order, starts)
            object.__setattr__(self, "_invitees_cache", cached)
        order, starts = cached
        found: list[int] = order[starts[i] : starts[i + 1]].tolist()
        return found

    def row(self, member_id: str) -> TeamBonusRow:
        """One member's row."""
        return self._row(self.position(member_id))

    def _row(self, i: int) -> TeamBonusRow:
        bracket = int(self.bracket[i])
        entitlement, below = int(self.entitlement[i]), int(self.below_paid[i])
        return TeamBonusRow(
            member_id=self.ids[i],
            personal=int(self.personal[i]),
            team=int(self.team[i]),
            bracket=bracket,
            rate=self.plan.brackets[bracket].rate if bracket >= 0 else Decimal(0),
            entitlement=entitlement,
            below_paid=below,
            bonus=int(self.bonus[i]),
            clamped=min(0, entitlement - below),
        )

    def rows(self) -> Iterator[TeamBonusRow]:
        """Every member's row, by member id."""
        for i in sorted(range(len(self.ids)), key=self.ids.__getitem__):
            yield self._row(i)

    def as_rows(self) -> list[TeamBonusRow]:
        """``rows()`` as a list: two results are the same when their lists are equal."""
        return list(self.rows())

    def bonuses(self) -> dict[str, int]:
        """Member id → bonus (fen), only members paid, by member id."""
        paid = np.flatnonzero(np.asarray(self.bonus > 0, dtype=bool)).tolist()
        return {self.ids[i]: int(self.bonus[i]) for i in sorted(paid, key=self.ids.__getitem__)}

    def clamped(self) -> dict[str, int]:
        """Member id → shortfall (fen, negative): members whose entitlement was below what
        their invitees' teams were already paid (docs/domain.md §20)."""
        short = np.asarray(self.entitlement < self.below_paid, dtype=bool)
        return {
            self.ids[i]: int(self.entitlement[i]) - int(self.below_paid[i])
            for i in sorted(np.flatnonzero(short).tolist(), key=self.ids.__getitem__)
        }

    def explain(self, member_id: str) -> str:
        """Why the member gets its bonus, in text a support agent can paste
        (``tuishou.bonuses.words.team_text``), e.g. "team volume ¥215,000.00 in 2026-11 → 8% =
        ¥17,200.00, less B's team ¥90,000.00 at 5% (¥4,500.00) = ¥12,700.00"."""
        return team_text(self, member_id)

    def total(self) -> int:
        """The sum of the bonuses (fen)."""
        return (
            int(sum(int(x) for x in self.bonus.tolist()))
            if self.bonus.dtype == object
            else int(self.bonus.sum())
        )


@dataclass(frozen=True, slots=True)
class MentorShare:
    """A share of a mentee's team bonus paid to an upline (育成奖): ``amount =
    floor(rate × mentee_bonus)`` fen, for ``generation`` (1: the mentee's inviter)."""

    member_id: str
    mentee_id: str
    generation: int
    rate: Decimal
    mentee_bonus: int
    amount: int
    text: str


@dataclass(frozen=True, slots=True)
class PromotionReward:
    """A one-off reward (fen) to the direct inviter of a member promoted to ``tier``."""

    member_id: str
    invitee_id: str
    tier: str
    amount: int
    text: str


@dataclass(frozen=True, slots=True)
class TierReview:
    """One member's tier review in a period (保级): the tier ``old`` held during it, ``new``
    after the review, what the period's figures ``qualified`` for, the consecutive periods
    below its tier's requirements after this review (``misses``; 0 after any change)."""

    member_id: str
    old: str
    new: str
    qualified: str
    misses: int
    on_probation: bool
    reason: str

    @property
    def changed(self) -> bool:
        """Whether the review changes the member's tier."""
        return self.old != self.new


@dataclass(frozen=True, slots=True)
class PlanResult:
    """One period plan's result for one period: what to pay and which tiers change.

    ``reviews`` lists only members with a miss or a change, by member id.
    """

    plan: str
    period: str
    team: TeamBonusResult | None
    mentor_shares: tuple[MentorShare, ...] = ()
    promotion_rewards: tuple[PromotionReward, ...] = ()
    reviews: tuple[TierReview, ...] = ()

    def changes(self) -> list[TierChange]:
        """The reviews' tier changes, for ``tuishou.tiers.apply_tier_changes``."""
        return [
            TierChange(review.member_id, review.old, review.new, review.reason)
            for review in self.reviews
            if review.changed
        ]

    def payouts(self) -> list[tuple[str, str, str, int]]:
        """Every amount to pay: (member id, kind, source, fen), sorted; the source is ""
        for a team bonus, the mentee for a mentor share, ``invitee:tier`` for a reward."""
        rows = [
            (m, "team_bonus", "", fen)
            for m, fen in (self.team.bonuses() if self.team else {}).items()
        ]
        rows += [(s.member_id, "mentor_share", s.mentee_id, s.amount) for s in self.mentor_shares]
        rows += [
            (r.member_id, "promotion_reward", f"{r.invitee_id}:{r.tier}", r.amount)
            for r in self.promotion_rewards
        ]
        return sorted(rows)

    def total(self) -> int:
        """The sum of every amount to pay (fen)."""
        return sum(fen for *_, fen in self.payouts())
