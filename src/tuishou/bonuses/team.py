"""The team bonus (团队业绩奖, 管理奖) of a whole tree in one period: the numpy bottom-up pass.

docs/domain.md §20 defines it; in short, for every member:

- team volume = its personal volume + its direct invitees' team volumes;
- bracket = the highest bracket whose ``from`` ≤ team volume and whose gates hold (tier by
  rank in ``tiers``; active directs: direct invitees not suspended with a personal volume of
  at least ``plan.active_volume``), -1 for none;
- entitlement = floor(rate × team volume), 0 without a bracket or for team volume ≤ 0;
- below_paid = Σ team_paid of its direct invitees; team_paid = max(entitlement, below_paid);
- bonus = max(0, entitlement − below_paid); a negative difference is the *shortfall*
  (reported as ``clamped``).

Like ``tuishou.tier_levels.qualify_levels`` the pass goes level by level, deepest first, each
level a few array operations (it never recurses). Arithmetic is exact: a rate has at most 4
decimals, so entitlement = rate_units × team // 10 000; int64 when every product fits,
Python ints (dtype object) otherwise (checked up front). ``tuishou.bonuses.reference`` is the
same definition in plain Python, which the tests and the benchmark compare with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.bonuses.inputs import check_team_inputs
from tuishou.bonuses.models import TeamBonus
from tuishou.bonuses.results import TeamBonusResult
from tuishou.money import RATE_SCALE, rate_units
from tuishou.tree import InviteTree

__all__ = ["team_bonus"]

IntArray = npt.NDArray[np.int64]
_INT64_SAFE = 2**63


def team_bonus(
    plan: TeamBonus,
    tree: InviteTree,
    volumes: Mapping[str, int],
    *,
    tiers: Sequence[str],
    period: str = "",
) -> TeamBonusResult:
    """Every member's team bonus (fen) for one period, from personal ``volumes`` (fen, may be
    negative; members left out have 0) and the tiers members held (``tiers``: the policy's,
    lowest first). ``period`` is a label for the texts ("2026-11").

    Raises ``UnknownMemberError`` (volumes naming members not in the tree, all named),
    ``FloatRefusedError`` / ``ArgumentTypeError`` (volumes that are not int fen),
    ``UnknownTierError`` (members or brackets with a tier ``tiers`` does not list). The tree
    is never changed.

    >>> from tuishou.examples import example_tree  # A → B → C, A → D (suspended)
    >>> plan = TeamBonus(brackets=[{"from": 10_000, "rate": "0.03"},
    ...                            {"from": 50_000, "rate": "0.05"}])
    >>> result = team_bonus(plan, example_tree(), {"A": 20_000, "C": 40_000},
    ...                     tiers=["member", "pusher", "mentor", "partner"], period="2026-11")
    >>> result.bonuses()  # C: 3% × 40 000; B: 3% × 40 000 − 1 200; A: 5% × 60 000 − 1 200
    {'A': 1800, 'C': 1200}
    >>> print(result.explain("A"))
    team volume ¥600.00 in 2026-11 → 5% = ¥30.00, less B's team ¥400.00 at 3% (¥12.00) = ¥18.00
    """
    names, rank, positions = check_team_inputs(plan, tree, volumes, tiers)
    arrays = tree.arrays()
    size, parent = arrays.size, arrays.parent
    money: Any = np.int64 if _fits_int64(volumes) else object
    own = _personal(positions, volumes, size, money)
    good = arrays.active & (own >= plan.active_volume)
    active_directs = np.bincount(parent[good], minlength=size + 1)[:size].astype(np.int64)
    levels = _levels(arrays.depth())
    team = _team_volumes(own, parent, levels, money)
    bracket = _brackets(plan, names, team, rank, active_directs)
    entitlement = _entitlements(plan, team, bracket, money)
    below = _below_paid(entitlement, parent, levels, money)
    bonus = np.maximum(entitlement - below, 0)
    return TeamBonusResult(
        plan=plan,
        period=period,
        tiers=names,
        ids=tuple(arrays.ids),
        inviter=np.where(parent == size, -1, parent),
        tier=rank,
        active_directs=active_directs,
        personal=own,
        team=team,
        bracket=bracket,
        entitlement=entitlement,
        below_paid=below,
        bonus=bonus,
    )


def _fits_int64(volumes: Mapping[str, int]) -> bool:
    """Whether every team volume, entitlement and sum of team_paid fits int64: each is at
    most Σ|volume| in size, and a product at most that × the rate's units (≤ 10 000)."""
    return bool(sum(map(abs, volumes.values())) * RATE_SCALE < _INT64_SAFE)


def _personal(positions: IntArray, volumes: Mapping[str, int], size: int, money: Any) -> Any:
    """Each member's personal volume in ``tree.arrays()`` order (0 when not given)."""
    own = np.zeros(size, dtype=money)
    if volumes:
        own[positions] = (
            np.fromiter(volumes.values(), dtype=np.int64, count=len(positions))
            if money is np.int64
            else np.array(list(volumes.values()), dtype=object)
        )
    return own


def _levels(depth: IntArray) -> list[IntArray]:
    """Member positions grouped by depth, deepest first."""
    by_depth = np.argsort(-depth, kind="stable")
    return np.split(by_depth, np.flatnonzero(np.diff(depth[by_depth])) + 1)


def _team_volumes(own: Any, parent: IntArray, levels: list[IntArray], money: Any) -> Any:
    """Each member's personal volume plus everyone's below it, deepest level first."""
    team = np.append(own, np.zeros(1, dtype=money))  # the last row: the roots' sink
    for level in levels:
        np.add.at(team, parent[level], team[level])
    return team[:-1]


def _brackets(
    plan: TeamBonus, tiers: tuple[str, ...], team: Any, rank: IntArray, directs: IntArray
) -> IntArray:
    """The highest bracket whose ``from`` ≤ team and whose gates hold, -1 for none."""
    chosen = np.full(len(team), -1, dtype=np.int64)
    for index, bracket in enumerate(plan.brackets):  # rising: a later hit overrides
        holds = np.asarray(team >= bracket.start, dtype=bool)
        if bracket.min_tier is not None:
            holds &= rank >= tiers.index(bracket.min_tier)
        if bracket.min_active_directs is not None:
            holds &= directs >= bracket.min_active_directs
        chosen[holds] = index
    return chosen


def _entitlements(plan: TeamBonus, team: Any, bracket: IntArray, money: Any) -> Any:
    """floor(rate × team) for members with a bracket (whose team is then ≥ 1), else 0."""
    units = np.array([0, *(rate_units(b.rate) for b in plan.brackets)], dtype=money)
    return units[bracket + 1] * team // RATE_SCALE  # bracket -1 → 0 units


def _below_paid(entitlement: Any, parent: IntArray, levels: list[IntArray], money: Any) -> Any:
    """Σ team_paid of each member's direct invitees, where team_paid = max(entitlement,
    below_paid): deepest level first, each level's team_paid added to its inviters."""
    below = np.zeros(len(entitlement) + 1, dtype=money)
    for level in levels:
        paid = np.maximum(entitlement[level], below[level])
        np.add.at(below, parent[level], paid)
    return below[:-1]
