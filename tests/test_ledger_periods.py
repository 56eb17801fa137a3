"""The period close (月结): when, in which order, idempotent, recorded; refusals change
nothing; a closed period never changes, whatever is done later (a property over random
histories on every backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from ledger_history import MONTHS, History, ledger_policies, steps
from ledger_support import BACKENDS, CN, ORDER, POLICY, TREE, day, ledgers, posted, table_rows
from tuishou import LedgerPolicy, settle
from tuishou.errors import ArgumentTypeError, LedgerError
from tuishou.ledger.statement_models import Period, PeriodClose

from helpers import examples

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)
NOVEMBER, DECEMBER, JANUARY = MONTHS
TABLES = ("tuishou_periods", "tuishou_clock", "tuishou_entries")


def snapshot(ledger):
    return [table_rows(ledger, table) for table in TABLES]


def test_a_close_is_recorded_with_its_totals(make_ledger):
    ledger = posted(make_ledger(freeze_days=7))
    ledger.release(day(8))
    close = ledger.close_period(NOVEMBER, at=NOVEMBER.end + timedelta(hours=3))
    assert isinstance(close, PeriodClose)
    assert (close.period, close.members, close.repeated) == (NOVEMBER, 2, False)
    assert (close.totals["earned"], close.totals["released"]) == (2250, 2250)
    assert (close.totals["closing_available"], close.totals["closing_pending"]) == (2250, 0)
    assert ledger.periods() == [close]
    assert ledger.statement("C", NOVEMBER).closed
    assert not ledger.statement("C", DECEMBER).closed
    assert "period 2026-11 closed" in table_rows(ledger, "tuishou_clock")[0][-1]


def test_closing_again_returns_the_recorded_close(make_ledger):
    ledger = posted(make_ledger())
    first = ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    ledger.close_period(DECEMBER, at=DECEMBER.end)
    again = ledger.close_period(NOVEMBER, at=JANUARY.end)  # any time: nothing is recorded
    assert again.repeated
    assert (again.period, again.closed_at, again.members, again.totals) == (
        first.period,
        first.closed_at,
        first.members,
        first.totals,
    )
    assert [close.period.label for close in ledger.periods()] == ["2026-11", "2026-12"]


def test_an_empty_period_closes_with_no_members(make_ledger):
    ledger = make_ledger()
    close = ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    assert (close.members, close.totals) == (0, {})


def later_weeks(label: str) -> Period:
    return Period(label=label, start=DECEMBER.start, end=DECEMBER.start + timedelta(days=7))


@pytest.mark.parametrize(
    ("closed", "period", "at", "message"),
    [
        ([], NOVEMBER, NOVEMBER.end - timedelta(seconds=1), "before the end of period 2026-11"),
        ([], NOVEMBER, day(0), "before the end"),
        ([NOVEMBER], later_weeks("2026-11"), DECEMBER.end, "closed with other bounds"),
        (
            [NOVEMBER],
            Period.month("2026-11", timezone="UTC"),
            DECEMBER.end,
            "closed with other bounds",
        ),
        ([DECEMBER], NOVEMBER, DECEMBER.end, "periods close in order and never overlap"),
        (
            [NOVEMBER],
            Period(label="late", start=NOVEMBER.end - timedelta(days=1), end=DECEMBER.end),
            DECEMBER.end,
            "before the end of period 2026-11",
        ),
        ([NOVEMBER, DECEMBER], later_weeks("wk49"), JANUARY.end, "never overlap"),
    ],
)
def test_refused_closes_change_nothing(make_ledger, closed, period, at, message):
    ledger = posted(make_ledger())
    for month in closed:
        ledger.close_period(month, at=month.end)
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match=message):
        ledger.close_period(period, at=at)
    assert snapshot(ledger) == before


def test_a_close_before_the_clock_is_refused(make_ledger):
    ledger = posted(make_ledger())
    ledger.release(DECEMBER.start + timedelta(days=3))
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match="clock never runs backwards"):
        ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    assert snapshot(ledger) == before
    assert ledger.close_period(NOVEMBER, at=DECEMBER.start + timedelta(days=3)).members == 2


def test_gaps_between_periods_are_allowed(make_ledger):
    ledger = make_ledger()
    ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    assert ledger.close_period(JANUARY, at=JANUARY.end).period == JANUARY


@pytest.mark.parametrize("period", ["2026-11", None, NOVEMBER.model_dump()])
def test_a_close_takes_a_period(make_ledger, period):
    with pytest.raises(ArgumentTypeError, match="pass a Period"):
        make_ledger().close_period(period, at=NOVEMBER.end)


INSIDE = datetime(2026, 11, 30, 23, tzinfo=CN)
LATE_ORDER = ORDER.model_copy(update={"order_id": "o2", "paid_at": INSIDE})


@pytest.mark.parametrize(
    "operation",
    [
        lambda ledger: ledger.post(LATE_ORDER, settle(POLICY, TREE, LATE_ORDER), at=INSIDE),
        lambda ledger: ledger.release(INSIDE),
        lambda ledger: ledger.refund("o1", at=INSIDE),
        lambda ledger: ledger.mark_received("o1", INSIDE),
        lambda ledger: ledger.withdraw("C", 1, at=INSIDE, withdrawal_id="w9"),
        lambda ledger: ledger.change_policy(LedgerPolicy(freeze_days=1), at=INSIDE),
    ],
)
def test_operations_dated_inside_a_closed_period_are_refused(make_ledger, operation):
    ledger = posted(make_ledger(freeze_days=0, freeze_from="received"))
    ledger.mark_received("o1", day(1))
    ledger.release(day(2))
    ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match="period 2026-11 closed"):
        operation(ledger)
    assert snapshot(ledger) == before


def test_a_refund_after_the_close_refers_to_the_original_period(make_ledger):
    ledger = posted(make_ledger(freeze_days=3))
    ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    ledger.refund("o1", lines={"y": 1}, at=DECEMBER.start + timedelta(days=1), refund_id="r1")
    lines = ledger.statement("C", DECEMBER).lines
    assert [(line.reason, line.amount, line.refers_to) for line in lines] == [
        ("refund", -500, "2026-11")
    ]
    assert lines[0].request_id == "r1"
    posted_later = ORDER.model_copy(update={"order_id": "o3", "paid_at": day(31)})
    ledger.post(posted_later, settle(POLICY, TREE, posted_later), at=day(31))
    ledger.refund("o3", at=day(32))
    refund = [line for line in ledger.statement("C", DECEMBER).lines if line.order_id == "o3"]
    assert [line.refers_to for line in refund if line.reason == "refund"] == [None]


# ---------------------------------------------------------------------- properties


def picture(ledger, period):
    """Everything a period's statements show: every member's, with and without lines."""
    every = list(ledger.statements(period))
    return every, [ledger.statement(s.member_id, period) for s in every]


@pytest.mark.parametrize("make_ledger", BACKENDS, indirect=True)
@settings(
    max_examples=examples(10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=steps, after=steps, policy=ledger_policies)
def test_closed_periods_never_change(make_ledger, before, after, policy):
    ledger = make_ledger(**policy.model_dump())
    history = History(ledger).run(before)
    if NOVEMBER not in history.closed:
        ledger.close_period(NOVEMBER, at=max(NOVEMBER.end, history.at))
        history.at = max(NOVEMBER.end, history.at)
        history.closed.append(NOVEMBER)
    closed = [picture(ledger, period) for period in history.closed]
    recorded = ledger.periods()
    changed = max(history.at, datetime.now(UTC) + timedelta(seconds=1))  # after the creation
    ledger.change_policy(LedgerPolicy(freeze_days=2, withdrawal_fee_rate="0.05"), at=changed)
    history.run(after)
    for number in range(len(history.orders)):  # refund every order, closed or not
        history.refund_all(number)
    assert [picture(ledger, period) for period in history.closed[: len(closed)]] == closed
    assert ledger.periods()[: len(recorded)] == recorded


def test_a_ledger_that_does_not_add_up_is_not_closed(make_ledger):
    from sqlalchemy import insert

    from tuishou.ledger import schema

    ledger = posted(make_ledger())
    with ledger._store.transaction() as connection:  # a release with no available side
        connection.execute(
            insert(schema.entries).values(
                entry_id=10_000,
                member_id="C",
                bucket="pending",
                reason="release",
                amount=-100,
                at=day(2),
                order_id="o1",
            )
        )
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match="member 'C' for 2026-11 does not add up"):
        ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    assert snapshot(ledger) == before
