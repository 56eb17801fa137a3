"""The batch engine equals the reference settle(), row for row; edge cases; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import (
    FloatRefusedError,
    InvalidOrderError,
    InviteTree,
    Order,
    OrderLine,
    UnknownGroupError,
    UnknownMemberError,
    UnknownTierError,
)
from tuishou.engine.batch import member_totals, settle_batch
from tuishou.money import MAX_ORDER_FEN
from tuishou.orders import order_columns
from tuishou.testing import DEFAULT_GROUPS, invite_trees, order_batches, policies

from helpers import assert_same, ladders, policy, reference_rows, tree_from_text


@st.composite
def batches(draw):
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=15))
    return draw(policies(tiers=tiers)), tree, draw(order_batches(tree, max_size=8))


@settings(max_examples=400, deadline=None)
@given(batches())
def test_settle_batch_equals_settle_row_for_row(batch):
    assert_same(*batch)


# ------------------------------------------------------------------------------ edge cases

YOUPIN = policy(
    tiers=["member", "pusher", "mentor", "senior_advisor"],
    group_rates={"xiaomi": "0.05", "ecosystem": "0.2", "third_party": "0.1"},
    self_purchase=True,
    max_generation=3,
    rules=[
        {
            "kind": "differential",
            "rates": {"pusher": "0.5", "mentor": "0.65", "senior_advisor": "0.75"},
            "peer_rate": "0.05",
            "peer_max": 1,
        }
    ],
)


def line_order(order_id, amount, *, buyer=None, sharer=None, group="ecosystem"):
    return Order(
        order_id=order_id,
        buyer_id=buyer,
        sharer_id=sharer,
        lines=[OrderLine(sku="s", group=group, amount=amount)],
    )


def test_empty_input_gives_empty_tables():
    batch = settle_batch(YOUPIN, tree_from_text("A"), order_columns([]))
    assert (len(batch.payouts), len(batch.orders)) == (0, 0)


def test_guest_orders_root_sellers_and_the_worked_example():
    tree = tree_from_text(
        "Z>A>B>C>D", tiers="Z:senior_advisor A:senior_advisor B:mentor C:pusher D:pusher"
    )
    order_list = [
        Order(
            order_id="A-example",
            buyer_id="D",
            lines=[
                OrderLine(sku="e", group="ecosystem", amount=19999),
                OrderLine(sku="x", group="xiaomi", amount=99900),
            ],
        ),
        line_order("guest", 5000, buyer="stranger"),
        line_order("root-seller", 5000, buyer="Z"),
        line_order("shared", 5000, buyer="stranger", sharer="C"),
    ]
    assert_same(YOUPIN, tree, order_list)
    rows = settle_batch(YOUPIN, tree, order_columns(order_list)).payouts.rows()
    assert [r[1:] for r in rows if r[0] == "A-example"] == [
        ("D", "differential", "differential", 0, 4497),
        ("C", "differential", "peer", 1, 450),
        ("B", "differential", "differential", 2, 1349),
        ("A", "differential", "differential", 3, 900),
    ]


def test_a_ten_thousand_level_chain_with_compression():
    size = 10_000
    ids = [f"m{i}" for i in range(size)]
    statuses = ["suspended" if i % 3 else "active" for i in range(size)]
    tree = InviteTree.from_arrays(
        ids, [None, *ids[:-1]], ["senior_advisor", *["pusher"] * (size - 1)], status=statuses
    )
    compressed = policy(**{**YOUPIN.model_dump(), "compression": True, "max_generation": 20})
    order_list = [line_order(f"o{i}", 10_000 + i, buyer=f"m{i}") for i in range(0, size, 97)]
    assert_same(compressed, tree, order_list)
    assert_same(YOUPIN, tree, order_list)


@pytest.mark.parametrize("amount", [10**9, MAX_ORDER_FEN - 7, MAX_ORDER_FEN])
def test_amounts_up_to_the_largest_order_are_exact(amount):
    tree = tree_from_text("A>B>C", tiers="A:senior_advisor B:mentor C:pusher")
    order_list = [
        line_order("big", amount, buyer="C"),
        Order(
            order_id="many",
            buyer_id="C",
            lines=[
                OrderLine(sku=f"s{i}", group="ecosystem", amount=amount // 3 - i) for i in range(3)
            ],
        ),
        line_order("small", 12345, buyer="C"),
    ]
    for scope in ("order", "line"):
        for rounding in ("largest_remainder", "floor"):
            chosen = policy(
                **{**YOUPIN.model_dump(), "rounding_scope": scope, "rounding": rounding}
            )
            assert_same(chosen, tree, order_list)


def test_pandas_and_arrow_inputs_and_outputs():
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    tree = tree_from_text("A>B>C", tiers="A:senior_advisor B:mentor C:pusher")
    order_list = [line_order(f"o{i}", 1000 * i + 7, buyer="C") for i in range(1, 5)]
    frame = pd.DataFrame(order_columns(order_list))
    frame["buyer_id"] = frame["buyer_id"].astype("category")
    expected = settle_batch(YOUPIN, tree, order_columns(order_list)).payouts.rows()
    assert settle_batch(YOUPIN, tree, frame).payouts.rows() == expected
    table = pa.Table.from_pandas(frame)
    result = settle_batch(YOUPIN, tree, table)
    assert result.payouts.rows() == expected
    assert result.payouts.to_pandas()["amount"].sum() == result.paid
    assert result.payouts.to_arrow().num_rows == len(expected)
    assert result.orders.to_pandas()["pool"].tolist() == [r[2] for r in result.orders.rows()]


def test_integer_order_ids_are_accepted():
    tree = tree_from_text("A>B", tiers="A:mentor B:pusher")
    batch = settle_batch(
        YOUPIN,
        tree,
        {
            "order_id": np.array([7, 7, 3]),
            "buyer_id": ["B", "B", "B"],
            "sku": ["a", "b", "c"],
            "group": ["ecosystem"] * 3,
            "amount": np.array([100, 200, 300]),
        },
    )
    assert [row[0] for row in batch.orders.rows()] == [7, 3]


# ---------------------------------------------------------------------------- bad input

GOOD = {
    "order_id": ["o1", "o2"],
    "buyer_id": ["B", "B"],
    "sku": ["a", "b"],
    "group": ["ecosystem", "ecosystem"],
    "amount": [100, 200],
}


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"amount": None}, InvalidOrderError, r"lack the column\(s\) \['amount'\]"),
        ({"group": None, "sku": None}, InvalidOrderError, r"\['sku', 'group'\]"),
        ({"amount": [1.5, 2.0]}, FloatRefusedError, r"column 'amount' holds floats"),
        ({"amount": np.array([1.0, 2.0])}, TypeError, r"floats cannot hold money exactly"),
        ({"amount": [100, -1]}, InvalidOrderError, r"'amount' must be >= 0: row\(s\) 1"),
        ({"quantity": [1, 0]}, InvalidOrderError, r"'quantity' must be >= 1: row\(s\) 1"),
        (
            {"group": ["ecosystem", "ecosytem"]},
            UnknownGroupError,
            r"'ecosytem' in row\(s\) 1.*did you mean 'ecosystem'",
        ),
        (
            {"sharer_id": [None, "Q"]},
            UnknownMemberError,
            r"'sharer_id' names non-members in "
            r"row\(s\) 1, e.g. 'Q'",
        ),
        (
            {"order_id": ["o1", "o1"], "buyer_id": ["B", "A"]},
            InvalidOrderError,
            r"'buyer_id' differs between lines of one order in row\(s\) 1",
        ),
        ({"order_id": ["o1", None]}, InvalidOrderError, r"'order_id' is empty in row\(s\) 1"),
        ({"sku": ["a", 5]}, InvalidOrderError, r"column 'sku', row 1: 5 is a int"),
    ],
)
def test_bad_input_names_the_column_and_the_rows(change, error, match):
    table = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(error, match=match):
        settle_batch(YOUPIN, tree_from_text("A>B", tiers="A:mentor B:pusher"), table)


def test_a_chain_member_with_a_tier_the_policy_lacks():
    with pytest.raises(UnknownTierError, match=r"member 'A' has tier 'boss'"):
        settle_batch(YOUPIN, tree_from_text("A>B", tiers="A:boss B:pusher"), GOOD)


def test_groups_match_the_strategies():
    assert set(DEFAULT_GROUPS) == set(YOUPIN.group_rates)


@pytest.mark.parametrize("changes", [{}, {"rounding": "floor"}, {"rounding_scope": "line"}])
def test_worked_example_a_in_every_rounding_variant(changes):
    """Example A's per-line variant breaks a tie (D .5 against A .5) by payout order."""
    tree = tree_from_text(
        "Z>A>B>C>D", tiers="Z:senior_advisor A:senior_advisor B:mentor C:pusher D:pusher"
    )
    order = Order(
        order_id="A",
        buyer_id="D",
        lines=[
            OrderLine(sku="e", group="ecosystem", amount=19999),
            OrderLine(sku="x", group="xiaomi", amount=99900),
        ],
    )
    assert_same(policy(**{**YOUPIN.model_dump(), **changes}), tree, [order])


