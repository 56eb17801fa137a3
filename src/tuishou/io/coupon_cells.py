"""The coupon columns of an orders file (docs/domain.md §18), each bad cell named with its row.

- ``coupon``: the order's coupon in whole fen, the same on every line of the order; an empty
  cell (or null) is no coupon, as is 0. Decimals, negatives and text are bad cells.
- ``coupon_eligible``: whether the coupon applies to the line: ``true`` or ``false``
  (JSON Lines and Parquet booleans; in CSV the text ``true``/``false`` or ``1``/``0``, any
  case); an empty cell means it does.

An order whose coupon applies to no line, or is larger than the lines it applies to, is
refused at its first line, naming the order. The checked columns replace the cells read
(int64 fen, numpy bools) for ``settle_batch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.io.cells import describe_bad_integer
from tuishou.io.checks import first_rows, text_codes
from tuishou.io.files import Problems, Table
from tuishou.io.jsontext import shown

__all__ = ["COUPON_COLUMNS", "check_coupons"]

COUPON_COLUMNS = ("coupon", "coupon_eligible")
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def check_coupons(table: Table, problems: Problems) -> None:
    """Check the coupon columns of ``table`` (those it has), report every bad cell and every
    refused coupon, and leave the columns as int64 fen and numpy bools.

    >>> from pathlib import Path
    >>> import pyarrow as pa
    >>> table = Table(Path("o.csv"), 2, {"order_id": pa.array(["o1", "o1"]),
    ...     "amount": np.array([100, 50]), "coupon": np.array([0, 0]),
    ...     "coupon_eligible": ["true", "maybe"]}, {"coupon": [0, 1]}, lambda: [2, 3],
    ...     _raw={"coupon": ["", "1.5"], "coupon_eligible": ["true", "maybe"]})
    >>> problems = Problems()
    >>> check_coupons(table, problems)
    >>> for problem in problems.error().problems:
    ...     print(problem)  # doctest: +ELLIPSIS
    o.csv, line 3: coupon='1.5' is not a whole number of fen: money is integer fen (分), ...
    o.csv, line 3: coupon_eligible='maybe' is not true or false; write true or false ...
    """
    readable = True
    if "coupon" in table.columns:
        table.columns["coupon"], readable = _amounts(table, problems)
    if "coupon_eligible" in table.columns:
        table.columns["coupon_eligible"], flags_readable = _flags(table, problems)
        readable &= flags_readable
    if "coupon" in table.columns and readable:
        _per_order(table, problems)


def _amounts(table: Table, problems: Problems) -> tuple[npt.NDArray[np.int64], bool]:
    values = np.asarray(table.columns["coupon"], dtype=np.int64).copy()
    bad = [row for row in table.bad.get("coupon", []) if not _empty(table.cell("coupon", row))]
    empty = sorted(set(table.bad.get("coupon", [])) - set(bad))
    values[empty] = 0
    problems.rows(
        table,
        bad,
        lambda row: describe_bad_integer("coupon", table.cell("coupon", row), money=True),
    )
    low = np.flatnonzero(values < 0)
    problems.rows(
        table,
        low,
        lambda row: f"coupon={int(values[row])} is negative; a coupon is whole fen >= 0 (0: none)",
    )
    return values, not bad and not len(low)


def _flags(table: Table, problems: Problems) -> tuple[npt.NDArray[np.bool_], bool]:
    cells = table.columns["coupon_eligible"]
    cells = cells if isinstance(cells, list) else cells.to_pylist()
    flags = np.ones(len(cells), dtype=bool)
    bad = []
    for row, value in enumerate(cells):
        flag = _flag(value)
        if flag is None:
            bad.append(row)
        else:
            flags[row] = flag
    problems.rows(
        table,
        bad,
        lambda row: (
            f"coupon_eligible={shown(cells[row])} is not true or false; write true or false "
            "(empty: the coupon applies to the line)"
        ),
    )
    return flags, not bad


def _flag(value: Any) -> bool | None:
    """A cell as a bool (empty: True), or None when it is neither."""
    if _empty(value):
        return True
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        text = value.strip(" \t").lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    return None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip(" \t"))


def _per_order(table: Table, problems: Problems) -> None:
    """One coupon per order, applying to some line, at most what those lines cost."""
    orders = text_codes(table.columns["order_id"])
    known = orders >= 0
    if not known.any():
        return
    coupon = table.columns["coupon"]
    first = first_rows(orders, table.size)
    count = len(first)  # the order codes 0 .. max (every one some row's)
    head = np.where(known, first[np.maximum(orders, 0)], np.arange(table.size))
    differs = np.flatnonzero(coupon != coupon[head])
    problems.rows(
        table,
        differs,
        lambda row: (
            f"coupon={int(coupon[row])} differs from the order's first line "
            f"({table.where(int(head[row]))}: {int(coupon[head[row]])}); an order has one "
            "coupon: write its amount on every line of the order"
        ),
    )
    mixed = np.zeros(count, dtype=bool)  # orders without one coupon: said above, not below
    mixed[orders[differs]] = True
    eligible = table.columns.get("coupon_eligible", np.ones(table.size, dtype=bool))
    amount = np.asarray(table.columns["amount"], dtype=np.int64)
    on = known & eligible
    total = np.zeros(count, dtype=np.int64)
    np.add.at(total, orders[on], amount[on])
    lines_on = np.bincount(orders[on], minlength=count)
    given = coupon[first]  # every code is some row's: each first row is a row
    refused = np.flatnonzero(~mixed & (given > 0) & ((lines_on == 0) | (given > total)))
    ids = table.columns["order_id"]

    def describe(row: int) -> str:
        code = int(orders[row])
        where = f"order_id={shown(ids[row].as_py())}: a coupon of {int(coupon[row])} fen"
        if lines_on[code] == 0:
            return (
                f"{where} applies to no line (coupon_eligible is false on every line); flag "
                "the lines it applies to, or leave the coupon out"
            )
        return (
            f"{where} is larger than the {int(total[code])} fen of the lines it applies to; "
            "a coupon takes at most what those lines cost: check the amount and "
            "coupon_eligible"
        )

    problems.rows(table, np.sort(first[refused]), describe)
