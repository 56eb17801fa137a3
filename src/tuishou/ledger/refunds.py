"""Refunds (退款): what is left of an order, what it pays now, and how a request is told apart.

A refund rebuilds what is left of the order (a line with ``n`` of ``q`` units left keeps
``amount × n ÷ q`` fen, rounded down: ``tuishou.rounding.prorate``) and re-settles it with
the chain and the policy recorded when it was posted. **A refund never raises a payout**:
where re-rounding the smaller order would give a member a fen more than it holds now
(largest remainder can move a fen between members), the member keeps what it holds and that
fen stays with the platform, in the remaining order's ``retained``. So every refund entry is
zero or negative, and ``pool == paid + retained`` stays exact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tuishou.errors import DuplicateRequestError, LedgerError, did_you_mean
from tuishou.ids import id_problem
from tuishou.ledger.clock import check_clock
from tuishou.ledger.models import Entry, LedgerPolicy, RefundResult, entry_row
from tuishou.ledger.store import Store
from tuishou.ledger.stored import damaged
from tuishou.ledger.withdrawal_store import find_withdrawal
from tuishou.orders import Order, OrderLine
from tuishou.rounding import prorate
from tuishou.rules import Policy
from tuishou.settlement import ChainLink, Settlement, settle_chain

__all__ = [
    "Key",
    "digest",
    "never_raised",
    "refund",
    "refund_fingerprint",
    "refund_quantities",
    "remaining",
    "totals",
]

Key = tuple[str, str, str]  # (member_id, rule, kind)


def refund(
    store: Store,
    policy: LedgerPolicy,
    order_id: str,
    lines: Mapping[str, int] | None,
    at: datetime,
    refund_id: str | None,
) -> RefundResult:
    """Carry out a refund inside the caller's transaction (``Ledger.refund`` checks the
    arguments and opens it)."""
    request = refund_fingerprint(order_id, lines)
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
    after = refund_quantities(order, refunded, lines)
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
    store.update_order(order_id, refunded_json=json.dumps(after))
    if refund_id is not None:
        store.record_request(refund_id, "refund", request, at)
    store.advance(at, f"refund of order {order_id!r}" + (f" ({refund_id!r})" if refund_id else ""))
    return RefundResult(order_id, kept, tuple(entries), pool, pool - sum(kept.values()))


def _load(
    store: Store, order_id: str
) -> tuple[Order, dict[str, Any], list[int], Policy, bool, datetime]:
    row = store.order_row(
        order_id,
        "order_json",
        "snapshot_json",
        "refunded_json",
        "policy_json",
        "released_at",
        "posted_at",
    )
    order, refunded = row["order_json"], row["refunded_json"]
    if len(refunded) != len(order.lines) or any(
        done > line.quantity for line, done in zip(order.lines, refunded, strict=False)
    ):
        raise damaged(
            store.path,
            "orders",
            row,
            "refunded_json",
            "expected one count per line of the order, each at most its quantity",
        )
    return (
        order,
        row["snapshot_json"],
        refunded,
        row["policy_json"],
        row["released_at"] is not None,
        row["posted_at"],
    )


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


def refund_fingerprint(order_id: str, lines: Mapping[str, int] | None) -> str:
    """What a refund id stands for: a full refund (None) and every partial one differ.

    A partial refund's fingerprint is the one schema 1 wrote, so its retries stay no-ops.

    >>> refund_fingerprint("o1", None) != refund_fingerprint("o1", {"x": 1})
    True
    """
    asked = (
        None
        if lines is None
        else sorted(lines.items(), key=lambda item: (type(item[0]).__name__, str(item[0])))
    )
    return digest(json.dumps([order_id, asked], default=repr))


def refund_quantities(
    order: Order, refunded: list[int], lines: Mapping[str, int] | None
) -> list[int]:
    """The quantities refunded per line after this refund; refuses what cannot be refunded."""
    left = [line.quantity - done for line, done in zip(order.lines, refunded, strict=True)]
    if lines is None:
        if not any(left):
            raise LedgerError(f"order {order.order_id!r} is already fully refunded")
        return [line.quantity for line in order.lines]
    if not lines:
        raise LedgerError(
            f"lines={{}} refunds nothing in order {order.order_id!r}; pass the "
            "SKUs and quantities to refund, or lines=None for everything left"
        )
    skus = [line.sku for line in order.lines]
    problems = []
    after = list(refunded)
    for sku, quantity in sorted(lines.items(), key=lambda item: str(item[0])):
        wanted = sum(n for s, n in zip(skus, left, strict=True) if s == sku)
        if (problem := id_problem(sku, name="sku")) is not None:
            problems.append(problem)
        elif type(quantity) is not int or quantity < 1:
            problems.append(f"{sku!r}: quantity {quantity!r} must be an int >= 1")
        elif sku not in skus:
            problems.append(
                f"{sku!r} is not in order {order.order_id!r}; "
                f"{did_you_mean(sku, list(dict.fromkeys(skus)))}"
            )
        elif quantity > wanted:
            problems.append(f"{sku!r}: refund of {quantity} but only {wanted} left")
        else:  # lines of the same SKU are refunded in order
            for i, s in enumerate(skus):
                take = min(quantity, left[i]) if s == sku else 0
                after[i] += take
                quantity -= take
    if problems:
        raise LedgerError.from_problems("refund refused, nothing changed", problems)
    return after


def remaining(
    policy: Policy, snapshot: dict[str, Any], order: Order, refunded: list[int]
) -> tuple[int, dict[Key, int]]:
    """Re-settle what is left of ``order`` on the recorded chain: (its pool, its payouts)."""
    kept = [
        OrderLine(
            sku=line.sku,
            group=line.group,
            quantity=line.quantity - done,
            amount=prorate(line.amount, line.quantity - done, line.quantity),
        )
        for line, done in zip(order.lines, refunded, strict=True)
        if done < line.quantity
    ]
    if not kept:
        return 0, {}
    chain = tuple(ChainLink(*link) for link in snapshot["chain"])
    rest = order.model_copy(update={"lines": tuple(kept)})
    settled = settle_chain(policy, rest, snapshot["seller_id"], snapshot["attribution"], chain)
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
