"""Reading one CSV, Parquet or JSON Lines file (or standard input) into raw columns, with
each row's line: the readers under :func:`tuishou.io.files.read_table`. Every file that
cannot be read at all is :class:`Unreadable`, which the caller reports as a problem of the
file; checking the columns and converting the cells is left to the caller.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tuishou.io import jsontext

__all__ = [
    "Raw",
    "Source",
    "Unreadable",
    "csv_failure",
    "csv_header",
    "csv_options",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "read_raw",
]


class Unreadable(Exception):  # noqa: N818  (read_table makes it a problem of the file)
    """A file that cannot be read at all, with the reason."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a reader reads: a file, or the bytes of standard input (read once, kept)."""

    path: Path  # for messages
    suffix: str
    data: bytes | None  # standard input's bytes; None: read the file at ``path``

    @classmethod
    def of(cls, path: Path, suffix: str, std: bool) -> Source:
        """The file at ``path``, or standard input (read now) when ``std``."""
        return cls(path, suffix, sys.stdin.buffer.read() if std else None)

    def arrow(self) -> Any:
        """What pyarrow reads: the path, or a buffer over the bytes."""
        return self.path if self.data is None else pa.BufferReader(self.data)

    def text(self, newline: str | None = None) -> IO[str]:
        """The text, UTF-8 with or without a BOM."""
        if self.data is None:
            return self.path.open(newline=newline, encoding="utf-8-sig")
        return io.TextIOWrapper(io.BytesIO(self.data), encoding="utf-8-sig", newline=newline)


# (column names, rows, columns as read, the physical line of each row; None for Parquet)
Raw = tuple[list[str], int, dict[str, Any], Callable[[], list[int]] | None]


def read_raw(source: Source) -> Raw:
    """The columns of ``source`` as read, by its format; ``Unreadable`` if it cannot be read."""
    return _READERS[source.suffix](source)


def read_csv(path: Source) -> Raw:
    """A CSV file: its header's names, every cell a string (empty, not null)."""
    header = csv_header(path)
    if len(set(header)) != len(header):
        raise Unreadable(f"the header names a column twice: {header}")
    try:
        table = pa_csv.read_csv(
            path.arrow(),  # the names as csv_header read them (without a BOM)
            **csv_options(header),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise Unreadable(csv_failure(path, len(header), exc)) from None
    raw = {name: table.column(name) for name in header}
    return header, table.num_rows, raw, lambda: _csv_lines(path)


def csv_options(header: list[str]) -> dict[str, Any]:
    """How pyarrow reads an orders, members or roster CSV, whole or in chunks: the columns
    named by ``header`` (read by :func:`csv_header`), every cell text, an empty cell ''
    (the cell checks decide what it means), line breaks allowed inside quotes.

    >>> sorted(csv_options(["a"]))
    ['convert_options', 'parse_options', 'read_options']
    """
    return {
        "read_options": pa_csv.ReadOptions(column_names=header, skip_rows=1),
        "parse_options": pa_csv.ParseOptions(newlines_in_values=True),
        "convert_options": pa_csv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def csv_header(path: Source) -> list[str]:
    """A CSV file's header line (its column names), or ``Unreadable``."""
    try:
        with path.text(newline="") as file:
            header = next(csv.reader(file), [])
    except UnicodeDecodeError:
        raise Unreadable("is not UTF-8 text; save it as CSV UTF-8") from None
    if not header:
        raise Unreadable("is empty; a CSV file starts with a header line naming its columns")
    return header


def _csv_lines(path: Source) -> list[int]:
    """The physical line each row starts on (only computed when a problem needs it)."""
    starts = []
    with path.text(newline="") as file:
        reader = csv.reader(file)
        next(reader)
        end = reader.line_num
        for record in reader:
            if record:  # pyarrow skips empty lines too
                starts.append(end + 1)
            end = reader.line_num
    return starts


def csv_failure(path: Source, width: int, exc: Exception) -> str:
    """Why pyarrow could not read a CSV: find the rows with the wrong number of cells."""
    wrong = []
    try:
        with path.text(newline="") as file:
            reader = csv.reader(file)
            for record in reader:
                if record and len(record) != width:
                    wrong.append(f"line {reader.line_num} has {len(record)}")
    except UnicodeDecodeError:
        return "is not UTF-8 text; save it as CSV UTF-8"
    if not wrong:
        return f"cannot be read as CSV: {exc}"
    shown = "; ".join(wrong[:5]) + (f"; and {len(wrong) - 5} more" if len(wrong) > 5 else "")
    return f"rows must have {width} cells like the header: {shown}"


def read_parquet(path: Source) -> Raw:
    """A Parquet file: its columns as pyarrow read them; rows have no lines."""
    try:
        table = pq.read_table(path.arrow())
    except (pa.ArrowException, OSError) as exc:
        raise Unreadable(f"cannot be read as Parquet: {exc}") from None
    names = list(table.column_names)
    return names, table.num_rows, {name: table.column(name) for name in names}, None


def read_jsonl(path: Source) -> Raw:
    """A JSON Lines file: one object a line, blank lines skipped; a key missing is null."""
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    bad: list[str] = []
    try:
        with path.text() as file:
            for number, text in enumerate(file, 1):
                if not text.strip():
                    continue
                try:
                    row = jsontext.loads(text)
                except json.JSONDecodeError as exc:
                    bad.append(f"line {number} is not JSON ({exc.msg})")
                    continue
                except jsontext.RefusedJsonError as exc:
                    bad.append(f"line {number}: {exc}")
                    continue
                if not isinstance(row, dict):
                    bad.append(f"line {number} is a JSON {type(row).__name__}, not an object")
                    continue
                rows.append(row)
                lines.append(number)
    except UnicodeDecodeError:
        raise Unreadable("is not UTF-8 text") from None
    if bad:
        shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise Unreadable(f"each line must be one JSON object: {shown}")
    names = list(dict.fromkeys(key for row in rows for key in row))
    raw = {name: [row.get(name) for row in rows] for name in names}
    return names, len(rows), raw, lambda: lines


_READERS: dict[str, Callable[[Source], Raw]] = {
    ".csv": read_csv,
    ".parquet": read_parquet,
    ".jsonl": read_jsonl,
}
