"""Policy validation: every refusal names the field and the reason; nothing half-built."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tuishou import InvalidPolicyError, Policy, load_policy

from helpers import policy

TIERS = ["member", "pusher", "mentor"]


def build(**fields):
    return policy(**{"tiers": TIERS, "group_rates": {"xiaomi": "0.05"}, **fields})


def diff_rule(**fields):
    return {"kind": "differential", "rates": {"pusher": "0.5", "mentor": "0.6"}, **fields}


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (
            {"group_rates": {"xiaomi": "1.5"}},
            r"group_rates\.xiaomi: rate='1.5' is outside \[0, 1\]",
        ),
        ({"group_rates": {"xiaomi": "-0.1"}}, r"outside \[0, 1\]"),
        ({"group_rates": {"xiaomi": "0.12345"}}, r"more than 4 decimal places"),
        ({"group_rates": {"xiaomi": "abc"}}, r"'abc' is not a number"),
        ({"group_rates": {"xiaomi": "NaN"}}, r"outside \[0, 1\]"),
        ({"sku_rates": {"gift": True}}, r"sku_rates\.gift: .*bool"),
        ({"tiers": []}, r"tiers: "),
        ({"tiers": ["member", "member"]}, r"tiers: 'member' is listed twice"),
        ({"tiers": [""]}, r"tiers\.0: "),
        (
            {"rules": [{"kind": "seller", "rates": {"mentr": "0.1"}}]},
            r"rules\.0 \(seller\): tier 'mentr' is not in tiers; did you mean 'mentor'\?",
        ),
        ({"rules": [{"kind": "bonus", "rates": {}}]}, r"rules\.0: .*'bonus'"),
        (
            {"rules": [{"kind": "layers", "rates": {"member": ["0.1", "0.05"]}}]},
            r"lists 2 generations but max_generation=1",
        ),
        (
            {"rules": [{"kind": "seller", "rates": {}}, {"kind": "seller", "rates": {}}]},
            r"rules\.1 \(seller\): the name 'seller' is used twice",
        ),
        ({"rules": [diff_rule(peer_max=-1)]}, r"peer_max: "),
        ({"rules": [diff_rule(include_seller="yes")]}, r"include_seller: "),
        ({"max_generation": -1}, r"max_generation: "),
        ({"max_generation": "2"}, r"max_generation: "),
        ({"self_purchase": "true"}, r"self_purchase: "),
        ({"rounding": "half_down"}, r"rounding: "),
        ({"rounding_scope": "unit"}, r"rounding_scope: "),
        ({"colour": "red"}, r"colour: "),
        ({"name": ""}, r"name: "),
        (
            {"rules": [{"kind": "seller", "rates": {"mentor": "0.6"}}, diff_rule()]},
            r"budget: the rules could pay 1.2 of the pool .*seller 0.6, differential 0.6",
        ),
        (
            {"rules": [diff_rule(rates={"mentor": "0.9"}, peer_rate="0.05", peer_max=3)]},
            r"budget: the rules could pay 1.05",
        ),
        (
            {
                "max_generation": 2,
                "rules": [
                    {
                        "kind": "layers",
                        "rates": {"member": ["0.6", "0.1"], "pusher": ["0.3", "0.5"]},
                    }
                ],
            },
            r"budget: the rules could pay 1.1",
        ),
    ],
)
def test_invalid_policy_names_field_and_reason(fields, match):
    with pytest.raises(InvalidPolicyError, match=match):
        build(**fields)


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"group_rates": {"xiaomi": 0.05}}, "group_rates.xiaomi"),
        ({"sku_rates": {"gift": 0.5}}, "sku_rates.gift"),
        ({"rules": [diff_rule(peer_rate=0.05)]}, "rules.0.differential.peer_rate"),
        (
            {"rules": [{"kind": "layers", "rates": {"member": [0.1]}}]},
            "rules.0.layers.rates.member.0",
        ),
    ],
)
def test_float_rates_are_refused_as_type_errors(fields, where):
    with pytest.raises(
        TypeError, match=rf"{where}: rate 0\.\d+ is a float; write rates as strings"
    ):
        build(**fields)
    with pytest.raises(InvalidPolicyError):
        build(**fields)


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidPolicyError) as caught:
        build(
            rules=[
                {"kind": "seller", "rates": {"boss": "0.1"}},
                {"kind": "layers", "rates": {"member": ["0.1", "0.1"]}},
                {"kind": "seller", "rates": {}},
            ]
        )
    problems = caught.value.problems
    assert len(problems) == 3
    assert any("'boss' is not in tiers" in p for p in problems)
    assert any("max_generation=1" in p for p in problems)
    assert any("used twice" in p for p in problems)


def test_budget_exactly_one_is_allowed():
    assert build(
        rules=[
            {"kind": "seller", "rates": {"member": "0.4"}},
            diff_rule(rates={"mentor": "0.55"}, peer_rate="0.025", peer_max=2),
        ]
    ).budget() == Decimal("1")


def test_rules_default_to_their_kind_as_name_and_can_be_named():
    built = build(
        rules=[
            {"kind": "seller", "rates": {}},
            {"kind": "seller", "name": "gift-bonus", "rates": {}},
        ]
    )
    assert [rule.name for rule in built.rules] == ["seller", "gift-bonus"]


def test_rates_accept_strings_decimals_and_ints_and_normalise():
    built = build(group_rates={"a": "0.1000", "b": Decimal("0.25"), "c": 1, "d": 0, "e": " 0.5 "})
    assert dict(built.group_rates) == {
        "a": Decimal("0.1"),
        "b": Decimal("0.25"),
        "c": Decimal(1),
        "d": Decimal(0),
        "e": Decimal("0.5"),
    }


def test_policy_is_frozen_all_the_way_down():
    built = build(rules=[diff_rule()])
    with pytest.raises(Exception, match="frozen"):
        built.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        built.group_rates["xiaomi"] = Decimal("0.9")  # type: ignore[index]
    with pytest.raises(TypeError):
        built.rules[0].rates["mentor"] = Decimal("0.9")  # type: ignore[index]


def test_round_trips_through_json_and_python_dumps():
    built = build(
        sku_rates={"gift": "0.5"},
        max_generation=2,
        rules=[{"kind": "layers", "rates": {"member": ["0.1", "0.05"]}}, diff_rule()],
    )
    assert Policy.model_validate_json(built.model_dump_json()) == built
    assert Policy.model_validate(built.model_dump()) == built
    assert json.loads(built.model_dump_json())["group_rates"] == {"xiaomi": "0.05"}


def test_load_policy_reads_toml_and_json(tmp_path):
    toml_file = tmp_path / "p.toml"
    toml_file.write_text('name = "t"\ntiers = ["member"]\n[group_rates]\nall = "1"\n')
    json_file = tmp_path / "p.json"
    json_file.write_text(load_policy(toml_file).model_dump_json())
    assert load_policy(json_file) == load_policy(toml_file)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        (
            "p.toml",
            'name = "t"\ntiers = ["member"]\n[group_rates]\nall = 0.5\n',
            r"group_rates\.all: rate 0.5 is a float",
        ),
        ("p.toml", "name = ", r"not valid TOML"),
        ("p.json", "{", r"(?i)invalid json"),
        ("p.yaml", "name: t", r"unknown policy format '.yaml'"),
    ],
)
def test_load_policy_refuses_bad_files(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidPolicyError, match=match):
        load_policy(path)


def test_pool_rate_prefers_sku_over_group():
    built = build(group_rates={"eco": "0.2"}, sku_rates={"gift": "0.5"})
    assert built.pool_rate("gift", "eco") == Decimal("0.5")
    assert built.pool_rate("other", "eco") == Decimal("0.2")
    assert built.pool_rate("other", "toys") is None
