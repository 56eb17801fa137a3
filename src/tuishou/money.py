"""Money and rates: the one way in, where floats are refused.

- **fen** (分): money is a Python ``int`` number of fen, 0.01 CNY. ``bool`` is refused
  (``True`` is not one fen), and so is ``float``: 0.1 yuan has no exact float.
- **rate**: a decimal fraction in [0, 1] with at most 4 decimal places, given as a string
  (``"0.05"``), a ``Decimal`` or the ints 0 and 1. A float rate is refused. Four places
  keep every product of two rates and an amount an exact integer of 10^-8 fen.

Inside the library a rate is also carried as an integer number of basis points
(``RATE_SCALE`` = 10 000 per 1), so settlement never touches ``Decimal`` in its loops.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator

from tuishou.errors import ArgumentTypeError, FloatRefusedError, InvalidArgumentError

__all__ = [
    "MAX_ORDER_FEN",
    "RATE_PLACES",
    "RATE_SCALE",
    "Fen",
    "FloatValueError",
    "Rate",
    "check_fen",
    "check_rate",
    "digits_problem",
    "fen_example",
    "percent",
    "rate_units",
    "rate_value",
    "yuan",
]

RATE_PLACES = 4
RATE_SCALE = 10**RATE_PLACES

MAX_ORDER_FEN = 10**10
"""The supported amount of one order (and so of each of its lines): ¥100,000,000 (一亿元).

