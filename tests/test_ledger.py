"""The ledger on both backends: lifecycle scenarios, refusals, idempotency, properties."""

from __future__ import annotations

import sqlite3

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
    DuplicateOrderError,
    DuplicateRequestError,
    InsufficientBalanceError,
    Ledger,
    LedgerError,
    OrderLine,
    UnknownOrderError,
    resettle,
    settle,
)
from tuishou.money import MAX_ORDER_FEN

from helpers import any_scenarios, policy

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)


def balances(ledger):
    return {m: ledger.balance(m) for m in ("B", "C")}


@pytest.mark.parametrize("freeze_from", ["paid", "received"])
@pytest.mark.parametrize("clawback", ["allow_negative", "cap_at_balance"])
def test_post_release_withdraw_partial_refund_full_refund(make_ledger, clawback, freeze_from):
    ledger = posted(make_ledger(freeze_days=7, clawback=clawback, freeze_from=freeze_from))
    assert balances(ledger) == {"B": bal(pending=750), "C": bal(pending=1500)}
    if freeze_from == "received":
        assert ledger.release(day(30)) == []  # nothing moves before the goods arrive
        ledger.mark_received("o1", DAY0)
    assert ledger.release(day(6)) == []
    moved = ledger.release(day(7))
    assert sorted((e.member_id, e.amount) for e in moved) == [("B", 750), ("C", 1500)]
    assert balances(ledger) == {"B": bal(available=750), "C": bal(available=1500)}
    ledger.withdraw("C", 1000, at=day(8), withdrawal_id="w1")
    assert ledger.balance("C") == bal(available=500, withdrawn=1000)
    # One of the two x goes back: the remaining order is 5000 + 5000.
    result = ledger.refund("o1", lines={"x": 1}, at=day(9), refund_id="r1")
    assert result.remaining == {("C", "seller", "seller"): 1000, ("B", "layers", "layer"): 500}
    assert ledger.balance("C") == bal(available=0, withdrawn=1000)
    assert ledger.balance("B") == bal(available=500)
    ledger.refund("o1", at=day(10), refund_id="r2")  # everything else
    assert ledger.balance("B") == bal(available=0)
    if clawback == "allow_negative":
        assert ledger.balance("C") == bal(available=-1000, withdrawn=1000)
    else:
        assert ledger.balance("C") == bal(available=0, written_off=1000, withdrawn=1000)
    assert ledger.payouts("o1") == {}


def test_a_refund_before_release_reduces_pending(make_ledger):
    ledger = posted(make_ledger())
    ledger.refund("o1", lines={"y": 1}, at=day(1))
    assert balances(ledger) == {"B": bal(pending=500), "C": bal(pending=1000)}
    assert [e.reason for e in ledger.entries("C")] == ["post", "refund"]
    ledger.refund("o1", lines={"x": 2}, at=day(2))
    assert balances(ledger) == {"B": bal(), "C": bal()}
    ledger.release(day(30))
    assert balances(ledger) == {"B": bal(), "C": bal()}


def test_freeze_from_received(make_ledger):
    ledger = posted(make_ledger(freeze_from="received", freeze_days=7))
    assert ledger.release(day(60)) == []  # not received yet: stays pending
    ledger.mark_received("o1", day(10))
    ledger.mark_received("o1", day(12))  # the first receipt counts
    assert ledger.release(day(16)) == []
    assert len(ledger.release(day(17))) == 2
    assert ledger.balance("C") == bal(available=1500)


def test_freeze_from_paid_uses_paid_at_else_posting_time(make_ledger):
    ledger = make_ledger(freeze_days=3)
    unpaid = ORDER.model_copy(update={"order_id": "o2", "paid_at": None})
    posted(ledger, at=day(1))  # paid at DAY0: due on day 3, not day 4
    assert {e.order_id for e in ledger.release(day(3))} == {"o1"}
    posted(ledger, unpaid, at=day(5))  # not paid_at: due 3 days after posting
    assert ledger.release(day(7)) == []
    assert {e.order_id for e in ledger.release(day(8))} == {"o2"}


def test_later_earnings_pay_back_a_negative_balance_first(make_ledger):
    ledger = posted(make_ledger(freeze_days=0))
    ledger.release(DAY0)
    ledger.withdraw("C", 1500, at=day(1), withdrawal_id="w1")
    ledger.refund("o1", at=day(2))
    assert ledger.balance("C").available == -1500
    posted(ledger, ORDER.model_copy(update={"order_id": "o2"}), at=day(3))
    ledger.release(day(3))
    assert ledger.balance("C").available == 0
    with pytest.raises(InsufficientBalanceError):
        ledger.withdraw("C", 1, at=day(4), withdrawal_id="w2")


