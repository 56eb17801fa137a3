"""Rounding a settlement to whole fen: the pool and the payouts of an order (or of each of
its lines), by the policy's ``rounding`` and ``rounding_scope`` (docs/domain.md §10; the
closed sets are described in :mod:`tuishou.rounding`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from tuishou.money import RATE_SCALE

__all__ = [
    "MAX_ITEMS",
    "POOL_SCALE",
    "SHARE_SCALE",
    "Rounded",
    "Rounding",
    "RoundingScope",
    "allocate",
    "allocate_items",
    "each_alone",
    "floor_split",
    "half_up",
    "round_half_even",
    "round_order",
    "round_pools",
    "round_split",
    "round_total",
    "scope_items",
    "scope_pools",
    "split",
    "trim_half_up",
]

Rounding = Literal[
    "largest_remainder",  # total rounded half-to-even, leftover fen to the largest remainders
    "floor",  # every payout and the pool rounded down (yudao, CRMEB)
    "half_up",  # every payout and the pool rounded half up, trimmed to the pool (dub)
]
RoundingScope = Literal[
    "order",  # round once per order (default)
    "line",  # round each line, then sum a member's amounts (yudao)
]

IntArray = npt.NDArray[np.int64]
POOL_SCALE: int = RATE_SCALE  # an exact pool: fen times a rate in basis points
SHARE_SCALE: int = RATE_SCALE * RATE_SCALE  # an exact payout: a pool times a share in basis points
_REST_BITS = (SHARE_SCALE - 1).bit_length()  # 27: a remainder in 1/10^8 fen
MAX_ITEMS = 1 << (63 - _REST_BITS)
"""The most items one ``allocate_items`` call takes: its 63-bit sort key holds the item
above the remainder (the engine allocates in chunks of fewer rows)."""


# ------------------------------------------------------------ totals: half-to-even or down


def round_half_even(numerator: int, scale: int) -> int:
    """``numerator / scale`` rounded to the nearest int, ties to even.

    >>> round_half_even(25, 10), round_half_even(35, 10), round_half_even(-25, 10)
    (2, 4, -2)
    """
    quotient, remainder = divmod(numerator, scale)
    if 2 * remainder > scale or (2 * remainder == scale and quotient % 2 == 1):
        quotient += 1
    return quotient


def half_up(numerator: int, scale: int) -> int:
    """``numerator / scale`` (>= 0) rounded to the nearest int, ties up (dub's rounding).

    >>> half_up(145, 10), half_up(49, 100), half_up(5, 10), half_up(25, 10)
    (15, 0, 1, 3)
    """
    return (2 * numerator + scale) // (2 * scale)


def round_total(exact: int, scale: int, rounding: Rounding) -> int:
    """Round an exact total (a pool, or what is paid) the way ``rounding`` says.

    >>> round_total(89948, 10, "largest_remainder"), round_total(89948, 10, "floor")
    (8995, 8994)
    >>> round_total(25, 10, "largest_remainder"), round_total(25, 10, "half_up")
    (2, 3)
    """
    if rounding == "half_up":
        return half_up(exact, scale)
    return round_half_even(exact, scale) if rounding == "largest_remainder" else exact // scale


def round_split(whole: IntArray, rest: IntArray, rounding: Rounding) -> IntArray:
    """Vectorised ``round_total`` of ``whole + rest / SHARE_SCALE`` fen (``split``'s halves).

    >>> round_split(np.array([2, 3]), np.array([50_000_000, 50_000_000]), "largest_remainder")
    array([2, 4])
    """
    if rounding == "floor":
        return whole
    half = SHARE_SCALE // 2
    if rounding == "half_up":
        return whole + (rest >= half)
    up = (rest > half) | ((rest == half) & (whole % 2 == 1))
    rounded: IntArray = whole + up
    return rounded


def round_pools(pool4: IntArray, rounding: Rounding) -> IntArray:
    """Vectorised ``round_total`` of exact pools (1/10 000 fen) to fen.

    >>> round_pools(np.array([89948000, 25000, 35000]), "largest_remainder").tolist()
    [8995, 2, 4]
    """
    whole: IntArray = pool4 // POOL_SCALE  # one division: numpy's divmod is slower on int64
    if rounding == "floor":
        return whole
    return round_split(whole, (pool4 - whole * POOL_SCALE) * POOL_SCALE, rounding)


def split(pool4: IntArray, share: IntArray) -> tuple[IntArray, IntArray]:
    """``pool4 × share`` (1/10^8 fen) as (whole fen, remainder in 1/10^8 fen), exactly.

    The product is at most 10^18 < 2^63 for an order within ``MAX_ORDER_FEN`` at rate 1.

    >>> [a.tolist() for a in split(np.array([89948000, 10**14]), np.array([5000, 10**4]))]
    [[4497, 10000000000], [40000000, 0]]
    """
    product = pool4 * share
    whole = product // SHARE_SCALE  # one division and a multiply: faster than np.divmod
    return whole, product - whole * SHARE_SCALE


# ------------------------------------------------------------ allocation: shares to fen


def allocate(
    exact: Sequence[int], scale: int, rounding: Rounding, *, pool: int | None = None
) -> list[int]:
    """Round each exact amount (in ``1/scale`` fen) to whole fen.

    Example A of docs/domain.md §15: 4497.4, 449.74, 1349.22 and 899.48 fen.

    >>> allocate([449740, 44974, 134922, 89948], 100, "largest_remainder")
    [4497, 450, 1349, 900]
    >>> allocate([449740, 44974, 134922, 89948], 100, "floor")
    [4497, 449, 1349, 899]
    >>> allocate([449740, 44974, 134922, 89948], 100, "half_up")
    [4497, 450, 1349, 899]

    With ``half_up`` the amounts are trimmed to ``pool`` (in fen) when given: two 50%
    shares of a 1-fen pool round to 1 each, and the later gives its fen back.

    >>> allocate([50, 50], 100, "half_up"), allocate([50, 50], 100, "half_up", pool=1)
    ([1, 1], [1, 0])
    """
    if rounding == "half_up":
        rounded = [half_up(amount, scale) for amount in exact]
        return rounded if pool is None else trim_half_up(exact, scale, rounded, pool)
    floors = [amount // scale for amount in exact]
    if rounding == "floor":
        return floors
    missing = round_half_even(sum(exact), scale) - sum(floors)
    if missing:
        by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] % scale), i))
        for i in by_remainder[:missing]:
            floors[i] += 1
    return floors


def trim_half_up(exact: Sequence[int], scale: int, rounded: list[int], pool: int) -> list[int]:
    """Half-up amounts (``rounded``, of ``exact`` in ``1/scale`` fen) trimmed so that they add
    up to at most ``pool`` fen: one fen at a time from the amount whose rounding gained most
    (rounded − exact largest), ties to the later amount.

    Each amount gives back at most one fen: they exceed the pool by fewer fen than there are
    amounts rounded up (each gained at most half a fen, the pool lost less than half a fen).

    >>> trim_half_up([50, 50], 100, [1, 1], 1), trim_half_up([60, 55, 40], 100, [1, 1, 0], 1)
    ([1, 0], [1, 0, 0])
    """
    excess = sum(rounded) - pool
    if excess <= 0:
        return rounded
    gained = sorted(range(len(exact)), key=lambda i: (exact[i] - rounded[i] * scale, -i))
    trimmed = list(rounded)
    for i in gained[:excess]:
        trimmed[i] -= 1
    return trimmed


def allocate_items(
    pool4: IntArray,
    item: IntArray,
    share: IntArray,
    rounding: Rounding,
    *,
    row_total: IntArray,
    rows: IntArray,
) -> IntArray:
    """Vectorised ``allocate`` of many items (orders or lines) at once: each entry's fen.

    Item ``i`` has the exact pool ``pool4[i]`` (1/10 000 fen); its entries are the ``k``
    with ``item[k] == i``, laid out contiguously in payout order, each paying ``pool4[i] ×
    share[k]``. ``row_total[rows[i]]`` is the sum of item ``i``'s shares (read only by
    largest remainder). At most ``MAX_ITEMS`` items per call.

    Example A of docs/domain.md §15 (one item, the pool 8994.8 fen):

    >>> shares, one = np.array([5000, 500, 1500, 1000]), np.zeros(4, dtype=np.int64)
    >>> for rounding in ("largest_remainder", "floor"):
    ...     print(allocate_items(np.array([89948000]), one, shares, rounding,
    ...                          row_total=np.array([8000]), rows=np.array([0])).tolist())
    [4497, 450, 1349, 900]
    [4497, 449, 1349, 899]
    """
    if rounding == "floor" or not len(item):
        return floor_split(pool4[item], share)
    whole, rest = split(pool4[item], share)
    if rounding == "half_up":
        return _half_up_items(pool4, item, whole, rest)
    total = round_split(*split(pool4, row_total[rows]), rounding)
    starts = np.flatnonzero(np.concatenate([[True], item[1:] != item[:-1]]))
    missing = total[item[starts]] - np.add.reduceat(whole, starts)
    # Rank each entry within its item: larger remainder first, ties to the earlier entry.
    # The key is the item above the remainder (27 bits); an item's entries come in payout
    # order, so the stable sort keeps ties in that order, however many entries there are.
    key = (item << _REST_BITS) | (SHARE_SCALE - 1 - rest)
    by_key = np.argsort(key, kind="stable")
    first = np.repeat(starts, np.diff(np.append(starts, len(item))))
    rank = np.empty(len(item), dtype=np.int64)
    rank[by_key] = np.arange(len(item)) - first
    need = np.repeat(missing, np.diff(np.append(starts, len(item))))
    rounded: IntArray = whole + (rank < need)
    return rounded


def _half_up_items(pool4: IntArray, item: IntArray, whole: IntArray, rest: IntArray) -> IntArray:
    """Vectorised ``allocate(..., "half_up", pool=...)``: each entry rounded half up, then
    the items whose entries add up to more than their rounded pool trimmed (``trim_half_up``)."""
    half = SHARE_SCALE // 2
    up = rest >= half
    rounded: IntArray = whole + up
    starts = np.flatnonzero(np.concatenate([[True], item[1:] != item[:-1]]))
    excess = np.add.reduceat(rounded, starts) - round_pools(pool4[item[starts]], "half_up")
    if not (excess > 0).any():
        return rounded
    # Gain of an entry rounded up: SHARE_SCALE − rest, largest first = smallest rest first;
    # the others (never trimmed) after them. Ties go to the LATER entry: ranked on the
    # reversed entries, where a stable sort puts the later entry first.
    gain_rank = np.where(up, rest - half, SHARE_SCALE - 1 - rest)[::-1]
    counts = np.diff(np.append(starts, len(item)))
    group = np.repeat(np.arange(len(starts)), counts[::-1])  # reversed: ascending
    key = (group << _REST_BITS) | gain_rank
    by_key = np.argsort(key, kind="stable")
    first = np.repeat(len(item) - np.cumsum(counts)[::-1], counts[::-1])  # reversed starts
    rank = np.empty(len(item), dtype=np.int64)
    rank[by_key] = np.arange(len(item)) - first
    trim = rank[::-1] < np.repeat(excess, counts)
    trimmed: IntArray = rounded - trim
    return trimmed


def each_alone(rounding: Rounding) -> bool:
    """Whether ``rounding`` rounds each amount on its own (``floor``, by ``floor_split``),
    never looking at the others: a layout may then round amounts in any grouping and order.

    >>> each_alone("floor"), each_alone("largest_remainder")
    (True, False)
    """
    return rounding == "floor"


def floor_split(pool4: IntArray, share: IntArray, *, reuse_share: bool = False) -> IntArray:
    """Vectorised floor of each ``pool4 × share`` to fen: ``split``'s first half, in one
    division. With ``reuse_share``, the result may be computed in ``share``'s own buffer.

    >>> floor_split(np.array([89948000]), np.array([5000])).tolist()
    [4497]
    """
    if reuse_share:  # no temporaries: each one costs first-touch page faults
        share *= pool4
        share //= SHARE_SCALE
        return share
    floors: IntArray = (pool4 * share) // SHARE_SCALE
    return floors


# ------------------------------------------------------------ scope: per order or per line


class Rounded(NamedTuple):
    """One order rounded to fen: its ``pool``, what each share pays (``amounts``), and with
    scope ``line`` each line's rounded pool (``lines``; None with scope ``order``)."""

    pool: int
    amounts: list[int]
    lines: tuple[int, ...] | None


def round_order(
    line_pools: Sequence[int], shares: Sequence[int], rounding: Rounding, scope: RoundingScope
) -> Rounded:
    """Round one order: its pool and each paying share of it, once per order or per line.

    ``line_pools`` are the lines' exact pools (1/10 000 fen), ``shares`` the paying shares
    (basis points) in payout order. Vectorised: ``scope_items`` picks what is rounded as
    one item, ``allocate_items`` rounds the items' shares (the engine adds a line's amounts
    up per order), ``scope_pools`` gives the pools. Example B of docs/domain.md §15 (floor
    per line):

    >>> round_order([199990000, 49990000], [500, 200], "floor", "line")
    Rounded(pool=24998, amounts=[1248, 498], lines=(19999, 4999))
    >>> round_order([199990000, 49990000], [500, 200], "floor", "order")
    Rounded(pool=24998, amounts=[1249, 499], lines=None)

    Half up (example K): two 50% shares of a 1-fen pool pay 1 and 0 (the trim).

    >>> round_order([1_0000], [5000, 5000], "half_up", "order")
    Rounded(pool=1, amounts=[1, 0], lines=None)
    """
    if scope == "order":
        exact_pool = sum(line_pools)
        pool = round_total(exact_pool, POOL_SCALE, rounding)
        amounts = allocate([exact_pool * s for s in shares], SHARE_SCALE, rounding, pool=pool)
        return Rounded(pool, amounts, None)
    totals = [0] * len(shares)
    rounded = tuple(round_total(line_pool, POOL_SCALE, rounding) for line_pool in line_pools)
    for line_pool, line_rounded in zip(line_pools, rounded, strict=True):
        exact = [line_pool * s for s in shares]
        per_line = allocate(exact, SHARE_SCALE, rounding, pool=line_rounded)
        totals = [a + b for a, b in zip(totals, per_line, strict=True)]
    return Rounded(sum(rounded), totals, rounded)


def scope_items(
    line_pool4: IntArray, per_order: Callable[[IntArray], IntArray], scope: RoundingScope
) -> IntArray:
    """Vectorised scope: the exact pools rounded as one item each (``allocate_items``):
    each order's (``per_order`` sums a line column per order) or each line's.

    >>> per_order = lambda lines: np.array([lines.sum()])
    >>> [scope_items(np.array([5, 7]), per_order, scope) for scope in ("order", "line")]
    [array([12]), array([5, 7])]
    """
    return per_order(line_pool4) if scope == "order" else line_pool4


def scope_pools(
    items: IntArray,
    per_order: Callable[[IntArray], IntArray],
    rounding: Rounding,
    scope: RoundingScope,
) -> IntArray:
    """Vectorised scope: each order's pool in fen, from the items of ``scope_items``.

    >>> per_order = lambda lines: np.array([lines.sum()])
    >>> scope_pools(np.array([15000, 15000]), per_order, "largest_remainder", "line")
    array([4])
    """
    pools = round_pools(items, rounding)
    return pools if scope == "order" else per_order(pools)
