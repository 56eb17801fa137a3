"""Refunds by amount (部分退款 / 退差价): ``Ledger.refund(order_id, amounts={sku: fen})``.

docs/domain.md §19 and its Example L (§15), worked by hand; every test runs on every backend.
"""

from __future__ import annotations

import inspect
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

import tuishou.orders
from ledger_support import BACKENDS, DAY0, day, ledgers, table_rows
from tuishou import (
    ArgumentTypeError,
    DuplicateRequestError,
    InvalidArgumentError,
    Ledger,
    LedgerError,
    Order,
    OrderLine,
    Policy,
    resettle,
    settle,
)
from tuishou.ledger import schema
from tuishou.ledger.refunds import digest, paid, refund_fingerprint
from tuishou.money import MAX_ORDER_FEN

from helpers import any_scenarios, examples, policy, tree_from_text

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

SELLER, LAYER = ("seller", "seller"), ("layers", "layer")

# ----------------------------------------------------------------------------- Example L
# A invited B, B invited C; one tier m. Pool rate 30% on group g; the seller gets 50% of the
# pool, generation 1 20%, generation 2 10%; largest remainder per order.
EXAMPLE_L_POLICY = policy(
    tiers=["m"],
    max_generation=2,
    group_rates={"g": "0.30"},
    rules=[
        {"kind": "seller", "rates": {"m": "0.50"}},
        {"kind": "layers", "rates": {"m": ["0.20", "0.10"]}},
    ],
)
EXAMPLE_L_TREE = tree_from_text("A>B>C", default_tier="m")
EXAMPLE_L_ORDER = Order(
    order_id="o-L",
    sharer_id="C",
    lines=[
        OrderLine(sku="x", group="g", amount=10001, quantity=3),
        OrderLine(sku="y", group="g", amount=1999),
    ],
)


def payouts(c, b, a):
    return {("C", *SELLER): c, ("B", *LAYER): b, ("A", *LAYER): a}


def example_l(make_ledger, **fields):
    ledger = make_ledger(**fields)
    first = settle(EXAMPLE_L_POLICY, EXAMPLE_L_TREE, EXAMPLE_L_ORDER)
    ledger.post(EXAMPLE_L_ORDER, first, at=day(0))
    return ledger, first


def with_lines(*lines):
    """Example L's order with other lines: what settling "the order x fen smaller" means."""
    return EXAMPLE_L_ORDER.model_copy(update={"lines": tuple(lines)})


def taken(result):
    return sorted((e.member_id, e.amount) for e in result.entries)


def everything(ledger):
    """Every row of every ledger table: what a refused refund or a retry must not change
    (but the write lock's counter, which a retry takes)."""
    found = {name: table_rows(ledger, name) for name in schema.metadata.tables}
    found["tuishou_clock"] = [(row[0], *row[2:]) for row in found["tuishou_clock"]]
    return found


def stored_refunds(ledger, order_id):
    """The raw ``refunded_json`` of a posted order."""
    from sqlalchemy import select

    with ledger._store.reading() as connection:
        o = schema.orders.c
        return connection.execute(
            select(o.refunded_json).where(o.order_id == order_id)
        ).scalar_one()


