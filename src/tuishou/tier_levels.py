"""Tier qualification for large trees with numpy: the same answer as the reference pass.

Members are processed level by level, deepest first, so every member's team is complete
before it is judged and a promotion counts for its inviter in the same evaluation (as in
``tiers._qualify``). Each level costs a few array operations; the whole pass is linear in
the tree size and never recurses, however deep the tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from tuishou.tree import InviteTree

__all__ = ["on_probation", "qualify_levels"]

IntArray = npt.NDArray[np.int64]
Thresholds = list[tuple[str, int, int]]  # (description, measure slot, threshold)


def qualify_levels(
    tree: InviteTree,
    sales: Mapping[str, int],
    current: IntArray,
    rules: Sequence[tuple[int, str, Thresholds]],
    ranks: int,
    *,
    demote: bool,
    as_of: datetime | None,
) -> tuple[IntArray, IntArray, IntArray]:
    """(old rank, new rank, measures) per member in ``tree.arrays()`` order.

    ``current`` holds each member's ladder rank; ``rules`` lists (rank, mode, thresholds)
    highest rank first, for the tiers qualification can reach. Measures are laid out as in
    ``tiers``: active directs, team size, personal sales, team sales, then active directs
    at each rank or higher.
    """
    arrays = tree.arrays()
    size = arrays.size
    parent, active = arrays.parent, arrays.active
    own = np.zeros(size, dtype=np.int64)
    if sales:
        keys = list(sales)
        own[arrays.lookup(keys)] = np.fromiter(sales.values(), dtype=np.int64, count=len(keys))
    protected = _on_probation(tree, arrays.index, as_of) if demote else None
    team_sales = own.copy()
    team_size = np.zeros(size + 1, dtype=np.int64)
    directs = np.zeros((size + 1, ranks), dtype=np.int64)  # active directs per (new) rank
    new = current.copy()
    measures = np.zeros((size, 4 + ranks), dtype=np.int64)
    depth = arrays.depth()
    by_depth = np.argsort(-depth, kind="stable")
    bounds = np.flatnonzero(np.diff(-depth[by_depth])) + 1
    sales_up = np.append(team_sales, 0)
    for level in np.split(by_depth, bounds):
        at_or_above = np.cumsum(directs[level][:, ::-1], axis=1)[:, ::-1]
        block = np.column_stack([at_or_above[:, 0], team_size[level], own[level],
                                 sales_up[level], at_or_above])
        measures[level] = block
        qualified = _qualified(block, rules)
        old = current[level]
        lower = demote if protected is None else (demote & ~protected[level])
        new[level] = np.where((qualified > old) | lower, qualified, old)
        up = parent[level]  # the tree size for roots: a sink row, never read back
        np.add.at(sales_up, up, sales_up[level])
        mine = active[level]
        np.add.at(team_size, up, team_size[level] + mine)
        np.add.at(directs, (up[mine], new[level][mine]), 1)
    return current, new, measures


def _qualified(measures: IntArray, rules: Sequence[tuple[int, str, Thresholds]]) -> IntArray:
    """The highest rank whose requirements hold for each row (0, the lowest, if none)."""
    qualified = np.zeros(len(measures), dtype=np.int64)
    settled = np.zeros(len(measures), dtype=bool)
    for rank, mode, thresholds in rules:
        met = [measures[:, slot] >= need for _, slot, need in thresholds]
        holds = np.logical_and.reduce(met) if mode == "all" else np.logical_or.reduce(met)
        qualified = np.where(holds & ~settled, rank, qualified)
        settled |= holds
    return qualified


def on_probation(until: datetime | None, as_of: datetime | None) -> bool:
    """Whether a probation ending at ``until`` still holds at ``as_of`` (None: any set one).

    >>> on_probation(datetime(2027, 2, 1), datetime(2027, 1, 31)), on_probation(None, None)
    (True, False)
    """
    return until is not None and (as_of is None or as_of < until)


def _on_probation(tree: InviteTree, index: Mapping[str, int],
                  as_of: datetime | None) -> npt.NDArray[np.bool_]:
    protected = np.zeros(len(index), dtype=bool)
    for member, until in tree.probations().items():
        if on_probation(until, as_of):
            protected[index[member]] = True
    return protected
