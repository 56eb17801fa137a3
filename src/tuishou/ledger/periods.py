"""The period close (月结): every statement checked, the totals recorded, the clock moved.

``close_period`` closes a period ``[start, end)`` (``Ledger.close_period``):

- dated at or after the period's end and at or after the ledger's clock, which it moves to
  its date: from then on no entry can be dated inside the period, so its statements never
  change;
- in order, never overlapping: a period starting before the end of the last closed one is
  refused (unless it is that same period again);
- every member's statement is computed (``ledger.statements``) and checked
  (``Statement.check``), and the totals over all members are compared with the ledger's own
  sums before the end: a ledger that does not add up is not closed;
- recorded in ``tuishou_periods`` with its totals. Closing the same period again returns the
  recorded close (``repeated=True``); the same label with other bounds is refused.

Everything refused changes nothing (one transaction).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from tuishou.errors import ArgumentTypeError, LedgerError
from tuishou.ledger import schema as t
from tuishou.ledger.checks import check_time
from tuishou.ledger.clock import check_clock
from tuishou.ledger.database import database_errors
from tuishou.ledger.fees import time_zone
from tuishou.ledger.models import Balance
from tuishou.ledger.statement_models import Period, PeriodClose
from tuishou.ledger.statements import statements, totals_before
from tuishou.ledger.store import Store
from tuishou.ledger.stored import COLUMNS, decode

__all__ = ["check_period", "close_period", "closed_periods", "stored_period"]

_DECODE = {
    "period_id": COLUMNS["entries"]["member_id"],
    "start": COLUMNS["entries"]["at"],
    "end": COLUMNS["entries"]["at"],
    "closed_at": COLUMNS["entries"]["at"],
    "timezone": COLUMNS["entries"]["member_id"],
    "totals_json": lambda value: _totals(json.loads(value)),
}


def check_period(period: object) -> Period:
    """Return ``period`` if it is a ``Period``, else refuse it with the way out."""
    if not isinstance(period, Period):
        raise ArgumentTypeError(
            f"period is a {type(period).__name__}; pass a Period, e.g. Period.month('2026-11')"
        )
    return period


def close_period(store: Store, period: Period, at: datetime) -> PeriodClose:
    """Close ``period`` at ``at``: the rules are the module's (``Ledger.close_period``)."""
    check_period(period)
    check_time(at)
    with store.transaction() as connection:
        closes = _read(store, connection)
        same = [close for close in closes if close.period.label == period.label]
        if same:
            return _repeat(same[0], period)
        if at < period.end:
            raise LedgerError(
                f"at={at.isoformat()} is before the end of period {period.label} "
                f"({period.end.isoformat()}); a period is closed once it is over: close it "
                f"at or after {period.end.isoformat()}; nothing changed"
            )
        if closes and period.start < closes[-1].period.end:
            last = closes[-1].period
            raise LedgerError(
                f"period {period.label} starts at {period.start.isoformat()}, before the end "
                f"of period {last.label} ({last.end.isoformat()}), the last one closed; "
                "periods close in order and never overlap: close one that starts at or "
                f"after {last.end.isoformat()}; nothing changed"
            )
        check_clock(store, at, doing="close")
        members, totals = _checked_totals(store, period)
        close = PeriodClose(period, at, members, totals)
        with database_errors(store.path):
            connection.execute(
                insert(t.periods).values(
                    period_id=period.label,
                    start=period.start,
                    end=period.end,
                    timezone=period.timezone,
                    closed_at=at,
                    totals_json=json.dumps({"members": members, "totals": totals}),
                )
            )
        store.advance(at, f"period {period.label} closed")
        return close


def closed_periods(store: Store) -> list[PeriodClose]:
    """Every recorded close, oldest period first."""
    with store.reading() as connection:
        return _read(store, connection)


def stored_period(row: dict[str, Any]) -> Period:
    """The ``Period`` of a decoded row (``period_id``, ``start``, ``end``, ``timezone``), its
    bounds shown in its own zone."""
    local = time_zone(row["timezone"])
    return Period(
        label=row["period_id"],
        start=row["start"].astimezone(local),
        end=row["end"].astimezone(local),
        timezone=row["timezone"],
    )


def _read(store: Store, connection: Connection) -> list[PeriodClose]:
    p = t.periods.c
    rows = connection.execute(
        select(p.period_id, p.start, p.end, p.timezone, p.closed_at, p.totals_json).order_by(p.end)
    ).mappings()
    closes = []
    for raw in rows:
        row = decode(store.path, "periods", dict(raw), _DECODE)
        period = stored_period(row)
        members, totals = row["totals_json"]
        closes.append(PeriodClose(period, row["closed_at"], members, totals))
    return closes


def _repeat(recorded: PeriodClose, period: Period) -> PeriodClose:
    if recorded.period != period:
        was = recorded.period
        raise LedgerError(
            f"period {period.label} was closed with other bounds: [{was.start.isoformat()}, "
            f"{was.end.isoformat()}) in {was.timezone}, not [{period.start.isoformat()}, "
            f"{period.end.isoformat()}) in {period.timezone}; a label names one period: give "
            "the recorded bounds, or another label; nothing changed"
        )
    return PeriodClose(recorded.period, recorded.closed_at, recorded.members, recorded.totals, True)


def _checked_totals(store: Store, period: Period) -> tuple[int, dict[str, int]]:
    """Check every statement and add them up; the sums must be the ledger's own."""
    members = 0
    totals: dict[str, int] = {}
    for statement in statements(store, period, True):
        statement.check()
        members += 1
        for name, value in statement.as_row().items():
            if isinstance(value, int):
                totals[name] = totals.get(name, 0) + value
    problems = []
    for side, moment in (("opening", period.start), ("closing", period.end)):
        ledger = _in_columns(totals_before(store, moment))
        for name, value in ledger.items():
            if totals.get(f"{side}_{name}", 0) != value:
                problems.append(
                    f"{side} {name}: the statements add up to "
                    f"{totals.get(f'{side}_{name}', 0)}, the ledger's entries to {value}"
                )
    if problems:
        raise LedgerError.from_problems(
            f"period {period.label} does not add up, so it was not closed; the ledger may be "
            "damaged: check it, or restore it from a backup",
            problems,
        )
    return members, totals


def _in_columns(balance: Balance) -> dict[str, int]:
    return {
        "pending": balance.pending,
        "available": balance.available,
        "in_review": balance.held + balance.payable,
        "written_off": balance.written_off,
        "withdrawn": balance.withdrawn,
        "fees": balance.fees,
        "held": balance.held,
        "payable": balance.payable,
    }


def _totals(value: Any) -> tuple[int, dict[str, int]]:
    if (
        type(value) is not dict
        or type(value.get("members")) is not int
        or type(value.get("totals")) is not dict
        or not all(type(n) is int for n in value["totals"].values())
    ):
        raise ValueError("expected the totals a close records: members and sums in fen")
    return value["members"], dict(value["totals"])
