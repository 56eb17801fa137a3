"""Quantity brackets (阶梯佣金), docs/domain.md §17: a rate or a fixed schedule chosen by the
quantity bought on a line.

A bracket list is written ``[{"from": 1, ...}, {"from": 10, ...}]``: the first ``from`` is 1,
each next one is larger, and a bracket holds from its ``from`` (inclusive) up to the next one's
(exclusive). 9 units take the first bracket above, 10 and 11 the second. The bracket is chosen
by the quantity *bought* on the line, so a refund that re-settles what remains keeps the
bracket the units were sold in.

This module holds, once, the bracket list's validation (``validate_brackets``, every problem at
once) and the lookup, scalar (``bracket_of``) and vectorised (``brackets_of``). The rate
brackets of ``sku_rates`` (``RateBracket``) are here too; the fixed schedule's are in
:mod:`tuishou.rulebook.fixed`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import numpy as np
from pydantic import Field, PlainSerializer, PlainValidator, SerializationInfo

from tuishou.errors import InvalidPolicyError
from tuishou.models import BRACKET_CONFIG
from tuishou.money import Rate, rate_value
from tuishou.rulebook.base import IntArray, PolicyPart

__all__ = [
    "BracketStart",
    "Located",
    "RateBracket",
    "RateOrBrackets",
    "bracket_of",
    "bracket_problems",
    "brackets_of",
    "dump_brackets",
    "lines_of",
    "rate_or_brackets",
    "validate_brackets",
]

_M = TypeVar("_M", bound=PolicyPart)

BracketStart = Annotated[int, Field(alias="from", ge=1, strict=True)]
"""A bracket's lower bound in units (inclusive), written ``from`` in a policy."""


class RateBracket(PolicyPart):
    """One bracket of a SKU's pool rate: ``rate`` from ``start`` units on (written ``from``).

    >>> RateBracket.model_validate({"from": 10, "rate": "0.4"}).model_dump(mode="json")
    {'from': 10, 'rate': '0.4'}
    """

    model_config = BRACKET_CONFIG
    start: BracketStart
    rate: Rate


class Located(ValueError):  # noqa: N818  (a carrier of located problems, never escapes)
    """Problems found inside a value, each with its path below it (see ``tuishou.models``)."""

    def __init__(self, located: list[tuple[str, str, bool]]) -> None:
        self.located = located
        super().__init__("; ".join(f"{where}: {message}" for where, message, _ in located))


def bracket_problems(starts: Sequence[int]) -> list[str]:
    """What is wrong with the ``from`` values of a bracket list (empty when nothing).

    >>> bracket_problems([1, 10])
    []
    >>> for problem in bracket_problems([2, 10, 10]):
    ...     print(problem)
    the first bracket starts from 2; it must start from 1
    bracket 2 starts from 10, not above bracket 1 (from 10); list brackets by strictly ...
    """
    problems = []
    if starts and starts[0] != 1:
        problems.append(f"the first bracket starts from {starts[0]}; it must start from 1")
    for index in range(1, len(starts)):
        before, here = starts[index - 1], starts[index]
        if here <= before:
            problems.append(
                f"bracket {index} starts from {here}, not above bracket {index - 1} (from "
                f"{before}); list brackets by strictly increasing 'from'"
            )
    return problems


def validate_brackets(model: type[_M], value: Any) -> tuple[_M, ...]:
    """``value`` (a list of dicts) as a tuple of ``model``, every problem at once (raised as
    ``Located``, so a policy's message names each one's path, e.g. ``sku_rates.gift.1.from``).
    The order of the ``from`` values is checked too (``bracket_problems``), on the values
    given, so that it is reported even when a bracket has another problem."""
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"brackets {value!r}: give a list such as [{{'from': 1, ...}}]")
    located: list[tuple[str, str, bool]] = []
    found: list[_M] = []
    for index, item in enumerate(value):
        try:
            found.append(model.model_validate(item))
        except InvalidPolicyError as exc:
            inner = getattr(exc, "located", [("", str(exc), False)])
            located += [(".".join(p for p in (str(index), w) if p), m, f) for w, m, f in inner]
    starts = [
        item.get("from", item.get("start")) if isinstance(item, Mapping) else None for item in value
    ]
    given = [start for start in starts if isinstance(start, int) and not isinstance(start, bool)]
    if len(given) == len(starts):
        located += [("", problem, False) for problem in bracket_problems(given)]
    if located:
        raise Located(located)
    return tuple(found)


def rate_or_brackets(value: Any) -> Decimal | tuple[RateBracket, ...]:
    """A ``sku_rates`` value: a rate ("0.5") or a list of rate brackets."""
    if isinstance(value, list | tuple):
        return validate_brackets(RateBracket, value)
    if isinstance(value, RateBracket):
        raise ValueError("a single bracket: put it in a list, [{'from': 1, 'rate': ...}]")
    return rate_value(value)


def dump_brackets(value: Any, info: SerializationInfo) -> Any:
    """How a value that may be brackets is dumped: brackets as a list of dicts with "from",
    anything else as pydantic dumps it (a rate as text in JSON)."""
    if isinstance(value, tuple) and value and isinstance(value[0], PolicyPart):
        return [bracket.model_dump(mode=info.mode) for bracket in value]
    if isinstance(value, Decimal) and info.mode == "json":
        return str(value)
    return value


RateOrBrackets = Annotated[
    Decimal | tuple[RateBracket, ...],
    PlainValidator(rate_or_brackets),
    PlainSerializer(dump_brackets),
]
"""A pydantic field type for a ``sku_rates`` value: a rate, or rate brackets by quantity."""


def bracket_of(starts: Sequence[int], quantity: int) -> int:
    """The index of the bracket ``quantity`` units fall in (inclusive at the lower bound).

    >>> [bracket_of((1, 10), q) for q in (1, 9, 10, 11)]
    [0, 0, 1, 1]
    """
    return bisect_right(starts, quantity) - 1


def brackets_of(starts: Sequence[int], quantities: IntArray) -> IntArray:
    """``bracket_of`` for many quantities at once (one ``searchsorted``).

    >>> brackets_of((1, 10), np.array([9, 10, 11])).tolist()
    [0, 1, 1]
    """
    found: IntArray = np.searchsorted(np.asarray(starts), quantities, side="right") - 1
    return found


def lines_of(keys: Sequence[str], values: Any, codes: Any) -> list[IntArray]:
    """For each of ``keys`` (e.g. the SKUs with brackets), the rows whose encoded value
    (``values[codes[row]]``, code -1: none) is that key: one pass over the rows, whatever the
    number of keys, then one slice per key.

    >>> [rows.tolist() for rows in lines_of(["b", "a"], ["a", "b", "c"], np.array([1, 0, 1, 2]))]
    [[0, 2], [1]]
    """
    index = {key: position for position, key in enumerate(keys)}
    per_code = np.array([index.get(value, -1) for value in values] + [-1], dtype=np.int64)
    which = per_code[codes]
    rows = np.flatnonzero(which >= 0)
    rows = rows[np.argsort(which[rows], kind="stable")]
    bounds = np.searchsorted(which[rows], np.arange(len(keys) + 1))
    return [rows[bounds[k] : bounds[k + 1]] for k in range(len(keys))]
