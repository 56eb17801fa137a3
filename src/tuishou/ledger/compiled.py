"""Statements compiled once per database and run as their SQL text: the ledger's hot paths.

Every statement the ledger runs is built with SQLAlchemy Core. The per-order operations
(``post`` above all) run the same few statements thousands of times a second, and executing
a Core statement costs about 100 µs of Python (its cache key, the compiled-cache lookup,
parameter processing, the result) where the SQL text it compiles to costs a few µs on the
driver's cursor. So ``run`` compiles a statement once per database (dialect) and set of
columns, remembers the SQL text, the order of its parameters and the bind processing of
their types (``UtcTime`` turns times into what the database stores), and runs the text on
the cursor of the connection's driver connection, inside SQLAlchemy's transaction; a driver
error is wrapped as SQLAlchemy wraps it. SQLAlchemy's cursor events do not see these
statements (the ledger uses none).

Only module-level statements are passed here (they live as long as the process): the cache
holds them by identity.

>>> from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
>>> from tuishou.ledger.database import sqlite_engine
>>> table = Table("t", MetaData(), Column("n", Integer))
>>> with sqlite_engine().connect() as connection, connection.begin():
...     table.create(connection)
...     _ = run(connection, insert(table), [{"n": 1}, {"n": 2}])
...     run(connection, select(func.sum(table.c.n))).all()
[(3,)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ClauseElement

__all__ = ["Compiled", "Rows", "compiled", "driver_errors", "run"]

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL text for one database, the order of its parameters (None where the
    driver takes them by name) and each parameter's bind processing."""

    sql: str
    names: tuple[str, ...] | None
    processors: Mapping[str, Callable[[Any], Any]]
    fixed: Mapping[str, Any]  # the values the statement itself binds (``writes + 1``)

    def parameters(self, row: Row) -> tuple[Any, ...] | dict[str, Any]:
        """``row`` (parameter name to value) as the driver takes it, each value processed."""
        processors, fixed = self.processors, self.fixed
        if self.names is None:
            values = {**fixed, **row}
            return {
                name: (processors[name](value) if name in processors else value)
                for name, value in values.items()
            }
        out = []  # a plain loop: this runs for every row the hot paths write
        for name in self.names:
            value = row[name] if name in row else fixed[name]
            process = processors.get(name)
            out.append(value if process is None else process(value))
        return tuple(out)


_CACHE: dict[tuple[ClauseElement, str, tuple[str, ...]], Compiled] = {}


def compiled(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...] = ()) -> Compiled:
    """``statement`` compiled for ``dialect`` (for an ``INSERT``, with the columns ``keys``)."""
    key = (statement, f"{dialect.name}+{dialect.driver}:{dialect.paramstyle}", keys)
    found = _CACHE.get(key)
    if found is None:
        done = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        processors, fixed = {}, {}
        for name, bind in done.binds.items():  # type: ignore[attr-defined]
            process = bind.type.bind_processor(dialect)
            if process is not None:
                processors[name] = process
            if not bind.required:
                fixed[name] = bind.effective_value
        names = tuple(done.positiontup) if done.positional else None  # type: ignore[attr-defined]
        found = _CACHE[key] = Compiled(str(done), names, processors, fixed)
    return found


@dataclass(frozen=True)
class Rows:
    """What a statement returned: its column names and rows (empty for writes)."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def all(self) -> list[tuple[Any, ...]]:
        """Every row, as a tuple."""
        return self.rows

    def mappings(self) -> list[dict[str, Any]]:
        """Every row, as column name to value."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def run(
    connection: Connection, statement: ClauseElement, parameters: Row | Sequence[Row] | None = None
) -> Rows:
    """Run a module-level statement with one row of parameters, or many (``executemany``),
    on the driver's cursor of ``connection``, inside its transaction. A driver error comes out
    as SQLAlchemy's ``DBAPIError``, as from ``Connection.execute``."""
    many = parameters is not None and not isinstance(parameters, Mapping)
    rows: list[Row] = (
        [{}]
        if parameters is None
        else [parameters]
        if isinstance(parameters, Mapping)
        else list(parameters)
    )
    keys: tuple[str, ...] = tuple(rows[0]) if rows and isinstance(statement, Insert) else ()
    dialect = connection.dialect
    done = compiled(statement, dialect, keys)
    prepared: list[Any] = [done.parameters(row) for row in rows]
    cursor = connection.connection.cursor()
    try:
        with driver_errors(connection, done.sql, prepared):
            if many:
                cursor.executemany(done.sql, prepared)
            else:
                cursor.execute(done.sql, prepared[0])
            if cursor.description is None:
                return Rows((), [])
            names = tuple(column[0] for column in cursor.description)
            return Rows(names, [tuple(row) for row in cursor.fetchall()])
    finally:
        cursor.close()


@contextmanager
def driver_errors(connection: Connection, sql: str, parameters: Any = ()) -> Iterator[None]:
    """Wrap an error of the database driver, used directly, as SQLAlchemy wraps it
    (``DBAPIError`` and its kinds), so the ledger reports it as any other database error."""
    base = connection.dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        raise DBAPIError.instance(sql, parameters, exc, base, dialect=connection.dialect) from exc
