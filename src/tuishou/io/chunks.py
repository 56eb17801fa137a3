"""An orders file read in chunks of whole orders, so memory does not grow with the file.

- **chunk**: about ``chunk_lines`` consecutive rows of the file, cut between two orders: the
  trailing order of a batch (its lines may go on in the next batch) is carried into the next
  chunk. An order longer than ``chunk_lines`` is one chunk by itself.
- **reading**: Parquet by row batches (``pq.ParquetFile.iter_batches``), CSV with pyarrow's
  streaming reader (``pyarrow.csv.open_csv``); JSON Lines is parsed whole (its columns are
  every key of every line, known only at its end) and then cut into chunks. Standard input is
  read whole first (it cannot be read twice).
- **place**: each chunk is a :class:`ChunkTable`, whose rows are placed in the whole file
  (``orders.csv, line 1000007``; Parquet ``row 1000006``), so problems read as for a whole file.
- **contiguity**: an order's lines must be together in the file.
  :class:`tuishou.io.contiguity.Contiguity` checks it exactly across chunks (the distinct
  order ids of the chunks read so far, kept as Arrow arrays, probed with
  ``pyarrow.compute.is_in``: no hashes that could collide) and names the first line of an
  order seen before, where it was seen, and the way out: sort the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tuishou.io.cells import PLATFORM_ZONE, Column, convert
from tuishou.io.checks import mask
from tuishou.io.files import EMPTY_IS_NULL, DataFile, Problems, Table, unknown_column
from tuishou.io.readers import Source, Unreadable, csv_failure, csv_header, csv_options, read_jsonl

__all__ = ["CHUNK_LINES", "ChunkTable", "OrdersFile"]

CHUNK_LINES = 500_000  # rows a chunk: 10M lines over 1M members peak at 1.33 GiB (1M: 1.69)

Progress = Callable[[int, int], None]  # (done, total): rows, or bytes for CSV


@dataclass(eq=False)
class ChunkTable(Table):
    """A :class:`Table` of some rows of a file: ``first`` rows of the file come before it,
    so places are those of the whole file.

    >>> ChunkTable(Path("o.parquet"), 1, {}, {}, None, first=9).where(0)
    'row 10'
    """

    first: int = 0

    def where(self, row: int) -> str:
        """The row's place in the whole file (``"line 7"``, or ``"row 6"`` for Parquet)."""
        if self._lines is None:
            return f"row {self.first + row + 1}"
        return super().where(row)


