"""Posting an order to the ledger and its freeze: record the payouts, start and end the freeze.

``post_order`` records a settlement as pending entries (idempotent by order id),
``mark_received`` starts the freeze of an order posted under ``freeze_from="received"``, and
``release_due`` moves every payout whose freeze has ended to available. ``Ledger.post``,
``Ledger.mark_received`` and ``Ledger.release`` call them; the rules are in ``docs/ledger.md``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tuishou.errors import ArgumentTypeError, DuplicateOrderError, LedgerError
from tuishou.ledger.checks import (
    check_amount,
    check_ids,
    check_paid_at,
    check_settlement,
    check_time,
)
from tuishou.ledger.clock import check_clock, due_date, in_force
from tuishou.ledger.models import Entry
from tuishou.ledger.refunds import Key, digest, totals
from tuishou.ledger.store import Store, entry_row
from tuishou.ledger.stored import stored_time
from tuishou.orders import Order
from tuishou.settlement import Settlement

__all__ = ["mark_received", "post_order", "release_due"]


def post_order(store: Store, order: Order, settlement: Settlement, at: datetime) -> list[Entry]:
    """Record an order's payouts as pending entries; the rules are ``Ledger.post``'s."""
    check_time(at)
    if not isinstance(order, Order) or not isinstance(settlement, Settlement):
        raise ArgumentTypeError(
            "post(order, settlement, at=...) takes an Order and the "
            "Settlement that settle() returned for it"
        )
    check_ids(order_id=order.order_id)
    check_paid_at(order, at)
    check_amount(order)
    check_settlement(order, settlement)
    policy_json = settlement.policy.model_dump_json()
    policy_id = digest(policy_json)
    snapshot = _snapshot(settlement)
    order_json = order.model_dump_json()
    fingerprint = digest(
        json.dumps([order_json, policy_id, snapshot, _payout_rows(settlement)], sort_keys=True)
    )
    with store.transaction() as db:
        found = store.read(
            "orders",
            "SELECT order_id, fingerprint FROM orders WHERE order_id = ?",
            (order.order_id,),
        )
        if found:
            if found[0]["fingerprint"] == fingerprint:
                return []
            raise DuplicateOrderError(
                f"order {order.order_id!r} was already posted with a different settlement; "
                "refund it, or post the change under a new order id"
            )
        check_clock(store, at, doing="post")
        policy = in_force(store.policy_rows(), at)
        start = (order.paid_at or at) if policy.freeze_from == "paid" else None
        due = due_date(start, policy.freeze_days) if start else None
        db.execute("INSERT OR IGNORE INTO policies VALUES (?, ?)", (policy_id, policy_json))
        db.execute(
            "INSERT INTO orders (order_id, fingerprint, policy_id, order_json, snapshot_json, "
            "refunded_json, posted_at, freeze_start, due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order.order_id,
                fingerprint,
                policy_id,
                order_json,
                json.dumps(snapshot),
                json.dumps([0] * len(order.lines)),
                stored_time(at),
                _iso(start),
                _iso(due),
            ),
        )
        paid = totals(settlement)
        db.executemany(
            "INSERT INTO payouts VALUES (?, ?, ?, ?, ?)",
            [(order.order_id, *key, amount) for key, amount in paid.items()],
        )
        return store.add_entries(
            [
                entry_row(key, "pending", "post", amount, at, order.order_id)
                for key, amount in paid.items()
            ]
        )


def mark_received(store: Store, order_id: str, at: datetime) -> None:
    """Start the freeze of an order when its goods are received: ``Ledger.mark_received``."""
    check_time(at)
    check_ids(order_id=order_id)
    with store.transaction() as db:
        row = store.order_row(order_id, "posted_at", "freeze_start")
        if at < row["posted_at"]:
            raise LedgerError(
                f"at={at.isoformat()} is before order {order_id!r} was posted "
                f"({row['posted_at'].isoformat()}); goods are received after their order "
                "is paid: check the time; nothing changed"
            )
        check_clock(store, at, doing="receipt")
        if row["freeze_start"] is None:  # posted under freeze_from="received"
            days = in_force(store.policy_rows(), at).freeze_days
            db.execute(
                "UPDATE orders SET freeze_start = ?, due_at = ? WHERE order_id = ?",
                (stored_time(at), _iso(due_date(at, days)), order_id),
            )


def release_due(store: Store, as_of: datetime) -> list[Entry]:
    """Move every payout whose freeze has ended by ``as_of`` to available: ``Ledger.release``."""
    check_time(as_of, name="as_of")
    with store.transaction() as db:
        check_clock(store, as_of, name="as_of", doing="release")
        waiting = store.read(
            "orders",
            "SELECT order_id, due_at FROM orders WHERE released_at IS NULL AND due_at IS NOT NULL",
        )
        moved: list[Entry] = []
        for order_id in sorted(row["order_id"] for row in waiting if row["due_at"] <= as_of):
            pending: dict[Key, int] = {}
            for entry in store.entries("order_id = ? AND bucket = 'pending'", (order_id,)):
                key: Key = (entry.member_id, entry.rule or "", entry.kind or "")
                pending[key] = pending.get(key, 0) + entry.amount
            rows = []
            for key, amount in sorted(pending.items()):
                if amount:
                    rows.append(entry_row(key, "pending", "release", -amount, as_of, order_id))
                    rows.append(entry_row(key, "available", "release", amount, as_of, order_id))
            moved += [e for e in store.add_entries(rows) if e.bucket == "available"]
            db.execute(
                "UPDATE orders SET released_at = ? WHERE order_id = ?",
                (stored_time(as_of), order_id),
            )
        return moved


def _snapshot(settlement: Settlement) -> dict[str, Any]:
    return {
        "seller_id": settlement.seller_id,
        "attribution": settlement.attribution,
        "chain": [[c.member_id, c.tier, c.status, c.generation] for c in settlement.chain],
    }


def _payout_rows(settlement: Settlement) -> list[list[Any]]:
    return [[p.member_id, p.rule, p.kind, p.generation, p.amount] for p in settlement.payouts]


def _iso(moment: datetime | None) -> str | None:
    return stored_time(moment) if moment is not None else None
