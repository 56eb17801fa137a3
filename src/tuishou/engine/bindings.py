"""Customer bindings in the batch engine: which member each order's buyer is bound to.

The semantics are :mod:`tuishou.bindings`' (docs/domain.md §6, §16); here they become a
columnar lookup, so that applying them to millions of orders costs about what finding the
sellers does (no Python loop over orders or lines):

- ``BindingColumns``: every binding as four int64 columns sorted by (customer, since): the
  customer's code, ``since`` and ``until`` in UTC microseconds (``until`` of a permanent
  binding is int64's maximum) and the bound member's code, with the customer and member
  ids. Built once per ``Bindings`` object (``binding_columns`` remembers the last few).
- ``bound_members``: for each order, the member its buyer is bound to at ``paid_at``. A
  customer with one binding has only that row to check; for the others, one
  ``searchsorted`` on a combined key: ``customer code × (U + 1) + rank``, where ``rank`` is
  the number of distinct ``since`` values at or before the time (itself a ``searchsorted``
  on those U values). The key orders bindings as (customer, since) does and never
  overflows: an int key of the raw microseconds times the customer would, for a million
  customers over a year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.bindings import Bindings
from tuishou.engine.paid_at import NO_TIME, micros
from tuishou.errors import ArgumentTypeError, InvalidOrderError, UnknownMemberError, did_you_mean
from tuishou.members.arrays import TreeArrays

__all__ = ["BindingColumns", "binding_columns", "bound_members"]

IntArray = npt.NDArray[np.int64]
NO_END = np.iinfo(np.int64).max  # the until of a permanent binding


@dataclass(frozen=True)
class BindingColumns:
    """Bindings as columns sorted by (customer code, since); see the module docs.

    ``key`` is each binding's combined key, ``starts`` the distinct ``since`` values sorted.
    """

    customers: npt.NDArray[Any]  # object array of customer ids, by code
    members: npt.NDArray[Any]  # object array of member ids, by code
    customer: IntArray
    since: IntArray
    until: IntArray
    member: IntArray
    starts: IntArray
    key: IntArray
    first: IntArray  # per customer code: the row of its first binding
    count: IntArray  # per customer code: how many bindings it has
    _codes: list[tuple[Any, IntArray]] = field(default_factory=list, repr=False, compare=False)
    _members: list[tuple[Any, IntArray]] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def build(cls, bindings: Bindings) -> BindingColumns:
        """The columns of ``bindings`` (already sorted per customer by ``since``).

        >>> from datetime import UTC, datetime
        >>> found = BindingColumns.build(Bindings.from_records([
        ...     {"customer_id": "c", "member_id": "B", "since": datetime(1970, 1, 1, tzinfo=UTC)}]))
        >>> found.customer.tolist(), found.since.tolist(), found.until.tolist() == [NO_END]
        ([0], [0], True)
        """
        customers = list(bindings.customers)
        member_code: dict[str, int] = {}
        rows: list[tuple[int, int, int, int]] = []
        for code, name in enumerate(customers):
            for b in bindings.for_customer(name):
                end = NO_END if b.until is None else micros(b.until)
                rows.append(
                    (
                        code,
                        micros(b.since),
                        end,
                        member_code.setdefault(b.member_id, len(member_code)),
                    )
                )
        table = np.array(rows, dtype=np.int64).reshape(-1, 4)
        customer, since, until, member = (np.ascontiguousarray(table[:, i]) for i in range(4))
        starts = np.unique(since)
        key = customer * (len(starts) + 1) + np.searchsorted(starts, since, side="right")
        count = np.bincount(customer, minlength=len(customers)).astype(np.int64)
        first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        return cls(
            np.array(customers, dtype=object),
            np.array(list(member_code), dtype=object),
            customer,
            since,
            until,
            member,
            starts,
            key,
            first[: len(customers)],
            count,
        )

    def customer_codes(self, values: Any) -> IntArray:
        """The customer code of each id in ``values``, -1 for ids without bindings; the last
        few answers are kept by the identity of ``values`` (a pandas Index of categories is
        immutable), as ``TreeArrays.lookup`` keeps its own."""
        for seen, known in self._codes:
            if seen is values:
                return known
        index = self._customer_index
        if isinstance(index, dict):  # pragma: no cover - exercised where pandas is absent
            return np.array([index.get(v, -1) for v in values], dtype=np.int64)
        asked = values if isinstance(values, index.__class__) else list(values)
        found: IntArray = index.get_indexer(index.__class__(asked, dtype=object)).astype(np.int64)
        if asked is values:
            self._codes[:] = [(values, found), *self._codes[:3]]
        return found

    def member_index(self, arrays: TreeArrays) -> IntArray:
        """The tree index of each bound member (by member code), -1 for one not in the tree;
        kept for the last few trees' arrays (by identity: ``TreeArrays`` never change)."""
        for seen, known in self._members:
            if seen is arrays:
                return known
        found = arrays.lookup(list(self.members))
        self._members[:] = [(arrays, found), *self._members[:3]]
        return found

    @cached_property
    def _customer_index(self) -> Any:
        """A pandas Index of the customers (a hash join), else a dict."""
        try:
            import pandas as pd  # the columnar extra: a hash join instead of a Python loop
        except ImportError:  # pragma: no cover - exercised where pandas is absent
            return {c: i for i, c in enumerate(self.customers)}
        return pd.Index(self.customers, dtype=object)


