"""Commission policies for property tests: every rule kind and option, always within budget.

A policy's rules may pay at most the whole pool for one order (docs/domain.md §8's budget). Rather
than drawing rates and throwing away policies over budget, the 10 000 basis points are cut
into one slice per rule (often a fair share each, sometimes all of them to one rule), and each
rule draws its rates within its slice: a differential rule counts ``peer_rate × peer_max`` in
full, as the budget check does. Rates are often round (1%, 5%, 10%, 25%, ...) so that exact
halves, and so rounding ties, really occur, or the whole slice, so that some policies pay out
their whole budget.

Deep policies (``max_generation`` above 8) stay a few dozen draws: a layers rule draws the
first 8 generations' rates one by one and one rate for all the generations after, and
a differential rule may pay a peer bonus at every generation (``peer_max`` up to
``max_generation``), so that long chains really pay many members.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, get_args

from hypothesis import strategies as st

from tuishou.errors import ArgumentTypeError, InvalidArgumentError
from tuishou.money import RATE_SCALE
from tuishou.rounding import Rounding
from tuishou.rules import Policy
from tuishou.testing._arguments import (
    DEFAULT_GROUPS,
    DEFAULT_SKUS,
    DEFAULT_TIERS,
    check_count,
    check_names,
    sample,
)
from tuishou.testing._fixed import with_fixed

__all__ = ["policies"]

_KINDS = ("seller", "layers", "differential")
_ROUND_UNITS = (0, 100, 500, 1000, 2500, 5000, 7500, RATE_SCALE)  # 0%, 1%, 5%, ... 100%
_MAX_GENERATION = 4  # drawn from 0..4 unless fixed: deep enough for every rule to matter
_MAX_PEERS = 3
_EACH = 8  # generations whose layers rates are drawn one by one; deeper ones share a rate


def policies(
    *,
    tiers: Sequence[str] = DEFAULT_TIERS,
    groups: Sequence[str] = DEFAULT_GROUPS,
    skus: Sequence[str] = DEFAULT_SKUS,
    max_rules: int = 3,
    max_generation: int | st.SearchStrategy[int] | None = None,
    fixed: bool = False,
    brackets: bool = False,
    roundings: Sequence[Rounding] = ("largest_remainder", "floor"),
) -> st.SearchStrategy[Policy]:
    """Valid policies over ``tiers`` with a pool rate for every group in ``groups``.

    Up to ``max_rules`` rules of any kind (seller, layers, differential with or without the
    seller and a peer bonus), some ``skus`` with their own rate, ``self_purchase`` on or off,
    ``compression`` on or off, both rounding modes and both rounding scopes. ``max_generation``
    is drawn from 0 to 4 unless given, as an int or as a strategy of ints (for deep chains,
    e.g. ``st.integers(0, 300)``; see ``invite_trees(max_chain=...)``). ``roundings`` are the
    rounding modes drawn from (add ``"half_up"`` to reach it). Every policy is within
    budget, so none is filtered. ``fixed=True`` adds fixed schedules to some SKUs without a
    rate of their own and ``brackets=True`` turns some SKU rates into quantity brackets
    (docs/domain.md §17; both off by default, which draws exactly what it drew before).

    >>> from hypothesis import given
    >>> @given(policies(tiers=("member", "mentor"), max_generation=2))
    ... def test_every_policy_is_within_budget(policy):
    ...     assert policy.budget() <= 1 and policy.max_generation == 2
    >>> test_every_policy_is_within_budget()

    A deep policy pays many generations, a layers rule at the same rate after the 8th:

    >>> @given(policies(max_generation=st.integers(100, 300)))
    ... def test_deep_policies(policy):
    ...     assert 100 <= policy.max_generation <= 300 and policy.budget() <= 1
    ...     for rule in policy.rules:
    ...         assert rule.kind != "layers" or all(
    ...             len(set(rates[8:])) <= 1 for rates in rule.rates.values())
    >>> test_deep_policies()
    """
    names = check_names("tiers", tiers)
    group_names = check_names("groups", groups)
    sku_names = check_names("skus", skus)
    rule_count = check_count("max_rules", max_rules, least=0)
    generations = _generations(max_generation)
    modes = _roundings(roundings)
    if fixed or brackets:  # docs/domain.md §17; off by default: the draws stay as they were
        return _policies(
            names,
            group_names,
            sku_names,
            rule_count,
            generations,
            modes,
            fixed=fixed,
            brackets=brackets,
        )
    return _policies(names, group_names, sku_names, rule_count, generations, modes)


def _roundings(roundings: Sequence[Rounding]) -> tuple[Rounding, ...]:
    """The rounding modes to draw from, checked (at least one, each a ``Rounding``)."""
    known = get_args(Rounding)
    modes = tuple(roundings) if isinstance(roundings, list | tuple) else ()
    if not modes or any(mode not in known for mode in modes):
        raise InvalidArgumentError(
            f"roundings={roundings!r}; pass a list of one or more of {list(known)}"
        )
    return modes


@st.composite
def _policies(
    draw: st.DrawFn,
    tiers: tuple[str, ...],
    groups: tuple[str, ...],
    skus: tuple[str, ...],
    max_rules: int,
    generations: st.SearchStrategy[int],
    roundings: tuple[Rounding, ...] = ("largest_remainder", "floor"),
    *,
    fixed: bool = False,
    brackets: bool = False,
) -> Policy:
    max_generation = draw(generations)
    rules: list[dict[str, Any]] = []
    count = draw(sample((*range(1, max_rules + 1), 0)))  # no rules at all last: it is rarer
    for slice_ in _split(draw, RATE_SCALE, count):
        kind = draw(sample(_KINDS))
        rules.append(_rule(draw, kind, f"{kind}-{len(rules)}", slice_, tiers, max_generation))
    drawn = {
        "name": "drawn",
        "tiers": tiers,
        "group_rates": {group: _rate(draw(_units_upto(RATE_SCALE))) for group in groups},
        "sku_rates": draw(_sku_rates(skus)),
        "self_purchase": draw(st.booleans()),
        "max_generation": max_generation,
        "compression": draw(st.booleans()),
        "rounding": draw(sample(roundings)),
        "rounding_scope": draw(sample(("order", "line"))),
        "rules": rules,
    }
    if fixed or brackets:
        drawn = with_fixed(draw, drawn, skus, fixed=fixed, brackets=brackets)
    return Policy.model_validate(drawn)


def _generations(max_generation: object) -> st.SearchStrategy[int]:
    """What ``max_generation`` is drawn from: 0 to 4, the one given, or the strategy given."""
    if max_generation is None:
        return sample(tuple(range(_MAX_GENERATION + 1)))
    if isinstance(max_generation, st.SearchStrategy):
        return max_generation.map(functools.partial(check_count, "max_generation", least=0))
    if isinstance(max_generation, bool) or not isinstance(max_generation, int):
        raise ArgumentTypeError(
            f"max_generation={max_generation!r} is a "
            f"{type(max_generation).__name__}; pass an int, a strategy of "
            "ints (e.g. st.integers(0, 300)) or None"
        )
    return st.just(check_count("max_generation", max_generation, least=0))


def _rule(
    draw: st.DrawFn, kind: str, name: str, slice_: int, tiers: tuple[str, ...], max_generation: int
) -> dict[str, Any]:
    """One rule paying at most ``slice_`` basis points of the pool for one order."""
    some_tiers = tiers if draw(st.booleans()) else draw(_some(tiers))  # a missing rate is 0
    if kind == "seller":
        return {
            "kind": kind,
            "name": name,
            "rates": {t: _rate(draw(_units_upto(slice_))) for t in some_tiers},
        }
    if kind == "layers":
        return {
            "kind": kind,
            "name": name,
            "rates": _layers(draw, slice_, some_tiers, max_generation),
        }
    peers = tuple(range(_MAX_PEERS + 1))
    peer_max = draw(
        sample(peers)
        if max_generation <= _EACH  # deep: a peer at every generation
        else sample((*peers, max_generation)) | st.integers(0, max_generation)
    )
    # Peer bonuses take at most half the slice: the tier rates they follow need the rest.
    peer_rate = draw(_units_upto(slice_ // (2 * peer_max))) if peer_max else 0
    top = slice_ - peer_rate * peer_max
    return {
        "kind": kind,
        "name": name,
        "rates": {t: _rate(draw(_units_upto(top))) for t in some_tiers},
        "include_seller": draw(st.booleans()),
        "peer_rate": _rate(peer_rate),
        "peer_max": peer_max,
    }


def _layers(
    draw: st.DrawFn, slice_: int, tiers: Sequence[str], max_generation: int
) -> dict[str, list[str]]:
    """Rates per tier and generation within ``slice_``: each of the first ``_EACH`` generations
    takes a slice of the rule's slice; deeper ones share what is left, at one rate for every
    tier that has a rate for all of the first ``_EACH`` (so that long chains pay throughout)."""
    head, deep = min(max_generation, _EACH), max(max_generation - _EACH, 0)
    head_slice, deep_slice = _split(draw, slice_, 2) if deep else (slice_, 0)
    caps = _split(draw, head_slice, head)
    lengths = sample((len(caps), *range(len(caps))))  # a rate for every generation, or fewer
    tail: list[str] = []
    if deep:  # the same rate for 0 to ``deep`` more generations; every generation half the time
        tail = [_rate(draw(_units_upto(deep_slice // deep)))] * draw(_upto(deep))
        lengths = sample((head,)) | lengths
    rates: dict[str, list[str]] = {}
    for tier in tiers:
        length = draw(lengths)
        rates[tier] = [_rate(draw(_units_upto(cap))) for cap in caps[:length]]
        if length == head:
            rates[tier] += tail
    return rates


def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """Cut ``total`` basis points into ``parts`` slices (what is not cut stays unpaid)."""
    slices = []
    for part in range(parts):
        slices.append(draw(_portion(total, parts - part)))
        total -= slices[-1]
    return slices


# The strategies below are cached: see _arguments.sample for why.


@functools.cache
def _portion(left: int, parts: int) -> st.SearchStrategy[int]:
    """A slice of ``left`` basis points for one of ``parts`` to come: often a fair share, half
    or all of it, else any."""
    return sample((left // parts, left // 2, left)) | st.integers(0, left)


@functools.cache
def _units_upto(cap: int) -> st.SearchStrategy[int]:
    """Basis points in [0, cap]: often round, so that rounding ties really happen, or ``cap``
    itself, so that a policy may pay its whole budget; else any."""
    return sample(tuple(sorted({*(u for u in _ROUND_UNITS if u <= cap), cap}))) | st.integers(
        0, cap
    )


@functools.cache
def _upto(most: int) -> st.SearchStrategy[int]:
    """0 to ``most``: often all of it."""
    return sample((most, 0)) | st.integers(0, most)


@functools.cache
def _some(tiers: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(sample(tiers), unique=True, min_size=1)


@functools.cache
def _sku_rates(skus: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(sample(skus), _units_upto(RATE_SCALE).map(_rate), max_size=len(skus))


def _rate(units: int) -> str:
    """Basis points as a rate string, exact: 500 -> "0.0500"."""
    return str(Decimal(units).scaleb(-4))
