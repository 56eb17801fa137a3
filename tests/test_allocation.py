"""Rounding in one place: half-to-even totals and largest-remainder allocation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuishou.rounding import allocate, round_half_even, round_total


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
