"""Writing a chunk of bulk-posted orders: their order rows, payouts, pending entries and
volume journal rows.

This is the hot path of ``Ledger.post_batch`` (``ledger.bulk``), so it bypasses SQLAlchemy's
per-row processing, which costs more than the database itself at hundreds of thousands of
rows a second:

- on **SQLite**, one ``executemany`` per table with prepared tuples
  (``Connection.exec_driver_sql``), times bound as ``UtcTime`` binds them (ISO 8601 text in
  UTC);
- on **PostgreSQL**, ``COPY ... FROM STDIN`` through psycopg's ``cursor.copy()`` on the
  connection's own driver connection (so inside the ledger's transaction), times as aware
  datetimes in UTC (``timestamptz``);
- on any other database, the ledger's ordinary ``Store.insert`` (SQLAlchemy Core).

All three write the same rows ``Ledger.post`` writes, in the same transaction as the rest of
the chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tuishou.ledger import schema as t
from tuishou.ledger.compiled import driver_errors
from tuishou.ledger.database import database_errors
from tuishou.ledger.store import Store
from tuishou.times import utc

__all__ = ["Chunk", "bulk_cache", "posted_fingerprints", "write_chunk"]

ORDER_COLUMNS = (
    "order_id",
    "fingerprint",
    "policy_id",
    "order_json",
    "snapshot_json",
    "refunded_json",
    "posted_at",
    "freeze_start",
    "due_at",
)
PAYOUT_COLUMNS = ("order_id", "member_id", "rule", "kind", "amount")
ENTRY_COLUMNS = (
    "entry_id",
    "member_id",
    "bucket",
    "reason",
    "amount",
    "at",
    "order_id",
    "rule",
    "kind",
)
VOLUME_COLUMNS = ("volume_id", "member_id", "at", "amount", "order_id", "sold_at")


@dataclass(frozen=True, eq=False)
class Chunk:
    """The rows of one chunk: ``orders`` as (order_id, fingerprint, policy_id, order_json,
    snapshot_json, refunded_json), ``payouts`` as (order_id, member, rule, kind, amount);
    every order posted at ``at`` with the given freeze; entry ids from ``first_entry`` on,
    volume journal ids from ``first_volume`` on."""

    orders: list[tuple[str, str, str, str, str, str]]
    payouts: list[tuple[str, str, str, str, int]]
    at: datetime
    freeze_start: datetime | None
    due_at: datetime | None
    first_entry: int
    volumes: list[tuple[str, str, int]]  # the volume journal: (order_id, seller, paid)
    first_volume: int


BULK_CACHE_KIB = 262_144  # SQLite's page cache while bulk posting: 256 MiB


@contextmanager
def bulk_cache(store: Store) -> Iterator[None]:
    """A large SQLite page cache while bulk posting, restored after: the entries' indexes
    take rows in member order, not in insertion order, and with SQLite's default cache
    (2 MiB) every insert would read and write index pages back and forth."""
    if store.dialect != "sqlite":
        yield
        return
    raw = store.connection.connection.driver_connection
    assert raw is not None
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")


def posted_fingerprints(store: Store, ids: Sequence[str]) -> dict[str, str]:
    """The fingerprints of those of ``ids`` posted already. One bound parameter per query
    (a JSON array on SQLite, an array on PostgreSQL): a SQLAlchemy ``IN`` list of thousands of
    parameters costs more to build than the database takes to answer it."""
    connection = store.connection
    if store.dialect == "sqlite":
        rows = connection.exec_driver_sql(
            f"SELECT order_id, fingerprint FROM {t.orders.name} "
            "WHERE order_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        )
    elif store.dialect == "postgresql":
        rows = connection.exec_driver_sql(
            # a join, not "= ANY(array)": that one scans the whole table per array element
            f"SELECT o.order_id, o.fingerprint FROM {t.orders.name} o "
            "JOIN unnest(%s::text[]) AS wanted(order_id) ON o.order_id = wanted.order_id",
            (list(ids),),
        )
    else:
        o = t.orders.c
        rows = connection.execute(select(o.order_id, o.fingerprint).where(o.order_id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def write_chunk(store: Store, chunk: Chunk) -> None:
    """Insert the chunk's rows inside the caller's transaction."""
    dialect = store.dialect
    with database_errors(store.path):
        if dialect == "sqlite":
            _sqlite(store, chunk)
        elif dialect == "postgresql":
            _postgresql(store, chunk)
        else:
            _portable(store, chunk)


def _times(chunk: Chunk, bind: Any) -> tuple[Any, Any, Any]:
    return tuple(  # type: ignore[return-value]
        None if moment is None else bind(utc(moment))
        for moment in (chunk.at, chunk.freeze_start, chunk.due_at)
    )


def _entries(chunk: Chunk, at: Any) -> list[tuple[Any, ...]]:
    first = chunk.first_entry
    return [
        (first + n, member, "pending", "post", amount, at, order_id, rule or None, kind or None)
        for n, (order_id, member, rule, kind, amount) in enumerate(chunk.payouts)
    ]


def _volumes(chunk: Chunk, at: Any) -> list[tuple[Any, ...]]:
    first = chunk.first_volume
    return [
        (first + n, member, at, amount, order_id, at)
        for n, (order_id, member, amount) in enumerate(chunk.volumes)
    ]


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _sqlite(store: Store, chunk: Chunk) -> None:
    at, start, due = _times(chunk, datetime.isoformat)
    connection = store.connection
    orders = [(*row, at, start, due) for row in chunk.orders]
    connection.exec_driver_sql(_insert_sql(t.orders.name, ORDER_COLUMNS), orders)
    if chunk.payouts:
        connection.exec_driver_sql(_insert_sql(t.payouts.name, PAYOUT_COLUMNS), chunk.payouts)
        connection.exec_driver_sql(_insert_sql(t.entries.name, ENTRY_COLUMNS), _entries(chunk, at))
    if chunk.volumes:
        connection.exec_driver_sql(_insert_sql(t.volumes.name, VOLUME_COLUMNS), _volumes(chunk, at))


def _postgresql(store: Store, chunk: Chunk) -> None:
    at, start, due = _times(chunk, lambda moment: moment)
    raw = store.connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        orders = [(*row, at, start, due) for row in chunk.orders]
        _copy(store, cursor, t.orders.name, ORDER_COLUMNS, orders)
        _copy(store, cursor, t.payouts.name, PAYOUT_COLUMNS, chunk.payouts)
        _copy(store, cursor, t.entries.name, ENTRY_COLUMNS, _entries(chunk, at))
        _copy(store, cursor, t.volumes.name, VOLUME_COLUMNS, _volumes(chunk, at))


def _copy(store: Store, cursor: Any, table: str, columns: tuple[str, ...], rows: list[Any]) -> None:
    if rows:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with driver_errors(store.connection, sql), cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def _portable(store: Store, chunk: Chunk) -> None:
    at, start, due = chunk.at, chunk.freeze_start, chunk.due_at
    store.insert(
        t.orders,
        [dict(zip(ORDER_COLUMNS, (*row, at, start, due), strict=True)) for row in chunk.orders],
    )
    store.insert(t.payouts, [dict(zip(PAYOUT_COLUMNS, row, strict=True)) for row in chunk.payouts])
    store.insert(
        t.entries, [dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in _entries(chunk, at)]
    )
    store.insert(
        t.volumes, [dict(zip(VOLUME_COLUMNS, row, strict=True)) for row in _volumes(chunk, at)]
    )