class OrdersFile:
    """An orders file (or standard input), read in chunks of whole orders by :meth:`tables`.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "o.csv").write_text("order_id,amount\\na,1\\na,2\\nb,3\\nc,4\\n")
    >>> file = OrdersFile(DataFile.of(folder / "o.csv"), chunk_lines=1)
    >>> columns = [Column("order_id"), Column("amount", "integer")]
    >>> [(t.first, t.size, t.where(0)) for t in file.tables(columns, Problems())]
    [(0, 2, 'line 2'), (2, 1, 'line 4'), (3, 1, 'line 5')]
    """

    def __init__(self, file: DataFile, *, chunk_lines: int = CHUNK_LINES) -> None:
        if chunk_lines < 1:
            raise ValueError(f"chunk_lines={chunk_lines} must be at least 1")
        self.source = Source.of(file.path, file.suffix, file.std)  # standard input: read now
        self.chunk_lines = chunk_lines

    @property
    def path(self) -> Path:
        """The file's name, for messages."""
        return self.source.path

    def first_seen(self, order_id: str) -> str:
        """The place of the first line of ``order_id`` (the file is read again: only for a
        message).

        >>> import tempfile; folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "o.csv").write_text("order_id\\na\\nb\\na\\n")
        >>> OrdersFile(DataFile.of(folder / "o.csv"), chunk_lines=1).first_seen("b")
        'line 3'
        """
        for table in self.tables([Column("order_id")], Problems()):
            found = pc.index(table.columns.get("order_id", pa.array([], pa.string())), order_id)
            if found.as_py() >= 0:
                return table.where(found.as_py())
        return "an earlier line"

    def total(self) -> tuple[int, str]:
        """What a progress bar counts to: (rows, "lines") when known before reading (Parquet
        metadata), else (bytes, "bytes")."""
        if self.source.suffix == ".parquet":
            try:
                return pq.ParquetFile(self.source.arrow()).metadata.num_rows, "lines"
            except (pa.ArrowException, OSError):
                return 0, "lines"
        if self.source.data is not None:
            return len(self.source.data), "bytes"
        return self.path.stat().st_size, "bytes"

    def tables(
        self,
        columns: Sequence[Column],
        problems: Problems,
        *,
        zone: tzinfo = PLATFORM_ZONE,
        progress: Progress | None = None,
    ) -> Iterator[ChunkTable]:
        """The chunks, each with the ``columns`` converted (at least one chunk, maybe empty);
        file-wide problems (unreadable, a missing or unknown column) go to ``problems`` once,
        and an unreadable file ends the chunks."""
        try:
            names, pieces = self._pieces(columns, progress)
            for index, (first, raw, lines) in enumerate(pieces):
                yield self._table(columns, names, first, raw, lines, problems, index == 0, zone)
        except Unreadable as exc:
            problems.add(self.path, str(exc))

    def _pieces(
        self, columns: Sequence[Column], progress: Progress | None
    ) -> tuple[list[str], Iterator[_Piece]]:
        suffix = self.source.suffix
        if suffix == ".jsonl":
            names, size, raw, lines = read_jsonl(self.source)
            if not size:  # no line names a column: take them all, empty (as read_table)
                names, raw = [c.name for c in columns], {c.name: [] for c in columns}
            return names, _list_pieces(raw, size, lines, self.chunk_lines, progress)
        if suffix == ".parquet":
            return _parquet(self.source, self.chunk_lines, progress)
        return _csv(self.source, self.chunk_lines, progress)

    def _table(
        self,
        columns: Sequence[Column],
        names: list[str],
        first: int,
        raw: dict[str, Any],
        lines: Callable[[], list[int]] | None,
        problems: Problems,
        opening: bool,
        zone: tzinfo,
    ) -> ChunkTable:
        size = len(next(iter(raw.values()))) if raw else 0
        if opening:  # the columns are the file's: said once
            _check_names(self.path, names, columns, problems)
        table = ChunkTable(self.path, size, {}, {}, lines, _raw=raw, first=first)
        for column in columns:
            if column.name in raw:
                table.columns[column.name], table.bad[column.name] = convert(
                    column,
                    raw[column.name],
                    empty_is_null=self.source.suffix in EMPTY_IS_NULL,
                    zone=zone,
                )
        return table


# (rows before the piece, its columns as read, the physical line of each of its rows)
_Piece = tuple[int, dict[str, Any], Callable[[], list[int]] | None]


def _check_names(
    path: Path, names: list[str], columns: Sequence[Column], problems: Problems
) -> None:
    """As :func:`tuishou.io.files.read_table`: unknown and missing columns."""
    known = {column.name for column in columns}
    for name in names:
        if name not in known:
            problems.add(path, unknown_column(name, known))
    padded = {name.strip() for name in names}
    missing = [c.name for c in columns if c.required and c.name not in padded]
    if missing:
        problems.add(path, f"missing column(s) {missing}; the file has {list(names)}")


def _parquet(
    source: Source, chunk_lines: int, progress: Progress | None
) -> tuple[list[str], Iterator[_Piece]]:
    try:
        file = pq.ParquetFile(source.arrow())
    except (pa.ArrowException, OSError) as exc:
        raise Unreadable(f"cannot be read as Parquet: {exc}") from None
    names = list(file.schema_arrow.names)
    total = file.metadata.num_rows

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from file.iter_batches(batch_size=min(chunk_lines, 1 << 20))
        except (pa.ArrowException, OSError) as exc:
            raise Unreadable(f"cannot be read as Parquet: {exc}") from None

    def told(done: int) -> None:
        if progress is not None:
            progress(done, total)

    pieces = _arrow_pieces(batches(), file.schema_arrow, chunk_lines, told, lambda _f, _n: None)
    return names, pieces


