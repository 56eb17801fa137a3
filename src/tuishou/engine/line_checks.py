"""The order-line contract's checks on int columns: empty cells, bools, floats and range.

Used by :mod:`tuishou.engine.columns` for ``amount`` and ``quantity``; ``order_amount_problems``
refuses orders whose lines sum above ``MAX_ORDER_FEN`` (the ``Order`` model's rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.errors import FloatRefusedError, InvalidOrderError
from tuishou.ids import is_missing
from tuishou.money import MAX_ORDER_FEN
from tuishou.orders import amount_problem

__all__ = [
    "empty_cells",
    "integers",
    "null_mask",
    "order_amount_problems",
    "plain",
    "rows_where",
    "values_of",
]

IntArray = npt.NDArray[np.int64]
_SHOWN_ROWS = 5
_SHOWN_VALUES = 20  # bad orders spelled out (each costs a pass over the lines)


def rows_where(mask: npt.NDArray[np.bool_]) -> str:
    """The first offending row numbers, for a message."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:_SHOWN_ROWS].tolist())
    return f"row(s) {shown}" + (
        f" and {len(rows) - _SHOWN_ROWS} more" if len(rows) > _SHOWN_ROWS else ""
    )


def empty_cells(name: str, empty: npt.NDArray[np.bool_]) -> str:
    """The problem of empty cells (``empty`` marks them) in the required column ``name``.

    >>> empty_cells("sku", np.array([False, True]))
    "column 'sku' is empty in row(s) 1; every order line needs its sku"
    """
    return f"column {name!r} is empty in {rows_where(empty)}; every order line needs its {name}"


def _is_arrow(values: Any) -> bool:
    return hasattr(values, "null_count") and hasattr(values, "is_null")


def values_of(values: Any) -> Any:
    """A column's values as numpy (pandas and Arrow columns) or as given (a list, numpy)."""
    if _is_arrow(values):
        return (
            values.to_numpy(zero_copy_only=False)
            if hasattr(values, "type") and not hasattr(values, "combine_chunks")
            else values.to_numpy()
        )
    if hasattr(values, "to_numpy"):  # pandas
        return values.to_numpy()
    return values


def null_mask(values: Any) -> npt.NDArray[np.bool_] | None:
    """Which cells are empty (None, NaN, pandas' NA, an Arrow null), or None when none is."""
    if _is_arrow(values):
        if not values.null_count:
            return None
        mask = np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    elif hasattr(values, "isna"):  # pandas (a Series or an array): NA, NaN and None alike
        found = values.isna()
        mask = np.asarray(found.to_numpy() if hasattr(found, "to_numpy") else found, dtype=bool)
    else:
        array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        if array.dtype.kind == "f":
            mask = np.isnan(array)
        elif array.dtype.kind == "O":
            items = array.tolist()
            if set(map(type, items)) <= {int}:  # the usual list: nothing is missing
                return None
            mask = np.fromiter(map(is_missing, items), dtype=bool, count=len(items))
        else:
            return None
    return mask if mask.any() else None


def integers(name: str, values: Any, minimum: int) -> IntArray:
    """An int column as int64: no empty cell, no bool or float, at least ``minimum``."""
    empty = null_mask(values)
    if empty is not None:
        hint = (
            ""
            if getattr(values, "dtype", None) != np.float64
            else (
                " (pandas turns an int column with empty cells into floats: fill them, then "
                ".astype('int64'))"
            )
        )
        raise InvalidOrderError(empty_cells(name, empty) + hint)
    array = values_of(values)
    if len(array) == 0:  # an empty frame's columns have any dtype (pandas: float64)
        return np.zeros(0, dtype=np.int64)
    if not isinstance(array, np.ndarray) or array.dtype.kind == "O":
        array = _python_ints(name, array)  # int64, or objects for ints beyond it
    elif array.dtype.kind == "b":
        raise InvalidOrderError(_bools(name, rows_where(np.ones(len(array), dtype=bool))))
    elif array.dtype.kind == "f":
        raise FloatRefusedError(
            f"column {name!r} holds floats ({array.dtype}); {name} must be int (fen for "
            "amounts): floats cannot hold money exactly"
        )
    elif array.dtype.kind not in "iu":
        raise InvalidOrderError(f"column {name!r} must hold ints, found {array.dtype}")
    problems = _range_problems(name, array, minimum)
    if problems:
        raise InvalidOrderError("; ".join(problems), problems)
    checked: IntArray = array.astype(np.int64, copy=False)
    return checked


