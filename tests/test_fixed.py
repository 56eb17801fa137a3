"""Fixed-amount commissions (固定佣金), docs/domain.md §17 and example I of §15.

Hand-worked: a fixed commission against a rate in the same order (a fixed line and a rate
line), a fixed amount on a ¥0 gift line (refused unless ``allow_fixed_above_amount``), a
suspended member's fixed amount retained, conservation, the batch engine on the same orders,
``explain()``, refunds of whole units, and policy-file errors named all at once.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tuishou import InviteTree, Order, OrderLine, Policy, settle
from tuishou.engine import member_totals, settle_batch
from tuishou.errors import InvalidOrderError, InvalidPolicyError
from tuishou.io import load_policy
from tuishou.orders import order_columns
from tuishou.rules import replace
from tuishou.settlement import resettle
from tuishou.testing import check_settlement

TREE = InviteTree.from_records(
    [
        {"member_id": "A", "inviter_id": None, "tier": "member"},
        {"member_id": "B", "inviter_id": "A", "tier": "member"},
        {"member_id": "C", "inviter_id": "B", "tier": "member"},
    ]
)
SUSPENDED_B = InviteTree.from_records(
    [
        {"member_id": "A", "inviter_id": None, "tier": "member"},
        {"member_id": "B", "inviter_id": "A", "tier": "member", "status": "suspended"},
        {"member_id": "C", "inviter_id": "B", "tier": "member"},
    ]
)
POLICY = {
    "name": "example-i",
    "tiers": ["member"],
    "group_rates": {"home": "1"},
    "max_generation": 2,
    "rules": [
        {"kind": "seller", "rates": {"member": "0.05"}},
        {"kind": "layers", "rates": {"member": ["0.02", "0.01"]}},
    ],
    "fixed": {
        "mug": {
            "seller": {"amounts": {"member": 500}},
            "layers": {"amounts": {"member": [200, 100]}},
        }
    },
}


def example_i_order(**changes: object) -> Order:
    """C shares an order: 3 mugs (fixed ¥5 / ¥2 / ¥1 per unit) and a kettle at a 100% pool rate."""
    lines = [
        OrderLine(sku="mug", group="home", amount=6000, quantity=3),
        OrderLine(sku="kettle", group="home", amount=9999),
    ]
    return Order.model_validate({"order_id": "I-1", "sharer_id": "C", "lines": lines, **changes})


def paid(result) -> list[tuple[str, str, int, int]]:  # type: ignore[no-untyped-def]
    return [(p.member_id, p.rule, p.amount, p.fixed) for p in result.payouts]


def test_example_i_a_fixed_line_against_a_rate_line_in_one_order():
    """docs/domain.md §15, Example I: the kettle at a rate, the mugs at fixed amounts."""
    policy = Policy.model_validate(POLICY)
    order = example_i_order()
    result = settle(policy, TREE, order)
    # The kettle's pool is 9999 fen: C 5% = 499.95, B 2% = 199.98, A 1% = 99.99, rounded by
    # largest remainder over the rate pool alone: 500 + 200 + 100 = 800 = round(799.92).
    # The mugs pay 3 × (500, 200, 100) = 1500, 600, 300 fen, whole, never rounded.
    assert paid(result) == [
        ("C", "seller", 2000, 1500),
        ("B", "layers", 800, 600),
        ("A", "layers", 400, 300),
    ]
    assert result.pool == 9999 + 2400  # the rate pool and the fixed amounts
    assert result.retained == 12399 - 3200
    assert [line.rate_from for line in result.lines] == ["fixed", "group"]
    assert result.lines[0].fixed == 2400
    assert result.lines[0].rate == Decimal(0)
    check_settlement(policy, TREE, order, result)


def test_a_fixed_line_takes_no_pool_share_and_the_rate_line_is_rounded_without_it():
    policy = Policy.model_validate(POLICY)
    alone = settle(policy, TREE, example_i_order(lines=[example_i_order().lines[1]]))
    both = settle(policy, TREE, example_i_order())
    assert [p.amount - p.fixed for p in both.payouts] == [p.amount for p in alone.payouts]


def test_a_rule_the_schedule_does_not_name_pays_nothing_on_the_fixed_line():
    policy = Policy.model_validate(
        {**POLICY, "fixed": {"mug": {"seller": {"amounts": {"member": 500}}}}}
    )
    result = settle(policy, TREE, example_i_order(lines=[example_i_order().lines[0]]))
    assert paid(result) == [("C", "seller", 1500, 1500)]
    assert result.pool == 1500
    assert result.retained == 0


def test_fixed_on_a_zero_yuan_gift_line_is_refused_unless_allowed():
    policy = Policy.model_validate(POLICY)
    gift = example_i_order(lines=[OrderLine(sku="mug", group="home", amount=0, quantity=1)])
    with pytest.raises(InvalidOrderError) as refused:
        settle(policy, TREE, gift)
    message = str(refused.value)
    assert "order 'I-1'" in message
    assert "'mug'" in message
    assert "800 fen" in message
    assert "paid 0 fen" in message
    assert "allow_fixed_above_amount = true" in message
    with pytest.raises(InvalidOrderError, match=r"row\(s\) 0.*'mug'.*allow_fixed_above_amount"):
        settle_batch(policy, TREE, order_columns([gift]))

    allowed = replace(policy, allow_fixed_above_amount=True)
    result = settle(allowed, TREE, gift)
    assert paid(result) == [
        ("C", "seller", 500, 500),
        ("B", "layers", 200, 200),
        ("A", "layers", 100, 100),
    ]
    assert result.pool == 800
    assert result.retained == 0
    check_settlement(allowed, TREE, gift, result)


def test_the_amount_check_is_at_the_limit_inclusive():
    policy = Policy.model_validate(POLICY)
    exactly = example_i_order(lines=[OrderLine(sku="mug", group="home", amount=2400, quantity=3)])
    assert settle(policy, TREE, exactly).paid == 2400
    short = example_i_order(lines=[OrderLine(sku="mug", group="home", amount=2399, quantity=3)])
    with pytest.raises(InvalidOrderError, match="2400 fen"):
        settle(policy, TREE, short)


def test_the_batch_engine_names_every_offending_line_at_once():
    policy = Policy.model_validate(POLICY)
    orders = [
        example_i_order(order_id=f"o{i}", lines=[OrderLine(sku="mug", group="home", amount=a)])
        for i, a in enumerate([0, 800, 5])
    ]
    with pytest.raises(InvalidOrderError, match=r"row\(s\) 0, 2[;,]"):
        settle_batch(policy, TREE, order_columns(orders))


def test_a_suspended_members_fixed_amount_is_retained():
    policy = Policy.model_validate(POLICY)
    order = example_i_order(lines=[example_i_order().lines[0]])
    result = settle(policy, SUSPENDED_B, order)
    assert paid(result) == [("C", "seller", 1500, 1500), ("A", "layers", 300, 300)]
    assert result.pool == 2400
    assert result.retained == 600
    forfeited = [f for f in result.fixed_shares if not f.paid]
    assert [(f.member_id, f.per_unit, f.units) for f in forfeited] == [("B", 200, 3)]
    check_settlement(policy, SUSPENDED_B, order, result)
    assert "forfeited: B is suspended" in result.explain()


@pytest.mark.parametrize("tree", [TREE, SUSPENDED_B], ids=["active", "suspended"])
@pytest.mark.parametrize("rounding", ["largest_remainder", "floor"])
@pytest.mark.parametrize("scope", ["order", "line"])
def test_conservation_and_batch_equal_settle_on_the_examples(tree, rounding, scope):
    policy = replace(Policy.model_validate(POLICY), rounding=rounding, rounding_scope=scope)
    orders = [example_i_order(order_id=f"o{i}") for i in range(3)] + [
        example_i_order(order_id="guest", sharer_id=None, buyer_id="nobody")
    ]
    results = [settle(policy, tree, order) for order in orders]
    for order, result in zip(orders, results, strict=True):
        assert result.pool == result.paid + result.retained
        check_settlement(policy, tree, order, result)
    batch = settle_batch(policy, tree, order_columns(orders))
    assert batch.orders.rows() == [
        (o.order_id, r.seller_id, r.pool, r.paid, r.retained)
        for o, r in zip(orders, results, strict=True)
    ]
    assert batch.payouts.rows() == [
        (o.order_id, p.member_id, p.rule, p.kind, p.generation, p.amount)
        for o, r in zip(orders, results, strict=True)
        for p in r.payouts
    ]
    totals: dict[str, int] = {}
    for r in results:
        for p in r.payouts:
            totals[p.member_id] = totals.get(p.member_id, 0) + p.amount
    assert dict(member_totals(policy, tree, order_columns(orders)).rows()) == totals


def test_a_differential_rule_walks_fixed_amounts_like_rates():
    tree = InviteTree.from_records(
        [
            {"member_id": "A", "inviter_id": None, "tier": "mentor"},
            {"member_id": "B", "inviter_id": "A", "tier": "mentor"},
            {"member_id": "C", "inviter_id": "B", "tier": "pusher"},
        ]
    )
    policy = Policy.model_validate(
        {
            "name": "diff",
            "tiers": ["pusher", "mentor"],
            "group_rates": {"home": "1"},
            "max_generation": 2,
            "rules": [
                {
                    "kind": "differential",
                    "rates": {"pusher": "0.1", "mentor": "0.2"},
                    "peer_rate": "0.01",
                    "peer_max": 1,
                }
            ],
            "fixed": {
                "box": {
                    "differential": {"amounts": {"pusher": 300, "mentor": 500}, "peer_amount": 50}
                }
            },
        }
    )
    order = Order(
        order_id="d",
        sharer_id="C",
        lines=[OrderLine(sku="box", group="home", amount=2000, quantity=2)],
    )
    result = settle(policy, tree, order)
    # C (pusher) 300; B (mentor) 500 - 300 = 200; A (mentor, same tier as B) peer 50; × 2.
    assert [(p.member_id, p.kind, p.amount) for p in result.payouts] == [
        ("C", "differential", 600),
        ("B", "differential", 400),
        ("A", "peer", 100),
    ]
    assert policy.fixed_budget("box") == 550
    check_settlement(policy, tree, order, result)
    assert settle_batch(policy, tree, order_columns([order])).payouts.rows() == [
        ("d", m, "differential", k, g, a)
        for (m, k, a), g in zip(
            [(p.member_id, p.kind, p.amount) for p in result.payouts], [0, 1, 2], strict=True
        )
    ]


def test_explain_shows_fixed_per_unit_times_units():
    policy = Policy.model_validate(POLICY)
    text = settle(policy, TREE, example_i_order()).explain()
    assert "mug (home) paid ¥60.00, 3 unit(s): fixed amounts, no pool share = 2400 fen" in text
    assert "gen 0  C  seller/seller  line 1 mug: fixed ¥5.00 x 3 = ¥15.00" in text
    assert "plus fixed ¥15.00 = ¥20.00" in text


def test_a_refund_of_fixed_units_takes_back_whole_units():
    policy = Policy.model_validate(POLICY)
    order = example_i_order(lines=[example_i_order().lines[0]])
    first = settle(policy, TREE, order)
    one_left = order.model_copy(
        update={"lines": (OrderLine(sku="mug", group="home", amount=2000, quantity=1),)}
    )
    again = resettle(first, one_left, bought=[3])
    assert paid(again) == [
        ("C", "seller", 500, 500),
        ("B", "layers", 200, 200),
        ("A", "layers", 100, 100),
    ]
    assert policy.is_fixed("mug")
    assert not policy.is_fixed("kettle")


def test_bought_must_match_the_lines():
    policy = Policy.model_validate(POLICY)
    first = settle(policy, TREE, example_i_order())
    with pytest.raises(TypeError, match="one int per line"):
        resettle(first, example_i_order(), bought=[3])
    with pytest.raises(InvalidOrderError, match="below its quantity 3"):
        resettle(first, example_i_order(), bought=[2, 1])


def test_policy_errors_are_named_all_at_once(tmp_path):
    """A float amount, unknown rules and tiers, misshapen amounts and bad brackets: one error."""
    bad = {
        **POLICY,
        "fixed": {
            "mug": {
                "seler": {"amounts": {"member": 500}},
                "layers": {"amounts": {"boss": [100], "member": 200}},
                "seller": {"amounts": {"member": 5.5}, "peer_amount": 1},
            },
            "box": [{"from": 2, "schedule": {}}, {"from": 2, "schedule": {}}],
        },
        "sku_rates": {"kettle": [{"from": 1, "rate": "0.5"}, {"from": 1, "rate": "0.4"}]},
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InvalidPolicyError) as refused:
        load_policy(path)
    message = str(refused.value)
    for expected in [
        "fixed.mug.seler: policy has no rule 'seler'; did you mean 'seller'?",
        "tier 'boss' is not in tiers",
        "amounts.member: a layers rule pays per generation; write a list",
        "peer_amount: only a differential rule pays a peer bonus",
        "fixed.box: the first bracket starts from 2; it must start from 1",
        "fixed.box: bracket 1 starts from 2, not above bracket 0",
        "sku_rates.kettle: bracket 1 starts from 1, not above bracket 0",
        "fixed.mug.seller.amounts.member: amount 5.5 is a float",
    ]:
        assert expected in message
    assert "8 problem(s)" in message


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (5.0, r"fixed\.mug\.seller\.amounts\.member: amount 5\.0 is a float; write an int"),
        (True, r"amount True is a bool"),
        ("500", r"amount '500' is a str"),
        (-1, r"amount -1 is negative"),
    ],
)
def test_a_fixed_amount_is_strict_int_fen(amount, expected):
    bad = {**POLICY, "fixed": {"mug": {"seller": {"amounts": {"member": amount}}}}}
    with pytest.raises(InvalidPolicyError, match=expected):
        Policy.model_validate(bad)


def test_float_amounts_are_named_with_the_other_type_errors():
    bad = {
        **POLICY,
        "fixed": {
            "mug": {
                "seller": {"amounts": {"member": 5.5}},
                "layers": {"amounts": {"member": [1, 2.5]}},
            }
        },
        "sku_rates": {"kettle": [{"from": 1, "rate": 0.5}]},
    }
    with pytest.raises(InvalidPolicyError) as refused:
        Policy.model_validate(bad)
    message = str(refused.value)
    assert isinstance(refused.value, TypeError)  # a float is a type problem too
    assert "fixed.mug.seller.amounts.member: amount 5.5 is a float" in message
    assert "fixed.mug.layers.amounts.member.1: amount 2.5 is a float" in message
    assert "sku_rates.kettle.0.rate: rate 0.5 is a float" in message


def test_a_sku_with_a_rate_and_a_fixed_schedule_is_refused():
    bad = {**POLICY, "sku_rates": {"mug": "0.5"}}
    with pytest.raises(InvalidPolicyError, match="also has a pool rate in sku_rates"):
        Policy.model_validate(bad)


def test_a_policy_file_with_fixed_schedules_round_trips(tmp_path):
    toml = tmp_path / "fixed.toml"
    toml.write_text(
        """
