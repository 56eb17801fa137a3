"""Statements (对账单) computed by the database: one member's, or every member's, paged.

A statement is sums over the member's entries (``docs/ledger.md``, "Periods and
statements"), so the database adds them up and nothing beyond one page of sums is held in
Python (one member's lines are read only when ``statement`` asks for them):

- the **members** of a period are every member with an entry in ``[start, end)`` or a
  non-zero balance at ``start``: a page of member ids with an entry before ``end`` (``SELECT
  DISTINCT`` over the ``(member_id, at)`` index), those with nothing to show dropped;
- **opening**, **closing** and the **movements** come from one pass over the page's entries
  dated before ``end`` (``GROUP BY member_id``): the ``ledger.sums`` balances of the entries
  before ``start`` and of all of them, and each movement summed by bucket and reason over
  the entries in the period, each a ``SUM(CASE ...)`` of its own, so that
  ``Statement.check`` compares independent sums; what was earned is split by ``rule,
  kind`` in a second, smaller query (the period's ``post`` entries);
- the **pending schedule** joins the pending entries before ``end`` to their orders'
  ``freeze_start`` and ``due_at`` (``GROUP BY member_id, due_at``): pending whose freeze
  started before ``end`` is due on the local date of ``due_at``; the rest awaits receipt.

A statement depends only on entries dated before ``end`` and on due dates fixed when a freeze
starts (a freeze starting at or after ``end`` counts as awaiting receipt), so once the ledger's
clock has passed ``end`` (a close moves it there) the statement never changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from itertools import islice
from typing import Any, NoReturn

from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from tuishou.errors import LedgerError
from tuishou.ledger import schema as t
from tuishou.ledger.models import Balance
from tuishou.ledger.statement_models import MOVEMENTS, Period, PeriodClose, Statement, StatementLine
from tuishou.ledger.store import Store
from tuishou.ledger.stored import COLUMNS, decode
from tuishou.ledger.sums import balance_columns, odd_entries, whole_sums

__all__ = [
    "MEMBERS_PER_PAGE",
    "STATEMENT_COLUMNS",
    "is_closed",
    "member_statement",
    "statement_rows",
    "statements",
    "statements_arrow",
    "statements_frame",
    "totals_before",
]

MEMBERS_PER_PAGE = 1000
"""How many members ``statements`` sums per page of queries: what it holds at most."""
_BATCH = 10_000  # statements per Arrow record batch
_EMPTY = Balance(0, 0, 0)

_CORRECTIONS = ("refund", "clawback", "write_off")  # lines that may refer to a closed period
_DECODE = {
    "member_id": COLUMNS["entries"]["member_id"],
    "due_at": COLUMNS["orders"]["due_at"],
    "started": lambda value: bool(value),
    "amount": lambda value: value,
}


def is_closed(period: Period, closes: Sequence[PeriodClose]) -> bool:
    """Whether ``period`` is one of the recorded closes (same label, bounds and zone)."""
    return any(close.period == period for close in closes)


def member_statement(
    store: Store, member_id: str, period: Period, closes: Sequence[PeriodClose]
) -> Statement:
    """One member's statement, with its lines (every entry of the member in the period);
    ``closes`` are the recorded closes (``periods.closed_periods``)."""
    closed = is_closed(period, closes)
    with store.reading() as connection:
        page = _page(store, connection, period, closed, [member_id], keep_all=True)
        e = t.entries.c
        found = store.entries(e.member_id == member_id, e.at >= period.start, e.at < period.end)
        earlier = [close.period for close in closes if close.period.end <= period.start]
        refers = _refers_to(store, earlier, {x.order_id for x in found if x.order_id})
    lines = tuple(
        StatementLine(
            x.entry_id,
            x.at,
            x.bucket,
            x.reason,
            x.amount,
            x.order_id,
            x.rule,
            x.kind,
            x.request_id,
            refers.get(x.order_id or "") if x.reason in _CORRECTIONS else None,
        )
        for x in found
    )
    return replace(page[0], lines=lines)


def statements(store: Store, period: Period, closed: bool) -> Iterator[Statement]:
    """Every member's statement (without lines), by member id, a page of members at a time,
    each page in its own short read."""
    after: str | None = None
    while True:
        with store.reading() as connection:
            members = _member_page(connection, period, after)
            if not members:
                return
            page = _page(store, connection, period, closed, members, keep_all=False)
        yield from page
        after = members[-1]


def statement_rows(store: Store, period: Period, closed: bool) -> Iterator[dict[str, Any]]:
    """``statements`` as flat rows (``Statement.as_row``)."""
    return (statement.as_row() for statement in statements(store, period, closed))


STATEMENT_COLUMNS = tuple(Statement("m", Period.month("2026-11"), False, _EMPTY, _EMPTY).as_row())
"""The columns of ``statements_frame`` and ``statements_arrow`` (all but member_id and
period int64 fen)."""


def statements_arrow(store: Store, period: Period, closed: bool) -> Any:
    """Every member's statement as a pyarrow Table, one row per member (``STATEMENT_COLUMNS``),
    built a record batch at a time. Needs the ``columnar`` extra."""
    rows = statement_rows(store, period, closed)
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - the columnar extra is installed in the tests
        raise ImportError(_MISSING.format(what="statements_arrow needs pyarrow")) from None
    schema = pa.schema(
        [("member_id", pa.string()), ("period", pa.string())]
        + [(name, pa.int64()) for name in STATEMENT_COLUMNS[2:]]
    )
    batches = []
    while chunk := list(islice(rows, _BATCH)):
        columns = [[row[name] for row in chunk] for name in STATEMENT_COLUMNS]
        batches.append(pa.RecordBatch.from_arrays(columns, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def statements_frame(store: Store, period: Period, closed: bool) -> Any:
    """``statements_arrow`` as a pandas DataFrame (the sums int64)."""
    try:
        import pandas  # noqa: F401  (to_pandas below needs it)
    except ImportError:  # pragma: no cover - the columnar extra is installed in the tests
        raise ImportError(_MISSING.format(what="statements_frame needs pandas")) from None
    return statements_arrow(store, period, closed).to_pandas()


_MISSING = "Ledger.{what}, which is not installed: pip install 'tuishou[columnar]'"


def totals_before(store: Store, moment: datetime) -> Balance:
    """The ledger's balances summed over every member, from the entries before ``moment``."""
    e = t.entries.c
    with store.reading() as connection:
        row = connection.execute(
            select(*balance_columns(), odd_entries()).where(e.at < moment)
        ).one()
    sums = whole_sums(row)
    if sums is None:
        raise LedgerError(
            f"the ledger {store.path} holds entries that do not add up (sums {list(row)!r}); "
            "the database was altered outside tuishou: restore it from a backup"
        )
    return Balance(*sums)


