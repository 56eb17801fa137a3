"""What qualifies for a tier, and the one pass that qualifies a whole tree, level by level.

:func:`tier_tests` is the single definition of a tier's requirements (docs/domain.md §11): each
threshold of :class:`~tuishou.ladder.Requirements` becomes a test on one *measure* of a
member, combined by ``all`` or ``any``. A member's measures are a row of ints:

- ``DIRECTS``: its active direct invitees (``min_direct``);
- ``TEAM_SIZE``: active members anywhere below it (``min_team_size``);
- ``PERSONAL``: its own sales (``min_personal_sales``);
- ``TEAM_SALES``: its own sales plus everyone's below, whatever their status
  (``min_team_sales``);
- ``AT_OR_ABOVE + r``: its active direct invitees whose (new) tier ranks ``r`` or higher
  (``min_direct_at``).

:func:`qualify_levels` computes these measures and the qualified tiers for every member with
numpy, level by level, deepest first: every member's team is complete before it is judged and
a promotion counts for its inviter in the same pass. Each level costs a few array operations;
the pass is linear in the tree size and never recurses, however deep the tree. It is the only
qualification pass: ``tuishou.tiers`` evaluates, reviews and explains with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from tuishou.ladder import RequirementsMode, TierLadder
from tuishou.tree import InviteTree

__all__ = [
    "AT_OR_ABOVE",
    "DIRECTS",
    "PERSONAL",
    "TEAM_SALES",
    "TEAM_SIZE",
    "Threshold",
    "TierTest",
    "on_probation",
    "qualified_ranks",
    "qualify_levels",
    "tier_tests",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DIRECTS, TEAM_SIZE, PERSONAL, TEAM_SALES, AT_OR_ABOVE = range(5)  # the measure columns
_INT64_SAFE = 2**63  # sales summing to this or more are added as Python ints (exact)


class Threshold(NamedTuple):
    """One threshold of a tier: ``measures[slot] >= need``, described by ``what``."""

    what: str  # a format string for the measure, e.g. "{} active directs"
    slot: int
    need: int


class TierTest(NamedTuple):
    """A tier's requirements as tests on measures, combined by ``mode`` (``all``/``any``).

    >>> from tuishou.examples import example_ladder
    >>> test = tier_tests(example_ladder())[2]  # mentor: 3 directs and team sales 500000
    >>> test.holds(np.array([[3, 0, 0, 500_000, 3, 0, 0, 0], [3, 0, 0, 1, 3, 0, 0, 0]])).tolist()
    [True, False]
    >>> test.describe([3, 0, 0, 1, 3, 0, 0, 0])
    ['3 active directs >= 3', 'team sales 1 < 500000']
    """

    mode: RequirementsMode
    thresholds: tuple[Threshold, ...]

    def holds(self, measures: Any) -> BoolArray:
        """For each row of measures, whether the requirements hold."""
        met = [measures[:, slot] >= need for _, slot, need in self.thresholds]
        holds: BoolArray = (
            np.logical_and.reduce(met) if self.mode == "all" else np.logical_or.reduce(met)
        )
        return holds

    def describe(self, measures: Sequence[int], *, only_met: bool = False) -> list[str]:
        """Each threshold with the member's measure, met (``>=``) or not (``<``)."""
        return [
            f"{what.format(measures[slot])} {'>=' if measures[slot] >= need else '<'} {need}"
            for what, slot, need in self.thresholds
            if measures[slot] >= need or not only_met
        ]


def tier_tests(ladder: TierLadder) -> list[TierTest | None]:
    """Each tier's test, by rank; None for a tier without requirements (the lowest, or one
    granted only by hand), which qualification never reaches.

    >>> from tuishou.examples import example_ladder
    >>> [len(test.thresholds) if test else None for test in tier_tests(example_ladder())]
    [None, 1, 2, 2]
    """
    ranks = ladder.ranks
    tests: list[TierTest | None] = []
    for tier in ladder.tiers:
        r = tier.requires
        if r is None:
            tests.append(None)
            continue
        at = sorted((r.min_direct_at or {}).items(), key=lambda kv: (ranks[kv[0]], kv[0]))
        measured = [
            ("{} active directs", DIRECTS, r.min_direct),
            *(
                (f"{{}} active directs at {name} or higher", AT_OR_ABOVE + ranks[name], need)
                for name, need in at
            ),
            ("team size {}", TEAM_SIZE, r.min_team_size),
            ("personal sales {}", PERSONAL, r.min_personal_sales),
            ("team sales {}", TEAM_SALES, r.min_team_sales),
        ]
        tests.append(
            TierTest(
                r.mode,
                tuple(
                    Threshold(what, slot, need) for what, slot, need in measured if need is not None
                ),
            )
        )
    return tests


