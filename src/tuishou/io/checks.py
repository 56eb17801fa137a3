"""The cell checks of the command line's input files: each problem with its file, row and value.

- **ids** (member, inviter, tier, order, buyer, sharer, SKU, group): the columns marked
  ``identifier`` follow :mod:`tuishou.ids`; a cell that is not normal is refused, naming its
  normal form, in the words of the library (``tuishou.ids.id_problem``). So is an explicit
  ``""`` (JSON Lines, Parquet: a null is written ``null`` there), with the way out: null for
  no buyer, no share link, no inviter. An empty CSV cell is a null, not ``""``
  (:data:`tuishou.io.files.EMPTY_IS_NULL`).
- **orders**: whole numbers where they belong, amounts from 0 to ``MAX_ORDER_FEN`` per line
  and per order, groups every policy rates, sharers who are members, one buyer and one
  sharer per order.

Rows already reported for one problem are not reported again by a later check of the same
column (a padded group is not also an unknown group).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tuishou.engine.paid_at import NO_TIME, micros
from tuishou.errors import did_you_mean
from tuishou.ids import MAX_ID_LENGTH, id_problem
from tuishou.io.cells import Column, describe_bad_integer, describe_bad_time, too_large
from tuishou.io.files import Problems, Table
from tuishou.io.jsontext import shown
from tuishou.members.records import SUGGEST_LIMIT
from tuishou.money import MAX_ORDER_FEN
from tuishou.orders import EMPTY_MEANS
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy

__all__ = [
    "check_cells",
    "check_groups",
    "check_ids",
    "check_one_per_order",
    "check_order_totals",
    "check_sharers",
    "check_versions",
    "first_rows",
    "mask",
    "text_codes",
]

_NORMAL_ASCII = r"^[!-~]([ -~]*[!-~])?$"  # printable ASCII, trimmed: a normal id for sure
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NULL_MEANS = {**EMPTY_MEANS, "inviter_id": "no inviter"}  # what a null id cell says


def check_cells(table: Table, column: Column, problems: Problems) -> None:
    """The cells of one orders column: readable as its kind, in range, not empty if required."""
    name = column.name
    bad = table.bad.get(name, [])
    values = table.columns[name]
    if column.kind == "time":
        problems.rows(table, bad, lambda row: describe_bad_time(name, table.cell(name, row)))
        return
    if column.kind == "integer":
        problems.rows(
            table,
            bad,
            lambda row: describe_bad_integer(name, table.cell(name, row), money=name == "amount"),
        )
        low = values < (0 if name == "amount" else 1)
        low[bad] = False  # unreadable cells hold 0 and are reported above
        low = np.flatnonzero(low)
        problems.rows(
            table,
            low,
            lambda row: (
                f"{name}={int(values[row])} is "
                + ("negative; amounts are fen >= 0" if name == "amount" else "below 1")
            ),
        )
        if name == "amount":
            high = np.flatnonzero(values > MAX_ORDER_FEN)
            problems.rows(table, high, lambda row: too_large(name, int(values[row])))
        return
    problems.rows(
        table,
        bad,
        lambda row: (
            f"{name}={shown(table.cell(name, row))} is a "
            f"{type(table.cell(name, row)).__name__}; ids and names are text"
        ),
    )
    if column.required:
        empty = mask(pc.is_null(values))
        empty[bad] = False
        problems.rows(table, np.flatnonzero(empty), lambda row: f"{name} is empty")


def check_groups(
    table: Table,
    policy: Policy,
    said: npt.NDArray[np.bool_],
    problems: Problems,
    *,
    version: str = "",
) -> None:
    """Every group has a pool rate in ``policy`` (rows in ``said`` were reported already, or
    are settled under another version); ``version`` says which version ``policy`` is."""
    groups = table.columns["group"]
    known = pa.array(list(policy.group_rates), pa.string())
    unknown = ~mask(pc.or_(pc.is_in(groups, known), pc.is_null(groups))) & ~said  # said so
    hint = _hints(list(policy.group_rates))
    problems.rows(
        table,
        np.flatnonzero(unknown),
        lambda row: (
            f"group={shown(groups[row].as_py())} has no pool rate in policy {policy.name!r}"
            f"{version}; "
            f"{hint(groups[row].as_py())}"
        ),
    )


def check_versions(
    table: Table,
    versions: PolicyVersions,
    said: npt.NDArray[np.bool_],
    problems: Problems,
    *,
    zone: tzinfo = UTC,
) -> None:
    """Every order has a version in force when it was paid (its first line's ``paid_at``;
    without one, the only version); every line's group is rated by its order's version.
    Times are shown in ``zone``."""
    orders = text_codes(table.columns["order_id"])
    first = first_rows(orders, table.size)
    rows = np.arange(table.size)
    head = np.where(orders >= 0, first[np.maximum(orders, 0)], rows)
    paid = table.columns.get("paid_at")
    at = np.full(table.size, NO_TIME, dtype=np.int64)
    if paid is not None:
        numbers = pc.fill_null(paid.cast(pa.int64()), NO_TIME)
        at = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.int64)[head]
    starts = np.array([micros(start) for start in versions.starts], dtype=np.int64)
    index = np.searchsorted(starts, at, side="right") - 1
    if len(starts) == 1:
        index[at == NO_TIME] = 0
    unreadable = np.zeros(table.size, dtype=bool)
    unreadable[table.bad.get("paid_at", [])] = True  # said as a bad cell
    refused = np.flatnonzero((index < 0) & (rows == head) & ~unreadable[head])
    column = table.columns["order_id"]

    def describe(row: int) -> str:
        when = None if at[row] == NO_TIME else _EPOCH + timedelta(microseconds=int(at[row]))
        when = None if when is None else when.astimezone(zone)
        return versions.order_problem(column[row].as_py(), when) or ""

    problems.rows(table, refused, describe)
    for version in np.unique(index[index >= 0]).tolist():
        chosen = versions.versions[version]
        where = f" ({chosen.describe()}, in force when the order was paid)"
        check_groups(table, chosen.policy, said | (index != version), problems, version=where)


def check_sharers(
    table: Table, member_ids: Collection[str], said: npt.NDArray[np.bool_], problems: Problems
) -> None:
    """Every sharer is a member (rows in ``said`` were reported already)."""
    sharers = table.columns["sharer_id"]
    known = getattr(member_ids, "arrow", None)  # KnownIds: built once for every chunk
    known = pa.array(list(member_ids), pa.string()) if known is None else known
    strangers = ~mask(pc.or_(pc.is_in(sharers, known), pc.is_null(sharers))) & ~said
    hint = _hints(member_ids)
    problems.rows(
        table,
        np.flatnonzero(strangers),
        lambda row: (
            f"sharer_id={shown(sharers[row].as_py())} is not a member; "
            f"{hint(sharers[row].as_py())} "
            "(a sharer must be in the members file; an unknown buyer is a guest)"
        ),
    )


def check_one_per_order(table: Table, name: str, problems: Problems, *, zone: tzinfo = UTC) -> None:
    """Every line of an order names the buyer (sharer, paid_at) of its first line; times are
    shown in ``zone``."""
    orders = text_codes(table.columns["order_id"])
    values = text_codes(table.columns[name])
    first = first_rows(orders, table.size)
    known = orders >= 0  # a line without an order id is reported as such, not here
    head = np.where(known, first[np.maximum(orders, 0)], np.arange(table.size))
    differs = np.flatnonzero(values != values[head])
    column = table.columns[name]

    def describe(row: int) -> str:
        start = int(head[row])
        return (
            f"{name}={_shown(column[row].as_py(), zone)} differs from the order's first line "
            f"({table.where(start)}: {_shown(column[start].as_py(), zone)}); an order has "
            f"one {name}"
        )

    problems.rows(table, differs, describe)


def _shown(value: Any, zone: tzinfo) -> str:
    """A cell for a message: a time as ISO text in ``zone``, anything else by ``shown``."""
    return value.astimezone(zone).isoformat() if isinstance(value, datetime) else shown(value)


def check_order_totals(table: Table, problems: Problems) -> None:
    """Every order's lines sum to at most ``MAX_ORDER_FEN`` (lines above it are said already)."""
    orders = text_codes(table.columns["order_id"])
    amounts = np.asarray(table.columns["amount"], dtype=np.int64)
    counted = (orders >= 0) & (amounts >= 0) & (amounts <= MAX_ORDER_FEN)
    totals = np.zeros(orders.max(initial=0) + 1, dtype=np.int64)  # < 2**63: ≤ 10**10 a line
    np.add.at(totals, orders[counted], amounts[counted])
    over = np.flatnonzero(totals > MAX_ORDER_FEN)
    if not len(over):
        return
    first = first_rows(orders, table.size)
    lines = np.bincount(orders[orders >= 0], minlength=len(totals))
    column = table.columns["order_id"]

    def describe(row: int) -> str:
        code = int(orders[row])
        return too_large(
            "order_id",
            column[row].as_py(),
            why=f"its {int(lines[code])} line(s) sum to {int(totals[code]):,} fen; ",
        )

    problems.rows(table, np.sort(first[over]), describe)


