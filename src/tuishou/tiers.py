"""Tier qualification (升级): which tier of a ladder each member has earned.

The ladder itself (``TierLadder``, ``Tier``, ``Requirements``) is defined in
:mod:`tuishou.ladder` and re-exported here. Glossary (docs/domain.md §11):

- **qualified tier**: the highest tier whose requirements hold; it may skip tiers.
- **demotion** (降级): off by default, so tiers never go down; with ``demote=True`` every
  member gets exactly its qualified tier.
- **probation**: a migrated member keeps its tier until ``probation_until``
  (:func:`review_probation`).

:func:`evaluate_tiers` computes the changes without touching the tree, in one bottom-up pass
linear in the tree size; :func:`apply_tier_changes` applies them, all or nothing. What
qualifies, and the pass itself (numpy, level by level, for every tree size), are defined once
in :mod:`tuishou.tier_levels`; this module chooses who may rise or fall and says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.errors import (
    InvalidTreeError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
    listing,
)
from tuishou.ladder import Requirements, Tier, TierLadder
from tuishou.members.records import SUGGEST_LIMIT
from tuishou.money import check_fen
from tuishou.tier_levels import TierTest, on_probation, qualify_levels, tier_tests
from tuishou.times import check_time
from tuishou.tree import InviteTree

__all__ = [
    "Requirements",
    "Tier",
    "TierChange",
    "TierLadder",
    "apply_tier_changes",
    "evaluate_tiers",
    "review_probation",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class TierChange:
    """A computed change of one member's tier, with the reason in words.

    >>> change = TierChange("S", "pusher", "mentor", "qualifies for mentor: 3 active directs >= 3")
    >>> change.old, change.new
    ('pusher', 'mentor')
    """

    member_id: str
    old: str
    new: str
    reason: str


def evaluate_tiers(
    ladder: TierLadder,
    tree: InviteTree,
    sales: Mapping[str, int],
    *,
    demote: bool = False,
    as_of: datetime | None = None,
) -> list[TierChange]:
    """The tier changes qualification calls for, sorted by member id; the tree is not changed.

    ``sales`` maps member ids to personal sales in int fen; members not in it have 0.
    Invitees are evaluated before their inviters, so a promotion counts for the inviter
    in the same evaluation. Suspended members are evaluated too, but never count as
    anyone's active direct or team member (their sales still count as team sales).
    A tier is never lowered unless ``demote`` is true (see :class:`Tier` for hand-granted
    tiers), and never for a member on probation: one whose ``probation_until`` is after
    ``as_of`` (without ``as_of``, any member with a probation end set; see
    :func:`review_probation`). Refused: a float amount (``FloatRefusedError``, a
    ``TypeError``), a negative one (``ValueError``), ids not in the tree (one
    ``UnknownMemberError`` naming them all), and members whose tier the ladder does not
    list (one ``UnknownTierError`` naming them all).

    >>> from tuishou.examples import example_ladder
    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "member"},
    ...     {"member_id": "B", "inviter_id": "A", "tier": "member"},
    ... ])
    >>> for change in evaluate_tiers(example_ladder(), tree, {"A": 39_600, "B": 39_599}):
    ...     print(change.member_id, change.new, "|", change.reason)
    A pusher | qualifies for pusher: personal sales 39600 >= 39600
    """
    _check_as_of(as_of, required=False)
    current = _current_ranks(ladder, tree, sales)
    lower: BoolArray | bool = demote and ~_on_probation(tree, as_of)
    new, measures, tests = _qualify(ladder, tree, sales, current, may_raise=True, may_lower=lower)
    ids = tree.arrays().ids
    changes = [
        TierChange(
            ids[i],
            ladder.names[current[i]],
            ladder.names[new[i]],
            _reason(ladder, tests, int(current[i]), int(new[i]), measures[i].tolist()),
        )
        for i in np.flatnonzero(new != current).tolist()
    ]
    return sorted(changes, key=lambda change: change.member_id)


def review_probation(
    ladder: TierLadder, tree: InviteTree, sales: Mapping[str, int], *, as_of: datetime
) -> list[TierChange]:
    """End the probation of every member whose probation ended on or before ``as_of``.

    Each reviewed member gets the tier it qualifies for under ``ladder`` (it may go down,
    never below the lowest; directs count by their tiers after the review) and its probation
    is cleared; members still on probation, and members never on probation, are untouched.
    Unlike :func:`evaluate_tiers` the review is applied to the tree: ending probation is an
    event, not a what-if. It returns one change per reviewed member, sorted by id, with
    ``old == new`` for those who keep their tier, each reason starting "probation review".

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from tuishou.examples import example_ladder
    >>> cn = ZoneInfo("Asia/Shanghai")
    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "mentor",
    ...      "probation_until": datetime(2027, 2, 1, tzinfo=cn)}])
    >>> review_probation(example_ladder(), tree, {"A": 40_000},
    ...                  as_of=datetime(2027, 1, 31, tzinfo=cn))
    []
    >>> [change] = review_probation(example_ladder(), tree, {"A": 40_000},
    ...                             as_of=datetime(2027, 2, 1, tzinfo=cn))
    >>> change.new, change.reason
    ('pusher', 'probation review: demoted: qualifies only for pusher (personal sales 40000 ...)')
    >>> tree.tier("A"), tree.probation_until("A")
    ('pusher', None)
    """
    _check_as_of(as_of, required=True)
    current = _current_ranks(ladder, tree, sales)
    arrays = tree.arrays()
    due = np.zeros(arrays.size, dtype=bool)
    due[[arrays.index[m] for m, until in tree.probations().items() if until <= as_of]] = True
    new, measures, tests = _qualify(ladder, tree, sales, current, may_raise=due, may_lower=due)
    changes = [
        TierChange(
            arrays.ids[i],
            ladder.names[current[i]],
            ladder.names[new[i]],
            "probation review: "
            + (
                _reason(ladder, tests, int(current[i]), int(new[i]), measures[i].tolist())
                if new[i] != current[i]
                else f"keeps {ladder.names[current[i]]}"
            ),
        )
        for i in np.flatnonzero(due).tolist()
    ]
    refused = sorted({c.new for c in changes} - set(tree.tiers or {c.new for c in changes}))
    if refused:  # checked before anything changes: a review is all or nothing
        raise UnknownTierError(
            f"the review grants {refused}, which the tree's tiers "
            f"{tree.tiers} do not list; build the tree with the ladder's names"
        )
    for change in changes:
        tree.set_tier(change.member_id, change.new)
        tree.set_probation(change.member_id, None)
    return sorted(changes, key=lambda change: change.member_id)


def _qualify(
    ladder: TierLadder,
    tree: InviteTree,
    sales: Mapping[str, int],
    current: IntArray,
    *,
    may_raise: BoolArray | bool,
    may_lower: BoolArray | bool,
) -> tuple[IntArray, Any, list[TierTest | None]]:
    """The one qualification pass (``tier_levels``): new ranks, measures and the tests."""
    tests = tier_tests(ladder)
    new, measures = qualify_levels(
        tree, sales, current, tests, may_raise=may_raise, may_lower=may_lower
    )
    return new, measures, tests


def _on_probation(tree: InviteTree, as_of: datetime | None) -> BoolArray:
    """Which members (in ``tree.arrays()`` order) are on probation at ``as_of``."""
    arrays = tree.arrays()
    protected = np.zeros(arrays.size, dtype=bool)
    for member, until in tree.probations().items():
        if on_probation(until, as_of):
            protected[arrays.index[member]] = True
    return protected


def _check_as_of(as_of: object, *, required: bool) -> None:
    if as_of is not None or required:
        check_time(as_of, name="as_of")


def _check_sales(tree: InviteTree, sales: Mapping[str, int]) -> None:
    bad = sorted(
        (m for m, amount in sales.items() if type(amount) is not int or amount < 0), key=str
    )
    for member in bad[:1]:  # the first bad amount (by id) raises, saying what to pass
        check_fen(sales[member], name=f"sales[{member!r}]")
    unknown = sorted((m for m in sales if m not in tree), key=str)
    if unknown:
        hint = (
            did_you_mean(unknown[0], tree)
            if len(unknown) == 1 and len(tree) <= SUGGEST_LIMIT
            else "every key of sales must be a member id"
        )
        named = listing([repr(member) for member in unknown], ", ")
        raise UnknownMemberError(
            f"sales names {len(unknown)} member(s) not in the tree: {named}; {hint}"
        )


def _current_ranks(ladder: TierLadder, tree: InviteTree, sales: Mapping[str, int]) -> IntArray:
    """Each member's ladder rank in ``tree.arrays()`` order, once ``sales`` is checked; one
    ``UnknownTierError`` names every member whose tier the ladder does not list."""
    _check_sales(tree, sales)
    arrays = tree.arrays()
    by_code = np.array([ladder.ranks.get(name, -1) for name in arrays.tier_names], dtype=np.int64)
    current: IntArray = by_code[arrays.tier]
    if (current < 0).any():
        unknown = [
            f"member_id={member!r} has tier={tier!r} ({did_you_mean(tier, ladder.names)})"
            for member in tree
            if (tier := tree.tier(member)) not in ladder.ranks
        ]
        raise UnknownTierError(
            f"{len(unknown)} member(s) hold a tier the ladder does not list: "
            f"{listing(sorted(unknown), '; ')}"
        )
    return current


def _reason(
    ladder: TierLadder, tests: list[TierTest | None], old: int, new: int, measures: list[int]
) -> str:
    """Why ``old`` becomes ``new`` (which is always the qualified tier), naming thresholds."""
    new_rule, old_rule = tests[new], tests[old]
    met = new_rule.describe(measures, only_met=True) if new_rule else []
    if new > old:
        return f"qualifies for {ladder.names[new]}: " + ", ".join(met)
    missed = (
        f"{ladder.names[old]} is granted only by hand"
        if old_rule is None
        else f"{ladder.names[old]}: " + ", ".join(old_rule.describe(measures))
    )
    return f"demoted: qualifies only for {ladder.names[new]} (" + "; ".join([*met, missed]) + ")"


def apply_tier_changes(tree: InviteTree, changes: Iterable[TierChange]) -> None:
    """Apply computed changes, all or nothing: each must still match the member's tier.

    Every change is checked before any is applied; unknown members, changes whose ``old``
    is no longer the member's tier (evaluate again), two different changes for one member
    and new tiers the tree does not list are all reported in one ``InvalidTreeError``, and
    the tree is left unchanged.

    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "member"}])
    >>> apply_tier_changes(tree, [TierChange("A", "member", "pusher", "qualifies for pusher")])
    >>> tree.tier("A")
    'pusher'
    >>> apply_tier_changes(tree, [TierChange("A", "member", "pusher", "qualifies for pusher")])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidTreeError: stale tier changes: 1 problem(s)
      1. member_id='A': expects tier 'member' but the member holds 'pusher'; evaluate again
    """
    changes = list(changes)
    problems = []
    first: dict[str, TierChange] = {}
    for change in changes:
        member = change.member_id
        if first.setdefault(member, change) != change:
            problems.append(
                f"member_id={member!r}: conflicting changes, to "
                f"{first[member].new!r} and to {change.new!r}"
            )
        elif member not in tree:
            problems.append(f"member_id={member!r} is not in the tree")
        elif tree.tier(member) != change.old:
            problems.append(
                f"member_id={member!r}: expects tier {change.old!r} but the member "
                f"holds {tree.tier(member)!r}; evaluate again"
            )
        elif (
            not isinstance(change.new, str)
            or not change.new.strip()
            or (tree.tiers is not None and change.new not in tree.tiers)
        ):
            problems.append(
                f"member_id={member!r}: new tier {change.new!r} is not one this tree accepts"
            )
    if problems:
        raise InvalidTreeError.from_problems("stale tier changes", problems)
    for change in changes:
        tree.set_tier(change.member_id, change.new)