name = "toml"
tiers = ["member"]
max_generation = 2
[group_rates]
home = "1"
[[rules]]
kind = "seller"
rates = { member = "0.05" }
[[rules]]
kind = "layers"
rates = { member = ["0.02", "0.01"] }
[fixed.mug.seller]
amounts = { member = 500 }
[fixed.mug.layers]
amounts = { member = [200, 100] }
""",
        encoding="utf-8",
    )
    loaded = load_policy(toml)
    assert loaded == Policy.model_validate({**POLICY, "name": "toml"})
    assert Policy.model_validate_json(loaded.model_dump_json()) == loaded
    assert replace(loaded, name="copy").fixed == loaded.fixed


def test_a_policy_without_fixed_amounts_dumps_as_before():
    """The ledger stores and fingerprints ``model_dump_json()``: unchanged without §17."""
    plain = Policy.model_validate({k: v for k, v in POLICY.items() if k != "fixed"})
    dumped = json.loads(plain.model_dump_json())
    assert "fixed" not in dumped
    assert "allow_fixed_above_amount" not in dumped
    with_fixed = json.loads(
        replace(Policy.model_validate(POLICY), allow_fixed_above_amount=True).model_dump_json()
    )
    assert with_fixed["allow_fixed_above_amount"] is True
    assert with_fixed["fixed"]["mug"]["layers"]["amounts"] == {"member": [200, 100]}


def test_compliance_and_validate_count_fixed_amounts():
    from tuishou.analysis.compliance import compliance_notes, generations_paid, largest_fixed

    policy = Policy.model_validate(
        {
            **POLICY,
            "rules": [
                {"kind": "seller", "rates": {"member": "0.05"}},
                {"kind": "layers", "rates": {"member": ["0.02"]}},
            ],
            "allow_fixed_above_amount": True,
        }
    )
    assert generations_paid(policy) == 2  # the fixed layers amounts reach generation 2
    assert largest_fixed(policy) == {"mug": {"member": (500, 200)}}
    notes = compliance_notes(policy)
    assert any("'mug' pays fixed amounts of up to ¥8.00 per unit" in note for note in notes)
    assert any("allow_fixed_above_amount is on" in note for note in notes)


def test_validate_lists_fixed_skus_and_brackets(tmp_path):
    from click.testing import CliRunner

    from tuishou.cli.app import app

    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {
                **POLICY,
                "sku_rates": {"kettle": [{"from": 1, "rate": "0.5"}, {"from": 10, "rate": "0.4"}]},
            }
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", "--policy", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "sku kettle (10+ units)" in result.output
    assert "sku mug (fixed)" in result.output
    assert "¥8.00 per unit" in result.output
    assert "member, sku mug (fixed, per unit)" in result.output


def test_the_ledger_posts_fixed_payouts_and_a_units_refund_takes_back_whole_units():
    from datetime import UTC, datetime, timedelta

    from tuishou.ledger import Ledger

    policy = Policy.model_validate(POLICY)
    order = example_i_order()
    ledger = Ledger()
    at = datetime(2026, 11, 1, tzinfo=UTC)
    ledger.post(order, settle(policy, TREE, order), at=at)
    assert [ledger.balance(m).pending for m in "CBA"] == [2000, 800, 400]
    ledger.refund("I-1", lines={"mug": 2}, at=at + timedelta(hours=1))
    # The kettle still pays 500 / 200 / 100; one mug is left: 500 / 200 / 100 more.
    assert [ledger.balance(m).pending for m in "CBA"] == [1000, 400, 200]