@pytest.mark.parametrize("amount", range(1, 40))
def test_rounding_ties_on_small_amounts(amount):
    tree = tree_from_text("A>B>C>D", tiers="A:senior_advisor B:mentor C:pusher D:pusher")
    order_list = [line_order("o", amount, buyer="D"), line_order("p", amount, buyer="C")]
    for scope in ("order", "line"):
        assert_same(policy(**{**YOUPIN.model_dump(), "rounding_scope": scope}), tree, order_list)


@settings(max_examples=150, deadline=None)
@given(batches())
def test_member_totals_equal_the_payouts_summed_per_member(batch):
    chosen, tree, order_list = batch
    totals: dict[str, int] = {}
    for row in settle_batch(chosen, tree, order_columns(order_list)).payouts.rows():
        totals[row[1]] = totals.get(row[1], 0) + row[5]
    index = {m: i for i, m in enumerate(tree.arrays().ids)}
    expected = sorted(totals.items(), key=lambda item: index[item[0]])
    assert member_totals(chosen, tree, order_columns(order_list)).rows() == expected


@settings(max_examples=150, deadline=None)
@given(batches(), st.randoms(use_true_random=False), st.booleans())
def test_lines_in_any_order_give_each_order_in_order_of_first_appearance(batch, rng, coded):
    """Shuffled lines (an order's lines apart) and categorical ids whose codes do not follow
    the input: the engine regroups them and still returns what settle does."""
    import pandas as pd

    chosen, tree, order_list = batch
    table = pd.DataFrame(order_columns(order_list))
    table = table.iloc[rng.sample(range(len(table)), len(table))].reset_index(drop=True)
    if coded:  # categories sorted descending: codes run against the order of appearance
        table["order_id"] = pd.Categorical(
            table["order_id"], categories=sorted(set(table["order_id"]), reverse=True)
        )
    by_id = {order.order_id: order for order in order_list}
    appearance = [by_id[order_id] for order_id in dict.fromkeys(table["order_id"])]
    payouts, per_order = reference_rows(chosen, tree, appearance)
    found = settle_batch(chosen, tree, table)
    assert found.payouts.rows() == payouts
    assert found.orders.rows() == per_order
