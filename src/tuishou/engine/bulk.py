"""Splitting many pools over their sellers' payout slots at once, exactly (the engine's core).

A seller's schedule lists only the slots that pay it something (a sparse, CSR-like layout):
most orders pay one or two members, so the work follows the payouts, not the
``orders × slots`` rectangle. For each item (an order, or a line when rounding per line) the
item's entries are laid out contiguously, in slot order — the payout order of docs/domain.md §10.

Amounts are exact: ``pool4 × share`` is split into whole fen and a remainder in 1/10^8 fen
(``split``); rounding is floor, or largest remainder with ties to the earlier slot, as in
:mod:`tuishou.rounding`. An order is at most ``MAX_ORDER_FEN`` = 10^10 fen (refused above it
where orders come in), so a pool is at most 10^14 in 1/10 000 fen and ``pool4 × share`` at
most 10^18 < 2^63: int64 holds every product, with no slower path for large amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tuishou.money import RATE_SCALE

__all__ = ["CHUNK", "Entries", "allocate", "chunks", "exact_sum", "floor_split", "group_sums",
           "round_split", "split"]

IntArray = npt.NDArray[np.int64]
_SCALE = RATE_SCALE * RATE_SCALE  # a pool in 1/10 000 fen times a share in 1/10 000
CHUNK = 1 << 20  # rows allocated at a time: bounds the temporary arrays
_REST_BITS = (_SCALE - 1).bit_length()  # 27: a remainder in 1/10^8 fen
_MAX_ITEMS = 1 << (63 - _REST_BITS)  # items per allocate() call the 63-bit sort key can hold
assert CHUNK <= _MAX_ITEMS  # callers allocate in chunks, so the key never overflows


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
        return cls(ptr, slots.astype(np.int32), member[rows, slots], share[rows, slots],
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
    """(item, entry, amount in fen) for items with pools ``pool4`` (1/10 000 fen); at most
    ``CHUNK`` items at a time (``chunks``)."""
    item, entry = entries.expand(rows)
    share = entries.share[entry]
    if mode == "floor" or not len(item):
        return item, entry, floor_split(pool4[item], share)
    whole, rest = split(pool4[item], share)
    total = round_split(*split(pool4, entries.row_total[rows]), mode)
    starts = np.flatnonzero(np.concatenate([[True], item[1:] != item[:-1]]))
    missing = total[item[starts]] - np.add.reduceat(whole, starts)
    # Rank each entry within its item: larger remainder first, ties to the earlier slot.
    # The key is the item above the remainder (27 bits); an item's entries come in slot
    # order, so the stable sort keeps ties in slot order, however many slots there are.
    key = (item << _REST_BITS) | (_SCALE - 1 - rest)
    by_key = np.argsort(key, kind="stable")
    first = np.repeat(starts, np.diff(np.append(starts, len(item))))
    rank = np.empty(len(item), dtype=np.int64)
    rank[by_key] = np.arange(len(item)) - first
    need = np.repeat(missing, np.diff(np.append(starts, len(item))))
    return item, entry, whole + (rank < need)


def split(pool4: IntArray, share: IntArray) -> tuple[IntArray, IntArray]:
    """``pool4 × share`` (1/10^8 fen) as (whole fen, remainder in 1/10^8 fen), exactly.

    The product is at most 10^18 < 2^63 for an order within ``MAX_ORDER_FEN`` at rate 1.

    >>> [a.tolist() for a in split(np.array([89948000, 10**14]), np.array([5000, 10**4]))]
    [[4497, 10000000000], [40000000, 0]]
    """
    product = pool4 * share
    whole = product // _SCALE  # one division and a multiply: faster than np.divmod
    return whole, product - whole * _SCALE


def floor_split(pool4: IntArray, share: IntArray, *, reuse_share: bool = False) -> IntArray:
    """The whole fen of ``pool4 × share / 10^8``: ``split``'s first half, in one division.
    With ``reuse_share``, the result may be computed in ``share``'s own buffer.

    >>> floor_split(np.array([89948000]), np.array([5000])).tolist()
    [4497]
    """
    if reuse_share:  # no temporaries: each one costs first-touch page faults
        share *= pool4
        share //= _SCALE
        return share
    floors: IntArray = (pool4 * share) // _SCALE
    return floors


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
    return sum(int(values[start:start + step].sum()) for start in range(0, len(values), step))