def test_example_l_by_hand(make_ledger):
    """docs/domain.md §15, Example L: ¥33.33 back on x, a unit of x, the rest of x, all."""
    ledger, first = example_l(make_ledger)
    # Settlement: exact pool 3,000.3 + 599.7 = 3,600; C 1,800, B 720, A 360; retained 720.
    assert (first.pool, first.retained) == (3600, 720)
    assert ledger.payouts("o-L") == payouts(1800, 720, 360)

    # 1. 3,333 fen back on x: x keeps 6,668 fen and its 3 units. Exact pool 2,000.4 + 599.7
    #    = 2,600.1 -> 2,600; exact C 1,300.05, B 520.02, A 260.01 -> 1,300, 520, 260.
    r1 = ledger.refund("o-L", amounts={"x": 3333}, at=day(1), refund_id="r1")
    assert taken(r1) == [("A", -100), ("B", -200), ("C", -500)]
    assert (r1.pool, r1.remaining, r1.retained) == (2600, payouts(1300, 520, 260), 520)
    smaller = with_lines(OrderLine(sku="x", group="g", amount=6668, quantity=3), first_y())
    assert payouts_of(settle(EXAMPLE_L_POLICY, EXAMPLE_L_TREE, smaller)) == r1.remaining

    # 2. One unit of x: 2 of its 3 units left, ⌊6,668 × 2 ÷ 3⌋ = 4,445 fen. Exact pool
    #    1,333.5 + 599.7 = 1,933.2 -> 1,933; exact C 966.6, B 386.64, A 193.32, total
    #    1,546.56 -> 1,547; floors 1,545, the 2 fen to B (.64) and C (.6).
    r2 = ledger.refund("o-L", lines={"x": 1}, at=day(2), refund_id="r2")
    assert taken(r2) == [("A", -67), ("B", -133), ("C", -333)]
    assert (r2.pool, r2.remaining, r2.retained) == (1933, payouts(967, 387, 193), 386)
    fewer = with_lines(OrderLine(sku="x", group="g", amount=4445, quantity=2), first_y())
    assert payouts_of(settle(EXAMPLE_L_POLICY, EXAMPLE_L_TREE, fewer)) == r2.remaining

    # 3. One fen more than x has left is refused, naming the SKU, the ask and what is left.
    before = everything(ledger)
    with pytest.raises(LedgerError, match=r"'x': refund of 4446 fen but only 4445 fen left"):
        ledger.refund("o-L", amounts={"x": 4446}, at=day(3), refund_id="r3")
    assert everything(ledger) == before

    # 4. All of x's 4,445 fen: x is left with 2 units and 0 fen. Pool 599.7 -> 600; exact
    #    C 299.85, B 119.94, A 59.97 -> floors 477, the 3 fen to A, B and C: 300, 120, 60.
    r4 = ledger.refund("o-L", amounts={"x": 4445}, at=day(3), refund_id="r4")
    assert taken(r4) == [("A", -133), ("B", -267), ("C", -667)]
    assert (r4.pool, r4.remaining, r4.retained) == (600, payouts(300, 120, 60), 120)
    with pytest.raises(LedgerError, match=r"'x': refund of 1 fen but only 0 fen left"):
        ledger.refund("o-L", amounts={"x": 1}, at=day(4))

    # 5. A full refund takes the rest.
    r5 = ledger.refund("o-L", at=day(4), refund_id="r5")
    assert taken(r5) == [("A", -60), ("B", -120), ("C", -300)]
    assert (r5.pool, r5.remaining, r5.retained) == (0, {}, 0)
    assert sum(e.amount for e in ledger.entries(order_id="o-L")) == 0


def first_y():
    return EXAMPLE_L_ORDER.lines[1]


def payouts_of(settlement):
    found = {}
    for p in settlement.payouts:
        key = (p.member_id, p.rule, p.kind)
        found[key] = found.get(key, 0) + p.amount
    return {key: amount for key, amount in found.items() if amount}


def test_a_refund_by_amount_after_a_units_refund(make_ledger):
    """One unit of x first (⌊10,001 × 2 ÷ 3⌋ = 6,667 fen left), then 1 fen: x is 6,666 fen
    for 2 units, as if the order had been for that."""
    ledger, _ = example_l(make_ledger)
    ledger.refund("o-L", lines={"x": 1}, at=day(1))
    result = ledger.refund("o-L", amounts={"x": 1}, at=day(2))
    smaller = with_lines(OrderLine(sku="x", group="g", amount=6666, quantity=2), first_y())
    expected = settle(EXAMPLE_L_POLICY, EXAMPLE_L_TREE, smaller)
    assert result.pool == expected.pool == 2600  # 1,999.8 + 599.7 = 2,599.5 -> 2,600 (to even)
    assert result.remaining == payouts_of(expected)
    assert json.loads(stored_refunds(ledger, "o-L")) == [[6666, 2, 0], 0]


def test_sku_on_several_lines_is_refunded_from_its_first_line_first(make_ledger):
    ledger = make_ledger()
    order = Order(
        order_id="o2",
        sharer_id="C",
        lines=[
            OrderLine(sku="x", group="g", amount=100),
            OrderLine(sku="y", group="g", amount=50),
            OrderLine(sku="x", group="g", amount=300, quantity=2),
        ],
    )
    ledger.post(order, settle(EXAMPLE_L_POLICY, EXAMPLE_L_TREE, order), at=DAY0)
    ledger.refund("o2", amounts={"x": 150}, at=day(1))
    assert json.loads(stored_refunds(ledger, "o2")) == [[0, 1, 0], 0, [250, 2, 0]]
    with pytest.raises(LedgerError, match=r"'x': refund of 251 fen but only 250 fen left"):
        ledger.refund("o2", amounts={"x": 251}, at=day(1))


