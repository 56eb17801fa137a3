"""The orders file checked chunk by chunk (:mod:`tuishou.io.chunks`), for commands that
settle as they read: every problem of every chunk is gathered (at most
:attr:`StreamProblems.limit`, then reading stops), each placed in the whole file, and the
caller settles a chunk only while no problem has been found, so a refusal still writes and
posts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from tuishou.errors import InvalidFileError
from tuishou.io.cells import PLATFORM_ZONE
from tuishou.io.chunks import OrdersFile, Progress
from tuishou.io.contiguity import Contiguity
from tuishou.io.files import DataFile, Problems
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
        self._texts: set[str] = set()

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

    def error(self) -> InvalidFileError:
        """The problems as one error; those past the limit counted in one more line."""
        if self.more:
            super().text("~", 1 << 62, f"and {self.more:,} more problem(s) not listed")
            self.more = 0
        return super().error()


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
            return
