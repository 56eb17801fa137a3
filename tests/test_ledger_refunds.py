"""Refunds and posts that cannot be gamed: the settlement must be the order's, a refund id
means one request, a refund never raises a payout, and every id and amount is checked."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_support import (
    BACKENDS,
    DAY0,
    ORDER,
    POLICY,
    TREE,
    bal,
    day,
    ledgers,
    posted,
    refund_plans,
)
from tuishou import (
    ArgumentTypeError,
    DuplicateRequestError,
    InsufficientBalanceError,
    InvalidIdentifierError,
    LedgerError,
    Order,
    OrderLine,
    UnknownOrderError,
    settle,
)
from tuishou.money import MAX_ORDER_FEN

from helpers import policy, tree_from_text

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)


def unchanged(ledger):
    return ledger.entries(), ledger.payouts("o1")


# ------------------------------------------------------------------ item 7: post checks


def test_a_one_yuan_settlement_cannot_be_posted_for_a_ten_thousand_yuan_order(make_ledger):
    ledger = make_ledger()
    small = Order(order_id="o1", sharer_id="C", lines=[OrderLine(sku="x", group="g", amount=100)])
    big = small.model_copy(update={"lines": (OrderLine(sku="x", group="g", amount=1_000_000),)})
    with pytest.raises(
        LedgerError,
        match=r"does not belong to order 'o1'(.|\n)*lines .*"
        r"\('x', 'g', 1000000\).*\('x', 'g', 100\)",
    ):
        ledger.post(big, settle(POLICY, TREE, small), at=DAY0)
    assert ledger.entries() == []
    with pytest.raises(UnknownOrderError):
        ledger.payouts("o1")
    # ... so a later refund cannot credit anyone: the order was never posted.
    with pytest.raises(UnknownOrderError):
        ledger.refund("o1", lines={"x": 1}, at=day(1))


OTHER = policy(group_rates={"g": "1"}, rules=[{"kind": "seller", "rates": {"member": "0.5"}}])


def forged(change):
    """The settlement of ORDER with one thing changed behind settle()'s back."""
    return dataclasses.replace(settle(POLICY, TREE, ORDER), **change(settle(POLICY, TREE, ORDER)))


@pytest.mark.parametrize(
    ("order", "settlement", "match"),
    [
        (
            ORDER.model_copy(update={"lines": ORDER.lines[:1]}),
            settle(POLICY, TREE, ORDER),
            r"lines \(sku, group, amount\): the order gives \[\('x', 'g', 10000\)\], the "
            r"settlement",
        ),
        (
            ORDER.model_copy(update={"lines": ORDER.lines[::-1]}),
            settle(POLICY, TREE, ORDER),
            r"lines",
        ),
        (
            ORDER.model_copy(
                update={
                    "lines": (
                        OrderLine(sku="x", group="h", amount=10000, quantity=2),
                        ORDER.lines[1],
                    )
                }
            ),
            settle(POLICY, TREE, ORDER),
            r"cannot be settled under the settlement's policy",
        ),
        (ORDER, forged(lambda s: {"policy": OTHER}), r"payouts \(member, rule, fen\)"),
        (ORDER, forged(lambda s: {"payouts": s.payouts[:1]}), r"payouts"),
        (ORDER, forged(lambda s: {"pool": s.pool * 2}), r"pool: the order gives 15000"),
        (
            ORDER,
            forged(lambda s: {"seller_id": "B"}),
            r"seller: the settlement credits 'B' by sharer",
        ),
        (ORDER, forged(lambda s: {"shares": s.shares[:1]}), r"shares or exact amounts differ"),
        (
            ORDER.model_copy(update={"order_id": "o2"}),
            settle(POLICY, TREE, ORDER),
            r"the settlement is for order 'o1', not 'o2'",
        ),
    ],
    ids=[
        "missing-line",
        "lines-swapped",
        "other-group",
        "other-policy",
        "dropped-payout",
        "pool",
        "seller",
        "shares",
        "order-id",
    ],
)
def test_post_refuses_a_settlement_of_anything_else(make_ledger, order, settlement, match):
    ledger = make_ledger()
    with pytest.raises(LedgerError, match=match):
        ledger.post(order, settlement, at=DAY0)
    assert ledger.entries() == []


def test_quantities_are_the_orders_own_a_settlement_does_not_record_them(make_ledger):
    one_each = ORDER.model_copy(
        update={"lines": tuple(line.model_copy(update={"quantity": 1}) for line in ORDER.lines)}
    )
    ledger = make_ledger()
    ledger.post(ORDER, settle(POLICY, TREE, one_each), at=DAY0)  # the same settlement
    assert ledger.refund("o1", lines={"x": 1}, at=day(1)).remaining == {
        ("C", "seller", "seller"): 1000,
        ("B", "layers", "layer"): 500,
    }


# ------------------------------------------------------------- item 8: one id, one request


