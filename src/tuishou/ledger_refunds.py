"""Refunds (退款): what is left of an order, what it pays now, and how a request is told apart.

A refund rebuilds what is left of the order (a line with ``n`` of ``q`` units left keeps
``amount × n ÷ q`` fen, rounded down) and re-settles it with the chain and the policy recorded
when it was posted. **A refund never raises a payout**: where re-rounding the smaller order
would give a member a fen more than it holds now (largest remainder can move a fen between
members), the member keeps what it holds and that fen stays with the platform, in the
remaining order's ``retained``. So every refund entry is zero or negative, and
``pool == paid + retained`` stays exact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .errors import LedgerError, did_you_mean
from .ids import id_problem
from .orders import Order, OrderLine
from .rules import Policy
from .settlement import ChainLink, Settlement, settle_chain

__all__ = ["Key", "digest", "never_raised", "refund_fingerprint", "refund_quantities",
           "remaining", "totals"]

Key = tuple[str, str, str]  # (member_id, rule, kind)


def digest(text: str) -> str:
    """The SHA-256 of ``text``, in hex: the ledger's fingerprints."""
    return hashlib.sha256(text.encode()).hexdigest()


def refund_fingerprint(order_id: str, lines: Mapping[str, int] | None) -> str:
    """What a refund id stands for: a full refund (None) and every partial one differ.

    A partial refund's fingerprint is the one schema 1 wrote, so its retries stay no-ops.

    >>> refund_fingerprint("o1", None) != refund_fingerprint("o1", {"x": 1})
    True
    """
    asked = None if lines is None else sorted(
        lines.items(), key=lambda item: (type(item[0]).__name__, str(item[0])))
    return digest(json.dumps([order_id, asked], default=repr))


def refund_quantities(order: Order, refunded: list[int],
                      lines: Mapping[str, int] | None) -> list[int]:
    """The quantities refunded per line after this refund; refuses what cannot be refunded."""
    left = [line.quantity - done for line, done in zip(order.lines, refunded, strict=True)]
    if lines is None:
        if not any(left):
            raise LedgerError(f"order {order.order_id!r} is already fully refunded")
        return [line.quantity for line in order.lines]
    if not lines:
        raise LedgerError(f"lines={{}} refunds nothing in order {order.order_id!r}; pass the "
                          "SKUs and quantities to refund, or lines=None for everything left")
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
            problems.append(f"{sku!r} is not in order {order.order_id!r}; "
                            f"{did_you_mean(sku, skus)}")
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


def remaining(policy: Policy, snapshot: dict[str, Any], order: Order,
              refunded: list[int]) -> tuple[int, dict[Key, int]]:
    """Re-settle what is left of ``order`` on the recorded chain: (its pool, its payouts)."""
    kept = [OrderLine(sku=line.sku, group=line.group, quantity=line.quantity - done,
                      amount=line.amount * (line.quantity - done) // line.quantity)
            for line, done in zip(order.lines, refunded, strict=True) if done < line.quantity]
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
