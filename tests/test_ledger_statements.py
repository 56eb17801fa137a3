"""Statements (对账单): a worked month by hand, the members rule, the schedule, the frame,
explain, and the conservation properties over random histories on every backend."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from ledger_history import MONTHS, TREE, History, ledger_policies, steps
from ledger_support import BACKENDS, CN, DAY0, ORDER, POLICY, day, ledgers, posted
from tuishou import Balance, Order, OrderLine, PolicyVersion, PolicyVersions, settle
from tuishou.errors import LedgerError, UnknownOrderError
from tuishou.ledger.statement_models import MOVEMENTS, Period, Statement

from helpers import examples

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)
NOVEMBER = Period.month("2026-11")
TICK = timedelta(microseconds=1)


def order(order_id, amount, at, sharer="C"):
    return Order(
        order_id=order_id,
        sharer_id=sharer,
        paid_at=at,
        lines=[OrderLine(sku="x", group="g", amount=amount)],
    )


# ------------------------------------------------------------------- a worked month


def test_a_worked_month_by_hand(make_ledger):
    """C sells o1 (¥150.00: C 1500, B 750) on Nov 1 and o2 (¥100.00: C 1000, B 500) on
    Nov 27; o1 is released on Nov 9, C withdraws ¥10.00 (1% fee: 10) on Nov 10, a third of
    o1 is refunded on Nov 12 (clawed back: C -500, B -250), the rest on Dec 2 (after the
    close: C -1000, B -500, in December, referring to November)."""
    ledger = posted(make_ledger(freeze_days=7, withdrawal_fee_rate="0.01"))
    ledger.release(day(8))
    ledger.withdraw("C", 1000, at=day(9), withdrawal_id="w1")
    ledger.refund("o1", lines={"x": 1}, at=day(11))
    late = datetime(2026, 11, 27, 10, tzinfo=CN)
    ledger.post(order("o2", 10000, late), settle(POLICY, TREE, order("o2", 10000, late)), at=late)
    c = ledger.statement("C", NOVEMBER)
    assert (c.opening, c.closed) == (Balance(0, 0, 0), False)
    assert (c.earned, c.reversed, c.released, c.clawed_back) == (2500, 0, 1500, -500)
    assert (c.withdrawals, c.withdrawn, c.fees) == (-1000, 990, 10)
    assert [fen for *_, fen in c.earned_by_rule] == [2500]
    assert c.closing == Balance(pending=1000, available=0, written_off=0, withdrawn=990, fees=10)
    assert c.schedule == ((date(2026, 12, 4), 1000),)  # Nov 27 10:00 + 7 days, local date
    assert [(line.reason, line.amount) for line in c.lines if line.bucket == "available"] == [
        ("release", 1500),
        ("withdrawal", -1000),
        ("clawback", -500),
    ]
    c.check()
    b = ledger.statement("B", NOVEMBER)
    assert (b.earned, b.released, b.clawed_back) == (1250, 750, -250)
    assert (b.closing.pending, b.closing.available) == (500, 500)
    close = ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    assert (close.members, close.totals["earned"], close.totals["closing_pending"]) == (
        2,
        3750,
        1500,
    )
    ledger.refund("o1", at=datetime(2026, 12, 2, tzinfo=CN))
    december = ledger.statement("C", Period.month("2026-12"))
    assert december.opening == c.closing
    assert [(line.amount, line.refers_to) for line in december.lines] == [(-1000, "2026-11")]
    assert ledger.statement("C", NOVEMBER) == dataclasses.replace(c, closed=True)


# ------------------------------------------------------------------------ members


def test_members_are_those_with_entries_or_an_opening_balance(make_ledger):
    ledger = posted(make_ledger(freeze_days=0))  # B and C earn o1 on Nov 1
    ledger.release(day(0))
    ledger.withdraw("B", 750, at=day(1), withdrawal_id="w1")  # withdrawn 750: not zero
    other = order("o2", 10000, day(2), sharer="D")
    ledger.post(other, settle(POLICY, TREE, other), at=day(2))  # D and C earn o2 ...
    ledger.refund("o2", at=day(3))  # ... all of it refunded while pending: D ends at zero
    december = Period.month("2026-12")
    assert [s.member_id for s in ledger.statements(NOVEMBER)] == ["B", "C", "D"]
    assert [s.member_id for s in ledger.statements(december)] == ["B", "C"]
    assert ledger.statement("B", december).closing.withdrawn == 750
    assert list(ledger.statements(Period.month("2026-10"))) == []
    nobody = ledger.statement("Z", NOVEMBER)
    assert (nobody.opening, nobody.closing, nobody.lines) == (Balance(0, 0, 0),) * 2 + ((),)


def test_an_entry_at_the_end_belongs_to_the_next_period(make_ledger):
    ledger = make_ledger(freeze_days=7)
    at = NOVEMBER.end
    ledger.post(order("o1", 10000, at), settle(POLICY, TREE, order("o1", 10000, at)), at=at)
    assert list(ledger.statements(NOVEMBER)) == []
    assert ledger.statement("C", NOVEMBER).closing == Balance(0, 0, 0)
    assert ledger.statement("C", Period.month("2026-12")).earned == 1000


# ------------------------------------------------------------------------ schedule


def test_pending_awaits_receipt_until_the_goods_arrive(make_ledger):
    ledger = posted(make_ledger(freeze_days=7, freeze_from="received"))
    before = ledger.statement("C", NOVEMBER)
    assert (before.schedule, before.awaiting_receipt) == ((), 1500)
    ledger.mark_received("o1", datetime(2026, 11, 30, 20, tzinfo=CN))
    assert ledger.statement("C", NOVEMBER).schedule == ((date(2026, 12, 7), 1500),)


def test_a_receipt_after_the_end_leaves_the_period_awaiting(make_ledger):
    ledger = posted(make_ledger(freeze_days=7, freeze_from="received"))
    ledger.mark_received("o1", NOVEMBER.end + timedelta(hours=1))
    mine = ledger.statement("C", NOVEMBER)
    assert (mine.schedule, mine.awaiting_receipt) == ((), 1500)
    assert ledger.statement("C", Period.month("2026-12")).schedule == ((date(2026, 12, 8), 1500),)


def test_the_schedule_is_by_local_date_in_the_period_zone(make_ledger):
    ledger = posted(make_ledger(freeze_days=1))  # due Nov 2 12:00 +08:00 = 04:00 UTC
    pacific = Period.month("2026-11", timezone="America/Los_Angeles")
    assert ledger.statement("C", pacific).schedule == ((date(2026, 11, 1), 1500),)


# --------------------------------------------------------------------- frame, explain


def test_the_frame_and_table_are_the_statements_rows(make_ledger):
    ledger = posted(make_ledger(freeze_days=3))
    ledger.release(day(4))
    frame = ledger.statements_frame(NOVEMBER)
    assert frame.to_dict("records") == [s.as_row() for s in ledger.statements(NOVEMBER)]
    assert str(frame.dtypes["earned"]) == "int64"
    table = ledger.statements_arrow(NOVEMBER)
    assert table.num_rows == 2
    assert set(MOVEMENTS) <= set(table.column_names)


def test_explain_rebuilds_the_posted_order_and_lists_refunds(make_ledger):
    ledger = posted(make_ledger(freeze_days=3))
    assert "Refunds so far (退款): none." in ledger.explain("o1")
    assert ledger.explain("o1").startswith(settle(POLICY, TREE, ORDER).explain().rstrip("\n"))
    ledger.refund("o1", lines={"y": 1}, at=day(1), refund_id="r1")
    text = ledger.explain("o1")
    assert "refund 'r1'" in text
    assert "C -500 fen" in text
    assert "y 1 of 1" in text
    with pytest.raises(UnknownOrderError, match="never posted"):
        ledger.explain("nope")


def test_the_policy_version_is_recorded_and_explained(make_ledger):
    versions = PolicyVersions(
        versions=(
            PolicyVersion(effective_from=DAY0 - timedelta(days=30), policy=POLICY, label="v1"),
        )
    )
    settlement = settle(versions, TREE, ORDER)
    assert settlement.version == "v1"
    ledger = make_ledger()
    ledger.post(ORDER, settlement, at=DAY0)
    assert "version v1" in ledger.explain("o1")
    assert ledger.post(ORDER, settlement, at=DAY0) == []  # a repeat is still a no-op


# ---------------------------------------------------------------------- properties


def expected_statement(entries, member, period):
    """A statement's sums by brute force over every entry (Python, not SQL)."""
    mine = [e for e in entries if e.member_id == member]

    def balance(before):
        chosen = [e for e in mine if e.at < before]
        by = {
            b: sum(e.amount for e in chosen if e.bucket == b)
            for b in ("pending", "available", "withdrawn", "fees", "held", "payable")
        }
        off = sum(e.amount for e in chosen if e.reason == "write_off")
        return Balance(
            by["pending"],
            by["available"],
            off,
            by["withdrawn"],
            by["fees"],
            by["held"],
            by["payable"],
        )

    inside = [e for e in mine if period.start <= e.at < period.end]
    return balance(period.start), balance(period.end), inside


