"""Rounding amounts that are not a settlement's: an order coupon spread over its lines
(docs/domain.md §18), a withdrawal fee (§12) and what is left of a partly refunded line
(§12); see :mod:`tuishou.rounding` for the rules in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tuishou.money import MAX_ORDER_FEN
from tuishou.rounding.settling import POOL_SCALE

__all__ = ["FeeRounding", "prorate", "round_fee", "spread", "spread_items"]

FeeRounding = Literal[
    "up",  # the fee is rounded up to the fen: n small withdrawals never pay less than one big
    "half_up",  # yudao's rounding; 37 fen at 0.6% pays 0, so splitting avoids the fee
]

IntArray = npt.NDArray[np.int64]


# ------------------------------------------------------------ coupons: spread over lines


def spread(amounts: Sequence[int], total: int) -> list[int]:
    """``total`` fen (a coupon) spread over ``amounts`` (the eligible lines, fen) in
    proportion, by largest remainder, ties to the earlier amount: the parts add up to
    ``total`` exactly, and none is above its amount when ``total <= sum(amounts)``.

    Example J of docs/domain.md §15: 1000 fen over 333, 333 and 334 fen.

    >>> spread([333, 333, 334], 1000), spread([100, 100, 100], 100), spread([5, 0], 0)
    ([333, 333, 334], [34, 33, 33], [0, 0])
    """
    whole = sum(amounts)
    if not total:
        return [0] * len(amounts)
    parts = [total * amount // whole for amount in amounts]
    missing = total - sum(parts)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(total * amounts[i] % whole), i))
    for i in by_remainder[:missing]:
        parts[i] += 1
    return parts


def spread_items(weight: IntArray, item: npt.NDArray[Any], total: IntArray) -> IntArray:
    """Vectorised ``spread``: entry ``k`` (a line) of item ``item[k]`` (an order, in any
    layout) gets its part of ``total[item[k]]`` fen by its ``weight`` (its amount; 0 for a
    line the coupon does not apply to). Every item's weights must add up to at least its
    total, each weight and total at most ``MAX_ORDER_FEN`` (< 2^34: the products are exact).

    >>> spread_items(np.array([333, 100, 333, 334, 100]), np.array([0, 1, 0, 0, 1]),
    ...              np.array([1000, 101])).tolist()
    [333, 51, 333, 334, 50]
    """
    if not len(weight):
        return np.zeros(0, dtype=np.int64)
    whole = np.bincount(item, weights=weight.astype(np.float64), minlength=len(total))
    sums = np.maximum(np.rint(whole).astype(np.int64), 1)  # at most 2^53: exact in float64
    share = total[item]
    parts, rest = _mul_divmod(share, weight, sums[item])
    given = np.bincount(item, weights=parts.astype(np.float64), minlength=len(total))
    missing = total - np.rint(given).astype(np.int64)
    # Rank each entry within its item: larger remainder first, ties to the earlier entry.
    # One stable sort of a key with the item above the remainder (< 2^34), when it fits.
    if int(item.max()) < 1 << (63 - _SPREAD_BITS):
        key = (item.astype(np.int64) << _SPREAD_BITS) | ((1 << _SPREAD_BITS) - 1 - rest)
        by = np.argsort(key, kind="stable")
    else:  # pragma: no cover - over 2^29 orders in one call
        by = np.lexsort((np.arange(len(item)), -rest, item))
    sorted_item = item[by]
    starts = np.flatnonzero(np.concatenate([[True], sorted_item[1:] != sorted_item[:-1]]))
    first = np.repeat(starts, np.diff(np.append(starts, len(item))))
    rank = np.empty(len(item), dtype=np.int64)
    rank[by] = np.arange(len(item)) - first
    result: IntArray = parts + (rank < missing[item])
    return result


_SPREAD_BITS = 34  # a remainder of the spread: below an order's amount, at most 10^10 < 2^34
assert MAX_ORDER_FEN < 1 << _SPREAD_BITS


def _mul_divmod(a: IntArray, b: IntArray, d: IntArray) -> tuple[IntArray, IntArray]:
    """``divmod(a × b, d)`` exactly in int64 for ``0 <= a, b <= d < 2^34``, whose product
    may pass 2^63: ``a`` split at 2^20 so that every partial product fits.

    >>> [x.tolist() for x in _mul_divmod(np.array([10**10]), np.array([10**10 - 1]),
    ...                                  np.array([10**10]))]
    [[9999999999], [0]]
    """
    high, low = a >> 20, a & ((1 << 20) - 1)
    q1, r1 = np.divmod(high * b, d)  # high × b < 2^48
    q2, r2 = np.divmod((r1 << 20) + low * b, d)  # each term < 2^54
    quotient: IntArray = (q1 << 20) + q2
    return quotient, r2


# ------------------------------------------------------------ the ledger: fees and refunds


def round_fee(exact: int, rounding: FeeRounding) -> int:
    """A withdrawal fee, exact in 1/10 000 fen (amount × fee rate), to whole fen: rounded
    ``up``, or ``half_up``.

    >>> round_fee(2220, "up"), round_fee(2220, "half_up"), round_fee(5000, "half_up")
    (1, 0, 1)
    """
    if rounding == "up":
        return -(-exact // POOL_SCALE)
    return (2 * exact + POOL_SCALE) // (2 * POOL_SCALE)


def prorate(amount: int, part: int, whole: int) -> int:
    """``amount × part ÷ whole`` fen, rounded down: what is left of a line when ``part`` of
    its ``whole`` quantity remains after a refund.

    >>> prorate(1000, 1, 3), prorate(1000, 3, 3)
    (333, 1000)
    """
    return amount * part // whole
