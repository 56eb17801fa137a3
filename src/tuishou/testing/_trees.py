"""Invite trees for property tests, built from parent indices so that they shrink to tiny trees.

Member ``i``'s inviter is drawn from: none (a root), any of members ``0..i-1``, or member
``i-1`` (so that long chains, deeper than ``max_generation``, are common). Every draw is a
valid tree and nothing is ever filtered out. When a test fails, hypothesis shrinks the tree
to the fewest members, then towards roots, the lowest tier and active members: the smallest
tree that still fails.

Hypothesis favours the first of the choices it samples from and small integers, both when it
generates and when it shrinks; the choices are ordered and weighted with that in mind.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from tuishou.testing._arguments import (
    DEFAULT_TIERS,
    check_flag,
    check_names,
    check_ratio,
    check_sizes,
    check_text,
    sample,
)
from tuishou.tree import InviteTree

__all__ = ["invite_trees"]

_PER = 100  # statuses are drawn from 100, "suspended" last: the ratio in steps of 1%


def invite_trees(
    *,
    min_size: int = 1,
    max_size: int = 50,
    tiers: Sequence[str] = DEFAULT_TIERS,
    suspended_ratio: float = 0.25,
    forest: bool = True,
    id_prefix: str = "m",
) -> st.SearchStrategy[InviteTree]:
    """Invite trees of ``min_size`` to ``max_size`` members ``m0``, ``m1``, ...

    ``tiers`` are the tier names members are drawn from, lowest first (pass your policy's
    ``policy.tiers``); the tree checks them. About ``suspended_ratio`` of the members are
    suspended. With ``forest`` (the default) there may be several roots, as on a real
    platform; without, ``m0`` is the only root. Change ``id_prefix`` to draw a second tree
    (or a roster) whose ids cannot clash with the first.

    The smallest tree in which ``m2`` has two uplines, as hypothesis shrinks to it:

    >>> from hypothesis import find
    >>> tree = find(invite_trees(), lambda t: "m2" in t and len(t.upline("m2")) == 2)
    >>> len(tree), tree.upline("m2"), tree.tier("m2"), tree.status("m2")
    (3, ['m1', 'm0'], 'member', 'active')
    """
    low, high = check_sizes(min_size, max_size)
    names = check_names("tiers", tiers)
    ratio = check_ratio("suspended_ratio", suspended_ratio)
    check_flag("forest", forest)
    prefix = check_text("id_prefix", id_prefix)
    members = st.tuples(sample(_WAYS if forest else _WAYS[1:]), st.integers(0, high),
                        sample((*names, _INVITERS)), _statuses(ratio))
    return st.lists(members, min_size=low, max_size=high).map(
        functools.partial(_tree, tiers=names, prefix=prefix))


# A member is drawn as (way, earlier, tier, status), independently of the others, so that
# hypothesis can shrink a tree by deleting members like the items of a list. Its inviter:
_WAYS = (
    "root",  # none (a fifth of the time: these come first, so shrinking moves to roots)
    "previous",  # the member just before it, so that long chains are common
    "any",  # member ``i - 1 - earlier % i``: any member before it
    "previous",
    "any",
)
_INVITERS = None  # as a tier: the inviter's tier (same-tier neighbours get the peer bonus 平级)


def _tree(members: list[tuple[str, int, str | None, str]], *, tiers: tuple[str, ...],
          prefix: str) -> InviteTree:
    records: list[dict[str, Any]] = []
    for i, (way, earlier, tier, status) in enumerate(members):
        parent = None if i == 0 or way == "root" else i - 1 if way == "previous" \
            else i - 1 - earlier % i  # small draws are likelier: recent members, deep chains
        records.append({
            "member_id": f"{prefix}{i}",
            "inviter_id": None if parent is None else f"{prefix}{parent}",
            "tier": tier or (tiers[0] if parent is None else records[parent]["tier"]),
            "status": status,
        })
    return InviteTree.from_records(records, tiers=tiers)


def _statuses(ratio: float) -> st.SearchStrategy[str]:
    suspended = round(ratio * _PER)
    if suspended in (0, _PER):  # exact at the ends: 0 never suspends, 1 always does
        return st.just("active" if suspended == 0 else "suspended")
    return st.sampled_from(("active",) * (_PER - suspended) + ("suspended",) * suspended)
