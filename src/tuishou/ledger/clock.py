"""The ledger's clock never runs backwards.

Every operation that records something (``post``, ``mark_received``, ``release``, ``refund``,
``withdraw``, ``change_policy``) must be dated at or after the latest time the ledger has
recorded an operation: an entry, an order posted, received (its freeze started) or released,
a refund or withdrawal id. Otherwise a late operation would rewrite the past: a
withdrawal dated before a release it relied on, or a refund dated between a release and the
clawback it causes, would make ``balance(as_of=...)`` show what never was (a negative available
balance under ``clawback="cap_at_balance"``). The check runs inside the operation's write
transaction, so concurrent writers cannot slip an older time in between.

A policy change is dated at or after the clock too (it cannot rewrite what was done), but it
does not move the clock: a change may be scheduled for a later date while operations go on
under the policy in force at their own times (see ``Ledger.change_policy``). The creation of a
ledger is not on its clock either: its first policy applies from the start, so a new ledger
may take a history that began before it. An exact repeat (the same settlement, refund or
withdrawal id) is a no-op at any time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tuishou.errors import LedgerError
from tuishou.ledger.models import LedgerPolicy
from tuishou.ledger.store import Store

__all__ = ["check_clock", "due_date", "in_force", "latest"]

# (table, the latest of one kind of recorded time, its column, what happened then)
_SOURCES: list[tuple[str, str, str, Callable[[dict[str, Any]], str]]] = [
    (
        "entries",
        "SELECT entry_id, reason, member_id, at FROM entries ORDER BY at DESC LIMIT 1",
        "at",
        lambda r: f"entry {r['entry_id']}: {r['reason']} of member {r['member_id']!r}",
    ),
    (
        "orders",
        "SELECT order_id, posted_at FROM orders ORDER BY posted_at DESC LIMIT 1",
        "posted_at",
        lambda r: f"order {r['order_id']!r} posted",
    ),
    (
        "orders",
        "SELECT order_id, freeze_start FROM orders WHERE freeze_start IS NOT NULL "
        "ORDER BY freeze_start DESC LIMIT 1",
        "freeze_start",
        lambda r: f"the freeze of order {r['order_id']!r} started",
    ),
    (
        "orders",
        "SELECT order_id, released_at FROM orders WHERE released_at IS NOT NULL "
        "ORDER BY released_at DESC LIMIT 1",
        "released_at",
        lambda r: f"order {r['order_id']!r} released",
    ),
    (
        "requests",
        "SELECT request_id, kind, at FROM requests ORDER BY at DESC LIMIT 1",
        "at",
        lambda r: f"{r['kind']} id {r['request_id']!r} carried out",
    ),
]


def latest(store: Store) -> tuple[datetime, str] | None:
    """The latest time the ledger has recorded an operation, and what it was; None if none."""
    found: tuple[datetime, str] | None = None
    for table, sql, column, what in _SOURCES:
        for row in store.read(table, sql):
            if found is None or row[column] > found[0]:
                found = (row[column], what(row))
    return found


def in_force(rows: list[tuple[datetime, LedgerPolicy, str]], at: datetime) -> LedgerPolicy:
    """The policy in force at ``at`` among the recorded ones (``Store.policy_rows``): the last
    change dated at or before it, else the first (the creation's, from the start)."""
    return next((policy for when, policy, _ in reversed(rows[1:]) if when <= at), rows[0][1])


def due_date(start: datetime, days: int) -> datetime:
    """When a freeze of ``days`` from ``start`` ends; refused past the year 9999."""
    try:
        return start + timedelta(days=days)
    except OverflowError:
        raise LedgerError(
            f"{start} + {days} days is beyond the year 9999; check the time"
        ) from None


def check_clock(store: Store, at: datetime, *, name: str = "at", doing: str) -> None:
    """Refuse ``at`` if it is before the latest time the ledger has recorded.

    Call it inside the operation's write transaction, after spotting an exact repeat.
    """
    last = latest(store)
    if last is not None and at < last[0]:
        when, what = last
        raise LedgerError(
            f"{name}={at.isoformat()} is before {when.isoformat()}, the latest time this ledger "
            f"has recorded ({what}); the ledger's clock never runs backwards, so that its "
            f"history and every balance as of a past time stay as they were: date the {doing} "
            f"at or after {when.isoformat()} (a late correction is recorded when it is made, "
            "e.g. datetime.now(UTC)); nothing changed"
        )