# ------------------------------------------------------------------------- pages


def _member_page(connection: Connection, period: Period, after: str | None) -> list[str]:
    e = t.entries.c
    later = [e.member_id > after] if after is not None else []
    return list(
        connection.execute(
            select(e.member_id)
            .where(*later, e.at < period.end)
            .distinct()
            .order_by(e.member_id)
            .limit(MEMBERS_PER_PAGE)
        ).scalars()
    )


def _page(
    store: Store,
    connection: Connection,
    period: Period,
    closed: bool,
    members: list[str],
    *,
    keep_all: bool,
) -> list[Statement]:
    """The statements of ``members`` (sorted ids): the members with nothing in the period
    and nothing at its start are dropped unless ``keep_all``."""
    e = t.entries.c
    if len(members) == 1:
        chosen: list[ColumnElement[bool]] = [e.member_id == members[0]]
    else:
        chosen = [e.member_id >= members[0], e.member_id <= members[-1]]
    sums = _sums(store, connection, period, chosen)
    in_period = [*chosen, e.at >= period.start, e.at < period.end]
    earned = _earned(connection, in_period)
    bonus = _bonus_lines(connection, period, members)
    schedule, awaiting = _schedule(store, connection, period, chosen)
    made = []
    for member in members:
        opening, closing, moved, entries = sums.get(member, (_EMPTY, _EMPTY, {}, 0))
        if not keep_all and not entries and opening == _EMPTY:
            continue
        statement = Statement(
            member,
            period,
            closed,
            opening,
            closing,
            earned_by_rule=tuple(earned.get(member, ())),
            bonus_lines=tuple(bonus.get(member, ())),
            schedule=tuple(sorted(schedule.get(member, {}).items())),
            awaiting_receipt=awaiting.get(member, 0),
        )
        made.append(replace(statement, **moved))
    return made


