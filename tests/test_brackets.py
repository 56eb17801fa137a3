"""Quantity brackets (阶梯佣金), docs/domain.md §17 and example I of §15.

OCA/commission's product-fixed module: 500 fen per unit below 10 units, 400 from 10. The
bracket is inclusive at its lower bound: 9 units take the first, 10 and 11 the second. Both
for a fixed schedule and for a rate, on ``settle`` and the batch engine; a refund keeps the
bracket of the quantity bought.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tuishou import InviteTree, Order, OrderLine, Policy, settle
from tuishou.engine import settle_batch
from tuishou.errors import InvalidPolicyError
from tuishou.orders import order_columns
from tuishou.rulebook.brackets import bracket_of, brackets_of
from tuishou.settlement import resettle
from tuishou.testing import check_settlement

TREE = InviteTree.from_records([{"member_id": "S", "inviter_id": None, "tier": "member"}])
BASE = {
    "name": "oca",
    "tiers": ["member"],
    "group_rates": {"g": "1"},
    "allow_fixed_above_amount": True,
    "rules": [{"kind": "seller", "rates": {"member": "0.1"}}],
}
FIXED = Policy.model_validate(
    {
        **BASE,
        "fixed": {
            "oca": [
                {"from": 1, "schedule": {"seller": {"amounts": {"member": 500}}}},
                {"from": 10, "schedule": {"seller": {"amounts": {"member": 400}}}},
            ]
        },
    }
)
RATE = Policy.model_validate(
    {**BASE, "sku_rates": {"oca": [{"from": 1, "rate": "0.5"}, {"from": 10, "rate": "0.4"}]}}
)


def order(units: int, amount: int = 100_000) -> Order:
    return Order(
        order_id=f"u{units}",
        sharer_id="S",
        lines=[OrderLine(sku="oca", group="g", amount=amount, quantity=units)],
    )


@pytest.mark.parametrize(("units", "per_unit"), [(9, 500), (10, 400), (11, 400)])
def test_a_fixed_schedule_by_quantity_bracket(units, per_unit):
    result = settle(FIXED, TREE, order(units))
    assert result.amount_for("S") == units * per_unit
    assert result.lines[0].bracket == (1 if units < 10 else 10)
    check_settlement(FIXED, TREE, order(units), result)
    assert settle_batch(FIXED, TREE, order_columns([order(units)])).orders.rows() == [
        (f"u{units}", "S", result.pool, result.paid, result.retained)
    ]


@pytest.mark.parametrize(("units", "rate"), [(9, "0.5"), (10, "0.4"), (11, "0.4")])
def test_a_rate_by_quantity_bracket(units, rate):
    result = settle(RATE, TREE, order(units))
    assert result.lines[0].rate == Decimal(rate)
    assert result.pool == 100_000 * Decimal(rate)
    assert result.amount_for("S") == result.pool // 10
    check_settlement(RATE, TREE, order(units), result)
    assert settle_batch(RATE, TREE, order_columns([order(units)])).payouts.rows() == [
        (f"u{units}", "S", "seller", "seller", 0, result.amount_for("S"))
    ]


def test_the_batch_engine_picks_each_lines_bracket():
    orders = [order(units) for units in (1, 9, 10, 11, 30)]
    for policy in (FIXED, RATE):
        batch = settle_batch(policy, TREE, order_columns(orders))
        assert batch.orders.rows() == [
            (o.order_id, "S", r.pool, r.paid, r.retained)
            for o, r in ((o, settle(policy, TREE, o)) for o in orders)
        ]


def test_a_refund_keeps_the_bracket_of_the_quantity_bought():
    for policy, per_unit in ((FIXED, 400), (RATE, None)):
        first = settle(policy, TREE, order(10))
        rest = resettle(
            first, order(9, amount=90_000).model_copy(update={"order_id": "u10"}), bought=[10]
        )
        if per_unit is not None:
            assert rest.amount_for("S") == 9 * per_unit  # sold at 400 a unit: kept
        else:
            assert rest.lines[0].rate == Decimal("0.4")
        assert rest.lines[0].bought == 10
        assert rest.lines[0].quantity == 9
        fresh = resettle(first, order(9, amount=90_000).model_copy(update={"order_id": "u10"}))
        assert fresh.lines[0].bracket == 1  # without bought=, the 9 units' own bracket


def test_explain_names_the_bracket():
    assert "sku rate (bracket from 10 units)" in settle(RATE, TREE, order(10)).explain()
    assert "bracket from 10 units: fixed amounts" in settle(FIXED, TREE, order(11)).explain()


@pytest.mark.parametrize(
    ("brackets", "expected"),
    [
        ([{"from": 2, "rate": "0.5"}], "the first bracket starts from 2; it must start from 1"),
        (
            [{"from": 1, "rate": "0.5"}, {"from": 1, "rate": "0.4"}],
            "bracket 1 starts from 1, not above bracket 0",
        ),
        ([], "brackets \\[\\]: give a list"),
        ([{"from": 0, "rate": "0.5"}], "sku_rates.oca.0.from"),
        ([{"from": 1.0, "rate": "0.5"}], "sku_rates.oca.0.from"),
        ([{"from": 1, "rate": "0.5", "upto": 9}], "sku_rates.oca.0.upto"),
    ],
)
def test_bad_brackets_are_named(brackets, expected):
    with pytest.raises(InvalidPolicyError, match=expected):
        Policy.model_validate({**BASE, "sku_rates": {"oca": brackets}})


def test_the_lookup_is_inclusive_at_the_lower_bound():
    starts = (1, 10)
    assert [bracket_of(starts, q) for q in (1, 9, 10, 11)] == [0, 0, 1, 1]
    assert brackets_of(starts, np.array([1, 9, 10, 11])).tolist() == [0, 0, 1, 1]


def test_brackets_round_trip_through_json():
    for policy in (FIXED, RATE):
        assert Policy.model_validate_json(policy.model_dump_json()) == policy
        assert '"from":10' in policy.model_dump_json()


def test_the_toml_of_docs_domain_17_loads(tmp_path):
    """The bracket example of docs/domain.md §17, as written there."""
    from tuishou.io import load_policy

    path = tmp_path / "brackets.toml"
    path.write_text(
        """
name = "doc"
tiers = ["member"]
[group_rates]
g = "1"
[[rules]]
kind = "seller"
rates = { member = "0.05" }

[sku_rates]
oca = [{from = 1, rate = "0.5"}, {from = 10, rate = "0.4"}]

[[fixed.box]]
from = 1
schedule = {seller = {amounts = {member = 500}}}
[[fixed.box]]
from = 10
schedule = {seller = {amounts = {member = 400}}}
""",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert [policy.fixed_budget("box", q) for q in (9, 10, 11)] == [500, 400, 400]
    assert [policy.pool_rate("oca", "g", q) for q in (9, 10)] == [Decimal("0.5"), Decimal("0.4")]
