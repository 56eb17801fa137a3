"""The ledger's schema versions: create a new ledger, upgrade an older one, refuse a newer one.

Alembic keeps the schema's revision in ``tuishou_alembic_version`` (revisions are named after
the schema versions: ``0006`` is version 6, the current one). When a ledger is opened:

- **no ledger tables**: the schema is created from ``ledger.schema`` and stamped with the
  current revision (Alembic's advice for a new database), and the ``LedgerPolicy`` is
  recorded. A SQLite file the ledger opens itself must then be empty: someone else's file is
  refused, untouched. A server's database may hold the platform's own tables: every ledger
  table's name starts with ``tuishou_``;
- **an older revision**, or a file of schema version 2 (written before the ledger used
  Alembic: a ``schema_version`` table, no revision), is upgraded by the migrations in
  ``ledger/migrations``, in the same transaction: all of it or nothing;
- **schema version 1** is upgraded only explicitly (``Ledger.upgrade``: its naive times need a
  zone); **a newer revision** is refused: upgrade tuishou.

A read-only ledger never changes the schema: an older one is refused with the way out. On
PostgreSQL a transaction-level advisory lock makes processes that open a new database at the
same time create it once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, inspect, text

from tuishou.errors import LedgerError
from tuishou.ledger import schema as t

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS", "legacy_version", "prepare", "revision"]

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK = 7_305_126_148  # pg_advisory_xact_lock key: "tuishou ledger schema"
_LEGACY_TABLES = {"schema_version", "policies", "orders", "payouts", "entries", "requests"}


def prepare(
    connection: Connection, name: str, policy_json: str, read_only: bool, refuse_others: bool
) -> None:
    """Make the database at ``connection`` a current ledger, inside the caller's transaction."""
    if not read_only and connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    tables = set(inspect(connection).get_table_names())
    if t.VERSION_TABLE in tables:
        found = revision(connection)
        if found != t.HEAD:
            _upgrade_revision(connection, name, found, read_only)
        _check_tables(name, tables | set(inspect(connection).get_table_names()))
    elif _legacy(connection, tables):
        _upgrade_legacy(connection, name, legacy_version(connection, name, tables), read_only)
    else:
        _create(connection, name, tables, policy_json, read_only, refuse_others)


def _legacy(connection: Connection, tables: set[str]) -> bool:
    """A ledger written before Alembic: SQLite only, with its ``schema_version`` and
    ``entries`` (a platform's own ``schema_version`` elsewhere is none of the ledger's)."""
    return connection.dialect.name == "sqlite" and {"schema_version", "entries"} <= tables


def revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at (None: not stamped)."""
    from alembic.runtime.migration import MigrationContext  # Alembic loads on first open only

    context = MigrationContext.configure(connection, opts={"version_table": t.VERSION_TABLE})
    return context.get_current_revision()


def _create(
    connection: Connection,
    name: str,
    tables: set[str],
    policy_json: str,
    read_only: bool,
    refuse_others: bool,
) -> None:
    ours = sorted(tables & t.LEDGER_TABLES)
    if ours:
        raise LedgerError(
            f"{name} is a damaged ledger: it has the tables {', '.join(ours)} but no "
            f"{t.VERSION_TABLE}; restore it from a backup"
        )
    if tables and refuse_others:
        shown = ", ".join(sorted(tables)[:5])
        raise LedgerError(
            f"{name} is a SQLite database of something else (tables {shown}), "
            "not a ledger; tuishou adds no tables to it: pass a new path"
        )
    if read_only:
        raise LedgerError(
            f"{name} holds no ledger yet; a read-only ledger can only open an existing one"
        )
    t.metadata.create_all(connection)
    connection.execute(insert(t.clock).values(clock_id=1, writes=0, at=None, what=None))
    connection.execute(
        insert(t.ledger_policy).values(
            at=datetime.now(UTC), policy_json=policy_json, note="created"
        )
    )
    _alembic().stamp(_config(connection), t.HEAD)


def _upgrade_revision(
    connection: Connection, name: str, found: str | None, read_only: bool
) -> None:
    if found is None:
        raise LedgerError(
            f"{name} is a damaged ledger: {t.VERSION_TABLE} holds no revision; restore it "
            "from a backup"
        )
    if found not in _known_revisions():
        raise LedgerError(
            f"{name} has ledger schema revision {found!r}, newer than this tuishou "
            f"understands ({t.HEAD}, schema version {t.SCHEMA_VERSION}); upgrade tuishou to "
            "open it"
        )
    if read_only:
        raise LedgerError(
            f"{name} has ledger schema revision {found}, older than this tuishou's "
            f"({t.HEAD}); open it once without read_only=True to upgrade it"
        )
    _alembic().upgrade(_config(connection), t.HEAD)


def _upgrade_legacy(connection: Connection, name: str, version: int, read_only: bool) -> None:
    if version == 1:
        raise LedgerError(
            f"{name} is a ledger of schema version 1 (naive times, no stored policy); "
            "upgrade it once with Ledger.upgrade(path, policy=<the LedgerPolicy it ran "
            "with>, naive_times=<the time zone its naive times were in>)"
        )
    if version != 2:
        raise LedgerError(
            f"{name} has ledger schema version {version}, newer than this tuishou "
            f"understands ({t.SCHEMA_VERSION}); upgrade tuishou to open it"
        )
    if read_only:
        raise LedgerError(
            f"{name} is a ledger of schema version 2, older than this tuishou's "
            f"({t.SCHEMA_VERSION}); open it once without read_only=True to upgrade it"
        )
    config = _config(connection)
    _alembic().stamp(config, "0002")
    _alembic().upgrade(config, t.HEAD)


def legacy_version(connection: Connection, name: str, tables: set[str]) -> int:
    """The version in the ``schema_version`` table of a file written before Alembic (1 or 2);
    refuses a damaged one."""
    try:
        found = [
            tuple(row) for row in connection.exec_driver_sql("SELECT version FROM schema_version")
        ]
    except Exception as exc:
        found = [(str(exc).splitlines()[0],)]
    if len(found) != 1 or type(found[0][0]) is not int or found[0][0] < 1:
        raise LedgerError(
            f"{name} has a damaged schema_version table ({found[:3]!r}, expected "
            "one row with the version number); restore the file from a backup"
        )
    version: int = found[0][0]
    missing = _LEGACY_TABLES - tables - ({"ledger_policy"} if version == 1 else set())
    if version == 2:
        missing |= {"ledger_policy"} - tables
    if missing and version <= 2:
        raise LedgerError(
            f"{name} is a damaged ledger: tables {', '.join(sorted(missing))} are "
            "missing; restore the file from a backup"
        )
    return version


def _check_tables(name: str, tables: set[str]) -> None:
    missing = t.LEDGER_TABLES - tables
    if missing:
        raise LedgerError(
            f"{name} is a damaged ledger: tables {', '.join(sorted(missing))} are "
            "missing; restore it from a backup"
        )


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str | None]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return frozenset(rev.revision for rev in script.walk_revisions())


def _alembic() -> ModuleType:
    """Alembic's commands, imported when a schema is created or upgraded, not with tuishou
    (``import tuishou`` stays light for settling; Alembic and its dialects are not small)."""
    from alembic import command

    return command
