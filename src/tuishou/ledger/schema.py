"""The ledger's database file: its schema (DDL), opening it, and checking what it holds.

Schema, version 2 (see ``docs/ledger.md`` for the meaning of each column):

Schema, version 2 (see ``docs/ledger.md`` for the meaning of each column):

- ``schema_version(version)``: one row; a newer version is refused, version 1 is upgraded
  only by an explicit ``Ledger.upgrade`` (see ``ledger_upgrade``).
- ``ledger_policy(change_id, at, policy_json, note)``: the ``LedgerPolicy`` the ledger was
  created with (it applies from the start) and every recorded change of it (each applies
  from its ``at`` on).
- ``policies(policy_id, policy_json)``: every commission policy an order was posted under,
  keyed by the SHA-256 of its JSON.
- ``orders(order_id PRIMARY KEY, ...)``: one row per posted order: its fingerprint, the order
  and the settlement snapshot (seller, attribution, chain), the quantities refunded so far,
  and the freeze clock (``freeze_start``, ``due_at``, ``released_at``). The primary key makes
  posting an order twice impossible, even from two processes.
- ``payouts(order_id, member_id, rule, kind, ...)``: what each order currently pays each
  member under each rule, after refunds.
- ``entries(entry_id, ...)``: the immutable history every balance is summed from.

``connect`` opens a file (read-only when asked), ``schema_version`` tells a ledger of either
version from an empty file or someone else's, and ``database_errors`` turns every ``sqlite3``
error into a ``LedgerError`` that says what to do. Rows are read and written by
``ledger.store``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tuishou.errors import LedgerError

__all__ = [
    "LEDGER_TABLES",
    "POLICY_TABLE",
    "SCHEMA",
    "SCHEMA_VERSION",
    "connect",
    "database_errors",
    "schema_version",
]

SCHEMA_VERSION = 2
POLICY_TABLE = """
CREATE TABLE ledger_policy (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    policy_json TEXT NOT NULL,
    note TEXT NOT NULL
)"""
SCHEMA = (
    """
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
CREATE INDEX entries_by_time ON entries (at);
CREATE INDEX orders_by_posting ON orders (posted_at);
CREATE INDEX orders_by_freeze ON orders (freeze_start);
CREATE INDEX orders_by_release ON orders (released_at);
CREATE TABLE requests (
    request_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX requests_by_time ON requests (at);
"""
    + POLICY_TABLE
)
LEDGER_TABLES = frozenset(
    {"schema_version", "ledger_policy", "policies", "orders", "payouts", "entries", "requests"}
)
_ADVICE = [  # (part of sqlite's message, what the ledger says), first match wins
    (
        "not a database",
        "is not a SQLite database (another kind of file, or damaged); pass the "
        "path of a ledger file, or a new path to create one",
    ),
    (
        "integer overflow",
        "holds a sum beyond SQLite's 64-bit integers, which the ledger never "
        "writes (amounts are bounded): restore the file from a backup",
    ),
    ("readonly", "is read-only; open it with read_only=True for reports, or make it writable"),
    ("locked", "stayed locked by another process for 60 s; retry when it is done"),
    ("busy", "stayed locked by another process for 60 s; retry when it is done"),
    (
        "unable to open",
        "cannot be opened; check that the path and its folder exist and that you may read them",
    ),
]


@contextmanager
def database_errors(path: str) -> Iterator[None]:
    """Turn any ``sqlite3`` error into a ``LedgerError`` naming the file and the way out."""
    try:
        yield
    except sqlite3.Error as exc:
        text = str(exc)
        advice = next(
            (say for part, say in _ADVICE if part in text.lower()),
            "failed; check the file and the disk, or restore it from a backup",
        )
        raise LedgerError(f"the ledger database {path} {advice} (sqlite: {text})") from exc


def connect(path: str, read_only: bool) -> sqlite3.Connection:
    """Open the database at ``path`` (an existing file when ``read_only``), in autocommit mode.

    Transactions are opened explicitly, by ``Store.transaction`` and ``Store.reading``.
    """
    if not read_only:
        return sqlite3.connect(path, timeout=60, isolation_level=None)
    if path == ":memory:" or not Path(path).is_file():
        raise LedgerError(
            f"there is no ledger file at {path}; a read-only ledger opens an existing file"
        )
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
        db.execute("SELECT 1 FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:  # a WAL file in a folder we cannot write: no -shm file
        return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)


def schema_version(db: sqlite3.Connection, path: str) -> int | None:
    """The ledger schema version of an open database; None for an empty database.

    Refuses someone else's database (tables, but no ledger) and a damaged ledger.
    """
    tables = {
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if not tables:
        return None
    if "schema_version" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise LedgerError(
            f"{path} is a SQLite database of something else (tables {shown}), "
            "not a ledger; tuishou adds no tables to it: pass a new path"
        )
    try:
        found = db.execute("SELECT version FROM schema_version").fetchall()
    except sqlite3.OperationalError as exc:
        found = [(str(exc),)]
    if len(found) != 1 or type(found[0][0]) is not int or found[0][0] < 1:
        raise LedgerError(
            f"{path} has a damaged schema_version table ({found[:3]!r}, expected "
            "one row with the version number); restore the file from a backup"
        )
    version: int = found[0][0]
    missing = LEDGER_TABLES - tables - ({"ledger_policy"} if version == 1 else set())
    if missing and version <= SCHEMA_VERSION:
        raise LedgerError(
            f"{path} is a damaged ledger: tables {', '.join(sorted(missing))} are "
            "missing; restore the file from a backup"
        )
    return version
