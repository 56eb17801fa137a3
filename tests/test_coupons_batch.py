"""Batch equals settle with order coupons and half-up rounding (issue 14, "Properties").

Random trees, policies under every rounding mode (``half_up`` included) and scope, and
orders of which about half carry a coupon (on every line, or restricted to some SKUs or
groups): ``settle`` order by order, each settlement checked for every invariant
(``check_settlement``: conservation, the budget, rounding), equals ``settle_batch`` row for
row and ``member_totals`` member for member; the batch engine spreads the coupons itself,
from the ``coupon`` and ``coupon_eligible`` columns ``order_columns`` writes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuishou import Order, settle
from tuishou.engine import member_totals, settle_batch
from tuishou.engine.coupons import paid_amounts
from tuishou.orders import order_columns
from tuishou.rounding import spread
from tuishou.rules import replace
from tuishou.settlement.coupons import line_discounts
from tuishou.testing import check_settlement, invite_trees, order_batches, policies

from helpers import examples, ladders, rows_of

ROUNDINGS = ("largest_remainder", "floor", "half_up")
MODES = list(itertools.product(ROUNDINGS, ("order", "line")))
SLOW = settings(
    deadline=None,
    max_examples=examples(60),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=8))
    policy = draw(policies(tiers=tiers, roundings=ROUNDINGS))
    batch = draw(order_batches(tree, max_size=6, max_lines=3, coupons=True))
    return policy, tree, batch


@SLOW
@given(cases())
def test_batch_equals_settle_with_coupons_under_every_rounding(case: tuple) -> None:
    policy, tree, batch = case
    columns = order_columns(batch)
    for mode, scope in MODES:
        chosen = replace(policy, rounding=mode, rounding_scope=scope)
        settlements = [settle(chosen, tree, order) for order in batch]
        for order, settlement in zip(batch, settlements, strict=True):
            check_settlement(chosen, tree, order, settlement)
        payouts, per_order = rows_of(batch, settlements)
        result = settle_batch(chosen, tree, columns)
        assert result.payouts.rows() == payouts, (mode, scope)
        assert result.orders.rows() == per_order, (mode, scope)
        totals: dict[str, int] = {}
        for row in payouts:
            totals[row[1]] = totals.get(row[1], 0) + row[5]
        assert dict(member_totals(chosen, tree, columns).rows()) == totals, (mode, scope)


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(st.integers(0, 10**10 // 3), min_size=1, max_size=5),
    st.lists(st.booleans(), min_size=5, max_size=5),
    st.integers(1, 10**10),
)
def test_the_vectorised_spread_is_the_scalar_one(
    amounts: list[int], eligible: list[bool], drawn: int
) -> None:
    flags = eligible[: len(amounts)]
    if not any(flags):
        flags[0] = True
    weights = [a for a, on in zip(amounts, flags, strict=True) if on]
    if not sum(weights):
        return
    coupon = 1 + (drawn - 1) % sum(weights)
    parts = iter(spread(weights, coupon))
    expected = [a - next(parts) if on else a for a, on in zip(amounts, flags, strict=True)]
    # Two orders interleaved, the second without a coupon: the layout must not matter.
    n = len(amounts)
    amount = np.array(amounts + amounts, dtype=np.int64)
    codes = np.array([0] * n + [1] * n)[np.argsort(np.tile(np.arange(n), 2), kind="stable")]
    amount = amount[np.argsort(np.tile(np.arange(n), 2), kind="stable")]
    coupon_column = np.where(codes == 0, coupon, 0)
    flag_column = np.repeat(np.array(flags), 2)
    got = paid_amounts(amount, codes, coupon_column, flag_column)
    assert got[codes == 0].tolist() == expected
    assert got[codes == 1].tolist() == amounts
    assert sum(expected) == sum(amounts) - coupon


@settings(max_examples=examples(100), deadline=None)
@given(st.data())
def test_line_shares_add_up_to_the_coupon(data: st.DataObject) -> None:
    tree = data.draw(invite_trees(max_size=3))
    order: Order = data.draw(order_batches(tree, max_size=1, coupons=True))[0]
    shares = line_discounts(order)
    coupon = order.coupon.amount if order.coupon else 0
    assert sum(shares) == coupon
    assert all(0 <= s <= line.amount for s, line in zip(shares, order.lines, strict=True))
    assert order.paid == order.amount - coupon


def test_dask_and_compare_spread_coupons_as_settle_does() -> None:
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from tuishou import Coupon, InviteTree, OrderLine, Policy
    from tuishou.analysis import compare
    from tuishou.engine.dask import settle_dask

    tree = InviteTree.from_records(
        [
            {"member_id": "A", "inviter_id": None, "tier": "m"},
            {"member_id": "B", "inviter_id": "A", "tier": "m"},
        ]
    )
    policy = Policy.model_validate(
        {
            "name": "p",
            "tiers": ["m"],
            "group_rates": {"g": "0.1", "h": "0.3"},
            "rounding": "half_up",
            "max_generation": 1,
            "rules": [
                {"kind": "seller", "rates": {"m": "0.5"}},
                {"kind": "layers", "rates": {"m": ["0.25"]}},
            ],
        }
    )
    batch = [
        Order(
            order_id=f"o{i}",
            sharer_id="B",
            lines=[
                OrderLine(sku="a", group="g", amount=333 + i),
                OrderLine(sku="b", group="h", amount=667),
            ],
            coupon=Coupon(coupon_id="c", amount=101 + i, groups=("g",) if i % 2 else ()),
        )
        for i in range(6)
    ]
    expected = [settle(policy, tree, order) for order in batch]
    frame = pd.DataFrame(order_columns(batch))
    lazy = settle_dask(policy, tree, dd.from_pandas(frame, npartitions=3))
    got = lazy.orders.compute(scheduler="synchronous")
    assert got[["order_id", "pool", "paid"]].values.tolist() == [
        [o.order_id, s.pool, s.paid] for o, s in zip(batch, expected, strict=True)
    ]
    totals = compare({"p": policy}, tree, batch).totals.to_dict("index")["p"]
    assert (totals["pool"], totals["paid"]) == (
        sum(s.pool for s in expected),
        sum(s.paid for s in expected),
    )


def test_coupons_under_policy_versions() -> None:
    from datetime import UTC, datetime

    from tuishou import InviteTree, OrderLine, Policy
    from tuishou.orders import Coupon
    from tuishou.policy_versions import PolicyVersions

    tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    old = Policy.model_validate(
        {
            "name": "old",
            "tiers": ["m"],
            "group_rates": {"g": "0.1"},
            "rules": [{"kind": "seller", "rates": {"m": "0.5"}}],
        }
    )
    new = replace(old, rounding="half_up", group_rates={"g": "0.3"})
    versions = PolicyVersions.of(
        (datetime(2026, 11, 1, tzinfo=UTC), old), (datetime(2026, 12, 1, tzinfo=UTC), new)
    )
    batch = [
        Order(
            order_id=f"o{i}",
            sharer_id="A",
            paid_at=datetime(2026, 11 + i % 2, 15, tzinfo=UTC),
            lines=[OrderLine(sku=s, group="g", amount=101 + 7 * i) for s in ("a", "b", "c")],
            coupon=Coupon(coupon_id="c", amount=50 + i, skus=("a", "c")) if i != 2 else None,
        )
        for i in range(5)
    ]
    expected = [settle(versions, tree, order) for order in batch]
    rows = settle_batch(versions, tree, order_columns(batch)).orders.rows()
    assert [row[2:5] for row in rows] == [(s.pool, s.paid, s.retained) for s in expected]
