"""Defaults, argument checks and a strategy cache for the strategies of ``tuishou.testing``.

A strategy made with a bad argument would fail on every draw, deep inside hypothesis; checking
here gives one clear ``tuishou`` error at the line that made it, as hypothesis' own strategies do.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from hypothesis import strategies as st

from tuishou.errors import ArgumentTypeError, InvalidArgumentError

T = TypeVar("T")

DEFAULT_TIERS = ("member", "pusher", "mentor", "senior_advisor")  # the bundled youpin policy's
DEFAULT_GROUPS = ("xiaomi", "ecosystem", "third_party")  # the bundled youpin policy's groups
DEFAULT_SKUS = ("sku-0", "sku-1", "sku-2")
DEFAULT_PLATFORMS = ("每日一淘", "云集")
DEFAULT_SOURCE_TIERS = ("会员", "店主", "顾问", "高级顾问", "合伙人")


def check_count(name: str, value: object, *, least: int) -> int:
    """``value`` if it is an int ≥ ``least``, else an error naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name}={value!r} is a {type(value).__name__}; pass an int")
    if value < least:
        raise InvalidArgumentError(f"{name}={value} is below {least}; pass {least} or more")
    return value


def check_sizes(min_size: object, max_size: object, *, least: int = 0) -> tuple[int, int]:
    """``(min_size, max_size)`` if both are counts ≥ ``least`` in order, else an error."""
    low = check_count("min_size", min_size, least=least)
    high = check_count("max_size", max_size, least=least)
    if low > high:
        raise InvalidArgumentError(
            f"min_size={low} > max_size={high}; min_size must be at most max_size"
        )
    return low, high


def check_names(name: str, values: object) -> tuple[str, ...]:
    """``values`` as a tuple if it is a non-empty collection of distinct non-empty strings."""
    if isinstance(values, str) or not isinstance(values, Collection):
        raise ArgumentTypeError(
            f"{name}={values!r} is a {type(values).__name__}; pass a tuple "
            f"of names, e.g. {name}=('a', 'b')"
        )
    names = tuple(values)
    bad = [v for v in names if not isinstance(v, str) or not v.strip()]
    if bad:
        raise InvalidArgumentError(f"{name}: {bad[0]!r} is not a non-empty string")
    if not names:
        raise InvalidArgumentError(f"{name}=() is empty; name at least one")
    twice = sorted({v for v in names if names.count(v) > 1})
    if twice:
        raise InvalidArgumentError(f"{name}: {twice[0]!r} is listed twice; names must be unique")
    return names


def check_ratio(name: str, value: object) -> float:
    """``value`` if it is a number in [0, 1] (a probability, not money: floats are fine)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ArgumentTypeError(
            f"{name}={value!r} is a {type(value).__name__}; pass a number in [0, 1], e.g. 0.25"
        )
    if not 0 <= value <= 1:
        raise InvalidArgumentError(f"{name}={value} is outside [0, 1]")
    return float(value)


def check_text(name: str, value: object) -> str:
    """``value`` if it is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ArgumentTypeError(f"{name}={value!r} must be a non-empty string")
    return value


def check_flag(name: str, value: object) -> bool:
    """``value`` if it is True or False."""
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name}={value!r} is a {type(value).__name__}; pass True or False")
    return value


_SAMPLES: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {}


def sample(choices: tuple[T, ...]) -> st.SearchStrategy[T]:
    """``st.sampled_from(choices)``, one strategy object per tuple of choices.

    Hypothesis checks every new strategy object once, and that costs more than a draw: made
    afresh for each member of each tree, checks took a third of the time of a test.
    """
    strategy = _SAMPLES.get(choices)
    if strategy is None:
        strategy = _SAMPLES[choices] = st.sampled_from(choices)
    return strategy
