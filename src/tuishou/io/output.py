"""Writing result files atomically: a failed run never leaves a partial file behind.

The format is chosen by the extension, as for reading (:mod:`tuishou.io.files`), or given
for standard output. CSV is written unquoted where it can be (pyarrow), else quoted where
needed (Python's csv). Standard output gets the whole file once everything has succeeded.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tuishou.io.files import DataFile

__all__ = ["Appender", "delivering", "replacing", "write_into", "write_table", "writing"]


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` when the block succeeds
    and is removed when it fails, so a failed run never leaves a partial file.

    >>> import tempfile; target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with replacing(target) as temporary:
    ...     _ = temporary.write_text("done")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('done', ['out.txt'])
    """
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    temporary = Path(name)
    try:
        umask = os.umask(0)  # mkstemp makes the file private; give it the usual permissions
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def delivering(target: DataFile) -> Iterator[Path]:
    """Like :func:`replacing`, for a file or standard output: a temporary path that becomes
    the file, or is copied to standard output, when the block succeeds.

    >>> import tempfile; target = DataFile.of(Path(tempfile.mkdtemp()) / "out.jsonl")
    >>> with delivering(target) as temporary:
    ...     _ = temporary.write_text("{}\\n")
    >>> target.path.read_text()
    '{}\\n'
    """
    if not target.std:
        with replacing(target.path) as temporary:
            yield temporary
        return
    with tempfile.TemporaryDirectory(prefix="tuishou-") as folder:
        temporary = Path(folder) / f"out{target.suffix}"
        yield temporary
        sys.stdout.flush()
        with temporary.open("rb") as written:
            shutil.copyfileobj(written, sys.stdout.buffer)
        sys.stdout.buffer.flush()


@contextmanager
def writing(target: DataFile) -> Iterator[Appender]:
    """An :class:`Appender` into a file or standard output, delivered as :func:`delivering`
    does: the file appears (or is copied out) only when the block succeeds, whole.

    >>> import tempfile; target = DataFile.of(Path(tempfile.mkdtemp()) / "out.csv")
    >>> with writing(target) as out:
    ...     out.write(pa.table({"a": [1]}))
    ...     out.write(pa.table({"a": [2]}))
    >>> target.path.read_text()
    'a\\n1\\n2\\n'
    """
    with delivering(target) as temporary:
        appender = Appender(temporary, target.suffix)
        try:
            yield appender
        finally:
            appender.close()


class Appender:
    """Writes pyarrow Tables one after another into one file in the format of ``suffix``, as
    :func:`write_into` would write them concatenated (Parquet: one row group each, with the
    first table's schema; CSV: one header). Not atomic: see :func:`writing`."""

    def __init__(self, path: Path, suffix: str) -> None:
        self.path, self.suffix = path, suffix
        self._file = path.open("wb")
        self._parquet: Any = None
        self._schema: Any = None
        self._started = False

    def write(self, table: Any) -> None:
        """Append the rows of ``table``."""
        if self.suffix == ".parquet":
            if self._parquet is None:
                self._schema = table.schema
                self._parquet = pq.ParquetWriter(self._file, self._schema)
            self._parquet.write_table(_compact(table).cast(self._schema))
        elif self.suffix == ".csv":
            self._file.write(_csv_bytes(table, header=not self._started))
        else:
            for batch in _plain(table).to_batches(max_chunksize=65_536):
                self._file.write(
                    "".join(
                        json.dumps(row, ensure_ascii=False, default=_json_value) + "\n"
                        for row in batch.to_pylist()
                    ).encode("utf-8")
                )
        self._started = True

    def close(self) -> None:
        """Finish the file (Parquet's footer) and close it."""
        if self._parquet is not None:
            self._parquet.close()
        self._file.close()


