"""Order coupons in the batch engine: the two coupon columns, checked and spread vectorised.

The contract is the ``Order`` model's (:mod:`tuishou.orders`, docs/domain.md §18), stated on
columns:

- ``coupon``: the order's coupon in int fen, the same on every line of the order; an empty
  cell or 0 is no coupon. Floats and bools are refused, as for ``amount``;
- ``coupon_eligible``: per line, whether the coupon applies to it (bools; empty: it does);
- an order's coupon must apply to some line and be at most the amount of the lines it
  applies to; every offending order is named in one ``InvalidOrderError``.

``paid_amounts`` spreads every coupon over its lines at once (``rounding.spread_items``, the
rule ``settle`` uses through ``tuishou.settlement.coupons``), before the pools are computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.engine.bulk import first_rows
from tuishou.engine.line_checks import integers, null_mask, plain, rows_where, values_of
from tuishou.errors import InvalidOrderError
from tuishou.rounding import spread_items

__all__ = ["coupon_amounts", "coupon_problems", "eligibility", "paid_amounts"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_SHOWN = 20  # offending orders spelled out


def coupon_amounts(values: Any) -> IntArray:
    """The ``coupon`` column as int64 fen: empty cells are 0 (no coupon), ints >= 0.

    >>> coupon_amounts([1000, None, 0]).tolist()
    [1000, 0, 0]
    >>> coupon_amounts([10.5])
    Traceback (most recent call last):
    ...
    tuishou.errors.FloatRefusedError: column 'coupon' holds floats, e.g. 10.5 in row(s) 0; ...
    """
    if hasattr(values, "fill_null") and hasattr(values, "null_count"):  # Arrow: nulls are 0
        values = values.fill_null(0) if values.null_count else values
    empty = null_mask(values)
    if empty is not None:  # pandas' nullable ints: as objects, not floats with NaN
        given = values.astype(object) if hasattr(values, "isna") else values_of(values)
        items = np.asarray(values_of(given), dtype=object).copy()
        items[empty] = 0
        values = items
    array = values_of(values)
    if isinstance(array, np.ndarray) and array.dtype.kind == "O":  # numpy ints in objects
        array = np.array(
            [int(v) if isinstance(v, np.integer) else v for v in array.tolist()], dtype=object
        )
    return integers("coupon", array, 0)


def eligibility(values: Any) -> BoolArray:
    """The ``coupon_eligible`` column as bools: empty cells are True (the coupon applies).

    >>> eligibility([True, None, False]).tolist()
    [True, True, False]
    >>> eligibility(["yes"])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: column 'coupon_eligible' must hold true or false ...
    """
    empty = null_mask(values)
    array = values_of(values)
    if isinstance(array, np.ndarray) and array.dtype.kind == "b":
        return array.astype(bool, copy=True)
    items = list(array.tolist() if hasattr(array, "tolist") else array)
    missing = empty if empty is not None else np.zeros(len(items), dtype=bool)
    bad = np.array(
        [not (missing[i] or isinstance(v, bool | np.bool_)) for i, v in enumerate(items)],
        dtype=bool,
    )
    if bad.any():
        value = items[int(np.flatnonzero(bad)[0])]
        raise InvalidOrderError(
            f"column 'coupon_eligible' must hold true or false (empty: the coupon applies to "
            f"the line), found {value!r} in {rows_where(bad)}"
        )
    return np.array([True if missing[i] else bool(v) for i, v in enumerate(items)], dtype=bool)


def coupon_problems(
    codes: npt.NDArray[Any],
    ids: Any,
    amount: IntArray,
    coupon: IntArray | None,
    eligible: BoolArray | None,
    sku: tuple[npt.NDArray[Any], Any] | None = None,
    group: npt.NDArray[Any] | None = None,
) -> list[str]:
    """Orders (lines' ``codes`` into order ``ids``) whose coupon differs between lines,
    applies to no line, or is larger than the lines it applies to; with ``sku`` (the lines'
    codes into SKU values) and ``group`` (their group codes), orders whose flags no coupon
    can say: a flagged line whose SKU and group are both also on an unflagged line
    (``coupon_from_lines`` refuses them for ``settle`` and ``explain``: a coupon applies by
    SKU or group).

    >>> coupon_problems(np.array([0, 0, 1]), ["o1", "o2"], np.array([100, 50, 10]),
    ...                 np.array([200, 200, 5]), None)  # doctest: +ELLIPSIS
    ["column 'coupon', row(s) 0, 1: order_id='o1': a coupon of 200 fen is larger than ..."]
    """
    if coupon is None or not len(coupon) or (codes < 0).any():
        return []
    count = len(ids)
    first = first_rows(codes, count)[0]
    per_order = coupon[first]
    differs = per_order[codes] != coupon
    problems = []
    if differs.any():
        problems.append(
            f"column 'coupon' differs between lines of one order in {rows_where(differs)}; "
            "an order has one coupon: write its amount on every line of the order"
        )
    mixed = np.zeros(count, dtype=bool)  # orders without one coupon: said above, not below
    mixed[codes[differs]] = True
    on = np.ones(len(codes), dtype=bool) if eligible is None else eligible
    if sku is not None and group is not None and eligible is not None:
        problems += _split_skus(codes, ids, sku, group, on, (per_order > 0) & ~mixed)
    weight = np.where(on, amount, 0)
    # Sums of ints below 2**53 are exact in float64; an order is at most MAX_ORDER_FEN.
    total = np.rint(np.bincount(codes, weights=weight.astype(np.float64), minlength=count))
    lines_on = np.bincount(codes, weights=on.astype(np.float64), minlength=count)
    refused = np.flatnonzero(~mixed & (per_order > 0) & ((lines_on == 0) | (per_order > total)))
    for code in refused[np.argsort(first[refused], kind="stable")][:_SHOWN].tolist():
        where = f"column 'coupon', {rows_where(codes == code)}: order_id={plain(ids[code])!r}"
        given = f"a coupon of {int(per_order[code])} fen"
        if lines_on[code] == 0:
            problems.append(
                f"{where}: {given} applies to no line (coupon_eligible is false on every "
                "line); flag the lines it applies to, or leave the coupon out"
            )
        else:
            problems.append(
                f"{where}: {given} is larger than the {int(total[code])} fen of the lines it "
                "applies to; a coupon takes at most what those lines cost: check the amount "
                "and coupon_eligible"
            )
    if len(refused) > _SHOWN:
        problems.append(f"... and {len(refused) - _SHOWN} more order(s) with a refused coupon")
    return problems


def paid_amounts(
    amount: IntArray, codes: npt.NDArray[Any], coupon: IntArray | None, eligible: BoolArray | None
) -> IntArray:
    """Each line's paid amount: its amount less its share of its order's coupon (checked by
    ``coupon_problems``), spread by largest remainder, ties to the earlier line. Only the
    lines of orders with a coupon are worked on.

    Example J of docs/domain.md §15 (1000 fen over 333, 333 and 334 fen), and an order
    without a coupon:

    >>> paid_amounts(np.array([333, 333, 334, 500]), np.array([0, 0, 0, 1]),
    ...              np.array([1000, 1000, 1000, 0]), None).tolist()
    [0, 0, 0, 500]
    """
    if coupon is None or not coupon.any():
        return amount
    rows = np.flatnonzero(coupon > 0)
    item = codes[rows]
    total = np.zeros(int(codes.max()) + 1, dtype=np.int64)
    total[item] = coupon[rows]
    weight = amount[rows] if eligible is None else np.where(eligible[rows], amount[rows], 0)
    paid = amount.copy()
    paid[rows] -= spread_items(weight, item, total)
    return paid


def _split_skus(
    codes: npt.NDArray[Any],
    ids: Any,
    sku: tuple[npt.NDArray[Any], Any],
    group: npt.NDArray[Any],
    on: BoolArray,
    couponed: BoolArray,
) -> list[str]:
    """Orders with a coupon (``couponed``, by order code) with a flagged line whose SKU is
    also on an unflagged line and whose group is too: no coupon (SKUs or groups) says those
    flags; the rule of ``coupon_from_lines``, vectorised.

    >>> _split_skus(np.array([0, 0, 1, 1]), ["o1", "o2"], (np.array([0, 0, 0, 0]), ["band"]),
    ...             np.array([0, 0, 0, 0]), np.array([True, False, True, False]),
    ...             np.array([True, False]))
    ["column 'coupon_eligible', row(s) 0: order_id='o1': SKU 'band' is on a line the ..."]
    """
    sku_codes = np.asarray(sku[0], dtype=np.int64)
    whole_sku = _all_flagged(codes, sku_codes, on)
    whole_group = _all_flagged(codes, np.asarray(group, dtype=np.int64), on)
    split = on & ~whole_sku & ~whole_group & couponed[codes]
    problems = []
    orders = np.unique(codes[split])
    for code in orders[:_SHOWN].tolist():
        rows = split & (codes == code)
        name = plain(sku[1][int(sku_codes[np.flatnonzero(rows)[0]])])
        problems.append(
            f"column 'coupon_eligible', {rows_where(rows)}: order_id={plain(ids[code])!r}: "
            f"SKU {name!r} is on a line the coupon applies to and on one it does not "
            "(coupon_eligible), and so is its group; a coupon applies by SKU or group: give "
            "every line of that SKU (or of that group) the same coupon_eligible"
        )
    if len(orders) > _SHOWN:
        problems.append(f"... and {len(orders) - _SHOWN} more order(s) with a SKU split")
    return problems


def _all_flagged(codes: npt.NDArray[Any], kind: IntArray, on: BoolArray) -> BoolArray:
    """Per line: whether every line of its order with its SKU (or group: ``kind``) is
    flagged."""
    key = codes.astype(np.int64) * (int(kind.max(initial=0)) + 1) + kind
    unique, pair = np.unique(key, return_inverse=True)
    left_out = np.bincount(pair, weights=~on, minlength=len(unique)) > 0
    return np.asarray(~left_out[pair], dtype=bool)