def test_an_empty_refund_is_refused_and_its_id_stays_free(make_ledger):
    ledger = posted(make_ledger())
    before = unchanged(ledger)
    with pytest.raises(
        LedgerError,
        match=r"lines=\{\} refunds nothing in order 'o1'; pass the "
        r"SKUs and quantities to refund, or lines=None",
    ):
        ledger.refund("o1", lines={}, at=day(1), refund_id="r2")
    assert unchanged(ledger) == before
    ledger.refund("o1", lines=None, at=day(2), refund_id="r2")  # not skipped as a repeat
    assert (ledger.balance("B"), ledger.balance("C")) == (bal(), bal())


REQUESTS = [None, {"x": 1}, {"x": 2}, {"y": 1}, {"x": 1, "y": 1}]


@pytest.mark.parametrize("first", REQUESTS, ids=str)
@pytest.mark.parametrize("second", REQUESTS, ids=str)
def test_a_refund_id_stands_for_exactly_one_request(make_ledger, first, second):
    ledger = posted(make_ledger())
    ledger.refund("o1", lines=first, at=day(1), refund_id="r1")
    before = unchanged(ledger)
    if first == second:
        assert ledger.refund("o1", lines=second, at=day(2), refund_id="r1").repeated
    else:
        with pytest.raises(DuplicateRequestError, match="refund id 'r1' was already used"):
            ledger.refund("o1", lines=second, at=day(2), refund_id="r1")
    assert unchanged(ledger) == before


# ------------------------------------------------------ item 9: a refund never raises a payout

# The case: A invited B, B invited C; C shares an order of x (eco) and y (mi).
CHAIN_POLICY = policy(
    tiers=["m"],
    max_generation=2,
    group_rates={"eco": "0.20", "mi": "0.05"},
    rules=[
        {"kind": "seller", "rates": {"m": "0.50"}},
        {"kind": "layers", "rates": {"m": ["0.05", "0.15"]}},
    ],
)
CHAIN = tree_from_text("A>B>C", default_tier="m")
SHARED = Order(
    order_id="o1",
    sharer_id="C",
    lines=[
        OrderLine(sku="x", group="eco", amount=38_633),
        OrderLine(sku="y", group="mi", amount=108),
    ],
)


@pytest.mark.parametrize("released", [False, True])
def test_refunding_y_takes_from_a_and_c_and_never_credits_b(make_ledger, released):
    ledger = make_ledger(freeze_days=0)
    first = settle(CHAIN_POLICY, CHAIN, SHARED)
    assert {p.member_id: p.amount for p in first.payouts} == {"C": 3866, "B": 386, "A": 1160}
    ledger.post(SHARED, first, at=DAY0)
    if released:
        ledger.release(DAY0)
    result = ledger.refund("o1", lines={"y": 1}, at=day(1), refund_id="r1")
    # Re-rounding the ¥386.33 left would pay B 387; B keeps 386 and the platform the fen.
    assert sorted((e.member_id, e.amount) for e in result.entries) == [("A", -1), ("C", -3)]
    assert result.remaining == {
        ("C", "seller", "seller"): 3863,
        ("B", "layers", "layer"): 386,
        ("A", "layers", "layer"): 1159,
    }
    assert (result.pool, result.retained) == (7727, 2319)  # re-settled it retains 2318
    assert result.pool == sum(result.remaining.values()) + result.retained
    assert ledger.balance("B") == (bal(available=386) if released else bal(pending=386))
    ledger.refund("o1", at=day(2))  # and the rest: everything goes back
    assert [ledger.balance(m) for m in "ABC"] == [bal(), bal(), bal()]


# --------------------------------------------------------- items 3 and 5: amounts and ids


def test_an_order_above_the_supported_amount_is_refused_with_nothing_posted(make_ledger):
    ledger = make_ledger()
    huge = Order.model_construct(
        order_id="o1",
        sharer_id="C",
        buyer_id=None,
        paid_at=None,
        lines=(OrderLine.model_construct(sku="x", group="g", amount=2**63 - 1, quantity=1),) * 2,
    )
    with pytest.raises(
        LedgerError,
        match=rf"amount={2 * (2**63 - 1)} fen, above the supported "
        rf"{MAX_ORDER_FEN} fen \(¥100,000,000.00\) per order",
    ):
        ledger.post(huge, settle(POLICY, TREE, ORDER), at=DAY0)
    assert ledger.entries() == []


def test_a_withdrawal_beyond_int64_is_refused_not_overflowed(make_ledger):
    ledger = posted(make_ledger(freeze_days=0))
    ledger.release(DAY0)
    with pytest.raises(InsufficientBalanceError, match=f"withdraw {2**63} fen but has 1500"):
        ledger.withdraw("C", 2**63, at=day(1), withdrawal_id="w1")


