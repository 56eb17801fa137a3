"""Rounding in one place: half-to-even totals and largest-remainder allocation, per order or
per line, pools and fees; the vectorised forms equal the scalar ones."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuishou.rounding import (
    POOL_SCALE,
    SHARE_SCALE,
    allocate,
    allocate_items,
    floor_split,
    prorate,
    round_fee,
    round_half_even,
    round_order,
    round_pools,
    round_split,
    round_total,
    scope_items,
    scope_pools,
    split,
)


@pytest.mark.parametrize(
    ("numerator", "scale", "expected"),
    [(5, 10, 0), (15, 10, 2), (25, 10, 2), (26, 10, 3), (24, 10, 2), (0, 10, 0), (-15, 10, -2)],
)
def test_round_half_even(numerator, scale, expected):
    assert round_half_even(numerator, scale) == expected == round(Fraction(numerator, scale))


def test_ties_go_to_the_earlier_amount():
    # 0.5 + 0.5 + 0.5 fen: the total 1.5 rounds to 2, so the first two get a fen.
    assert allocate([5, 5, 5], 10, "largest_remainder") == [1, 1, 0]
    assert allocate([5, 5, 5], 10, "floor") == [0, 0, 0]
    assert round_total(15, 10, "floor") == 1


@given(st.lists(st.integers(0, 40), max_size=8), st.sampled_from([2, 4, 10]))
def test_largest_remainder_matches_its_definition(exact, scale):
    result = allocate(exact, scale, "largest_remainder")
    assert sum(result) == round(Fraction(sum(exact), scale))
    expected = [e // scale for e in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] % scale), i))
    for i in by_remainder[: sum(result) - sum(expected)]:
        expected[i] += 1
    assert result == expected
    assert all(abs(r - Fraction(e, scale)) < 1 for r, e in zip(result, exact, strict=True))


# The vectorised forms (the batch engine's) against the scalar ones (settle's), side by side.

pools = st.integers(0, 10**14)  # an exact pool in 1/10 000 fen, up to MAX_ORDER_FEN at rate 1


@given(st.lists(pools, max_size=20))
def test_pools_round_as_their_totals(exact):
    array = np.array(exact, dtype=np.int64)
    for rounding in ("largest_remainder", "floor"):
        expected = [round_total(e, POOL_SCALE, rounding) for e in exact]
        assert round_pools(array, rounding).tolist() == expected


@given(st.lists(st.tuples(pools, st.integers(0, 10**4)), max_size=20))
def test_split_amounts_round_as_their_totals(cases):
    pool4 = np.array([p for p, _ in cases], dtype=np.int64)
    share = np.array([s for _, s in cases], dtype=np.int64)
    whole, rest = split(pool4, share)
    assert floor_split(pool4, share).tolist() == whole.tolist()
    for rounding in ("largest_remainder", "floor"):
        expected = [round_total(p * s, SHARE_SCALE, rounding) for p, s in cases]
        assert round_split(whole, rest, rounding).tolist() == expected


@st.composite
def items(draw):
    """Items (orders or lines), each an exact pool and the shares it pays, in payout order."""
    found = []
    for _ in range(draw(st.integers(0, 6))):
        pool = draw(st.sampled_from([0, 10**4, 15 * 10**3, 89948000, 10**14]) | pools)
        left, shares = 10**4, []
        for _ in range(draw(st.integers(0, 5))):
            share = draw(st.sampled_from([0, 1, 500, 2500, 5000]) | st.integers(0, left))
            share = min(share, left)
            left -= share
            shares.append(share)
        found.append((pool, shares))
    return found


@given(items(), st.sampled_from(["largest_remainder", "floor"]))
def test_allocate_items_is_allocate_item_by_item(found, rounding):
    pool4 = np.array([pool for pool, _ in found], dtype=np.int64)
    item = np.array([i for i, (_, shares) in enumerate(found) for _ in shares], dtype=np.int64)
    share = np.array([s for _, shares in found for s in shares], dtype=np.int64)
    row_total = np.array([sum(shares) for _, shares in found], dtype=np.int64)
    amounts = allocate_items(
        pool4, item, share, rounding, row_total=row_total, rows=np.arange(len(found))
    )
    expected = [
        amount
        for pool, shares in found
        for amount in allocate([pool * s for s in shares], SHARE_SCALE, rounding)
    ]
    assert amounts.tolist() == expected


@given(items(), st.sampled_from(["largest_remainder", "floor"]))
def test_scopes_round_orders_or_lines(found, rounding):
    """Per line, each line is rounded as an order of its own and the results are added up;
    the vectorised scope gives the same pools."""
    line_pools = [pool for pool, _ in found]
    shares = [500, 2000, 2500]
    by_line = [round_order([pool], shares, rounding, "order") for pool in line_pools]
    rounded = round_order(line_pools, shares, rounding, "line")
    assert rounded.pool == sum(r.pool for r in by_line)
    assert rounded.lines == tuple(r.pool for r in by_line)
    assert rounded.amounts == [sum(r.amounts[i] for r in by_line) for i in range(len(shares))]
    whole = round_order(line_pools, shares, rounding, "order")
    assert whole.lines is None
    assert whole.pool == round_total(sum(line_pools), POOL_SCALE, rounding)
    array = np.array(line_pools, dtype=np.int64)

    def per_order(values):
        return values.sum(keepdims=True)

    for scope, order in (("order", whole), ("line", rounded)):
        pools_in_fen = scope_pools(scope_items(array, per_order, scope), per_order, rounding, scope)
        assert pools_in_fen.tolist() == [order.pool]


@given(st.integers(0, 10**14), st.sampled_from(["up", "half_up"]))
def test_fees_round_up_or_half_up(exact, rounding):
    fee = round_fee(exact, rounding)
    fraction = Fraction(exact, POOL_SCALE)
    if rounding == "up":
        assert fee - 1 < fraction <= fee
    else:
        assert fee - Fraction(1, 2) <= fraction < fee + Fraction(1, 2)


@given(st.integers(0, 10**10), st.integers(1, 50), st.data())
def test_prorate_rounds_down(amount, whole, data):
    part = data.draw(st.integers(0, whole))
    assert prorate(amount, part, whole) == int(Fraction(amount * part, whole))