def _sums(
    store: Store, connection: Connection, period: Period, chosen: list[ColumnElement[bool]]
) -> dict[str, tuple[Balance, Balance, dict[str, Any], int]]:
    """Per member: the opening and closing balances, the movements and how many entries
    are in the period, in one pass over the member's entries before ``end``."""
    e = t.entries.c
    inside = e.at >= period.start
    movements = [
        func.coalesce(func.sum(case((and_(inside, condition), e.amount), else_=0)), 0).label(name)
        for name, condition in _movement_conditions()
    ]
    rows = connection.execute(
        select(
            e.member_id,
            *balance_columns(e.at < period.start, prefix="opening_"),
            *balance_columns(prefix="closing_"),  # every entry read is before the end
            *movements,
            func.coalesce(func.sum(case((inside, 1), else_=0)), 0),
            odd_entries(),
        )
        .where(*chosen, e.at < period.end)
        .group_by(e.member_id)
    ).all()
    made = {}
    for row in rows:
        sums = whole_sums(row[1:])
        if sums is None:
            _damaged(store, row[0], list(row[1:]))
        opening, closing = Balance(*sums[:7]), Balance(*sums[7:14])
        end = 14 + len(MOVEMENTS)
        moved = dict(zip(MOVEMENTS, sums[14:end], strict=True))
        made[row[0]] = (opening, closing, moved, sums[end])
    return made


def _movement_conditions() -> list[tuple[str, ColumnElement[bool]]]:
    """Which entries each movement sums (``MOVEMENTS`` order): by bucket and reason."""
    e = t.entries.c
    by_reason = {
        "earned": ("pending", ("post",)),
        "reversed": ("pending", ("refund",)),
        "released": ("available", ("release",)),
        "bonuses": ("available", ("bonus",)),
        "clawed_back": ("available", ("clawback",)),
        "written_off": ("available", ("write_off",)),
        "withdrawals": ("available", ("withdrawal", "withdrawal_requested")),
        "rejected": ("available", ("withdrawal_rejected",)),
    }
    conditions: list[tuple[str, ColumnElement[bool]]] = []
    for name in MOVEMENTS:
        if name in by_reason:
            bucket, reasons = by_reason[name]
            conditions.append((name, and_(e.bucket == bucket, e.reason.in_(reasons))))
        else:  # withdrawn, fees: the whole bucket
            conditions.append((name, e.bucket == name))
    return conditions


def _earned(
    connection: Connection, where: list[ColumnElement[bool]]
) -> dict[str, list[tuple[str, str, int]]]:
    e = t.entries.c
    rows = connection.execute(
        select(e.member_id, e.rule, e.kind, func.sum(e.amount))
        .where(*where, e.bucket == "pending", e.reason == "post")
        .group_by(e.member_id, e.rule, e.kind)
        .order_by(e.member_id, e.rule, e.kind)
    ).all()
    made: dict[str, list[tuple[str, str, int]]] = {}
    for member, rule, kind, amount in rows:
        made.setdefault(member, []).append((rule or "", kind or "", int(amount)))
    return made


