"""The team bonus in plain Python: the definition the numpy pass is tested against.

Written independently of ``tuishou.bonuses.team`` (it shares only the input checks): dicts of
children, one explicit stack for a depth-first order (children before their inviter), and
``fractions.Fraction`` for ``rate × team volume``. Slow but obvious; docs/domain.md §20.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from tuishou.bonuses.inputs import check_team_inputs
from tuishou.bonuses.models import TeamBonus
from tuishou.bonuses.results import TeamBonusResult
from tuishou.tree import InviteTree

__all__ = ["team_bonus_reference"]


def team_bonus_reference(
    plan: TeamBonus,
    tree: InviteTree,
    volumes: Mapping[str, int],
    *,
    tiers: Sequence[str],
    period: str = "",
) -> TeamBonusResult:
    """The same result as ``tuishou.bonuses.team.team_bonus`` (same arguments, same errors),
    computed member by member; columns are Python ints (dtype object).

    >>> from tuishou.examples import example_tree
    >>> plan = TeamBonus(brackets=[{"from": 10_000, "rate": "0.03"}])
    >>> team_bonus_reference(plan, example_tree(), {"C": 40_000},
    ...                      tiers=["member", "pusher", "mentor", "partner"]).bonuses()
    {'C': 1200}
    """
    names = check_team_inputs(plan, tree, volumes, tiers).tiers
    members = list(tree.inviters)
    children: dict[str, list[str]] = {member: [] for member in members}
    for member, inviter in tree.inviters.items():
        if inviter is not None:
            children[inviter].append(member)
    personal = {member: volumes.get(member, 0) for member in members}
    rank = {member: names.index(tree.tier(member)) for member in members}
    directs = {
        member: sum(
            1
            for child in children[member]
            if tree.status(child) == "active" and personal[child] >= plan.active_volume
        )
        for member in members
    }
    team: dict[str, int] = {}
    bracket: dict[str, int] = {}
    entitlement: dict[str, int] = {}
    below: dict[str, int] = {}
    team_paid: dict[str, int] = {}
    for member in _children_first(members, tree.inviters, children):
        kids = children[member]
        team[member] = personal[member] + sum(team[kid] for kid in kids)
        bracket[member] = _bracket(plan, names, team[member], rank[member], directs[member])
        rate = plan.brackets[bracket[member]].rate if bracket[member] >= 0 else 0
        entitlement[member] = math.floor(Fraction(rate) * team[member]) if team[member] > 0 else 0
        below[member] = sum(team_paid[kid] for kid in kids)
        team_paid[member] = max(entitlement[member], below[member])
    position = {member: i for i, member in enumerate(members)}

    def column(values: Mapping[str, int]) -> np.ndarray:
        out = np.empty(len(members), dtype=object)
        out[:] = [values[member] for member in members]
        return out

    return TeamBonusResult(
        plan=plan,
        period=period,
        tiers=names,
        ids=tuple(members),
        inviter=np.array(
            [-1 if (p := tree.inviters[m]) is None else position[p] for m in members],
            dtype=np.int64,
        ),
        tier=np.array([rank[m] for m in members], dtype=np.int64),
        active_directs=np.array([directs[m] for m in members], dtype=np.int64),
        personal=column(personal),
        team=column(team),
        bracket=np.array([bracket[m] for m in members], dtype=np.int64),
        entitlement=column(entitlement),
        below_paid=column(below),
        bonus=column({m: max(0, entitlement[m] - below[m]) for m in members}),
    )


def _children_first(
    members: list[str], inviters: Mapping[str, str | None], children: Mapping[str, list[str]]
) -> list[str]:
    """Every member after all of its invitees: a preorder from the roots, reversed."""
    preorder: list[str] = []
    stack = [member for member in members if inviters[member] is None]
    while stack:
        member = stack.pop()
        preorder.append(member)
        stack.extend(children[member])
    return preorder[::-1]


def _bracket(plan: TeamBonus, tiers: tuple[str, ...], team: int, rank: int, directs: int) -> int:
    """The highest bracket that applies, -1 for none."""
    for index in reversed(range(len(plan.brackets))):
        b = plan.brackets[index]
        if (
            team >= b.start
            and (b.min_tier is None or rank >= tiers.index(b.min_tier))
            and (b.min_active_directs is None or directs >= b.min_active_directs)
        ):
            return index
    return -1
