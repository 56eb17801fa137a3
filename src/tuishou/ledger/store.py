"""The ledger's storage: one SQLite database (``:memory:`` by default), versioned.

A ``Store`` is an open ledger database (its schema, version 2, and how the file is opened and
checked are in ``ledger.schema``) with the ledger's row reads and writes.

Every time is ISO 8601 text in UTC, indexed where the ledger's clock (``ledger.clock``) looks
for the latest one; every value read back is decoded by ``ledger.stored``. Every write runs in
one ``BEGIN IMMEDIATE`` transaction, so a crash leaves each operation either fully recorded or
not at all, and concurrent writers queue rather than interleave. Every ``sqlite3`` error comes
out as a ``LedgerError`` that says what to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuishou.errors import DuplicateRequestError, LedgerError, UnknownOrderError
from tuishou.ledger.models import Entry, LedgerPolicy, RequestKind
from tuishou.ledger.schema import (
    LEDGER_TABLES,
    POLICY_TABLE,
    SCHEMA,
    SCHEMA_VERSION,
    connect,
    database_errors,
    schema_version,
)
from tuishou.ledger.stored import decode, stored_time

__all__ = [
    "LEDGER_TABLES",
    "POLICY_TABLE",
    "SCHEMA_VERSION",
    "Store",
    "database_errors",
    "entry_row",
    "schema_version",
]

_ENTRY_COLUMNS = "entry_id, member_id, bucket, reason, amount, at, order_id, rule, kind, request_id"


class Store:
    """A SQLite connection with the ledger's schema and transaction helpers.

    ``policy_json`` is recorded as the ledger's policy when the database is new.
    """

    def __init__(self, path: str | Path, *, policy_json: str, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        with database_errors(self.path):
            self.db = connect(self.path, read_only)
        try:
            with database_errors(self.path):
                self.db.execute("PRAGMA foreign_keys = ON")
            self._prepare(policy_json)  # before WAL: someone else's file is left as it was
            with database_errors(self.path):
                if self.path != ":memory:" and not read_only:
                    self.db.execute("PRAGMA journal_mode = WAL")
                    self.db.execute("PRAGMA synchronous = FULL")
        except BaseException:
            self.db.close()
            raise

    def _prepare(self, policy_json: str) -> None:
        with self.reading() if self.read_only else self.transaction() as db:
            version = schema_version(db, self.path)
            if version is None and not self.read_only:
                for statement in SCHEMA.split(";"):  # executescript would commit early
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                self.record_policy(policy_json, datetime.now(UTC), "created")
                return
        if version is None:
            raise LedgerError(
                f"{self.path} holds no ledger yet; a read-only ledger can only open an existing one"
            )
        if version == 1:
            raise LedgerError(
                f"{self.path} is a ledger of schema version 1 (naive times, no stored policy); "
                "upgrade it once with Ledger.upgrade(path, policy=<the LedgerPolicy it ran "
                "with>, naive_times=<the time zone its naive times were in>)"
            )
        if version != SCHEMA_VERSION:
            raise LedgerError(
                f"{self.path} has ledger schema version {version}, newer than this tuishou "
                f"understands ({SCHEMA_VERSION}); upgrade tuishou to open it"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all of it is recorded, or none of it."""
        if self.read_only:
            raise LedgerError(
                f"the ledger {self.path} was opened read-only (for reports); "
                "open it without read_only=True to change it"
            )
        with self._transaction("BEGIN IMMEDIATE") as db:
            yield db

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside it sees the same state."""
        with self._transaction("BEGIN") as db:
            yield db

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with database_errors(self.path):
            self.db.execute(begin)
            try:
                yield self.db
            except BaseException:
                if self.db.in_transaction:  # SQLite may have rolled back already (disk full)
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def one(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """The first row of a query, or None."""
        with database_errors(self.path):
            return self.db.execute(sql, parameters).fetchone()

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """Every row of a query (aggregates and existence; stored values go through ``read``)."""
        with database_errors(self.path):
            return self.db.execute(sql, parameters).fetchall()

    def read(self, table: str, sql: str, parameters: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of a query on ``table``, each value decoded (``stored.decode``): a value
        the ledger would not have written is a ``LedgerError`` naming the file and the row."""
        with database_errors(self.path):
            cursor = self.db.execute(sql, parameters)
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        return [decode(self.path, table, dict(zip(names, row, strict=True))) for row in rows]

    def record_policy(self, policy_json: str, at: datetime, note: str) -> None:
        """Record ``policy_json`` as the ledger's policy from ``at`` on."""
        self.db.execute(
            "INSERT INTO ledger_policy (at, policy_json, note) VALUES (?, ?, ?)",
            (stored_time(at), policy_json, note),
        )

    def policy_rows(self) -> list[tuple[datetime, LedgerPolicy, str]]:
        """Every recorded policy, oldest first: (at, policy, note); the first is the creation."""
        rows = self.read(
            "ledger_policy",
            "SELECT change_id, at, policy_json, note FROM ledger_policy ORDER BY change_id",
        )
        if not rows:
            raise LedgerError(
                f"the ledger {self.path} has an empty ledger_policy table (a "
                "ledger records the policy it was created with); the file was "
                "altered outside tuishou: restore it from a backup"
            )
        return [(row["at"], row["policy_json"], row["note"]) for row in rows]

    def add_entries(self, rows: Sequence[dict[str, Any]]) -> list[Entry]:
        """Insert entries (dicts with Entry's fields but the id) and return them with ids."""
        made = []
        for row in rows:
            cursor = self.db.execute(
                "INSERT INTO entries (member_id, bucket, reason, amount, at, order_id, rule, "
                "kind, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row["member_id"],
                    row["bucket"],
                    row["reason"],
                    row["amount"],
                    stored_time(row["at"]),
                    row.get("order_id"),
                    row.get("rule"),
                    row.get("kind"),
                    row.get("request_id"),
                ),
            )
            made.append(
                Entry(entry_id=cursor.lastrowid or 0, **{**row, "at": row["at"].astimezone(UTC)})
            )
        return made

    def entries(self, where: str = "1", parameters: Sequence[Any] = ()) -> list[Entry]:
        """Entries matching a SQL condition, oldest first."""
        rows = self.read(
            "entries",
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE {where} ORDER BY entry_id",
            parameters,
        )
        return [Entry(**row) for row in rows]

    def payouts(self, order_id: str) -> dict[tuple[str, str, str], int]:
        """What an order pays now, per (member, rule, kind)."""
        rows = self.read(
            "payouts",
            "SELECT order_id, member_id, rule, kind, amount FROM payouts "
            "WHERE order_id = ? AND amount != 0",
            (order_id,),
        )
        return {(row["member_id"], row["rule"], row["kind"]): row["amount"] for row in rows}

    def set_payout(self, order_id: str, key: tuple[str, str, str], amount: int) -> None:
        """Record what an order pays one (member, rule, kind) now."""
        self.db.execute(
            "INSERT INTO payouts VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id, "
            "member_id, rule, kind) DO UPDATE SET amount = excluded.amount",
            (order_id, *key, amount),
        )

    def available(self, member_id: str) -> int:
        """A member's available balance (SQLite refuses, never wraps, a sum beyond int64)."""
        where = "bucket = 'available' AND member_id = ?"
        self.read(
            "entries",
            f"SELECT entry_id, amount FROM entries WHERE {where} "  # refuses
            "AND typeof(amount) != 'integer' LIMIT 1",
            (member_id,),
        )  # a damaged amount
        row = self.one(f"SELECT COALESCE(SUM(amount), 0) FROM entries WHERE {where}", (member_id,))
        return int(row[0])

    def order_row(self, order_id: str, *columns: str) -> dict[str, Any]:
        """Columns of a posted order, decoded (``policy_json``: its commission policy);
        refuses an order never posted."""
        source = "orders JOIN policies USING (policy_id)" if "policy_json" in columns else "orders"
        rows = self.read(
            "orders",
            f"SELECT order_id, {', '.join(columns)} FROM {source} WHERE order_id = ?",
            (order_id,),
        )
        if not rows:
            raise UnknownOrderError(f"order {order_id!r} was never posted to this ledger")
        return rows[0]

    def seen(self, request_id: str, kind: RequestKind, fingerprint: str) -> bool:
        """Whether this refund or withdrawal was carried out; refuses an id used otherwise."""
        rows = self.read(
            "requests",
            "SELECT request_id, kind, fingerprint FROM requests WHERE request_id = ?",
            (request_id,),
        )
        if not rows:
            return False
        if (rows[0]["kind"], rows[0]["fingerprint"]) != (kind, fingerprint):
            raise DuplicateRequestError(
                f"{kind} id {request_id!r} was already used for a different request; use a new id"
            )
        return True

    def record_request(
        self, request_id: str, kind: RequestKind, fingerprint: str, at: datetime
    ) -> None:
        """Remember that a refund or withdrawal id was carried out."""
        self.db.execute(
            "INSERT INTO requests VALUES (?, ?, ?, ?)",
            (request_id, kind, fingerprint, stored_time(at)),
        )


def entry_row(
    key: tuple[str, str, str],
    bucket: str,
    reason: str,
    amount: int,
    at: datetime,
    order_id: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An entry to add (``Store.add_entries``) for a (member, rule, kind)."""
    member, rule, kind = key
    return {
        "member_id": member,
        "bucket": bucket,
        "reason": reason,
        "amount": amount,
        "at": at,
        "order_id": order_id,
        "rule": rule or None,
        "kind": kind or None,
        "request_id": request_id,
    }
