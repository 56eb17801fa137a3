"""A period plan end to end (docs/domain.md §20-§22): orders posted to a ledger, the month
closed, the plan run from the volume journal (``Ledger.run_plan``) and from the command line
(``tuishou ledger bonus``), on every ledger backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cli_support import run
from ledger_support import BACKENDS, ledgers
from tuishou import Order, OrderLine, settle
from tuishou.errors import LedgerError, UnknownMemberError
from tuishou.ledger import Ledger, Period
from tuishou.rules import Policy
from tuishou.tiers import apply_tier_changes

from helpers import tree_from_text

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

TIERS = ["member", "pusher", "mentor", "senior_advisor"]
BRACKETS = [
    {"from": 1_000_000, "rate": "0.03"},
    {"from": 5_000_000, "rate": "0.05"},
    {"from": 20_000_000, "rate": "0.08"},
]
NOVEMBER = Period.month("2026-11", timezone="Asia/Shanghai")
DECEMBER = Period.month("2026-12", timezone="Asia/Shanghai")
JANUARY = Period.month("2027-01", timezone="Asia/Shanghai")
WORKED = {"A": 12_000_000, "B": 3_000_000, "C": 500_000, "D": 6_000_000}  # fen, issue 15


def _policy(**plan: object) -> Policy:
    return Policy.model_validate(
        {
            "name": "team",
            "tiers": TIERS,
            "group_rates": {"g": "0.1"},
            "rules": [{"kind": "seller", "rates": dict.fromkeys(TIERS, "0.5")}],
            "period_plan": {"name": "monthly", **plan},
        }
    )


TEAM = _policy(team_bonus={"brackets": BRACKETS})


def _sell(ledger: Ledger, policy: Policy, tree, sales: dict[str, int], at: datetime) -> None:
    """One guest order per member, shared by it, for the amount given (its volume)."""
    for member, fen in sales.items():
        order = Order(
            order_id=f"{member}-{at:%Y%m%d%H%M}",
            buyer_id=f"guest-of-{member}",
            sharer_id=member,
            lines=[OrderLine(sku="x", group="g", amount=fen)],
        )
        ledger.post(order, settle(policy, tree, order), at=at)


def _worked_month(ledger: Ledger, policy: Policy = TEAM):
    tree = tree_from_text("A>B>D A>C")
    _sell(ledger, policy, tree, WORKED, datetime(2026, 11, 10, tzinfo=UTC))
    ledger.close_period(NOVEMBER, at=datetime(2026, 12, 1, tzinfo=UTC))
    return tree


def test_the_worked_example_through_the_ledger(make_ledger):
    ledger = make_ledger(freeze_days=0)
    tree = _worked_month(ledger)
    assert ledger.volumes(NOVEMBER).personal == WORKED
    done = ledger.run_plan(TEAM, NOVEMBER, tree, at=datetime(2026, 12, 2, tzinfo=UTC))
    assert done.totals == {"team_bonus": 1_720_000}
    assert not done.repeated
    lines = {x.member_id: x.amount for x in ledger.bonus_lines("monthly", "2026-11")}
    assert lines == {"A": 1_270_000, "B": 150_000, "D": 300_000}
    assert ledger.explain_bonus("A", NOVEMBER).splitlines()[0] == (
        "monthly team_bonus: team volume ¥215,000.00 in 2026-11 → 8% = ¥17,200.00, less B's "
        "team ¥90,000.00 at 5% (¥4,500.00) = ¥12,700.00"
    )
    statement = ledger.statement("A", DECEMBER)
    assert statement.bonuses == 1_270_000
    assert ledger.balance("A").available == statement.closing.available


def test_running_a_month_again_changes_nothing_and_other_inputs_are_refused(make_ledger):
    ledger = make_ledger(freeze_days=0)
    tree = _worked_month(ledger)
    at = datetime(2026, 12, 2, tzinfo=UTC)
    first = ledger.run_plan(TEAM, NOVEMBER, tree, at=at)
    balances = dict(ledger.balances())
    again = ledger.run_plan(TEAM, NOVEMBER, tree, at=datetime(2026, 12, 3, tzinfo=UTC))
    assert again.repeated
    assert again.totals == first.totals
    assert dict(ledger.balances()) == balances
    moved = tree_from_text("A>B>D A>C", tiers="C:pusher")
    with pytest.raises(LedgerError, match="fingerprint"):
        ledger.run_plan(TEAM, NOVEMBER, moved, at=datetime(2026, 12, 3, tzinfo=UTC))
    assert dict(ledger.balances()) == balances


def test_a_month_must_be_closed_and_the_tree_must_hold_every_seller(make_ledger):
    ledger = make_ledger(freeze_days=0)
    tree = tree_from_text("A>B>D A>C")
    _sell(ledger, TEAM, tree, WORKED, datetime(2026, 11, 10, tzinfo=UTC))
    with pytest.raises(LedgerError, match="close"):
        ledger.run_plan(TEAM, NOVEMBER, tree, at=datetime(2026, 12, 2, tzinfo=UTC))
    ledger.close_period(NOVEMBER, at=datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(UnknownMemberError, match="'C', 'D'"):
        ledger.run_plan(TEAM, NOVEMBER, tree_from_text("A>B"), at=datetime(2026, 12, 2, tzinfo=UTC))
    assert ledger.plan_runs() == []
    plain = Policy.model_validate({**TEAM.model_dump(), "period_plan": None})
    with pytest.raises(LedgerError, match="no period_plan"):
        ledger.run_plan(plain, NOVEMBER, tree, at=datetime(2026, 12, 2, tzinfo=UTC))


def test_a_refund_after_the_close_lowers_the_next_month_with_a_reference(make_ledger):
    ledger = make_ledger(freeze_days=0)
    tree = _worked_month(ledger)
    ledger.run_plan(TEAM, NOVEMBER, tree, at=datetime(2026, 12, 2, tzinfo=UTC))
    december_day = datetime(2026, 12, 10, tzinfo=UTC)
    ledger.refund("D-202611100000", at=december_day, refund_id="r-1")
    _sell(ledger, TEAM, tree, {"D": 7_000_000}, december_day)
    volumes = ledger.volumes(DECEMBER)
    assert volumes.personal == {"D": 1_000_000}  # 7,000,000 sold less 6,000,000 refunded
    [adjustment] = volumes.adjustments
    assert (adjustment.order_id, adjustment.amount) == ("D-202611100000", -6_000_000)
    ledger.close_period(DECEMBER, at=datetime(2027, 1, 1, tzinfo=UTC))
    done = ledger.run_plan(TEAM, DECEMBER, tree, at=datetime(2027, 1, 2, tzinfo=UTC))
    # D's, B's and A's teams are all 1,000,000: 3% each, all paid at D
    assert {x.member_id: x.amount for x in ledger.bonus_lines("monthly", "2026-12")} == {
        "D": 30_000
    }
    assert done.total == 30_000
    assert (
        ledger.explain_bonus("D", DECEMBER)
        .splitlines()[0]
        .endswith(
            "; personal volume includes -¥60,000.00 of refunds of orders sold before 2026-12: "
            "D-202611100000 (sold 2026-11-10)"
        )
    )


KEEPING = _policy(
    tier_keeping={"demote_after": 2, "requirements": {"pusher": {"min_personal_sales": 1_000_000}}},
    team_bonus={"brackets": BRACKETS},
    mentor_bonus={"promotion_rewards": {"pusher": 10_000}},
)


def test_tier_keeping_over_three_months_with_its_history(make_ledger):
    ledger = make_ledger(freeze_days=0)
    tree = tree_from_text("A>B", tiers="A:pusher")
    months = [(NOVEMBER, 0), (DECEMBER, 0), (JANUARY, 1_000_000)]
    changes = []
    for period, b_sales in months:
        day = period.start + timedelta(days=9)
        sales = {"B": b_sales} if b_sales else {}
        _sell(ledger, KEEPING, tree, sales, day)
        ledger.close_period(period, at=period.end)
        done = ledger.run_plan(KEEPING, period, tree, at=period.end)
        apply_tier_changes(tree, done.changes)
        changes.append([(c.member_id, c.old, c.new) for c in done.changes])
        assert "promotion_reward" not in done.totals  # A is below pusher when B rises
    # A sold nothing: a miss in November, demoted at the second in December; B qualifies
    # for pusher in January, and its inviter A, a member again, gets no reward
    assert changes == [[], [("A", "pusher", "member")], [("B", "member", "pusher")]]
    history = [(e.member_id, e.old, e.new, e.period_id) for e in ledger.tier_history()]
    assert history == [("A", "pusher", "member", "2026-12"), ("B", "member", "pusher", "2027-01")]


def test_a_promotion_reward_is_paid_once_to_an_inviter_at_the_tier(make_ledger):
    ledger = make_ledger(freeze_days=0)
    tree = tree_from_text("A>B", tiers="A:pusher")
    paid = []
    for period, b_sales in [(NOVEMBER, 1_000_000), (DECEMBER, 0), (JANUARY, 1_000_000)]:
        _sell(
            ledger,
            KEEPING,
            tree,
            {"A": 1_000_000, **({"B": b_sales} if b_sales else {})},
            period.start + timedelta(days=9),
        )
        ledger.close_period(period, at=period.end)
        done = ledger.run_plan(KEEPING, period, tree, at=period.end)
        apply_tier_changes(tree, done.changes)
        paid.append(done.totals.get("promotion_reward", 0))
    # B rises in November (A, a pusher, is rewarded), keeps pusher through one miss in
    # December (K = 2), and meets it again in January: no second reward
    assert paid == [10_000, 0, 0]
    assert [
        (x.member_id, x.source_id)
        for x in ledger.bonus_lines("monthly", "2026-11")
        if x.kind == "promotion_reward"
    ] == [("A", "B:pusher")]


def test_tuishou_ledger_bonus_runs_the_plan_and_writes_the_new_tiers(tmp_path, capsys):
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(KEEPING.model_dump_json(), encoding="utf-8")
    members = tmp_path / "members.csv"
    members.write_text("member_id,inviter_id,tier\nA,,pusher\nB,A,member\n", encoding="utf-8")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,sharer_id,buyer_id,sku,group,amount\no-1,B,g-1,x,g,2000000\n", encoding="utf-8"
    )
    book = str(tmp_path / "book.db")
    assert (
        run(
            capsys,
            "ledger",
            "post",
            book,
            "--policy",
            str(policy_file),
            "--members",
            str(members),
            "--orders",
            str(orders),
            "--at",
            "2026-11-10T10:00:00",
        )[0]
        == 0
    )
    assert (
        run(capsys, "ledger", "close", book, "--month", "2026-11", "--at", "2026-12-01T00:00:00")[0]
        == 0
    )
    out_file = tmp_path / "members-next.csv"
    args = [
        "ledger",
        "bonus",
        book,
        "--policy",
        str(policy_file),
        "--members",
        str(members),
        "--month",
        "2026-11",
        "--at",
        "2026-12-01T09:00:00",
        "--tiers-out",
        str(out_file),
    ]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "plan 'monthly' run for 2026-11" in out
    assert "team_bonus: ¥600.00" in out  # 3% of B's 2,000,000 fen, at B
    assert "B: member -> pusher" in out
    assert "A: pusher -> member" not in out
    assert "团队计酬" in err
    assert "B,A,pusher" in out_file.read_text(encoding="utf-8")
    code, out, err = run(capsys, *args)
    assert code == 0
    assert "was run for 2026-11 before" in out
    assert "nothing changed" in out
    code, out, _ = run(capsys, "ledger", "tiers", book)
    assert code == 0
    assert "pusher" in out


def test_misses_start_again_when_a_tier_was_changed_by_hand(make_ledger):
    from tuishou.ledger import bonus_runs

    ledger = make_ledger(freeze_days=0)
    tree = tree_from_text("A>B", tiers="A:pusher")
    ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    ledger.run_plan(KEEPING, NOVEMBER, tree, at=NOVEMBER.end)
    assert bonus_runs.last_misses(ledger._store, "monthly") == {"A": 1}
    tree.set_tier("A", "mentor")  # granted by hand after November's review
    ledger.close_period(DECEMBER, at=DECEMBER.end)
    december = ledger.run_plan(KEEPING, DECEMBER, tree, at=DECEMBER.end)
    # mentor has no requirements here: A misses it, but for the first time (K = 2)
    assert december.changes == ()
    assert bonus_runs.last_misses(ledger._store, "monthly") == {"A": 1}


def test_a_duplicate_or_huge_amount_is_refused_before_anything_is_written(make_ledger):
    from tuishou.bonuses import PlanResult, PromotionReward

    ledger = make_ledger(freeze_days=0)
    ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    reward = PromotionReward("A", "B", "mentor", 100, "t")
    for bad in [(reward, reward), (PromotionReward("A", "B", "mentor", 2**70, "t"),)]:
        result = PlanResult("p", "2026-11", None, promotion_rewards=bad)
        with pytest.raises(LedgerError):
            ledger.record_plan(result, NOVEMBER, at=NOVEMBER.end, fingerprint="f")
    assert ledger.plan_runs() == []
    assert dict(ledger.balances()) == {}
