"""Withdrawal review (提现审核, design §4): requested -> approved -> paid, or rejected; forward
only, dated by the clock, as entries; never paid twice; idempotent by withdrawal id (one
namespace with one-step withdrawals, including those of schema-3 ledgers); every refusal
changes nothing; two processes paying the same withdrawal: one effect."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_support import BACKENDS, DAY0, ORDER, day, ledgers, posted, table_rows
from tuishou import Balance, Ledger, LedgerError, LedgerPolicy, Withdrawal
from tuishou.errors import (
    ArgumentTypeError,
    DuplicateRequestError,
    InsufficientBalanceError,
    InvalidArgumentError,
)

from helpers import examples

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

TABLES = ["tuishou_withdrawals", "tuishou_entries", "tuishou_clock", "tuishou_requests"]
WORKER = Path(__file__).with_name("ledger_review_worker.py")
V2_FILE = Path(__file__).parent / "data" / "ledger_v2.db"


def ready(make, **fields):
    """C has 1,500 fen available (o1 posted and released on DAY0)."""
    ledger = posted(make(freeze_days=0, **fields))
    ledger.release(DAY0)
    return ledger


def snapshot(ledger):
    """The rows a withdrawal writes; the clock without its count of write transactions
    (every transaction takes the write lock, a refused one too)."""
    rows = [table_rows(ledger, table) for table in TABLES]
    rows[2] = [(row[0], *row[2:]) for row in rows[2]]
    return rows


def b(available=0, held=0, payable=0, withdrawn=0, fees=0):
    return Balance(0, available, 0, withdrawn, fees, held, payable)


def test_request_approve_pay_moves_the_money_bucket_by_bucket(make_ledger):
    ledger = ready(make_ledger, withdrawal_fee_rate="0.01")
    w = ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w1")
    assert (w.state, w.fee, w.net, w.requested_at) == ("requested", 10, 990, day(1))
    assert ledger.balance("C") == b(available=500, held=1000)
    w = ledger.approve_withdrawal("w1", at=day(2))
    assert (w.state, w.approved_at) == ("approved", day(2))
    assert ledger.balance("C") == b(available=500, payable=1000)
    w = ledger.pay_withdrawal("w1", at=day(3), transfer_reference="bank-1")
    assert (w.state, w.finished_at, w.transfer_reference) == ("paid", day(3), "bank-1")
    assert ledger.balance("C") == b(available=500, withdrawn=990, fees=10)
    assert ledger.withdrawal("w1") == w
    made = [e for e in ledger.entries("C") if e.request_id == "w1"]
    assert [(e.reason, e.bucket, e.amount, e.at) for e in made] == [
        ("withdrawal_requested", "available", -1000, day(1)),
        ("withdrawal_requested", "held", 1000, day(1)),
        ("withdrawal_approved", "held", -1000, day(2)),
        ("withdrawal_approved", "payable", 1000, day(2)),
        ("withdrawal_paid", "payable", -1000, day(3)),
        ("withdrawal_paid", "withdrawn", 990, day(3)),
        ("fee", "fees", 10, day(3)),
    ]
    assert ledger.balance("C", as_of=day(2)) == b(available=500, payable=1000)


@pytest.mark.parametrize("approved", [False, True], ids=["requested", "approved (bounced)"])
def test_a_rejected_withdrawal_returns_the_amount_with_its_reason(make_ledger, approved):
    ledger = ready(make_ledger, withdrawal_fee_rate="0.01")
    ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w1")
    if approved:
        ledger.approve_withdrawal("w1", at=day(1))
    w = ledger.reject_withdrawal("w1", at=day(2), reason="退回: account closed")
    assert (w.state, w.reason, w.finished_at, w.fee) == (
        "rejected",
        "退回: account closed",
        day(2),
        10,
    )
    assert ledger.balance("C") == b(available=1500)
    last = ledger.entries("C")[-2:]
    source = "payable" if approved else "held"
    assert [(e.reason, e.bucket, e.amount) for e in last] == [
        ("withdrawal_rejected", source, -1000),
        ("withdrawal_rejected", "available", 1000),
    ]


def test_the_held_amount_cannot_be_withdrawn_twice(make_ledger):
    ledger = ready(make_ledger)
    ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w1")
    before = snapshot(ledger)
    with pytest.raises(InsufficientBalanceError, match="has 500 fen available"):
        ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w2")
    with pytest.raises(InsufficientBalanceError, match="has 500 fen available"):
        ledger.withdraw("C", 501, at=day(1), withdrawal_id="w3")
    assert snapshot(ledger) == before


# (what was done first, the refused step, the error, what it says)
APPROVE, PAY, REJECT = (
    lambda led, at: led.approve_withdrawal("w1", at=at),
    lambda led, at: led.pay_withdrawal("w1", at=at, transfer_reference="t1"),
    lambda led, at: led.reject_withdrawal("w1", at=at, reason="no"),
)
REFUSED = {
    "pay before approval": ([], PAY, LedgerError, r"is requested; it can move to approved or "),
    "approve a paid one": (
        [APPROVE, PAY],
        APPROVE,
        LedgerError,
        r"is paid; it can move to "
        r"nothing: it is final, not approved",
    ),
    "reject a paid one": ([APPROVE, PAY], REJECT, LedgerError, r"is paid; .*not rejected"),
    "approve a rejected one": ([REJECT], APPROVE, LedgerError, r"is rejected; .*final"),
    "pay a rejected one": ([APPROVE, REJECT], PAY, LedgerError, r"is rejected; .*not paid"),
    "pay with another reference": (
        [APPROVE, PAY],
        lambda led, at: led.pay_withdrawal("w1", at=at, transfer_reference="t2"),
        DuplicateRequestError,
        r"paid already with transfer_reference='t1', not 't2': it is never paid twice",
    ),
    "reject with another reason": (
        [REJECT],
        lambda led, at: led.reject_withdrawal("w1", at=at, reason="other"),
        DuplicateRequestError,
        r"rejected already with reason='no'",
    ),
    "unknown id": (
        [],
        lambda led, at: led.approve_withdrawal("w9", at=at),
        LedgerError,
        r"no withdrawal has id 'w9'",
    ),
    "before the clock": (
        [],
        lambda led, at: led.approve_withdrawal("w1", at=DAY0),
        LedgerError,
        r"never runs backwards.*withdrawal's approval",
    ),
    "empty reason": (
        [],
        lambda led, at: led.reject_withdrawal("w1", at=at, reason=" "),
        LedgerError,
        r"reason=' ' is empty",
    ),
    "reason not text": (
        [],
        lambda led, at: led.reject_withdrawal("w1", at=at, reason=None),
        ArgumentTypeError,
        r"reason is a NoneType",
    ),
    "bad reference": (
        [APPROVE],
        lambda led, at: led.pay_withdrawal("w1", at=at, transfer_reference=""),
        InvalidArgumentError,
        r"transfer_reference",
    ),
    "naive time": (
        [],
        lambda led, at: led.approve_withdrawal("w1", at=datetime(2026, 12, 1)),
        LedgerError,
        r"no time zone",
    ),
}


@pytest.mark.parametrize(("done", "step", "error", "says"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_moves_name_the_state_and_change_nothing(make_ledger, done, step, error, says):
    ledger = ready(make_ledger, withdrawal_fee_rate="0.01")
    ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w1")
    for earlier in done:
        earlier(ledger, day(2))
    before, balance, record = snapshot(ledger), ledger.balance("C"), ledger.withdrawal("w1")
    with pytest.raises(error, match=says):
        step(ledger, day(3))
    assert snapshot(ledger) == before
    assert (ledger.balance("C"), ledger.withdrawal("w1")) == (balance, record)


@pytest.mark.parametrize(
    "repeat",
    [
        ([], lambda led: led.request_withdrawal("C", 1000, at=day(9), withdrawal_id="w1")),
        ([APPROVE], APPROVE),
        ([APPROVE, PAY], PAY),
        ([REJECT], REJECT),
        (
            [APPROVE, PAY],
            lambda led: led.request_withdrawal("C", 1000, at=DAY0, withdrawal_id="w1"),
        ),
    ],
    ids=["request", "approve", "pay", "reject", "request after paid"],
)
def test_repeating_a_step_is_a_no_op_returning_the_record_at_any_time(make_ledger, repeat):
    done, step = repeat
    ledger = ready(make_ledger, withdrawal_fee_rate="0.01")
    ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w1")
    for earlier in done:
        earlier(ledger, day(2))
    before, record = snapshot(ledger), ledger.withdrawal("w1")
    again = step(ledger) if step.__code__.co_argcount == 1 else step(ledger, DAY0)
    assert again == record
    assert snapshot(ledger) == before


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (
            lambda led: led.request_withdrawal("C", 999, at=day(2), withdrawal_id="w1"),
            r"already used for 1000 fen of member 'C', not 999 fen",
        ),
        (
            lambda led: led.request_withdrawal("B", 1000, at=day(2), withdrawal_id="w1"),
            r"not 1000 fen of member 'B'",
        ),
        (
            lambda led: led.withdraw("C", 1000, at=day(2), withdrawal_id="w1"),
            r"is a reviewed withdrawal, requested: carry it on",
        ),
        (lambda led: led.withdraw("C", 5, at=day(2), withdrawal_id="w1"), r"already used"),
        (
            lambda led: led.refund("o1", at=day(2), refund_id="w1"),
            r"refund id 'w1' was already used for a withdrawal",
        ),
    ],
)
def test_a_used_id_is_refused_for_another_request(make_ledger, call, says):
    ledger = ready(make_ledger)
    ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w1")
    before = snapshot(ledger)
    with pytest.raises(DuplicateRequestError, match=says):
        call(ledger)
    assert snapshot(ledger) == before


def test_one_step_withdraw_is_recorded_paid_in_the_same_namespace(make_ledger):
    ledger = ready(make_ledger, withdrawal_fee_rate="0.01")
    made = ledger.withdraw("C", 1000, at=day(1), withdrawal_id="w1")
    assert [(e.reason, e.bucket, e.amount) for e in made] == [
        ("withdrawal", "available", -1000),
        ("withdrawal", "withdrawn", 990),
        ("fee", "fees", 10),
    ]
    assert ledger.withdrawal("w1") == Withdrawal(
        "w1", "C", 1000, 10, "paid", day(1), day(1), day(1), "w1", None
    )
    assert ledger.withdraw("C", 1000, at=day(1), withdrawal_id="w1") == []
    assert ledger.request_withdrawal("C", 1000, at=day(1), withdrawal_id="w1").state == "paid"
    with pytest.raises(LedgerError, match="is paid; it can move to nothing"):
        ledger.reject_withdrawal("w1", at=day(2), reason="too late")
    assert ledger.balance("C") == b(available=500, withdrawn=990, fees=10)


@pytest.mark.parametrize(
    ("fields", "amount", "error", "says"),
    [
        ({"min_withdrawal": 100}, 99, InsufficientBalanceError, r"below the minimum of 100 fen"),
        ({}, 0, InsufficientBalanceError, r"below the minimum of 1 fen"),
        ({"max_withdrawal": 500}, 501, LedgerError, r"above the maximum of 500 fen"),
        ({}, 1501, InsufficientBalanceError, r"has 1500 fen available"),
    ],
)
@pytest.mark.parametrize("how", ["request", "one step"])
def test_min_max_and_the_balance_bound_every_withdrawal(
    make_ledger, fields, amount, error, says, how
):
    ledger = ready(make_ledger, **fields)
    before = snapshot(ledger)
    chosen = ledger.request_withdrawal if how == "request" else ledger.withdraw
    with pytest.raises(error, match=says):
        chosen("C", amount, at=day(1), withdrawal_id="w1")
    assert snapshot(ledger) == before


def test_every_state_change_moves_the_clock(make_ledger):
    ledger = ready(make_ledger)
    ledger.request_withdrawal("C", 1000, at=day(5), withdrawal_id="w1")
    with pytest.raises(LedgerError, match="never runs backwards"):
        ledger.request_withdrawal("C", 100, at=day(4), withdrawal_id="w2")
    ledger.approve_withdrawal("w1", at=day(6))
    with pytest.raises(LedgerError, match=r"withdrawal id 'w1' approved"):
        ledger.pay_withdrawal("w1", at=day(5), transfer_reference="t1")
    ledger.pay_withdrawal("w1", at=day(7), transfer_reference="t1")
    with pytest.raises(LedgerError, match=r"withdrawal id 'w1' paid"):
        ledger.release(day(6))


def test_withdrawals_lists_by_request_time_and_filters(make_ledger):
    ledger = ready(make_ledger)
    ledger.request_withdrawal("C", 100, at=day(2), withdrawal_id="b")
    ledger.request_withdrawal("C", 100, at=day(2), withdrawal_id="a")
    ledger.request_withdrawal("B", 100, at=day(3), withdrawal_id="c")
    ledger.withdraw("C", 100, at=day(4), withdrawal_id="d")
    ledger.approve_withdrawal("a", at=day(5))
    assert [w.withdrawal_id for w in ledger.withdrawals()] == ["a", "b", "c", "d"]
    assert [w.withdrawal_id for w in ledger.withdrawals(state="requested")] == ["b", "c"]
    assert [w.withdrawal_id for w in ledger.withdrawals(member_id="C", state="paid")] == ["d"]
    assert ledger.withdrawals(member_id="nobody") == []
    with pytest.raises(InvalidArgumentError, match=r"state='done' is not a withdrawal state"):
        ledger.withdrawals(state="done")


def test_an_upgraded_ledgers_old_withdrawal_id_stays_taken(tmp_path):
    path = tmp_path / "ledger_v2.db"
    shutil.copy(V2_FILE, path)
    day10 = datetime(2026, 11, 11, 4, tzinfo=UTC)  # when the v2 file's w1 was carried out
    with Ledger.open(path) as ledger:
        assert ledger.withdraw("C", 1000, at=day10, withdrawal_id="w1") == []  # a retry
        before = snapshot(ledger)
        with pytest.raises(DuplicateRequestError, match=r"'w1' was carried out as a one-step"):
            ledger.request_withdrawal("C", 1000, at=day10, withdrawal_id="w1")
        with pytest.raises(DuplicateRequestError, match=r"'w1' was already used"):
            ledger.request_withdrawal("B", 100, at=day10, withdrawal_id="w1")
        with pytest.raises(DuplicateRequestError, match=r"'r1' was already used \(by a refund"):
            ledger.request_withdrawal("B", 100, at=day10, withdrawal_id="r1")
        with pytest.raises(LedgerError, match=r"no withdrawal has id 'w1'.*before schema 4"):
            ledger.withdrawal("w1")
        assert snapshot(ledger) == before


# ------------------------------------------------------------ random histories

MEMBERS = ["A", "B", "C"]
steps = st.lists(
    st.tuples(
        st.sampled_from(["request", "withdraw", "approve", "pay", "reject"]),
        st.integers(0, 5),  # which withdrawal id
        st.sampled_from(MEMBERS),
        st.integers(0, 1200),  # amount
        st.sampled_from(["t1", "t2"]),  # transfer reference / reason
        st.integers(0, 1),  # days later
    ),
    max_size=25,
)


@pytest.mark.parametrize("make_ledger", ["memory", "sqlite"], indirect=True)
@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(history=steps)
def test_random_histories_keep_states_forward_balances_whole(make_ledger, history):
    ledger = ready(make_ledger, withdrawal_fee_rate="0.01", fee_free_per_period=300)
    released = {m: ledger.balance(m).available for m in MEMBERS}
    states, at = {}, day(1)
    for action, n, member, amount, text, later in history:
        at += timedelta(days=later)
        wid = f"w{n}"
        before = snapshot(ledger)
        try:
            if action == "request":
                ledger.request_withdrawal(member, amount, at=at, withdrawal_id=wid)
            elif action == "withdraw":
                ledger.withdraw(member, amount, at=at, withdrawal_id=wid)
            elif action == "approve":
                ledger.approve_withdrawal(wid, at=at)
            elif action == "pay":
                ledger.pay_withdrawal(wid, at=at, transfer_reference=text)
            else:
                ledger.reject_withdrawal(wid, at=at, reason=text)
        except LedgerError:
            assert snapshot(ledger) == before  # every refusal changes nothing
        for w in ledger.withdrawals():
            old = states.get(w.withdrawal_id)
            assert old in (None, w.state) or w.state in {
                "requested": ("approved", "rejected"),
                "approved": ("paid", "rejected"),
            }.get(old, ()), (old, w.state)
            states[w.withdrawal_id] = w.state
    entries = ledger.entries()
    for w in ledger.withdrawals():  # never paid twice; the record matches its entries
        mine = [e for e in entries if e.request_id == w.withdrawal_id]
        paid = [e for e in mine if e.bucket == "withdrawn"]
        assert len(paid) == (w.state == "paid")
        assert sum(e.amount for e in mine if e.bucket == "fees") == (w.fee if paid else 0)
    for m in MEMBERS:  # conservation: what was released is available, held, payable or out
        got = ledger.balance(m)
        assert got.available + got.held + got.payable + got.withdrawn + got.fees == released[m]
        assert min(got.available, got.held, got.payable) >= 0
        held = sum(w.amount for w in ledger.withdrawals(member_id=m, state="requested"))
        payable = sum(w.amount for w in ledger.withdrawals(member_id=m, state="approved"))
        assert (got.held, got.payable) == (held, payable)


# ------------------------------------------------------------ two processes


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_paying_the_same_withdrawal_pay_it_once(request, tmp_path, backend):
    if backend == "postgresql":
        database = request.getfixturevalue("postgres").new_schema_url()
    else:
        database = str(tmp_path / "ledger.db")
    with Ledger.open(database, policy=LedgerPolicy(freeze_days=0)) as led:
        posted(led, ORDER, DAY0)
        led.release(DAY0)
        led.request_withdrawal("C", 1000, at=DAY0, withdrawal_id="w1")
    start = tmp_path / "start"
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), database, reference, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for reference in ("bank-a", "bank-b")
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(Path(f"{start}.ready.{r}").exists() for r in ("bank-a", "bank-b")):
            assert not [w for w in workers if w.poll() is not None], workers[0].communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        start.touch()
        outputs = [w.communicate(timeout=120) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    results = sorted(out.split()[-1] for out, _ in outputs)
    assert results == ["paid", "refused"], outputs
    with Ledger.open(database) as ledger:
        record = ledger.withdrawal("w1")
        assert record.state == "paid"
        assert ledger.balance("C") == b(available=500, withdrawn=1000)
        made = [e.reason for e in ledger.entries("C") if e.request_id == "w1"]
        assert made.count("withdrawal_approved") == 2  # held -, payable +: approved once
        assert made.count("withdrawal_paid") == 2  # payable -, withdrawn +: paid once
