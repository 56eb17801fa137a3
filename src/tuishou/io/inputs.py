"""The command line's input files, read into the library's objects with every problem at once.

- **members file**: one row per member: ``member_id``, ``inviter_id`` (empty for a root),
  ``tier``, optionally ``status`` (empty: active) and the other record fields of
  :meth:`tuishou.InviteTree.to_records`. Checked by ``InviteTree.from_records``.
- **orders file**: one row per order line, the columns of :func:`tuishou.engine.batch.settle_batch`:
  ``order_id``, ``buyer_id``, ``sharer_id``, ``sku``, ``group``, ``amount`` (int fen),
  ``quantity``, ``paid_at`` (optional; the same on every line of an order), and the order's
  coupon, ``coupon`` and ``coupon_eligible`` (optional: :mod:`tuishou.io.coupon_cells`). A buyer the
  members file does not list is a guest (as in ``settle``); a sharer it does not list is an
  error. Under policy versions, an order needs ``paid_at`` (unless there is one version), in
  force from the first version on, and its groups rated by its version. An order (so each
  line) is at most ``tuishou.money.MAX_ORDER_FEN``.
- **ids** (member, inviter, tier, order, buyer, sharer, SKU, group) follow :mod:`tuishou.ids`:
  one that is not normal is refused with its file, line and normal form, as the library does.
- **times** (``joined_at``, ``probation_until``, ``paid_at``) are ISO text or Parquet
  timestamps. One
  written with an offset (``2026-11-24T09:00:00+08:00``) is taken as is; one without is read
  in the platform's time zone ``zone`` (the command line's ``--timezone``, by default
  ``Asia/Shanghai``), so every time handed to the library is aware (see ``tuishou.ids``).
- **roster** and **mapping** files: the rows of :func:`tuishou.migrate_team`'s roster
  (``RosterEntry``) and of its ``MigrationPolicy`` (``TierMapping``).

The library's own checks run on the rows; where they name a record or entry by its index,
the message names the file and line instead (see :mod:`tuishou.io.files` for places).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tuishou.errors import InvalidPolicyError, InvalidTreeError, UnknownOrderError, did_you_mean
from tuishou.ids import check_id
from tuishou.io.cells import PLATFORM_ZONE, Column
from tuishou.io.checks import (
    check_cells,
    check_groups,
    check_ids,
    check_one_per_order,
    check_order_totals,
    check_sharers,
    check_versions,
    mask,
)
from tuishou.io.coupon_cells import COUPON_COLUMNS, check_coupons
from tuishou.io.files import DataFile, Problems, Table, read_table
from tuishou.io.member_columns import tree_from_columns
from tuishou.io.policy_file import load_policy
from tuishou.io.policy_versions_file import load_policy_versions
from tuishou.members.records import RECORD_KEYS, SUGGEST_LIMIT
from tuishou.orders import Order, OrderLine
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.settlement.coupons import coupon_from_lines
from tuishou.tree import InviteTree

__all__ = [
    "MEMBER_COLUMNS",
    "ORDER_COLUMNS",
    "PLATFORM_ZONE",
    "OrderLines",
    "check_orders",
    "first_rows",
    "load_data",
    "local_times",
    "read_members",
    "read_orders",
    "read_policy",
    "read_policy_or_versions",
    "read_rows",
    "translate",
]

_TIMES = ("joined_at", "probation_until")

_REQUIRED_MEMBER = ("member_id", "inviter_id", "tier")
MEMBER_COLUMNS = tuple(
    Column(
        name,
        "value",
        required=name in _REQUIRED_MEMBER,
        blank_is_none=name not in ("member_id", "tier"),  # blank ids: the library says so
        identifier=name in _REQUIRED_MEMBER,
    )
    for name in RECORD_KEYS
)
ORDER_COLUMNS = (
    Column("order_id", identifier=True),
    Column("buyer_id", required=False, identifier=True),
    Column("sharer_id", required=False, identifier=True),
    Column("sku", identifier=True),
    Column("group", identifier=True),
    Column("amount", "integer"),
    Column("quantity", "integer", required=False),
    Column("paid_at", "time", required=False),
    Column("coupon", "integer", required=False),  # checked by io.coupon_cells
    Column("coupon_eligible", "value", required=False),
)
_PER_ORDER = ("buyer_id", "sharer_id", "paid_at")  # the same on every line of an order


def read_policy_or_versions(path: Path) -> Policy | PolicyVersions:
    """A policy file as a ``Policy`` (:func:`read_policy`), a folder of them as
    ``PolicyVersions`` (``load_policy_versions``: every problem names its file).

    >>> import importlib.resources
    >>> data = Path(str(importlib.resources.files("tuishou") / "data"))
    >>> read_policy_or_versions(data / "versions").names
    ('v1', 'v2')
    """
    return load_policy_versions(path) if path.is_dir() else read_policy(path)


def read_policy(path: Path) -> Policy:
    """``load_policy``, with the file named in every problem.

    >>> import importlib.resources
    >>> read_policy(Path(str(importlib.resources.files("tuishou") / "data" / "youpin.toml"))).name
    'youpin-tuishou'
    """
    try:
        return load_policy(path)
    except InvalidPolicyError as exc:
        if str(exc).startswith(str(path)):  # load_policy named it already (not TOML, ...)
            raise
        raise InvalidPolicyError.from_problems(f"{path}: invalid policy", exc.problems) from None


def load_data(
    policies: Sequence[Policy | PolicyVersions],
    members: Path | DataFile,
    orders: Path | DataFile,
    *,
    zone: tzinfo = PLATFORM_ZONE,
) -> tuple[InviteTree, OrderLines]:
    """The tree and the order lines, checked against every policy; or ``InvalidFileError``
    listing every problem of both files. Members' tiers must be in each policy; their times
    without an offset are read in ``zone``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> from tuishou.examples import example_policy
    >>> _ = (folder / "m.csv").write_text("member_id,inviter_id,tier\\nA,,m\\n")
    >>> _ = (folder / "o.csv").write_text("order_id,sharer_id,sku,group,amount\\no1,A,s,g,100\\n")
    >>> tree, lines = load_data([example_policy()], folder / "m.csv", folder / "o.csv")
    >>> len(tree), lines.size
    (1, 1)
    """
    problems = Problems()
    latest = [p.versions[-1].policy if isinstance(p, PolicyVersions) else p for p in policies]
    tiers = (
        [t for t in latest[0].tiers if all(t in p.tiers for p in latest[1:])] if latest else None
    )
    tree, ids = read_members(members, tiers=tiers, problems=problems, zone=zone)
    lines = read_orders(orders, member_ids=ids, policies=policies, problems=problems, zone=zone)
    problems.check()
    if tree is None:  # never: the tree is None only with problems
        raise problems.error()
    return tree, lines


def read_rows(
    path: Path | DataFile, columns: Sequence[Column], problems: Problems
) -> tuple[Table, list[dict[str, Any]]]:
    """The table and its rows as dicts of the columns present; integers in text columns of
    JSON Lines or Parquet become text (the library's models take ids as text), and other
    values that are not text are passed on as read, for the library to name. Ids that are
    not normal, or ``""`` (JSON Lines, Parquet), are reported (:func:`check_ids`; such a ``""``
    is passed on as null, so it is said once); the library checks the rest.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "m.jsonl").write_text('{"member_id": 7, "inviter_id": null, "tier": "m"}')
    >>> read_rows(folder / "m.jsonl", MEMBER_COLUMNS, Problems())[1]
    [{'member_id': '7', 'inviter_id': None, 'tier': 'm'}]
    """
    return _rows_of(read_table(path, columns, problems), columns, problems)


def _rows_of(
    table: Table, columns: Sequence[Column], problems: Problems
) -> tuple[Table, list[dict[str, Any]]]:
    said = check_ids(table, columns, problems)
    present = [c.name for c in columns if c.name in table.columns]
    values = [[_as_text(v) for v in table.text(name)] for name in present]
    for name, column in zip(present, values, strict=True):
        for row in table.bad.get(name, []):  # a float or bytes id: the library says so
            column[row] = table.cell(name, row)
        for row in np.flatnonzero(said[name]).tolist():  # an empty id, said: null for the rest
            column[row] = None if column[row] == "" else column[row]
    return table, [dict(zip(present, row, strict=True)) for row in zip(*values, strict=True)]


def _as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def read_members(
    path: Path | DataFile,
    *,
    tiers: Sequence[str] | None,
    problems: Problems,
    zone: tzinfo = PLATFORM_ZONE,
) -> tuple[InviteTree | None, set[str]]:
    """The invite tree of a members file (None if it has problems) and every id it lists;
    times without an offset are read in ``zone`` (:func:`local_times`).

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "m.csv").write_text("member_id,inviter_id,tier\\nA,,m\\nB,A,boss\\n")
    >>> problems = Problems()
    >>> read_members(folder / "m.csv", tiers=["m"], problems=problems)[0] is None
    True
    >>> print(problems.error().problems[0])  # doctest: +ELLIPSIS
    /.../m.csv, line 3 (member_id='B'): tier='boss' is not in the ladder; known: 'm'
    """
    table = read_table(path, MEMBER_COLUMNS, problems)
    built = None if problems else tree_from_columns(table, MEMBER_COLUMNS, tiers)
    if built is not None:  # plain columns, no problem: built vectorised
        return built
    table, records = _rows_of(table, MEMBER_COLUMNS, problems)
    ids = {r["member_id"] for r in records if isinstance(r.get("member_id"), str)}
    if not all(name in table.columns for name in _REQUIRED_MEMBER):
        return None, ids  # unreadable, or a column missing: that is said, and is enough
    try:
        return InviteTree.from_records(local_times(records, zone), tiers=tiers), ids
    except InvalidTreeError as exc:
        for problem in exc.problems:
            translate(problem, table, "record", problems, first_rows(records))
        return None, ids


def local_times(
    records: list[dict[str, Any]], zone: tzinfo, keys: Sequence[str] = _TIMES
) -> list[dict[str, Any]]:
    """The records with each time (the columns ``keys``, a roster's by default) read as ISO
    text, and one without an offset read in ``zone`` (in place); text that is not ISO is
    left for the library to name.

    >>> [row] = local_times([{"joined_at": "2026-11-24T09:00:00"}], PLATFORM_ZONE)
    >>> row["joined_at"].isoformat()
    '2026-11-24T09:00:00+08:00'
    >>> local_times([{"joined_at": "2026-11-24T09:00:00Z"}], PLATFORM_ZONE)[0]["joined_at"]
    datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.timezone.utc)
    """
    for row in records:
        for key in keys:
            value = row.get(key)
            if isinstance(value, str):
                try:
                    value = datetime.fromisoformat(value)
                except ValueError:
                    continue
            if isinstance(value, datetime):
                row[key] = value if value.utcoffset() is not None else value.replace(tzinfo=zone)
    return records


def first_rows(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The first row of each text ``member_id`` (other values cannot be in a cycle's path).

    >>> first_rows([{"member_id": "A"}, {"member_id": []}, {"member_id": "A"}])
    {'A': 0}
    """
    rows: dict[str, int] = {}
    for row, record in enumerate(records):
        if isinstance(record.get("member_id"), str):
            rows.setdefault(record["member_id"], row)
    return rows


