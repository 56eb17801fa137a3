"""The input checks of the team bonus, shared by the numpy pass and the reference pass.

Every bulk check reports every offender at once (the first few by id in the message): volumes
naming members not in the tree (``UnknownMemberError``), volumes that are floats
(``FloatRefusedError``) or not ints (``ArgumentTypeError``), members holding a tier that
``tiers`` does not list and brackets gated on such a tier (``UnknownTierError``). Nothing is
changed on refusal: the checks only read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tuishou.bonuses.models import TeamBonus
from tuishou.errors import (
    ArgumentTypeError,
    FloatRefusedError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
)
from tuishou.members.records import SUGGEST_LIMIT
from tuishou.tree import InviteTree

__all__ = ["TeamInputs", "check_team_inputs"]

_SHOWN = 10  # offenders a message names before "and N more"


class TeamInputs(NamedTuple):
    """Checked inputs: ``tiers`` as a tuple (lowest first), the ids of ``volumes`` in its
    order and their positions in ``tree.arrays()``."""

    tiers: tuple[str, ...]
    keys: list[str]
    positions: npt.NDArray[np.int64]


def check_team_inputs(
    plan: object, tree: object, volumes: Mapping[str, int], tiers: Sequence[str]
) -> TeamInputs:
    """Check the arguments of ``team_bonus``; ``TeamInputs`` when they are good.

    >>> from tuishou.examples import example_tree
    >>> plan = TeamBonus(brackets=[{"from": 100, "rate": "0.05"}])
    >>> check_team_inputs(plan, example_tree(), {"A": 1, "Z": 2, "Y": 1}, ["member"])
    Traceback (most recent call last):
    ...
    tuishou.errors.UnknownMemberError: volumes names 2 member(s) not in the tree: 'Y', 'Z'; ...
    """
    if not isinstance(plan, TeamBonus):
        raise ArgumentTypeError(
            f"plan is a {type(plan).__name__}; pass a TeamBonus (policy.period_plan.team_bonus)"
        )
    if not isinstance(tree, InviteTree):
        raise ArgumentTypeError(f"tree is a {type(tree).__name__}; pass an InviteTree")
    if not isinstance(volumes, Mapping):
        raise ArgumentTypeError(
            f"volumes is a {type(volumes).__name__}; pass a mapping of member id to int fen"
        )
    names = tuple(tiers)
    _check_amounts(volumes)
    keys = list(volumes)
    positions = _check_members(tree, keys)
    _check_tiers(plan, tree, names)
    return TeamInputs(names, keys, positions)


def _listing(items: list[str], sep: str = ", ") -> str:
    more = f"{sep}and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return sep.join(items[:_SHOWN]) + more


def _check_amounts(volumes: Mapping[str, int]) -> None:
    if set(map(type, volumes.values())) <= {int}:  # the usual case, in one C-speed pass
        return
    floats = sorted((m for m, v in volumes.items() if type(v) is float), key=str)
    if floats:
        raise FloatRefusedError(
            f"volumes of {len(floats)} member(s) are floats: "
            f"{_listing([f'{m!r}: {volumes[m]!r}' for m in floats])}; "
            "pass int numbers of fen (e.g. 1999 for ¥19.99)"
        )
    others = sorted((m for m, v in volumes.items() if type(v) is not int), key=str)
    if others:
        raise ArgumentTypeError(
            f"volumes of {len(others)} member(s) are not ints: "
            f"{_listing([f'{m!r}: {type(volumes[m]).__name__}' for m in others])}; "
            "pass int numbers of fen"
        )


def _check_members(tree: InviteTree, keys: list[str]) -> npt.NDArray[np.int64]:
    """Each id's position in ``tree.arrays()``, once every id is known to be there."""
    index = tree.arrays().index
    positions = np.fromiter(map(index.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))
    if (positions >= 0).all():
        return positions
    unknown = sorted((keys[i] for i in np.flatnonzero(positions < 0).tolist()), key=str)
    hint = (
        did_you_mean(str(unknown[0]), index)
        if len(unknown) == 1 and len(index) <= SUGGEST_LIMIT
        else "every key of volumes must be a member id of the tree"
    )
    raise UnknownMemberError(
        f"volumes names {len(unknown)} member(s) not in the tree: "
        f"{_listing([repr(m) for m in unknown])}; {hint}"
    )


def _check_tiers(plan: TeamBonus, tree: InviteTree, tiers: tuple[str, ...]) -> None:
    gated = sorted(
        {b.min_tier for b in plan.brackets if b.min_tier is not None and b.min_tier not in tiers}
    )
    if gated:
        raise UnknownTierError(
            f"brackets need tier(s) {_listing([repr(t) for t in gated])}, which tiers {tiers} "
            f"does not list; {did_you_mean(gated[0], tiers)}"
        )
    arrays = tree.arrays()
    missing = [code for code, name in enumerate(arrays.tier_names) if name not in tiers]
    if not missing:
        return
    holders = np.flatnonzero(np.isin(arrays.tier, missing)).tolist()
    unknown = sorted(
        f"member_id={arrays.ids[i]!r} has tier={arrays.tier_names[arrays.tier[i]]!r}"
        for i in holders
    )
    raise UnknownTierError(
        f"{len(unknown)} member(s) hold a tier that tiers {tiers} does not list: "
        f"{_listing(unknown, '; ')}; pass the policy's tiers (policy.tiers), lowest first"
    )
