"""The ledger's clock never runs backwards.

Every operation that records something (``post``, ``mark_received``, ``release``, ``refund``,
``withdraw``, ``change_policy``) must be dated at or after the latest time the ledger has
recorded an operation: an entry, an order posted, received (its freeze started) or released,
a refund or withdrawal id. Otherwise a late operation would rewrite the past: a
withdrawal dated before a release it relied on, or a refund dated between a release and the
clawback it causes, would make ``balance(as_of=...)`` show what never was (a negative available
balance under ``clawback="cap_at_balance"``). The check runs inside the operation's write
transaction, so concurrent writers cannot slip an older time in between. The latest time and
what it was are kept in the ledger's clock row (``tuishou_clock``), which every write
transaction locks first (``Store.transaction``) and every recording operation moves forward
(``Store.advance``).

A policy change is dated at or after the clock too (it cannot rewrite what was done), but it
does not move the clock: a change may be scheduled for a later date while operations go on
under the policy in force at their own times (see ``Ledger.change_policy``). The creation of a
ledger is not on its clock either: its first policy applies from the start, so a new ledger
may take a history that began before it. An exact repeat (the same settlement, refund or
withdrawal id) is a no-op at any time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tuishou.errors import LedgerError
from tuishou.ledger.models import LedgerPolicy
from tuishou.ledger.store import Store

__all__ = ["change_policy", "check_clock", "due_date", "in_force"]


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
    last = store.latest()
    if last is not None and at < last[0]:
        when, what = last
        raise LedgerError(
            f"{name}={at.isoformat()} is before {when.isoformat()}, the latest time this ledger "
            f"has recorded ({what}); the ledger's clock never runs backwards, so that its "
            f"history and every balance as of a past time stay as they were: date the {doing} "
            f"at or after {when.isoformat()} (a late correction is recorded when it is made, "
            "e.g. datetime.now(UTC)); nothing changed"
        )


def change_policy(store: Store, policy: LedgerPolicy, at: datetime, note: str) -> bool:
    """Record ``policy`` from ``at`` on, in time order: ``Ledger.change_policy``'s rules."""
    with store.transaction():
        rows = store.policy_rows()
        if policy == rows[-1][1]:
            return False
        check_clock(store, at, doing="policy change")
        last = rows[-1][0]  # changes are in time order, after the creation
        if at < last:
            raise LedgerError(
                f"at={at.isoformat()} is before the last policy change "
                f"({last.isoformat()}); changes are recorded in time order: date it at or "
                "after that; nothing changed"
                if len(rows) > 1
                else f"at={at.isoformat()} is before the ledger was created "
                f"({last.isoformat()}),"
                " whose policy applies from the start: date the change at or after the "
                "creation, or create a ledger with that policy; nothing changed"
            )
        store.record_policy(policy.model_dump_json(), at, note)
        return True
