"""The rule that an order's lines are together in an orders file, checked chunk by chunk
over the chunks of :mod:`tuishou.io.chunks` (see docs/cli.md, "Large files").

Exact, with no hashing shortcut: each chunk's distinct order ids are kept (as Arrow arrays,
about 15 bytes an order) and every later chunk is compared with them by ``pc.is_in``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tuishou.io.checks import mask, text_codes
from tuishou.io.chunks import ChunkTable
from tuishou.io.files import Problems

__all__ = ["Contiguity"]


class Contiguity:
    """Checks that every order's lines are together, over the chunks of one file in turn.

    >>> from pathlib import Path
    >>> problems = Problems()
    >>> table = ChunkTable(Path("o.parquet"), 3, {"order_id": pa.array(["a", "b", "a"])}, {},
    ...                    None)
    >>> Contiguity().check(table, problems)
    False
    >>> print(problems.error().problems[0])  # doctest: +ELLIPSIS
    o.parquet, row 3: order_id='a' was seen before, at row 1; an order's lines must be ...
    """

    def __init__(self, first_seen: Callable[[str], str] = lambda order: "an earlier chunk") -> None:
        self._first_seen = first_seen  # the place of an order's first line, read again
        self._seen: list[Any] = []  # each chunk's distinct order ids (concatenating: copies)
        self._broken = False

    def check(self, table: ChunkTable, problems: Problems) -> bool:
        """Whether the chunk's orders are together and new; the first break is reported
        (only the first of the file: the rest follow from it)."""
        ids = table.columns.get("order_id")
        if ids is None or self._broken or not table.size:
            return not self._broken
        ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        codes = text_codes(ids)
        distinct = pc.unique(ids.drop_null()).cast(pa.string())
        offending, seen = self._inside(table, codes), self._before(ids, distinct)
        if offending is None and seen is None:
            self._seen.append(distinct)
            return True
        row, where = min(x for x in (offending, seen) if x is not None)
        value = ids[row].as_py()
        problems.at(
            table,
            row,
            f"order_id={value!r} was seen before, at {where}; an order's lines must be "
            "together in the file: sort it by order_id (e.g. in pandas "
            "df.sort_values('order_id', kind='stable'), or in DuckDB "
            "ORDER BY order_id) and run again",
        )
        self._broken = True
        return False

    def _inside(self, table: ChunkTable, codes: np.ndarray[Any, Any]) -> tuple[int, str] | None:
        """The first row that starts a second run of an order in the chunk, and the place
        of its first run; None if there is none."""
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]] & (codes >= 0))
        if not len(starts):
            return None
        runs = codes[starts]
        order = np.argsort(runs, kind="stable")
        repeat = np.flatnonzero(runs[order][1:] == runs[order][:-1]) + 1
        if not len(repeat):
            return None
        second = int(min(starts[order[repeat]]))
        first = int(starts[np.flatnonzero(runs == codes[second])[0]])
        return second, table.where(first)

    def _before(self, ids: Any, distinct: Any) -> tuple[int, str] | None:
        """The first row of an order an earlier chunk had, and where it had it."""
        repeated = [e.filter(pc.is_in(e, value_set=distinct)) for e in self._seen]
        again = [found for found in repeated if len(found)]
        if not again:
            return None  # the first row naming any earlier order, whichever chunk had it:
        hits = pc.is_in(ids, value_set=pa.concat_arrays(again))
        row = int(np.flatnonzero(mask(pc.fill_null(hits, False)))[0])
        return row, self._first_seen(ids[row].as_py())