def _csv(
    source: Source, chunk_lines: int, progress: Progress | None
) -> tuple[list[str], Iterator[_Piece]]:
    header = csv_header(source)
    if len(set(header)) != len(header):
        raise Unreadable(f"the header names a column twice: {header}")
    stream = (
        pa.BufferReader(source.data) if source.data is not None else pa.OSFile(str(source.path))
    )
    total = stream.size()
    try:
        reader = pa_csv.open_csv(stream, **csv_options(header))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise Unreadable(csv_failure(source, len(header), exc)) from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise Unreadable(csv_failure(source, len(header), exc)) from None

    def told(_done: int) -> None:
        if progress is not None:
            progress(stream.tell(), total)

    def lines(first: int, size: int) -> Callable[[], list[int]]:
        return lambda: _csv_lines(source, first, size)

    return header, _arrow_pieces(batches(), reader.schema, chunk_lines, told, lines)


def _csv_lines(source: Source, first: int, size: int) -> list[int]:
    """The physical line rows ``first`` to ``first + size`` start on (read again: only when
    a problem must be placed)."""
    import csv

    starts: list[int] = []
    with source.text(newline="") as file:
        reader = csv.reader(file)
        next(reader)
        end, row = reader.line_num, 0
        for record in reader:
            if record:  # pyarrow skips empty lines too
                if row >= first:
                    starts.append(end + 1)
                    if len(starts) == size:
                        break
                row += 1
            end = reader.line_num
    return starts


def _arrow_pieces(
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    chunk_lines: int,
    told: Callable[[int], None],
    lines: Callable[[int, int], Callable[[], list[int]] | None],
) -> Iterator[_Piece]:
    """Cut record batches into pieces of whole orders, ``chunk_lines`` rows or so."""
    buffer, first = schema.empty_table(), 0
    for batch in batches:
        buffer = pa.concat_tables([buffer, pa.Table.from_batches([batch], schema=schema)])
        while buffer.num_rows > chunk_lines:  # the row after a cut is known: the cut is sure
            cut = _cut(_order_ids(buffer), chunk_lines)
            if cut is None:
                break  # one order fills the buffer: read on
            yield first, _columns(buffer.slice(0, cut)), lines(first, cut)
            first, buffer = first + cut, buffer.slice(cut)
            told(first)
    yield first, _columns(buffer), lines(first, buffer.num_rows)
    told(first + buffer.num_rows)


def _order_ids(table: pa.Table) -> Any:
    if "order_id" in table.column_names:
        return table.column("order_id")
    return pa.array(range(table.num_rows))  # no order ids (said): cut anywhere


def _columns(table: pa.Table) -> dict[str, Any]:
    return {name: table.column(name).combine_chunks() for name in table.column_names}


def _cut(ids: Any, at: int) -> int | None:
    """Where to end a piece near row ``at`` between two orders: back to the start of the
    order that row ``at`` continues, else (one order from row 0) forward past it; None if
    it goes on to the end of ``ids``."""
    last = ids[at - 1]
    if isinstance(ids, list):
        same = np.fromiter((v == last and v is not None for v in ids), bool, len(ids))
    elif not last.is_valid:
        return at
    else:
        same = mask(pc.fill_null(pc.equal(ids, last), False))
    if not same[at]:
        return at
    before = np.flatnonzero(~same[:at])
    if len(before):
        return int(before[-1]) + 1
    after = np.flatnonzero(~same[at:])
    return at + int(after[0]) if len(after) else None


def _list_pieces(
    raw: dict[str, Any],
    size: int,
    lines: Callable[[], list[int]] | None,
    chunk_lines: int,
    progress: Progress | None,
) -> Iterator[_Piece]:
    """A whole file's columns (JSON Lines: lists) cut into pieces of whole orders."""
    ids = raw.get("order_id", list(range(size)))
    if isinstance(ids, list):  # cut on the ids as read (JSON's 1 and "1" are one order '1')
        ids = [v if v is None or isinstance(v, str) else str(v) for v in ids]
    first = 0
    while True:
        rest = size - first
        cut = None
        if rest > chunk_lines:  # a window first: comparing the whole rest is quadratic
            window = ids[first : first + 2 * chunk_lines + 1]
            cut = _cut(window, chunk_lines)
            if cut is None and len(window) < rest:  # one order longer than the window
                cut = _cut(ids[first:], chunk_lines)
        end = size if cut is None else first + cut
        part = {name: values[first:end] for name, values in raw.items()}
        place = None if lines is None else _sliced(lines, first, end)
        yield first, part, place
        if progress is not None:
            progress(end, size)
        if end >= size:
            return
        first = end


def _sliced(lines: Callable[[], list[int]], first: int, end: int) -> Callable[[], list[int]]:
    return lambda: lines()[first:end]
