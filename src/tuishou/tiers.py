"""Tier qualification (升级): which tier of a ladder each member has earned.

The ladder itself (``TierLadder``, ``Tier``, ``Requirements``) is defined in
:mod:`tuishou.ladder` and re-exported here. Glossary (docs/domain.md §11):

- **qualified tier**: the highest tier whose requirements hold; it may skip tiers.
- **demotion** (降级): off by default, so tiers never go down; with ``demote=True`` every
  member gets exactly its qualified tier.
- **probation**: a migrated member keeps its tier until ``probation_until``
  (:func:`review_probation`).

:func:`evaluate_tiers` computes the changes without touching the tree, in one bottom-up pass
linear in the tree size; :func:`apply_tier_changes` applies them, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import NamedTuple

import numpy as np

from tuishou.errors import (
    ArgumentTypeError,
    InvalidTreeError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
)
from tuishou.ladder import (
    Requirements,
    Tier,
    TierLadder,
)
from tuishou.money import check_fen
from tuishou.tier_levels import on_probation, qualify_levels
from tuishou.tree import InviteTree

__all__ = ["Requirements", "Tier", "TierChange", "TierLadder", "apply_tier_changes",
           "evaluate_tiers", "review_probation"]

_SHOWN = 10  # how many offenders an error message names before "and N more"


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


# A member's measures are a flat list: these four slots, then one slot per tier rank r
# holding its active directs whose (new) tier ranks r or higher.
_DIRECTS, _TEAM_SIZE, _PERSONAL, _TEAM_SALES, _AT_OR_ABOVE = range(5)


class _Rule(NamedTuple):
    """One tier's requirements, compiled: (description, measure slot, threshold) triples."""

    mode: str  # "all" or "any", as in Requirements.mode
    thresholds: list[tuple[str, int, int]]

    def holds(self, measures: list[int]) -> bool:
        met = (measures[slot] >= need for _, slot, need in self.thresholds)
        return all(met) if self.mode == "all" else any(met)

    def describe(self, measures: list[int], *, only_met: bool = False) -> list[str]:
        return [f"{what.format(measures[slot])} {'>=' if measures[slot] >= need else '<'} {need}"
                for what, slot, need in self.thresholds if measures[slot] >= need or not only_met]


def _compile(ladder: TierLadder) -> list[_Rule | None]:
    rules: list[_Rule | None] = []
    for tier in ladder.tiers:
        r = tier.requires
        if r is None:
            rules.append(None)
            continue
        at = sorted((r.min_direct_at or {}).items(), key=lambda kv: (ladder.ranks[kv[0]], kv[0]))
        thresholds = [
            ("{} active directs", _DIRECTS, r.min_direct),
            *((f"{{}} active directs at {name} or higher", _AT_OR_ABOVE + ladder.ranks[name], need)
              for name, need in at),
            ("team size {}", _TEAM_SIZE, r.min_team_size),
            ("personal sales {}", _PERSONAL, r.min_personal_sales),
            ("team sales {}", _TEAM_SALES, r.min_team_sales),
        ]
        rules.append(_Rule(r.mode, [(what, slot, need) for what, slot, need in thresholds
                                    if need is not None]))
    return rules


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
    if len(tree) >= _ENGINE_MIN:
        return _evaluate_with_numpy(ladder, tree, sales, demote=demote, as_of=as_of)

    def choose(member: str, old: int, qualified: int) -> int:
        if qualified > old or (demote and not _on_probation(tree, member, as_of)):
            return qualified
        return old

    changes = [
        TierChange(member, ladder.names[old], ladder.names[new],
                   _reason(ladder, rules, old, new, measures))
        for member, old, new, measures, rules in _qualify(ladder, tree, sales, choose)
        if new != old
    ]
    return sorted(changes, key=lambda change: change.member_id)


_ENGINE_MIN = 2_000  # members from which the level-by-level numpy pass is faster


