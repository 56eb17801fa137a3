"""Orders credited by a customer binding, posted to the ledger on every backend: the snapshot
records the binding (``Ledger.explain`` tells it), refunds keep the recorded seller,
``post_batch(..., bindings=)`` records what ``post`` records, ``post`` checks the binding."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from ledger_support import BACKENDS, DAY0, day, ledgers, table_rows
from tuishou import Order, OrderLine, order_columns, settle
from tuishou.bindings import BindingEvent, BindingRule, Bindings
from tuishou.errors import LedgerError, UnknownMemberError

from helpers import policy, tree_from_text

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

# A invited B and C. c-1 is a guest customer bound to C from DAY0 for 7 days.
TREE = tree_from_text("A>B A>C")
POLICY = policy(
    group_rates={"g": "1"},
    rules=[
        {"kind": "seller", "rates": {"member": "0.1"}},
        {"kind": "layers", "rates": {"member": ["0.05"]}},
    ],
)
RULE = BindingRule(mode="first", days=7)
SHARE = BindingEvent(customer_id="c-1", member_id="C", at=DAY0)
BINDINGS = Bindings.from_records(
    [{"customer_id": "c-1", "member_id": "C", "since": DAY0, "until": day(7), "how": "first_share"}]
)


def buy(order_id, n, *, sharer=None, buyer="c-1", quantity=2):
    return Order(
        order_id=order_id,
        buyer_id=buyer,
        sharer_id=sharer,
        paid_at=day(n) + timedelta(hours=1),
        lines=[OrderLine(sku="x", group="g", amount=10000, quantity=quantity)],
    )


ORDERS = [buy("o1", 1), buy("o2", 2, sharer="B"), buy("o3", 8), buy("o4", 3, buyer="c-2")]
AT = day(9)


def test_a_bound_order_credits_the_bound_member_and_explain_tells_it(make_ledger):
    ledger = make_ledger()
    settled = settle(POLICY, TREE, ORDERS[0], bindings=BINDINGS)
    assert (settled.seller_id, settled.attribution) == ("C", "binding")
    ledger.post(ORDERS[0], settled, at=AT)
    assert ledger.payouts("o1") == {("C", "seller", "seller"): 1000, ("A", "layers", "layer"): 500}
    text = ledger.explain("o1")
    assert "customer c-1 bound to C since 2026-11-01 12:00 +08:00" in text
    assert ledger.post(ORDERS[0], settled, at=AT) == []  # a repeat: no-op


def test_refunds_keep_the_recorded_seller(make_ledger):
    ledger = make_ledger()
    ledger.post(ORDERS[0], settle(POLICY, TREE, ORDERS[0], bindings=BINDINGS), at=AT)
    result = ledger.refund("o1", lines={"x": 1}, at=day(10))
    assert result.remaining == {("C", "seller", "seller"): 500, ("A", "layers", "layer"): 250}
    assert "bound to C" in ledger.explain("o1")


def test_post_batch_with_bindings_records_what_post_records(make_ledger):
    one, batch = make_ledger(), make_ledger()
    for order in ORDERS:
        one.post(order, settle(POLICY, TREE, order, bindings=BINDINGS), at=AT)
    done = batch.post_batch(POLICY, TREE, order_columns(ORDERS), at=AT, bindings=BINDINGS)
    assert (done.orders_posted, done.orders_skipped) == (4, 0)
    for table in ("tuishou_orders", "tuishou_payouts", "tuishou_entries"):
        assert table_rows(batch, table) == table_rows(one, table), table
    sellers = {o: [k[0] for k in batch.payouts(o) if k[1] == "seller"] for o in ("o1", "o2")}
    assert sellers == {"o1": ["C"], "o2": ["B"]}  # o2's share link comes first
    assert batch.payouts("o3") == {}  # paid after the binding expired: a guest order
    again = batch.post_batch(POLICY, TREE, order_columns(ORDERS), at=AT, bindings=BINDINGS)
    assert again.orders_skipped == 4


def test_the_ledgers_own_bindings_settle_its_batch(make_ledger):
    ledger = make_ledger()
    ledger.bind(SHARE, RULE)
    ledger.post_batch(POLICY, TREE, order_columns(ORDERS[:1]), at=AT, bindings=ledger.bindings())
    assert "bound to C since 2026-11-01 04:00 UTC until" in ledger.explain("o1")  # kept in UTC


def test_a_batch_bound_to_a_non_member_is_refused_whole(make_ledger):
    ledger = make_ledger()
    stranger = Bindings.from_records([{"customer_id": "c-1", "member_id": "Q", "since": DAY0}])
    with pytest.raises(UnknownMemberError, match="'Q'"):
        ledger.post_batch(POLICY, TREE, order_columns(ORDERS), at=AT, bindings=stranger)
    assert table_rows(ledger, "tuishou_orders") == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"customer_id": "c-2"}, "binds 'c-2' to 'C', but the order's buyer is 'c-1'"),
        ({"since": day(2)}, "was not in force when the order was paid"),
    ],
)
def test_post_refuses_a_settlement_whose_binding_does_not_hold(make_ledger, change, problem):
    ledger = make_ledger()
    settled = settle(POLICY, TREE, ORDERS[0], bindings=BINDINGS)
    wrong = dataclasses.replace(settled, binding=settled.binding.model_copy(update=change))
    with pytest.raises(LedgerError, match="does not belong to order 'o1'") as refused:
        ledger.post(ORDERS[0], wrong, at=AT)
    assert problem in str(refused.value)
    assert table_rows(ledger, "tuishou_orders") == []


def test_post_refuses_a_binding_attribution_without_its_binding(make_ledger):
    settled = settle(POLICY, TREE, ORDERS[0], bindings=BINDINGS)
    with pytest.raises(LedgerError, match="a binding is recorded exactly when"):
        make_ledger().post(ORDERS[0], dataclasses.replace(settled, binding=None), at=AT)


def test_orders_not_credited_by_a_binding_keep_their_old_snapshot(make_ledger):
    ledger = make_ledger()
    order = ORDERS[1]  # B's share link: no binding recorded
    ledger.post(order, settle(POLICY, TREE, order, bindings=BINDINGS), at=AT)
    (row,) = table_rows(ledger, "tuishou_orders")
    assert '"binding"' not in row[4]
    assert ledger.post(order, settle(POLICY, TREE, order), at=AT) == []  # the same fingerprint
