"""The ledger's storage: one SQLite database (``:memory:`` by default), versioned.

Schema, version 1 (see ``docs/ledger.md`` for the meaning of each column):

- ``schema_version(version)``: one row; opening a database of a newer version is refused.
- ``policies(policy_id, policy_json)``: every commission policy an order was posted under,
  keyed by the SHA-256 of its JSON.
- ``orders(order_id PRIMARY KEY, ...)``: one row per posted order: its fingerprint, the order
  and the settlement snapshot (seller, attribution, chain), the quantities refunded so far,
  and the freeze clock (``freeze_start``, ``due_at``, ``released_at``). The primary key makes
  posting an order twice impossible, even from two processes.
- ``payouts(order_id, member_id, rule, kind, ...)``: what each order currently pays each
  member under each rule, after refunds.
- ``entries(entry_id, ...)``: the immutable history every balance is summed from.
- ``requests(request_id PRIMARY KEY, ...)``: refund and withdrawal ids already carried out.

Every write runs in one ``BEGIN IMMEDIATE`` transaction, so a crash leaves each operation
either fully recorded or not at all, and concurrent writers queue rather than interleave.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import LedgerError
from .ledger_models import Entry

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE policies (policy_id TEXT PRIMARY KEY, policy_json TEXT NOT NULL);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES policies (policy_id),
    order_json TEXT NOT NULL,
    snapshot_json TEXT NOT NULL,
    refunded_json TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    freeze_start TEXT,
    due_at TEXT,
    released_at TEXT
);
CREATE TABLE payouts (
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    member_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (order_id, member_id, rule, kind)
);
CREATE TABLE entries (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount INTEGER NOT NULL,
    at TEXT NOT NULL,
    order_id TEXT,
    rule TEXT,
    kind TEXT,
    request_id TEXT
);
CREATE INDEX entries_by_member ON entries (member_id);
CREATE INDEX entries_by_order ON entries (order_id);
CREATE TABLE requests (
    request_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    at TEXT NOT NULL
);
"""
_ENTRY_COLUMNS = "entry_id, member_id, bucket, reason, amount, at, order_id, rule, kind, request_id"


class Store:
    """A SQLite connection with the ledger's schema and a transaction helper."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        # Autocommit mode: transactions are opened explicitly, IMMEDIATE, in transaction().
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = FULL")
        self._prepare()

    def _prepare(self) -> None:
        with self.transaction():
            found = self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if found is None:
                for statement in _SCHEMA.split(";"):  # executescript would commit early
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                return
            version = self.db.execute("SELECT version FROM schema_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.path} has ledger schema version {version}, newer than this tuishou "
                f"understands ({SCHEMA_VERSION}); upgrade tuishou to open it"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all of it is recorded, or none of it."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def one(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """The first row of a query, or None."""
        return self.db.execute(sql, parameters).fetchone()

    def add_entries(self, rows: Sequence[dict[str, Any]]) -> list[Entry]:
        """Insert entries (dicts with Entry's fields but the id) and return them with ids."""
        made = []
        for row in rows:
            cursor = self.db.execute(
                "INSERT INTO entries (member_id, bucket, reason, amount, at, order_id, rule, "
                "kind, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row["member_id"], row["bucket"], row["reason"], row["amount"],
                 row["at"].isoformat(), row.get("order_id"), row.get("rule"), row.get("kind"),
                 row.get("request_id")),
            )
            made.append(Entry(entry_id=cursor.lastrowid or 0, **row))
        return made

    def entries(self, where: str = "1", parameters: Sequence[Any] = ()) -> list[Entry]:
        """Entries matching a SQL condition, oldest first."""
        rows = self.db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE {where} ORDER BY entry_id", parameters
        ).fetchall()
        return [_entry(row) for row in rows]


def _entry(row: Sequence[Any]) -> Entry:
    entry_id, member, bucket, reason, amount, at, order_id, rule, kind, request_id = row
    return Entry(entry_id=entry_id, member_id=member, bucket=bucket, reason=reason, amount=amount,
                 at=datetime.fromisoformat(at), order_id=order_id, rule=rule, kind=kind,
                 request_id=request_id)
