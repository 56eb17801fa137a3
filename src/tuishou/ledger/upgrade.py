"""Upgrading a schema-1 ledger file to schema 2: explicitly, once, in one transaction.

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

import sqlite3
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from tuishou.errors import ArgumentTypeError, LedgerError
from tuishou.ledger.models import LedgerPolicy
from tuishou.ledger.refunds import refund_fingerprint
from tuishou.ledger.store import POLICY_TABLE, SCHEMA_VERSION, database_errors, schema_version
from tuishou.ledger.stored import any_time, decode, stored_time

__all__ = ["upgrade"]

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
    with database_errors(path):
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                _upgrade(db, path, policy, naive_times)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()


def _upgrade(
    db: sqlite3.Connection, path: str, policy: LedgerPolicy, naive_times: tzinfo | None
) -> None:
    version = schema_version(db, path)
    if version != 1:
        raise LedgerError(
            f"{path} has ledger schema version {version}; only version 1 is "
            f"upgraded (to {SCHEMA_VERSION}), nothing changed"
        )
    for table, (key, columns) in _TIMES.items():
        for row in db.execute(f"SELECT {key}, {', '.join(columns)} FROM {table}").fetchall():
            values = [
                _utc(path, table, {key: row[0], column: text}, naive_times)
                for column, text in zip(columns, row[1:], strict=True)
            ]
            db.execute(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE {key} = ?",
                (*values, row[0]),
            )
    for found in db.execute(
        "SELECT request_id, fingerprint FROM requests WHERE kind = 'refund'"
    ).fetchall():
        request_id, fingerprint = decode(
            path, "requests", dict(zip(("request_id", "fingerprint"), found, strict=True))
        ).values()
        posted = db.execute(
            "SELECT entry_id, order_id FROM entries WHERE request_id = ? LIMIT 1", (request_id,)
        ).fetchone()
        order_id = (
            posted
            and decode(path, "entries", {"entry_id": posted[0], "order_id": posted[1]})["order_id"]
        )
        if order_id and fingerprint == refund_fingerprint(order_id, {}):
            db.execute(
                "UPDATE requests SET fingerprint = ? WHERE request_id = ?",
                (refund_fingerprint(order_id, None), request_id),
            )
    db.execute(POLICY_TABLE)
    db.execute(
        "INSERT INTO ledger_policy (at, policy_json, note) VALUES (?, ?, ?)",
        (stored_time(datetime.now(UTC)), policy.model_dump_json(), "upgraded from schema 1"),
    )
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))


def _utc(path: str, table: str, row: dict[str, object], naive_times: tzinfo | None) -> str | None:
    """A schema-1 time (the row's last column) in UTC, read through the checked decoder."""
    column, text = list(row.items())[-1]
    if text is None:
        return None
    moment: datetime = decode(path, table, row, {column: any_time})[column]
    where = f"{path}: {table}.{column}"
    if moment.utcoffset() is None:
        if naive_times is None:
            raise LedgerError(
                f"{where} = {text} is a naive time; pass naive_times=<the zone it "
                "was written in>, e.g. ZoneInfo('Asia/Shanghai'); nothing changed"
            )
        moment = moment.replace(tzinfo=naive_times)
    return stored_time(moment)
