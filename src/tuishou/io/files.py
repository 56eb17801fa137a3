"""Tables in files: CSV, Parquet and JSON Lines, read with the place of every row. The
command line's input (``tuishou[cli]``: it needs pyarrow).

Glossary:

- **format**: chosen by the file's extension: ``.csv`` (UTF-8, a header line), ``.parquet``
  or ``.jsonl`` (one JSON object a line, naming each key once). Any other extension is
  refused, naming these. Standard input and output (``-`` on the command line) have no
  extension: their format is given (:class:`DataFile`). A UTF-8 BOM is accepted.
- **column names** are exact in every format: ``" sharer_id"`` is refused, naming
  ``sharer_id`` (as the library refuses such a column); so is a name the reader does not know.
- **place**: where a row is, for messages. CSV and JSON Lines count physical lines from 1:
  a CSV's header is line 1, so its first row is line 2 (a quoted value spanning two lines
  moves the rows after it down). Parquet has no lines, so its rows are counted from 1.
- **cell kinds**: how a column's cells are read (see :mod:`tuishou.io.cells`).
- **null**: a CSV cell has no way to say null but to be empty, so an empty (or quoted empty)
  cell is null (:data:`EMPTY_IS_NULL`). JSON Lines and Parquet write ``null`` (a real null):
  there ``""`` is a value, the empty string, which an id column refuses.

A cell that cannot be read is reported by the caller, which knows what the column means;
:class:`Problems` gathers every problem of every file, each with its place. Each format's reader
is in :mod:`tuishou.io.readers`; writing is in :mod:`tuishou.io.output`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

import numpy.typing as npt

from tuishou.errors import InvalidFileError, did_you_mean
from tuishou.io.cells import PLATFORM_ZONE, Column, convert
from tuishou.io.jsontext import shown
from tuishou.io.readers import Source, Unreadable, read_raw

__all__ = [
    "EMPTY_IS_NULL",
    "FORMATS",
    "DataFile",
    "Problems",
    "Table",
    "check_format",
    "read_table",
    "unknown_column",
]

FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".jsonl": "JSON Lines"}
EMPTY_IS_NULL = frozenset({".csv"})  # the formats whose empty cell is their null


@dataclass(frozen=True, slots=True)
class DataFile:
    """A data file to read or write: a ``path`` in the format of ``suffix``; for standard
    input or output (``-`` on the command line), ``std`` is set and ``path`` is only a label.

    >>> DataFile.of(Path("orders.CSV"))
    DataFile(path=PosixPath('orders.CSV'), suffix='.csv', std=False)
    >>> str(DataFile.stdin(".jsonl"))
    '<stdin>'
    """

    path: Path
    suffix: str
    std: bool = False

    @classmethod
    def of(cls, path: Path | DataFile) -> DataFile:
        """``path`` itself, or the file at a path in the format of its extension."""
        return path if isinstance(path, DataFile) else cls(path, check_format(path))

    @classmethod
    def stdin(cls, suffix: str) -> DataFile:
        """Standard input, in the format of ``suffix``."""
        return cls(Path("<stdin>"), suffix, std=True)

    @classmethod
    def stdout(cls, suffix: str) -> DataFile:
        """Standard output, in the format of ``suffix``."""
        return cls(Path("<stdout>"), suffix, std=True)

    def size(self) -> int:
        """Bytes in the file (0 for standard input: not known before it is read)."""
        return 0 if self.std else self.path.stat().st_size

    def __str__(self) -> str:
        return str(self.path)


@dataclass(eq=False)
class Table:
    """A table read from ``path``: ``size`` rows, columns as read, and each row's place.

    Text columns are pyarrow string arrays, integer columns int64 numpy arrays (0 where a
    cell could not be read; ``bad[name]`` lists those rows, ``cell`` gives what they held),
    value columns Python lists.
    """

    path: Path
    size: int
    columns: dict[str, Any]
    bad: dict[str, list[int]]
    _lines: Callable[[], list[int]] | None  # physical line of each row; None for Parquet
    _cache: list[int] | None = field(default=None, repr=False)
    _raw: dict[str, Any] = field(default_factory=dict, repr=False)  # columns as read

    def cell(self, name: str, row: int) -> Any:
        """What the file holds in column ``name`` at ``row``, before conversion.

        >>> Table(Path("o.csv"), 1, {}, {}, None, _raw={"amount": ["12.5"]}).cell("amount", 0)
        '12.5'
        """
        value = self._raw[name][row]
        return value.as_py() if hasattr(value, "as_py") else value

    def where(self, row: int) -> str:
        """``"line 7"`` (CSV, JSON Lines) or ``"row 6"`` (Parquet) for a row counted from 0.

        >>> Table(Path("o.parquet"), 1, {}, {}, None).where(0)
        'row 1'
        """
        if self._lines is None:
            return f"row {row + 1}"
        if self._cache is None:
            self._cache = self._lines()
        return f"line {self._cache[row]}"

    def where_all(self, rows: Sequence[int]) -> str:
        """``"lines 3, 4"`` or ``"rows 2, 3"``: the places of several rows, in file order.

        >>> Table(Path("o.parquet"), 3, {}, {}, None).where_all([2, 0])
        'rows 1, 3'
        """
        places = [self.where(row).split() for row in sorted(rows)]
        if len(places) == 1:
            return " ".join(places[0])
        return f"{places[0][0]}s " + ", ".join(number for _, number in places)

    def place(self, row: int) -> str:
        """The file and the row's place: ``"orders.csv, line 7"``.

        >>> Table(Path("o.jsonl"), 1, {}, {}, lambda: [3]).place(0)
        'o.jsonl, line 3'
        """
        return f"{self.path}, {self.where(row)}"

    def text(self, name: str) -> list[Any]:
        """A column as a Python list (None where missing or absent)."""
        values = self.columns.get(name)
        if values is None:
            return [None] * self.size
        return values if isinstance(values, list) else values.to_pylist()


class Problems:
    """Every problem found in the input files, each with its place, raised together.

    A check names at most ``per_check`` rows; the rest are counted in one more problem,
    so a file with a million bad rows still gives a message one can read.

    >>> problems = Problems()
    >>> problems.add("p.toml", "no name")
    >>> problems.error().problems
    ('p.toml: no name',)
    """

    per_check = 100

    def __init__(self) -> None:
        self._found: list[tuple[int, int, str]] = []  # (file order, row, text); row -1: file
        self._files: dict[str, int] = {}
        self._messages: dict[tuple[str, int], list[str]] = {}  # what ``at`` said of a row

    def __bool__(self) -> bool:
        return bool(self._found)

    def add(self, path: str | Path, message: str) -> None:
        """A problem of a whole file (or of an option, named like a file)."""
        self.text(path, -1, f"{path}: {message}")

    def at(self, table: Table, row: int, message: str) -> None:
        """A problem of one row: ``"orders.csv, line 7: <message>"``."""
        self._messages.setdefault((str(table.path), row), []).append(message)
        self.text(table.path, row, f"{table.place(row)}: {message}")

    def said(self, table: Table, row: int, text: str) -> bool:
        """Whether ``text`` ends with what was already said of this row (the library may
        report again what the file's checks found, e.g. an id that is not normal).

        >>> problems, table = Problems(), Table(Path("m.csv"), 1, {}, {}, lambda: [2])
        >>> problems.at(table, 0, "tier='m ' is not a normal id")
        >>> problems.said(table, 0, "(member_id='A'): tier='m ' is not a normal id")
        True
        """
        return any(text.endswith(m) for m in self._messages.get((str(table.path), row), ()))

    def text(self, path: str | Path, row: int, text: str) -> None:
        """A problem already worded with its place; ``row`` orders it within its file."""
        key = self._files.setdefault(str(path), len(self._files))
        self._found.append((key, row, text))

    def rows(
        self, table: Table, rows: Sequence[int] | npt.NDArray[Any], describe: Callable[[int], str]
    ) -> None:
        """One problem per row (at most ``per_check``), ``describe(row)`` saying what is wrong."""
        for row in list(rows[: self.per_check]):
            self.at(table, int(row), describe(int(row)))
        if len(rows) > self.per_check:
            first = int(rows[self.per_check])
            self.text(
                table.path,
                first,
                f"{table.path}: {len(rows) - self.per_check:,} more "
                f"row(s) like these, from {table.where(first)}: {describe(first)}",
            )

    def error(self) -> InvalidFileError:
        """The problems as one error, by file, then by place in the file."""
        ordered = [text for _, _, text in sorted(self._found, key=lambda p: (p[0], p[1]))]
        return InvalidFileError.from_problems("bad input", ordered)

    def check(self) -> None:
        """Raise the problems found so far, if any."""
        if self:
            raise self.error()


def check_format(path: Path) -> str:
    """The format of ``path`` by its extension, or ``InvalidFileError`` naming the known ones.

    >>> check_format(Path("payouts.PARQUET"))
    '.parquet'
    >>> check_format(Path("payouts.xlsx"))
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidFileError: payouts.xlsx: unknown extension '.xlsx'; ...
    """
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(f"{ext} ({name})" for ext, name in FORMATS.items())
        raise InvalidFileError(f"{path}: unknown extension {path.suffix!r}; use {known}")
    return suffix


def read_table(
    file: Path | DataFile,
    columns: Sequence[Column],
    problems: Problems,
    *,
    zone: tzinfo = PLATFORM_ZONE,
) -> Table:
    """Read ``file`` (a path by its extension, or standard input), keeping the ``columns``;
    file-wide problems (unreadable, a missing or unknown column) go to ``problems``. Cells are
    checked by the caller; times without an offset are read in ``zone``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text("sku,amount\\nmi-band,24900\\nphone,12.5\\n")
    >>> table = read_table(folder / "t.csv", [Column("sku"), Column("amount", "integer")],
    ...                    Problems())
    >>> table.columns["amount"].tolist(), table.bad["amount"], table.where(1)
    ([24900, 0], [1], 'line 3')
    """
    data = DataFile.of(file)
    source = Source.of(data.path, data.suffix, data.std)
    path = source.path
    try:
        names, size, raw, lines = read_raw(source)
    except Unreadable as exc:
        problems.add(path, str(exc))
        return Table(path, 0, {}, {}, None)
    if not size and source.suffix == ".jsonl":  # no line names a column: take them all, empty
        names, raw = [c.name for c in columns], {c.name: [] for c in columns}
    known = {column.name for column in columns}
    for name in names:
        if name not in known:  # refused: a misspelt column must not be silently ignored
            problems.add(path, unknown_column(name, known))
    padded = {name.strip() for name in names}  # a padded name is said above, not missing
    missing = [c.name for c in columns if c.required and c.name not in padded]
    if missing:
        problems.add(path, f"missing column(s) {missing}; the file has {list(names)}")
    table = Table(path, size, {}, {}, lines, _raw=raw)
    for column in columns:
        if column.name in raw:
            table.columns[column.name], table.bad[column.name] = convert(
                column, raw[column.name], empty_is_null=source.suffix in EMPTY_IS_NULL, zone=zone
            )
    return table


def unknown_column(name: str, known: set[str]) -> str:
    """Why a column is refused: a name with blanks around it is not the exact name (in
    every format, as the library's columns), any other is unknown.

    >>> unknown_column(" sharer_id", {"sharer_id"})
    "column ' sharer_id' has blanks around its name; name it exactly 'sharer_id'"
    """
    if name.strip() in known:
        return f"column {name!r} has blanks around its name; name it exactly {name.strip()!r}"
    return f"unknown column {shown(name)}; {did_you_mean(name, known)}"
