"""Integer member ids (issue 16 §2): a member whose text id is ``str(n)`` for an int64 n is
found by n; trees may be built from int columns; int in, int out in the payout tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_support import DAY0, ledgers, table_rows
from tuishou import InvalidOrderError, InviteTree, UnknownMemberError
from tuishou.engine.batch import member_totals, settle_batch
from tuishou.ledger import schema
from tuishou.members.arrays import TreeArrays
from tuishou.orders import order_columns
from tuishou.testing import invite_trees, order_batches, policies

from helpers import examples, ladders, policy

local_ledger = pytest.fixture(params=["memory", "sqlite"])(ledgers)
COMPARED = sorted(set(schema.LEDGER_TABLES) - {"tuishou_ledger_policy", "tuishou_clock"})

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

GUESTS = 10**15  # int guests: far from every member's int


def int_tree(tree):
    """``tree`` relabelled: member i gets id 1000 + 7·i (built from int columns), and the same
    tree with text ids ``str(1000 + 7·i)``; plus the relabelling of the old ids."""
    arrays = tree.arrays()
    size = arrays.size
    ints = 1000 + 7 * np.arange(size, dtype=np.int64)
    inviters = pd.array(
        [None if p == size else int(ints[p]) for p in arrays.parent.tolist()], dtype="Int64"
    )
    tiers = [arrays.tier_names[t] for t in arrays.tier.tolist()]
    status = ["active" if a else "suspended" for a in arrays.active.tolist()]
    from_ints = InviteTree.from_arrays(ints, inviters, tiers, status=status)
    texts = [str(i) for i in ints.tolist()]
    inviter_texts = [None if v is pd.NA else str(v) for v in inviters]
    from_text = InviteTree.from_arrays(texts, inviter_texts, tiers, status=status)
    return from_ints, from_text, dict(zip(arrays.ids, ints.tolist(), strict=True))


def int_column(values, relabel):
    """Member ids as ints: members by the relabelling, guests beyond every member."""
    guests = {}
    return [
        None
        if v is None
        else relabel[v]
        if v in relabel
        else guests.setdefault(v, GUESTS + len(guests))
        for v in values
    ]


INT_CONTAINERS = {
    "list": lambda v: v,
    "Int64": lambda v: pd.Series(v, dtype="Int64"),
    "int64[pyarrow]": lambda v: pd.Series(v, dtype="int64[pyarrow]"),
    "arrow": lambda v: pa.array(v, type=pa.int64()),
    "numpy": lambda v: np.array(v, dtype=np.int64) if None not in v else pa.array(v),
}


@st.composite
def batches(draw):
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=12))
    return draw(policies(tiers=tiers)), tree, draw(order_batches(tree, max_size=6))


def _text_rows(rows):
    return [tuple(str(v) if i == 1 and v is not None else v for i, v in enumerate(r)) for r in rows]


@settings(max_examples=examples(60), deadline=None)
@given(batches(), st.sampled_from(list(INT_CONTAINERS)))
def test_int_ids_pay_what_their_text_pays(batch, container):
    chosen, tree, orders = batch
    from_ints, from_text, relabel = int_tree(tree)
    columns = order_columns(orders)
    if not columns["amount"]:
        return
    ints = {name: int_column(columns[name], relabel) for name in ("buyer_id", "sharer_id")}
    texts = {k: [None if v is None else str(v) for v in ints[k]] for k in ints}
    expected = settle_batch(chosen, from_text, {**columns, **texts})
    int_lines = {**columns, **{k: INT_CONTAINERS[container](v) for k, v in ints.items()}}
    for tree_used in (from_ints, from_text):  # an int column finds text ids as well
        got = settle_batch(chosen, tree_used, int_lines)
        assert _text_rows(got.payouts.rows()) == expected.payouts.rows()
        assert _text_rows(got.orders.rows()) == expected.orders.rows()
        totals = member_totals(chosen, tree_used, int_lines).rows()
        assert [(str(m), a) for m, a in totals] == member_totals(
            chosen, from_text, {**columns, **texts}
        ).rows()


# ------------------------------------------------------------------ the canonical form

CANONICAL = [
    ("10086", 10086),
    ("0", 0),
    ("-7", -7),
    ("9223372036854775807", 2**63 - 1),
    ("-9223372036854775808", -(2**63)),
    ("+7", None),
    ("007", None),
    ("-0", None),
    ("9223372036854775808", None),
    ("-9223372036854775809", None),
    ("1e3", None),
    ("12a", None),
    ("七", None),
]


@pytest.mark.parametrize(("member", "key"), CANONICAL)
def test_a_member_is_found_by_an_int_only_when_its_id_is_that_ints_canonical_text(member, key):
    arrays = TreeArrays.build({"root": None, member: "root"}, {"root": "m", member: "m"}, set())
    keys, members = arrays.int_keys
    assert keys.tolist() == ([] if key is None else [key])
    assert members.tolist() == ([] if key is None else [1])
    if key is not None:
        assert arrays.lookup(np.array([key, 5], dtype=np.int64)).tolist() == [1, -1]


def test_a_tree_from_int_columns_has_text_ids_and_int_keys():
    tree = InviteTree.from_arrays(
        np.array([30, 10, 20]), pd.Series([None, 30, 10], dtype="Int64"), ["m", "m", "m"]
    )
    assert tree.arrays().ids == ["30", "10", "20"]
    assert tree.upline("20") == ["10", "30"]
    assert tree.arrays().member_ints.tolist() == [30, 10, 20]
    arrow = InviteTree.from_arrays(pa.array([1, 2]), pa.array([None, 1]), ["m", "m"])
    assert arrow.upline("2") == ["1"]
    listed = InviteTree.from_arrays(np.array([1, 2]), [None, 1], ["m", "m"])
    assert listed.upline("2") == ["1"]


# ------------------------------------------------------------------ mixed and refused

TREE = InviteTree.from_arrays(np.array([1, 2, 3]), [None, 1, 2], ["member"] * 3)
TEXT_TREE = InviteTree.from_arrays(["1", "2", "3", "B"], [None, "1", "2", "1"], ["member"] * 4)
POLICY = policy(group_rates={"g": "0.1"}, rules=[{"kind": "seller", "rates": {"member": "1"}}])
LINES = {
    "order_id": [10, 10, 11, 12],
    "buyer_id": pd.Series([3, 3, 77, None], dtype="Int64"),  # 77: no member, a guest
    "sharer_id": pd.Series([None, None, 2, None], dtype="Int64"),
    "sku": ["s"] * 4,
    "group": ["g"] * 4,
    "amount": [100, 200, 300, 400],
}


def test_int_in_int_out():
    result = settle_batch(POLICY, TREE, LINES)
    assert result.payouts.rows() == [
        (10, 2, "seller", "seller", 0, 30),
        (11, 2, "seller", "seller", 0, 30),
    ]
    assert result.orders.rows()[-1] == (12, None, 40, 0, 40)
    payouts = result.payouts.to_pandas()
    assert payouts.member_id.dtype == np.int64
    assert result.payouts.to_arrow().schema.field("member_id").type == pa.int64()
    sellers = result.orders.to_pandas().seller_id
    assert sellers.isna().tolist() == [False, False, True]  # nullable int64: no seller
    assert sellers.dtype == pd.ArrowDtype(pa.int64())
    assert sellers[:2].tolist() == [2, 2]
    assert result.orders.to_arrow().column("seller_id").to_pylist() == [2, 2, None]
    assert member_totals(POLICY, TREE, LINES).to_pandas().member_id.tolist() == [2]


def test_a_tree_with_text_ids_finds_int_buyers_and_answers_in_text():
    result = settle_batch(POLICY, TEXT_TREE, LINES)  # 'B' is no int: member ids stay text
    assert [row[1] for row in result.payouts.rows()] == ["2", "2"]


def test_an_int_sharer_who_is_no_member_is_refused_by_its_int():
    lines = {**LINES, "sharer_id": np.array([5, 5, 2, 2])}
    with pytest.raises(UnknownMemberError, match=r"names non-members in row\(s\) 0, 1, e.g. 5;"):
        settle_batch(POLICY, TREE, lines)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (np.array([True, True, False, False]), "True is a bool; member ids are text or ints, not"),
        (pd.Series([True, True, None, None], dtype="boolean"), "is a bool"),
        ([3, 3, "B", "B"], "3 is a int; member ids are text or ints, one or the other"),
        (
            pd.Series([2**63, 2**63, 1, 1], dtype="UInt64"),
            "buyer_id=9223372036854775808 is beyond int64",
        ),
        ([2**64, 2**64, 1, 1], "buyer_id=18446744073709551616 is beyond int64"),
        (np.array([1.0, 1.0, 2.0, 2.0]), "is a float"),
    ],
)
def test_bad_int_buyer_columns_are_refused(column, message):
    with pytest.raises(InvalidOrderError, match=message.replace("(", r"\(")):
        settle_batch(POLICY, TREE, {**LINES, "buyer_id": column})


def test_post_batch_keeps_int_ids_as_their_text(local_ledger):
    texts = {
        **LINES,
        "order_id": ["10", "10", "11", "12"],
        "buyer_id": ["3", "3", "77", None],
        "sharer_id": [None, None, "2", None],
    }
    int_lines = {**LINES, "order_id": texts["order_id"]}  # the ledger keys orders by text
    states = []
    for lines in (texts, int_lines):
        ledger = local_ledger(freeze_days=0)
        assert ledger.post_batch(POLICY, TREE, lines, at=DAY0).orders_posted == 3
        states.append({name: table_rows(ledger, name) for name in COMPARED})
    assert states[0] == states[1]
    assert any("2" in map(str, row) for row in states[1]["tuishou_entries"])


def test_the_dask_path_takes_int_ids():
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.dask import settle_dask

    frame = pd.DataFrame(LINES)
    payouts = settle_dask(POLICY, TREE, dd.from_pandas(frame, npartitions=2)).payouts.compute()
    expected = settle_batch(POLICY, TREE, LINES).payouts.rows()
    assert [tuple(row) for row in payouts.itertuples(index=False)] == expected
