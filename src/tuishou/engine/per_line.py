"""Rounding per line (yudao, CRMEB): round each line's shares, then add them up per order.

The rule is :mod:`tuishou.rounding`'s (scope ``line``); this module holds its two layouts.

Every line of an order pays the order's schedule entries (same seller, same chain), so a
member's amount for the order is the sum over the lines of the rounded line amounts. Two
layouts compute it, with the same result:

- **sparse**: expand every line into its entries (``Entries.expand``) and add each into its
  order's entry. The work follows the entries: best when a seller's schedule has few of
  many possible slots (a deep 级差 with peers);
- **dense**: one pass over all lines per slot, summed per order (``group_sums``). Best for
  a few slots that nearly every seller pays (two-level 分销), and only for a rounding that
  rounds each amount alone (``floor``: ``rounding.each_alone``) of lines grouped by order
  (the usual sorted export), where no scattered writes are needed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tuishou.engine.bulk import Entries, allocate, chunks, group_sums
from tuishou.rounding import Rounding, each_alone, floor_split

__all__ = ["LineBook", "dense_applies", "per_line"]

IntArray = npt.NDArray[np.int64]
Rows = tuple[IntArray, npt.NDArray[np.int32], npt.NDArray[np.int32], IntArray]
_SPARSE_COST = 3  # array passes per expanded entry in the sparse layout, per slot pass


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
    if not len(entries.slot):  # nobody is ever paid: no rows
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int32), empty.astype(np.int32), empty
    if dense_applies(book, entries, rounding):
        return _dense(book, entries, pool4)
    return _sparse(book, entries, pool4, rounding)


def dense_applies(book: LineBook, entries: Entries, rounding: Rounding) -> bool:
    """Whether the dense layout is used: a rounding of each amount alone (floor), lines
    grouped by order, and one pass per slot over the lines cheaper than expanding them into
    their entries.

    >>> entries = Entries.from_dense(np.array([[7, 8]], dtype=np.int32), np.array([[50, 20]]))
    >>> book = LineBook(np.array([0]), np.array([0, 0], dtype=np.int32), np.array([0]))
    >>> dense_applies(book, entries, "floor"), dense_applies(book, entries, "largest_remainder")
    (True, False)
    """
    if not each_alone(rounding) or book.first_row is None or not len(entries.slot):
        return False
    slots = int(entries.slot.max()) + 1
    per_order = np.diff(entries.ptr)[book.order_rows]
    lines_per_order = np.diff(np.append(book.first_row, len(book.codes)))
    expanded = int(np.dot(per_order, lines_per_order))
    return slots * len(book.codes) <= _SPARSE_COST * expanded


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
