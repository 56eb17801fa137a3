"""The withdrawal fee (design §4): the rate on the cumulative taxable amount of the fee period
(the calendar month of the request in ``LedgerPolicy.timezone``), a fixed part, a fee-free
allowance per period, ``min_fee``; splitting never pays less; old policies still load."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_support import BACKENDS, DAY0, POLICY, TREE, ledgers, posted
from tuishou import Ledger, LedgerError, LedgerPolicy, Order, OrderLine, settle
from tuishou.errors import ArgumentTypeError, InvalidArgumentError
from tuishou.ledger.fees import month_of

from helpers import examples

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

RATE = "0.01"


@pytest.mark.parametrize(
    ("fields", "amount", "before", "fee"),
    [
        ({}, 1000, 0, 10),  # 1% of 1,000
        ({}, 0, 0, 0),
        ({}, 37, 0, 1),  # 0.37 fen, rounded up
        ({}, 37, 37, 0),  # 0.74 -> 1 fen, of which 1 fen was paid: rate part 0, no fee
        ({"fee_rounding": "half_up"}, 150, 0, 2),  # 1.5 -> 2
        ({"fee_rounding": "half_up"}, 150, 150, 1),  # 3.0 - 2 = 1
        ({"withdrawal_fee_fixed": 50, "min_withdrawal": 50}, 1000, 0, 60),
        ({"withdrawal_fee_fixed": 50, "min_withdrawal": 50}, 1000, 5000, 60),
        ({"fee_free_per_period": 5000}, 3000, 0, 0),  # within the allowance: nothing
        ({"fee_free_per_period": 5000}, 3000, 2000, 0),  # 5,000 exactly: still nothing
        ({"fee_free_per_period": 5000}, 3000, 3000, 10),  # 1,000 above it
        (
            {"fee_free_per_period": 5000, "withdrawal_fee_fixed": 5, "min_withdrawal": 5},
            3000,
            0,
            0,
        ),  # fixed too
        (
            {"fee_free_per_period": 5000, "withdrawal_fee_fixed": 5, "min_withdrawal": 5},
            3000,
            2001,
            6,
        ),
        ({"min_fee": 30, "min_withdrawal": 30}, 1000, 0, 30),  # 10 fen, at least 30
        ({"min_fee": 30, "min_withdrawal": 30}, 5000, 0, 50),
        ({"min_fee": 30, "min_withdrawal": 30, "fee_free_per_period": 100}, 100, 0, 0),
    ],
)
def test_the_fee_rule_examples(fields, amount, before, fee):
    assert LedgerPolicy(withdrawal_fee_rate=RATE, **fields).fee(amount, before=before) == fee


def test_without_the_new_fields_the_fee_is_the_old_one():
    """No fixed part, no allowance, nothing before: the fee of schema-3 ledgers."""
    chosen = LedgerPolicy(withdrawal_fee_rate="0.006", min_fee=3, min_withdrawal=3)
    assert [chosen.fee(n) for n in (3, 37, 500, 501, 9990)] == [3, 3, 3, 4, 60]


@pytest.mark.parametrize(
    ("amount", "before", "error"),
    [(1.5, 0, ArgumentTypeError), (10, -1, InvalidArgumentError), ("10", 0, ArgumentTypeError)],
)
def test_fee_refuses_what_is_not_fen(amount, before, error):
    with pytest.raises(error):
        LedgerPolicy().fee(amount, before=before)


fee_policies = st.builds(
    lambda rate, fixed, free, min_fee, rounding: LedgerPolicy(
        withdrawal_fee_rate=f"{rate / 10_000:.4f}",
        # a rate of 100% leaves no room for a fixed part: that policy is refused when made
        withdrawal_fee_fixed=fixed if rate < 10_000 else 0,
        fee_free_per_period=free,
        min_fee=min_fee,
        min_withdrawal=max(fixed, min_fee, 1),
        fee_rounding=rounding,
    ),
    st.integers(0, 10_000),
    st.integers(0, 200),
    st.integers(0, 50_000),
    st.integers(0, 200),
    st.sampled_from(["up", "half_up"]),
)


@settings(max_examples=examples(300), deadline=None)
@given(
    chosen=fee_policies,
    parts=st.lists(st.integers(0, 10**6), min_size=1, max_size=30),
    before=st.integers(0, 10**6),
)
def test_splitting_never_pays_less_than_one_withdrawal_of_the_total(chosen, parts, before):
    parts = [part + chosen.min_withdrawal for part in parts]  # each a withdrawal allowed
    split, done = 0, before
    for part in parts:
        split += chosen.fee(part, before=done)
        done += part
    assert split >= chosen.fee(sum(parts), before=before)


@settings(max_examples=examples(200), deadline=None)
@given(
    rate=st.integers(0, 10_000),
    rounding=st.sampled_from(["up", "half_up"]),
    parts=st.lists(st.integers(1, 10**6), min_size=1, max_size=30),
)
def test_the_rate_parts_of_a_split_add_up_to_the_rate_part_of_the_total(rate, rounding, parts):
    chosen = LedgerPolicy(withdrawal_fee_rate=f"{rate / 10_000:.4f}", fee_rounding=rounding)
    fees = [chosen.fee(part, before=sum(parts[:n])) for n, part in enumerate(parts)]
    assert sum(fees) == chosen.fee(sum(parts))


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"withdrawal_fee_fixed": 2}, r"withdrawal_fee_fixed=2 is above the smallest withdrawal"),
        ({"min_fee": 5, "min_withdrawal": 4}, r"min_fee=5 is above the smallest withdrawal \(4"),
        ({"max_withdrawal": 99, "min_withdrawal": 100}, r"max_withdrawal=99 is below"),
        ({"max_withdrawal": 0}, r"max_withdrawal"),
        ({"timezone": "Mars/Olympus"}, r"timezone='Mars/Olympus' is not a time zone name"),
        ({"fee_free_per_period": -1}, r"fee_free_per_period"),
    ],
)
def test_invalid_fee_settings_are_refused_with_the_way_out(fields, problem):
    with pytest.raises(LedgerError, match=problem):
        LedgerPolicy(**fields)


def test_every_fee_problem_is_named_at_once():
    with pytest.raises(LedgerError, match="3 problem") as caught:
        LedgerPolicy(withdrawal_fee_fixed=9, min_fee=9, timezone="nowhere")
    assert all(name in str(caught.value) for name in ("fixed", "min_fee", "nowhere"))


OLD_JSON = json.dumps(  # a LedgerPolicy as schema-3 ledgers stored it: no new field
    {
        "freeze_days": 7,
        "freeze_from": "paid",
        "clawback": "allow_negative",
        "min_withdrawal": 100,
        "withdrawal_fee_rate": "0.006",
        "fee_rounding": "up",
        "min_fee": 0,
    }
)


def test_an_old_stored_policy_loads_with_the_new_fields_at_their_defaults(tmp_path):
    path = tmp_path / "ledger.db"
    Ledger.open(path, policy=LedgerPolicy(min_withdrawal=100, withdrawal_fee_rate="0.006")).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE tuishou_ledger_policy SET policy_json = ?", (OLD_JSON,))
    with Ledger.open(path) as ledger:
        chosen = ledger.policy
    assert chosen == LedgerPolicy.model_validate_json(OLD_JSON)
    assert (chosen.max_withdrawal, chosen.withdrawal_fee_fixed, chosen.fee_free_per_period) == (
        None,
        0,
        0,
    )
    assert chosen.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("at", "zone", "start"),
    [
        (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "Asia/Shanghai", "2026-12-01T00:00:00+08:00"),
        (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "UTC", "2026-11-01T00:00:00+00:00"),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), "UTC", "2026-12-01T00:00:00+00:00"),
    ],
)
def test_the_fee_period_is_the_calendar_month_of_the_request_in_the_timezone(at, zone, start):
    begins, ends = month_of(at, zone)
    assert begins.isoformat() == start
    assert begins <= at < ends
    assert (ends - begins) >= timedelta(days=28)


# ----------------------------------------------------------------- in the ledger


def rich(ledger):
    """C has 15,000 fen available from 2026-11-01 (Asia/Shanghai)."""
    order = Order(
        order_id="big",
        sharer_id="C",
        paid_at=DAY0,
        lines=[OrderLine(sku="x", group="g", amount=150_000)],
    )
    ledger.post(order, settle(POLICY, TREE, order), at=DAY0)
    ledger.release(DAY0)
    return ledger


def test_the_allowance_is_per_member_and_per_month(make_ledger):
    ledger = rich(make_ledger(freeze_days=0, withdrawal_fee_rate=RATE, fee_free_per_period=5000))
    nov = datetime(2026, 11, 20, tzinfo=UTC)
    dec = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Shanghai
    fees = [
        ledger.request_withdrawal("C", 4000, at=nov, withdrawal_id="n1").fee,  # free
        ledger.request_withdrawal("C", 2000, at=nov, withdrawal_id="n2").fee,  # 1,000 taxable
        ledger.request_withdrawal("C", 4000, at=dec, withdrawal_id="d1").fee,  # a new month
    ]
    assert fees == [0, 10, 0]


def test_a_rejected_withdrawal_frees_its_allowance(make_ledger):
    ledger = rich(make_ledger(freeze_days=0, withdrawal_fee_rate=RATE, fee_free_per_period=5000))
    at = datetime(2026, 11, 20, tzinfo=UTC)
    assert ledger.request_withdrawal("C", 5000, at=at, withdrawal_id="w1").fee == 0
    assert ledger.request_withdrawal("C", 1000, at=at, withdrawal_id="w2").fee == 10
    ledger.reject_withdrawal("w1", at=at, reason="wrong bank account")
    assert (
        ledger.request_withdrawal("C", 5000, at=at, withdrawal_id="w3").fee == 10
    )  # 6,000 with w2
    ledger.reject_withdrawal("w3", at=at, reason="asked twice")
    ledger.reject_withdrawal("w2", at=at, reason="asked twice")
    assert ledger.request_withdrawal("C", 5000, at=at, withdrawal_id="w4").fee == 0


def test_one_step_and_reviewed_withdrawals_share_the_period(make_ledger):
    ledger = rich(make_ledger(freeze_days=0, withdrawal_fee_rate=RATE, fee_free_per_period=3000))
    at = datetime(2026, 11, 20, tzinfo=UTC)
    made = ledger.withdraw("C", 3000, at=at, withdrawal_id="w1")
    assert [e.reason for e in made] == ["withdrawal", "withdrawal"]  # free: no fee entry
    assert ledger.request_withdrawal("C", 1000, at=at, withdrawal_id="w2").fee == 10
    assert ledger.withdraw("C", 1000, at=at, withdrawal_id="w3")[-1].amount == 10
    assert ledger.withdrawal("w3").fee == 10


def test_a_fee_above_the_amount_is_refused_and_changes_nothing(make_ledger):
    # half of 1 fen rounded up, plus 1 fen fixed: 2 fen on 1 (a rate of 1 with a fixed part
    # is refused when the policy is made: no withdrawal at all could pass)
    ledger = rich(make_ledger(freeze_days=0, withdrawal_fee_rate="0.5", withdrawal_fee_fixed=1))
    at = datetime(2026, 11, 20, tzinfo=UTC)
    before = ledger.balance("C")
    with pytest.raises(LedgerError, match=r"would be 2 fen, more than the amount: withdraw a"):
        ledger.request_withdrawal("C", 1, at=at, withdrawal_id="w1")
    assert ledger.balance("C") == before
    assert ledger.withdrawals() == []


def test_one_step_withdrawals_before_schema_4_count_in_their_period(tmp_path):
    """An upgraded ledger's one-step withdrawals have no row in tuishou_withdrawals: their
    entries count (made here as the upgrade leaves them: the row moved to tuishou_requests)."""
    path = tmp_path / "ledger.db"
    chosen = LedgerPolicy(freeze_days=0, withdrawal_fee_rate=RATE, fee_free_per_period=5000)
    at = datetime(2026, 11, 20, tzinfo=UTC)
    with Ledger.open(path, policy=chosen) as ledger:
        rich(ledger)
        ledger.withdraw("C", 5000, at=at, withdrawal_id="old")
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM tuishou_withdrawals")
        db.execute(
            "INSERT INTO tuishou_requests VALUES ('old', 'withdrawal', 'x', ?)", (at.isoformat(),)
        )
    with Ledger.open(path) as ledger:
        assert ledger.request_withdrawal("C", 1000, at=at, withdrawal_id="new").fee == 10


def test_the_posted_ledger_has_no_fee_surprise(make_ledger):
    """A withdrawal of everything available in one period pays what fee() says."""
    ledger = posted(make_ledger(freeze_days=0, withdrawal_fee_rate=RATE, withdrawal_fee_fixed=1))
    ledger.release(DAY0)
    available = ledger.balance("C").available
    made = ledger.request_withdrawal("C", available, at=DAY0, withdrawal_id="w1")
    assert made.fee == ledger.policy_at(DAY0).fee(available) == available // 100 + 1
