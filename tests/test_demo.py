"""The demo data, its report, and the ``tuishou`` command line around it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tuishou import InvalidTreeError, settle_many
from tuishou.cli import demo
from tuishou.cli.main import main

SECTIONS = [
    "Overview",
    "Σ payouts + retained = pool, checked on each of the 2,000 orders.",
    "Payouts by tier (the payee's tier at settlement)",
    "Payouts by rule / kind",
    "differential / peer",
    "Top 10 earners",
    "Example order with a peer (平级) bonus:",
]


@pytest.fixture(scope="module")
def small():
    tree = demo.example_tree(size=300)
    return demo.example_policy(), tree, demo.example_orders(tree, count=2000)


def run_demo(capsys, *argv):
    code = main(["demo", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_prints_every_section(capsys):
    code, out, err = run_demo(capsys, "--members", "300", "--orders", "2000")
    assert (code, err) == (0, "")
    assert out.startswith("Policy 'youpin-tuishou': 300 members, 2,000 orders\n")
    for section in SECTIONS:
        assert section in out


def test_demo_is_deterministic(capsys):
    first = run_demo(capsys, "--members", "300", "--orders", "2000")
    assert run_demo(capsys, "--members", "300", "--orders", "2000") == first
    other_seed = run_demo(capsys, "--members", "300", "--orders", "2000", "--seed", "8")
    assert other_seed[1] != first[1]


def test_summary_matches_the_cli(small, capsys):
    assert demo.summary(*small) == run_demo(capsys, "--members", "300", "--orders", "2000")[1]


def test_generated_data_has_the_promised_shape(small):
    policy, tree, orders = small
    tiers = {tree.tier(m) for m in tree}
    assert tiers == set(policy.tiers)
    assert 0 < sum(tree.status(m) == "suspended" for m in tree) < len(tree) // 10
    assert max(tree.depth(m) for m in tree) >= 20
    assert any(o.buyer_id not in tree for o in orders)
    assert any(o.sharer_id is not None for o in orders)
    assert any(line.sku == "gift-pack-398" for o in orders for line in o.lines)
    assert {line.group for o in orders for line in o.lines} == set(policy.group_rates)


def test_conservation_holds_on_every_order(small):
    for s in settle_many(*small):
        assert sum(p.amount for p in s.payouts) + s.retained == s.pool
        assert s.retained >= 0
        assert all(p.amount > 0 for p in s.payouts)


def test_python_dash_m_runs_the_demo():
    done = subprocess.run(
        [sys.executable, "-m", "tuishou", "demo", "--members", "200", "--orders", "500"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "Top 10 earners" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--members", "many"], "'--members': 'many' is not a valid integer"),
        (["demo", "--members", "0"], "'--members': 0 is not in the range x>=1"),
        (["demo", "--orders", "-1"], "'--orders': -1 is not in the range x>=0"),
        (["demo", "--colour"], "No such option '--colour'"),
        ([], "Usage: tuishou [OPTIONS] COMMAND [ARGS]..."),
    ],
)
def test_bad_arguments_exit_with_2(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_library_errors_are_one_line_without_traceback(capsys, monkeypatch):
    def refuse(**_):
        raise InvalidTreeError("size=3: too small")

    monkeypatch.setattr(demo, "example_tree", refuse)
    assert main(["demo"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "tuishou: error: size=3: too small\n")


def test_example_tree_refuses_an_empty_size():
    with pytest.raises(InvalidTreeError, match=r"size=0: an example tree needs at least 1"):
        demo.example_tree(size=0)
