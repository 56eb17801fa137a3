"""Where a ledger lives: a SQLAlchemy URL, a SQLite path, an ``Engine`` or a ``Connection``.

``connect(target, read_only)`` turns what ``Ledger.open`` was given into a ``Database``: one
SQLAlchemy ``Connection`` the ledger uses for its life, and whether the ledger owns it.

- A **path** (or ``":memory:"``) is a SQLite file, opened by ``sqlite_engine``: WAL mode,
  ``synchronous=FULL``, foreign keys on, a 60 s busy timeout, and SQLAlchemy's recipe for
  pysqlite transactions (the driver's own would start them late and break savepoints).
- A **URL** (``postgresql+psycopg://...``, ``sqlite:///...``) makes an engine the ledger owns.
- An **Engine** is the backend's: the ledger takes one connection from its pool.
- A **Connection** is the backend's, perhaps inside its own transaction: each ledger
  operation then runs in a savepoint of it, so a refusal undoes only the ledger's part, and
  the backend commits (or rolls back) the ledger's writes together with its own.

``database_errors`` turns every database error into a ``LedgerError`` that says what to do.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from tuishou.errors import ArgumentTypeError, LedgerError

__all__ = ["Database", "connect", "database_errors", "describe", "sqlite_engine", "use_wal"]

_TABLES_GONE = (
    "has no ledger tables (a transaction that created them was rolled back, or they were "
    "dropped): open the ledger again to create them"
)
_ADVICE = [  # (part of the driver's message, what the ledger says), first match wins
    (
        "not a database",
        "is not a SQLite database (another kind of file, or damaged); pass the "
        "path of a ledger file, or a new path to create one",
    ),
    (
        "integer overflow",
        "holds a sum beyond 64-bit integers, which the ledger never writes (amounts are "
        "bounded): restore the database from a backup",
    ),
    ("out of range", "holds a sum beyond 64-bit integers: restore the database from a backup"),
    ("readonly", "is read-only; open it with read_only=True for reports, or make it writable"),
    ("read-only", "is read-only; open it with read_only=True for reports, or make it writable"),
    (
        "database is locked",
        "is locked by another process (the ledger waits up to 60 s); retry when it is done",
    ),
    ("busy", "is locked by another process (the ledger waits up to 60 s); retry when it is done"),
    (
        "unable to open",
        "cannot be opened; check that the path and its folder exist and that you may read them",
    ),
    (
        "connection refused",
        "cannot be reached; check the URL and that the server runs and accepts you",
    ),
    (
        "could not connect",
        "cannot be reached; check the URL and that the server runs and accepts you",
    ),
    (
        "too many clients",
        "refused a connection: too many are open; close ledgers no longer used "
        "(Ledger.close, or a with block) or raise the server's max_connections",
    ),
    ("password", "refused the login; check the user and password in the URL"),
    ("no such table", _TABLES_GONE),  # SQLite
    ('relation "tuishou_', _TABLES_GONE),  # PostgreSQL: 'relation "tuishou_…" does not exist'
    ("does not exist", "has no such database or role; create it first, or check the URL"),
    ("permission denied", "refused a statement: the ledger's role needs to own its tables"),
]


@dataclass(frozen=True)
class Database:
    """The connection a ledger uses, what to call it in messages, and whether it is owned."""

    connection: Connection
    name: str
    owned: bool  # the ledger made it (and its engine) and closes it
    shared: bool  # the backend's Connection: operations run in savepoints of its transaction


def describe(target: object) -> str:
    """How messages name a database: its path, or its URL without the password.

    >>> describe("postgresql+psycopg://u:secret@db.example:5432/ledger")
    'postgresql+psycopg://u:***@db.example:5432/ledger'
    """
    if isinstance(target, Engine | Connection):
        target = target.engine.url
    if isinstance(target, URL):
        return target.render_as_string(hide_password=True)
    text = str(target)
    if "://" not in text:
        return text
    try:
        return make_url(text).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # malformed: hide whatever stands where a password would
        return _PASSWORD.sub(r"\1***@", text)


_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


@contextmanager
def database_errors(name: str) -> Iterator[None]:
    """Turn any database error into a ``LedgerError`` naming the database and the way out."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as exc:
        original = exc.orig if isinstance(exc, DBAPIError) else exc
        text = " ".join(str(original).split())
        advice = next(
            (say for part, say in _ADVICE if part in text.lower()),
            "failed; check the database and the disk, or restore it from a backup",
        )
        raise LedgerError(f"the ledger database {name} {advice} ({text[:300]})") from exc