# ------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("fen", "message"),
    [
        (0, r"'x': amount 0 is not positive; pass an int number of fen >= 1"),
        (-5, r"'x': amount -5 is not positive"),
        (1.5, r"'x': amount 1.5 is a float; pass an int number of fen >= 1"),
        (100.0, r"'x': amount 100.0 is a float"),
        (True, r"'x': amount True is a bool"),
        ("100", r"'x': amount '100' is a str"),
        (None, r"'x': amount None is a NoneType"),
    ],
)
def test_a_bad_amount_is_refused_naming_it_and_nothing_changes(make_ledger, fen, message):
    ledger, _ = example_l(make_ledger)
    before = everything(ledger)
    with pytest.raises(LedgerError, match=message):
        ledger.refund("o-L", amounts={"x": fen}, at=day(1), refund_id="r1")
    assert everything(ledger) == before


def test_every_problem_of_a_refund_by_amount_is_named_at_once(make_ledger):
    ledger, _ = example_l(make_ledger)
    before = everything(ledger)
    with pytest.raises(LedgerError, match=r"3 problem\(s\)") as refused:
        ledger.refund("o-L", amounts={"x": 10002, "y": 0, "z": 5}, at=day(1))
    assert list(refused.value.problems) == [
        "'x': refund of 10002 fen but only 10001 fen left",
        "'y': amount 0 is not positive; pass an int number of fen >= 1 (e.g. 2000 for ¥20.00)",
        "'z' is not in order 'o-L'; known: 'x', 'y'",
    ]
    assert everything(ledger) == before


def test_lines_and_amounts_together_are_refused(make_ledger):
    ledger, _ = example_l(make_ledger)
    before = everything(ledger)
    with pytest.raises(InvalidArgumentError, match=r"lines=\{'x': 1\} and amounts=\{'x': 5\}"):
        ledger.refund("o-L", lines={"x": 1}, amounts={"x": 5}, at=day(1), refund_id="r1")
    assert everything(ledger) == before


@pytest.mark.parametrize(
    ("amounts", "error", "message"),
    [
        ({}, LedgerError, r"amounts=\{\} refunds nothing in order 'o-L'; pass the SKUs and "),
        ([("x", 5)], ArgumentTypeError, r"amounts is a list; pass a dict of SKU to fen"),
        ({" x": 5}, LedgerError, r"sku=' x' is not a normal id"),
    ],
)
def test_an_empty_or_misshapen_refund_by_amount_is_refused(make_ledger, amounts, error, message):
    ledger, _ = example_l(make_ledger)
    before = everything(ledger)
    with pytest.raises(error, match=message):
        ledger.refund("o-L", amounts=amounts, at=day(1))
    assert everything(ledger) == before


def test_a_sku_with_a_fixed_commission_refunds_whole_units_only(make_ledger, monkeypatch):
    """``policy.is_fixed`` (fixed commissions per unit, docs/domain.md §17) refuses it."""
    monkeypatch.setattr(Policy, "is_fixed", lambda self, sku: sku == "x", raising=False)
    ledger, _ = example_l(make_ledger)
    before = everything(ledger)
    with pytest.raises(LedgerError, match=r"'x' pays a fixed commission per unit.*whole units"):
        ledger.refund("o-L", amounts={"x": 100}, at=day(1))
    assert everything(ledger) == before
    ledger.refund("o-L", amounts={"y": 100}, at=day(1))  # y has none
    ledger.refund("o-L", lines={"x": 1}, at=day(1))


# --------------------------------------------------------------- ids, retries, clawbacks


def test_a_refund_by_amount_is_idempotent_by_its_id(make_ledger):
    ledger, _ = example_l(make_ledger)
    first = ledger.refund("o-L", amounts={"x": 3333}, at=day(1), refund_id="r1")
    before = everything(ledger)
    again = ledger.refund("o-L", amounts={"x": 3333}, at=day(2), refund_id="r1")
    assert (again.repeated, again.entries, again.remaining) == (True, (), first.remaining)
    assert (again.pool, again.retained) == (first.pool, first.retained)
    assert everything(ledger) == before
    for other in (
        {"amounts": {"x": 3334}},
        {"amounts": {"y": 3333}},
        {"lines": {"x": 3333}},  # the same mapping as units is another request
        {},
    ):
        with pytest.raises(DuplicateRequestError, match="'r1' was already used for a different"):
            ledger.refund("o-L", at=day(2), refund_id="r1", **other)
    assert everything(ledger) == before