def test_withdrawal_fee_is_rounded_half_up_and_recorded(make_ledger):
    ledger = posted(make_ledger(freeze_days=0, withdrawal_fee_rate="0.006"))
    ledger.release(DAY0)
    entries = ledger.withdraw("C", 1250, at=day(1), withdrawal_id="w1")  # fee 7.5 → 8
    assert [(e.bucket, e.reason, e.amount) for e in entries] == [
        ("available", "withdrawal", -1250),
        ("withdrawn", "withdrawal", 1242),
        ("fees", "fee", 8),
    ]
    assert ledger.balance("C") == bal(available=250, withdrawn=1242, fees=8)
    assert ledger.withdraw("C", 1250, at=day(2), withdrawal_id="w1") == []  # a retry
    with pytest.raises(DuplicateRequestError, match="'w1' was already used"):
        ledger.withdraw("C", 100, at=day(2), withdrawal_id="w1")


@pytest.mark.parametrize(
    ("amount", "error", "match"),
    [
        (1501, InsufficientBalanceError, r"asked to withdraw 1501 fen but has 1500 fen available"),
        (99, InsufficientBalanceError, r"below the minimum of 100 fen"),
        (0, InsufficientBalanceError, r"below the minimum"),
        (-5, ValueError, r"negative"),
        (10.0, TypeError, r"is a float"),
    ],
)
def test_refused_withdrawals_change_nothing(make_ledger, amount, error, match):
    ledger = posted(make_ledger(freeze_days=0, min_withdrawal=100))
    ledger.release(DAY0)
    before = ledger.entries()
    with pytest.raises(error, match=match):
        ledger.withdraw("C", amount, at=day(1), withdrawal_id="w1")
    assert ledger.entries() == before


def test_posting_is_idempotent_and_refuses_a_different_settlement(make_ledger):
    ledger = posted(make_ledger())
    assert ledger.post(ORDER, settle(POLICY, TREE, ORDER), at=day(1)) == []
    other = policy(group_rates={"g": "1"}, rules=[{"kind": "seller", "rates": {"member": "0.2"}}])
    with pytest.raises(DuplicateOrderError, match="'o1' was already posted"):
        ledger.post(ORDER, settle(other, TREE, ORDER), at=day(1))
    assert ledger.balance("C") == bal(pending=1500)


@pytest.mark.parametrize(
    ("order_id", "lines", "error", "match"),
    [
        ("o9", None, UnknownOrderError, r"order 'o9' was never posted"),
        ("o1", {"z": 1}, LedgerError, r"'z' is not in order 'o1'"),
        ("o1", {"x": 3}, LedgerError, r"'x': refund of 3 but only 2 left"),
        ("o1", {"x": 0}, LedgerError, r"quantity 0 must be an int >= 1"),
        ("o1", {"x": 1.0}, LedgerError, r"quantity 1.0 must be an int"),
        ("o1", {"x": 1, "z": 1, "y": 2}, LedgerError, r"2 problem\(s\)"),
    ],
)
def test_refused_refunds_change_nothing(make_ledger, order_id, lines, error, match):
    ledger = posted(make_ledger())
    before = (ledger.entries(), ledger.payouts("o1"))
    with pytest.raises(error, match=match):
        ledger.refund(order_id, lines=lines, at=day(1))
    assert (ledger.entries(), ledger.payouts("o1")) == before


def test_refunding_more_than_is_left_over_several_refunds(make_ledger):
    ledger = posted(make_ledger())
    ledger.refund("o1", lines={"x": 1}, at=day(1))
    with pytest.raises(LedgerError, match="only 1 left"):
        ledger.refund("o1", lines={"x": 2}, at=day(2))
    ledger.refund("o1", at=day(3))
    with pytest.raises(LedgerError, match="already fully refunded"):
        ledger.refund("o1", at=day(4))


def test_refund_ids_make_retries_safe(make_ledger):
    ledger = posted(make_ledger())
    first = ledger.refund("o1", lines={"x": 1}, at=day(1), refund_id="r1")
    again = ledger.refund("o1", lines={"x": 1}, at=day(1), refund_id="r1")
    assert again.repeated
    assert again.entries == ()
    assert again.remaining == first.remaining
    with pytest.raises(DuplicateRequestError, match="refund id 'r1'"):
        ledger.refund("o1", lines={"y": 1}, at=day(2), refund_id="r1")


def test_history_explains_every_fen(make_ledger):
    ledger = posted(make_ledger(freeze_days=1))
    ledger.release(day(1))
    ledger.refund("o1", lines={"y": 1}, at=day(2), refund_id="r1")
    history = [
        (e.reason, e.bucket, e.amount, e.order_id, e.rule, e.request_id)
        for e in ledger.entries(member_id="C")
    ]
    assert history == [
        ("post", "pending", 1500, "o1", "seller", None),
        ("release", "pending", -1500, "o1", "seller", None),
        ("release", "available", 1500, "o1", "seller", None),
        ("clawback", "available", -500, "o1", "seller", "r1"),
    ]
    assert {e.member_id for e in ledger.entries(order_id="o1")} == {"B", "C"}
    assert ledger.balance("C", as_of=day(1)) == bal(available=1500)
    assert ledger.balance("C", as_of=DAY0) == bal(pending=1500)


