"""The input checks of the mentor bonus and tier keeping (docs/domain.md §21, §22).

Each check refuses before anything is computed, naming the bad value and the way out:

- :func:`check_counts`: a ``{member: int}`` mapping (period volumes, which may be negative,
  or miss counters, which may not): the first bad value (by member id) raises,
  ``FloatRefusedError`` for a float, ``ArgumentTypeError`` for anything not an int;
  then one ``UnknownMemberError`` names every key not in the tree;
- :func:`tier_ranks`: each member's rank in the policy's tiers (lowest first), one
  ``UnknownTierError`` naming every member whose tier is not listed;
- :func:`check_tier_names`: tiers a plan names that the policy does not list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from tuishou.errors import (
    ArgumentTypeError,
    FloatRefusedError,
    InvalidArgumentError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
)
from tuishou.members.records import SUGGEST_LIMIT
from tuishou.tree import InviteTree

__all__ = ["check_counts", "check_tier_names", "listing", "tier_ranks"]

IntArray = npt.NDArray[np.int64]
_SHOWN = 10  # how many offenders a message names before "and N more"


def check_counts(
    tree: InviteTree, values: Mapping[str, int], *, name: str, negative: bool = True
) -> None:
    """Refuse a mapping of member id → int that is not one (``negative``: whether values
    below 0 are allowed; if not, ``InvalidArgumentError``).

    >>> from tuishou.tree import example_tree
    >>> check_counts(example_tree(), {"A": -5}, name="volumes")
    >>> check_counts(example_tree(), {"A": 1.5}, name="volumes")
    Traceback (most recent call last):
    ...
    tuishou.errors.FloatRefusedError: volumes['A']=1.5 is a float; pass an int (fen or a count)
    >>> check_counts(example_tree(), {"Q": 1}, name="misses", negative=False)
    Traceback (most recent call last):
    ...
    tuishou.errors.UnknownMemberError: misses names 1 member(s) not in the tree: 'Q'; ...
    """
    bad = sorted(
        (
            m
            for m, value in values.items()
            if type(value) is not int or (not negative and value < 0)
        ),
        key=str,
    )
    if bad:
        what, value = f"{name}[{bad[0]!r}]", values[bad[0]]
        if isinstance(value, float):
            raise FloatRefusedError(f"{what}={value!r} is a float; pass an int (fen or a count)")
        if type(value) is not int:
            raise ArgumentTypeError(f"{what}={value!r} is a {type(value).__name__}; pass an int")
        raise InvalidArgumentError(f"{what}={value} is negative; pass an int >= 0")
    unknown = sorted((m for m in values if m not in tree), key=str)
    if unknown:
        hint = (
            did_you_mean(unknown[0], tree)
            if len(unknown) == 1 and len(tree) <= SUGGEST_LIMIT
            else f"every key of {name} must be a member id"
        )
        raise UnknownMemberError(
            f"{name} names {len(unknown)} member(s) not in the tree: "
            f"{listing([repr(m) for m in unknown], ', ')}; {hint}"
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
            f"{listing(unknown, '; ')}; pass the policy's tiers, lowest first"
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


def listing(items: list[str], sep: str) -> str:
    """The first few items joined by ``sep``, then "and N more".

    >>> listing([str(i) for i in range(12)], ", ")
    '0, 1, 2, 3, 4, 5, 6, 7, 8, 9, and 2 more'
    """
    more = f"{sep}and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return sep.join(items[:_SHOWN]) + more