def _bonus_lines(
    connection: Connection, period: Period, members: list[str]
) -> dict[str, list[tuple[str, str, str, str, int]]]:
    """The bonus lines (``tuishou_bonus_lines``) behind the bonus entries of ``members``
    (sorted ids) in the period: the lines of the runs whose entries (rule = plan, kind,
    request id ``plan/period``) the member has in it. Read from the lines, not the entries,
    so that ``Statement.check`` compares the two."""
    e, b = t.entries.c, t.bonus_lines.c
    posted = (
        select(e.entry_id)
        .where(
            e.member_id == b.member_id,
            e.at >= period.start,
            e.at < period.end,
            e.bucket == "available",
            e.reason == "bonus",
            e.rule == b.plan,
            e.kind == b.kind,
            e.request_id == b.plan + "/" + b.period_id,
        )
        .exists()
    )
    rows = connection.execute(
        select(b.member_id, b.plan, b.period_id, b.kind, b.source_id, b.amount)
        .where(b.member_id >= members[0], b.member_id <= members[-1], b.amount != 0, posted)
        .order_by(b.member_id, b.plan, b.period_id, b.kind, b.source_id)
    ).all()
    made: dict[str, list[tuple[str, str, str, str, int]]] = {}
    for who, plan, period_id, kind, source, amount in rows:
        made.setdefault(who, []).append((plan, period_id, kind, source or "", int(amount)))
    return made


def _schedule(
    store: Store, connection: Connection, period: Period, chosen: list[ColumnElement[bool]]
) -> tuple[dict[str, dict[date, int]], dict[str, int]]:
    """Pending at ``end`` per member: by the local date its freeze ends (freeze started
    before ``end``), and what awaits receipt (the freeze had not started by ``end``)."""
    e, o = t.entries.c, t.orders.c
    started = case((and_(o.freeze_start.is_not(None), o.freeze_start < period.end), 1), else_=0)
    amount = func.sum(e.amount).label("amount")
    rows = connection.execute(
        select(e.member_id, o.due_at, started.label("started"), amount)
        .select_from(t.entries.join(t.orders, e.order_id == o.order_id))
        .where(
            *chosen,
            e.at < period.end,
            e.bucket == "pending",
            o.posted_at < period.end,
            (o.released_at.is_(None)) | (o.released_at >= period.end),
        )
        .group_by(e.member_id, o.due_at, started)
    ).mappings()
    dated: dict[str, dict[date, int]] = {}
    awaiting: dict[str, int] = {}
    for raw in rows:
        row = decode(store.path, "orders", dict(raw), _DECODE)
        fen = int(row["amount"])
        if not fen:
            continue
        member = row["member_id"]
        if row["started"] and row["due_at"] is not None:
            on = period.local_date(row["due_at"])
            dated.setdefault(member, {})[on] = dated.get(member, {}).get(on, 0) + fen
        else:
            awaiting[member] = awaiting.get(member, 0) + fen
    return dated, awaiting


def _refers_to(store: Store, earlier: list[Period], order_ids: set[str]) -> dict[str, str]:
    """For each order posted in one of the ``earlier`` closed periods, that period's label."""
    if not order_ids or not earlier:
        return {}
    o = t.orders.c
    rows = store.read(
        "orders", select(o.order_id, o.posted_at).where(o.order_id.in_(sorted(order_ids)))
    )
    found = {}
    for row in rows:
        for closed in earlier:
            if closed.start <= row["posted_at"] < closed.end:
                found[row["order_id"]] = closed.label
    return found


def _damaged(store: Store, member: str, sums: list[Any]) -> NoReturn:
    store.entries(t.entries.c.member_id == member)  # names the damaged row, if it can
    raise LedgerError(
        f"the ledger {store.path} holds entries of member {member!r} that do not add up "
        f"(sums {sums!r}); the database was altered outside tuishou: restore it from a backup"
    )
