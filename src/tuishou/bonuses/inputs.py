"""The input checks of the period bonuses and tier keeping (docs/domain.md §20-§22), shared
by the team bonus (both passes), the mentor bonus and tier keeping.

Each check refuses before anything is computed, naming every offender (the first few in the
message) and the way out; nothing is changed on refusal, the checks only read:

- :func:`check_counts`: a ``{member: int}`` mapping (period volumes, which may be negative,
  or miss counters, which may not): floats (``FloatRefusedError``), values that are not ints
  (``ArgumentTypeError``), negatives where refused (``InvalidArgumentError``), then one
  ``UnknownMemberError`` naming every key not in the tree; it returns the keys' positions in
  ``tree.arrays()``;
- :func:`tier_ranks`: each member's rank in the policy's tiers (lowest first), one
  ``UnknownTierError`` naming every member whose tier is not listed;
- :func:`check_tier_names`: tiers a plan names that the policy does not list;
- :func:`check_team_inputs`: all of them for ``team_bonus``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tuishou.bonuses.models import TeamBonus
from tuishou.errors import (
    ArgumentTypeError,
    FloatRefusedError,
    InvalidArgumentError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
    listing,
)
from tuishou.members.records import SUGGEST_LIMIT
from tuishou.tree import InviteTree

__all__ = ["TeamInputs", "check_counts", "check_team_inputs", "check_tier_names", "tier_ranks"]

IntArray = npt.NDArray[np.int64]


def check_counts(
    tree: InviteTree, values: Mapping[str, int], *, name: str, negative: bool = True
) -> IntArray:
    """Refuse a mapping of member id → int that is not one (``negative``: whether values
    below 0 are allowed); else each key's position in ``tree.arrays()``, in the mapping's
    order.

    >>> from tuishou.tree import example_tree
    >>> check_counts(example_tree(), {"A": -5}, name="volumes").tolist()
    [0]
    >>> check_counts(example_tree(), {"A": 1.5, "B": 2.0}, name="volumes")
    Traceback (most recent call last):
    ...
    tuishou.errors.FloatRefusedError: volumes of 2 member(s) are floats: 'A': 1.5, 'B': 2.0; ...
    >>> check_counts(example_tree(), {"Q": 1}, name="misses", negative=False)
    Traceback (most recent call last):
    ...
    tuishou.errors.UnknownMemberError: misses names 1 member(s) not in the tree: 'Q'; ...
    """
    if not isinstance(values, Mapping):
        raise ArgumentTypeError(
            f"{name} is a {type(values).__name__}; pass a mapping of member id to int"
        )
    if not set(map(type, values.values())) <= {int}:  # the usual case: one C-speed pass
        _refuse_types(values, name)
    if not negative and values and min(values.values()) < 0:
        below = sorted((m for m, v in values.items() if v < 0), key=str)
        raise InvalidArgumentError(
            f"{name} of {len(below)} member(s) are negative: "
            f"{listing([f'{m!r}: {values[m]}' for m in below])}; pass ints >= 0"
        )
    return _positions(tree, list(values), name)


def _refuse_types(values: Mapping[str, object], name: str) -> None:
    floats = sorted((m for m, v in values.items() if type(v) is float), key=str)
    if floats:
        raise FloatRefusedError(
            f"{name} of {len(floats)} member(s) are floats: "
            f"{listing([f'{m!r}: {values[m]!r}' for m in floats])}; "
            "pass int numbers (fen, e.g. 1999 for ¥19.99, or counts)"
        )
    others = sorted((m for m, v in values.items() if type(v) is not int), key=str)
    raise ArgumentTypeError(
        f"{name} of {len(others)} member(s) are not ints: "
        f"{listing([f'{m!r}: {type(values[m]).__name__}' for m in others])}; pass int numbers"
    )


def _positions(tree: InviteTree, keys: list[str], name: str) -> IntArray:
    """Each id's position in ``tree.arrays()``, once every id is known to be there."""
    index = tree.arrays().index
    positions = np.fromiter(map(index.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))
    if (positions >= 0).all():
        return positions
    unknown = sorted((keys[i] for i in np.flatnonzero(positions < 0).tolist()), key=str)
    hint = (
        did_you_mean(str(unknown[0]), index)
        if len(unknown) == 1 and len(index) <= SUGGEST_LIMIT
        else f"every key of {name} must be a member id of the tree"
    )
    raise UnknownMemberError(
        f"{name} names {len(unknown)} member(s) not in the tree: "
        f"{listing([repr(m) for m in unknown])}; {hint}"
    )


def tier_ranks(tree: InviteTree, tiers: Sequence[str]) -> IntArray:
    """Each member's rank in ``tiers`` (lowest first), in ``tree.arrays()`` order.

    >>> from tuishou.tree import example_tree
    >>> tier_ranks(example_tree(), ["member", "pusher", "mentor"]).tolist()
    [2, 1, 0, 0]
    >>> tier_ranks(example_tree(), ["member", "pusher"])
    Traceback (most recent call last):
    ...
    tuishou.errors.UnknownTierError: 1 member(s) hold a tier not in tiers ['member', 'pusher']: ...
    """
    arrays = tree.arrays()
    rank = {name: r for r, name in enumerate(tiers)}
    by_code = np.array([rank.get(name, -1) for name in arrays.tier_names], dtype=np.int64)
    ranks: IntArray = by_code[arrays.tier] if len(arrays.ids) else np.zeros(0, dtype=np.int64)
    if (ranks < 0).any():
        unknown = sorted(
            f"member_id={member!r} has tier={tree.tier(member)!r} "
            f"({did_you_mean(tree.tier(member), tiers)})"
            for member in np.asarray(arrays.ids, dtype=object)[ranks < 0].tolist()
        )
        raise UnknownTierError(
            f"{len(unknown)} member(s) hold a tier not in tiers {list(tiers)}: "
            f"{listing(unknown, '; ')}; pass the policy's tiers (policy.tiers), lowest first"
        )
    return ranks


def check_tier_names(named: Iterable[tuple[str, str]], tiers: Sequence[str]) -> None:
    """Refuse (one ``UnknownTierError``) the (where, tier) pairs whose tier is not listed.

    >>> check_tier_names([("min_tier", "mentr")], ["member", "mentor"])
    Traceback (most recent call last):
    ...
    tuishou.errors.UnknownTierError: min_tier: tier 'mentr' is not in tiers ['member', ...
    """
    bad = [
        f"{where}: tier {tier!r} is not in tiers {list(tiers)} ({did_you_mean(tier, tiers)})"
        for where, tier in named
        if tier not in tiers
    ]
    if bad:
        raise UnknownTierError("; ".join(bad))


class TeamInputs(NamedTuple):
    """Checked inputs of ``team_bonus``: ``tiers`` as a tuple (lowest first), each member's
    rank in them, and the positions of the ``volumes`` keys in ``tree.arrays()``."""

    tiers: tuple[str, ...]
    ranks: IntArray
    positions: IntArray


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
    names = tuple(tiers)
    positions = check_counts(tree, volumes, name="volumes")
    check_tier_names(
        ((f"brackets.{i}.min_tier", b.min_tier) for i, b in enumerate(plan.brackets) if b.min_tier),
        names,
    )
    return TeamInputs(names, tier_ranks(tree, names), positions)