_CYCLE = re.compile(r"cycle: (.*?) \(X → Y")


def translate(
    problem: str, table: Table, word: str, problems: Problems, row_of: dict[str, int]
) -> None:
    """Add a library problem that names rows by index (``record 3``, ``entry 3``,
    ``mappings.3``) with the file and line instead; a cycle gets the lines of its members.

    >>> problems = Problems()
    >>> table = Table(Path("m.csv"), 2, {}, {}, lambda: [2, 3])
    >>> translate("record 1 (member_id='B'): duplicate member_id, first seen in record 0",
    ...           table, "record", problems, {})
    >>> problems.error().problems
    ("m.csv, line 3 (member_id='B'): duplicate member_id, first seen in line 2",)
    """

    def where(match: re.Match[str]) -> str:
        return table.where(int(match[1]))

    pattern = re.compile(rf"\b{re.escape(word)} ?([0-9]+)")
    found = pattern.match(problem)
    if found:
        row, rest = int(found[1]), pattern.sub(where, problem[found.end() :])
        rest = rest[1:] if rest.startswith(".") else rest  # "mappings.3.tier: ..."
        separator = "" if rest.startswith((" (", ":")) else ": "
        if not problems.said(table, row, rest):  # e.g. an id the file's checks refused
            problems.text(table.path, row, f"{table.place(row)}{separator}{rest}")
        return
    cycle = _CYCLE.match(problem)
    members = cycle[1].split(" → ") if cycle else []
    rows = sorted({row_of[m] for m in members if m in row_of})
    if rows:
        problems.text(table.path, rows[0], f"{table.path}, {table.where_all(rows)}: {problem}")
    else:
        problems.add(table.path, problem)


