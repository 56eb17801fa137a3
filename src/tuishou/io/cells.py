"""How a file's column is read: text, whole numbers or values passed on, cell by cell.

Glossary:

- **column kind**:

  - ``text``: ids and names; integers in JSON Lines and Parquet are read as text
    (1001 → "1001").
  - ``integer``: whole numbers, e.g. fen. Integers, or text holding one ("1250"), with or
    without spaces or tabs around it (" 1250", in every format; nothing else is trimmed).
    Decimals ("12.5") and floats are refused: money is integer fen.
  - ``value``: passed on as read (dates: ISO text, or Parquet timestamps) for the library.
  - ``time``: a moment (``paid_at``): ISO 8601 text or a Parquet timestamp, read as an aware
    time in UTC (a pyarrow ``timestamp[us, UTC]`` array). One written with an offset
    (``2026-11-24T09:00:00+08:00``, ``...Z``) or a Parquet timestamp with a zone is taken as
    it is; one without is read in the platform's zone (``--timezone``, by default
    ``Asia/Shanghai``). Anything else (text that is no ISO time, a number) is a bad cell.

- **bad cell**: one that cannot be read as its kind. :func:`convert` lists their rows; the
  caller, who knows what the column means, reports them (see :func:`describe_bad_integer`).
  A Parquet column of another type (floats, bytes, bools, decimals) is read cell by cell like
  JSON Lines values, so every format names the same cells with the same words.
- **identifier** columns hold ids: the caller checks them with :mod:`tuishou.ids`.
- **empty cell**: whether ``""`` is a null is the format's to say (``empty_is_null``, decided
  once in :func:`tuishou.io.files.read_table`). A CSV cell cannot say null any other way, so
  there an empty (or quoted empty) cell is None, unless the column keeps blanks for the
  caller's own "is empty" message. JSON Lines and Parquet write a null as ``null``: an
  explicit ``""`` is a value, kept, and an id column refuses it (``tuishou.io.checks``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tuishou.io.jsontext import shown
from tuishou.money import MAX_ORDER_FEN, digits_problem, fen_example, yuan

__all__ = [
    "PLATFORM_ZONE",
    "Column",
    "convert",
    "describe_bad_integer",
    "describe_bad_time",
    "too_large",
]

# Where a time written without an offset is read: Beijing time, what a Chinese platform exports.
PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

_WHOLE = re.compile(r"-?[0-9]{1,18}")  # beyond 18 digits an int64 could overflow
_BLANKS = " \t"  # trimmed around a number written as text, in every format
_INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(  # 12.5, .5, 12., 1e3, 1.5E-2: numbers a spreadsheet may write
    r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?[0-9]+[eE][+-]?[0-9]+"
)


@dataclass(frozen=True, slots=True)
class Column:
    """What a column holds: its ``kind`` of cells, whether the file must have it, and whether
    an empty cell is a missing value (None) or kept as "" for the caller's own message.

    >>> Column("amount", "integer").required
    True
    """

    name: str
    kind: Literal[
        "text",  # ids and names: a pyarrow string array
        "integer",  # whole numbers (fen, quantities): an int64 array
        "value",  # passed on as read, for the library's own checks (dates)
        "time",  # a moment: aware, as timestamp[us, UTC]
    ] = "text"
    required: bool = True  # the file must have the column (its cells may still be empty)
    blank_is_none: bool = True  # False: an empty CSV cell is "", for the caller's own message
    identifier: bool = False  # its values are ids (tuishou.ids): checked for normal form


def convert(
    column: Column, values: Any, *, empty_is_null: bool, zone: tzinfo = PLATFORM_ZONE
) -> tuple[Any, list[int]]:
    """A column as read (a pyarrow array, or a list of JSON values) as its kind, and the rows
    of its bad cells: text as a pyarrow string array, integers as int64 (0 where bad),
    values as a list, times as ``timestamp[us, UTC]`` (null where bad; without an offset,
    read in ``zone``). ``empty_is_null``: the format writes a null as an empty cell (CSV).

    >>> numbers, bad = convert(Column("amount", "integer"), pa.array(["100", "1.5"]),
    ...                        empty_is_null=True)
    >>> numbers.tolist(), bad
    ([100, 0], [1])
    >>> [convert(Column("buyer_id"), pa.array(["D", ""]), empty_is_null=csv)[0].to_pylist()
    ...  for csv in (True, False)]
    [['D', None], ['D', '']]
    """
    blank_is_none = empty_is_null and column.blank_is_none
    if column.kind == "time":
        return _times(values, zone)
    if column.kind == "value":
        listed = values if isinstance(values, list) else values.to_pylist()
        return [None if v == "" and blank_is_none else v for v in listed], []
    if isinstance(values, list):
        converted, bad = (_text_cells if column.kind == "text" else _integer_cells)(values)
    else:
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        converted, bad = (_text_arrow if column.kind == "text" else _integer_arrow)(values)
    if column.kind == "text":
        if isinstance(converted, list):
            converted = pa.array(converted, type=pa.string())
        if blank_is_none:
            converted = pc.if_else(pc.equal(converted, ""), pa.scalar(None, pa.string()), converted)
    return converted, bad


def _text_cells(values: list[Any]) -> tuple[list[Any], list[int]]:
    """JSON values as text: strings, and integers written as text; others are bad (None)."""
    out: list[Any] = []
    bad = []
    for row, value in enumerate(values):
        if value is None or isinstance(value, str):
            out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(str(value))
        else:
            out.append(None)
            bad.append(row)
    return out, bad


def _text_arrow(values: Any) -> tuple[Any, list[int]]:
    kind = values.type
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_null(kind)
    ):
        return values.cast(pa.string()), []
    return _text_cells(values.to_pylist())  # floats, bytes, bools...: named cell by cell


def _integer_cells(values: list[Any]) -> tuple[npt.NDArray[np.int64], list[int]]:
    """JSON values as int64: integers, or text holding one; anything else is bad (0)."""
    out = np.zeros(len(values), dtype=np.int64)
    bad = []
    for row, value in enumerate(values):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
            out[row] = value
        elif isinstance(value, str) and _WHOLE.fullmatch(value.strip(_BLANKS)):
            out[row] = int(value.strip(_BLANKS))
        else:
            bad.append(row)
    return out, bad


def _integer_arrow(values: Any) -> tuple[npt.NDArray[np.int64], list[int]]:
    kind = values.type
    if pa.types.is_integer(kind):
        bad = values.is_null()
        if kind == pa.uint64():  # 2**63 and above do not fit an int64: bad cells, not a crash
            largest = pa.scalar(_INT64_MAX, kind)
            bad = pc.or_(bad, pc.fill_null(pc.greater(values, largest), False))
        numbers = pc.if_else(bad, pa.scalar(0, kind), values).cast(pa.int64()).to_numpy()
        return np.asarray(numbers, dtype=np.int64), _rows(bad)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return _integer_cells(values.to_pylist())  # floats, bools, decimals: cell by cell
    text = pc.utf8_trim(values, _BLANKS)
    whole = pc.fill_null(pc.match_substring_regex(text, r"^-?[0-9]{1,18}$"), False)
    numbers = pc.if_else(whole, text, "0").cast(pa.int64()).to_numpy()
    return np.asarray(numbers, dtype=np.int64), _rows(pc.invert(whole))


def _times(values: Any, zone: tzinfo) -> tuple[Any, list[int]]:
    """Times as ``timestamp[us, UTC]``: an aware Parquet timestamp column at once, anything
    else cell by cell (ISO text, naive timestamps read in ``zone``)."""
    utc = pa.timestamp("us", tz="UTC")
    if not isinstance(values, list):
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        kind = values.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            try:
                return values.cast(utc), []
            except pa.ArrowInvalid:  # nanoseconds: each such cell named below
                pass
        values = values.to_pylist()
    out: list[int | None] = []
    bad: list[int] = []
    for row, value in enumerate(values):
        moment = _moment(value, zone)
        if moment is None and not (value is None or value == ""):
            bad.append(row)
        out.append(None if moment is None else (moment - _EPOCH) // _MICRO)
    return pa.array(out, pa.int64()).cast(utc), bad


def _moment(value: Any, zone: tzinfo) -> datetime | None:
    """An ISO time or a timestamp as an aware datetime (read in ``zone`` without an offset)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip(_BLANKS))
        except ValueError:
            return None
    if not isinstance(value, datetime) or _has_nanoseconds(value):
        return None
    moment = value if value.utcoffset() is not None else value.replace(tzinfo=zone)
    try:
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment


def _has_nanoseconds(value: object) -> bool:
    """Whether a pandas ``Timestamp`` holds nanoseconds a ``datetime`` cannot."""
    nanoseconds: object = getattr(value, "nanosecond", None)
    return bool(nanoseconds)


def describe_bad_time(name: str, value: Any) -> str:
    """Why a cell is not a time, saying what to write instead.

    >>> describe_bad_time("paid_at", "2026-13-01")
    "paid_at='2026-13-01' is not a time; write ISO 8601, e.g. 2026-11-24T09:00:00+08:00 ..."
    """
    what = "is not a time" if not isinstance(value, date) else "is a date or time out of range"
    if _has_nanoseconds(value):
        what = "has nanoseconds; times are kept to the microsecond"
    return (
        f"{name}={shown(value)} {what}; write ISO 8601, e.g. 2026-11-24T09:00:00+08:00 (a "
        "time without an offset is read in --timezone)"
    )


def _rows(mask: Any) -> list[int]:
    rows: list[int] = np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()
    return rows


def describe_bad_integer(name: str, value: Any, *, money: bool) -> str:
    """Why a cell is not a whole number, saying what to write instead.

    >>> describe_bad_integer("amount", "12.5", money=True)
    "amount='12.5' is not a whole number of fen: money is integer fen (分), e.g. 1250 for ¥12.50"
    >>> describe_bad_integer("quantity", None, money=False)
    'quantity is empty'
    >>> describe_bad_integer("amount", "１２５０", money=True)
    "amount='１２５０' is not written in ASCII digits; write '1250'"
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"{name} is empty"
    if isinstance(value, bool):
        return f"{name}={value!r} is a bool; write a whole number" + (" of fen" if money else "")
    if isinstance(value, str) and (problem := digits_problem(value, name=name)):
        return problem
    text = value.strip(_BLANKS) if isinstance(value, str) else repr(value)
    is_decimal = isinstance(value, float | Decimal) or bool(_DECIMAL.fullmatch(text))
    if is_decimal and money:
        example = fen_example(str(value) if isinstance(value, Decimal) else text)
        hint = f", {example}" if example else ""
        return (
            f"{name}={shown(value)} is not a whole number of fen: money is integer fen (分){hint}"
        )
    if isinstance(value, int | str) and re.fullmatch(r"-?[0-9]{19,}", str(value).strip(_BLANKS)):
        return too_large(name, value) if money else f"{name}={shown(value)} is too large"
    return f"{name}={shown(value)} is not a whole number"


def too_large(name: str, value: Any, *, why: str = "") -> str:
    """An amount above ``tuishou.money.MAX_ORDER_FEN``, the most one order (so one line) may be.

    >>> too_large("amount", 10**10 + 1)
    'amount=10000000001 is too large: one order is at most 10,000,000,000 fen (¥100,000,000.00)'
    """
    return (
        f"{name}={shown(value)} is too large: {why}one order is at most {MAX_ORDER_FEN:,} fen "
        f"({yuan(MAX_ORDER_FEN)})"
    )