@pytest.mark.parametrize("make_ledger", BACKENDS, indirect=True)
@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, policy=ledger_policies)
def test_statements_conserve_to_the_fen(make_ledger, plan, policy):
    ledger = make_ledger(**policy.model_dump())
    History(ledger).run(plan)
    entries = ledger.entries()
    for period in MONTHS:
        found = list(ledger.statements(period))
        members = sorted({e.member_id for e in entries if e.at < period.end})
        shown = []
        for member in members:
            opening, closing, inside = expected_statement(entries, member, period)
            if inside or opening != Balance(0, 0, 0):
                shown.append(member)
        assert [s.member_id for s in found] == shown
        for statement in found:
            statement.check()
            opening, closing, inside = expected_statement(entries, statement.member_id, period)
            assert (statement.opening, statement.closing) == (opening, closing)
            full = ledger.statement(statement.member_id, period)
            assert dataclasses.replace(full, lines=()) == statement
            assert [line.entry_id for line in full.lines] == [e.entry_id for e in inside]
        totals = {}
        for statement in found:
            for name, value in statement.as_row().items():
                if isinstance(value, int):
                    totals[name] = totals.get(name, 0) + value
        ledger_sums = [b for _, b in ledger.balances(as_of=period.end - TICK)]
        for field in ("pending", "available", "written_off", "withdrawn", "fees", "held"):
            assert totals.get(f"closing_{field}", 0) == sum(getattr(b, field) for b in ledger_sums)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("earned", 1, "pending: opening"),
        ("released", 1, "available: opening"),
        ("fees", 1, "fees: opening"),
        ("awaiting_receipt", 1, "pending schedule"),
        ("earned_by_rule", (("r", "k", 1),), "earned lines"),
    ],
)
def test_check_names_what_does_not_add_up(field, value, problem):
    good = Statement("A", NOVEMBER, False, Balance(0, 0, 0), Balance(0, 0, 0))
    good.check()
    with pytest.raises(LedgerError, match=problem):
        dataclasses.replace(good, **{field: value}).check()