_BUILT: list[tuple[Bindings, BindingColumns]] = []


def binding_columns(bindings: Bindings) -> BindingColumns:
    """``BindingColumns.build(bindings)``, remembered for the last few ``Bindings`` objects
    (a sweep over policies, or the partitions of one Dask run, build them once)."""
    if not isinstance(bindings, Bindings):
        raise ArgumentTypeError(
            f"bindings is a {type(bindings).__name__}, expected Bindings; build one with "
            "Bindings.from_records(records) or tuishou.io.load_bindings(path)"
        )
    for seen, built in _BUILT:
        if seen is bindings:
            return built
    built = BindingColumns.build(bindings)
    _BUILT[:] = [(bindings, built), *_BUILT[:3]]
    return built


def bound_members(
    columns: BindingColumns,
    arrays: TreeArrays,
    buyer_values: Any,
    buyer: npt.NDArray[Any],
    paid_at: IntArray | None,
    asked: npt.NDArray[np.bool_],
    *,
    order_ids: Any,
) -> IntArray:
    """For each order, the tree index of the member its buyer is bound to at ``paid_at``;
    the tree size N where there is none (or ``asked`` is False).

    ``buyer`` holds each order's code into ``buyer_values`` (-1: no buyer), ``paid_at`` its
    time in UTC microseconds (``NO_TIME``: none; None: no column). Refused: an asked order
    of a bound buyer without ``paid_at`` (``InvalidOrderError``), a bound member who is not
    in the tree (``UnknownMemberError``), each naming the orders.
    """
    size = arrays.size
    found = np.full(len(buyer), size, dtype=np.int64)
    if not len(columns.key):
        return found
    customer_of_value = columns.customer_codes(buyer_values)
    customer = np.append(customer_of_value, -1)[buyer]  # buyer code -1 takes the -1
    asked = asked & (customer >= 0)
    rows = np.flatnonzero(asked)
    if not len(rows):
        return found
    when = np.full(len(rows), NO_TIME, dtype=np.int64) if paid_at is None else paid_at[rows]
    _refuse_no_time(when == NO_TIME, rows, order_ids)
    customer = customer[rows]
    at = _latest_start(columns, customer, when)
    holds = (columns.customer[at] == customer) & (columns.since[at] <= when)
    holds &= when < columns.until[at]
    member = columns.member_index(arrays)[columns.member[at]]
    _refuse_strangers(holds & (member < 0), rows, columns, at, order_ids, arrays)
    found[rows[holds]] = member[holds]
    return found


def _latest_start(columns: BindingColumns, customer: IntArray, when: IntArray) -> IntArray:
    """For each (customer, time), the row of the customer's last binding starting at or
    before the time (or a row the caller's checks reject): a customer with one binding has
    only that one to check; the others are found by one ``searchsorted`` on the combined key
    (the module docs)."""
    at = columns.first[customer]
    several = np.flatnonzero(columns.count[customer] > 1)
    if len(several):
        rank = np.searchsorted(columns.starts, when[several], side="right")
        key = customer[several] * (len(columns.starts) + 1) + rank
        at[several] = np.maximum(np.searchsorted(columns.key, key, side="right") - 1, 0)
    return at


def _refuse_no_time(missing: npt.NDArray[np.bool_], rows: IntArray, order_ids: Any) -> None:
    if missing.any():
        named = [str(order_ids[i]) for i in rows[missing][:5]]
        raise InvalidOrderError(
            f"{int(missing.sum())} order(s) without paid_at whose buyer has bindings, e.g. "
            f"{named}; the binding in force when an order was paid decides its seller: give "
            "paid_at (an aware time) for every order"
        )


def _refuse_strangers(
    bad: npt.NDArray[np.bool_],
    rows: IntArray,
    columns: BindingColumns,
    at: IntArray,
    order_ids: Any,
    arrays: TreeArrays,
) -> None:
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    member = str(columns.members[columns.member[at[first]]])
    hint = did_you_mean(member, arrays.index) if arrays.size <= 50_000 else "check the id"
    named = [str(order_ids[i]) for i in rows[bad][:5]]
    raise UnknownMemberError(
        f"{int(bad.sum())} order(s) credit a bound member who is not in the tree, e.g. "
        f"orders {named} to member_id={member!r}; {hint}"
    )
