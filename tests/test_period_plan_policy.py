"""The period plan as part of a policy (docs/domain.md §20-§22): its checks, its files, its
compliance flags and what ``tuishou validate`` prints."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cli_support import run
from tuishou import load_policy
from tuishou.analysis.compliance import TEAM_PAY, compliance_flags, compliance_notes
from tuishou.bonuses import PeriodPlan, TeamBonus
from tuishou.cli.demo import example_policy
from tuishou.errors import InvalidPolicyError
from tuishou.rules import Policy

PLAN_TOML = """
[period_plan]
name = "monthly"

[period_plan.team_bonus]
brackets = [
    { from = 1000000, rate = "0.03" },
    { from = 5000000, rate = "0.05" },
    { from = 20000000, rate = "0.08", min_tier = "mentor", min_active_directs = 2 },
]

[period_plan.mentor_bonus]
rates = ["0.10", "0.05"]
min_tier = "mentor"
promotion_rewards = { mentor = 50000 }

[period_plan.tier_keeping]
demote_after = 2
requirements = { pusher = { min_personal_sales = 39600 }, mentor = { min_direct = 3, min_team_sales = 500000 } }
"""  # noqa: E501  (a TOML inline table stays on one line)


def _with_plan(plan: dict) -> dict:
    return {**example_policy().model_dump(mode="json"), "period_plan": plan}


@pytest.fixture
def plan_file(tmp_path):
    from importlib.resources import files

    shipped = files("tuishou").joinpath("data/youpin.toml").read_text(encoding="utf-8")
    path = tmp_path / "plan.toml"
    # the tables of the period plan go before the shipped file's tables: TOML's top level
    head, _, rest = shipped.partition("[group_rates]")
    path.write_text(head + PLAN_TOML + "\n[group_rates]" + rest, encoding="utf-8")
    return path


def test_a_policy_file_carries_its_period_plan(plan_file):
    policy = load_policy(plan_file)
    plan = policy.period_plan
    assert plan is not None
    assert plan.name == "monthly"
    assert [b.start for b in plan.team_bonus.brackets] == [1_000_000, 5_000_000, 20_000_000]
    assert plan.team_bonus.brackets[2].min_tier == "mentor"
    assert plan.mentor_bonus.rates == (Decimal("0.1"), Decimal("0.05"))
    assert plan.tier_keeping.demote_after == 2
    again = Policy.model_validate_json(policy.model_dump_json())
    assert again == policy
    dumped = json.loads(policy.model_dump_json())["period_plan"]["team_bonus"]["brackets"][0]
    assert dumped == {"from": 1000000, "rate": "0.03"}  # as written: from, rate as text


def test_a_policy_without_a_plan_dumps_as_before():
    assert "period_plan" not in example_policy().model_dump()
    assert compliance_flags(example_policy()) == frozenset()
    assert not any("period plan" in note for note in compliance_notes(example_policy()))


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (
            {"team_bonus": {"brackets": [{"from": 1, "rate": "0.05", "min_tier": "mentr"}]}},
            "period_plan.team_bonus.brackets.0.min_tier: tier 'mentr' is not one of the "
            "policy's tiers; did you mean 'mentor'?",
        ),
        (
            {"mentor_bonus": {"rates": ["0.1"]}},
            "mentor_bonus.rates are shares of the team bonus, but the plan has no team_bonus",
        ),
        (
            {
                "team_bonus": {"brackets": [{"from": 1, "rate": "0.05"}]},
                "mentor_bonus": {"promotion_rewards": {"mentor": 100}},
            },
            "promotion_rewards are paid on promotions of the period's tier review, but the "
            "plan has no tier_keeping",
        ),
        (
            {
                "team_bonus": {
                    "brackets": [{"from": 10, "rate": "0.05"}, {"from": 10, "rate": "0.06"}]
                }
            },
            "brackets.1: from 10 is not above bracket 0's 10",
        ),
        (
            {"team_bonus": {"brackets": [{"from": 1, "rate": 0.05}]}},
            'rate 0.05 is a float; write rates as strings, e.g. "0.05"',
        ),
        (
            {"tier_keeping": {"requirements": {"member": {"min_direct": 1}}}},
            "'member' is the lowest tier, which everyone holds; drop its requirements",
        ),
        ({}, "a period plan needs a team_bonus, a mentor_bonus or tier_keeping"),
        (
            {
                "mentor_bonus": {"rates": ["0.1", "0.1", "0.1", "0.1"]},
                "team_bonus": {"brackets": [{"from": 1, "rate": "0.05"}]},
            },
            "mentor_bonus.rates",
        ),
        ({"team_bonus": {"brackets": [{"from": 1, "rate": "0.05"}], "extra": 1}}, "extra"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_problem(plan, expected):
    with pytest.raises(InvalidPolicyError) as caught:
        Policy.model_validate(_with_plan(plan))
    assert expected in str(caught.value)


def test_every_problem_of_a_plan_is_reported_at_once():
    plan = {
        "team_bonus": {
            "brackets": [
                {"from": 5, "rate": "0.05", "min_tier": "x"},
                {"from": 1, "rate": "0.01", "min_tier": "y"},
            ]
        }
    }
    with pytest.raises(InvalidPolicyError) as caught:
        Policy.model_validate(_with_plan(plan))
    text = str(caught.value)
    assert "from 1 is not above" in text
    assert "rate 0.01 is below" in text


def test_the_tiers_a_plan_names_are_checked_against_the_policy():
    plan = {
        "team_bonus": {"brackets": [{"from": 1, "rate": "0.05", "min_tier": "x"}]},
        "tier_keeping": {"requirements": {"y": {"min_direct": 1}}},
    }
    with pytest.raises(InvalidPolicyError) as caught:
        Policy.model_validate(_with_plan(plan))
    assert list(caught.value.problems) == [
        "period_plan.team_bonus.brackets.0.min_tier: tier 'x' is not one of the policy's "
        "tiers; known: 'member', 'mentor', 'pusher', 'senior_advisor'",
        "period_plan.tier_keeping.requirements: tier 'y' is not one of the policy's tiers; "
        "known: 'member', 'mentor', 'pusher', 'senior_advisor'",
    ]


@pytest.mark.parametrize(
    ("plan", "flagged", "notes"),
    [
        ({"team_bonus": {"brackets": [{"from": 1, "rate": "0.05"}]}}, True, ["team bonus"]),
        (
            {
                "team_bonus": {"brackets": [{"from": 1, "rate": "0.05"}]},
                "mentor_bonus": {"rates": ["0.1"]},
            },
            True,
            ["team bonus", "mentor bonus"],
        ),
        ({"tier_keeping": {"demote_after": 2}}, False, []),
    ],
)
def test_team_pay_is_flagged_whenever_a_plan_pays_on_a_team(plan, flagged, notes):
    policy = Policy.model_validate(_with_plan(plan))
    assert (TEAM_PAY in compliance_flags(policy)) is flagged
    found = [note for note in compliance_notes(policy) if "period plan" in note]
    assert len(found) == len(notes)
    for note, what in zip(found, notes, strict=True):
        assert what in note
        assert "团队计酬" in note
        assert "传销" in note


def test_validate_prints_the_plan_and_names_the_team_pay_risk(plan_file, capsys):
    code, out, err = run(capsys, "validate", "--policy", str(plan_file))
    text = " ".join(out.split())
    assert (code, err) == (0, "")
    for expected in [
        "Period plan 'monthly', computed at each period's end:",
        "│ ¥200,000.00 │ 8% │ mentor or higher, 2 active directs │",
        "Mentor bonus (育成奖): 10% / 5% of a mentee's team bonus by generation (uplines at "
        "mentor or higher); promotion rewards: mentor ¥500.00.",
        "Tier keeping (保级): tiers reviewed on each period's figures; promotions on; demoted "
        "after 2 period(s) below the tier's requirements.",
        "团队业绩奖",
        "团队计酬",
    ]:
        assert expected in text, expected


def test_the_shipped_example_policy_has_no_period_plan():
    assert example_policy().period_plan is None


def test_a_plan_alone_is_a_model():
    plan = PeriodPlan(team_bonus=TeamBonus(brackets=[{"from": 1, "rate": "0.01"}]))
    assert plan.pays_team
    assert plan.name == "monthly"