def test_times_must_be_datetimes(make_ledger):
    ledger = make_ledger()
    with pytest.raises(ArgumentTypeError, match="must be a datetime"):
        ledger.release("2026-11-01")


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "ledger.db"
    Ledger.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE tuishou_alembic_version SET version_num = '0099'")
    with pytest.raises(LedgerError, match="schema revision '0099', newer than this tuishou"):
        Ledger.open(path)
    with pytest.raises(LedgerError, match="schema revision '0099', newer than this tuishou"):
        Ledger.open(path, read_only=True)


def test_a_file_ledger_survives_reopening(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.open(path) as ledger:
        posted(ledger)
    with Ledger.open(path) as ledger:
        assert ledger.balance("C") == bal(pending=1500)
        ledger.refund("o1", lines={"x": 2}, at=day(1))
        assert ledger.balance("C") == bal(pending=500)


# ---------------------------------------------------------------------------- properties

PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def posted_or_refused(ledger, order, settlement):
    """Post ``order``; True if posted, False if it is above the supported amount (refused)."""
    if order.amount <= MAX_ORDER_FEN:
        ledger.post(order, settlement, at=DAY0)
        return True
    with pytest.raises(LedgerError, match=rf"amount={order.amount} fen, above the supported"):
        ledger.post(order, settlement, at=DAY0)
    assert ledger.entries() == []
    return False


@PROPERTY
@given(data=st.data())
def test_after_any_refunds_payouts_are_the_resettled_remaining_order_never_raised(
    make_ledger, data
):
    chosen_policy, tree, order = data.draw(any_scenarios())
    release_first = data.draw(st.booleans())
    ledger = make_ledger(
        freeze_days=0, clawback=data.draw(st.sampled_from(["allow_negative", "cap_at_balance"]))
    )
    first = settle(chosen_policy, tree, order)
    if not posted_or_refused(ledger, order, first):
        return
    if release_first:
        ledger.release(DAY0)
    held = _totals(first)
    refunded: dict[str, int] = {}
    for number, plan in enumerate(data.draw(refund_plans(order))):
        result = ledger.refund(order.order_id, lines=plan, at=day(1), refund_id=f"r{number}")
        for sku, n in plan.items():
            refunded[sku] = refunded.get(sku, 0) + n
        again = _resettled(first, order, refunded)
        # A refund never raises a payout: what re-rounding would add stays with the platform.
        expected = {
            key: min(amount, held.get(key, 0))
            for key, amount in (_totals(again) if again else {}).items()
        }
        expected = {key: amount for key, amount in expected.items() if amount}
        assert ledger.payouts(order.order_id) == result.remaining == expected
        assert all(e.amount <= 0 for e in result.entries if e.reason != "write_off")
        for member in {e.member_id for e in result.entries}:
            assert sum(e.amount for e in result.entries if e.member_id == member) <= 0
        net = sum(
            e.amount
            for e in ledger.entries(order_id=order.order_id)
            if e.reason in ("post", "refund", "clawback")
        )
        assert net == sum(expected.values()) <= first.pool
        assert result.pool == (again.pool if again else 0)
        assert result.pool == sum(result.remaining.values()) + result.retained
        assert result.retained >= (again.retained if again else 0)
        held = expected
        before = ledger.entries()
        ledger.refund(order.order_id, lines=plan, at=day(2), refund_id=f"r{number}")  # a retry
        assert ledger.entries() == before


def _resettled(first, order, refunded):
    """The remaining order, refunded SKU by SKU in line order, settled on the first chain."""
    left = dict(refunded)
    lines = []
    for line in order.lines:
        take = min(left.get(line.sku, 0), line.quantity)
        left[line.sku] = left.get(line.sku, 0) - take
        kept = line.quantity - take
        if kept:
            lines.append(
                OrderLine(
                    sku=line.sku,
                    group=line.group,
                    quantity=kept,
                    amount=line.amount * kept // line.quantity,
                )
            )
    return resettle(first, order.model_copy(update={"lines": tuple(lines)})) if lines else None


def _totals(settlement):
    totals: dict[tuple[str, str, str], int] = {}
    for p in settlement.payouts:
        totals[(p.member_id, p.rule, p.kind)] = (
            totals.get((p.member_id, p.rule, p.kind), 0) + p.amount
        )
    return totals


@PROPERTY
@given(data=st.data())
def test_tier_changes_and_moves_after_posting_never_change_a_refund(make_ledger, data):
    chosen_policy, tree, order = data.draw(any_scenarios())
    plan = data.draw(refund_plans(order))
    results = []
    for mutate in (False, True):
        ledger = make_ledger()
        if not posted_or_refused(
            ledger,
            order,
            settle(
                chosen_policy,
                tree.__class__.from_records(tree.to_records(), tiers=tree.tiers),
                order,
            ),
        ):
            return
        if mutate:
            for member in list(tree):
                tree.set_tier(member, chosen_policy.tiers[-1])
                tree.move(member, new_inviter_id=None)
        for number, lines in enumerate(plan):
            ledger.refund(order.order_id, lines=lines, at=day(1), refund_id=f"r{number}")
        results.append([(e.member_id, e.reason, e.amount) for e in ledger.entries()])
    assert results[0] == results[1]