def test_quantity_refunds_keep_the_fingerprint_earlier_ledgers_wrote():
    assert refund_fingerprint("o1", {"x": 1}) == digest('["o1", [["x", 1]]]')
    assert refund_fingerprint("o1", None) == digest('["o1", null]')
    assert refund_fingerprint("o1", None, {"x": 1}) == digest('["o1", "amounts", [["x", 1]]]')


def test_a_refund_by_amount_never_raises_a_payout(make_ledger):
    """docs/domain.md Example D, with y's 108 fen refunded by amount instead of as a unit:
    re-rounding would raise B from 386 to 387; B keeps 386, A −1, C −3."""
    chosen = policy(
        tiers=["m"],
        max_generation=2,
        group_rates={"eco": "0.20", "mi": "0.05"},
        rules=[
            {"kind": "seller", "rates": {"m": "0.50"}},
            {"kind": "layers", "rates": {"m": ["0.05", "0.15"]}},
        ],
    )
    order = Order(
        order_id="o1",
        sharer_id="C",
        lines=[
            OrderLine(sku="x", group="eco", amount=38633),
            OrderLine(sku="y", group="mi", amount=108),
        ],
    )
    ledger = make_ledger()
    first = settle(chosen, EXAMPLE_L_TREE, order)
    ledger.post(order, first, at=DAY0)
    result = ledger.refund("o1", amounts={"y": 108}, at=day(1))
    y_free = order.lines[1].model_copy(update={"amount": 0})
    target = resettle(first, order.model_copy(update={"lines": (order.lines[0], y_free)}))
    assert payouts_of(target)[("B", *LAYER)] == 387  # what re-settling alone would pay B
    assert taken(result) == [("A", -1), ("C", -3)]
    assert result.remaining == payouts(3863, 386, 1159)
    assert (result.pool, result.retained) == (7727, 2319)


@pytest.mark.parametrize("clawback", ["allow_negative", "cap_at_balance"])
def test_a_released_orders_refund_by_amount_claws_back(make_ledger, clawback):
    ledger, _ = example_l(make_ledger, freeze_days=0, clawback=clawback)
    ledger.release(day(0))
    result = ledger.refund("o-L", amounts={"x": 3333}, at=day(1), refund_id="r1")
    assert [(e.member_id, e.bucket, e.reason, e.amount) for e in result.entries] == [
        ("A", "available", "clawback", -100),
        ("B", "available", "clawback", -200),
        ("C", "available", "clawback", -500),
    ]
    assert ledger.balance("C").available == 1300


def test_a_clawback_beyond_the_balance_is_written_off_under_cap_at_balance(make_ledger):
    ledger, _ = example_l(make_ledger, freeze_days=0, clawback="cap_at_balance")
    ledger.release(day(0))
    ledger.withdraw("C", 1500, at=day(1), withdrawal_id="w1")  # C keeps 300 available
    result = ledger.refund("o-L", amounts={"x": 3333}, at=day(2), refund_id="r1")
    mine = [(e.reason, e.amount) for e in result.entries if e.member_id == "C"]
    assert mine == [("clawback", -500), ("write_off", 200)]
    assert ledger.balance("C").available == 0


# ------------------------------------------------------------------ stored state, explain


def test_refunds_by_units_store_what_earlier_ledgers_stored(make_ledger):
    ledger, _ = example_l(make_ledger)
    assert json.loads(stored_refunds(ledger, "o-L")) == [0, 0]
    ledger.refund("o-L", lines={"x": 1}, at=day(1))
    assert json.loads(stored_refunds(ledger, "o-L")) == [1, 0]
    ledger.refund("o-L", amounts={"y": 999}, at=day(1))
    assert json.loads(stored_refunds(ledger, "o-L")) == [1, [1000, 1, 0]]
    ledger.refund("o-L", lines={"y": 1}, at=day(1))
    assert json.loads(stored_refunds(ledger, "o-L")) == [1, [1000, 1, 1]]


