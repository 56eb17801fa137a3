"""The orders file checked chunk by chunk (:mod:`tuishou.io.chunks`), for commands that
settle as they read: every problem of every chunk is gathered (at most
:attr:`StreamProblems.limit`, then reading stops), each placed in the whole file, and the
caller settles a chunk only while no problem has been found, so a refusal still writes and
posts nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy.typing as npt
import pyarrow as pa

from tuishou.errors import InvalidFileError
from tuishou.io.cells import PLATFORM_ZONE
from tuishou.io.chunks import OrdersFile, Progress
from tuishou.io.contiguity import Contiguity
from tuishou.io.files import DataFile, Problems, Table
from tuishou.io.inputs import ORDER_COLUMNS, OrderLines, check_orders, read_members
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.tree import InviteTree

__all__ = ["KnownIds", "StreamProblems", "checked_chunks", "load_members"]


class KnownIds(frozenset[str]):
    """Member ids, with the same ids as one Arrow array (built once, for every chunk's
    check of its sharers, instead of once a chunk).

    >>> KnownIds({"A"}).arrow.to_pylist()
    ['A']
    """

    @cached_property
    def arrow(self) -> Any:
        """The ids as a pyarrow string array."""
        return pa.array(list(self), pa.string())


class StreamProblems(Problems):
    """:class:`Problems` over the chunks of a file: rows are placed in the whole file (the
    chunk being checked starts at ``offset``), a problem of the whole file said once, and
    at most ``limit`` problems kept (the rest counted).

    >>> problems = StreamProblems()
    >>> problems.add("o.csv", "missing column(s) ['sku']")
    >>> problems.add("o.csv", "missing column(s) ['sku']")
    >>> len(problems.error().problems)
    1
    """

    limit = 1000

    def __init__(self) -> None:
        super().__init__()
        self.offset = 0  # rows of the file before the chunk being checked
        self.more = 0  # problems found past the limit
        self.stopped = ""  # where reading stopped once full ("o.csv, line 9"), or ""
        self._texts: set[str] = set()
        self._named: dict[Hashable, int] = {}  # rows named so far, per check
        self._rest: dict[Hashable, list[Any]] = {}  # per check: [count, first row, its text]

    @property
    def full(self) -> bool:
        """Whether the limit is reached (reading on would only count)."""
        return len(self._texts) >= self.limit

    def text(self, path: str | Path, row: int, text: str) -> None:
        """As :meth:`Problems.text`, the row counted in the whole file."""
        if text in self._texts:
            return
        if self.full:
            self.more += 1
            return
        self._texts.add(text)
        super().text(path, row if row < 0 else row + self.offset, text)

    def rows(
        self, table: Table, rows: Sequence[int] | npt.NDArray[Any], describe: Callable[[int], str]
    ) -> None:
        """As :meth:`Problems.rows`, over the whole file: a check names its first
        ``per_check`` rows of the file, whatever the chunks, and counts the rest in one line
        (said by :meth:`error`), from the first of them."""
        key = _check_of(table, describe)
        named = self._named.get(key, 0)
        room = max(self.per_check - named, 0)
        for row in list(rows[:room]):
            self.at(table, int(row), describe(int(row)))
        self._named[key] = named + min(room, len(rows))
        if len(rows) > room:
            first = int(rows[room])
            rest = self._rest.setdefault(
                key, [0, first + self.offset, f"from {table.where(first)}: {describe(first)}"]
            )
            rest[0] += len(rows) - room
            rest.append(table.path)

    def error(self) -> InvalidFileError:
        """The problems as one error; those past the limit counted in one more line."""
        for count, row, text, path, *_ in self._rest.values():
            Problems.text(self, path, row, f"{path}: {count:,} more row(s) like these, {text}")
        self._rest.clear()
        if self.stopped:
            Problems.text(
                self,
                "~",
                (1 << 62) + 1,
                f"reading stopped after {self.stopped}: the lines "
                "after it were not checked; fix these and run again",
            )
            self.stopped = ""
        if self.more:
            super().text("~", 1 << 62, f"and {self.more:,} more problem(s) not listed")
            self.more = 0
        return super().error()


def _check_of(table: Table, describe: Callable[[int], str]) -> Hashable:
    """Which check named rows: the file, the code of ``describe`` and the text it closes
    over (a column's name), the same for every chunk."""
    code = getattr(describe, "__code__", describe)
    cells = []
    for cell in getattr(describe, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, str):
            cells.append(value)
    return (str(table.path), code, tuple(cells))


def load_members(
    policies: Sequence[Policy | PolicyVersions],
    members: Path | DataFile,
    problems: Problems,
    *,
    zone: tzinfo = PLATFORM_ZONE,
) -> tuple[InviteTree | None, set[str]]:
    """The members file read whole (as :func:`tuishou.io.inputs.load_data` reads it): the
    tree (None with problems) and every member id."""
    latest = [p.versions[-1].policy if isinstance(p, PolicyVersions) else p for p in policies]
    tiers = (
        [t for t in latest[0].tiers if all(t in p.tiers for p in latest[1:])] if latest else None
    )
    return read_members(members, tiers=tiers, problems=problems, zone=zone)


def checked_chunks(
    orders: OrdersFile,
    *,
    member_ids: set[str] | None,
    policies: Sequence[Policy | PolicyVersions],
    problems: StreamProblems,
    zone: tzinfo = PLATFORM_ZONE,
    progress: Progress | None = None,
) -> Iterator[OrderLines]:
    """The orders file's chunks, each checked as :func:`tuishou.io.inputs.read_orders`
    checks a whole file, and its orders' lines together and not seen in an earlier chunk
    (:class:`tuishou.io.contiguity.Contiguity`). A chunk is settled by the caller only while
    ``problems`` is empty; reading stops once ``problems`` is full.
    """
    together = Contiguity(orders.first_seen)
    known = None if member_ids is None else KnownIds(member_ids)
    for table in orders.tables(ORDER_COLUMNS, problems, zone=zone, progress=progress):
        problems.offset = table.first
        try:
            lines = check_orders(
                table, member_ids=known, policies=policies, problems=problems, zone=zone
            )
            together.check(table, problems)
        finally:
            problems.offset = 0
        yield lines
        if problems.full:
            problems.stopped = table.place(table.size - 1) if table.size else str(table.path)
            return