def _compact(table: Any) -> Any:
    """Dictionary columns with only the values their rows use: a chunk's payouts name a few
    of a million members, and Parquet writes a row group's dictionary whole.

    >>> column = pa.DictionaryArray.from_arrays(pa.array([2, 2]), pa.array(["a", "b", "c"]))
    >>> _compact(pa.table({"m": column})).column("m").chunk(0).dictionary.to_pylist()
    ['c']
    """
    columns = [
        _compact_column(column) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _compact_column(column: Any) -> Any:
    """One dictionary column compacted (see :func:`_compact`), by counting codes, not sorting."""
    whole = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not len(whole.dictionary):  # every cell null (or none): nothing to compact
        return column
    indices = whole.indices
    valid = indices.is_valid().to_numpy(zero_copy_only=False)
    codes = np.asarray(indices.fill_null(0).to_numpy(zero_copy_only=False))
    used = np.bincount(codes[valid], minlength=len(whole.dictionary)) > 0
    renumber = (np.cumsum(used) - 1).clip(0).astype(codes.dtype)
    nulls = None if valid.all() else ~valid
    compact = pa.DictionaryArray.from_arrays(
        pa.array(renumber[codes], mask=nulls), whole.dictionary.filter(pa.array(used))
    )
    return compact.cast(column.type)


def _csv_bytes(table: Any, *, header: bool) -> bytes:
    """A table as CSV, as :func:`_write_csv` writes it (with or without its header)."""
    plain = _plain(table)
    sink = io.BytesIO()
    try:
        pa_csv.write_csv(
            plain,
            sink,
            write_options=pa_csv.WriteOptions(
                include_header=header, quoting_style="none", quoting_header="none"
            ),
        )
        return sink.getvalue()
    except pa.ArrowInvalid:
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\n")
        if header:
            writer.writerow(plain.column_names)
        for batch in plain.to_batches(max_chunksize=65_536):
            writer.writerows(zip(*(c.to_pylist() for c in batch.columns), strict=True))
        return text.getvalue().encode("utf-8")


def write_table(table: Any, target: Path | DataFile) -> None:
    """Write a pyarrow Table to ``target`` (a path in the format of its extension, or standard
    output), atomically.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> write_table(pa.table({"member_id": ["A"], "amount": [500]}), folder / "p.csv")
    >>> (folder / "p.csv").read_text()
    'member_id,amount\\nA,500\\n'
    """
    target = DataFile.of(target)
    with delivering(target) as temporary:
        write_into(table, temporary, target.suffix)


def write_into(table: Any, path: Path, suffix: str) -> None:
    """Write a pyarrow Table to ``path`` in the format of ``suffix`` (not atomic: for a path
    from :func:`replacing`, when several files must appear together or not at all).

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> write_into(pa.table({"a": [1]}), folder / "x.part", ".jsonl")
    >>> (folder / "x.part").read_text()
    '{"a": 1}\\n'
    """
    _WRITERS[suffix](table, path)


def _plain(table: Any) -> Any:
    """Dictionary columns decoded: CSV and JSON hold plain values."""
    columns = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _write_csv(table: Any, path: Path) -> None:
    """pyarrow writes fast but quotes every string; unquoted is what people expect to see.
    A value with a comma, quote or line break needs quotes: then Python's csv writes it."""
    plain = _plain(table)
    try:
        pa_csv.write_csv(
            plain,
            path,
            write_options=pa_csv.WriteOptions(quoting_style="none", quoting_header="none"),
        )
    except pa.ArrowInvalid:
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(plain.column_names)
            for batch in plain.to_batches(max_chunksize=65_536):
                writer.writerows(zip(*(c.to_pylist() for c in batch.columns), strict=True))


def _write_parquet(table: Any, path: Path) -> None:
    """One row group per ``ROW_GROUP`` rows, each with only the dictionary values it uses:
    a payouts table's member dictionary is the whole tree (a million ids), which Parquet
    would write into every row group (9.4M payouts: 3.7 s written whole, 2.4 s this way)."""
    with pq.ParquetWriter(path, table.schema) as writer:
        for start in range(0, max(len(table), 1), ROW_GROUP):
            writer.write_table(_compact(table.slice(start, ROW_GROUP)).cast(table.schema))


ROW_GROUP = 2**20  # rows per Parquet row group (pyarrow's default)


def _write_jsonl(table: Any, path: Path) -> None:
    with path.open("w", encoding="utf-8") as file:
        for batch in _plain(table).to_batches(max_chunksize=65_536):
            file.writelines(
                json.dumps(row, ensure_ascii=False, default=_json_value) + "\n"
                for row in batch.to_pylist()
            )


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


_WRITERS: dict[str, Callable[[Any, Path], None]] = {
    ".csv": _write_csv,
    ".parquet": _write_parquet,
    ".jsonl": _write_jsonl,
}
