"""``tuishou explain``, ``validate`` and the command line around the commands."""

from __future__ import annotations

import sys

import pytest

from cli_support import MEMBERS, ORDERS, run, scenario
from tuishou import InviteTree, Order, OrderLine, load_policy, settle
from tuishou.cli.main import main


def explain_args(paths, order_id):
    return [
        "explain",
        "--policy",
        str(paths["policy"]),
        "--members",
        str(paths["members"]),
        "--orders",
        str(paths["orders"]),
        order_id,
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_explain_prints_the_orders_account(tmp_path, capsys, suffix):
    paths = scenario(tmp_path, suffix)
    code, out, err = run(capsys, *explain_args(paths, "o-1001"))
    tree = InviteTree.from_records(MEMBERS)
    order = Order(
        order_id="o-1001",
        buyer_id="D",
        lines=[
            OrderLine(sku="earphones", group="ecosystem", amount=19999),
            OrderLine(sku="phone", group="xiaomi", amount=99900),
        ],
    )
    assert (code, err) == (0, "")
    assert out == settle(load_policy(paths["policy"]), tree, order).explain() + "\n"
    assert "Paid ¥71.96 to 4 member(s); the platform retains ¥17.99." in out


def test_explain_keeps_quantities_and_the_sharer(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, out, _ = run(capsys, *explain_args(paths, "o-1002"))
    assert code == 0
    assert out.startswith("Order o-1002 under policy 'youpin-tuishou'")
    assert "Seller: B: the order came through B's share link" in out


def test_explain_an_unknown_order_suggests_the_nearest(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, out, err = run(capsys, *explain_args(paths, "o-1101"))
    assert (code, out) == (2, "")
    assert err == (
        f"tuishou: error: order_id='o-1101' is not in {paths['orders']}; did you "
        "mean 'o-1001' or 'o-1003' or 'o-1002'?\n"
    )


def test_explain_checks_the_whole_file(tmp_path, capsys):
    orders = [dict(row) for row in ORDERS]
    orders[3]["group"] = "toys"
    paths = scenario(tmp_path, orders=orders)
    code, _, err = run(capsys, *explain_args(paths, "o-1001"))
    assert code == 2
    assert "orders.csv, line 5: group='toys' has no pool rate" in err


def validate(capsys, path):
    return run(capsys, "validate", "--policy", str(path))


def test_validate_prints_rates_budget_and_notes(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, out, err = validate(capsys, paths["policy"])
    text = " ".join(out.split())  # the report wraps at the terminal's width
    assert (code, err) == (0, "")
    for expected in [
        f"Policy 'youpin-tuishou' ({paths['policy']}) is valid.",
        "Tiers, lowest first: member < pusher < mentor < senior_advisor",
        "│ ecosystem │ 20% │ 16% │",
        "│ sku gift-pack-398 │ 50% │ 40% │",
        "│ peer bonus │ 5% x 1 │",
        "Budget: at most 80% of an order's pool is paid out (differential 80%).",
        "Generations paid: 3 above the seller (4 member(s) per order at most).",
        "│ senior_advisor │ 75% │ 75% │",
        "- pays 3 generations: check this against 三级分销 rules",
        "- pays the seller on its own purchases (自购省)",
        "- sku 'gift-pack-398' has a pool rate of 50%, above every group rate",
    ]:
        assert expected in text


DEEP = """\
name = "deep"
tiers = ["member", "vip"]
max_generation = 4
compression = true
[group_rates]
all = "1"
[[rules]]
kind = "layers"
rates = { member = ["0.02", "0.01"] }
[[rules]]
kind = "differential"
rates = { vip = "0.05" }
peer_rate = "0.01"
peer_max = 5
include_seller = false
"""


def test_validate_notes_depth_compression_and_far_reaching_peers(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text(DEEP, encoding="utf-8")
    code, out, _ = validate(capsys, path)
    text = " ".join(out.split())
    assert code == 0
    assert (
        "pays 4 generations: check this against 三级分销 rules (the seller and 4 uplines "
        "(more than three) are paid)" in text
    )
    assert "compression is on: suspended uplines are skipped" in text
    assert "peer_max=5 reaches beyond max_generation=4: at most 4 peer bonus(es)" in text
    assert "│ member │ 0% │ 2% │" in text
    assert "│ vip │ 0% │ 5% │" in text


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "float.toml",
            'name = "p"\ntiers = ["m"]\n[group_rates]\nxiaomi = 0.05\n',
            "invalid policy: 1 problem(s)\n  1. group_rates.xiaomi: rate 0.05 is a float; "
            "write rates "
            'as strings, e.g. "0.05"',
        ),
        (
            "tiers.toml",
            'name = "p"\ntiers = ["m", "m"]\n[group_rates]\nx = "0.1"\n[[rules]]\n'
            'kind = "seller"\nrates = { boss = "0.1", m = "0.9" }\n[[rules]]\nkind = "seller"\n'
            'rates = { m = "0.5" }\n',
            "invalid policy: 3 problem(s)\n  1. tiers: 'm' is listed twice\n  2. rules.0 (seller): "
            "tier 'boss' is not in tiers; known: 'm'",
        ),
        ("broken.toml", "name = \n", "not valid TOML: Invalid value (at line 1, column 8)"),
        ("policy.yaml", "name: p\n", "unknown policy format '.yaml'; use .toml or .json"),
    ],
)
def test_validate_refuses_an_invalid_policy_listing_every_problem(
    tmp_path, capsys, name, text, message
):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = validate(capsys, path)
    assert (code, out) == (2, "")
    assert err.startswith(f"tuishou: error: {path}: {message}")


def test_validate_refuses_a_budget_over_one(tmp_path, capsys):
    path = tmp_path / "greedy.json"
    path.write_text(
        '{"name": "g", "tiers": ["m"], "group_rates": {"x": "0.1"}, "rules": ['
        '{"kind": "seller", "rates": {"m": "0.7"}}, {"kind": "differential", '
        '"rates": {"m": "0.5"}}]}'
    )
    code, _, err = validate(capsys, path)
    assert code == 2
    assert (
        "budget: the rules could pay 1.2 of the pool for one order (seller 0.7, "
        "differential 0.5); the total must be at most 1" in err
    )


def test_help_lists_every_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("demo", "explain", "migrate", "settle", "validate"):
        assert f"  {command} " in out


def test_without_the_cli_extra_the_command_says_what_to_install(capsys, monkeypatch):
    from tuishou.cli import main as cli

    monkeypatch.delitem(sys.modules, "tuishou.cli.app", raising=False)
    monkeypatch.setitem(sys.modules, "click", None)  # as if click were not installed
    assert cli.main(["validate", "--policy", "p.toml"]) == 2
    assert capsys.readouterr().err == (
        "tuishou: error: the command line needs click, which is not installed: "
        "pip install 'tuishou[cli]'\n"
    )


@pytest.mark.parametrize(("option", "most"), [("members", 1_000_000), ("orders", 200_000)])
def test_the_demo_refuses_sizes_above_its_maximum_at_once(capsys, monkeypatch, option, most):
    from tuishou.cli import demo

    def refuse(*args, **kwargs):
        raise AssertionError("nothing is generated for a refused size")

    monkeypatch.setattr(demo, "example_tree", refuse)
    for value in (most + 1, 10_000_000_000, 10**40):
        code = main(["demo", f"--{option}", str(value)])
        err = capsys.readouterr().err
        assert code == 2
        assert (
            f"Invalid value for '--{option}': {value:,} is more than the demo's {most:,} "
            f"{option}" in " ".join(err.split())
        )


def test_the_demo_maxima_are_documented(capsys):
    assert main(["demo", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(at most 1,000,000)" in out
    assert "(at most 200,000)" in out