@pytest.mark.parametrize(
    "stored",
    ["[4, 0]", "[[10002, 3, 0], 0]", "[[10001, 4, 0], 0]", "[[100, 2, 3], 0]", "[[1, 0, 0], 0]"],
)
def test_a_refund_state_that_does_not_fit_the_order_is_named_damaged(make_ledger, stored):
    ledger, _ = example_l(make_ledger)
    with ledger._store.transaction():
        ledger._store._db.connection.execute(
            update(schema.orders)
            .where(schema.orders.c.order_id == "o-L")
            .values(refunded_json=stored)
        )
    with pytest.raises(LedgerError, match=r"damaged value.*tuishou_orders.*refunded_json"):
        ledger.refund("o-L", amounts={"x": 1}, at=day(1))
    with pytest.raises(LedgerError, match=r"damaged value.*tuishou_orders.*refunded_json"):
        ledger.explain("o-L")


V2_FILE = Path(__file__).parent / "data" / "ledger_v2.db"


def test_a_ledger_written_before_refunds_by_amount_reads_and_refunds_by_amount(tmp_path):
    """The schema-2 fixture (tests/data): o2 had 1 of x's 2 units refunded ([1, 0]); o2 is
    released. x has 5,000 fen left; 1,001 back leaves x 3,999 and y 5,000: pool 8,999 (rate
    1), C 10% 899.9, B 5% 449.95, total 1,349.85 -> 1,350: C 900, B 450 (were 1,000, 500)."""
    path = tmp_path / "ledger_v2.db"
    shutil.copy(V2_FILE, path)
    at = datetime(2026, 11, 13, 4, tzinfo=UTC)
    with Ledger.open(path) as ledger:
        assert json.loads(stored_refunds(ledger, "o2")) == [1, 0]
        assert ledger.refund("o2", lines={"x": 1}, at=at, refund_id="r1").repeated
        result = ledger.refund("o2", amounts={"x": 1001}, at=at, refund_id="r4")
        assert [(e.member_id, e.reason, e.amount) for e in result.entries] == [
            ("B", "clawback", -50),
            ("C", "clawback", -100),
        ]
        assert result.remaining == {("C", *SELLER): 900, ("B", *LAYER): 450}
        assert json.loads(stored_refunds(ledger, "o2")) == [[3999, 1, 0], 0]
        assert ledger.refund("o2", lines={"x": 1}, at=at, refund_id="r1").repeated


def test_explain_tells_refunds_by_amount(make_ledger):
    ledger, _ = example_l(make_ledger)
    ledger.refund("o-L", amounts={"x": 3333}, at=day(1), refund_id="r1")
    ledger.refund("o-L", lines={"x": 1}, at=day(2), refund_id="r2")
    text = ledger.explain("o-L")
    assert "2026-11-02 12:00:00+08:00: refund 'r1'\n    A -100 fen (layers, layer)" in text
    assert text.endswith(
        "Units refunded: x 1 of 3\n"
        "Left after refunds by amount (退差价): x 4445 of 10001 fen for 2 of 3 unit(s)\n"
        "Pays now: A 193 fen (layers, layer); B 387 fen (layers, layer); "
        "C 967 fen (seller, seller)\n"
    )


def test_explain_without_refunds_by_amount_is_as_before(make_ledger):
    ledger, _ = example_l(make_ledger)
    ledger.refund("o-L", lines={"x": 1}, at=day(1))
    assert "退差价" not in ledger.explain("o-L")
    assert "Units refunded: x 1 of 3\nPays now: " in ledger.explain("o-L")


# ---------------------------------------------------------------------------- coupons

Coupon = getattr(tuishou.orders, "Coupon", None)


