"""The optional ``paid_at`` order-line column: aware times as int64 UTC microseconds.

``paid_at`` is when the order was paid (:class:`tuishou.Order`'s field): it picks the policy
version an order is settled with (``PolicyVersions``). The column follows the time rule of
:mod:`tuishou.times` on every container:

- a list or an object array of aware ``datetime`` (any zone; a pandas ``Timestamp`` too),
  None / NaN / NaT for "not known";
- a pandas column of dtype ``datetime64[..., tz]``, a pyarrow ``timestamp[..., tz]`` column;
- naive times (``datetime64`` without a zone, a ``datetime`` without ``tzinfo``) are
  refused, naming the column and the way out (``Series.dt.tz_localize('Asia/Shanghai')``,
  ``pyarrow.compute.assume_timezone``); so is text, and a time with nanoseconds.

Times are kept as int64 microseconds since 1970-01-01 UTC (every datetime from the year 1 to
9999 fits), ``NO_TIME`` (int64's minimum, numpy's NaT) where a cell is empty, so grouping
orders by version is one ``numpy.searchsorted``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.engine.line_checks import plain, rows_where
from tuishou.errors import InvalidOrderError
from tuishou.ids import is_missing
from tuishou.times import time_problem

__all__ = ["NO_TIME", "micros", "per_order", "read_paid_at"]

IntArray = npt.NDArray[np.int64]
NO_TIME = np.iinfo(np.int64).min  # an empty cell; numpy's NaT has the same bits
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_WAY_OUT = (
    "pass aware times: e.g. Series.dt.tz_localize('Asia/Shanghai'), "
    "pyarrow.compute.assume_timezone(column, 'Asia/Shanghai'), or datetimes with tzinfo"
)


def micros(moment: datetime) -> int:
    """An aware time as int microseconds since 1970-01-01 UTC.

    >>> from zoneinfo import ZoneInfo
    >>> micros(datetime(1970, 1, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai")))
    0
    """
    return (moment - _EPOCH) // _MICRO


def read_paid_at(values: Any) -> IntArray:
    """The ``paid_at`` column as int64 UTC microseconds (``NO_TIME`` for an empty cell).

    >>> from zoneinfo import ZoneInfo
    >>> paid = [datetime(1970, 1, 1, 8, 0, 1, tzinfo=ZoneInfo("Asia/Shanghai")), None]
    >>> read_paid_at(paid).tolist() == [1_000_000, NO_TIME]
    True
    >>> read_paid_at([datetime(2026, 11, 1)])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: column 'paid_at', row(s) 0: paid_at=2026-11-01 00:00:00 ...
    """
    if hasattr(values, "null_count") and hasattr(values, "is_null"):  # pyarrow
        return _arrow(values)
    dtype = getattr(values, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "O") != "O":
        return _typed(values, dtype)
    listed = values.tolist() if hasattr(values, "tolist") else list(values)
    return _python(listed)


def _python(cells: list[Any]) -> IntArray:
    """Python cells one by one: aware datetimes, or missing values."""
    out = np.full(len(cells), NO_TIME, dtype=np.int64)
    bad: dict[str, list[int]] = {}
    for row, cell in enumerate(cells):
        if cell is None or (not isinstance(cell, datetime) and is_missing(cell)):
            continue
        if type(cell).__name__ == "NaTType":  # pandas' NaT: a missing time
            continue
        problem = time_problem(cell, name="paid_at")
        if problem is None:
            out[row] = micros(cell)
        else:
            bad.setdefault(problem, []).append(row)
    if bad:
        problems = [
            f"column 'paid_at', {rows_where(_mask(len(cells), rows))}: {problem}"
            for problem, rows in list(bad.items())[:20]
        ]
        raise InvalidOrderError("; ".join(problems), problems)
    return out


def _mask(size: int, rows: list[int]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(size, dtype=bool)
    mask[rows] = True
    return mask


def _typed(values: Any, dtype: Any) -> IntArray:
    """A pandas or numpy column with a dtype: aware datetimes only."""
    zone = getattr(dtype, "tz", None)
    if zone is None:
        if getattr(dtype, "kind", "") == "M":  # datetime64 without a zone
            raise InvalidOrderError(
                f"column 'paid_at' holds times without a time zone ({dtype}); {_WAY_OUT}"
            )
        if getattr(dtype, "pyarrow_dtype", None) is not None:  # pandas ArrowDtype
            import pyarrow as pa

            return _arrow(pa.array(values))
        if not len(values) or bool(np.all(_nulls(values))):  # empty: any dtype (pandas: float)
            return np.full(len(values), NO_TIME, dtype=np.int64)
        raise InvalidOrderError(
            f"column 'paid_at' holds {dtype} values; paid_at is a time with a time zone: {_WAY_OUT}"
        )
    naive_utc = values.dt.tz_convert(None) if hasattr(values, "dt") else values.tz_convert(None)
    stamps = np.asarray(naive_utc.to_numpy())
    return _from_datetime64(stamps)


def _nulls(values: Any) -> npt.NDArray[np.bool_]:
    found = values.isna() if hasattr(values, "isna") else np.isnan(values)
    return np.asarray(found)


def _from_datetime64(stamps: npt.NDArray[Any]) -> IntArray:
    """UTC ``datetime64`` values (any unit) as microseconds; nanoseconds refused."""
    as_micros = stamps.astype("datetime64[us]")
    exact = as_micros.astype(stamps.dtype) == stamps
    lost = ~exact & ~np.isnat(stamps)
    if lost.any():
        raise InvalidOrderError(
            f"column 'paid_at', {rows_where(lost)}: a time has nanoseconds; tuishou keeps "
            "times to the microsecond: round them first (e.g. Series.dt.floor('us'))"
        )
    result: IntArray = as_micros.view(np.int64)  # NaT stays int64's minimum: NO_TIME
    return result


def _arrow(values: Any) -> IntArray:
    """A pyarrow column: ``timestamp`` with a time zone, or all nulls."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_null(kind):
        return np.full(len(values), NO_TIME, dtype=np.int64)
    if pa.types.is_dictionary(kind):
        values, kind = values.cast(kind.value_type), kind.value_type
    if not pa.types.is_timestamp(kind):
        raise InvalidOrderError(
            f"column 'paid_at' is of type {kind}; paid_at is a time with a time zone "
            f"(timestamp[us, tz=...]): {_WAY_OUT}"
        )
    if kind.tz is None:
        raise InvalidOrderError(
            f"column 'paid_at' holds times without a time zone ({kind}); {_WAY_OUT}"
        )
    try:
        in_micros = values.cast(pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        exact = pc.equal(values.cast(pa.timestamp("us", tz="UTC"), safe=False).cast(kind), values)
        lost = ~np.asarray(pc.fill_null(exact, True).to_numpy(zero_copy_only=False), dtype=bool)
        raise InvalidOrderError(
            f"column 'paid_at', {rows_where(lost)}: a time has nanoseconds; tuishou keeps "
            "times to the microsecond: round them first (pyarrow.compute.floor_temporal)"
        ) from None
    numbers = pc.fill_null(in_micros.cast(pa.int64()), NO_TIME)
    return np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.int64)


def per_order(paid_at: IntArray, codes: npt.NDArray[Any], first: IntArray, ids: Any) -> IntArray:
    """Each order's ``paid_at`` (lines' order ``codes``, each order's ``first`` row); an order
    whose lines differ is refused, naming it.

    >>> per_order(np.array([5, 5, 7]), np.array([0, 0, 1]), np.array([0, 2]), ["o1", "o2"])
    array([5, 7])
    >>> per_order(np.array([5, 6]), np.array([0, 0]), np.array([0]), ["o1"])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: column 'paid_at' differs between lines of order 'o1' ...
    """
    times: IntArray = paid_at[first]
    differs = times[codes] != paid_at
    if not differs.any():
        return times
    orders = np.unique(codes[differs])
    named = ", ".join(repr(plain(ids[int(code)])) for code in orders[:20].tolist())
    more = f" and {len(orders) - 20} more" if len(orders) > 20 else ""
    problem = (
        f"column 'paid_at' differs between lines of order {named}{more} "
        f"({rows_where(differs)}); an order is paid once: give every line the same paid_at"
    )
    raise InvalidOrderError(problem, [problem])
