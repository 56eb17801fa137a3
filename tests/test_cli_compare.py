"""``tuishou compare``: the totals and by-tier tables, the HTML report, and bad input."""

from __future__ import annotations

import re

import pytest

from cli_support import MEMBERS, ORDERS, POLICY, leftovers, run, scenario
from tuishou import InviteTree, load_policy
from tuishou.analysis.compare import compare


def proposal_file(folder, rate="0.25", name="ecosystem-25"):
    text = POLICY.read_text(encoding="utf-8")
    text = text.replace('ecosystem = "0.20"', f'ecosystem = "{rate}"')
    path = folder / f"{name}.toml"
    path.write_text(text.replace('name = "youpin-tuishou"', f'name = "{name}"'), encoding="utf-8")
    return path


def compare_args(paths, *policies, html=None):
    args = ["compare"]
    for policy in policies:
        args += ["--policy", str(policy)]
    args += ["--members", str(paths["members"]), "--orders", str(paths["orders"])]
    return args + (["--html", str(html)] if html else [])


def cells(out, first):
    """The cells of the table row that starts with ``first``."""
    row = next(line for line in out.splitlines() if re.match(rf"│ {re.escape(first)} ", line))
    return [cell.strip() for cell in row.strip("│").split("│")]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_compare_prints_totals_and_paid_by_tier(tmp_path, capsys, suffix):
    paths = scenario(tmp_path, suffix)
    code, out, err = run(capsys, *compare_args(paths, paths["policy"], proposal_file(tmp_path)))
    assert (code, err) == (0, "")
    # The README's payouts: ¥81.92 in all, pusher D and C ¥44.97 + ¥4.50, under today's policy.
    assert cells(out, "youpin-tuishou") == [
        "youpin-tuishou",
        "¥1,696.99",
        "¥114.85",
        "¥81.92",
        "¥32.93",
        "4.83%",
        "5",
    ]
    assert cells(out, "pusher") == ["pusher", "2", "¥49.47", "¥54.97", "+¥5.50"]
    assert "Deltas are each policy minus the baseline, 'youpin-tuishou'." in out


def test_compare_agrees_with_the_library(tmp_path, capsys):
    paths = scenario(tmp_path)
    proposal = proposal_file(tmp_path, "0.30", "eco-30")
    code, out, _ = run(capsys, *compare_args(paths, paths["policy"], proposal))
    expected = compare(
        {"now": load_policy(paths["policy"]), "eco": load_policy(proposal)},
        InviteTree.from_records(MEMBERS),
        _columns(ORDERS),
    )
    assert code == 0
    for tier, row in expected.by_tier.iterrows():
        assert cells(out, tier)[-1] == f"+¥{row.delta_eco / 100:,.2f}"


def test_three_policies_and_a_wide_table_are_printed_whole(tmp_path, capsys):
    paths = scenario(tmp_path)
    policies = [
        paths["policy"],
        proposal_file(tmp_path, "0.25", "a-much-longer-policy-name"),
        proposal_file(tmp_path, "0.30", "yet-another-long-policy-name"),
    ]
    code, out, _ = run(capsys, *compare_args(paths, *policies))
    assert code == 0
    assert "…" not in out  # piped output is as wide as the tables: nothing cut
    assert cells(out, "senior_advisor")[-2:] == ["+¥1.00", "+¥2.00"]


def test_policies_sharing_a_name_are_labelled_by_file(tmp_path, capsys):
    paths = scenario(tmp_path)
    same_name = proposal_file(tmp_path, "0.25", "youpin-tuishou")
    code, out, _ = run(capsys, *compare_args(paths, paths["policy"], same_name))
    assert code == 0
    assert cells(out, "policy")[0] == "policy"
    assert cells(out, "youpin-tuishou")[3] == "¥89.92"  # the file youpin-tuishou.toml


def test_the_same_file_twice_is_a_usage_error(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, _, err = run(capsys, *compare_args(paths, paths["policy"], paths["policy"]))
    assert code == 2
    assert "the same policy file is given twice" in err


def test_html_report_is_written_whole(tmp_path, capsys):
    paths = scenario(tmp_path)
    html = tmp_path / "report.html"
    code, _, _ = run(
        capsys, *compare_args(paths, paths["policy"], proposal_file(tmp_path), html=html)
    )
    page = html.read_text(encoding="utf-8")
    assert code == 0
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page
    assert "¥81.92" in page
    assert leftovers(tmp_path, "report.html", "ecosystem-25.toml") == []


def test_bad_input_is_refused_with_its_line_and_no_report(tmp_path, capsys):
    orders = [dict(row) for row in ORDERS]
    orders[2]["amount"] = "249.00"
    paths = scenario(tmp_path, orders=orders)
    html = tmp_path / "report.html"
    code, out, err = run(
        capsys, *compare_args(paths, paths["policy"], proposal_file(tmp_path), html=html)
    )
    assert (code, out) == (2, "")
    assert f"{paths['orders']}, line 4: amount='249.00'" in err
    assert not html.exists()
    assert leftovers(tmp_path, "ecosystem-25.toml") == []


def test_a_group_one_policy_lacks_is_named_with_that_policy(tmp_path, capsys):
    paths = scenario(tmp_path)
    narrow = tmp_path / "narrow.toml"
    narrow.write_text(
        POLICY.read_text(encoding="utf-8")
        .replace('third_party = "0.10"', "")
        .replace('name = "youpin-tuishou"', 'name = "narrow"'),
        encoding="utf-8",
    )
    orders = [*ORDERS, {**ORDERS[3], "order_id": "o-1004", "group": "third_party"}]
    paths = scenario(tmp_path, orders=orders)
    code, _, err = run(capsys, *compare_args(paths, paths["policy"], narrow))
    assert code == 2
    assert "line 6" in err
    assert "third_party" in err
    assert "narrow" in err


def _columns(rows):
    return {name: [row[name] for row in rows] for name in rows[0]}