Inside it every exact intermediate (amount × pool rate × share, in 10^-8 fen) fits a signed
64-bit integer with room to spare (10^18 < 2^63), so the per-order path, the batch engine
and the ledger compute the same fen without a slow fallback. An order above it is refused
at the door on every path: no social-commerce order is that large, so it is a data error
(a price in 厘 or 毫 instead of fen, an id pasted into the amount column)."""


class FloatValueError(ValueError):
    """Raised inside pydantic validators for a float; tells model errors to add TypeError."""


def check_fen(value: object, *, name: str = "amount") -> int:
    """Return ``value`` if it is a non-negative int number of fen, else raise.

    >>> check_fen(19999)
    19999
    >>> check_fen(199.99)
    Traceback (most recent call last):
    ...
    tuishou.errors.FloatRefusedError: amount=199.99 is a float; pass an int number of fen, ...
    """
    if isinstance(value, float):
        raise FloatRefusedError(_float_fen_message(name, value))
    if isinstance(value, bool) or not isinstance(value, int):
        kind = type(value).__name__
        raise ArgumentTypeError(f"{name}={value!r} is a {kind}; pass an int number of fen")
    if value < 0:
        raise InvalidArgumentError(f"{name}={value} is negative; amounts are fen >= 0")
    return value


def check_rate(value: object, *, name: str = "rate") -> Decimal:
    """Return ``value`` as a ``Decimal`` rate in [0, 1] with at most 4 places, else raise.

    >>> check_rate("0.05")
    Decimal('0.05')
    >>> check_rate(0.05)
    Traceback (most recent call last):
    ...
    tuishou.errors.FloatRefusedError: rate=0.05 is a float; write rates as strings, e.g. "0.05"
    >>> check_rate("0.12345")
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidArgumentError: rate='0.12345' has more than 4 decimal places
    """
    if isinstance(value, float):
        raise FloatRefusedError(
            f'{name}={value!r} is a float; write rates as strings, e.g. "{value}"'
        )
    return _parse_rate(value, name)


def digits_problem(value: str, *, name: str) -> str | None:
    """Why a number written in full-width (or other compatibility) characters is refused,
    naming the ASCII form to write; None when that is not the number's problem.

    Numbers (rates, amounts) are read from ASCII digits only, like ids (see ``tuishou.ids``):
    full-width ``０.０５`` is refused on every path, never read silently.

    >>> digits_problem("０.０５", name="rate")
    "rate='０.０５' is not written in ASCII digits; write '0.05'"
    >>> digits_problem("0.05", name="rate"), digits_problem("¥5", name="rate")
    (None, None)
    """
    normal = unicodedata.normalize("NFKC", value).strip()
    if value.isascii() or not normal.isascii() or not normal:
        return None
    return f"{name}={value!r} is not written in ASCII digits; write {normal!r}"


def _parse_rate(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        kind = type(value).__name__
        raise ArgumentTypeError(f'{name}={value!r} is a {kind}; write rates as strings: "0.05"')
    if isinstance(value, str) and not value.isascii():  # Decimal() would take "０.５" or "٠٫٥"
        problem = digits_problem(value, name=name)  # amounts and ids refuse them too
        raise InvalidArgumentError(problem or f"{name}={value!r} is not a number")
    try:
        rate = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidArgumentError(f"{name}={value!r} is not a number") from None
    if not rate.is_finite() or not 0 <= rate <= 1:
        raise InvalidArgumentError(
            f"{name}={value!r} is outside [0, 1]; rates are fractions (0.05 = 5%)"
        )
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise InvalidArgumentError(f"{name}={value!r} has more than {RATE_PLACES} decimal places")
    return rate.normalize() if rate else Decimal(0)


def rate_units(rate: Decimal) -> int:
    """A rate as an exact int number of 1/10 000 (basis points).

    >>> rate_units(Decimal("0.0333"))
    333
    """
    return int(Fraction(rate) * RATE_SCALE)  # exact: no Decimal context can round it


def yuan(fen: int) -> str:
    """Format fen as yuan for people: thousands separators and two decimals.

    >>> yuan(123456789)
    '¥1,234,567.89'
    >>> yuan(-5)
    '-¥0.05'
    """
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def percent(rate: Decimal) -> str:
    """A rate as a percentage without trailing zeros, for people.

    >>> percent(Decimal("0.050")), percent(Decimal("0.1234"))
    ('5%', '12.34%')
    """
    value = (rate * 100).normalize()
    return f"{value:f}%"


def fen_example(amount: float | str) -> str:
    """How an amount written in yuan is written in fen, for a message ("" if it cannot be).

    Computed with ``Decimal`` from the amount's text, so the example is exact.

    >>> fen_example(249.99), fen_example("1e3"), fen_example(float("nan"))
    ('e.g. 24999 for ¥249.99', 'e.g. 100000 for ¥1,000.00', '')
    """
    try:
        fen = int((Decimal(str(amount)) * 100).to_integral_value(ROUND_HALF_EVEN))
    except (InvalidOperation, ValueError, OverflowError):  # NaN, infinity, not a number
        return ""
    return f"e.g. {fen} for {yuan(fen)}" if abs(fen) < 10**18 else ""


def _float_fen_message(name: str, value: float) -> str:
    example = fen_example(value)
    return f"{name}={value!r} is a float; pass an int number of fen" + (
        f", {example}" if example else ""
    )


def _pydantic_fen(value: Any) -> Any:
    # Runs before pydantic's own int check, so the message can say what to pass instead.
    if isinstance(value, float):
        raise FloatValueError(_float_fen_message("amount", value))
    if isinstance(value, bool):
        raise ValueError(f"amount={value!r} is a bool; pass an int number of fen")
    return value


def rate_value(value: Any) -> Decimal:
    """A rate as a pydantic validator reads it: a float refused (``FloatValueError``), text or
    a Decimal parsed as ``check_rate`` does, every other refusal a ``ValueError`` (so pydantic
    reports it with its field). What the ``Rate`` field type runs, for a field that takes
    a rate or something else (``rulebook.brackets``).

    >>> rate_value("0.05")
    Decimal('0.05')
    """
    if isinstance(value, float):
        raise FloatValueError(f'rate {value!r} is a float; write rates as strings, e.g. "{value}"')
    try:
        return _parse_rate(value, "rate")
    except TypeError as exc:  # pydantic reports ValueErrors; a TypeError would escape it
        raise ValueError(str(exc)) from None


Fen = Annotated[int, BeforeValidator(_pydantic_fen)]
"""A pydantic field type for an int amount of fen; use with ``Field(ge=0)`` and strict mode."""

Rate = Annotated[Decimal, BeforeValidator(rate_value)]
"""A pydantic field type for a rate in [0, 1] with at most 4 decimal places."""
