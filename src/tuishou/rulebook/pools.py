"""The pool-rate lookup (docs/domain.md §7), once: scalar and vectorised side by side.

A line's pool rate is ``sku_rates[sku]`` when its SKU has one, else ``group_rates[group]``.
A SKU's rate may be given as quantity brackets (:mod:`tuishou.rulebook.brackets`): the bracket
of the quantity bought on the line applies (``line_rate``, ``bracket_rates``).
A line whose group has no rate cannot be settled: callers refuse it with their own message
(they know the order or the rows) before using the rate.

**The sentinel of a rate array is ``NO_RATE = -1``** (rates are never negative): a line
without a rate, or, in a table by SKU code, a SKU without its own rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from tuishou.money import rate_units
from tuishou.rulebook.base import IntArray
from tuishou.rulebook.brackets import RateBracket, bracket_of, brackets_of, lines_of

__all__ = [
    "NO_RATE",
    "RateFrom",
    "SkuBrackets",
    "bracket_rates",
    "line_rate",
    "pool_rate",
    "pool_rates",
    "sku_brackets",
]

NO_RATE = -1
RateFrom = Literal["sku", "group", "fixed"]  # "fixed": a fixed line, no pool share (§17)
SkuBrackets = tuple[tuple[int, ...], tuple[int, ...]]
"""A SKU's rate brackets in integer form: (the ``from`` of each, its rate in 1/10 000)."""
_R = TypeVar("_R")
Values = Sequence[Any] | npt.NDArray[Any]  # the distinct values of an encoded column
Codes = npt.NDArray[np.integer[Any]]  # each row's code into them (-1: none)


def pool_rate(
    sku_rates: Mapping[str, _R], group_rates: Mapping[str, _R], sku: str, group: str
) -> tuple[_R, RateFrom] | None:
    """A line's pool rate and where it comes from, or None when neither has a rate.

    >>> pool_rate({"gift": 5000}, {"eco": 2000}, "gift", "eco")
    (5000, 'sku')
    >>> pool_rate({"gift": 5000}, {"eco": 2000}, "kettle", "eco"), pool_rate({}, {}, "a", "b")
    ((2000, 'group'), None)
    """
    rate = sku_rates.get(sku)
    if rate is not None:
        return rate, "sku"
    rate = group_rates.get(group)
    return None if rate is None else (rate, "group")


def pool_rates(
    sku_rates: Mapping[str, int],
    group_rates: Mapping[str, int],
    skus: Values,
    sku_codes: Codes,
    groups: Values,
    group_codes: Codes,
) -> IntArray:
    """``pool_rate`` in 1/10 000 for encoded lines: ``skus[sku_codes[i]]`` is line i's SKU
    (code -1: none), ``groups[group_codes[i]]`` its group; ``NO_RATE`` where neither has one.

    >>> pool_rates({"gift": 5000}, {"eco": 2000}, ["gift", "kettle"], np.array([0, 1, -1]),
    ...            ["eco", "toys"], np.array([0, 0, 1])).tolist()
    [5000, 2000, -1]
    """
    by_group = np.array([group_rates.get(g, NO_RATE) for g in groups], dtype=np.int64)
    rates: IntArray = by_group[group_codes]
    if not sku_rates:
        return rates
    by_sku = np.array([sku_rates.get(s, NO_RATE) for s in skus] + [NO_RATE], dtype=np.int64)
    overridden = (by_sku >= 0)[sku_codes]  # usually few lines: patch them in place
    rates[overridden] = by_sku[sku_codes[overridden]]
    return rates


def line_rate(
    sku_rates: Mapping[str, Decimal | tuple[RateBracket, ...]],
    group_rates: Mapping[str, Decimal],
    sku: str,
    group: str,
    bought: int,
) -> tuple[Decimal, RateFrom] | None:
    """``pool_rate`` of a line on which ``bought`` units were bought: a SKU's rate brackets
    give the rate of the bracket ``bought`` falls in.

    >>> brackets = (RateBracket(start=1, rate="0.5"), RateBracket(start=10, rate="0.4"))
    >>> [line_rate({"a": brackets}, {}, "a", "g", q)[0] for q in (9, 10)]
    [Decimal('0.5'), Decimal('0.4')]
    """
    found = pool_rate(sku_rates, group_rates, sku, group)
    if found is None:
        return None
    rate, source = found
    if isinstance(rate, tuple):  # brackets: the one ``bought`` falls in
        return rate[bracket_of([b.start for b in rate], bought)].rate, source
    return rate, source


def sku_brackets(
    sku_rates: Mapping[str, Decimal | tuple[RateBracket, ...]],
) -> Mapping[str, SkuBrackets]:
    """The SKUs whose rates are brackets, in integer form (``PolicyUnits.brackets``)."""
    return {
        sku: (tuple(b.start for b in rate), tuple(rate_units(b.rate) for b in rate))
        for sku, rate in sku_rates.items()
        if isinstance(rate, tuple)
    }


def bracket_rates(
    rates: IntArray,
    brackets: Mapping[str, SkuBrackets],
    skus: Values,
    sku_codes: Codes,
    bought: IntArray,
) -> IntArray:
    """``rates`` (from ``pool_rates``) with the bracket rate of each line whose SKU has rate
    brackets, by its quantity ``bought``: the lines grouped by bracketed SKU in one pass, then
    one ``searchsorted`` per bracketed SKU over its own lines.

    >>> bracket_rates(np.array([0, 0, 7]), {"a": ((1, 10), (5000, 4000))}, ["a", "b"],
    ...               np.array([0, 0, 1]), np.array([9, 10, 3])).tolist()
    [5000, 4000, 7]
    """
    if not brackets:
        return rates
    for (starts, table), lines in zip(
        brackets.values(), lines_of(list(brackets), skus, sku_codes), strict=True
    ):
        rates[lines] = np.array(table, dtype=np.int64)[brackets_of(starts, bought[lines])]
    return rates