def test_a_sum_beyond_int64_is_a_ledger_error_never_a_wrapped_number(tmp_path):
    import sqlite3

    from tuishou import Ledger

    path = tmp_path / "ledger.db"
    Ledger.open(path).close()
    with sqlite3.connect(path) as db:  # no ledger call writes this: amounts are bounded
        db.executemany(
            "INSERT INTO tuishou_entries (member_id, bucket, reason, amount, at) "
            "VALUES ('C', 'available', 'post', ?, '2026-11-01T00:00:00+00:00')",
            [(2**62,), (2**62,)],
        )
    with Ledger.open(path) as ledger:  # SQLite sums in 64 bits and refuses, never wraps
        with pytest.raises(LedgerError, match="holds a sum beyond 64-bit integers"):
            ledger.balance("C")
        with pytest.raises(LedgerError, match="holds a sum beyond 64-bit integers"):
            ledger.withdraw("C", 1, at=DAY0, withdrawal_id="w1")


BAD_IDS = [
    ("refund order", lambda led: led.refund("o1 ", at=day(1)), "order_id='o1 '"),
    ("refund id", lambda led: led.refund("o1", at=day(1), refund_id="r1 "), "refund_id='r1 '"),
    ("refund sku", lambda led: led.refund("o1", lines={"ｘ": 1}, at=day(1)), "sku='ｘ'"),
    ("mark_received", lambda led: led.mark_received(" o1", day(1)), "order_id=' o1'"),
    ("payouts", lambda led: led.payouts("o1\t"), r"order_id='o1\\t'"),
    ("entries member", lambda led: led.entries(member_id="C "), "member_id='C '"),
    ("entries order", lambda led: led.entries(order_id="o1 "), "order_id='o1 '"),
    ("balance", lambda led: led.balance("Ｃ"), "member_id='Ｃ'"),
    (
        "withdraw member",
        lambda led: led.withdraw("C ", 100, at=day(1), withdrawal_id="w1"),
        "member_id='C '",
    ),
    (
        "withdrawal id",
        lambda led: led.withdraw("C", 100, at=day(1), withdrawal_id=" w1"),
        "withdrawal_id=' w1'",
    ),
    ("post order", lambda led: led.post(*_padded_order(), at=day(1)), "order_id='o2 '"),
]


def _padded_order():
    settlement = settle(POLICY, TREE, ORDER)
    padded = ORDER.model_construct(**{**dict(ORDER), "order_id": "o2 "})
    return padded, dataclasses.replace(settlement, order_id="o2 ")


@pytest.mark.parametrize(
    ("call", "named"), [(c, n) for _, c, n in BAD_IDS], ids=[name for name, _, _ in BAD_IDS]
)
def test_every_id_the_ledger_takes_follows_the_id_rule(make_ledger, call, named):
    ledger = posted(make_ledger(freeze_days=0))
    ledger.release(DAY0)
    before = unchanged(ledger)
    with pytest.raises((InvalidIdentifierError, LedgerError), match=rf"{named} .*normal|{named}"):
        call(ledger)
    assert unchanged(ledger) == before


@pytest.mark.parametrize(
    "call",
    [
        lambda led: led.refund("o1", at=day(1), refund_id=7),
        lambda led: led.withdraw("C", 100, at=day(1), withdrawal_id=None),
        lambda led: led.balance(3),
        lambda led: led.refund("o1", lines=[("x", 1)], at=day(1)),
    ],
)
def test_ids_and_lines_of_the_wrong_type_are_refused(make_ledger, call):
    ledger = posted(make_ledger(freeze_days=0))
    with pytest.raises(ArgumentTypeError):
        call(ledger)


@st.composite
def shared_orders(draw):
    """Orders C shares on the issue's chain: small lines in two groups, where re-rounding what
    is left often moves a fen between A, B and C."""
    lines = [
        OrderLine(
            sku=f"s{n}",
            group=draw(st.sampled_from(["eco", "mi"])),
            amount=draw(st.integers(1, 50_000)),
            quantity=draw(st.integers(1, 3)),
        )
        for n in range(draw(st.integers(1, 4)))
    ]
    return Order(order_id="o1", sharer_id="C", lines=lines)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_sequence_of_partial_refunds_raises_a_payout(make_ledger, data):
    order = data.draw(shared_orders())
    ledger = make_ledger(
        freeze_days=0, clawback=data.draw(st.sampled_from(["allow_negative", "cap_at_balance"]))
    )
    first = settle(CHAIN_POLICY, CHAIN, order)
    ledger.post(order, first, at=DAY0)
    if data.draw(st.booleans()):
        ledger.release(DAY0)
    held = {(p.member_id, p.rule, p.kind): p.amount for p in first.payouts}
    for number, plan in enumerate(data.draw(refund_plans(order))):
        result = ledger.refund("o1", lines=plan, at=day(1), refund_id=f"r{number}")
        assert all(e.amount <= 0 for e in result.entries if e.reason != "write_off")
        assert all(result.remaining.get(key, 0) <= amount for key, amount in held.items())
        assert set(result.remaining) <= set(held)
        # what members still hold is what the order's entries add up to, and the pool is
        # exactly what they hold plus what the platform retains
        net = sum(
            e.amount
            for e in ledger.entries(order_id="o1")
            if e.reason in ("post", "refund", "clawback")
        )
        assert net == sum(result.remaining.values()) == sum(ledger.payouts("o1").values())
        assert result.pool == sum(result.remaining.values()) + result.retained
        assert result.retained >= 0
        held = result.remaining