def check_ids(
    table: Table, columns: Sequence[Column], problems: Problems
) -> dict[str, npt.NDArray[np.bool_]]:
    """Report every id cell that is not normal (``tuishou.ids.id_problem``); return, for each
    id column, the rows reported, so that later checks do not name them again.

    Null cells and cells that are not text are left to the checks that say so, as is ``""``
    in a column that keeps blanks for the library's own message (``Column.blank_is_none``).

    >>> from pathlib import Path
    >>> problems = Problems()
    >>> table = Table(Path("m.csv"), 2, {"tier": ["m", "m "]}, {}, lambda: [2, 3])
    >>> check_ids(table, [Column("tier", "value", identifier=True)], problems)["tier"].tolist()
    [False, True]
    >>> print(problems.error().problems[0])
    m.csv, line 3: tier='m ' is not a normal id; use its normal form 'm' (NFKC, trimmed)
    >>> table = Table(Path("o.jsonl"), 1, {"buyer_id": pa.array([""])}, {}, lambda: [1])
    >>> _ = check_ids(table, [Column("buyer_id", identifier=True)], problems)
    >>> print(problems.error().problems[1])
    o.jsonl, line 1: buyer_id='' is empty; ids are non-empty text; use null for no buyer
    """
    said: dict[str, npt.NDArray[np.bool_]] = {}
    for column in columns:
        values = table.columns.get(column.name)
        said[column.name] = np.zeros(table.size, dtype=bool)
        if values is None or not column.identifier:
            continue
        if isinstance(values, list):
            text = pa.array([v if isinstance(v, str) else None for v in values], pa.string())
        else:
            text = values
        usual = pc.and_(  # short, printable, trimmed ASCII: normal at once (RE2 in C)
            pc.match_substring_regex(text, _NORMAL_ASCII),
            pc.less_equal(pc.utf8_length(text), MAX_ID_LENGTH),
        )
        unusual = pc.unique(pc.filter(text, pc.invert(pc.fill_null(usual, True))))
        found = {
            value: problem
            for value in unusual.to_pylist()
            if (value or column.blank_is_none) and (problem := _id_problem(value, column))
        }
        if found:
            said[column.name] = _report(table, text, found, problems)
    return said


