"""A period plan's result posted to the ledger (ledger.bonus_runs): runs, lines, entries,
reviews, statements, on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_support import BACKENDS, CN, ORDER, POLICY, TREE, ledgers, table_rows
from tuishou import settle
from tuishou.bonuses.models import TeamBonus
from tuishou.bonuses.results import (
    MentorShare,
    PlanResult,
    PromotionReward,
    TeamBonusResult,
    TierReview,
)
from tuishou.errors import ArgumentTypeError, LedgerError, UnknownMemberError
from tuishou.ledger import Period
from tuishou.ledger import bonus_runs as runs
from tuishou.ledger.statement_models import MOVEMENTS

from helpers import examples

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

NOVEMBER = Period.month("2026-11")
DECEMBER = Period.month("2026-12")
JANUARY = Period.month("2027-01")
CLOSED_NOV = datetime(2026, 12, 1, 1, tzinfo=CN)
RUN_NOV = datetime(2026, 12, 1, 2, tzinfo=CN)
CLOSED_DEC = datetime(2027, 1, 1, 1, tzinfo=CN)
RUN_DEC = datetime(2027, 1, 1, 2, tzinfo=CN)
TABLES = ("tuishou_entries", "tuishou_bonus_runs", "tuishou_bonus_lines", "tuishou_tier_reviews")
PLAN = TeamBonus.model_validate(
    {
        "brackets": [
            {"from": 1_000_000, "rate": "0.03"},
            {"from": 5_000_000, "rate": "0.05"},
            {"from": 20_000_000, "rate": "0.08"},
        ]
    }
)


def team_result(period="2026-11", *, gated=False):
    """The worked example (docs/domain.md): A → B, A → C, B → D, as columns. ``gated``: B's
    5% bracket did not apply (a gate), so B is entitled to 0 and falls 300,000 short."""
    ids = ("A", "B", "C", "D")
    b_bracket, b_entitled = (-1, 0) if gated else (1, 450_000)
    b_bonus = max(0, b_entitled - 300_000)
    below_a = b_bonus + 300_000
    columns = {
        "personal": [12_000_000, 3_000_000, 500_000, 6_000_000],
        "team": [21_500_000, 9_000_000, 500_000, 6_000_000],
        "bracket": [2, b_bracket, -1, 1],
        "entitlement": [1_720_000, b_entitled, 0, 300_000],
        "below_paid": [below_a, 300_000, 0, 0],
        "bonus": [1_720_000 - below_a, b_bonus, 0, 300_000],
    }
    return TeamBonusResult(
        PLAN,
        period,
        ("member", "mentor"),
        ids,
        np.array([-1, 0, 0, 1], dtype=np.int64),
        np.zeros(4, dtype=np.int64),
        np.zeros(4, dtype=np.int64),
        **{name: np.array(values, dtype=np.int64) for name, values in columns.items()},
    )


def share(member, mentee, amount):
    return MentorShare(member, mentee, 1, Decimal("0.1"), amount * 10, amount, f"{mentee} grew")


def reward(member, invitee, tier, amount):
    return PromotionReward(member, invitee, tier, amount, f"{invitee} became {tier}")


def review(member, old, new, misses=0, qualified=None):
    return TierReview(member, old, new, qualified or new, misses, False, f"{old} to {new}")


def result(period="2026-11", **fields):
    made = {
        "team": team_result(period),
        "mentor_shares": (share("A", "B", 15_000),),
        "promotion_rewards": (reward("A", "C", "mentor", 5_000),),
        "reviews": (review("C", "member", "mentor"), review("D", "mentor", "mentor", 1, "member")),
    }
    return PlanResult("big-team", period, **{**made, **fields})


def closed(ledger, *periods):
    """Post the example order in November and close the periods."""
    ledger.post(ORDER, settle(POLICY, TREE, ORDER), at=datetime(2026, 11, 2, tzinfo=CN))
    for period, at in zip((NOVEMBER, DECEMBER), (CLOSED_NOV, CLOSED_DEC), strict=False):
        if period in periods:
            ledger.close_period(period, at=at)
    return ledger


def snapshot(ledger):
    return [table_rows(ledger, table) for table in TABLES]


def test_a_run_writes_its_entries_lines_and_reviews(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    run = ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    assert run.totals == {
        "team_bonus": 1_720_000,
        "mentor_share": 15_000,
        "promotion_reward": 5_000,
    }
    assert (run.payouts, run.members, run.total, run.repeated) == (5, 3, 1_740_000, False)
    assert [(c.member_id, c.old, c.new) for c in run.changes] == [("C", "member", "mentor")]
    bonus = [e for e in ledger.entries() if e.reason == "bonus"]
    assert sorted((e.member_id, e.kind, e.amount) for e in bonus) == [
        ("A", "mentor_share", 15_000),
        ("A", "promotion_reward", 5_000),
        ("A", "team_bonus", 1_270_000),
        ("B", "team_bonus", 150_000),
        ("D", "team_bonus", 300_000),
    ]
    assert {(e.bucket, e.rule, e.request_id, e.order_id) for e in bonus} == {
        ("available", "big-team", "big-team/2026-11", None)
    }
    assert {e.at for e in bonus} == {RUN_NOV}
    lines = ledger.bonus_lines("big-team", "2026-11", "A")
    assert [(x.kind, x.source_id, x.amount) for x in lines] == [
        ("mentor_share", "B", 15_000),
        ("promotion_reward", "C:mentor", 5_000),
        ("team_bonus", "", 1_270_000),
    ]
    assert "¥215,000.00" in lines[2].text
    assert "¥12,700.00" in lines[2].text
    assert lines[0].text == "B grew"
    assert ledger.balance("A").available == 1_290_000
    assert [r.period.label for r in ledger.plan_runs()] == ["2026-11"]
    assert ledger.plan_runs("other") == []
    assert runs.last_misses(ledger._store, "big-team") == {"D": 1}
    assert runs.rewarded(ledger._store, "big-team") == {("C", "mentor")}
    latest = ledger._store.latest()
    assert latest is not None
    assert latest[0] == RUN_NOV


def test_a_shortfall_is_a_line_of_zero_and_no_entry(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    gated = PlanResult("big-team", "2026-11", team_result(gated=True))
    ledger.record_plan(gated, NOVEMBER, at=RUN_NOV, fingerprint="f1")
    (line,) = ledger.bonus_lines("big-team", "2026-11", "B")
    assert (line.kind, line.source_id, line.amount) == ("team_bonus", "", 0)
    assert "-¥3,000.00" in line.text
    assert not [e for e in ledger.entries("B") if e.reason == "bonus"]
    assert ledger.balance("A").available == 1_420_000
    text = ledger.explain_bonus("B", NOVEMBER)
    assert text.splitlines()[-1] == "total ¥0.00 to B for 2026-11"


def test_explain_bonus(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    text = ledger.explain_bonus("A", NOVEMBER, "big-team").splitlines()
    assert text[0] == "big-team mentor_share B: B grew"
    assert text[1] == "big-team promotion_reward C:mentor: C became mentor"
    assert text[-1] == "total ¥12,900.00 to A for 2026-11"
    with pytest.raises(UnknownMemberError, match="'Z' has no bonus line"):
        ledger.explain_bonus("Z", NOVEMBER)
    with pytest.raises(LedgerError, match="was not run for period 2026-12"):
        ledger.explain_bonus("A", DECEMBER)


def test_the_statement_shows_the_bonuses_and_the_next_period_opens_with_them(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    before = ledger.statement("A", NOVEMBER)
    assert before.bonuses == 0  # the run is dated after November's close
    mine = ledger.statement("A", DECEMBER)
    mine.check()
    assert mine.bonuses == 1_290_000
    assert mine.bonus_lines == (
        ("big-team", "2026-11", "mentor_share", "B", 15_000),
        ("big-team", "2026-11", "promotion_reward", "C:mentor", 5_000),
        ("big-team", "2026-11", "team_bonus", "", 1_270_000),
    )
    assert mine.closing.available == mine.opening.available + 1_290_000
    text = mine.to_text()
    assert "奖金 bonuses" in text
    assert "育成奖 mentor share" in text
    assert "+¥12,700.00" in text
    assert "C:mentor" in mine.to_html()
    paged = {s.member_id: s for s in ledger.statements(DECEMBER)}
    assert paged["A"].bonus_lines == mine.bonus_lines
    assert paged["D"].bonuses == 300_000
    frame = ledger.statements_frame(DECEMBER)
    assert "bonuses" in MOVEMENTS
    assert int(frame["bonuses"].sum()) == 1_740_000
    close = ledger.close_period(DECEMBER, at=CLOSED_DEC)
    assert close.totals["bonuses"] == 1_740_000
    january = ledger.statement("A", JANUARY)
    assert january.opening.available == mine.closing.available


def test_a_statement_whose_bonus_lines_do_not_add_up_fails_its_check(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    from dataclasses import replace

    mine = ledger.statement("A", DECEMBER)
    with pytest.raises(LedgerError, match="bonus lines do not add up"):
        replace(mine, bonus_lines=mine.bonus_lines[1:]).check()
    with pytest.raises(LedgerError, match="available"):
        replace(mine, bonuses=0, bonus_lines=()).check()


def test_a_withdrawal_takes_bonus_money(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    ledger.withdraw("D", 300_000, at=RUN_NOV + timedelta(hours=1), withdrawal_id="w1")
    assert ledger.balance("D").available == 0
    assert ledger.balance("D").withdrawn == 300_000
    ledger.statement("D", DECEMBER).check()


def test_the_same_run_again_changes_nothing(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    first = ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    before = snapshot(ledger)
    again = ledger.record_plan(result(), NOVEMBER, at=RUN_NOV + timedelta(1), fingerprint="f1")
    assert again.repeated
    assert again.at == first.at
    assert again.totals == first.totals
    assert again.changes == first.changes
    assert snapshot(ledger) == before


def test_another_fingerprint_is_refused_and_changes_nothing(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    before = snapshot(ledger)
    other = result(mentor_shares=())
    with pytest.raises(LedgerError, match="fingerprint f1 recorded, f2 given now"):
        ledger.record_plan(other, NOVEMBER, at=RUN_NOV, fingerprint="f2")
    assert snapshot(ledger) == before
    utc = Period.month("2026-11", timezone="UTC")
    with pytest.raises(LedgerError, match="was run for period 2026-11 with other bounds"):
        ledger.record_plan(result(), utc, at=RUN_NOV, fingerprint="f1")
    assert snapshot(ledger) == before


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("open", "close period 2026-11 first"),
        ("other bounds", "close period 2026-11 first"),
        ("clock", "before .* the latest time"),
        ("label", "the result is for period '2026-12'"),
        ("out of order", "before the end of period 2026-12"),
    ],
)
def test_refused_runs_change_nothing(make_ledger, case, message):
    ledger = closed(make_ledger(), *(() if case == "open" else (NOVEMBER, DECEMBER)))
    period, at, chosen = NOVEMBER, RUN_DEC, result()
    if case == "other bounds":
        period = Period.month("2026-11", timezone="UTC")
    elif case == "clock":
        at = CLOSED_DEC - timedelta(minutes=1)
    elif case == "label":
        chosen = result("2026-12")
    elif case == "out of order":
        ledger.record_plan(result("2026-12"), DECEMBER, at=RUN_DEC, fingerprint="f0")
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match=message):
        ledger.record_plan(chosen, period, at=at, fingerprint="f1")
    assert snapshot(ledger) == before


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"result": "x"}, ArgumentTypeError),
        ({"period": "2026-11"}, ArgumentTypeError),
        ({"at": datetime(2026, 12, 2)}, LedgerError),
        ({"fingerprint": ""}, ArgumentTypeError),
    ],
)
def test_bad_arguments_are_refused(make_ledger, arguments, error):
    ledger = closed(make_ledger(), NOVEMBER)
    given_ = {"result": result(), "period": NOVEMBER, "at": RUN_NOV, "fingerprint": "f1"}
    given_.update(arguments)
    chosen = given_.pop("result")
    with pytest.raises(error):
        ledger.record_plan(chosen, given_.pop("period"), **given_)


def test_tier_history_misses_and_rewards_over_two_runs(make_ledger):
    ledger = closed(make_ledger(), NOVEMBER)
    ledger.record_plan(result(), NOVEMBER, at=RUN_NOV, fingerprint="f1")
    ledger.close_period(DECEMBER, at=CLOSED_DEC)
    december = result(
        "2026-12",
        team=None,
        mentor_shares=(),
        promotion_rewards=(reward("A", "B", "leader", 3_000), reward("B", "D", "leader", 7_000)),
        reviews=(review("D", "mentor", "member", 0), review("E", "mentor", "mentor", 1, "member")),
    )
    ledger.record_plan(december, DECEMBER, at=RUN_DEC + timedelta(hours=1), fingerprint="f2")
    history = ledger.tier_history()
    assert [(x.member_id, x.old, x.new, x.period_id) for x in history] == [
        ("C", "member", "mentor", "2026-11"),
        ("D", "mentor", "member", "2026-12"),
    ]
    assert history[0].at < history[1].at
    assert history[1].plan == "big-team"
    assert [x.member_id for x in ledger.tier_history("D")] == ["D"]
    assert runs.last_misses(ledger._store, "big-team") == {"E": 1}
    assert runs.rewarded(ledger._store, "big-team") == {
        ("B", "leader"),
        ("C", "mentor"),
        ("D", "leader"),
    }
    january = ledger.statement("A", JANUARY)  # only the December run's line
    assert january.bonus_lines == (("big-team", "2026-12", "promotion_reward", "B:leader", 3_000),)
    january.check()
    assert runs.last_misses(ledger._store, "none") == {}
    assert ledger.tier_history("Z") == []


def payouts_strategy():
    member = st.sampled_from(["A", "B", "C", "张三"])
    fen = st.integers(1, 10**9)
    return st.tuples(
        st.lists(st.tuples(member, member, fen), unique_by=lambda x: (x[0], x[1]), max_size=6),
        st.lists(
            st.tuples(member, member, st.sampled_from(["mentor", "leader"]), fen),
            unique_by=lambda x: (x[0], x[1], x[2]),
            max_size=4,
        ),
    )


@settings(
    max_examples=examples(8),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=payouts_strategy(), with_team=st.booleans())
def test_any_recorded_run_adds_up_and_the_next_period_closes(make_ledger, drawn, with_team):
    shares, rewards = drawn
    ledger = closed(make_ledger(), NOVEMBER)
    chosen = PlanResult(
        "p",
        "2026-11",
        team_result() if with_team else None,
        tuple(share(m, s, fen) for m, s, fen in shares),
        tuple(reward(m, i, tier, fen) for m, i, tier, fen in rewards),
    )
    run = ledger.record_plan(chosen, NOVEMBER, at=RUN_NOV, fingerprint="f")
    assert run.total == chosen.total()
    statements = list(ledger.statements(DECEMBER))
    for statement in statements:
        statement.check()
    assert sum(s.bonuses for s in statements) == chosen.total()
    close = ledger.close_period(DECEMBER, at=CLOSED_DEC)
    assert close.totals["bonuses"] == chosen.total()
