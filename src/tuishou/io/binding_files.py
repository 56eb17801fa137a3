"""Customer bindings (锁粉) from a file: CSV, JSON Lines or Parquet (docs/domain.md §16).

A **bindings file** has one row per binding: ``customer_id``, ``member_id``, ``since`` and
optionally ``until`` (empty: permanent) and ``how`` (``first_share``, ``rebind``,
``register`` or ``import``; empty: ``import``). Times are ISO 8601 text (CSV, JSON Lines)
or timestamps (Parquet); a time without an offset is read in the platform's time zone
(``timezone``, ``--timezone``), one with an offset keeps it (``explain`` shows it so).

Every problem is reported at once, each with its file and line (or Parquet row): a bad id or
time, a member bound to itself, an ``until`` not after ``since``, two bindings of a customer
that overlap, and (given the tree) a bound member who is not in it.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any

from tuishou.bindings import Bindings
from tuishou.errors import InvalidBindingError
from tuishou.io.cells import PLATFORM_ZONE, Column
from tuishou.io.files import DataFile, Problems, Table
from tuishou.io.inputs import local_times, read_rows, translate
from tuishou.members.records import member_hint
from tuishou.tree import InviteTree

__all__ = ["BINDING_COLUMNS", "load_bindings", "read_bindings"]

BINDING_COLUMNS = (
    Column("customer_id", blank_is_none=False, identifier=True),
    Column("member_id", blank_is_none=False, identifier=True),
    Column("since", "value"),
    Column("until", "value", required=False),
    Column("how", required=False),
)
_TIMES = ("since", "until")


def load_bindings(
    path: Path | str, *, timezone: tzinfo = PLATFORM_ZONE, tree: InviteTree | None = None
) -> Bindings:
    """The bindings of a file (by extension: ``.csv``, ``.jsonl``, ``.parquet``); times
    without an offset read in ``timezone``; with ``tree``, every bound member must be in it.
    ``InvalidFileError`` lists every problem.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "b.csv").write_text(
    ...     "customer_id,member_id,since,until,how\\n"
    ...     "c-1,B,2026-11-03T08:00:00,2026-11-10T08:00:00,first_share\\n")
    >>> [binding.describe()[:53] for binding in load_bindings(folder / "b.csv")]
    ['customer c-1 bound to B since 2026-11-03 08:00 +08:00']
    >>> _ = (folder / "bad.csv").write_text("customer_id,member_id,since\\nB,B,2026-11-03\\n")
    >>> load_bindings(folder / "bad.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidFileError: bad input: 1 problem(s)
      1. .../bad.csv, line 2: customer_id='B' is member_id: a member can never be bound to ...
    """
    problems = Problems()
    bindings = read_bindings(DataFile.of(Path(path)), problems, zone=timezone, tree=tree)
    problems.check()
    assert bindings is not None  # None only with problems
    return bindings


def read_bindings(
    path: Path | DataFile,
    problems: Problems,
    *,
    zone: tzinfo = PLATFORM_ZONE,
    tree: InviteTree | None = None,
) -> Bindings | None:
    """The bindings of a file, or None; its problems are added to ``problems`` (with
    ``tree``, a bound member who is not in it is one)."""
    table, records = read_rows(path, BINDING_COLUMNS, problems)
    if not all(c.name in table.columns for c in BINDING_COLUMNS if c.required):
        return None  # unreadable, or a column missing: that is said, and is enough
    records = [_record(row, zone) for row in records]
    if tree is not None:
        _strangers(records, tree, table, problems)
    try:
        bindings = Bindings.from_records(records)
    except InvalidBindingError as exc:
        for problem in exc.problems:
            _add(problem, table, records, problems)
        return None
    return bindings  # the caller raises the problems, the strangers' too


def _strangers(
    records: list[dict[str, Any]], tree: InviteTree, table: Table, problems: Problems
) -> None:
    """A problem for each row whose member is not in ``tree``: it would credit a stranger."""
    for row, record in enumerate(records):
        member = record.get("member_id")
        if isinstance(member, str) and member and member not in tree:
            problems.at(
                table, row, f"member_id={member!r} is not a member; {member_hint(member, tree)}"
            )


def _record(row: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """A row as ``Binding`` takes it: ISO text as datetimes (in ``zone`` without an offset),
    an empty ``until`` or ``how`` left out (permanent; imported)."""
    record = {key: value for key, value in row.items() if value is not None or key == "since"}
    return local_times([record], zone, _TIMES)[0]  # text the model cannot read, it names


def _add(problem: str, table: Table, records: list[dict[str, Any]], problems: Problems) -> None:
    """A library problem with its place: ``record N`` is row N; an overlap names the rows of
    its customer."""
    if problem.startswith("record "):
        translate(problem, table, "record", problems, {})
        return
    customer = problem.partition("'")[2].partition("'")[0]  # "customer 'c-1': ..."
    rows = [row for row, record in enumerate(records) if record.get("customer_id") == customer]
    if rows:
        problems.text(table.path, rows[0], f"{table.path}, {table.where_all(rows)}: {problem}")
    else:  # pragma: no cover - every overlap names a customer of the file
        problems.add(table.path, problem)
