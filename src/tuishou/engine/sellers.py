"""Each order of a batch and its seller (成交归属): the batch engine's step 1.

``OrderBook`` holds the per-order facts the engine needs (the order of first appearance, the
lines' order codes, ``paid_at`` per order) and every order's seller, found from the sharer and
buyer columns by docs/domain.md §6 (the rule ``settle`` follows one order at a time), with
the customer bindings in force at ``paid_at`` when given (:mod:`tuishou.engine.bindings`).
Members are tree indices; the tree size N stands for "no member".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.bindings import Bindings
from tuishou.engine.bindings import binding_columns, bound_members
from tuishou.engine.bulk import first_rows, group_sums
from tuishou.engine.columns import LineColumns, rows_where
from tuishou.engine.encoding import Encoded
from tuishou.engine.paid_at import per_order
from tuishou.errors import InvalidOrderError, UnknownMemberError, did_you_mean
from tuishou.members.arrays import TreeArrays
from tuishou.rules import Policy

__all__ = ["OrderBook", "member_index", "one_per_order", "sellers"]

IntArray = npt.NDArray[np.int64]


class OrderBook:
    """Per-order facts: the order of first appearance, the lines' order codes, the seller."""

    def __init__(
        self,
        lines: LineColumns,
        arrays: TreeArrays,
        policy: Policy,
        bindings: Bindings | None = None,
    ) -> None:
        count = len(lines.order.values)
        self.count = count
        self.tree_size = arrays.size  # a seller of tree_size means "no seller"
        codes = lines.order.codes
        # Lines grouped by order with codes counting up (files sorted by order id, the
        # usual case) allow linear-time reductions instead of scattered ones.
        first, self.grouped = first_rows(codes, count)
        self.first_row = first
        self.position = np.argsort(first, kind="stable")  # output order: first appearance
        # Codes already numbered by first appearance need no reordering of the output.
        self.in_input_order = bool((self.position == np.arange(count)).all())
        self.ids = lines.order.values
        buyer = one_per_order(lines.buyer.codes, lines, first, "buyer_id")
        sharer = one_per_order(lines.sharer.codes, lines, first, "sharer_id")
        # Accepted and checked with a plain Policy too; it finds the bindings in force.
        self.paid_at = (
            None if lines.paid_at is None else per_order(lines.paid_at, codes, first, self.ids)
        )
        bound = None
        if bindings is not None:
            columns = binding_columns(bindings)
            bound = partial(
                bound_members,
                columns,
                arrays,
                _texts(lines.buyer.values),  # customers are keyed by text ids
                buyer,
                self.paid_at,
                order_ids=self.ids,
            )
        self.seller = sellers(policy, arrays, lines, buyer, sharer, first, bound)

    def sum_lines(self, lines: LineColumns, values: IntArray) -> IntArray:
        """Exact int64 sums of a line column per order."""
        if self.grouped:
            return group_sums(values, self.first_row)
        sums = np.zeros(self.count, dtype=np.int64)
        np.add.at(sums, lines.order.codes, values)
        return sums


def one_per_order(
    codes: npt.NDArray[Any], lines: LineColumns, first: IntArray, name: str
) -> npt.NDArray[Any]:
    """A column that must be the same on every line of an order, per order."""
    if len(first) == lines.size:  # one line per order: nothing can differ
        return codes[first]
    per_order = codes[first]
    differs = per_order[lines.order.codes] != codes
    if differs.any():
        raise InvalidOrderError(
            f"column {name!r} differs between lines of one order in "
            f"{rows_where(differs)}; an order has one {name}"
        )
    return per_order


