"""Rounding exact amounts to whole fen: the one place tuishou rounds (docs/domain.md §10).

Exact amounts arrive as ints in units of ``1/scale`` fen, so nothing here is inexact.

- ``largest_remainder``: the total is rounded half-to-even; every amount gets its floor,
  and the fen still missing go one each to the largest fractional parts (ties: the
  earlier amount). The rounded amounts always add up to the rounded total.
- ``floor``: every amount is rounded down on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = ["Rounding", "allocate", "round_half_even", "round_total"]

Rounding = Literal["largest_remainder", "floor"]


def round_half_even(numerator: int, scale: int) -> int:
    """``numerator / scale`` rounded to the nearest int, ties to even.

    >>> round_half_even(25, 10), round_half_even(35, 10), round_half_even(-25, 10)
    (2, 4, -2)
    """
    quotient, remainder = divmod(numerator, scale)
    if 2 * remainder > scale or (2 * remainder == scale and quotient % 2 == 1):
        quotient += 1
    return quotient


def round_total(exact: int, scale: int, rounding: Rounding) -> int:
    """Round an exact total (a pool, or what is paid) the way ``rounding`` says.

    >>> round_total(89948, 10, "largest_remainder"), round_total(89948, 10, "floor")
    (8995, 8994)
    """
    return round_half_even(exact, scale) if rounding == "largest_remainder" else exact // scale


def allocate(exact: Sequence[int], scale: int, rounding: Rounding) -> list[int]:
    """Round each exact amount (in ``1/scale`` fen) to whole fen.

    Example A of docs/domain.md §15: 4497.4, 449.74, 1349.22 and 899.48 fen.

    >>> allocate([449740, 44974, 134922, 89948], 100, "largest_remainder")
    [4497, 450, 1349, 900]
    >>> allocate([449740, 44974, 134922, 89948], 100, "floor")
    [4497, 449, 1349, 899]
    """
    floors = [amount // scale for amount in exact]
    if rounding == "floor":
        return floors
    missing = round_half_even(sum(exact), scale) - sum(floors)
    if missing:
        by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] % scale), i))
        for i in by_remainder[:missing]:
            floors[i] += 1
    return floors
