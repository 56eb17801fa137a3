"""``tuishou ledger tiers`` (the dated tier history) and ``tuishou ledger runs`` (plan runs)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

from cli_support import run
from tuishou.bonuses.results import PlanResult, PromotionReward, TierReview
from tuishou.ledger import Ledger, Period

NOVEMBER = Period.month("2026-11")


def recorded(path):
    """A SQLite ledger with one run of plan "big-team" for November: a reward, a promotion."""
    result = PlanResult(
        "big-team",
        "2026-11",
        None,
        promotion_rewards=(PromotionReward("A", "C", "mentor", 5_000, "C became mentor"),),
        reviews=(
            TierReview("C", "member", "mentor", "mentor", 0, False, "qualifies for mentor"),
            TierReview("D", "mentor", "mentor", "member", 1, False, "1 period below mentor"),
        ),
    )
    with Ledger.open(path) as ledger:
        ledger.close_period(NOVEMBER, at=datetime(2026, 12, 1, tzinfo=UTC))
        ledger.record_plan(result, NOVEMBER, at=datetime(2026, 12, 2, tzinfo=UTC), fingerprint="f1")
    return path


def test_tiers_prints_the_dated_changes(tmp_path, capsys):
    ledger = recorded(tmp_path / "ledger.db")
    code, out, err = run(capsys, "ledger", "tiers", str(ledger))
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split() == [
        "2026-12-02T08:00:00+08:00",
        "C",
        "member",
        "mentor",
        "mentor",
        "big-team",
        "2026-11",
        "qualifies",
        "for",
        "mentor",
    ]
    assert len(out.splitlines()) == 2  # D's miss is no change
    code, out, _ = run(capsys, "ledger", "tiers", str(ledger), "--member", "D")
    assert (code, out.splitlines()[-1]) == (0, "(no tier changes)")


def test_runs_prints_and_writes_the_runs(tmp_path, capsys):
    ledger = recorded(tmp_path / "ledger.db")
    code, out, _ = run(capsys, "ledger", "runs", str(ledger), "--timezone", "UTC")
    assert code == 0
    assert out.splitlines()[1].split() == [
        "big-team",
        "2026-11",
        "2026-12-02T00:00:00+00:00",
        "1",
        "1",
        "¥50.00",
        "1",
        "f1",
    ]
    target = tmp_path / "runs.csv"
    assert run(capsys, "ledger", "runs", str(ledger), "--out", str(target))[0] == 0
    with target.open(encoding="utf-8", newline="") as file:
        (row,) = csv.DictReader(file)
    assert (row["plan"], row["total"], row["changes"], row["fingerprint"]) == (
        "big-team",
        "5000",
        "1",
        "f1",
    )
    code, out, _ = run(capsys, "ledger", "runs", str(ledger), "--plan", "other")
    assert (code, out.splitlines()[-1]) == (0, "(no plan runs)")


def test_a_missing_ledger_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "ledger", "tiers", str(tmp_path / "nothing.db"))
    assert code == 2
    assert "there is no ledger at" in err
    assert not (tmp_path / "nothing.db").exists()
