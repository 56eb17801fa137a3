"""Laying out many pools over their sellers' payout slots at once (the engine's core layout).

A seller's schedule lists only the slots that pay it something (a sparse, CSR-like layout):
most orders pay one or two members, so the work follows the payouts, not the
``orders × slots`` rectangle. For each item (an order, or a line when rounding per line) the
item's entries are laid out contiguously, in slot order — the payout order of docs/domain.md §10.

What is rounded how is :mod:`tuishou.rounding`'s (``allocate_items``); this module only lays
the entries out, in chunks of at most ``CHUNK`` items. An order is at most ``MAX_ORDER_FEN``
= 10^10 fen (refused above it where orders come in), so a pool is at most 10^14 in 1/10 000
fen and ``pool4 × share`` at most 10^18 < 2^63: int64 holds every product, with no slower
path for large amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.rounding import MAX_ITEMS, Rounding, allocate_items

__all__ = ["CHUNK", "Entries", "allocate", "chunks", "exact_sum", "first_rows", "group_sums"]

IntArray = npt.NDArray[np.int64]
CHUNK = 1 << 20  # rows allocated at a time: bounds the temporary arrays
assert CHUNK <= MAX_ITEMS  # callers allocate in chunks, so rounding's sort key never overflows


@dataclass(frozen=True, eq=False)
class Entries:
    """Per schedule row, its paying slots: ``ptr[r]:ptr[r + 1]`` index slot/member/share."""

    ptr: IntArray
    slot: npt.NDArray[np.int32]
    member: npt.NDArray[np.int32]
    share: IntArray
    row_total: IntArray  # Σ share per row

    @classmethod
    def from_dense(cls, member: npt.NDArray[np.int32], share: IntArray) -> Entries:
        """From dense (rows × slots) member and share matrices; zero shares are dropped."""
        rows, slots = np.nonzero(share > 0)  # row-major: each row's slots in order
        count = np.bincount(rows, minlength=share.shape[0])
        ptr = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
        return cls(
            ptr, slots.astype(np.int32), member[rows, slots], share[rows, slots], share.sum(axis=1)
        )

    def expand(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        """(item, entry) for every entry of every item whose schedule row is ``rows[item]``."""
        start = self.ptr[rows]
        count = self.ptr[rows + 1] - start
        item = np.repeat(np.arange(len(rows)), count)
        # Output position k of item i holds entry start[i] + (k − first[i]), where first[i]
        # is where item i's entries begin in the output: one gather of (start − first).
        shift = start - (np.cumsum(count) - count)
        entry = shift[item]
        entry += np.arange(len(item))
        return item, entry


def allocate(
    pool4: IntArray, rows: IntArray, entries: Entries, rounding: Rounding
) -> tuple[IntArray, IntArray, IntArray]:
    """(item, entry, amount in fen) for items with pools ``pool4`` (1/10 000 fen) whose
    schedule rows are ``rows``, rounded by :func:`tuishou.rounding.allocate_items`; at most
    ``CHUNK`` items at a time (``chunks``).

    >>> entries = Entries.from_dense(np.array([[7, 8]], dtype=np.int32), np.array([[5000, 500]]))
    >>> [a.tolist() for a in allocate(np.array([89948000]), np.array([0]), entries, "floor")]
    [[0, 0], [0, 1], [4497, 449]]
    """
    item, entry = entries.expand(rows)
    amount = allocate_items(
        pool4, item, entries.share[entry], rounding, row_total=entries.row_total, rows=rows
    )
    return item, entry, amount


def group_sums(values: IntArray, starts: IntArray) -> IntArray:
    """Sums of consecutive groups of ``values``, group i starting at ``starts[i]``.

    Differences of one running sum: a sequential pass, faster than ``np.add.reduceat``'s
    step per group. A running sum past 2**63 wraps around, but each difference is one
    group's own sum, which fits in int64, so the wrapped arithmetic still gives it exactly.

    >>> group_sums(np.array([1, 2, 3]), np.array([0, 2])).tolist()
    [3, 3]
    >>> big = 2**62  # the running sum passes 2**63; the groups' sums do not
    >>> group_sums(np.array([big, big - 1, big, big - 1]), np.array([0, 2])).tolist()
    [9223372036854775807, 9223372036854775807]
    """
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    running = np.empty(len(values) + 1, dtype=np.int64)
    running[0] = 0
    np.cumsum(values, out=running[1:])
    ends = np.append(starts[1:], len(values))
    sums: IntArray = running[ends] - running[starts]
    return sums


def chunks(size: int) -> list[slice]:
    """Slices of ``range(size)`` of at most ``CHUNK`` rows, so temporaries stay bounded.

    >>> chunks(3), len(chunks(CHUNK + 1))
    ([slice(0, 3, None)], 2)
    """
    return [slice(start, min(start + CHUNK, size)) for start in range(0, size, CHUNK)]


def exact_sum(values: IntArray) -> int:
    """The exact sum of non-negative int64 values as a Python int, even past 2**63: summed
    in int64 in parts small enough not to overflow, and the parts added in Python.

    >>> exact_sum(np.array([2**62, 2**62, 2**62])) == 3 * 2**62
    True
    >>> exact_sum(np.zeros(0, dtype=np.int64))
    0
    """
    if not len(values):
        return 0
    largest = int(values.max())
    if largest * len(values) < 2**63:  # the usual case: one int64 sum
        return int(values.sum())
    step = max(1, (2**63 - 1) // max(largest, 1))
    return sum(int(values[start : start + step].sum()) for start in range(0, len(values), step))


def first_rows(codes: npt.NDArray[Any], count: int) -> tuple[IntArray, bool]:
    """Each of ``count`` orders' first line (``codes``: each line's order code, every code
    present), and whether the lines are grouped by order with codes counting up (a file
    sorted by order id, the usual case: then found in one pass, and ``group_sums`` can sum
    per order), else found by a scattered minimum.

    >>> first_rows(np.array([0, 0, 1]), 2)[0].tolist(), first_rows(np.array([1, 0, 1]), 2)
    ([0, 2], (array([1, 0]), False))
    """
    if len(codes) and codes[0] == 0 and bool((np.diff(codes) >= 0).all()):
        starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
        if len(starts) == count:
            return starts, True
    first = np.full(count, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first, False