@pytest.mark.skipif(Coupon is None, reason="order coupons (docs/domain.md §18) not merged yet")
def test_a_refund_by_amount_takes_from_the_paid_line_after_its_coupon(make_ledger):
    """A 1,000-fen coupon over x (10,001) and y (1,999): x pays 10,001 − 833 = 9,168, y
    1,999 − 167 = 1,832 (largest remainder). Refunding more than x's paid amount is refused."""
    order = EXAMPLE_L_ORDER.model_copy(update={"coupon": Coupon(coupon_id="c1", amount=1000)})
    order = Order.model_validate(order.model_dump())
    ledger = make_ledger()
    ledger.post(order, settle(EXAMPLE_L_POLICY, EXAMPLE_L_TREE, order), at=DAY0)
    lines = [line.amount for line in paid(order).lines]
    with pytest.raises(LedgerError, match=rf"only {lines[0]} fen left"):
        ledger.refund("o-L", amounts={"x": lines[0] + 1}, at=day(1))
    result = ledger.refund("o-L", amounts={"x": 1}, at=day(1))
    smaller = with_lines(
        OrderLine(sku="x", group="g", amount=lines[0] - 1, quantity=3),
        first_y().model_copy(update={"amount": lines[1]}),
    )
    assert result.remaining == payouts_of(settle(EXAMPLE_L_POLICY, EXAMPLE_L_TREE, smaller))


# ------------------------------------------------- fixed commissions, quantity brackets

FIXED = pytest.mark.skipif(
    not hasattr(Policy, "is_fixed"), reason="fixed commissions (docs/domain.md §17) not merged yet"
)


@FIXED
def test_a_real_fixed_schedule_refuses_a_refund_by_amount(make_ledger):
    chosen = Policy.model_validate(
        {
            **EXAMPLE_L_POLICY.model_dump(mode="json"),
            "fixed": {"mug": {"seller": {"amounts": {"m": 500}}}},
        }
    )
    order = Order(
        order_id="o-F",
        sharer_id="C",
        lines=[OrderLine(sku="mug", group="g", amount=9999, quantity=3)],
    )
    ledger = make_ledger()
    ledger.post(order, settle(chosen, EXAMPLE_L_TREE, order), at=DAY0)
    before = everything(ledger)
    with pytest.raises(LedgerError, match=r"'mug' pays a fixed commission per unit"):
        ledger.refund("o-F", amounts={"mug": 1}, at=day(1))
    assert everything(ledger) == before
    result = ledger.refund("o-F", lines={"mug": 1}, at=day(1))
    assert result.remaining[("C", *SELLER)] == 1000  # 500 fen × the 2 units left


@FIXED
def test_a_refund_keeps_the_quantity_bracket_of_the_quantity_bought(make_ledger):
    """SKU oca pays a pool rate of 50% from 1 unit and 40% from 10. 10 units bought for
    10,000 fen: pool 4,000. One unit back leaves 9 units and 9,000 fen, still at 40% (the
    bracket of the 10 bought): pool 3,600, not 4,500. Then 1,001 fen back: 7,999 × 40%."""
    chosen = Policy.model_validate(
        {
            **EXAMPLE_L_POLICY.model_dump(mode="json"),
            "sku_rates": {"oca": [{"from": 1, "rate": "0.5"}, {"from": 10, "rate": "0.4"}]},
        }
    )
    order = Order(
        order_id="o-B",
        sharer_id="C",
        lines=[OrderLine(sku="oca", group="g", amount=10000, quantity=10)],
    )
    ledger = make_ledger()
    first = settle(chosen, EXAMPLE_L_TREE, order)
    assert first.pool == 4000
    ledger.post(order, first, at=DAY0)
    assert ledger.refund("o-B", lines={"oca": 1}, at=day(1)).pool == 3600
    assert ledger.refund("o-B", amounts={"oca": 1001}, at=day(2)).pool == 3200  # 3,199.6


# ------------------------------------------------------------------------- properties

PROPERTY = settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_BOUGHT = "bought" in inspect.signature(resettle).parameters


