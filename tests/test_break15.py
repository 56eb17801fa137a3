"""Adversarial checks of issue 15 (period bonuses, the mentor bonus, tier keeping): each test
here is a defect found by breaking the feature on purpose; docs/domain.md §20-§22."""

from __future__ import annotations

from importlib.resources import files

import pytest

from cli_support import run

BAD_PLAN_TOML = """
[period_plan]
name = "monthly"

[period_plan.team_bonus]
brackets = [
    { from = 5000000, rate = "0.05" },
    { from = 1000000, rate = "0.03" },
    { from = 20000000, rate = "0.08", min_tier = "mentr" },
]

[period_plan.tier_keeping]
demote_after = 2
requirements = { pushr = { min_personal_sales = 39600 } }
"""


@pytest.fixture
def bad_plan_file(tmp_path):
    shipped = files("tuishou").joinpath("data/youpin.toml").read_text(encoding="utf-8")
    head, _, rest = shipped.partition("[group_rates]")
    path = tmp_path / "bad-plan.toml"
    path.write_text(head + BAD_PLAN_TOML + "\n[group_rates]" + rest, encoding="utf-8")
    return path


def test_validate_names_every_problem_of_a_period_plan_at_once(bad_plan_file, capsys):
    # Unsorted brackets (a TeamBonus model check) hide the unknown tiers the same plan
    # names: the user fixes the order, runs validate again, and only then learns of
    # 'mentr' and 'pushr'. Every problem must be named in one run, exit code 2.
    code, _, err = run(capsys, "validate", "--policy", str(bad_plan_file))
    assert code == 2
    assert "from 1000000 is not above" in err
    assert "rate 0.03 is below" in err
    assert "'mentr'" in err
    assert "'pushr'" in err