def sqlite_engine(path: str | Path = ":memory:", *, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine for a SQLite ledger file, set up as the ledger needs it.

    Pass it to ``Ledger.open`` to share one engine between the ledger and your own tables
    in the same file. ``":memory:"`` is one in-memory database for the engine's life. The
    ledger turns the file's WAL mode on once it knows the file is a ledger (``use_wal``).

    >>> engine = sqlite_engine()
    >>> engine.dialect.name
    'sqlite'
    """
    name = str(path)
    if read_only:
        engine = create_engine(
            URL.create("sqlite", database=name), creator=lambda: _read_only(name)
        )
    elif name == ":memory:":
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(URL.create("sqlite", database=name), creator=lambda: _writable(name))
    # (the URL only names the file in messages: the creator opens it)
    event.listen(engine, "connect", _setup_sqlite)
    event.listen(engine, "begin", _begin)
    return engine


def _begin(connection: Connection) -> None:
    """Start a transaction (SQLAlchemy's pysqlite recipe): ``BEGIN IMMEDIATE``, the write
    lock at once, where the connection's ``tuishou_immediate`` option asks for it."""
    immediate = connection.get_execution_options().get("tuishou_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _writable(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60, check_same_thread=False)
    db.execute("PRAGMA synchronous = FULL")
    return db


def use_wal(connection: Connection) -> None:
    """Turn on WAL mode for a SQLite ledger file (readers never wait for the writer).

    Only once the file is known to be a ledger: someone else's file is left byte for byte.
    """
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        return
    db = connection.connection.driver_connection
    assert db is not None
    mode = db.execute("PRAGMA journal_mode").fetchone()
    if mode and mode[0] not in ("wal", "memory"):
        db.execute("PRAGMA journal_mode = WAL")


def _read_only(path: str) -> sqlite3.Connection:
    if path == ":memory:" or not Path(path).is_file():
        raise LedgerError(
            f"there is no ledger file at {path}; a read-only ledger opens an existing file"
        )
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)
        db.execute("SELECT 1 FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:  # a WAL file in a folder we cannot write: no -shm file
        return sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False)


def _setup_sqlite(db: Any, _record: Any) -> None:
    db.isolation_level = None  # SQLAlchemy's pysqlite recipe: we emit BEGIN ourselves
    db.execute("PRAGMA foreign_keys = ON")


def connect(target: object, read_only: bool) -> Database:
    """Open what ``Ledger.open`` was given; refuses anything else with the forms it takes."""
    if isinstance(target, Connection):
        _check_sqlite_recipe(target)
        return Database(target, describe(target), owned=False, shared=True)
    if isinstance(target, Engine):
        with database_errors(describe(target)):
            connection = target.connect()
        try:
            _check_sqlite_recipe(connection)
        except BaseException:
            connection.close()
            raise
        return Database(connection, describe(target), owned=False, shared=False)
    engine = _engine(target, read_only)
    name = describe(target)
    with database_errors(name):
        try:
            connection = engine.connect()
        except BaseException:
            engine.dispose()
            raise
    return Database(connection, name, owned=True, shared=False)


def _engine(target: object, read_only: bool) -> Engine:
    if isinstance(target, str) and not target.strip():
        raise LedgerError(
            f"the ledger's database is {target!r}, an empty path (an unset setting?); pass "
            "the path of a SQLite file, a database URL, or Ledger() for one in memory"
        )
    if isinstance(target, Path) or (isinstance(target, str) and "://" not in target):
        return sqlite_engine(target, read_only=read_only)
    if not isinstance(target, str | URL):
        raise ArgumentTypeError(
            f"the ledger's database is a {type(target).__name__}; pass a path (SQLite), a "
            "SQLAlchemy URL such as 'postgresql+psycopg://user@host/db', an Engine or a "
            "Connection"
        )
    try:
        url = make_url(target)
        url.port  # noqa: B018 - parsed lazily: a port that is no number fails here
    except (ArgumentError, ValueError) as exc:
        raise LedgerError(
            f"{describe(target)!r} is not a database URL ({exc}); pass one such as "
            "'postgresql+psycopg://user:password@host:5432/db' or 'sqlite:///ledger.db'"
        ) from None
    if url.get_backend_name() == "sqlite":
        return sqlite_engine(url.database or ":memory:", read_only=read_only)
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise LedgerError(
            f"cannot open {describe(url)}: {exc}; install the driver its URL names (for "
            "PostgreSQL: pip install tuishou[postgresql], and a postgresql+psycopg:// URL)"
        ) from None


def _check_sqlite_recipe(connection: Connection) -> None:
    """A backend's own SQLite engine must run transactions as SQLAlchemy's recipe says."""
    if connection.dialect.name != "sqlite":
        return
    if getattr(connection.connection.driver_connection, "isolation_level", None) is not None:
        raise LedgerError(
            f"the SQLite engine of {describe(connection)} lets the driver start "
            "transactions late (pysqlite's default), so the ledger could not lock or roll back "
            "its own writes; make the engine with tuishou.ledger.sqlite_engine(path), "
            "or apply SQLAlchemy's 'Serializable isolation / Savepoints / Transactional DDL' "
            "recipe for pysqlite; nothing was written"
        )
