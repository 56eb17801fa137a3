"""Tier keeping per period (保级, docs/domain.md §22): one review of every member's tier.

Each period the plan's ladder (``TierKeeping.ladder``) is evaluated on the period's figures by
the one qualification pass (:func:`tuishou.tier_levels.qualify_levels`): a member's personal
sales are ``max(personal volume, 0)`` (a refund adjustment never counts below having sold
nothing), team sales their sum over the team, directs and team size from the tree's active
members. Glossary:

- **qualified tier**: what the period's figures earn (:func:`~tuishou.tier_levels.qualified_ranks`);
- **miss**: the qualified tier is below the one held; **misses** count consecutive reviews
  with a miss, and reset to 0 at any review without one or with a change;
- **demotion**: after ``demote_after`` (K) consecutive misses, to the qualified tier (K = 0
  never demotes), unless the member is **on probation** (its ``probation_until`` is after
  ``as_of``, the period's end): misses are counted during probation, and a member with K
  misses falls at the first review after it ends;
- **promotion**: to the qualified tier when it is above the one held (``promote``);
  inviters count directs by the tiers they hold after the review, as in ``evaluate_tiers``.

The review never changes the tree: its changes take effect after the period
(``PlanResult.changes`` → ``tuishou.tiers.apply_tier_changes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from tuishou.bonuses.inputs import check_counts, check_tier_names, tier_ranks
from tuishou.bonuses.models import TierKeeping
from tuishou.bonuses.results import TierReview
from tuishou.tier_levels import TierTest, on_probation, qualified_ranks, qualify_levels, tier_tests
from tuishou.times import check_time
from tuishou.tree import InviteTree

__all__ = ["review_period"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NONE: Mapping[str, int] = MappingProxyType({})


def review_period(
    keeping: TierKeeping,
    tree: InviteTree,
    volumes: Mapping[str, int],
    *,
    tiers: Sequence[str],
    as_of: datetime,
    misses: Mapping[str, int] = _NONE,
    period: str = "",
) -> tuple[TierReview, ...]:
    """Review every member's tier on one period's figures; the tree is not changed.

    ``volumes``: member id → personal volume in the period (int fen, may be negative; absent
    members have 0). ``tiers``: the policy's tier names, lowest first. ``as_of``: the
    period's end (aware), for probation. ``misses``: member id → consecutive misses before
    this review (the previous review's ``misses``; absent members have 0). ``period`` (a
    label, e.g. "2026-11") starts each reason when given. Returns the reviews with a miss or
    a change, by member id. Refused: a naive ``as_of`` (``InvalidArgumentError``), a float
    (``FloatRefusedError``) or other non-int volume or miss count, a negative miss count,
    ids not in the tree (one ``UnknownMemberError`` naming them all), members holding a tier
    not in ``tiers`` and requirements naming one (``UnknownTierError``).

    >>> from datetime import UTC, datetime
    >>> keeping = TierKeeping(demote_after=2, requirements={"pusher": {"min_personal_sales": 100}})
    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "pusher"},
    ...     {"member_id": "B", "inviter_id": "A", "tier": "member"}])
    >>> end = datetime(2026, 12, 1, tzinfo=UTC)
    >>> for review in review_period(keeping, tree, {"A": 40, "B": 150},
    ...                             tiers=["member", "pusher"], as_of=end, misses={"A": 1}):
    ...     print(review.member_id, review.old, "->", review.new, review.misses)
    ...     print("  ", review.reason)
    A pusher -> member 0
       demoted after 2 periods below pusher: qualifies only for member (personal sales 40 < 100)
    B member -> pusher 0
       promoted: qualifies for pusher: personal sales 150 >= 100
    """
    check_time(as_of, name="as_of")
    check_counts(tree, volumes, name="volumes")
    check_counts(tree, misses, name="misses", negative=False)
    check_tier_names(_named_tiers(keeping), tiers)
    held = tier_ranks(tree, tiers)
    ladder = keeping.ladder(tiers)
    arrays = tree.arrays()
    before = np.zeros(arrays.size, dtype=np.int64)
    if misses:
        before[arrays.lookup(list(misses))] = np.fromiter(misses.values(), dtype=np.int64)
    protected = _on_probation(tree, as_of)
    limit = keeping.demote_after
    may_lower: BoolArray | bool = limit > 0 and (before + 1 >= limit) & ~protected
    tests = tier_tests(ladder)
    sales = {member: volume for member, volume in volumes.items() if volume > 0}
    new, measures = qualify_levels(
        tree, sales, held, tests, may_raise=keeping.promote, may_lower=may_lower
    )
    qualified = qualified_ranks(measures, tests)
    missed = qualified < held
    after = np.where(new != held, 0, np.where(missed, before + 1, 0))
    rows = np.flatnonzero((after > 0) | (new != held))
    names, words = ladder.names, _Words(ladder.names, tests, limit, tree, period)
    columns = zip(  # lists, not numpy scalars: a row per member with a miss or a change
        [arrays.ids[i] for i in rows.tolist()],
        held[rows].tolist(),
        new[rows].tolist(),
        qualified[rows].tolist(),
        (before[rows] + 1).tolist(),
        after[rows].tolist(),
        protected[rows].tolist(),
        measures[rows].tolist(),
        strict=True,
    )
    reviews = [
        TierReview(
            member_id=member,
            old=names[old],
            new=names[got],
            qualified=names[earned],
            misses=count,
            on_probation=kept,
            reason=words.reason(member, old, got, run, kept, figures),
        )
        for member, old, got, earned, run, count, kept, figures in columns
    ]
    return tuple(sorted(reviews, key=lambda review: review.member_id))


def _named_tiers(keeping: TierKeeping) -> list[tuple[str, str]]:
    named = [("tier_keeping.requirements", tier) for tier in keeping.requirements]
    for tier, needs in keeping.requirements.items():
        named += [
            (f"tier_keeping.requirements.{tier}.min_direct_at", t)
            for t in needs.min_direct_at or {}
        ]
    return named


def _on_probation(tree: InviteTree, as_of: datetime) -> BoolArray:
    """Which members (in ``tree.arrays()`` order) are on probation at ``as_of``."""
    arrays = tree.arrays()
    protected = np.zeros(arrays.size, dtype=bool)
    for member, until in tree.probations().items():
        protected[arrays.index[member]] = on_probation(until, as_of)
    return protected


class _Words:
    """The reasons of a review, in words like ``tuishou.tiers``' (with the figures)."""

    def __init__(
        self,
        names: Sequence[str],
        tests: list[TierTest | None],
        limit: int,
        tree: InviteTree,
        period: str,
    ) -> None:
        self.names, self.tests, self.limit, self.tree = names, tests, limit, tree
        self.head = f"{period}: " if period else ""

    def reason(
        self, member: str, held: int, new: int, run: int, protected: bool, measures: list[int]
    ) -> str:
        """Why ``member`` goes from ``held`` to ``new`` (ranks), or keeps ``held`` below it
        after ``run`` consecutive misses (counting this one)."""
        name = self.names[held]
        if new > held:
            test = self.tests[new]
            met = test.describe(measures, only_met=True) if test else []
            return f"{self.head}promoted: qualifies for {self.names[new]}: " + ", ".join(met)
        short = self.unmet(held, measures)
        if new < held:
            return (
                f"{self.head}demoted after {_periods(run)} below {name}: "
                f"qualifies only for {self.names[new]} ({short})"
            )
        if protected:
            until = _day(self.tree.probation_until(member))
            return (
                f"{self.head}on probation until {until}: below {name} "
                f"({_periods(run)}), not demoted: {short}"
            )
        if self.limit == 0:
            return f"{self.head}below {name} ({_periods(run)}, never demoted: K = 0): {short}"
        return f"{self.head}below {name} ({run} of {self.limit} periods): {short}"

    def unmet(self, held: int, measures: list[int]) -> str:
        """The thresholds of the held tier the member missed (all of them in ``any`` mode)."""
        test = self.tests[held]
        if test is None:
            return f"{self.names[held]} is granted only by hand"
        return ", ".join(
            f"{what.format(measures[slot])} < {need}"
            for what, slot, need in test.thresholds
            if measures[slot] < need
        )


def _periods(count: int) -> str:
    return f"{count} period" + ("" if count == 1 else "s")


def _day(until: datetime | None) -> str:
    """A probation end as people write it: the date, with the time when not midnight."""
    if until is None:  # pragma: no cover - only members with a probation end are protected
        return "?"
    return until.date().isoformat() if until.time() == datetime.min.time() else until.isoformat()
