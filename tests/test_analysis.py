"""What-if analysis: compare() against hand-worked figures and against settle(), replace()."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from itertools import pairwise

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuishou import (
    ArgumentTypeError,
    FloatRefusedError,
    InvalidArgumentError,
    InvalidPolicyError,
    Order,
    OrderLine,
    settle,
)
from tuishou.analysis.compare import compare, in_yuan, replace
from tuishou.orders import order_columns
from tuishou.testing import invite_trees, order_batches, policies

from helpers import order, policy, tree_from_text

TIERS = ["pusher", "mentor", "senior_advisor"]


@pytest.fixture
def current():
    """Seller 50% of the pool, one 分销 layer at 20%; ecosystem pools 20%, xiaomi 5%."""
    return policy(
        tiers=TIERS,
        self_purchase=True,
        max_generation=1,
        group_rates={"ecosystem": "0.20", "xiaomi": "0.05"},
        rules=[
            {"kind": "seller", "rates": dict.fromkeys(TIERS, "0.5")},
            {"kind": "layers", "rates": {key: ["0.2"] for key in TIERS}},
        ],
    )


@pytest.fixture
def proposal(current):
    return replace(current, group_rates={**current.group_rates, "ecosystem": "0.25"})


@pytest.fixture
def tree():
    return tree_from_text("A>B>C", tiers="A:senior_advisor B:mentor C:pusher")


@pytest.fixture
def hand_worked(current, proposal, tree):
    # o1: C shares ¥100 of ecosystem goods: pool 2000 → C 1000, B 400 (proposal 2500: 1250, 500)
    # o2: B buys ¥200 of xiaomi goods (自购): pool 1000 → B 500, A 200 (the same in both)
    orders = [
        order(("ecosystem", 10000), sharer="C", order_id="o1"),
        order(("xiaomi", 20000), buyer="B", order_id="o2"),
    ]
    return compare({"current": current, "proposal": proposal}, tree, orders)


def test_totals_by_hand(hand_worked):
    totals = hand_worked.totals
    assert totals.index.tolist() == ["current", "proposal"]
    assert totals[["gmv", "pool", "paid", "retained", "members_paid"]].values.tolist() == [
        [30000, 3000, 2100, 900, 3],
        [30000, 3500, 2450, 1050, 3],
    ]
    assert totals.payout_ratio.tolist() == [2100 / 30000, 2450 / 30000]


def test_by_member_by_hand(hand_worked):
    rows = hand_worked.by_member.set_index("member_id")
    assert rows.loc[["A", "B", "C"], ["current", "proposal", "delta_proposal"]].values.tolist() == [
        [200, 200, 0],
        [900, 1000, 100],
        [1000, 1250, 250],
    ]
    assert rows.loc[["A", "B", "C"], ["depth", "team_size"]].values.tolist() == [
        [0, 2],
        [1, 1],
        [2, 0],
    ]
    assert rows.tier.tolist() == ["senior_advisor", "mentor", "pusher"]


def test_by_tier_and_by_rule_by_hand(hand_worked):
    assert hand_worked.by_tier.index.tolist() == TIERS  # lowest first, as the policy lists them
    assert hand_worked.by_tier.values.tolist() == [
        [1, 1000, 1250, 250],
        [1, 900, 1000, 100],
        [1, 200, 200, 0],
    ]
    assert hand_worked.by_rule.to_dict("index") == {
        "seller": {"current": 1500, "proposal": 1750, "delta_proposal": 250},
        "layers": {"current": 600, "proposal": 700, "delta_proposal": 100},
    }


def test_distribution_by_hand(hand_worked):
    # Incomes 200, 900, 1000 of 2100: the top member (1% and 10% of 3 round up to one member)
    # earns 1000; Gini = Σ|xi − xj| / (2 n² mean) = 3200 / 12600.
    row = hand_worked.distribution.loc["current"]
    assert row.top_1pct_share == row.top_10pct_share == pytest.approx(1000 / 2100)
    assert row.gini == pytest.approx(3200 / 12600)


def test_money_columns_are_int_fen(hand_worked):
    for frame in (
        hand_worked.totals,
        hand_worked.by_member,
        hand_worked.by_tier,
        hand_worked.by_rule,
    ):
        for column in frame.attrs["fen_columns"]:
            assert frame[column].dtype.kind == "i", column


def test_in_yuan_formats_the_fen_columns_only(hand_worked):
    shown = in_yuan(hand_worked.totals)
    assert shown.loc["proposal", "paid"] == "¥24.50"
    assert shown.loc["proposal", "members_paid"] == 3
    assert hand_worked.totals.loc["proposal", "paid"] == 2450  # the original is untouched


@pytest.mark.parametrize(
    ("frame", "columns", "message"),
    [
        (pd.DataFrame({"paid": [1]}), None, "pass columns="),
        (pd.DataFrame({"paid": [1]}), ["pay"], "no column 'pay'"),
    ],
)
def test_in_yuan_refuses_unknown_columns(frame, columns, message):
    with pytest.raises(InvalidArgumentError, match=message):
        in_yuan(frame, columns)


def test_columnar_orders_give_the_same_comparison(hand_worked, current, proposal, tree):
    orders = [
        order(("ecosystem", 10000), sharer="C", order_id="o1"),
        order(("xiaomi", 20000), buyer="B", order_id="o2"),
    ]
    columnar = compare(
        {"current": current, "proposal": proposal}, tree, pd.DataFrame(order_columns(orders))
    )
    for name in ("totals", "by_member", "by_tier", "by_rule", "distribution"):
        pd.testing.assert_frame_equal(getattr(columnar, name), getattr(hand_worked, name))


def test_three_policies_measure_every_delta_from_the_first(current, proposal, tree):
    lower = replace(current, group_rates={**current.group_rates, "ecosystem": "0.10"})
    result = compare(
        {"now": current, "up": proposal, "down": lower},
        tree,
        [order(("ecosystem", 10000), sharer="C")],
    )
    assert result.baseline == "now"
    assert result.by_tier.loc["pusher"].tolist() == [1, 1000, 1250, 500, 250, -500]
    assert list(result.by_tier.columns) == [
        "members",
        "now",
        "up",
        "down",
        "delta_up",
        "delta_down",
    ]


def test_nothing_sold_gives_zero_money_and_nan_ratios(current, tree):
    result = compare({"current": current}, tree, [])
    assert result.totals.loc["current", ["gmv", "pool", "paid"]].tolist() == [0, 0, 0]
    assert math.isnan(result.totals.loc["current", "payout_ratio"])
    assert result.distribution.loc["current"].isna().all()


@pytest.mark.parametrize(
    ("policies", "error", "message"),
    [
        ({}, InvalidArgumentError, "at least one policy"),
        ([("current", None)], ArgumentTypeError, "maps a label to a Policy"),
        ({"current": "youpin.toml"}, ArgumentTypeError, r"policies\['current'\] is a str"),
        ({"": "policy"}, ArgumentTypeError, "non-empty str"),
        ({"tier": "policy"}, InvalidArgumentError, "clash"),
        ({"delta_x": "policy"}, InvalidArgumentError, "clash"),
    ],
)
def test_bad_policies_are_refused(policies, error, message, current, tree):
    if isinstance(policies, dict):
        policies = {k: current if v == "policy" else v for k, v in policies.items()}
    with pytest.raises(error, match=message):
        compare(policies, tree, [])


def test_bad_tree_and_orders_are_refused(current, tree):
    with pytest.raises(ArgumentTypeError, match="not an InviteTree"):
        compare({"current": current}, {"A": None}, [])
    with pytest.raises(ArgumentTypeError, match="holding dict items"):
        compare({"current": current}, tree, [{"order_id": "o1"}])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_compare_adds_up_what_settle_pays(data):
    tiers = ("t0", "t1", "t2")
    tree = data.draw(invite_trees(tiers=tiers, max_size=12))
    labelled = {"a": data.draw(policies(tiers=tiers)), "b": data.draw(policies(tiers=tiers))}
    batch = data.draw(order_batches(tree, max_size=4))
    result = compare(labelled, tree, batch)
    members = result.by_member.set_index("member_id")
    for label, chosen in labelled.items():
        expected = dict.fromkeys(tree, 0)
        settlements = [settle(chosen, tree, o) for o in batch]
        for settled in settlements:
            for payout in settled.payouts:
                expected[payout.member_id] += payout.amount
        assert members[label].to_dict() == expected
        paid = sum(s.paid for s in settlements)
        assert result.totals.loc[label, ["pool", "paid", "retained"]].tolist() == [
            sum(s.pool for s in settlements),
            paid,
            sum(s.retained for s in settlements),
        ]
        assert result.by_tier[label].sum() == result.by_rule[label].sum() == paid
    assert (members.delta_b == members.b - members.a).all()


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_gini_matches_the_mean_absolute_difference(incomes):
    records = [
        {"member_id": f"m{i}", "inviter_id": None, "tier": "member"} for i in range(len(incomes))
    ]
    from tuishou import InviteTree

    tree = InviteTree.from_records(records)
    seller = policy(group_rates={"g": "1"}, rules=[{"kind": "seller", "rates": {"member": "1"}}])
    bought = [
        Order(
            order_id=f"o{i}",
            sharer_id=f"m{i}",
            lines=[OrderLine(sku="s", group="g", amount=amount)],
        )
        for i, amount in enumerate(incomes)
    ]
    row = compare({"all": seller}, tree, bought).distribution.loc["all"]
    total, n = sum(incomes), len(incomes)
    if not total:
        assert math.isnan(row.gini)
        return
    pairs = sum(abs(x - y) for x in incomes for y in incomes)
    assert row.gini == pytest.approx(pairs / (2 * n * total), abs=1e-9)
    ranked = sorted(incomes, reverse=True)
    assert row.top_10pct_share == pytest.approx(sum(ranked[: math.ceil(n / 10)]) / total)


def test_plot_is_readable_without_the_code(hand_worked):
    figure = hand_worked.plot()
    spread, tiers = figure.axes
    assert "%" in spread.get_xlabel()
    assert "%" in spread.get_ylabel()
    assert "¥" in tiers.get_ylabel()
    assert [t.get_text() for t in tiers.get_xticklabels()] == TIERS
    legend = [t.get_text() for t in spread.get_legend().get_texts()]
    assert any(text.startswith("current (Gini") for text in legend)
    assert [t.get_text() for t in tiers.get_legend().get_texts()] == ["current", "proposal"]


def test_html_report_is_self_contained_and_escaped(current, tree):
    result = compare({"<b>now</b>": current}, tree, [order(("xiaomi", 20000), buyer="B")])
    page = result.to_html()
    assert "<b>now</b>" not in page
    assert "&lt;b&gt;now&lt;/b&gt;" in page
    assert "data:image/png;base64," in page
    assert "¥10.00" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from elsewhere


def test_replace_validates_the_copy(current):
    assert replace(current, max_generation=2).max_generation == 2
    assert current.max_generation == 1
    with pytest.raises(InvalidPolicyError, match="budget"):
        replace(
            current,
            rules=[*current.rules, {"kind": "seller", "rates": {"pusher": "0.9"}, "name": "extra"}],
        )
    with pytest.raises(FloatRefusedError, match="float"):
        replace(current, group_rates={"ecosystem": 0.25})
    with pytest.raises(InvalidPolicyError, match="did you mean 'group_rates'"):
        replace(current, group_rate={"ecosystem": "0.25"})
    with pytest.raises(ArgumentTypeError, match="takes a Policy"):
        replace({"name": "x"}, name="y")


def test_replace_sweeps_a_rate(current, tree):
    sweep = {
        f"{rate}": replace(current, group_rates={**current.group_rates, "ecosystem": rate})
        for rate in ("0.15", "0.20", "0.25")
    }
    paid = compare(sweep, tree, [order(("ecosystem", 10000), sharer="C")]).totals.paid
    assert list(pairwise(paid.tolist())) == [(1050, 1400), (1400, 1750)]
    assert Decimal(paid.index[0]) == Decimal("0.15")


def test_a_comparison_of_nothing_still_draws_and_reports(current, tree):
    result = compare({"current": current}, tree, [])
    legend = [t.get_text() for t in result.plot().axes[0].get_legend().get_texts()]
    assert "current (nothing paid)" in legend
    tables = re.sub(r"base64,[^\"]*", "", result.to_html())  # the picture's bytes aside
    assert "nan" not in tables.lower()
