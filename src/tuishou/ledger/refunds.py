"""Refunds (退款): what is left of an order, what it pays now, and how a request is told apart.

A refund rebuilds what is left of the order (a line with ``n`` of ``q`` units left keeps
``amount × n ÷ q`` fen, rounded down: ``tuishou.rounding.prorate``) and re-settles it with
the chain and the policy recorded when it was posted. **A refund never raises a payout**:
where re-rounding the smaller order would give a member a fen more than it holds now
(largest remainder can move a fen between members), the member keeps what it holds and that
fen stays with the platform, in the remaining order's ``retained``. So every refund entry is
zero or negative, and ``pool == paid + retained`` stays exact.

A refund **by amount** (退差价: ``amounts={sku: fen}``) returns money on a line and keeps its
units: the line keeps exactly ``a − x`` fen of the ``a`` it had left (per-line state:
``tuishou.ledger.refund_lines``), and the order is re-settled the same way. Lines whose SKU
pays a fixed commission per unit refund whole units only. Refunds start from the order's paid
lines (after its coupon, when it has one).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tuishou.errors import DuplicateRequestError, LedgerError
from tuishou.ledger.clock import check_clock
from tuishou.ledger.models import Entry, LedgerPolicy, RefundResult, entry_row
from tuishou.ledger.refund_lines import (
    LineState,
    after_amounts,
    after_everything,
    after_units,
    encode,
    left_order,
    states,
)
from tuishou.ledger.store import Store
from tuishou.ledger.stored import damaged
from tuishou.ledger.volumes import add_volumes, refund_volume
from tuishou.ledger.withdrawal_store import find_withdrawal
from tuishou.orders import Order
from tuishou.rules import Policy
from tuishou.settlement import ChainLink, Settlement, paid_order, settle_chain

__all__ = [
    "Key",
    "digest",
    "never_raised",
    "paid",
    "posted_lines",
    "refund",
    "refund_fingerprint",
    "refunded_lines",
    "remaining",
    "totals",
]

Key = tuple[str, str, str]  # (member_id, rule, kind)
Amounts = Mapping[str, int]  # SKU -> fen refunded (a refund by amount)


def refund(
    store: Store,
    policy: LedgerPolicy,
    order_id: str,
    lines: Mapping[str, int] | None,
    at: datetime,
    refund_id: str | None,
    amounts: Amounts | None = None,
) -> RefundResult:
    """Carry out a refund inside the caller's transaction (``Ledger.refund`` checks the
    arguments and opens it)."""
    request = refund_fingerprint(order_id, lines, amounts)
    order, snapshot, refunded, commission, released, posted_at = _load(store, order_id)
    if refund_id is not None and find_withdrawal(store, refund_id) is not None:
        raise DuplicateRequestError(  # refund and withdrawal ids are one namespace
            f"refund id {refund_id!r} was already used for a withdrawal; use a new id"
        )
    if refund_id is not None and store.seen(refund_id, "refund", request):
        pool, _ = remaining(commission, snapshot, order, refunded)
        now = store.payouts(order_id)
        return RefundResult(order_id, now, (), pool, pool - sum(now.values()), True)
    if at < posted_at:
        raise LedgerError(
            f"at={at} is before order {order_id!r} was posted ({posted_at}); "
            "a refund cannot precede its order"
        )
    check_clock(store, at, doing="refund")
    after = refunded_lines(commission, order, refunded, lines, amounts)
    pool, target = remaining(commission, snapshot, order, after)
    current = store.payouts(order_id)
    kept = never_raised(current, target)
    entries: list[Entry] = []
    for key in sorted(set(current) | set(kept)):
        taken = current.get(key, 0) - kept.get(key, 0)  # never negative: see never_raised
        if taken:
            rows = (
                _clawback(store, policy, key, taken, at, order_id, refund_id)
                if released
                else [entry_row(key, "pending", "refund", -taken, at, order_id, refund_id)]
            )
            entries += store.add_entries(rows)
            store.set_payout(order_id, key, kept.get(key, 0), exists=key in current)
    store.update_order(order_id, refunded_json=encode(order, after))
    add_volumes(
        store, [refund_volume(snapshot, order_id, refunded, after, at, refund_id, posted_at)]
    )
    if refund_id is not None:
        store.record_request(refund_id, "refund", request, at)
    store.advance(at, f"refund of order {order_id!r}" + (f" ({refund_id!r})" if refund_id else ""))
    return RefundResult(order_id, kept, tuple(entries), pool, pool - sum(kept.values()))


def _load(
    store: Store, order_id: str
) -> tuple[Order, dict[str, Any], list[LineState], Policy, bool, datetime]:
    """The posted order (its paid lines), its snapshot, each line's refund state, its
    commission policy, whether it was released, and when it was posted."""
    row = store.order_row(
        order_id,
        "order_json",
        "snapshot_json",
        "refunded_json",
        "policy_json",
        "released_at",
        "posted_at",
    )
    order, refunded = posted_lines(store, row)
    return (
        order,
        row["snapshot_json"],
        refunded,
        row["policy_json"],
        row["released_at"] is not None,
        row["posted_at"],
    )


def posted_lines(store: Store, row: Mapping[str, Any]) -> tuple[Order, list[LineState]]:
    """A posted order's paid lines and each line's refund state, from its ``tuishou_orders``
    row (``order_json`` and ``refunded_json``); a state that does not fit is named damaged."""
    order = paid(row["order_json"])
    refunded = states(order, row["refunded_json"])
    if refunded is None:
        raise damaged(
            store.path,
            "orders",
            row,
            "refunded_json",
            "expected one count per line of the order, each at most its quantity (or, for a "
            "line refunded by amount, [amount, quantity, units refunded] within the line)",
        )
    return order, refunded


def paid(order: Order) -> Order:
    """``order`` as it was paid: with its coupon spread over its lines (``paid_order``, when
    this tuishou has coupons), which is what refunds take back from."""
    return paid_order(order)


def _clawback(
    store: Store,
    policy: LedgerPolicy,
    key: Key,
    amount: int,
    at: datetime,
    order_id: str,
    refund_id: str | None,
) -> list[dict[str, Any]]:
    """Take ``amount`` back from released commission (capped, the rest written off).

    Under ``cap_at_balance`` the cap is the member's balance: what is available and what is
    under withdrawal review (held or payable), which is still the member's money. So a
    clawback may take the available balance below zero by at most what is under review: a
    rejected withdrawal then brings it back to zero or more (a rejection cannot hand back
    commission of a refunded order), and a paid one leaves it for later earnings to repay.
    """
    rows = [entry_row(key, "available", "clawback", -amount, at, order_id, refund_id)]
    if policy.clawback == "cap_at_balance":
        balance = store.balance(key[0], None)
        short = amount - max(balance.available + balance.held + balance.payable, 0)
        if short > 0:  # the balance cannot cover it: record what is not taken
            rows.append(entry_row(key, "available", "write_off", short, at, order_id, refund_id))
    return rows


def digest(text: str) -> str:
    """The SHA-256 of ``text``, in hex: the ledger's fingerprints."""
    return hashlib.sha256(text.encode()).hexdigest()