def _evaluate_with_numpy(ladder: TierLadder, tree: InviteTree, sales: Mapping[str, int], *,
                         demote: bool, as_of: datetime | None) -> list[TierChange]:
    """evaluate_tiers for large trees: the same changes, computed level by level."""
    _check_sales(tree, sales)
    arrays = tree.arrays()
    by_code = np.array([ladder.ranks.get(name, -1) for name in arrays.tier_names],
                       dtype=np.int64)
    current = by_code[arrays.tier]
    if (current < 0).any():
        _current_ranks(ladder, tree)  # raises, naming every member with an unknown tier
    rules = _compile(ladder)
    ranked = [(rank, rule.mode, rule.thresholds)
              for rank, rule in reversed(list(enumerate(rules))) if rank and rule]
    old, new, measures = qualify_levels(tree, sales, current, ranked, len(ladder.tiers),
                                        demote=demote, as_of=as_of)
    changes = [
        TierChange(arrays.ids[i], ladder.names[old[i]], ladder.names[new[i]],
                   _reason(ladder, rules, int(old[i]), int(new[i]), measures[i].tolist()))
        for i in np.flatnonzero(new != old).tolist()
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
    >>> from tuishou.examples import example_ladder
    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "mentor",
    ...      "probation_until": datetime(2027, 2, 1)}])
    >>> review_probation(example_ladder(), tree, {"A": 40_000}, as_of=datetime(2027, 1, 31))
    []
    >>> [change] = review_probation(example_ladder(), tree, {"A": 40_000},
    ...                             as_of=datetime(2027, 2, 1))
    >>> change.new, change.reason
    ('pusher', 'probation review: demoted: qualifies only for pusher (personal sales 40000 ...)')
    >>> tree.tier("A"), tree.probation_until("A")
    ('pusher', None)
    """
    _check_as_of(as_of, required=True)
    due = {m for m in tree if (until := tree.probation_until(m)) is not None and until <= as_of}

    def choose(member: str, old: int, qualified: int) -> int:
        return qualified if member in due else old

    changes = [
        TierChange(member, ladder.names[old], ladder.names[new],
                   "probation review: " + (_reason(ladder, rules, old, new, measures)
                                           if new != old else f"keeps {ladder.names[old]}"))
        for member, old, new, measures, rules in _qualify(ladder, tree, sales, choose)
        if member in due
    ]
    refused = sorted({c.new for c in changes} - set(tree.tiers or {c.new for c in changes}))
    if refused:  # checked before anything changes: a review is all or nothing
        raise UnknownTierError(f"the review grants {refused}, which the tree's tiers "
                               f"{tree.tiers} do not list; build the tree with the ladder's names")
    for change in changes:
        tree.set_tier(change.member_id, change.new)
        tree.set_probation(change.member_id, None)
    return sorted(changes, key=lambda change: change.member_id)


def _qualify(
    ladder: TierLadder,
    tree: InviteTree,
    sales: Mapping[str, int],
    choose: Callable[[str, int, int], int],
) -> Iterator[tuple[str, int, int, list[int], list[_Rule | None]]]:
    """One bottom-up pass: (member, old rank, new rank, measures, rules) for every member.

    ``choose(member, old, qualified)`` gives each member's new rank; inviters count their
    directs by it, so a promotion counts in the same pass.
    """
    _check_sales(tree, sales)
    current = _current_ranks(ladder, tree)
    rules = _compile(ladder)
    # Highest first; the lowest tier and hand-granted tiers are never qualified for.
    ranked = [(rank, rule) for rank, rule in reversed(list(enumerate(rules))) if rank and rule]
    size = len(ladder.tiers)
    inviter_of = tree.inviters  # a plain dict: the whole pass stays O(members)
    team_sales: dict[str, int] = {}
    team_size: dict[str, int] = {}
    directs_by_rank: dict[str, list[int]] = {}  # active directs per (new) tier rank
    for member in _invitees_first(inviter_of):
        own = sales.get(member, 0)
        at_or_above = list(accumulate(reversed(directs_by_rank.get(member) or [0] * size)))[::-1]
        measures = [at_or_above[0], team_size.get(member, 0), own,
                    team_sales.get(member, 0) + own, *at_or_above]
        old = current[member]
        qualified = next((rank for rank, rule in ranked if rule.holds(measures)), 0)
        new = choose(member, old, qualified)
        yield member, old, new, measures, rules
        inviter = inviter_of[member]
        if inviter is None:
            continue
        team_sales[inviter] = team_sales.get(inviter, 0) + measures[_TEAM_SALES]
        below = team_size.get(inviter, 0) + measures[_TEAM_SIZE]
        if tree.status(member) == "active":
            below += 1
            directs_by_rank.setdefault(inviter, [0] * size)[new] += 1
        team_size[inviter] = below


def _on_probation(tree: InviteTree, member: str, as_of: datetime | None) -> bool:
    return on_probation(tree.probation_until(member), as_of)


def _check_as_of(as_of: object, *, required: bool) -> None:
    if (as_of is None and not required) or isinstance(as_of, datetime):
        return
    raise ArgumentTypeError(f"as_of={as_of!r} must be a datetime, e.g. datetime(2026, 11, 24)")


def _check_sales(tree: InviteTree, sales: Mapping[str, int]) -> None:
    bad = sorted((m for m, amount in sales.items() if type(amount) is not int or amount < 0),
                 key=str)
    for member in bad[:1]:  # the first bad amount (by id) raises, saying what to pass
        check_fen(sales[member], name=f"sales[{member!r}]")
    unknown = sorted((m for m in sales if m not in tree), key=str)
    if unknown:
        hint = (did_you_mean(unknown[0], tree) if len(unknown) == 1 and len(tree) <= 50_000
                else "every key of sales must be a member id")
        listing = _listing([repr(member) for member in unknown], ", ")
        raise UnknownMemberError(
            f"sales names {len(unknown)} member(s) not in the tree: {listing}; {hint}")


def _current_ranks(ladder: TierLadder, tree: InviteTree) -> dict[str, int]:
    current: dict[str, int] = {}
    unknown: list[str] = []
    for member in tree:
        tier = tree.tier(member)
        rank = ladder.ranks.get(tier)
        if rank is None:
            unknown.append(f"member_id={member!r} has tier={tier!r} "
                           f"({did_you_mean(tier, ladder.names)})")
        else:
            current[member] = rank
    if unknown:
        raise UnknownTierError(f"{len(unknown)} member(s) hold a tier the ladder does not list: "
                               f"{_listing(sorted(unknown), '; ')}")
    return current


def _listing(items: list[str], sep: str) -> str:
    more = f"{sep}and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return sep.join(items[:_SHOWN]) + more


def _invitees_first(inviter_of: Mapping[str, str | None]) -> list[str]:
    """Every member after all of its team: a breadth-first order from the roots, reversed."""
    children: dict[str, list[str]] = {}
    order = []
    for member, inviter in inviter_of.items():
        if inviter is None:
            order.append(member)
        else:
            children.setdefault(inviter, []).append(member)
    for member in order:  # the list grows while we walk it: breadth-first
        order.extend(children.get(member, ()))
    order.reverse()
    return order


def _reason(ladder: TierLadder, rules: list[_Rule | None], old: int, new: int,
            measures: list[int]) -> str:
    """Why ``old`` becomes ``new`` (which is always the qualified tier), naming thresholds."""
    new_rule, old_rule = rules[new], rules[old]
    met = new_rule.describe(measures, only_met=True) if new_rule else []
    if new > old:
        return f"qualifies for {ladder.names[new]}: " + ", ".join(met)
    missed = (f"{ladder.names[old]} is granted only by hand" if old_rule is None else
              f"{ladder.names[old]}: " + ", ".join(old_rule.describe(measures)))
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
            problems.append(f"member_id={member!r}: conflicting changes, to "
                            f"{first[member].new!r} and to {change.new!r}")
        elif member not in tree:
            problems.append(f"member_id={member!r} is not in the tree")
        elif tree.tier(member) != change.old:
            problems.append(f"member_id={member!r}: expects tier {change.old!r} but the member "
                            f"holds {tree.tier(member)!r}; evaluate again")
        elif not isinstance(change.new, str) or not change.new.strip() or (
                tree.tiers is not None and change.new not in tree.tiers):
            problems.append(f"member_id={member!r}: new tier {change.new!r} is not one this "
                            "tree accepts")
    if problems:
        raise InvalidTreeError.from_problems("stale tier changes", problems)
    for change in changes:
        tree.set_tier(change.member_id, change.new)
