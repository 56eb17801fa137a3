"""Times: the one rule every datetime tuishou takes follows, on every path.

A **time** (``joined_at``, ``probation_until``, ``as_of``, ``paid_at``, the ledger's ``at``)
is an **aware** ``datetime``, in any zone, compared in UTC. A naive one is refused on every
path, naming the field, the value and how to make it aware: naive and aware times cannot be
compared, and guessing a zone would shift a probation end or a payment by hours.

>>> from zoneinfo import ZoneInfo
>>> check_time(datetime(2026, 11, 24, tzinfo=ZoneInfo("Asia/Shanghai")), name="as_of").hour
0
>>> check_time(datetime(2026, 11, 24), name="as_of")
Traceback (most recent call last):
...
tuishou.errors.InvalidArgumentError: as_of=2026-11-24 00:00:00 has no time zone; tuishou ...
"""

from __future__ import annotations

from datetime import UTC, datetime

from tuishou.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["AWARE_RULE", "check_time", "time_problem", "utc"]

# What tuishou takes, said in every refusal of a naive time.
AWARE_RULE = "tuishou takes aware datetimes only (any zone; compared in UTC)"
_AWARE_EXAMPLE = "datetime(2026, 11, 24, tzinfo=ZoneInfo('Asia/Shanghai'))"


def time_problem(value: object, *, name: str, rule: str = AWARE_RULE) -> str | None:
    """One sentence saying why ``value`` is not an aware datetime, or None when it is one.

    ``rule`` is what the caller takes (the ledger says it stores times in UTC).

    >>> time_problem(datetime(2027, 2, 1), name="probation_until")
    "probation_until=2027-02-01 00:00:00 has no time zone; tuishou takes aware datetimes only \
(any zone; compared in UTC), e.g. datetime(2026, 11, 24, tzinfo=ZoneInfo('Asia/Shanghai'))"
    >>> time_problem("2027-02-01", name="as_of")
    "as_of='2027-02-01' must be a datetime with a time zone, e.g. datetime(2026, 11, 24, ..."
    """
    if not isinstance(value, datetime):
        return f"{name}={value!r} must be a datetime with a time zone, e.g. {_AWARE_EXAMPLE}"
    if value != value:  # pandas NaT: a datetime type that stands for no time at all
        return f"{name}=NaT is a missing time; give the time, e.g. {_AWARE_EXAMPLE}"
    if value.utcoffset() is None:
        return f"{name}={value} has no time zone; {rule}, e.g. {_AWARE_EXAMPLE}"
    if getattr(value, "nanosecond", 0):  # a pandas Timestamp: its nanoseconds would be lost
        return (
            f"{name}={value} has nanoseconds; tuishou keeps times to the microsecond: "
            "round it first (e.g. Timestamp.floor('us'))"
        )
    try:
        value.astimezone(UTC)
    except (OverflowError, ValueError):
        return f"{name}={value} is beyond the years 1 to 9999 in UTC; check the time"
    return None


def utc(moment: datetime) -> datetime:
    """An aware time as a plain ``datetime`` in UTC (a pandas ``Timestamp`` becomes one).

    >>> from datetime import timedelta, timezone
    >>> utc(datetime(2026, 11, 1, 12, tzinfo=timezone(timedelta(hours=8))))
    datetime.datetime(2026, 11, 1, 4, 0, tzinfo=datetime.timezone.utc)
    """
    moment = moment.astimezone(UTC)
    if type(moment) is not datetime:
        moment = datetime(
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond,
            tzinfo=UTC,
        )
    return moment


def check_time(
    value: object,
    *,
    name: str,
    rule: str = AWARE_RULE,
    error: type[ValueError] = InvalidArgumentError,
) -> datetime:
    """Return ``value`` if it is an aware datetime: a naive one raises ``error`` (by default
    ``InvalidArgumentError``, a ``ValueError``), anything else ``ArgumentTypeError``.

    >>> from datetime import UTC
    >>> check_time(datetime(2026, 11, 1, tzinfo=UTC), name="at").year
    2026
    >>> check_time(None, name="as_of")
    Traceback (most recent call last):
    ...
    tuishou.errors.ArgumentTypeError: as_of=None must be a datetime with a time zone, e.g. ...
    """
    problem = time_problem(value, name=name, rule=rule)
    if problem is None:
        return value  # type: ignore[return-value]  # time_problem checked it is a datetime
    if not isinstance(value, datetime):
        raise ArgumentTypeError(problem)
    raise error(problem)