def _id_problem(value: str, column: Column) -> str | None:
    """``id_problem``; for ``""``, with what to write instead where a null means something."""
    problem = id_problem(value, name=column.name)
    if problem and not value and column.name in _NULL_MEANS:
        problem += f"; use null for {_NULL_MEANS[column.name]}"
    return problem


def _report(
    table: Table, text: Any, found: dict[str, str], problems: Problems
) -> npt.NDArray[np.bool_]:
    """Report the rows of ``text`` holding a value of ``found`` with its problem."""
    rows = mask(pc.fill_null(pc.is_in(text, pa.array(list(found), pa.string())), False))
    problems.rows(table, np.flatnonzero(rows), lambda row: found[text[row].as_py()])
    return rows


def first_rows(orders: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    """The first row of each order (by code; -1 codes, missing ids, are left out)."""
    first = np.full(orders.max(initial=0) + 1, size, dtype=np.int64)
    known = orders >= 0
    np.minimum.at(first, orders[known], np.flatnonzero(known))
    return first


def text_codes(values: Any) -> npt.NDArray[np.int64]:
    """Dictionary codes of a text column, -1 for a missing value."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return np.asarray(encoded.indices.fill_null(-1).to_numpy(), dtype=np.int64)


def mask(values: Any) -> npt.NDArray[np.bool_]:
    """A pyarrow boolean array as a numpy one."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


def _hints(known: Collection[str]) -> Callable[[str], str]:
    """``did_you_mean`` per distinct name, remembered: many rows often share one bad name."""
    seen: dict[str, str] = {}

    def hint(name: str) -> str:
        if name not in seen:
            seen[name] = (
                did_you_mean(name, known) if len(known) <= SUGGEST_LIMIT else "check the id"
            )
        return seen[name]

    return hint
