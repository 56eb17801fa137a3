"""The ledger's clock and its policy over time (issue 10, QA of items 10 to 12).

- Each operation uses the policy in force at its own time; changes are dated in time order.
- The clock never runs backwards: every operation is dated at or after the latest time the
  ledger has recorded, so balances as of any past time stay as they were.
- A damaged file is a LedgerError naming the file, the table, the row and the value.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    later,
    ledgers,
    posted,
    table_rows,
)
from tuishou import Ledger, LedgerError, LedgerPolicy, TuishouError, settle

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)
WORKER = Path(__file__).with_name("ledger_worker.py")


def order(number):
    return ORDER.model_copy(update={"order_id": f"o{number}"})


def state(ledger):
    """Everything an operation could change."""
    orders = table_rows(ledger, "tuishou_orders")
    return ledger.entries(), ledger.policy_history(), orders


def fees(entries):
    return [e.amount for e in entries if e.reason == "fee"]


# ------------------------------------------------ F2: the policy in force at each time


def test_a_change_dated_in_the_future_applies_from_then_not_now(make_ledger):
    ledger = posted(make_ledger(freeze_days=0))
    ledger.release(DAY0)
    assert ledger.change_policy(
        LedgerPolicy(freeze_days=0, withdrawal_fee_rate="0.5"), at=later(3650), note="2036: half"
    )
    assert ledger.policy == LedgerPolicy(freeze_days=0)  # still today's
    assert fees(ledger.withdraw("C", 100, at=later(1), withdrawal_id="w1")) == []
    assert fees(ledger.withdraw("C", 100, at=later(3650), withdrawal_id="w2")) == [50]


def test_a_change_dated_before_the_creation_or_the_last_change_is_refused(make_ledger):
    ledger = make_ledger()
    before = state(ledger)
    with pytest.raises(
        LedgerError,
        match=r"is before the ledger was created \(.*\), whose "
        r"policy applies from the start",
    ):
        ledger.change_policy(LedgerPolicy(freeze_days=1), at=DAY0)
    assert state(ledger) == before
    ledger.change_policy(LedgerPolicy(freeze_days=2), at=later(5))
    before = state(ledger)
    with pytest.raises(
        LedgerError,
        match=r"is before the last policy change \(.*\); changes "
        r"are recorded in time order",
    ):
        ledger.change_policy(LedgerPolicy(freeze_days=3), at=later(4))
    assert state(ledger) == before


def test_a_change_dated_before_the_last_operation_is_refused(make_ledger):
    ledger = posted(make_ledger(), at=later(5))
    before = state(ledger)
    with pytest.raises(
        LedgerError,
        match=r"is before .*, the latest time this ledger has "
        r"recorded \(order '\w+' posted",
    ):
        ledger.change_policy(LedgerPolicy(freeze_days=1), at=later(4))
    assert state(ledger) == before


def test_each_operation_uses_the_policy_in_force_at_its_own_time(make_ledger):
    ledger = make_ledger(freeze_days=0, freeze_from="received")
    ledger.change_policy(
        LedgerPolicy(freeze_days=2, freeze_from="paid", withdrawal_fee_rate="0.01"), at=later(2)
    )
    ledger.change_policy(
        LedgerPolicy(freeze_days=9, freeze_from="paid", withdrawal_fee_rate="0.02"), at=later(4)
    )
    posted(ledger, order(1), at=later(1))  # under the creation's policy: waits for receipt
    posted(ledger, order(2), at=later(3))  # between the changes: paid at DAY0, 2 days
    assert ledger.policy_at(later(3)).freeze_days == 2
    assert {e.order_id for e in ledger.release(later(3))} == {"o2"}
    ledger.mark_received("o1", later(5))  # the freeze of the policy in force then: 9 days
    assert ledger.release(later(13)) == []
    assert {e.order_id for e in ledger.release(later(14))} == {"o1"}
    assert fees(ledger.withdraw("C", 1000, at=later(14), withdrawal_id="w")) == [20]


# ------------------------------------------------------ F3: the clock never runs back


def test_a_withdrawal_dated_before_the_release_it_needs_is_refused(make_ledger):
    ledger = posted(make_ledger(freeze_days=8, clawback="cap_at_balance"), at=day(1))
    ledger.release(day(9))
    before = state(ledger)
    with pytest.raises(
        LedgerError,
        match=r"at=2026-11-03T12:00:00\+08:00 is before "
        r"2026-11-10T04:00:00\+00:00, the latest time this "
        r"ledger has recorded \(order '\w+' released"
        r".*date the withdrawal at or after",
    ):
        ledger.withdraw("C", 1500, at=day(2), withdrawal_id="w1")
    assert state(ledger) == before
    assert ledger.balance("C", as_of=day(3)) == bal(pending=1500)


def test_a_refund_dated_between_posting_and_release_is_refused(make_ledger):
    ledger = posted(make_ledger(freeze_days=8, clawback="cap_at_balance"), at=day(1))
    ledger.release(day(9))
    ledger.withdraw("C", 1000, at=day(9), withdrawal_id="w1")
    with pytest.raises(
        LedgerError,
        match=r"the latest time this ledger has recorded .*date "
        r"the refund at or after",
    ):
        ledger.refund("o1", at=day(5), refund_id="r1")
    ledger.refund("o1", at=day(10), refund_id="r1")  # dated now, it is capped at the balance
    for moment in (day(5), day(6), day(9), day(10)):
        assert ledger.balance("C", as_of=moment).available >= 0
    assert ledger.balance("C") == bal(available=0, written_off=1000, withdrawn=1000)


def test_goods_received_before_their_order_was_posted_are_refused(make_ledger):
    ledger = posted(make_ledger(freeze_from="received"), at=datetime(2026, 11, 20, tzinfo=UTC))
    before = state(ledger)
    with pytest.raises(
        LedgerError,
        match=r"at=2020-01-01T00:00:00\+00:00 is before order "
        r"'o1' was posted \(2026-11-20T00:00:00\+00:00\)",
    ):
        ledger.mark_received("o1", datetime(2020, 1, 1, tzinfo=UTC))
    assert state(ledger) == before
    assert ledger.release(datetime(2026, 12, 31, tzinfo=UTC)) == []


def test_an_order_paid_after_it_is_posted_is_refused(make_ledger):
    ledger = make_ledger()
    with pytest.raises(
        LedgerError,
        match=r"has paid_at=2026-11-01T12:00:00\+08:00, after "
        r"at=.*; an order is posted once it is paid",
    ):
        posted(ledger, at=DAY0 - timedelta(hours=1))
    assert ledger.entries() == []


OPERATIONS = {  # each dated `when`, on a ledger whose clock stands at day 9
    "post": lambda led, when: posted(led, order(2), at=when),
    "mark_received": lambda led, when: led.mark_received("o1", when),
    "release": lambda led, when: led.release(when),
    "refund": lambda led, when: led.refund("o1", lines={"x": 1}, at=when),
    "withdraw": lambda led, when: led.withdraw("C", 100, at=when, withdrawal_id="w1"),
    "change_policy": lambda led, when: led.change_policy(LedgerPolicy(freeze_days=1), at=when),
}


def _clock_at_day_9(make_ledger):
    ledger = posted(make_ledger(freeze_days=0))
    ledger.release(DAY0)
    posted(ledger, order(3), at=day(9))
    return ledger


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_every_operation_dated_before_the_clock_is_refused_and_changes_nothing(
    make_ledger, operation
):
    ledger = _clock_at_day_9(make_ledger)
    before = state(ledger)
    with pytest.raises(
        LedgerError,
        match=r"is before 2026-11-10T04:00:00\+00:00, the latest "
        r"time this ledger has recorded \(order '\w+' posted.*"
        r"the ledger's clock never runs backwards",
    ):
        operation(ledger, day(9) - timedelta(microseconds=1))
    assert state(ledger) == before


@pytest.mark.parametrize("name", [name for name in OPERATIONS if name != "change_policy"])
def test_every_operation_dated_at_the_clock_is_taken(make_ledger, name):
    ledger = _clock_at_day_9(make_ledger)  # (a change is dated after the creation: above)
    before = state(ledger)
    OPERATIONS[name](ledger, day(9))
    assert state(ledger) != before or name == "mark_received"  # paid: nothing to record


def test_exact_repeats_are_no_ops_at_any_time(make_ledger):
    ledger = posted(make_ledger(freeze_days=0))
    ledger.release(DAY0)
    ledger.refund("o1", lines={"x": 1}, at=day(1), refund_id="r1")
    ledger.withdraw("C", 100, at=day(2), withdrawal_id="w1")
    posted(ledger, order(2), at=day(3))
    before = state(ledger)
    assert ledger.post(ORDER, settle(POLICY, TREE, ORDER), at=DAY0) == []
    assert ledger.refund("o1", lines={"x": 1}, at=day(1), refund_id="r1").repeated
    assert ledger.withdraw("C", 100, at=day(2), withdrawal_id="w1") == []
    assert state(ledger) == before


def test_the_clock_is_read_in_the_write_transaction_by_every_process(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.open(path) as first, Ledger.open(path) as second:
        posted(first, at=day(5))
        with pytest.raises(LedgerError, match="the latest time this ledger has recorded"):
            posted(second, order(2), at=day(4))


def test_concurrent_writers_never_record_an_older_time_after_a_newer_one(tmp_path):
    path = tmp_path / "ledger.db"
    Ledger.open(path).close()
    late, early = "2026-11-02T00:00:00+00:00", "2026-11-01T00:00:00+00:00"
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(path), first, "150", "--slow", "--at", at],
            stdout=subprocess.PIPE,
            text=True,
        )
        for first, at in (("0", late), ("150", early))
    ]  # slow: they overlap
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    counts = [dict(line.split(": ") for line in out.split("\n") if line) for out in outputs]
    assert all(int(c["posted"]) + int(c["refused"]) == 150 for c in counts)
    assert counts[0]["refused"] == "0"
    with sqlite3.connect(path) as db:
        times = [at for (at,) in db.execute("SELECT at FROM tuishou_entries ORDER BY entry_id")]
        posted_orders = db.execute("SELECT COUNT(*) FROM tuishou_orders").fetchone()[0]
    assert times == sorted(times)
    assert posted_orders == 150 + int(counts[1]["posted"])


# A property: any interleaving of operations at random times is refused (nothing changed)
# or keeps every balance, as of every recorded time, within the clawback mode.

STEPS = st.one_of(
    st.tuples(st.just("post"), st.integers(0, 3)),
    st.tuples(st.just("release"), st.just(0)),
    st.tuples(st.just("refund"), st.integers(0, 3), st.sampled_from([None, "x", "y"])),
    st.tuples(st.just("withdraw"), st.sampled_from(["B", "C"]), st.integers(1, 2000)),
    st.tuples(st.just("received"), st.integers(0, 3)),
    st.tuples(st.just("change"), st.integers(0, 3), st.sampled_from(["0", "0.01", "0.5"])),
)


def _run(ledger, step, when, number, chosen):
    kind, *args = step
    if kind == "post":
        posted(ledger, order(args[0]), at=when)
    elif kind == "release":
        ledger.release(when)
    elif kind == "refund":
        lines = None if args[1] is None else {args[1]: 1}
        ledger.refund(f"o{args[0]}", lines=lines, at=when, refund_id=f"r{number}")
    elif kind == "withdraw":
        ledger.withdraw(args[0], args[1], at=when, withdrawal_id=f"w{number}")
    elif kind == "received":
        ledger.mark_received(f"o{args[0]}", when)
    else:
        ledger.change_policy(
            LedgerPolicy(
                **{**dict(chosen), "freeze_days": args[0], "withdrawal_fee_rate": args[1]}
            ),
            at=when,
        )


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    clawback=st.sampled_from(["allow_negative", "cap_at_balance"]),
    freeze_from=st.sampled_from(["paid", "received"]),
    freeze_days=st.integers(0, 3),
    steps=st.lists(st.tuples(STEPS, st.integers(0, 10 * 24)), max_size=14),
)
def test_any_interleaving_at_random_times_keeps_every_past_balance_in_the_clawback_mode(
    clawback, freeze_from, freeze_days, steps
):
    chosen = LedgerPolicy(clawback=clawback, freeze_from=freeze_from, freeze_days=freeze_days)
    with Ledger(chosen) as ledger:
        for number, (step, hours) in enumerate(steps):
            before = state(ledger)
            try:
                _run(ledger, step, later(0) + timedelta(hours=hours), number, chosen)
            except TuishouError:
                assert state(ledger) == before
        entries = ledger.entries()
        assert [e.at for e in entries] == sorted(e.at for e in entries)  # in time order
        for moment in sorted({e.at for e in entries}):
            for member in ("B", "C"):
                balance = ledger.balance(member, as_of=moment)
                assert balance.pending >= 0
                assert balance.withdrawn >= 0
                if clawback == "cap_at_balance":
                    assert balance.available >= 0
                else:
                    assert balance.written_off == 0


# ------------------------------------------------- F6: damaged files are LedgerErrors


def _file(tmp_path):
    """o1 posted and released (C has 1,500 fen available), o2 posted and waiting."""
    path = tmp_path / "ledger.db"
    with Ledger.open(path, policy=LedgerPolicy(freeze_days=0)) as ledger:
        posted(ledger)
        ledger.release(DAY0)
        ledger.withdraw("C", 100, at=DAY0, withdrawal_id="w1")
        posted(ledger, order(2))
    return path


OPEN = lambda led: None  # noqa: E731  (the damage shows when the file is opened)
DAMAGE = {  # what was done to the file with sqlite3: (SQL, the call that reads it, message)
    "no policy": (
        "DELETE FROM tuishou_ledger_policy",
        OPEN,
        r"has an empty tuishou_ledger_policy table .*restore it from a backup",
    ),
    "policy json": (
        "UPDATE tuishou_ledger_policy SET policy_json = '{\"freeze_days\": -1}'",
        OPEN,
        r"table tuishou_ledger_policy, row change_id=1, policy_json='\{\"freeze_days\": "
        r"-1\}' \(invalid ledger policy: .*freeze_days",
    ),
    "policy time": (
        "UPDATE tuishou_ledger_policy SET at = 'soon'",
        OPEN,
        r"table tuishou_ledger_policy, row change_id=1, at='soon'",
    ),
    "entry time": (
        "UPDATE tuishou_entries SET at = 'yesterday'",
        lambda led: led.entries(),
        r"table tuishou_entries, row entry_id=1, at='yesterday' \(Invalid isoformat",
    ),
    "naive due_at": (
        "UPDATE tuishou_orders SET due_at = '2026-11-01T04:00:00' WHERE order_id = 'o2'",
        lambda led: led.release(day(1)),
        r"table tuishou_orders, row order_id='o2', due_at='2026-11-01T04:00:00' "
        r"\(expected a time in UTC as the ledger writes it",
    ),
    "text amount": (
        "UPDATE tuishou_entries SET amount = 'abc' WHERE member_id = 'C'",
        lambda led: led.balance("C"),
        r"table tuishou_entries, row entry_id=\d+, amount='abc' \(expected a whole number",
    ),
    "text amount, withdrawing": (
        "UPDATE tuishou_entries SET amount = 'abc' WHERE bucket = 'available'",
        lambda led: led.withdraw("C", 100, at=day(1), withdrawal_id="w2"),
        r"table tuishou_entries, row entry_id=\d+, amount='abc'",
    ),
    "real amount": (
        "UPDATE tuishou_entries SET amount = 1.5",
        lambda led: led.balance("B"),
        r"table tuishou_entries, row entry_id=\d+, amount=1.5 \(expected a whole number",
    ),
    "bucket": (
        "UPDATE tuishou_entries SET bucket = 'savings'",
        lambda led: led.balance("C"),
        r"table tuishou_entries, row entry_id=1, bucket='savings' \(expected one of pending",
    ),
    "member id": (
        "UPDATE tuishou_entries SET member_id = ''",
        lambda led: led.entries(),
        r"table tuishou_entries, row entry_id=1, member_id='' \(expected non-empty text",
    ),
    "order json": (
        "UPDATE tuishou_orders SET order_json = '{}'",
        lambda led: led.refund("o1", at=day(1)),
        r"table tuishou_orders, row order_id='o1', order_json='\{\}'",
    ),
    "snapshot": (
        "UPDATE tuishou_orders SET snapshot_json = '[]'",
        lambda led: led.refund("o1", at=day(1)),
        r"table tuishou_orders, row order_id='o1', snapshot_json='\[\]' \(expected the "
        r"settlement snapshot",
    ),
    "refunded": (
        "UPDATE tuishou_orders SET refunded_json = '[0]'",
        lambda led: led.refund("o1", at=day(1)),
        r"table tuishou_orders, row order_id='o1', refunded_json=\[0\] \(expected one count",
    ),
    "commission policy": (
        "UPDATE tuishou_policies SET policy_json = 'x'",
        lambda led: led.refund("o1", at=day(1)),
        r"table tuishou_policies, the commission policy of the orders row "
        r"order_id='o1', policy_json='x'",
    ),
    "payout": (
        "UPDATE tuishou_payouts SET amount = 'abc'",
        lambda led: led.payouts("o1"),
        r"table tuishou_payouts, row order_id='o1', member_id='\w', rule='\w+', kind='\w+', "
        r"amount='abc'",
    ),
    "withdrawal time": (  # read when the id comes again
        "UPDATE tuishou_withdrawals SET requested_at = 'later'",
        lambda led: led.withdraw("C", 100, at=day(1), withdrawal_id="w1"),
        r"table tuishou_withdrawals, row withdrawal_id='w1', requested_at='later'",
    ),
    "clock time": (
        "UPDATE tuishou_clock SET at = 'later'",
        lambda led: led.withdraw("C", 100, at=day(1), withdrawal_id="w2"),
        r"table tuishou_clock, row clock_id=1, at='later'",
    ),
    "clock rows": (
        "DELETE FROM tuishou_clock",
        lambda led: led.withdraw("C", 100, at=day(1), withdrawal_id="w2"),
        r"has 0 rows in tuishou_clock",
    ),
    "posted_at": (
        "UPDATE tuishou_orders SET posted_at = 'x' WHERE order_id = 'o1'",
        lambda led: led.refund("o1", at=day(1)),
        r"table tuishou_orders, row order_id='o1', posted_at='x'",
    ),
}


@pytest.mark.parametrize(("damage", "call", "match"), DAMAGE.values(), ids=DAMAGE.keys())
def test_every_damaged_value_is_a_ledger_error_naming_file_table_row_and_value(
    tmp_path, damage, call, match
):
    path = _file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(damage)
    before = path.read_bytes()
    with (
        pytest.raises(
            LedgerError,
            match=rf"the ledger \S*ledger\.db (holds a damaged value: )?"
            rf"{match}",
        ) as caught,
        Ledger.open(path) as ledger,
    ):
        call(ledger)
    assert "was altered outside tuishou: restore it from a backup" in str(caught.value)
    assert path.read_bytes() == before
