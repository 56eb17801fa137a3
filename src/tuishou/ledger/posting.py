"""Posting an order to the ledger and its freeze: record the payouts, start and end the freeze.

``post_order`` records a settlement as pending entries (idempotent by order id) with the name
of the policy version it was settled under (``Settlement.version``; None for a plain policy),
``mark_received`` starts the freeze of an order posted under ``freeze_from="received"``, and
``release_due`` moves every payout whose freeze has ended to available. ``Ledger.post``,
``Ledger.mark_received`` and ``Ledger.release`` call them; the rules are in ``docs/ledger.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from tuishou.errors import ArgumentTypeError, DuplicateOrderError, LedgerError
from tuishou.ledger import schema as t
from tuishou.ledger.checks import (
    check_amount,
    check_ids,
    check_paid_at,
    check_settlement,
    check_time,
)
from tuishou.ledger.clock import check_clock, due_date, in_force
from tuishou.ledger.models import Entry, entry_row
from tuishou.ledger.refunds import Key, digest, totals
from tuishou.ledger.store import Store
from tuishou.ledger.volumes import add_volumes, sale_volume
from tuishou.orders import Order
from tuishou.settlement import Settlement
from tuishou.times import utc

__all__ = [
    "Posting",
    "fingerprint_of",
    "in_utc",
    "mark_received",
    "post_order",
    "posting_of",
    "release_due",
    "write_posting",
]

_CHUNK = 500  # orders released per query (bounded IN lists on every database)
_FINGERPRINT = select(t.orders.c.order_id, t.orders.c.fingerprint).where(
    t.orders.c.order_id == bindparam("order_id")
)


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
    return write_posting(store, posting_of(in_utc(order), settlement), at, given=order)


@dataclass(frozen=True)
class Posting:
    """What ``post`` records of an order, computed once: the order (``paid_at`` in UTC) and
    its settlement, their JSON, the policy's digest, the chain snapshot and the fingerprint."""

    order: Order
    settlement: Settlement
    order_json: str
    policy_json: str
    policy_id: str
    snapshot: dict[str, Any]
    fingerprint: str


def posting_of(order: Order, settlement: Settlement, policy_json: str | None = None) -> Posting:
    """The ``Posting`` of an order already in UTC (``in_utc``) and its checked settlement;
    ``policy_json`` is the settlement's policy as JSON when the caller has it already."""
    if policy_json is None:
        policy_json = settlement.policy.model_dump_json()
    policy_id = digest(policy_json)
    snapshot = _snapshot(settlement)
    order_json = order.model_dump_json()
    fingerprint = _fingerprint(order_json, policy_id, snapshot, settlement)
    return Posting(order, settlement, order_json, policy_json, policy_id, snapshot, fingerprint)


def write_posting(
    store: Store, posting: Posting, at: datetime, given: Order | None = None
) -> list[Entry]:
    """Write a checked ``Posting`` in one transaction (``post_order`` after its checks): a
    no-op if the order was posted with the same fingerprint, refused if with another one.
    ``given`` is the order as the caller gave it, when its ``paid_at`` was not in UTC."""
    order, settlement = posting.order, posting.settlement
    fingerprint, policy_id, snapshot = posting.fingerprint, posting.policy_id, posting.snapshot
    version = settlement.version  # the PolicyVersion's name; None for a plain Policy
    with store.transaction():
        found = store.read("orders", _FINGERPRINT, {"order_id": order.order_id})
        if found:
            if found[0]["fingerprint"] == fingerprint or (
                given is not None  # ledgers before version 4 kept paid_at's own zone
                and given is not order
                and found[0]["fingerprint"]
                == _fingerprint(given.model_dump_json(), policy_id, snapshot, settlement)
            ):
                return []
            raise DuplicateOrderError(
                f"order {order.order_id!r} was already posted with a different settlement; "
                "refund it, or post the change under a new order id"
            )
        check_clock(store, at, doing="post")
        policy = in_force(store.policy_rows(), at)
        start = (order.paid_at or at) if policy.freeze_from == "paid" else None
        store.add_policy(policy_id, posting.policy_json)
        store.add_orders(
            [
                {
                    "order_id": order.order_id,
                    "fingerprint": fingerprint,
                    "policy_id": policy_id,
                    "order_json": posting.order_json,
                    "snapshot_json": json.dumps(snapshot),
                    "refunded_json": json.dumps([0] * len(order.lines)),
                    "posted_at": at,
                    "freeze_start": start,
                    "due_at": due_date(start, policy.freeze_days) if start else None,
                    "released_at": None,
                    "policy_version": version,
                }
            ]
        )
        paid = totals(settlement)
        store.add_payouts(
            [
                {"order_id": order.order_id, "member_id": m, "rule": r, "kind": k, "amount": a}
                for (m, r, k), a in paid.items()
            ]
        )
        made = store.add_entries(
            [
                entry_row(key, "pending", "post", amount, at, order.order_id)
                for key, amount in paid.items()
            ]
        )
        add_volumes(store, [sale_volume(settlement.seller_id, order, at)])  # 业绩
        store.advance(at, f"order {order.order_id!r} posted")
        return made


