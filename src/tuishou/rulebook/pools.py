"""The pool-rate lookup (docs/domain.md §7), once: scalar and vectorised side by side.

A line's pool rate is ``sku_rates[sku]`` when its SKU has one, else ``group_rates[group]``.
A line whose group has no rate cannot be settled: callers refuse it with their own message
(they know the order or the rows) before using the rate.

**The sentinel of a rate array is ``NO_RATE = -1``** (rates are never negative): a line
without a rate, or, in a table by SKU code, a SKU without its own rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from tuishou.rulebook.base import IntArray

__all__ = ["NO_RATE", "RateFrom", "pool_rate", "pool_rates"]

NO_RATE = -1
RateFrom = Literal["sku", "group"]
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
