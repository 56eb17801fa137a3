"""Defects found by breaking issue 14's new features (one failing test per defect)."""

from __future__ import annotations

import pytest

from tuishou import InviteTree, Order, OrderLine, Policy, settle
from tuishou.engine import settle_batch
from tuishou.errors import InvalidPolicyError
from tuishou.orders import order_columns

TREE = InviteTree.from_records(
    [
        {"member_id": "A", "inviter_id": None, "tier": "member"},
        {"member_id": "B", "inviter_id": "A", "tier": "member"},
        {"member_id": "C", "inviter_id": "B", "tier": "member"},
    ]
)


def fixed_policy(amount: int) -> dict:
    return {
        "name": "gift",
        "tiers": ["member"],
        "group_rates": {"home": "1"},
        "max_generation": 2,
        "allow_fixed_above_amount": True,
        "rules": [{"kind": "seller", "rates": {"member": "0.05"}}],
        "fixed": {"mug": {"seller": {"amounts": {"member": amount}}}},
    }


def test_a_huge_fixed_amount_is_refused_not_wrapped_around_in_the_batch_engine():
    """A fixed amount per unit has no upper bound: 2^62 fen × 3 units is accepted by the
    policy, ``settle`` pays 1.4e19 fen (beyond any order's ¥100,000,000 maximum) and the
    batch engine's int64 wraps round: it pays the seller a NEGATIVE amount, silently.
    Should: the policy refuses a fixed amount above the supported maximum (MAX_ORDER_FEN),
    or at least both paths refuse the line; never a negative payout."""
    try:
        policy = Policy.model_validate(fixed_policy(2**62))
    except InvalidPolicyError:
        return  # refused up front: fine
    order = Order(
        order_id="o", sharer_id="C", lines=[OrderLine(sku="mug", group="home", amount=0, quantity=3)]
    )
    batch = settle_batch(policy, TREE, order_columns([order]))
    assert all(row[-1] >= 0 for row in batch.payouts.rows()), batch.payouts.rows()
    single = settle(policy, TREE, order)
    assert [row[2:] for row in batch.orders.rows()] == [(single.pool, single.paid, 0)]
