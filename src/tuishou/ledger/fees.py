"""The withdrawal fee (手续费) rule and its fee period, stated once.

A member's fee is charged on what it withdraws in a **fee period**: the calendar month of
the request in the ledger's ``timezone`` (``LedgerPolicy.timezone``, Asia/Shanghai by
default). Let ``before`` be what the member asked to withdraw earlier in the same period
(withdrawals not rejected, reviewed or one-step), ``free`` the fee-free allowance
(``fee_free_per_period``) and ``taxable(x) = max(0, x - free)``. The withdrawal of ``amount``
pays

- the **rate part** ``round(rate × taxable(before + amount)) − round(rate × taxable(before))``,
  each rounded by ``fee_rounding`` on the *cumulative* amount, so the rate parts of any
  split add up to the rate part of one withdrawal of the total, in any rounding mode;
- plus the **fixed part** ``withdrawal_fee_fixed`` and at least ``min_fee``, but only when
  it is taxable at all (``taxable(before + amount) > taxable(before)``); otherwise nothing.

So splitting a withdrawal into parts in one period never pays less than one withdrawal of the
total: the rate parts add up to the same, and the fixed part and the minimum are paid at
least once. A rejected withdrawal leaves the base (its allowance is freed), and so does the
rounding its fee carried: so that a rejection cannot be used to game the rounding, a taxable
request is also charged at least the fee of one withdrawal of everything not rejected in the
period, itself included, less the fees those already carry (``ledger.withdrawals``).
Without rejections this top-up never exceeds the fee above. (This is commission semantics,
not a library's job: own code.)

>>> from datetime import UTC
>>> fee_of(10_000, rate=Decimal("0.006"), fixed=100, free=5_000, min_fee=0, rounding="up")
130
>>> fee_of(3_000, rate=Decimal("0.006"), fixed=100, free=5_000, min_fee=0, rounding="up")
0
>>> month_of(datetime(2026, 10, 31, 17, tzinfo=UTC), "Asia/Shanghai")[0].isoformat()
'2026-11-01T00:00:00+08:00'
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tuishou.errors import InvalidArgumentError, LedgerError
from tuishou.money import rate_units
from tuishou.rounding import FeeRounding, round_fee

__all__ = ["fee_of", "month_of", "time_zone"]


def fee_of(
    amount: int,
    *,
    rate: Decimal,
    fixed: int,
    free: int,
    min_fee: int,
    rounding: FeeRounding,
    before: int = 0,
) -> int:
    """The fee, in fen, on a withdrawal of ``amount`` fen after ``before`` fen withdrawn in
    the same fee period (the rule of this module's docstring)."""
    start, end = max(0, before - free), max(0, before + amount - free)
    if end <= start:
        return 0
    units = rate_units(rate)  # the rate in 1/10 000
    part = round_fee(end * units, rounding) - round_fee(start * units, rounding)
    return max(part + fixed, min_fee)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (such as ``Asia/Shanghai`` or ``UTC``), cached: the one
    place the ledger turns a zone name into a zone. ``InvalidArgumentError`` (a
    ``ValueError``, saying what to give) if there is none.

    >>> time_zone("Asia/Shanghai").key
    'Asia/Shanghai'
    >>> time_zone("Mars/Base")
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidArgumentError: timezone='Mars/Base' is not a time zone name; use ...
    """
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):  # TypeError: not text, unhashable
        raise InvalidArgumentError(
            f"timezone={name!r} is not a time zone name; use an IANA name such as "
            "Asia/Shanghai or UTC"
        ) from None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def month_of(at: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The fee period of a request at ``at``: ``[start, end)`` of its calendar month in
    ``timezone``, as aware datetimes in that zone."""
    zone = time_zone(timezone)
    try:
        local = at.astimezone(zone)
        start = datetime(local.year, local.month, 1, tzinfo=zone)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        return start, datetime(year, month, 1, tzinfo=zone)
    except (OverflowError, ValueError):  # December 9999: its month ends in the year 10000
        raise LedgerError(
            f"at={at.isoformat()} is in the last month tuishou can date (December 9999 in "
            f"{timezone}), whose fee period ends beyond it; check the time; nothing changed"
        ) from None