def _python_ints(name: str, values: Any) -> npt.NDArray[Any]:
    """Python values (a list, an object array) as an int array; bools and floats refused."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    kinds = set(map(type, items))
    if kinds <= {int}:
        try:
            return np.array(items, dtype=np.int64)
        except OverflowError:  # ints beyond int64: kept exact, refused by the range check
            return np.array(items, dtype=object)
    mask = np.fromiter((type(v) is not int for v in items), dtype=bool, count=len(items))
    first = items[int(np.flatnonzero(mask)[0])]
    if isinstance(first, float):
        raise FloatRefusedError(
            f"column {name!r} holds floats, e.g. {first!r} in {rows_where(mask)}; {name} must "
            "be int (fen for amounts): floats cannot hold money exactly"
        )
    if isinstance(first, bool | np.bool_):
        raise InvalidOrderError(_bools(name, rows_where(mask)))
    raise InvalidOrderError(
        f"column {name!r} must hold ints, found {first!r} "
        f"({type(first).__name__}) in {rows_where(mask)}"
    )


def _bools(name: str, rows: str) -> str:
    return f"column {name!r} holds bools (True/False) in {rows}; {name} must be int" + (
        " fen: True is not 1 fen" if name == "amount" else ""
    )


def _range_problems(name: str, array: npt.NDArray[Any], minimum: int) -> list[str]:
    """Values below ``minimum``, and amounts above ``MAX_ORDER_FEN`` (or quantities beyond
    int64), by row; ``array`` holds ints of any width, or Python ints."""
    problems = []
    low = array < minimum
    if low.any():
        problems.append(f"column {name!r} must be >= {minimum}: {rows_where(low)}")
    limit = MAX_ORDER_FEN if name == "amount" else int(np.iinfo(np.int64).max)
    high = array > limit
    if high.any():
        value = int(array[int(np.flatnonzero(high)[0])])
        problem = amount_problem(value) if name == "amount" else f"{name}={value} is beyond int64"
        problems.append(f"column {name!r}, {rows_where(high)}: {problem}")
    return problems


def order_amount_problems(codes: npt.NDArray[Any], ids: Any, amount: IntArray) -> list[str]:
    """Orders (lines' ``codes`` into order ``ids``) whose lines sum above ``MAX_ORDER_FEN``.

    >>> order_amount_problems(np.array([0, 0, 1]), ["o1", "o2"],
    ...                       np.array([6 * 10**9, 6 * 10**9, 5]))  # doctest: +ELLIPSIS
    ["column 'amount', row(s) 0, 1: order_id='o1': amount=12000000000 fen (2 lines) is ..."]
    """
    if not len(amount) or (codes < 0).any():
        return []
    # Sums of ints below 2**53 are exact in float64; a larger sum is above the limit anyway.
    totals = np.bincount(codes, weights=amount.astype(np.float64), minlength=len(ids))
    over = np.flatnonzero(totals > MAX_ORDER_FEN)
    problems = []
    for code in over[:_SHOWN_VALUES].tolist():
        rows = np.flatnonzero(codes == code)
        problem = amount_problem(
            int(amount[rows].sum()), order_id=plain(ids[code]), lines=len(rows)
        )
        problems.append(f"column 'amount', {rows_where(codes == code)}: {problem}")
    if len(over) > _SHOWN_VALUES:
        problems.append(
            f"... and {len(over) - _SHOWN_VALUES} more order(s) above {MAX_ORDER_FEN} fen"
        )
    return problems


def plain(value: Any) -> Any:
    """A numpy scalar as a Python value, for messages."""
    return value.item() if hasattr(value, "item") else value
