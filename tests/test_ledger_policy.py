"""The ledger's own settings: stored in its database, changed only on the record, bounded,
and a withdrawal fee that splitting cannot avoid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_support import BACKENDS, DAY0, POLICY, TREE, bal, day, later, ledgers, posted
from tuishou import ArgumentTypeError, Ledger, LedgerError, LedgerPolicy, Order, OrderLine, settle
from tuishou.ledger.models import MAX_FREEZE_DAYS
from tuishou.money import MAX_ORDER_FEN

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

STRICT = LedgerPolicy(freeze_days=0, min_withdrawal=100, withdrawal_fee_rate="0.006")


def changed(chosen, **fields):
    return LedgerPolicy(**{**dict(chosen), **fields})


# ------------------------------------------------------------- item 10: stored settings


def test_reopening_without_a_policy_uses_the_stored_one(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.open(path, policy=STRICT) as ledger:
        posted(ledger)
        ledger.release(DAY0)
    with Ledger.open(path) as ledger:
        assert ledger.policy == STRICT
        with pytest.raises(LedgerError, match="below the minimum of 100 fen"):
            ledger.withdraw("C", 99, at=day(1), withdrawal_id="w1")
        assert [
            e.amount
            for e in ledger.withdraw("C", 1000, at=day(1), withdrawal_id="w2")
            if e.reason == "fee"
        ] == [6]


def test_reopening_with_a_different_policy_is_refused_and_changes_nothing(tmp_path):
    path = tmp_path / "ledger.db"
    Ledger.open(path, policy=STRICT).close()
    with pytest.raises(
        LedgerError,
        match=r"keeps a different LedgerPolicy(.|\n)*change_policy"
        r"(.|\n)*min_withdrawal: the ledger keeps 100, given 0",
    ):
        Ledger.open(path, policy=LedgerPolicy())
    with Ledger.open(path, policy=STRICT) as ledger:  # the same one is fine
        assert [change.policy for change in ledger.policy_history()] == [STRICT]


def test_a_policy_changes_only_through_a_recorded_call(tmp_path):
    path = tmp_path / "ledger.db"
    looser = changed(STRICT, min_withdrawal=0)
    with Ledger.open(path, policy=STRICT) as ledger:
        assert ledger.change_policy(looser, at=later(3), note="campaign: no minimum")
        assert not ledger.change_policy(looser, at=later(4))  # already so: nothing recorded
        with pytest.raises(
            LedgerError,
            match=r"is before the last policy change \(.*\); "
            r"changes are recorded in time order",
        ):
            ledger.change_policy(STRICT, at=later(2))
        with pytest.raises(ArgumentTypeError, match="takes a LedgerPolicy"):
            ledger.change_policy({"min_withdrawal": 0}, at=later(5))
    with Ledger.open(path, policy=STRICT) as ledger:  # the change applies from later(3) on
        assert (ledger.policy, ledger.policy_at(later(3))) == (STRICT, looser)
        history = ledger.policy_history()
        assert [(c.policy, c.note) for c in history] == [
            (STRICT, "created"),
            (looser, "campaign: no minimum"),
        ]
        assert history[1].at == later(3)
        assert history[1].at.tzinfo == UTC


def test_a_change_applies_from_then_on_in_every_process(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.open(path, policy=STRICT) as first, Ledger.open(path) as second:
        posted(first)
        first.release(DAY0)
        second.change_policy(changed(STRICT, withdrawal_fee_rate="0.01"), at=later(1))
        fees = [
            e.amount
            for e in first.withdraw("C", 1000, at=later(2), withdrawal_id="w1")
            if e.reason == "fee"
        ]
        assert fees == [10]


def test_an_in_memory_ledger_keeps_its_policy_too(make_ledger):
    assert make_ledger(**dict(STRICT)).policy == STRICT


# ------------------------------------------------------------- item 12: bounded durations


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"freeze_days": 10**10}, r"freeze_days: Input should be less than or equal to 365"),
        ({"freeze_days": MAX_FREEZE_DAYS + 1}, r"less than or equal to 365"),
        ({"min_withdrawal": MAX_ORDER_FEN + 1}, r"min_withdrawal: Input should be less than"),
        (
            {"min_fee": 200, "min_withdrawal": 100},
            r"min_fee=200 is above the smallest withdrawal \(100 fen\)",
        ),
        ({"fee_rounding": "down"}, r"fee_rounding: Input should be 'up' or 'half_up'"),
    ],
)
def test_policies_that_would_break_every_post_or_withdrawal_are_refused(fields, match):
    with pytest.raises(LedgerError, match=match):
        LedgerPolicy(**fields)


def test_the_longest_freeze_still_posts_and_a_due_date_past_9999_is_refused(make_ledger):
    ledger = make_ledger(freeze_days=MAX_FREEZE_DAYS)
    posted(ledger)
    assert ledger.release(day(MAX_FREEZE_DAYS - 1)) == []
    assert len(ledger.release(day(MAX_FREEZE_DAYS))) == 2
    late = datetime(9999, 6, 1, tzinfo=UTC)
    order = Order(order_id="o2", sharer_id="C", lines=[OrderLine(sku="x", group="g", amount=1)])
    with pytest.raises(LedgerError, match="beyond the year 9999"):
        ledger.post(order, settle(POLICY, TREE, order), at=late)
    assert ledger.entries(order_id="o2") == []


# ------------------------------------------------------- item 13: fees cannot be split away


@pytest.mark.parametrize("backend_fields", [{}, {"fee_rounding": "up"}])
def test_270_withdrawals_of_37_fen_pay_at_least_the_fee_of_one_of_9990(make_ledger, backend_fields):
    ledger = make_ledger(freeze_days=0, withdrawal_fee_rate="0.006", **backend_fields)
    order = Order(
        order_id="o1", sharer_id="C", lines=[OrderLine(sku="x", group="g", amount=99_900)]
    )
    ledger.post(order, settle(POLICY, TREE, order), at=DAY0)  # C earns 9,990 fen
    ledger.release(DAY0)
    for n in range(270):
        ledger.withdraw("C", 37, at=day(1), withdrawal_id=f"w{n}")
    single = LedgerPolicy(withdrawal_fee_rate="0.006").fee(9990)
    assert single == 60
    # the rate is charged on the cumulative amount of the fee period: exactly one's fee
    assert ledger.balance("C") == bal(available=0, withdrawn=9990 - single, fees=single)


def test_half_up_is_a_named_choice_and_shows_why_it_is_not_the_default():
    assert LedgerPolicy().fee_rounding == "up"
    assert LedgerPolicy(withdrawal_fee_rate="0.006", fee_rounding="half_up").fee(37) == 0
    with_minimum = LedgerPolicy(
        withdrawal_fee_rate="0.006", fee_rounding="half_up", min_fee=1, min_withdrawal=1
    )
    assert with_minimum.fee(37) == 1
    assert LedgerPolicy(min_fee=50, min_withdrawal=100).fee(100) == 50


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.integers(1, 10**6), min_size=1, max_size=40),
    rate=st.integers(0, 10_000),
    min_fee=st.integers(0, 100),
    rounding=st.sampled_from(["up", "half_up"]),
)
def test_splitting_a_withdrawal_never_lowers_the_fee(parts, rate, min_fee, rounding):
    chosen = LedgerPolicy(
        withdrawal_fee_rate=f"{rate / 10_000:.4f}",
        min_fee=min_fee,
        min_withdrawal=max(min_fee, 1),
        fee_rounding=rounding,
    )
    parts = [part + min_fee for part in parts]  # a withdrawal below the minimum is refused
    split = sum(chosen.fee(part) for part in parts)
    whole = chosen.fee(sum(parts))
    assert all(0 <= chosen.fee(part) <= part for part in parts)  # min_fee <= min_withdrawal
    if rounding == "up":  # the default: n small withdrawals never pay less than one big one
        assert split >= whole
