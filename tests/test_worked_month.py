"""The worked month of docs/operations.md, from Python, with every figure worked by hand.

Policy versions: v1 from 2026-11-01 00:00 +08:00 pays 20% on ecosystem goods, v2 from
2026-12-01 00:00 +08:00 pays 25%; the 级差 rates are 推手 pusher 50%, 导师 mentor 65%, 高级顾问
senior advisor 75% of the pool. The tree: 王五 (senior advisor) invited 李四 (mentor), who
invited 张三 (pusher); 张三 shares every order, so 张三 earns 50% of the pool, 李四 15% and 王五
10%. The ledger freezes payouts 7 days from payment, caps clawbacks at the balance, charges
1% on withdrawals and pays at least ¥1.00.

| when (+08:00)        | what                                                            |
|----------------------|-----------------------------------------------------------------|
| 11-10 10:00          | order o-a paid: 2 x air purifier, ¥200.00, v1: pool 4000        |
|                      | -> 张三 2000, 李四 600, 王五 400 pending, due 11-17 10:00         |
| 11-20 00:00          | release: all of o-a available                                   |
| 11-21 09:00          | 李四 asks to withdraw 500 (w-li-1, fee 5); 王五 300 (w-wang-1)    |
| 11-22 10:00          | w-li-1 approved                                                 |
| 11-23 10:00          | w-wang-1 rejected: 300 back to 王五's available                  |
| 11-24 15:00          | w-li-1 paid (transfer WX20261124-0001): 495 withdrawn, 5 fees   |
| 11-25 12:00          | refund of 1 air purifier (after release): pool 2000 left        |
|                      | -> clawbacks 张三 1000, 王五 200; 李四 300 capped at its 100:       |
|                      |    100 taken, 200 written off                                   |
| 11-30 23:59:59       | order o-b paid, 2 x ¥50.00, still v1: pool 2000                 |
|                      | -> 张三 1000, 李四 300, 王五 200 pending, due 12-07 23:59:59      |
| 12-01 00:00:00       | order o-c paid, ¥100.00, v2: pool 2500                          |
|                      | -> 张三 1250, 李四 375, 王五 250 pending (December)               |
| 12-01 02:00          | November closed                                                 |
| 12-03 10:00          | 1 of o-b refunded (after close), re-settled under v1 (not v2):  |
|                      | pool 1000 left -> 张三 -500, 李四 -150, 王五 -100 pending,        |
|                      | reversed in December with a reference to November               |
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tuishou import InviteTree, Order, settle
from tuishou.ledger import Ledger, LedgerPolicy, Period
from tuishou.policy_versions import PolicyVersion, PolicyVersions

CN = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.month("2026-11")
DECEMBER = Period.month("2026-12")


def cn(month, day, hour=0, minute=0, second=0):
    return datetime(2026, month, day, hour, minute, second, tzinfo=CN)


def versions():
    from importlib.resources import files

    from tuishou.io.policy_file import load_policy

    v1 = load_policy(files("tuishou") / "data" / "youpin.toml")
    rates = {**v1.model_dump(mode="json")["group_rates"], "ecosystem": "0.25"}
    v2 = type(v1).model_validate({**v1.model_dump(mode="json"), "group_rates": rates})
    return PolicyVersions(
        versions=(
            PolicyVersion(effective_from=cn(11, 1), policy=v1, label="v1"),
            PolicyVersion(effective_from=cn(12, 1), policy=v2, label="v2"),
        )
    )


TREE = [
    {"member_id": "王五", "inviter_id": None, "tier": "senior_advisor"},
    {"member_id": "李四", "inviter_id": "王五", "tier": "mentor"},
    {"member_id": "张三", "inviter_id": "李四", "tier": "pusher"},
]
POLICY = LedgerPolicy(
    freeze_days=7, clawback="cap_at_balance", min_withdrawal=100, withdrawal_fee_rate="0.01"
)


def order(order_id, paid_at, amount, quantity=1, sku="air-purifier"):
    return Order(
        order_id=order_id,
        buyer_id="guest-1",
        sharer_id="张三",
        paid_at=paid_at,
        lines=[{"sku": sku, "group": "ecosystem", "amount": amount, "quantity": quantity}],
    )


def run_month(ledger):
    """Everything of the table above, in order; returns the ledger."""
    plans, tree = versions(), InviteTree.from_records(TREE)

    def post(o):
        ledger.post(o, settle(plans, tree, o), at=o.paid_at)

    post(order("o-a", cn(11, 10, 10), 20000, quantity=2))
    ledger.release(cn(11, 20))
    ledger.request_withdrawal("李四", 500, at=cn(11, 21, 9), withdrawal_id="w-li-1")
    ledger.request_withdrawal("王五", 300, at=cn(11, 21, 9), withdrawal_id="w-wang-1")
    ledger.approve_withdrawal("w-li-1", at=cn(11, 22, 10))
    ledger.reject_withdrawal("w-wang-1", at=cn(11, 23, 10), reason="收款账户实名不符")
    ledger.pay_withdrawal("w-li-1", at=cn(11, 24, 15), transfer_reference="WX20261124-0001")
    ledger.refund("o-a", lines={"air-purifier": 1}, at=cn(11, 25, 12), refund_id="r-a-1")
    post(order("o-b", cn(11, 30, 23, 59, 59), 10000, quantity=2))
    post(order("o-c", cn(12, 1), 10000))
    ledger.close_period(NOVEMBER, at=cn(12, 1, 2))
    ledger.refund("o-b", lines={"air-purifier": 1}, at=cn(12, 3, 10), refund_id="r-b-1")
    return ledger


@pytest.fixture(scope="module")
def month():
    return run_month(Ledger(POLICY))


def test_each_order_uses_the_version_in_force_when_it_was_paid():
    plans, tree = versions(), InviteTree.from_records(TREE)
    before = settle(plans, tree, order("o-b", cn(11, 30, 23, 59, 59), 10000))
    after = settle(plans, tree, order("o-c", cn(12, 1), 10000))
    assert (before.version, before.pool, before.amount_for("张三")) == ("v1", 2000, 1000)
    assert (after.version, after.pool, after.amount_for("张三")) == ("v2", 2500, 1250)


# member: opening (pending, available), earned, reversed, released, clawed back, written off,
# withdrawals, rejected, withdrawn, fees, closing (pending, available, in review), schedule
NOVEMBER_BY_HAND = {
    "张三": ((0, 0), 3000, 0, 2000, -1000, 0, 0, 0, 0, 0, (1000, 1000, 0), 1000),
    "李四": ((0, 0), 900, 0, 600, -300, 200, -500, 0, 495, 5, (300, 0, 0), 300),
    "王五": ((0, 0), 600, 0, 400, -200, 0, -300, 300, 0, 0, (200, 200, 0), 200),
}


@pytest.mark.parametrize("member", list(NOVEMBER_BY_HAND))
def test_november_statements_by_hand(month, member):
    s = month.statement(member, NOVEMBER)
    opening, *moved, closing, due = NOVEMBER_BY_HAND[member]
    assert s.closed
    assert (s.opening.pending, s.opening.available) == opening
    assert [
        s.earned,
        s.reversed,
        s.released,
        s.clawed_back,
        s.written_off,
        s.withdrawals,
        s.rejected,
        s.withdrawn,
        s.fees,
    ] == moved
    assert (s.closing.pending, s.closing.available, s.closing.held + s.closing.payable) == closing
    assert s.schedule == ((date(2026, 12, 7), due),)
    assert s.awaiting_receipt == 0
    s.check()


def test_the_november_totals_are_the_ledgers_totals(month):
    closes = month.periods()
    assert [(c.period.label, c.members) for c in closes] == [("2026-11", 3)]
    totals = closes[0].totals
    assert (totals["closing_pending"], totals["closing_available"]) == (1500, 1200)
    assert (totals["earned"], totals["withdrawn"], totals["fees"]) == (4500, 495, 5)
    # balances as of a time count the entries at that time; a period ends before its end
    balances = dict(month.balances(as_of=NOVEMBER.end - timedelta(microseconds=1)))
    assert sum(b.pending for b in balances.values()) == 1500
    assert sum(b.available for b in balances.values()) == 1200


def test_the_refund_after_close_posts_in_december_and_refers_to_november(month):
    s = month.statement("张三", DECEMBER)
    assert not s.closed
    assert (s.opening.pending, s.opening.available) == (1000, 1000)
    assert (s.earned, s.reversed) == (1250, -500)
    refunds = [line for line in s.lines if line.reason == "refund"]
    assert [(line.order_id, line.amount, line.refers_to) for line in refunds] == [
        ("o-b", -500, "2026-11")
    ]
    assert s.closing.pending == 1000 - 500 + 1250


def test_the_closed_november_does_not_change(month):
    again = run_month(Ledger(POLICY))
    before = [again.statement(m, NOVEMBER) for m in NOVEMBER_BY_HAND]
    again.release(cn(12, 10))
    again.request_withdrawal("张三", 1000, at=cn(12, 10), withdrawal_id="w-zhang-1")
    assert [again.statement(m, NOVEMBER) for m in NOVEMBER_BY_HAND] == before
    assert again.close_period(NOVEMBER, at=cn(12, 11)).repeated


def test_the_withdrawals_ended_as_reviewed(month):
    paid, rejected = month.withdrawal("w-li-1"), month.withdrawal("w-wang-1")
    assert (paid.state, paid.amount, paid.fee, paid.transfer_reference) == (
        "paid",
        500,
        5,
        "WX20261124-0001",
    )
    assert (rejected.state, rejected.reason) == ("rejected", "收款账户实名不符")


def test_the_december_refund_re_settles_the_november_order_under_v1(month):
    # what is left of o-b (¥50.00) pays 20% (v1), not 25% (v2): a pool of 1000, not 1250
    assert month.payouts("o-b") == {
        ("张三", "differential", "differential"): 500,
        ("李四", "differential", "differential"): 150,
        ("王五", "differential", "differential"): 100,
    }
    text = month.explain("o-b")
    assert "version v1" in text
    assert "x 20% ecosystem rate" in text
