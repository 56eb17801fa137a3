"""``post_batch`` under policy versions, or with a ``paid_at`` column: each order recorded
exactly as ``post`` records it (its version, its paid_at, its freeze from payment)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger_support import table_rows
from test_worked_month import POLICY, TREE, cn, order, versions
from tuishou import InviteTree, order_columns, settle
from tuishou.errors import DuplicateOrderError, InvalidOrderError, LedgerError
from tuishou.ledger import Ledger, LedgerPolicy

ORDERS = [
    order("o-a", cn(11, 10, 10), 20000, quantity=2),
    order("o-b", cn(11, 30, 23, 59, 59), 10000, quantity=2),
    order("o-c", cn(12, 1), 10000),
]
TABLES = ("tuishou_orders", "tuishou_payouts", "tuishou_entries", "tuishou_policies")
AT = cn(12, 1, 1)


def one_by_one(policy=POLICY):
    ledger, tree = Ledger(policy), InviteTree.from_records(TREE)
    for o in ORDERS:
        ledger.post(o, settle(versions(), tree, o), at=AT)
    return ledger


@pytest.mark.parametrize("policy", [POLICY, LedgerPolicy(freeze_from="received")])
@pytest.mark.parametrize("chunk", [1, 2, 5000])
def test_a_batch_under_versions_is_recorded_as_post_records_each_order(policy, chunk):
    batch = Ledger(policy)
    done = batch.post_batch(
        versions(), InviteTree.from_records(TREE), order_columns(ORDERS), at=AT, chunk_orders=chunk
    )
    assert (done.orders_posted, done.orders_skipped, done.entries_added) == (3, 0, 9)
    expected = one_by_one(policy)
    for table in TABLES:
        assert table_rows(batch, table) == table_rows(expected, table), table
    names = {row[0]: row[-1] for row in table_rows(batch, "tuishou_orders")}
    assert names == {"o-a": "v1", "o-b": "v1", "o-c": "v2"}


def test_the_batch_again_and_each_order_again_are_no_ops():
    ledger, tree = Ledger(POLICY), InviteTree.from_records(TREE)
    ledger.post_batch(versions(), tree, order_columns(ORDERS), at=AT)
    assert ledger.post_batch(versions(), tree, order_columns(ORDERS), at=AT).orders_skipped == 3
    for o in ORDERS:
        assert ledger.post(o, settle(versions(), tree, o), at=AT) == []


def test_an_order_paid_after_the_posting_time_refuses_the_whole_batch():
    ledger = Ledger(POLICY)
    with pytest.raises(LedgerError, match=r"2 orders .* paid after at=.*'o-b', 'o-c'"):
        ledger.post_batch(
            versions(), InviteTree.from_records(TREE), order_columns(ORDERS), at=cn(11, 30, 12)
        )
    assert table_rows(ledger, "tuishou_orders") == []


def test_orders_without_paid_at_under_two_versions_are_refused_before_anything_is_written():
    ledger = Ledger(POLICY)
    columns = order_columns(ORDERS)
    columns["paid_at"] = [None, *columns["paid_at"][1:]]
    with pytest.raises(InvalidOrderError, match="o-a"):
        ledger.post_batch(versions(), InviteTree.from_records(TREE), columns, at=AT)
    assert table_rows(ledger, "tuishou_entries") == []


def test_a_plain_policy_batch_with_paid_at_freezes_from_payment():
    ledger, tree = Ledger(POLICY), InviteTree.from_records(TREE)
    v1 = versions().versions[0].policy
    ledger.post_batch(v1, tree, order_columns(ORDERS[:1]), at=AT)
    assert ledger.release(cn(11, 17, 10) + timedelta(days=14))  # due 7 days after payment
    assert ledger.balance("张三").available == 2000


def test_a_batch_refused_midway_says_the_chunks_before_stand(tmp_path):
    path, tree = tmp_path / "ledger.db", InviteTree.from_records(TREE)
    ledger, other = Ledger.open(path, policy=POLICY), Ledger.open(path)
    rival = ORDERS[1].model_copy(update={"sharer_id": "李四"})

    def meanwhile(done, total):
        if done == 1:  # another writer posts o-b, differently, between the chunks
            other.post(rival, settle(versions(), tree, rival), at=AT)

    with ledger, other, pytest.raises(DuplicateOrderError) as refused:
        ledger.post_batch(
            versions(), tree, order_columns(ORDERS), at=AT, chunk_orders=1, progress=meanwhile
        )
    assert "the 1 orders of the chunks before were posted and stand" in str(refused.value)
    with Ledger.open(path) as reopened:
        assert reopened.payouts("o-a")


def test_an_empty_paid_at_column_keeps_the_fast_path(monkeypatch):
    import tuishou.ledger.bulk as bulk

    def refuse(*args):
        raise AssertionError("posted order by order")

    monkeypatch.setattr(bulk, "post_each", refuse)
    columns = order_columns(ORDERS[:1])
    columns["paid_at"] = [None]
    v1 = versions().versions[0].policy
    done = Ledger(POLICY).post_batch(v1, InviteTree.from_records(TREE), columns, at=AT)
    assert done.orders_posted == 1
