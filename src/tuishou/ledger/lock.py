"""The ledger's write lock, and the state a writer reads once it holds it.

Every write transaction starts with ``lock``: an ``UPDATE`` of the single ``tuishou_clock``
row (a row lock held to the commit on PostgreSQL, the database's write lock on SQLite), then
one ``SELECT`` of what the operation needs to know about everything recorded before it: the
ledger's clock (the latest time recorded, and what), the last entry id, the last volume
journal id, and how many
settings (``tuishou_ledger_policy`` rows) there are. Under the lock nobody else writes, so
the ``Store`` keeps this ``WriteState`` for the rest of the transaction instead of asking
again: new entries and volume rows take the next ids, the clock moves forward, and the
settings read once stay valid while their count does (the ledger only ever appends settings).

Two statements instead of five or six per operation: the per-order ``post`` is a hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from tuishou.errors import LedgerError
from tuishou.ledger import schema as t
from tuishou.ledger.compiled import run
from tuishou.ledger.stored import decode

__all__ = ["WriteState", "lock", "lock_free_clock"]

_c = t.clock.c
_LOCK = update(t.clock).where(_c.clock_id == 1).values(writes=_c.writes + 1)
_CLOCK = select(_c.clock_id, _c.at, _c.what)
_STATE = select(
    _c.clock_id,
    _c.at,
    _c.what,
    select(func.coalesce(func.max(t.entries.c.entry_id), 0)).scalar_subquery().label("last"),
    select(func.count()).select_from(t.ledger_policy).scalar_subquery().label("settings"),
    select(func.coalesce(func.max(t.volumes.c.volume_id), 0)).scalar_subquery().label("volume"),
)


@dataclass
class WriteState:
    """What a writer knows under the lock; the ``Store`` keeps it up to date as it writes."""

    latest: tuple[datetime, str] | None  # the ledger's clock: time and what was recorded
    next_entry: int  # the id the next entry gets
    settings: int  # rows in tuishou_ledger_policy
    next_volume: int = 1  # the id the next row of the volume journal gets


def lock(connection: Connection, name: str) -> WriteState:
    """Take the ledger's write lock and read the state under it (inside a transaction)."""
    run(connection, _LOCK)
    rows = run(connection, _STATE).all()
    latest = _clock(name, rows)
    last, settings, volume = tuple(rows[0])[3:6]
    return WriteState(latest, int(last) + 1, int(settings), int(volume) + 1)


def lock_free_clock(connection: Connection, name: str) -> tuple[datetime, str] | None:
    """The ledger's clock read without the lock (a read transaction): for checks made before
    writing, which the writer checks again under the lock."""
    return _clock(name, run(connection, _CLOCK).all())


def _clock(name: str, rows: Sequence[Any]) -> tuple[datetime, str] | None:
    """The clock from the rows of tuishou_clock (exactly one), decoded and checked."""
    if len(rows) != 1:
        raise LedgerError(
            f"the ledger {name} has {len(rows)} rows in tuishou_clock (it keeps "
            "one); the database was altered outside tuishou: restore it from a backup"
        )
    clock_id, at, what = rows[0][:3]
    clock = decode(name, "clock", {"clock_id": clock_id, "at": at, "what": what})
    return None if clock["at"] is None else (clock["at"], clock["what"] or "")
