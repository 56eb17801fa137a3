"""Upgrading a schema-1 ledger file to schema 2: explicitly, once, in one transaction.

(``Ledger.open`` then upgrades schema 2 to the current schema with Alembic:
``ledger.versions``.)

Schema 1 (tuishou before issue 10) stored times as given, naive or aware; kept no
``LedgerPolicy`` (a reopened ledger silently ran on the defaults); and fingerprinted a full
refund like an empty one. ``Ledger.upgrade(path, policy=..., naive_times=...)``:

1. records ``policy`` as the settings the ledger ran with (note ``"upgraded from schema 1"``);
2. rewrites every stored time in UTC: aware ones are converted, naive ones are read in the
   zone ``naive_times`` (refused, naming a value, when a naive time is found and no zone is
   given: the ledger never guesses a zone);
3. tells full refunds apart from empty ones: a refund id whose refund posted entries gets the
   fingerprint of a full refund, so its retry stays a no-op; one that posted nothing keeps the
   old fingerprint, which no new request has, so reusing that id is refused
   (``DuplicateRequestError``) instead of being skipped as a repeat;
4. sets the schema version to 2.

A failure at any step leaves the file as it was, at version 1.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path

from sqlalchemy import Connection, inspect

from tuishou.errors import ArgumentTypeError, LedgerError
from tuishou.ledger.database import database_errors, sqlite_engine
from tuishou.ledger.models import LedgerPolicy
from tuishou.ledger.refunds import refund_fingerprint
from tuishou.ledger.stored import any_time, decode, stored_time
from tuishou.ledger.versions import legacy_version

__all__ = ["upgrade"]

_POLICY_TABLE = """
CREATE TABLE ledger_policy (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    policy_json TEXT NOT NULL,
    note TEXT NOT NULL
)"""  # as schema 2 had it: Ledger.open upgrades the file further, to the current schema

_TIMES = {  # table: (its key, its time columns)
    "orders": ("order_id", ("posted_at", "freeze_start", "due_at", "released_at")),
    "entries": ("entry_id", ("at",)),
    "requests": ("request_id", ("at",)),
}


def upgrade(path: str, policy: LedgerPolicy, naive_times: tzinfo | None) -> None:
    """Upgrade the schema-1 ledger at ``path`` to the current schema (see the module docs)."""
    if not isinstance(policy, LedgerPolicy):
        raise ArgumentTypeError(
            f"policy is a {type(policy).__name__}, expected the LedgerPolicy the ledger ran with"
        )
    if naive_times is not None and not isinstance(naive_times, tzinfo):
        raise ArgumentTypeError(
            f"naive_times={naive_times!r} must be a time zone, e.g. ZoneInfo('Asia/Shanghai')"
        )
    if not Path(path).is_file():
        raise LedgerError(f"there is no ledger file at {path} to upgrade")
    engine = sqlite_engine(path)  # a failure leaves the file byte for byte
    try:
        with database_errors(path), engine.connect() as db, db.begin():
            _upgrade(db, path, policy, naive_times)
    finally:
        engine.dispose()


def _upgrade(db: Connection, path: str, policy: LedgerPolicy, naive_times: tzinfo | None) -> None:
    tables = set(inspect(db).get_table_names())
    version = legacy_version(db, path, tables) if "schema_version" in tables else None
    if version != 1:
        raise LedgerError(
            f"{path} has ledger schema version {version}; only version 1 is "
            "upgraded (to 2, which Ledger.open then upgrades), nothing changed"
        )
    for table, (key, columns) in _TIMES.items():
        for row in db.exec_driver_sql(
            f"SELECT {key}, {', '.join(columns)} FROM {table}"
        ).fetchall():
            values = [
                _utc(path, table, {key: row[0], column: text}, naive_times)
                for column, text in zip(columns, row[1:], strict=True)
            ]
            db.exec_driver_sql(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE {key} = ?",
                (*values, row[0]),
            )
    for found in db.exec_driver_sql(
        "SELECT request_id, fingerprint FROM requests WHERE kind = 'refund'"
    ).fetchall():
        request_id, fingerprint = decode(
            path,
            "requests",
            dict(zip(("request_id", "fingerprint"), found, strict=True)),
            prefix="",
        ).values()
        posted = db.exec_driver_sql(
            "SELECT entry_id, order_id FROM entries WHERE request_id = ? LIMIT 1", (request_id,)
        ).fetchone()
        order_id = (
            posted
            and decode(path, "entries", {"entry_id": posted[0], "order_id": posted[1]}, prefix="")[
                "order_id"
            ]
        )
        if order_id and fingerprint == refund_fingerprint(order_id, {}):
            db.exec_driver_sql(
                "UPDATE requests SET fingerprint = ? WHERE request_id = ?",
                (refund_fingerprint(order_id, None), request_id),
            )
    db.exec_driver_sql(_POLICY_TABLE)
    db.exec_driver_sql(
        "INSERT INTO ledger_policy (at, policy_json, note) VALUES (?, ?, ?)",
        (stored_time(datetime.now(UTC)), policy.model_dump_json(), "upgraded from schema 1"),
    )
    db.exec_driver_sql("UPDATE schema_version SET version = 2")


def _utc(path: str, table: str, row: dict[str, object], naive_times: tzinfo | None) -> str | None:
    """A schema-1 time (the row's last column) in UTC, read through the checked decoder."""
    column, text = list(row.items())[-1]
    if text is None:
        return None
    moment: datetime = decode(path, table, row, {column: any_time}, prefix="")[column]
    where = f"{path}: {table}.{column}"
    if moment.utcoffset() is None:
        if naive_times is None:
            raise LedgerError(
                f"{where} = {text} is a naive time; pass naive_times=<the zone it "
                "was written in>, e.g. ZoneInfo('Asia/Shanghai'); nothing changed"
            )
        moment = moment.replace(tzinfo=naive_times)
    return stored_time(moment)
