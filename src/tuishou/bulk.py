"""Splitting many pools over their sellers' payout slots at once, exactly (the engine's core).

A seller's schedule lists only the slots that pay it something (a sparse, CSR-like layout):
most orders pay one or two members, so the work follows the payouts, not the
``orders × slots`` rectangle. For each item (an order, or a line when rounding per line) the
item's entries are laid out contiguously, in slot order — the payout order of domain.md §6.

Amounts are exact: ``pool4 × share`` is split into whole fen and a remainder in 1/10^8 fen
without overflow (``split``); rounding is floor, or largest remainder with ties to the
earlier slot, as in :mod:`tuishou.allocation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .money import RATE_SCALE

__all__ = ["CHUNK", "Entries", "allocate", "chunks", "floor_split", "group_sums", "round_split",
           "split"]

IntArray = npt.NDArray[np.int64]
_SCALE = RATE_SCALE * RATE_SCALE  # a pool in 1/10 000 fen times a share in 1/10 000
CHUNK = 1 << 20  # rows allocated at a time: bounds the temporary arrays
_DIRECT_LIMIT = (2**63 - 1) // RATE_SCALE  # pool4 × share (≤ 10^4) cannot overflow below it


@dataclass(frozen=True, eq=False)
class Entries:
    """Per schedule row, its paying slots: ``ptr[r]:ptr[r + 1]`` index slot/member/share."""

    ptr: IntArray
    slot: npt.NDArray[np.int8]
    member: npt.NDArray[np.int32]
    share: IntArray
    row_total: IntArray  # Σ share per row

    @classmethod
    def from_dense(cls, member: npt.NDArray[np.int32], share: IntArray) -> Entries:
        """From dense (rows × slots) member and share matrices; zero shares are dropped."""
        rows, slots = np.nonzero(share > 0)  # row-major: each row's slots in order
        count = np.bincount(rows, minlength=share.shape[0])
        ptr = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
        return cls(ptr, slots.astype(np.int8), member[rows, slots], share[rows, slots],
                   share.sum(axis=1))

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


def allocate(pool4: IntArray, rows: IntArray, entries: Entries,
             mode: str) -> tuple[IntArray, IntArray, IntArray]:
    """(item, entry, amount in fen) for items with pools ``pool4`` (1/10 000 fen)."""
    item, entry = entries.expand(rows)
    share = entries.share[entry]
    if mode == "floor" or not len(item):
        return item, entry, floor_split(pool4[item], share)
    whole, rest = split(pool4[item], share)
    total = round_split(*split(pool4, entries.row_total[rows]), mode)
    starts = np.flatnonzero(np.concatenate([[True], item[1:] != item[:-1]]))
    missing = total[item[starts]] - np.add.reduceat(whole, starts)
    # Rank each entry within its item: larger remainder first, ties to the earlier slot.
    # rest < 10^8 < 2^27 and a slot < 2^7 make a 34-bit local key; the item sits above it.
    key = (item << 34) | ((_SCALE - 1 - rest) << 7) | entries.slot[entry].astype(np.int64)
    by_key = np.argsort(key, kind="stable")
    first = np.repeat(starts, np.diff(np.append(starts, len(item))))
    rank = np.empty(len(item), dtype=np.int64)
    rank[by_key] = np.arange(len(item)) - first
    need = np.repeat(missing, np.diff(np.append(starts, len(item))))
    return item, entry, whole + (rank < need)


def split(pool4: IntArray, share: IntArray) -> tuple[IntArray, IntArray]:
    """``pool4 × share`` (1/10^8 fen) as (whole fen, remainder in 1/10^8 fen), exactly.

    The product fits int64 while pool4 ≤ 9.2·10^14 (an order of 920 million yuan); above
    that, pool4 = q·10^4 + r and pool4·share = (q·share)·10^4 + r·share keeps every step in
    range for orders up to 9·10^14 fen.

    >>> [a.tolist() for a in split(np.array([89948000, 10**18]), np.array([5000, 10**4]))]
    [[4497, 100000000000000], [40000000, 0]]
    """
    if not len(pool4) or int(pool4.max()) <= _DIRECT_LIMIT:
        product = pool4 * share
        whole = product // _SCALE  # one division and a multiply: faster than np.divmod
        return whole, product - whole * _SCALE
    q, r = np.divmod(pool4, RATE_SCALE)
    a_high, a_low = np.divmod(q * share, RATE_SCALE)
    carry, rest = np.divmod(a_low * RATE_SCALE + r * share, _SCALE)  # the sum is < 2·10^8
    return a_high + carry, rest


def floor_split(pool4: IntArray, share: IntArray, *, reuse_share: bool = False) -> IntArray:
    """The whole fen of ``pool4 × share / 10^8``: ``split``'s first half, in one division.
    With ``reuse_share``, the result may be computed in ``share``'s own buffer.

    >>> floor_split(np.array([89948000]), np.array([5000])).tolist()
    [4497]
    """
    if not len(pool4) or int(pool4.max()) <= _DIRECT_LIMIT:
        if reuse_share:  # no temporaries: each one costs first-touch page faults
            share *= pool4
            share //= _SCALE
            return share
        floors: IntArray = (pool4 * share) // _SCALE
        return floors
    return split(pool4, share)[0]


def round_split(whole: IntArray, rest: IntArray, mode: str) -> IntArray:
    """Round (whole + rest/10^8) fen by the policy's mode: half to even, or down.

    >>> round_split(np.array([2, 3]), np.array([50_000_000, 50_000_000]), "largest_remainder")
    array([2, 4])
    """
    if mode == "floor":
        return whole
    half = _SCALE // 2
    up = (rest > half) | ((rest == half) & (whole % 2 == 1))
    rounded: IntArray = whole + up
    return rounded


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