@dataclass(frozen=True, eq=False)
class OrderLines:
    """Checked order lines: ``columns`` for ``settle_batch``, and the ``table`` they came from.

    ``columns`` holds dictionary-encoded text (no string is hashed twice) and int64 amounts.
    """

    table: Table
    columns: dict[str, Any]

    @property
    def size(self) -> int:
        """The number of order lines."""
        return self.table.size

    def order(self, order_id: str) -> Order:
        """The order with this id, built from its lines; ``UnknownOrderError`` if none.

        >>> import tempfile; folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "o.csv").write_text("order_id,sku,group,amount\\no1,a,g,100\\n")
        >>> lines = read_orders(folder / "o.csv", member_ids=set(), policies=[],
        ...                     problems=Problems())
        >>> lines.order("o1").amount
        100
        """
        check_id(order_id, name="order_id")  # e.g. not UTF-8: pyarrow could not compare it
        same = pc.fill_null(pc.equal(self.table.columns["order_id"], order_id), False)
        rows = np.flatnonzero(mask(same)).tolist()
        if not rows:
            known = pc.unique(self.table.columns["order_id"]).to_pylist()
            hint = did_you_mean(order_id, known) if len(known) <= SUGGEST_LIMIT else "check the id"
            raise UnknownOrderError(f"order_id={order_id!r} is not in {self.table.path}; {hint}")
        first = rows[0]
        text = self.table.text
        lines = [
            OrderLine(
                sku=text("sku")[row],
                group=text("group")[row],
                amount=int(self.columns["amount"][row]),
                quantity=int(self.columns["quantity"][row]),
            )
            for row in rows
        ]
        coupon = self.columns.get("coupon")
        eligible = self.columns.get("coupon_eligible")
        return Order(
            order_id=order_id,
            buyer_id=text("buyer_id")[first],
            sharer_id=text("sharer_id")[first],
            paid_at=text("paid_at")[first],
            lines=lines,
            coupon=coupon_from_lines(
                order_id,
                0 if coupon is None else int(coupon[first]),
                lines,
                [True] * len(rows) if eligible is None else [bool(eligible[r]) for r in rows],
            ),
        )


