"""Batch = settle with fixed schedules and quantity brackets (docs/domain.md §17), on random cases.

Policies come from ``policies(fixed=True, brackets=True)``: fixed schedules on some SKUs (some in
quantity brackets), rate brackets on some SKU rates, ``allow_fixed_above_amount`` on or off.
Every order is settled with ``settle`` and checked for every invariant (conservation
included); ``settle_batch`` must give the same payout and order rows, ``member_totals`` the
same totals, under every rounding mode and scope. When ``settle`` refuses an order for
paying fixed amounts above its amount, the batch engine must refuse the batch.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuishou import settle
from tuishou.engine import member_totals, settle_batch
from tuishou.errors import InvalidOrderError
from tuishou.orders import order_columns
from tuishou.rules import replace
from tuishou.testing import check_settlement, invite_trees, order_batches, policies

from helpers import examples, ladders, rows_of

MODES = [(m, s) for m in ("largest_remainder", "floor") for s in ("order", "line")]
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=8))
    policy = draw(policies(tiers=tiers, fixed=True, brackets=True))
    orders = draw(order_batches(tree, max_size=5, max_lines=3, max_amount=5_000))
    return policy, tree, orders


@settings(SLOW, max_examples=examples(150))
@given(cases())
def test_batch_equals_settle_with_fixed_schedules_and_brackets(case):
    drawn, tree, orders = case
    for mode, scope in MODES:
        policy = replace(drawn, rounding=mode, rounding_scope=scope)
        columns = order_columns(orders)
        try:
            settlements = [settle(policy, tree, order) for order in orders]
        except InvalidOrderError as refused:
            message = str(refused)
            with pytest.raises(InvalidOrderError, match="allow_fixed_above_amount"):
                settle_batch(policy, tree, columns)
            assert "allow_fixed_above_amount" in message
            return
        for order, result in zip(orders, settlements, strict=True):
            check_settlement(policy, tree, order, result)
            assert result.pool == result.paid + result.retained
        payouts, per_order = rows_of(orders, settlements)
        batch = settle_batch(policy, tree, columns)
        assert batch.payouts.rows() == payouts, (mode, scope)
        assert batch.orders.rows() == per_order, (mode, scope)
        totals: dict[str, int] = {}
        for row in payouts:
            totals[row[1]] = totals.get(row[1], 0) + row[5]
        assert dict(member_totals(policy, tree, columns).rows()) == totals


@settings(SLOW, max_examples=examples(60))
@given(cases())
def test_the_strategy_draws_fixed_lines_and_brackets(case):
    """Not a property of tuishou: the cases above really contain what they are for."""
    policy, _, _ = case
    assert all(sku not in policy.sku_rates for sku in policy.fixed)
