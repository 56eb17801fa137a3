"""Half-up rounding (dub's): the four cases of issue 14, per order and per line, on every path.

docs/domain.md §10 and example K of §15: each payout is its exact amount rounded half up;
when the rounded payouts add up to more than the rounded pool, one fen at a time is taken
back from the payout whose rounding gained most, ties to the later payout, so the budget
holds (paid <= pool).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import InviteTree, Order, OrderLine, Policy, settle
from tuishou.engine import settle_batch
from tuishou.orders import order_columns
from tuishou.rounding import (
    POOL_SCALE,
    SHARE_SCALE,
    allocate,
    allocate_items,
    half_up,
    round_order,
    round_total,
)
from tuishou.testing import check_settlement

from helpers import examples

TREE = InviteTree.from_records(
    [
        {"member_id": "A", "inviter_id": None, "tier": "m"},
        {"member_id": "B", "inviter_id": "A", "tier": "m"},
    ]
)


def policy(scope: str, rules: list[dict[str, Any]], rounding: str = "half_up") -> Policy:
    return Policy.model_validate(
        {
            "name": "dub",
            "tiers": ["m"],
            "group_rates": {"g": "1"},  # the pool is the amount paid
            "rounding": rounding,
            "rounding_scope": scope,
            "max_generation": 1,
            "rules": rules,
        }
    )


def seller(rate: str) -> dict[str, Any]:
    return {"kind": "seller", "rates": {"m": rate}}


def order(*amounts: int) -> Order:
    return Order(
        order_id="o1",
        sharer_id="B",
        lines=[OrderLine(sku=f"s{i}", group="g", amount=a) for i, a in enumerate(amounts)],
    )


# (case, rules, line amounts, pool, what B gets, what A gets), worked by hand:
CASES = [
    # 1 fen × 50% = 0.5 fen: half up pays 1 (largest remainder rounds the 0.5 total to 0).
    ("1 fen x 50%", [seller("0.5")], (1,), 1, 1, 0),
    # 500 fen × 2.9% = 14.5 fen: 15.
    ("500 fen x 2.9%", [seller("0.029")], (500,), 500, 15, 0),
    # 49 fen × 1% = 0.49 fen: 0, nothing paid.
    ("0.49 fen", [seller("0.01")], (49,), 49, 0, 0),
    # Two 50% shares of a 1-fen pool: 0.5 each rounds to 1, 2 fen > the 1-fen pool; both
    # gained 0.5, a tie: the later payout (A, generation 1) gives its fen back.
    ("the trim", [seller("0.5"), {"kind": "layers", "rates": {"m": ["0.5"]}}], (1,), 1, 1, 0),
]


@pytest.mark.parametrize("scope", ["order", "line"])
@pytest.mark.parametrize(("case", "rules", "amounts", "pool", "to_b", "to_a"), CASES)
def test_the_four_cases(
    case: str, rules: list, amounts: tuple, pool: int, to_b: int, to_a: int, scope: str
) -> None:
    """docs/domain.md §15, Example K: the four half-up cases, per order and per line."""
    chosen = policy(scope, rules)
    the_order = order(*amounts)
    result = settle(chosen, TREE, the_order)
    check_settlement(chosen, TREE, the_order, result)
    assert (result.pool, result.amount_for("B"), result.amount_for("A")) == (pool, to_b, to_a)
    assert result.retained == pool - to_b - to_a >= 0
    batch = settle_batch(chosen, TREE, order_columns([the_order]))
    assert batch.orders.rows() == [("o1", "B", pool, to_b + to_a, pool - to_b - to_a)]
    assert [(r[1], r[5]) for r in batch.payouts.rows()] == [
        (m, a) for m, a in (("B", to_b), ("A", to_a)) if a
    ]


def test_largest_remainder_differs_on_the_first_case() -> None:
    chosen = policy("order", [seller("0.5")], rounding="largest_remainder")
    assert settle(chosen, TREE, order(1)).amount_for("B") == 0  # 0.5 rounds to even: 0


@pytest.mark.parametrize(("scope", "pool", "paid"), [("order", 2, 1), ("line", 2, 2)])
def test_per_line_rounds_each_line_half_up(scope: str, pool: int, paid: int) -> None:
    # Two lines of 1 fen at 50%: per order 1 fen exact pays 1; per line 0.5 + 0.5 pays 1 + 1.
    chosen = policy(scope, [seller("0.5")])
    the_order = order(1, 1)
    result = settle(chosen, TREE, the_order)
    check_settlement(chosen, TREE, the_order, result)
    assert (result.pool, result.paid) == (pool, paid)
    assert settle_batch(chosen, TREE, order_columns([the_order])).orders.rows()[0][2:4] == (
        pool,
        paid,
    )


def test_the_trim_takes_from_the_payout_that_gained_most() -> None:
    # Exact 0.6, 0.55 and 0.4 of... a 1-fen pool (0.6 + 0.55 + 0.4 = 1.55 > 1 is impossible
    # for shares of a pool; here as exact amounts): rounded 1, 1, 0 = 2 > 1: the 0.55 gained
    # 0.45, the 0.6 gained 0.4: the 0.55 gives its fen back.
    assert allocate([60, 55, 40], 100, "half_up", pool=1) == [1, 0, 0]
    assert allocate([50, 50], 100, "half_up", pool=1) == [1, 0]  # a tie: the later
    assert round_order([3_0000], [5000, 5000], "half_up", "order").amounts == [2, 1]


def test_the_explanation_names_the_rounding() -> None:
    text = settle(policy("line", [seller("0.5")]), TREE, order(1)).explain()
    assert "(half up, per line, trimmed to the pool)" in text.splitlines()[0]


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.lists(st.sampled_from([0, 1, 2500, 3333, 5000, 4999, 5001, 10**4]), max_size=4),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_vectorised_half_up_is_the_scalar_one(items: list[tuple[int, list[int]]]) -> None:
    # Each item: an exact pool (1/10 000 fen) and shares summing to at most 1 (scaled down).
    pools, item, share, expected = [], [], [], []
    for i, (pool4, raw) in enumerate(items):
        total = sum(raw)
        shares = [s * 10**4 // total for s in raw] if total > 10**4 else raw
        pools.append(pool4)
        item += [i] * len(shares)
        share += shares
        rounded_pool = round_total(pool4, POOL_SCALE, "half_up")
        expected += allocate([pool4 * s for s in shares], SHARE_SCALE, "half_up", pool=rounded_pool)
        assert sum(expected[len(expected) - len(shares) :]) <= rounded_pool
    got = allocate_items(
        np.array(pools, dtype=np.int64),
        np.array(item, dtype=np.int64),
        np.array(share, dtype=np.int64),
        "half_up",
        row_total=np.zeros(1, dtype=np.int64),
        rows=np.zeros(len(pools), dtype=np.int64),
    )
    assert got.tolist() == expected


def test_half_up_of_exact_halves() -> None:
    assert [half_up(n, 10) for n in (4, 5, 14, 15, 25)] == [0, 1, 1, 2, 3]


@pytest.mark.parametrize("scope", ["order", "line"])
def test_the_pool_is_rounded_half_up(scope: str) -> None:
    # 3 fen at a pool rate of 50%: 1.5 fen rounds half up to 2 (half to even: 2 as well);
    # 1 fen: 0.5 rounds half up to 1 (half to even: 0). The seller's 100% of it: 1.
    chosen = Policy.model_validate(
        {**policy(scope, [seller("1")]).model_dump(), "group_rates": {"g": "0.5"}}
    )
    for amount, pool in [(1, 1), (3, 2)]:
        the_order = order(amount)
        result = settle(chosen, TREE, the_order)
        check_settlement(chosen, TREE, the_order, result)
        assert (result.pool, result.paid) == (pool, pool)
        batch = settle_batch(chosen, TREE, order_columns([the_order]))
        assert batch.orders.rows() == [("o1", "B", pool, pool, 0)]


@pytest.mark.parametrize(
    ("scope", "expected", "pool"),
    [
        # D 4,497.4 → 4,497; C 449.74 → 450; B 1,349.22 → 1,349; A 899.48 → 899: 7,195 fen of
        # the 8,994.8 → 8,995 fen pool, nothing to trim.
        ("order", {"D": 4497, "C": 450, "B": 1349, "A": 899}, 8995),
        # Per line: ecosystem 1,999.9 / 199.99 / 599.97 / 399.98 → 2,000 / 200 / 600 / 400;
        # xiaomi 2,497.5 / 249.75 / 749.25 / 499.5 → 2,498 / 250 / 749 / 500.
        ("line", {"D": 4498, "C": 450, "B": 1349, "A": 900}, 8995),
    ],
)
def test_example_k_on_example_a(scope: str, expected: dict, pool: int) -> None:
    """docs/domain.md §15, Example K: example A's order rounded half up."""
    from test_worked_examples import example_a_policy, example_a_tree

    from helpers import order as helper_order
    from helpers import paid

    chosen = example_a_policy(rounding="half_up", rounding_scope=scope)
    the_order = helper_order(("ecosystem", 19999), ("xiaomi", 99900), buyer="D")
    result = settle(chosen, example_a_tree(), the_order)
    check_settlement(chosen, example_a_tree(), the_order, result)
    assert paid(result) == expected
    assert (result.pool, result.retained) == (pool, pool - sum(expected.values()))
    batch = settle_batch(chosen, example_a_tree(), order_columns([the_order]))
    assert {r[1]: r[5] for r in batch.payouts.rows()} == expected