def member_index(values: Any, codes: npt.NDArray[Any], arrays: TreeArrays) -> IntArray:
    """Tree indices of an encoded member column; N (the tree size) for guests and missing
    values, the member arrays' one sentinel.

    ``values`` are the column's distinct ids: a list of text (a pandas hash join), an Arrow
    string array (``pyarrow.compute.index_in``, used without pandas) or an int64 array (a
    binary search in ``TreeArrays.int_keys``: member ``'10086'`` is found by 10086).

    >>> from tuishou.members.arrays import TreeArrays
    >>> arrays = TreeArrays.build({"10086": None, "B": "10086"}, dict.fromkeys(
    ...     ["10086", "B"], "m"), set())
    >>> member_index(np.array([10086, 7]), np.array([1, 0, -1]), arrays).tolist()
    [2, 0, 2]
    """
    size = arrays.size
    found = arrays.lookup(values)
    lookup = np.append(np.where(found < 0, size, found), size)
    index: IntArray = lookup[codes]  # code -1 takes the appended N
    return index


def sellers(
    policy: Policy,
    arrays: TreeArrays,
    lines: LineColumns,
    buyer_codes: npt.NDArray[Any],
    sharer_codes: npt.NDArray[Any],
    first: IntArray,
    bound: Callable[..., IntArray] | None = None,
) -> IntArray:
    """docs/domain.md §6 per order; the tree size N means "no seller". A sharer who is the buyer
    counts as no share link (a self-share cannot get around ``self_purchase = false``).
    ``bound(asked)`` gives the member each asked order's buyer is bound to (N: none)."""
    size = arrays.size
    buyer = member_index(_distinct(lines.buyer, arrays), buyer_codes, arrays)
    parent = np.append(arrays.parent, size)  # "no member" (N) has no inviter: N
    by_buyer = buyer if policy.self_purchase else parent[buyer]
    if not len(lines.sharer.values):  # no share links at all
        return _bound(policy, bound, buyer, by_buyer, None, size)
    sharer = member_index(_distinct(lines.sharer, arrays), sharer_codes, arrays)
    strangers = (sharer_codes >= 0) & (sharer == size)
    if strangers.any():
        value = lines.sharer.values[int(sharer_codes[np.flatnonzero(strangers)[0]])]
        value = int(value) if isinstance(value, np.integer) else value  # an int id: as typed
        hint = did_you_mean(str(value), arrays.index) if size <= 50_000 else "check the id"
        raise UnknownMemberError(
            f"column 'sharer_id' names non-members in {rows_where(strangers[lines.order.codes])}, "
            f"e.g. {value!r}; {hint}"
        )
    shared = (sharer < size) & (sharer != buyer)
    by_buyer = _bound(policy, bound, buyer, by_buyer, shared, size)
    return np.where(shared, sharer, by_buyer)


def _texts(values: Any) -> Any:
    """Distinct ids as text: int ids (a numpy array) as ``str(n)``, their canonical form."""
    return [str(v) for v in values.tolist()] if isinstance(values, np.ndarray) else values


def _distinct(column: Encoded, arrays: TreeArrays) -> Any:
    """What ``member_index`` looks up: the distinct values as a list, hashed against the
    tree's pandas index, whose hash table is built once and kept; the Arrow values only
    without pandas (``index_in`` hashes the tree's ids again on every call: measured 2.4x
    slower than the kept table at 1M members, the same at 100k)."""
    if column.arrow is None or arrays.hashes_lists:
        return column.values
    return column.arrow


def _bound(
    policy: Policy,
    bound: Callable[..., IntArray] | None,
    buyer: IntArray,
    by_buyer: IntArray,
    shared: npt.NDArray[np.bool_] | None,
    size: int,
) -> IntArray:
    """docs/domain.md §6, rules 2-3: without a share link that counts, a guest buyer's binding
    (a member's too with ``bind_members``, unless ``self_purchase``) credits the bound member;
    N (``size``) is "no member"."""
    if bound is None:
        return by_buyer
    if policy.bind_members and not policy.self_purchase:
        asked = np.ones(len(buyer), dtype=bool)
    else:
        asked = buyer == size  # guests (and orders without a buyer: never bound)
    if shared is not None:
        asked &= ~shared
    found = bound(asked)
    return np.where(found < size, found, by_buyer)
