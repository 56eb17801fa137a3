"""Rounding per line (yudao, CRMEB): round each line's shares, then add them up per order.

The rule is :mod:`tuishou.rounding`'s (scope ``line``); this module holds its three layouts.

Every line of an order pays the order's schedule entries (same seller, same chain), so a
member's amount for the order is the sum over the lines of the rounded line amounts. Three
layouts compute it, with the same result (``layout`` picks one):

- **dense**: one pass over all lines per slot, summed per order (``group_sums``). Best for
  a few slots that nearly every seller pays (two-level 分销);
- **pairs**: one item per (order, entry, line), laid out order by order, entry by entry,
  the order's lines innermost, so each payout is the sum of one contiguous run
  (``group_sums``): the work follows the entries, with no scattered writes. Best when a
  seller's schedule has few of many possible slots (a deep 级差 with peers);
- **sparse**: expand every line into its entries (``Entries.expand``) and add each into its
  order's entry (``np.add.at``, scattered). The fallback for what the other two cannot do.

Dense and pairs need a rounding that rounds each amount alone (``floor``:
``rounding.each_alone``) and lines grouped by order (the usual sorted export).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import numpy.typing as npt

from tuishou.engine.bulk import CHUNK, Entries, allocate, chunks, group_sums
from tuishou.rounding import Rounding, each_alone, floor_split

__all__ = ["LineBook", "dense_applies", "layout", "per_line"]

IntArray = npt.NDArray[np.int64]
Rows = tuple[IntArray, npt.NDArray[np.int32], npt.NDArray[np.int32], IntArray]
_SPARSE_COST = 3  # array passes per expanded entry in the sparse layout, per slot pass
_MAX_ORDER_PAIRS = CHUNK  # (entry, line) pairs of one order the pairs layout takes at most


class LineBook:
    """What rounding per line needs about the orders: each order's schedule row, each
    line's order code, and where each order's lines start when they are grouped."""

    def __init__(
        self, order_rows: IntArray, codes: npt.NDArray[np.int32], first_row: IntArray | None
    ) -> None:
        self.order_rows, self.codes, self.first_row = order_rows, codes, first_row


def per_line(book: LineBook, entries: Entries, pool4: IntArray, rounding: Rounding) -> Rows:
    """Payout rows (order code, member, slot, amount > 0) when rounding each line.

    >>> entries = Entries.from_dense(np.array([[7, 8], [0, 0]], dtype=np.int32),
    ...                              np.array([[5000, 2000], [0, 0]]))
    >>> book = LineBook(np.array([0]), np.array([0, 0], dtype=np.int32), np.array([0]))
    >>> [a.tolist() for a in per_line(book, entries, np.array([999_0000, 1_0000]), "floor")]
    [[0, 0], [7, 8], [0, 1], [499, 199]]
    """
    if not len(entries.slot) or not len(book.order_rows):  # nobody is ever paid: no rows
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int32), empty.astype(np.int32), empty
    chosen = layout(book, entries, rounding)
    if chosen == "dense":
        return _dense(book, entries, pool4)
    if chosen == "pairs":
        return _pairs(book, entries, pool4)
    return _sparse(book, entries, pool4, rounding)


def layout(book: LineBook, entries: Entries, rounding: Rounding) -> str:
    """Which layout computes the rows. For a rounding of each amount alone of lines grouped
    by order: ``dense`` when one pass per slot over the lines is cheaper than expanding them
    into their entries, else ``pairs`` (unless one order alone has more than
    ``_MAX_ORDER_PAIRS`` (entry, line) pairs: its temporaries would be unbounded). Else
    ``sparse``.

    >>> entries = Entries.from_dense(np.array([[7, 8]], dtype=np.int32), np.array([[50, 20]]))
    >>> book = LineBook(np.array([0]), np.array([0, 0], dtype=np.int32), np.array([0]))
    >>> layout(book, entries, "floor"), layout(book, entries, "largest_remainder")
    ('dense', 'sparse')
    """
    if not each_alone(rounding) or book.first_row is None or not len(entries.slot):
        return "sparse"
    slots = int(entries.slot.max()) + 1
    per_order = np.diff(entries.ptr)[book.order_rows]
    lines_per_order = np.diff(np.append(book.first_row, len(book.codes)))
    pairs = per_order * lines_per_order
    if slots * len(book.codes) <= _SPARSE_COST * int(pairs.sum()):
        return "dense"
    return "pairs" if int(pairs.max(initial=0)) <= _MAX_ORDER_PAIRS else "sparse"


def dense_applies(book: LineBook, entries: Entries, rounding: Rounding) -> bool:
    """Whether the dense layout is used (``layout``).

    >>> entries = Entries.from_dense(np.array([[7, 8]], dtype=np.int32), np.array([[50, 20]]))
    >>> book = LineBook(np.array([0]), np.array([0, 0], dtype=np.int32), np.array([0]))
    >>> dense_applies(book, entries, "floor"), dense_applies(book, entries, "largest_remainder")
    (True, False)
    """
    return layout(book, entries, rounding) == "dense"


def _dense(book: LineBook, entries: Entries, pool4: IntArray) -> Rows:
    assert book.first_row is not None
    slots = int(entries.slot.max()) + 1
    rows = len(entries.ptr) - 1
    entry_row = np.repeat(np.arange(rows), np.diff(entries.ptr))
    line_rows = book.order_rows.astype(np.int32)[book.codes]
    totals = np.zeros((len(book.order_rows), slots), dtype=np.int64)
    members = np.zeros((rows, slots), dtype=np.int32)
    for slot in range(slots):
        has = entries.slot == slot
        share = np.zeros(rows, dtype=np.int64)
        share[entry_row[has]] = entries.share[has]
        members[entry_row[has], slot] = entries.member[has]
        amount = floor_split(pool4, share[line_rows], reuse_share=True)  # each alone
        totals[:, slot] = group_sums(amount, book.first_row)
    flat = totals.ravel()
    paying = np.flatnonzero(flat)  # row-major: each order's slots in payout order
    order = paying // slots
    slot_of = paying - order * slots
    return (
        order,
        members.ravel()[book.order_rows[order] * slots + slot_of],
        slot_of.astype(np.int32),
        flat[paying],
    )


def _sparse(book: LineBook, entries: Entries, pool4: IntArray, rounding: Rounding) -> Rows:
    order_rows, codes = book.order_rows, book.codes
    order_count = entries.ptr[order_rows + 1] - entries.ptr[order_rows]
    order_first = np.cumsum(order_count) - order_count  # each order's first entry
    totals = np.zeros(int(order_count.sum()), dtype=np.int64)
    # A line's entries are its order's entries, in the same positions: entry e of a line
    # adds to totals[order_first + e − ptr[row]], one per-line offset.
    order_offset = order_first - entries.ptr[order_rows]
    for part in chunks(len(codes)):  # bounded temporaries
        owner = codes[part]
        item, entry, amount = allocate(pool4[part], order_rows[owner], entries, rounding)
        target = order_offset[owner][item]
        target += entry
        np.add.at(totals, target, amount)
    order, entry = entries.expand(order_rows)
    paying = totals > 0
    entry = entry[paying]
    return order[paying], entries.member[entry], entries.slot[entry], totals[paying]


def _pairs(book: LineBook, entries: Entries, pool4: IntArray) -> Rows:
    """The pairs layout, in chunks of orders holding about ``CHUNK`` (entry, line) pairs
    (an order with more pairs is a chunk of its own). Measured at 10M lines of the youpin
    级差 floored per line: 2-3x faster than the sparse layout (no ``np.add.at``, every
    array pass sequential but the entries' own lookups), and about as fast as the dense
    one on a two-slot policy, which keeps ``dense``."""
    assert book.first_row is not None
    first = book.first_row
    lines_of = np.diff(np.append(first, len(book.codes)))
    start = entries.ptr[book.order_rows]  # each order's first entry, and how many it has
    count = np.diff(entries.ptr)[book.order_rows]
    pairs = np.cumsum(count * lines_of)
    cuts = np.searchsorted(pairs, np.arange(CHUNK, int(pairs[-1]), CHUNK))
    bounds = np.unique(np.concatenate([[0], cuts + 1, [len(pairs)]])).tolist()
    total = int(count.sum())  # rows at most: one per (order, entry), zeros dropped
    out = _RowBuffer(total)
    for lo, hi in pairwise(bounds):
        k = count[lo:hi]  # chunk-local (order, entry) groups, each order's entries in order
        order = np.repeat(np.arange(lo, hi), k)
        entry = np.repeat(start[lo:hi] - (np.cumsum(k) - k), k)
        entry += np.arange(len(entry))
        size = np.repeat(lines_of[lo:hi], k)  # a group's pairs: its order's lines
        group_start = np.cumsum(size) - size
        line = np.repeat(np.repeat(first[lo:hi], k) - group_start, size)
        line += np.arange(len(line))  # pair p of a group: line first + (p − group start)
        share = np.repeat(entries.share[entry], size)
        amount = floor_split(pool4[line], share, reuse_share=True)  # each alone
        out.add(order, entry, group_sums(amount, group_start), entries)
    return out.rows()


class _RowBuffer:
    """Payout rows filled chunk by chunk into arrays of the most rows there can be: no
    concatenation (a copy into fresh memory, whose first touch costs more than the copy)."""

    def __init__(self, most: int) -> None:
        self.order = np.empty(most, dtype=np.int64)
        self.member = np.empty(most, dtype=np.int32)
        self.slot = np.empty(most, dtype=np.int32)
        self.amount = np.empty(most, dtype=np.int64)
        self.size = 0

    def add(self, order: IntArray, entry: IntArray, amount: IntArray, entries: Entries) -> None:
        """The rows of the (order, entry) pairs whose amount is not zero."""
        paying = np.flatnonzero(amount)
        at = slice(self.size, self.size + len(paying))
        entry = entry[paying]
        self.order[at] = order[paying]
        self.member[at] = entries.member[entry]
        self.slot[at] = entries.slot[entry]
        self.amount[at] = amount[paying]
        self.size = at.stop

    def rows(self) -> Rows:
        """The rows filled so far (views: no copy)."""
        end = self.size
        return self.order[:end], self.member[:end], self.slot[:end], self.amount[:end]