def in_utc(order: Order) -> Order:
    """The order with its ``paid_at`` in UTC (the same instant), as the ledger records it."""
    if order.paid_at is None or order.paid_at.utcoffset() == timedelta(0):
        return order
    return order.model_copy(update={"paid_at": utc(order.paid_at)})  # same instant: valid


def fingerprint_of(order: Order, settlement: Settlement) -> str:
    """What identifies a posted order: its JSON, policy, chain snapshot, payouts, version.

    The version joins the fingerprint only when there is one: orders posted before versions
    existed keep their fingerprints, so their repeats stay no-ops.
    """
    policy_id = digest(settlement.policy.model_dump_json())
    return _fingerprint(order.model_dump_json(), policy_id, _snapshot(settlement), settlement)


def _fingerprint(
    order_json: str, policy_id: str, snapshot: dict[str, Any], settlement: Settlement
) -> str:
    """``fingerprint_of`` from the parts ``post_order`` has already computed."""
    recorded: list[Any] = [order_json, policy_id, snapshot, _payout_rows(settlement)]
    version = settlement.version
    return digest(json.dumps(recorded + ([version] if version else []), sort_keys=True))


def mark_received(store: Store, order_id: str, at: datetime) -> None:
    """Start the freeze of an order when its goods are received: ``Ledger.mark_received``."""
    check_time(at)
    check_ids(order_id=order_id)
    with store.transaction():
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
            store.update_order(order_id, freeze_start=at, due_at=due_date(at, days))
            store.advance(at, f"the freeze of order {order_id!r} started")


def release_due(store: Store, as_of: datetime) -> list[Entry]:
    """Move every payout whose freeze has ended by ``as_of`` to available: ``Ledger.release``.

    The orders due are found through the ``released_at, due_at`` index; what an unreleased
    order still holds pending is exactly its current payouts (refunds before the release
    lower both), so each moves in two entries per payout, in chunks of orders.
    """
    check_time(as_of, name="as_of")
    o, p = t.orders.c, t.payouts.c
    with store.transaction():
        check_clock(store, as_of, name="as_of", doing="release")
        due = [
            row["order_id"]
            for row in store.read(
                "orders",
                select(o.order_id, o.due_at)  # due_at read back, so checked
                .where(o.released_at.is_(None), o.due_at.is_not(None), o.due_at <= as_of)
                .order_by(o.order_id),
            )
        ]
        moved: list[Entry] = []
        for part in range(0, len(due), _CHUNK):
            chunk = due[part : part + _CHUNK]
            rows = []
            for row in store.read(
                "payouts",
                select(p.order_id, p.member_id, p.rule, p.kind, p.amount)
                .where(p.order_id.in_(chunk), p.amount != 0)
                .order_by(p.order_id, p.member_id, p.rule, p.kind),
            ):
                key: Key = (row["member_id"], row["rule"], row["kind"])
                amount, order_id = row["amount"], row["order_id"]
                rows.append(entry_row(key, "pending", "release", -amount, as_of, order_id))
                rows.append(entry_row(key, "available", "release", amount, as_of, order_id))
            moved += [e for e in store.add_entries(rows) if e.bucket == "available"]
            store.release_orders(chunk, as_of)
        if due:
            store.advance(as_of, f"order {due[-1]!r} released")
        return moved


def _snapshot(settlement: Settlement) -> dict[str, Any]:
    """Seller, attribution, chain, and the binding that credited the seller when one did
    (only then: the snapshots and fingerprints of other orders stay as they were)."""
    snapshot: dict[str, Any] = {
        "seller_id": settlement.seller_id,
        "attribution": settlement.attribution,
        "chain": [[c.member_id, c.tier, c.status, c.generation] for c in settlement.chain],
    }
    binding = settlement.binding
    if binding is not None:  # its times as given (explain shows them so)
        snapshot["binding"] = binding.model_dump(mode="json")
    return snapshot


def _payout_rows(settlement: Settlement) -> list[list[Any]]:
    return [[p.member_id, p.rule, p.kind, p.generation, p.amount] for p in settlement.payouts]