def read_orders(
    path: Path | DataFile,
    *,
    member_ids: Collection[str] | None,
    policies: Sequence[Policy | PolicyVersions],
    problems: Problems,
    zone: tzinfo = PLATFORM_ZONE,
) -> OrderLines:
    """Read and check an orders file: cells, groups in every policy (under versions: in the
    version of each order, which must have one), sharers in ``member_ids`` (None: not
    known, not checked), one buyer, sharer and paid_at per order; times without an offset
    are read in ``zone``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "o.csv").write_text("order_id,sku,group,amount\\no1,a,g,12.5\\n")
    >>> problems = Problems()
    >>> _ = read_orders(folder / "o.csv", member_ids=None, policies=[], problems=problems)
    >>> print(problems.error().problems[0])  # doctest: +ELLIPSIS
    /.../o.csv, line 2: amount='12.5' is not a whole number of fen: ... e.g. 1250 for ¥12.50
    """
    table = read_table(path, ORDER_COLUMNS, problems, zone=zone)
    return check_orders(
        table, member_ids=member_ids, policies=policies, problems=problems, zone=zone
    )


def check_orders(
    table: Table,
    *,
    member_ids: Collection[str] | None,
    policies: Sequence[Policy | PolicyVersions],
    problems: Problems,
    zone: tzinfo = PLATFORM_ZONE,
) -> OrderLines:
    """:func:`read_orders` on a table already read (a whole file, or a chunk of whole orders:
    every check is per line or per order)."""
    for column in ORDER_COLUMNS:
        if column.name in table.columns and column.name not in COUPON_COLUMNS:
            check_cells(table, column, problems)
    said = check_ids(table, ORDER_COLUMNS, problems)
    present = {c.name for c in ORDER_COLUMNS if c.required} <= set(table.columns)
    if present:
        check_order_totals(table, problems)
        for policy in policies:
            if isinstance(policy, PolicyVersions):
                check_versions(table, policy, said["group"], problems, zone=zone)
            else:
                check_groups(table, policy, said["group"], problems)
        if member_ids is not None and "sharer_id" in table.columns:
            check_sharers(table, member_ids, said["sharer_id"], problems)
        for name in _PER_ORDER:
            if name in table.columns:
                check_one_per_order(table, name, problems, zone=zone)
        check_coupons(table, problems)
    columns = {
        name: pc.dictionary_encode(values)
        if isinstance(values, pa.ChunkedArray | pa.Array) and name != "paid_at"
        else values
        for name, values in table.columns.items()
    }
    if "quantity" not in columns:
        columns["quantity"] = np.ones(table.size, dtype=np.int64)
    return OrderLines(table, columns)