def qualify_levels(
    tree: InviteTree,
    sales: Mapping[str, int],
    current: IntArray,
    tests: Sequence[TierTest | None],
    *,
    may_raise: BoolArray | bool,
    may_lower: BoolArray | bool,
) -> tuple[IntArray, Any]:
    """(new rank, measures) per member in ``tree.arrays()`` order.

    ``sales`` maps member ids to personal sales (checked); ``current`` holds each member's
    ladder rank in that order. A member
    gets the highest rank whose test holds (0 if none, :func:`qualified_ranks`) where that is
    a rise ``may_raise`` allows or a fall ``may_lower`` allows, and keeps its rank elsewhere;
    inviters count directs by new rank.
    Measures are int64, or Python ints (dtype object) when the sales could overflow int64.

    >>> from tuishou.examples import example_ladder, example_tree
    >>> tree = example_tree()  # A → B → C, A → D (suspended), stored A, B, D, C
    >>> new, measures = qualify_levels(tree, {"C": 40_000}, np.zeros(4, dtype=np.int64),
    ...                                tier_tests(example_ladder()), may_raise=True,
    ...                                may_lower=False)
    >>> new.tolist(), measures[:, TEAM_SALES].tolist()
    ([0, 0, 0, 1], [40000, 40000, 0, 40000])
    """
    arrays = tree.arrays()
    size, ranks = arrays.size, len(tests)
    parent, active = arrays.parent, arrays.active
    money: Any = np.int64 if sum(sales.values()) < _INT64_SAFE else object
    own = np.zeros(size, dtype=money)
    if sales:
        keys = list(sales)
        own[arrays.lookup(keys)] = (
            np.fromiter(sales.values(), dtype=np.int64, count=len(keys))
            if money is np.int64
            else np.array(list(sales.values()), dtype=object)
        )
    team_size = np.zeros(size + 1, dtype=np.int64)
    directs = np.zeros((size + 1, ranks), dtype=np.int64)  # active directs per (new) rank
    new = current.copy()
    measures = np.zeros((size, AT_OR_ABOVE + ranks), dtype=money)
    depth = arrays.depth()
    by_depth = np.argsort(-depth, kind="stable")
    bounds = np.flatnonzero(np.diff(-depth[by_depth])) + 1
    sales_up = np.append(own, np.zeros(1, dtype=money))  # the last row: the roots' sink
    for level in np.split(by_depth, bounds):
        at_or_above = np.cumsum(directs[level][:, ::-1], axis=1)[:, ::-1]
        block = np.column_stack(
            [at_or_above[:, 0], team_size[level], own[level], sales_up[level], at_or_above]
        )
        measures[level] = block
        qualified = qualified_ranks(block, tests)
        old = current[level]
        changes = ((qualified > old) & _at(may_raise, level)) | (
            (qualified < old) & _at(may_lower, level)
        )
        new[level] = np.where(changes, qualified, old)
        up = parent[level]  # the tree size for roots: a sink row, never read back
        np.add.at(sales_up, up, sales_up[level])
        mine = active[level]
        np.add.at(team_size, up, team_size[level] + mine)
        np.add.at(directs, (up[mine], new[level][mine]), 1)
    return new, measures


def _at(flags: BoolArray | bool, level: IntArray) -> BoolArray | bool:
    return flags if isinstance(flags, bool) else flags[level]


def qualified_ranks(measures: Any, tests: Sequence[TierTest | None]) -> IntArray:
    """The highest rank whose test holds for each row of measures (0, the lowest, if none):
    the qualified tier, whatever the member holds.

    >>> from tuishou.examples import example_ladder
    >>> rows = np.array([[3, 0, 0, 500_000, 3, 0, 0, 0], [0, 0, 40_000, 40_000, 0, 0, 0, 0]])
    >>> qualified_ranks(rows, tier_tests(example_ladder())).tolist()  # mentor, pusher
    [2, 1]
    """
    ranked = [(rank, test) for rank, test in reversed(list(enumerate(tests))) if rank and test]
    qualified = np.zeros(len(measures), dtype=np.int64)
    settled = np.zeros(len(measures), dtype=bool)
    for rank, test in ranked:
        holds = test.holds(measures)
        qualified = np.where(holds & ~settled, rank, qualified)
        settled |= holds
    return qualified


def on_probation(until: datetime | None, as_of: datetime | None) -> bool:
    """Whether a probation ending at ``until`` still holds at ``as_of`` (None: any set one).

    >>> from datetime import UTC
    >>> until, as_of = datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC)
    >>> on_probation(until, as_of), on_probation(None, None)
    (True, False)
    """
    return until is not None and (as_of is None or as_of < until)