class Model:
    """Each line as a refund leaves it, kept the plain way: [base fen, base units, units
    refunded]; a refund by amount rebases the line (docs/domain.md §19)."""

    def __init__(self, order):
        self.order = paid(order)
        self.lines = [[line.amount, line.quantity, 0] for line in self.order.lines]

    def units_left(self, i):
        return self.lines[i][1] - self.lines[i][2]

    def fen_left(self, i):
        base, units, done = self.lines[i]
        return base * (units - done) // units if units else 0

    def left(self, sku, what):
        count = self.units_left if what == "lines" else self.fen_left
        return sum(count(i) for i, line in enumerate(self.order.lines) if line.sku == sku)

    def refund(self, what, asked):
        for sku, wanted in asked.items():
            for i, line in enumerate(self.order.lines):
                if line.sku != sku:
                    continue
                if what == "lines":
                    part = min(wanted, self.units_left(i))
                    self.lines[i][2] += part
                else:
                    part = min(wanted, self.fen_left(i))
                    if part:
                        self.lines[i] = [self.fen_left(i) - part, self.units_left(i), 0]
                wanted -= part

    def stored(self):
        """What ``refunded_json`` holds (docs/domain.md §19): units refunded while a line is
        its paid line, else [base fen, base units, units refunded]."""
        return [
            state[2] if state[:2] == [line.amount, line.quantity] else state
            for line, state in zip(self.order.lines, self.lines, strict=True)
        ]

    def refund_all(self):
        for state in self.lines:
            state[2] = state[1]

    def target(self, first):
        """The settlement of what is left, on the first settlement's chain and policy."""
        kept = [
            (
                line.model_copy(
                    update={"amount": self.fen_left(i), "quantity": self.units_left(i)}
                ),
                line.quantity,
            )
            for i, line in enumerate(self.order.lines)
            if self.units_left(i)
        ]
        if not kept:
            return None
        rest = self.order.model_copy(update={"lines": tuple(line for line, _ in kept)})
        extra = {"bought": [n for _, n in kept]} if _BOUGHT else {}
        return resettle(first, rest, **extra)


@st.composite
def refund_steps(draw, model, fixed):
    """One refund the model can take: units, money (not of fixed SKUs), or everything."""
    skus = list(dict.fromkeys(line.sku for line in model.order.lines))
    kinds = [
        what
        for what in ("lines", "amounts")
        if any(model.left(sku, what) and not (what == "amounts" and fixed(sku)) for sku in skus)
    ]
    if not kinds or draw(st.integers(0, 9)) == 0:
        return "all", None
    what = draw(st.sampled_from(kinds))
    able = [s for s in skus if model.left(s, what) and not (what == "amounts" and fixed(s))]
    chosen = draw(st.lists(st.sampled_from(able), min_size=1, unique=True))
    return what, {sku: draw(st.integers(1, model.left(sku, what))) for sku in chosen}


@PROPERTY
@given(data=st.data())
def test_refunds_by_amount_and_units_settle_what_is_left_never_raised_and_conserve(
    make_ledger, data
):
    """Refund symmetry (docs/domain.md §19): after refunds r1..rn each payout is the least of
    its first amount and the settlements of what each r_i left (on the first chain); the
    pool is that of the last; nothing is ever paid out of nothing; a retry changes nothing."""
    chosen, tree, order = data.draw(any_scenarios())
    assume(order.amount <= MAX_ORDER_FEN)
    fixed = getattr(chosen, "is_fixed", lambda sku: False)
    ledger = make_ledger(
        freeze_days=0, clawback=data.draw(st.sampled_from(["allow_negative", "cap_at_balance"]))
    )
    first = settle(chosen, tree, order)
    ledger.post(order, first, at=DAY0)
    if data.draw(st.booleans()):
        ledger.release(DAY0)
    model, held = Model(order), payouts_of(first)
    for number in range(data.draw(st.integers(1, 4))):
        what, asked = data.draw(refund_steps(model, fixed))
        if what == "all" and not any(model.units_left(i) for i in range(len(model.lines))):
            break
        kind = {} if what == "all" else {what: asked}
        result = ledger.refund(order.order_id, at=day(number + 1), refund_id=f"r{number}", **kind)
        model.refund_all() if what == "all" else model.refund(what, asked)
        target = model.target(first)
        wanted = payouts_of(target) if target else {}
        held = {k: min(v, held.get(k, 0)) for k, v in wanted.items() if min(v, held.get(k, 0))}
        assert ledger.payouts(order.order_id) == result.remaining == held
        assert json.loads(stored_refunds(ledger, order.order_id)) == model.stored()
        assert result.pool == (target.pool if target else 0)
        assert result.pool == sum(result.remaining.values()) + result.retained
        assert result.retained >= (target.retained if target else 0)
        assert all(e.amount <= 0 for e in result.entries if e.reason != "write_off")
        net = sum(
            e.amount
            for e in ledger.entries(order_id=order.order_id)
            if e.reason in ("post", "refund", "clawback")
        )
        assert net == sum(held.values()) <= first.pool
        before = everything(ledger)
        again = ledger.refund(order.order_id, at=day(number + 2), refund_id=f"r{number}", **kind)
        assert again.repeated
        assert everything(ledger) == before
