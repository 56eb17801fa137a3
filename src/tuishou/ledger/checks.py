"""What the ledger checks at its door: times, ids, amounts, and that a settlement is the order's.

- **Times** are aware ``datetime`` values only (any time zone; stored in UTC). A naive time
  is refused at every method that takes one: mixing naive and aware times cannot be ordered.
  An order is posted once paid: its ``paid_at`` may not be after the posting time.
- **Ids** (order, refund, withdrawal, member, SKU) follow ``tuishou.ids``.
- **Amounts**: an order above ``MAX_ORDER_FEN`` is refused, so every amount the ledger stores
  fits SQLite's 64-bit integers with room for ~9 × 10^8 such orders per member.
- **Settlements**: ``post`` only takes the settlement of that very order (see
  ``check_settlement``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tuishou import times
from tuishou.errors import LedgerError, TuishouError
from tuishou.ids import check_id
from tuishou.money import MAX_ORDER_FEN, yuan
from tuishou.orders import Order
from tuishou.settlement import Settlement, settle_chain

__all__ = ["check_amount", "check_ids", "check_paid_at", "check_settlement", "check_time"]


def check_time(moment: object, *, name: str = "at") -> datetime:
    """Return ``moment`` if it is an aware datetime (``tuishou.times.check_time``), else refuse it:
    a naive one with a ``LedgerError``.

    >>> from datetime import UTC
    >>> check_time(datetime(2026, 11, 1, tzinfo=UTC)).year
    2026
    >>> check_time(datetime(2026, 11, 1))
    Traceback (most recent call last):
    ...
    tuishou.errors.LedgerError: at=2026-11-01 00:00:00 has no time zone; the ledger takes aware ...
    """
    return times.check_time(
        moment,
        name=name,
        error=LedgerError,
        rule="the ledger takes aware datetimes only (stored in UTC)",
    )


def check_paid_at(order: Order, at: datetime) -> None:
    """Refuse an order whose ``paid_at`` is naive or after ``at``, the time it is posted."""
    if order.paid_at is None:
        return
    check_time(order.paid_at, name="order.paid_at")
    if order.paid_at > at:
        raise LedgerError(
            f"order {order.order_id!r} has paid_at={order.paid_at.isoformat()}, after "
            f"at={at.isoformat()}; an order is posted once it is paid: post it at or after its "
            "payment time (check the time zones); nothing was posted"
        )


def check_ids(*, optional: tuple[str, ...] = (), **ids: object) -> None:
    """Refuse any id that does not follow ``tuishou.ids``; those named ``optional`` may be None.

    >>> check_ids(order_id="o1", refund_id=None, optional=("refund_id",))
    >>> check_ids(withdrawal_id=None)
    Traceback (most recent call last):
    ...
    tuishou.errors.ArgumentTypeError: withdrawal_id=None is a NoneType; ids are text (str)
    """
    for name, value in ids.items():
        if value is not None or name not in optional:
            check_id(value, name=name)


def check_amount(order: Order) -> None:
    """Refuse an order above the supported amount (``money.MAX_ORDER_FEN``)."""
    if order.amount > MAX_ORDER_FEN:
        raise LedgerError(
            f"order {order.order_id!r} has amount={order.amount} fen, above the supported "
            f"{MAX_ORDER_FEN} fen ({yuan(MAX_ORDER_FEN)}) per order; nothing was posted: check "
            "the amounts are in fen"
        )


def check_settlement(order: Order, settlement: Settlement) -> None:
    """Refuse a settlement that is not the settlement of ``order``.

    The settlement records its policy, seller, attribution and chain, so the order is settled
    again on exactly those: the lines (SKU, group, amount), the pool, the shares and every
    payout must come out the same. The seller must also be the one the order names (its sharer,
    or its buyer for a self-purchase). Quantities are not part of a settlement: refunds take
    them from the order.
    """
    if settlement.order_id != order.order_id:
        raise LedgerError(
            f"the settlement is for order {settlement.order_id!r}, "
            f"not {order.order_id!r}; nothing was posted"
        )
    problems = _seller_problems(order, settlement)
    binding = settlement.binding
    try:
        again = settle_chain(
            settlement.policy,
            order,
            settlement.seller_id,
            settlement.attribution,
            settlement.chain,
            version=settlement.version,  # names the policy: recorded, not checked
            version_from=settlement.version_from,
            binding=binding,  # checked below
        )
    except TuishouError as exc:
        problems.append(f"the order cannot be settled under the settlement's policy: {exc}")
    else:
        problems += _differences(again, settlement)
    if problems:
        raise LedgerError.from_problems(
            f"the settlement does not belong to order {order.order_id!r} (nothing was posted; "
            "post the settlement settle() returned for this order)",
            problems,
        )


def _seller_problems(order: Order, settlement: Settlement) -> list[str]:
    expected = {"sharer": order.sharer_id, "self_purchase": order.buyer_id, "none": None}
    attribution: str = settlement.attribution
    if attribution in expected and settlement.seller_id != expected[attribution]:
        return [
            f"seller: the settlement credits {settlement.seller_id!r} by {attribution}, "
            f"but the order names {expected[attribution]!r}"
        ]
    if attribution == "buyer_inviter" and order.buyer_id is None:
        return ["seller: the settlement credits the buyer's inviter, but the order has no buyer"]
    binding = settlement.binding
    if attribution == "binding" or binding is not None:
        return _binding_problems(order, settlement.seller_id, attribution, binding)
    return []


def _binding_problems(
    order: Order, seller_id: str | None, attribution: str, binding: Any
) -> list[str]:
    """A seller credited by a binding: the settlement names it, it binds the order's buyer
    to that seller, and it was in force when the order was paid."""
    if attribution != "binding" or binding is None:
        return [
            f"seller: attribution {attribution!r} with binding {binding!r}; a binding "
            "is recorded exactly when it credits the seller (attribution 'binding')"
        ]
    problems = []
    if (binding.customer_id, binding.member_id) != (order.buyer_id, seller_id):
        problems.append(
            f"seller: the settlement's binding binds {binding.customer_id!r} to "
            f"{binding.member_id!r}, but the order's buyer is {order.buyer_id!r} and the "
            f"seller {seller_id!r}"
        )
    if order.paid_at is None or not binding.in_force(order.paid_at):
        paid = "no paid_at" if order.paid_at is None else f"paid_at={order.paid_at.isoformat()}"
        problems.append(
            f"seller: the settlement's binding (since {binding.since.isoformat()}) was not in "
            f"force when the order was paid ({paid})"
        )
    return problems


def _differences(again: Settlement, settlement: Settlement) -> list[str]:
    def lines(s: Settlement) -> list[tuple[str, str, int]]:
        return [(line.sku, line.group, line.amount) for line in s.lines]

    def payouts(s: Settlement) -> list[tuple[str, str, int]]:
        return [(p.member_id, p.rule, p.amount) for p in s.payouts]

    problems = [
        f"{what}: the order gives {mine}, the settlement has {theirs}"
        for what, mine, theirs in (
            ("lines (sku, group, amount)", lines(again), lines(settlement)),
            ("pool", again.pool, settlement.pool),
            ("payouts (member, rule, fen)", payouts(again), payouts(settlement)),
        )
        if mine != theirs
    ]
    if not problems and again != settlement:
        problems.append(
            "its shares or exact amounts differ from settling the order under its "
            "own policy and chain"
        )
    return problems
