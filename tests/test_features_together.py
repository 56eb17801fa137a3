"""Issue 14's features at once: customer bindings, fixed schedules in quantity brackets,
order coupons and every rounding mode on the same orders. Each feature has its own property
beside its tests; this one checks that they compose: the batch engine equals ``settle`` to
the fen, every settlement keeps the invariants of docs/domain.md §14, and a refused order is
refused by both paths."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tuishou import InvalidOrderError, settle
from tuishou.engine import member_totals, settle_batch
from tuishou.orders import order_columns
from tuishou.rules import replace
from tuishou.testing import (
    bindings,
    check_settlement,
    invite_trees,
    order_batches,
    paid_times,
    policies,
)

from helpers import examples, ladders, rows_of

ROUNDINGS = ("largest_remainder", "floor", "half_up")


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=8))
    drawn = draw(policies(tiers=tiers, fixed=True, brackets=True, roundings=ROUNDINGS))
    # without self-purchase, a member's own order can go to its binding (bind_members)
    policy = replace(
        drawn,
        bind_members=draw(st.booleans()),
        self_purchase=drawn.self_purchase and draw(st.booleans()),
    )
    batch = draw(order_batches(tree, max_size=6, max_lines=3, max_amount=5_000, coupons=True))
    buyers = sorted({o.buyer_id for o in batch if o.buyer_id is not None}) or ["guest"]
    found = draw(bindings(tree, customers=buyers, members_too=draw(st.booleans())))
    return policy, tree, draw(paid_times(batch, near=found)), found


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_batch_equals_settle_with_every_feature_of_issue_14_at_once(case):
    policy, tree, batch, found = case
    columns = order_columns(batch)
    try:
        settlements = [settle(policy, tree, order, bindings=found) for order in batch]
    except InvalidOrderError as refused:  # a fixed amount above what a line paid
        message = str(refused)
        with pytest.raises(InvalidOrderError, match="allow_fixed_above_amount"):
            settle_batch(policy, tree, columns, bindings=found)
        assert "allow_fixed_above_amount" in message
        event("refused: a fixed amount above a line's paid amount")
        return
    event("settled")
    event(f"credited by a binding: {any(s.attribution == 'binding' for s in settlements)}")
    event(f"a coupon: {any(o.coupon is not None for o in batch)}")
    event(f"a fixed line: {any(s.fixed_shares for s in settlements)}")
    for order, settlement in zip(batch, settlements, strict=True):
        check_settlement(policy, tree, order, settlement, bindings=found)
        assert settlement.pool == settlement.paid + settlement.retained
        assert sum(line.amount for line in settlement.lines) == order.paid
    payouts, per_order = rows_of(batch, settlements)
    result = settle_batch(policy, tree, columns, bindings=found)
    assert result.payouts.rows() == payouts
    assert result.orders.rows() == per_order
    totals: dict[str, int] = {}
    for row in payouts:
        totals[row[1]] = totals.get(row[1], 0) + row[5]
    assert dict(member_totals(policy, tree, columns, bindings=found).rows()) == totals