def refund_fingerprint(
    order_id: str, lines: Mapping[str, int] | None, amounts: Amounts | None = None
) -> str:
    """What a refund id stands for: a full refund (None), every partial one and every refund
    by amount differ.

    A partial refund's fingerprint is the one schema 1 wrote, so its retries stay no-ops.

    >>> refund_fingerprint("o1", None) != refund_fingerprint("o1", {"x": 1})
    True
    >>> refund_fingerprint("o1", None, {"x": 1}) != refund_fingerprint("o1", {"x": 1})
    True
    """
    if amounts is not None:
        return digest(json.dumps([order_id, "amounts", _sorted(amounts)], default=repr))
    asked = None if lines is None else _sorted(lines)
    return digest(json.dumps([order_id, asked], default=repr))


def _sorted(asked: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    return sorted(asked.items(), key=lambda item: (type(item[0]).__name__, str(item[0])))


def refunded_lines(
    policy: Policy,
    order: Order,
    refunded: list[LineState],
    lines: Mapping[str, int] | None,
    amounts: Amounts | None = None,
) -> list[LineState]:
    """Each line's refund state after this refund (units ``lines``, money ``amounts``, or
    everything left when both are None); refuses what cannot be refunded."""
    if amounts is not None:
        return after_amounts(order, refunded, amounts, fixed=policy.is_fixed)
    if lines is None:
        return after_everything(order, refunded)
    return after_units(order, refunded, lines)


def remaining(
    policy: Policy, snapshot: dict[str, Any], order: Order, refunded: list[LineState]
) -> tuple[int, dict[Key, int]]:
    """Re-settle what is left of ``order`` on the recorded chain: (its pool, its payouts).

    A line keeps the quantity bracket of the quantity bought (when the policy has brackets).
    """
    left = left_order(order, refunded)
    if left is None:
        return 0, {}
    rest, bought = left
    chain = tuple(ChainLink(*link) for link in snapshot["chain"])
    settled = settle_chain(
        policy, rest, snapshot["seller_id"], snapshot["attribution"], chain, bought=bought
    )
    return settled.pool, totals(settled)


def never_raised(current: Mapping[Key, int], target: Mapping[Key, int]) -> dict[Key, int]:
    """``target``, with no payout above what it is now: a refund never raises a payout.

    >>> never_raised({("A", "r", "k"): 5, ("B", "r", "k"): 3},
    ...              {("A", "r", "k"): 6, ("B", "r", "k"): 1, ("C", "r", "k"): 2})
    {('A', 'r', 'k'): 5, ('B', 'r', 'k'): 1}
    """
    capped = {key: min(amount, current.get(key, 0)) for key, amount in target.items()}
    return {key: amount for key, amount in capped.items() if amount > 0}


def totals(settlement: Settlement) -> dict[Key, int]:
    """A settlement's payouts summed per (member, rule, kind)."""
    summed: dict[Key, int] = {}
    for p in settlement.payouts:
        key = (p.member_id, p.rule, p.kind)
        summed[key] = summed.get(key, 0) + p.amount
    return summed
