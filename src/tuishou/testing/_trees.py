"""Invite trees for property tests, built from parent indices so that they shrink to tiny trees.

Member ``i``'s inviter is drawn from: none (a root), any of members ``0..i-1``, or member
``i-1`` (so that long chains, deeper than ``max_generation``, are common). Every draw is a
valid tree and nothing is ever filtered out. With ``max_chain``, a tree sometimes starts with
one long chain (``m0`` invites ``m1``, which invites ``m2``, ...), to reach a deep
``max_generation`` that a tree drawn member by member almost never reaches. When a test
fails, hypothesis shrinks the tree to the fewest members, then towards roots, the lowest tier
and active members: the smallest tree that still fails.

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
    check_count,
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
    max_chain: int = 0,
) -> st.SearchStrategy[InviteTree]:
    """Invite trees of ``min_size`` to ``max_size`` members ``m0``, ``m1``, ...

    ``tiers`` are the tier names members are drawn from, lowest first (pass your policy's
    ``policy.tiers``); the tree checks them. About ``suspended_ratio`` of the members are
    suspended. With ``forest`` (the default) there may be several roots, as on a real
    platform; without, ``m0`` is the only root. Change ``id_prefix`` to draw a second tree
    (or a roster) whose ids cannot clash with the first.

    With ``max_chain`` above 0, the tree starts with a chain of 0 to ``max_chain`` members
    (``m0`` ← ``m1`` ← ...; long or empty a third of the time each), each with a tier and a
    status of its own, and the ``min_size`` to ``max_size`` other members join after it as
    usual (so the tree has up to ``max_chain + max_size`` members). Use it with a policy
    whose ``max_generation`` is as deep (see :func:`policies`); shrinking shortens the chain.

    The smallest tree in which ``m2`` has two uplines, as hypothesis shrinks to it:

    >>> from hypothesis import find
    >>> tree = find(invite_trees(), lambda t: "m2" in t and len(t.upline("m2")) == 2)
    >>> len(tree), tree.upline("m2"), tree.tier("m2"), tree.status("m2")
    (3, ['m1', 'm0'], 'member', 'active')

    Trees with a chain of up to 300 members above a few others:

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(invite_trees(max_size=3, max_chain=300))
    ... def test_chains_are_at_most_300_deep(tree):
    ...     assert max(len(tree.upline(member)) for member in tree) < 300 + 3
    >>> test_chains_are_at_most_300_deep()
    """
    low, high = check_sizes(min_size, max_size)
    names = check_names("tiers", tiers)
    ratio = check_ratio("suspended_ratio", suspended_ratio)
    check_flag("forest", forest)
    prefix = check_text("id_prefix", id_prefix)
    longest = check_count("max_chain", max_chain, least=0)
    tiers_drawn, statuses = sample((*names, _INVITERS)), _statuses(ratio)
    members = st.tuples(
        sample(_WAYS if forest else _WAYS[1:]), st.integers(0, high), tiers_drawn, statuses
    )
    drawn = st.lists(members, min_size=low, max_size=high)
    if longest:
        chains = _chains(st.tuples(tiers_drawn, statuses), longest)
        drawn = st.tuples(chains, drawn).map(_joined)
    return drawn.map(functools.partial(_tree, tiers=names, prefix=prefix))


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
_Member = tuple[str, int, str | None, str]  # way, earlier, tier, status


_RUNS = 6  # a chain is drawn as up to 6 runs of members of one tier and status


@st.composite
def _chains(
    draw: st.DrawFn, tier_and_status: st.SearchStrategy[tuple[str | None, str]], longest: int
) -> list[_Member]:
    """A chain of 0 to ``longest`` members, drawn as a few runs of one tier and status each:
    a handful of draws however long the chain, so that it shrinks fast (runs are deleted and
    shortened like the items of a list)."""
    runs = draw(st.lists(st.tuples(tier_and_status, st.integers(1, longest)), max_size=_RUNS))
    chain: list[_Member] = []
    for (tier, status), length in runs:
        chain += [("previous", 0, tier, status)] * min(length, longest - len(chain))
    return chain


def _joined(parts: tuple[list[_Member], list[_Member]]) -> list[_Member]:
    chain, others = parts
    return chain + others


def _tree(members: list[_Member], *, tiers: tuple[str, ...], prefix: str) -> InviteTree:
    records: list[dict[str, Any]] = []
    for i, (way, earlier, tier, status) in enumerate(members):
        parent = (
            None if i == 0 or way == "root" else i - 1 if way == "previous" else i - 1 - earlier % i
        )  # small draws are likelier: recent members, deep chains
        records.append(
            {
                "member_id": f"{prefix}{i}",
                "inviter_id": None if parent is None else f"{prefix}{parent}",
                "tier": tier or (tiers[0] if parent is None else records[parent]["tier"]),
                "status": status,
            }
        )
    return InviteTree.from_records(records, tiers=tiers)


def _statuses(ratio: float) -> st.SearchStrategy[str]:
    suspended = round(ratio * _PER)
    if suspended in (0, _PER):  # exact at the ends: 0 never suspends, 1 always does
        return st.just("active" if suspended == 0 else "suspended")
    return st.sampled_from(("active",) * (_PER - suspended) + ("suspended",) * suspended)
