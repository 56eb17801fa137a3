"""Rounding per line: the dense layout (one pass per slot), the pairs layout (one run per
payout) and the sparse one (scattered sums) agree with settle."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import replace
from tuishou.engine import bulk, per_line
from tuishou.engine.batch import settle_batch
from tuishou.orders import order_columns
from tuishou.testing import invite_trees, order_batches, policies

from helpers import reference_rows


@st.composite
def floor_per_line_batches(draw):
    tiers = tuple(f"t{i}" for i in range(draw(st.integers(1, 4))))
    tree = draw(invite_trees(tiers=tiers, max_size=15))
    chosen = replace(draw(policies(tiers=tiers)), rounding="floor", rounding_scope="line")
    order_list = draw(order_batches(tree, max_size=8))
    return chosen, tree, order_list


@pytest.mark.parametrize("layout", ["sparse", "pairs", "dense"])
@settings(max_examples=150, deadline=None)
@given(batch=floor_per_line_batches())
def test_each_layout_equals_settle(layout, batch):
    chosen, tree, order_list = batch
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(per_line, "layout", lambda *_: layout)
        found = settle_batch(chosen, tree, order_columns(order_list))
    assert found.payouts.rows() == reference_rows(chosen, tree, order_list)[0], layout


@pytest.mark.parametrize(("chunk", "layout"), [(1, "pairs"), (2, "pairs"), (1, "sparse")])
@settings(max_examples=50, deadline=None)
@given(batch=floor_per_line_batches())
def test_small_chunks_give_the_same_rows(chunk, layout, batch):
    """Chunks of one or two (entry, line) pairs: every order is cut from its neighbours."""
    chosen, tree, order_list = batch
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(per_line, "layout", lambda *_: layout)
        patch.setattr(per_line, "CHUNK", chunk)  # the pairs layout's chunks
        patch.setattr(bulk, "CHUNK", chunk)  # the sparse layout's
        found = settle_batch(chosen, tree, order_columns(order_list))
    assert found.payouts.rows() == reference_rows(chosen, tree, order_list)[0]


def test_the_pairs_layout_is_chosen_for_floor_on_grouped_lines_only():
    entries = per_line.Entries.from_dense(
        per_line.np.zeros((2, 8), dtype=per_line.np.int32),
        per_line.np.array([[500] + [0] * 6 + [1], [0] * 8]),
    )
    codes = per_line.np.array([0, 0, 1], dtype=per_line.np.int32)
    grouped = per_line.LineBook(per_line.np.array([0, 1]), codes, per_line.np.array([0, 2]))
    scattered = per_line.LineBook(per_line.np.array([0, 1]), codes, None)
    assert per_line.layout(grouped, entries, "floor") == "pairs"
    assert per_line.layout(scattered, entries, "floor") == "sparse"
    assert per_line.layout(grouped, entries, "largest_remainder") == "sparse"
    with pytest.MonkeyPatch.context() as patch:  # an order of more pairs than the bound
        patch.setattr(per_line, "_MAX_ORDER_PAIRS", 1)
        assert per_line.layout(grouped, entries, "floor") == "sparse"


def test_the_dense_layout_is_chosen_for_few_slots_that_every_seller_pays():
    entries = per_line.Entries.from_dense(
        per_line.np.array([[1, 2], [3, 4], [0, 0]], dtype=per_line.np.int32),
        per_line.np.array([[500, 200], [500, 200], [0, 0]]),
    )
    grouped = per_line.LineBook(
        per_line.np.array([0, 1]),
        per_line.np.array([0, 0, 1], dtype=per_line.np.int32),
        per_line.np.array([0, 2]),
    )
    assert per_line.dense_applies(grouped, entries, "floor")
    sparse = per_line.Entries.from_dense(
        per_line.np.zeros((3, 8), dtype=per_line.np.int32),
        per_line.np.array([[500] + [0] * 6 + [1], [0] * 7 + [1], [0] * 8]),
    )
    assert not per_line.dense_applies(grouped, sparse, "floor")
