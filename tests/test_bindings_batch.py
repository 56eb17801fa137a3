"""Batch equals settle with customer bindings (docs/domain.md §6, §16), on random cases:
every mode, expiry boundaries (orders paid on the hour grid the bindings start and end on),
guests and members as customers, ``bind_members`` on and off, every path of the engine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_bindings_settle import DAY, EXAMPLE_H, POLICY, SECOND, T0, TREE, buy, example_h_bindings
from tuishou import ArgumentTypeError, InvalidOrderError, UnknownMemberError, settle, settle_many
from tuishou.analysis import compare
from tuishou.bindings import Bindings
from tuishou.engine import member_totals, settle_batch
from tuishou.orders import order_columns
from tuishou.rules import replace
from tuishou.testing import (
    bindings,
    check_settlement,
    invite_trees,
    order_batches,
    paid_times,
    policies,
)

from helpers import examples, ladders, rows_of, tree_from_text


@st.composite
def cases(draw):
    """Bindings of the batch's own buyers (guests and members), and each order paid, often,
    when one of them starts or ends or a second before."""
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=8))
    policy = replace(draw(policies(tiers=tiers)), bind_members=draw(st.booleans()))
    batch = draw(order_batches(tree, max_size=10, max_lines=2))
    buyers = sorted({o.buyer_id for o in batch if o.buyer_id is not None}) or ["guest"]
    found = draw(bindings(tree, customers=buyers, members_too=draw(st.booleans())))
    return policy, tree, draw(paid_times(batch, near=found)), found


@settings(max_examples=examples(200), deadline=None)
@given(cases())
def test_batch_equals_settle_with_bindings(case):
    policy, tree, batch, found = case
    settlements = [settle(policy, tree, order, bindings=found) for order in batch]
    for order, settlement in zip(batch, settlements, strict=True):
        check_settlement(policy, tree, order, settlement, bindings=found)
    payouts, per_order = rows_of(batch, settlements)
    result = settle_batch(policy, tree, order_columns(batch), bindings=found)
    assert result.payouts.rows() == payouts
    assert result.orders.rows() == per_order
    totals: dict[str, int] = {}
    for row in payouts:
        totals[row[1]] = totals.get(row[1], 0) + row[5]
    got = member_totals(policy, tree, order_columns(batch), bindings=found)
    assert dict(got.rows()) == totals


@pytest.mark.parametrize("mode", ["first", "override", "register"])
@pytest.mark.parametrize("bind_members", [False, True])
def test_example_h_in_the_batch_engine(mode, bind_members):
    """Example H (docs/domain.md §15): a second before expiry and at expiry, the guest c-1
    and the same customer once it has joined as a member, in one batch."""
    bindings = example_h_bindings(mode)
    holder, expires = EXAMPLE_H[mode]
    joined = tree_from_text("A>B A>C>M A>c-1")
    policy = replace(POLICY, bind_members=bind_members)
    batch = [
        buy("q1", expires - SECOND),
        buy("q2", expires),
        buy("q3", expires - SECOND, sharer="M"),
        buy("q4", T0 - SECOND),
    ]
    for tree in (TREE, joined):
        result = settle_batch(policy, tree, order_columns(batch), bindings=bindings)
        sellers = [row[1] for row in result.orders.rows()]
        member = tree is joined
        assert sellers[0] == (holder if bind_members or not member else "A")
        assert sellers[1:] == [("A" if member else None), "M", ("A" if member else None)]
        assert rows_of(batch, settle_many(policy, tree, batch, bindings=bindings))[1] == (
            result.orders.rows()
        )


def test_the_engine_refuses_what_settle_refuses():
    bindings = Bindings.from_records([{"customer_id": "c-1", "member_id": "Bee", "since": T0}])
    with pytest.raises(UnknownMemberError, match=r"orders \['q'\] to member_id='Bee'"):
        settle_batch(POLICY, TREE, order_columns([buy("q", T0)]), bindings=bindings)
    undated = order_columns([buy("q", None), buy("r", None, sharer="B"), buy("s", None, buyer="x")])
    with pytest.raises(InvalidOrderError, match=r"1 order\(s\) without paid_at .* \['q'\]"):
        settle_batch(POLICY, TREE, undated, bindings=example_h_bindings("first"))
    with pytest.raises(ArgumentTypeError, match="bindings is a dict"):
        member_totals(POLICY, TREE, undated, bindings={})
    assert settle_batch(POLICY, TREE, undated, bindings=Bindings.empty()).orders.rows() == (
        settle_batch(POLICY, TREE, undated).orders.rows()
    )


def test_compare_and_dask_take_bindings():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.dask import settle_dask

    bindings = example_h_bindings("override")
    batch = [buy(f"q{i}", T0 + i * DAY) for i in range(10)]
    richer = replace(POLICY, name="richer", rules=[{"kind": "seller", "rates": {"member": "0.6"}}])
    found = compare({"now": POLICY, "richer": richer}, TREE, batch, bindings=bindings)
    expected = sum(s.paid for s in settle_many(richer, TREE, batch, bindings=bindings))
    assert found.totals.loc["richer", "paid"] == expected > 0
    frame = dd.from_pandas(pd.DataFrame(order_columns(batch)), npartitions=3)
    lazy = settle_dask(POLICY, TREE, frame, bindings=bindings)
    rows = settle_batch(POLICY, TREE, order_columns(batch), bindings=bindings).orders.rows()
    got = lazy.orders.compute()
    assert list(got.itertuples(index=False, name=None)) == rows
