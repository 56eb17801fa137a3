"""The engine at its limits: deep chains, many payout slots and rules, ``max_generation`` up to
its bound and orders up to ``MAX_ORDER_FEN``. Every path agrees with ``settle`` at and around
each fixed-width integer the engine uses (issue 10, items 1-3)."""

from __future__ import annotations

import decimal
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import (
    InvalidOrderError,
    InvalidPolicyError,
    InviteTree,
    Order,
    OrderLine,
    Policy,
    load_policy,
    replace,
    settle,
)
from tuishou.engine import per_line
from tuishou.engine.batch import _check_batch_total, member_totals, settle_batch
from tuishou.engine.bulk import exact_sum
from tuishou.engine.schedule import _chains
from tuishou.money import MAX_ORDER_FEN
from tuishou.orders import order_columns
from tuishou.rules import MAX_GENERATION

from helpers import assert_same, reference_rows

VARIANTS = [
    {"rounding": rounding, "rounding_scope": scope}
    for rounding in ("largest_remainder", "floor")
    for scope in ("order", "line")
]


def chain_tree(
    size: int, *, tiers: list[str] | None = None, statuses: list[str] | None = None
) -> InviteTree:
    """m0 <- m1 <- ... <- m{size-1}: each member invited by the previous one."""
    ids = [f"m{i}" for i in range(size)]
    return InviteTree.from_arrays(ids, [None, *ids[:-1]], tiers or ["m"] * size, status=statuses)


def deep_policy(generations: int, rules: list[dict[str, object]], **fields: object) -> Policy:
    return Policy.model_validate(
        {
            "name": "deep",
            "tiers": ["m"],
            "group_rates": {"g": "1"},
            "max_generation": generations,
            "rules": rules,
            **fields,
        }
    )


def one_line(order_id: str, amount: int, **who: str) -> Order:
    return Order(order_id=order_id, lines=[OrderLine(sku="s", group="g", amount=amount)], **who)


# ------------------------------------------------------------------ item 1: the issue's example

ISSUE_RULES = {
    "layers": ([{"kind": "layers", "rates": {"m": ["0.0001"] * 200}}], 199),
    "peers": (
        [{"kind": "differential", "rates": {"m": "0.5"}, "peer_rate": "0.0001", "peer_max": 200}],
        200,
    ),
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("rules", ISSUE_RULES)
def test_the_issue_example_pays_every_member_on_every_path(rules, variant):
    """201 members, 200 generations: m200 buys, so m199 sells and 199 uplines follow."""
    chosen = deep_policy(200, ISSUE_RULES[rules][0], **variant)
    tree, order = chain_tree(201), one_line("o1", 1_234_567, buyer_id="m200")
    assert_same(chosen, tree, [order])
    payouts = settle(chosen, tree, order).payouts
    assert len(payouts) == ISSUE_RULES[rules][1]
    assert sorted({p.generation for p in payouts}) == list(range(200 - len(payouts), 200))
    expected = reference_rows(chosen, tree, [order])[0]
    per_member: dict[str, int] = {}
    for row in expected:
        per_member[row[1]] = per_member.get(row[1], 0) + row[5]
    assert compare_income(chosen, tree, [order]) == per_member
    assert dask_rows(chosen, tree, [order]) == expected


@pytest.mark.parametrize("variant", [VARIANTS[0], VARIANTS[3]])
@pytest.mark.parametrize("rules", ISSUE_RULES)
def test_the_issue_example_through_the_command_line(rules, variant, tmp_path, capsys):
    from cli_support import MEMBER_COLUMNS, ORDER_COLUMNS, read_payouts, run, write_rows

    document = {
        "name": "deep",
        "tiers": ["m"],
        "group_rates": {"g": "1"},
        "max_generation": 200,
        "rules": ISSUE_RULES[rules][0],
        **variant,
    }
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(document), encoding="utf-8")
    members = write_rows(
        tmp_path / "members.csv",
        [
            {"member_id": f"m{i}", "inviter_id": f"m{i - 1}" if i else None, "tier": "m"}
            for i in range(201)
        ],
        MEMBER_COLUMNS,
    )
    order = one_line("o1", 1_234_567, buyer_id="m200")
    orders = write_rows(
        tmp_path / "orders.csv",
        [
            {
                "order_id": "o1",
                "buyer_id": "m200",
                "sku": "s",
                "group": "g",
                "amount": 1_234_567,
                "quantity": 1,
            }
        ],
        ORDER_COLUMNS,
    )
    out = tmp_path / "payouts.csv"
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        str(policy_file),
        "--members",
        str(members),
        "--orders",
        str(orders),
        "--out",
        str(out),
    )
    assert code == 0, err
    expected = reference_rows(Policy.model_validate(document), chain_tree(201), [order])[0]
    assert read_payouts(out) == expected
    assert len(expected) == ISSUE_RULES[rules][1]


def compare_income(chosen: Policy, tree: InviteTree, order_list: list[Order]) -> dict[str, int]:
    from tuishou.analysis.compare import compare

    table = compare({"p": chosen}, tree, order_list).by_member
    return {m: int(a) for m, a in zip(table["member_id"], table["p"], strict=True) if a}


def dask_rows(chosen: Policy, tree: InviteTree, order_list: list[Order]) -> list[tuple]:
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    from tuishou.engine.dask import settle_dask

    lines = dd.from_pandas(pd.DataFrame(order_columns(order_list)), npartitions=1)
    found = settle_dask(chosen, tree, lines).payouts.compute()
    return [tuple(row) for row in found.itertuples(index=False)]


# ------------------------------------------------------------- item 1: each width at its limit


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("slots", [127, 128, 129, 255, 256, 257, 2 * MAX_GENERATION + 1])
def test_every_count_of_paying_slots_around_the_int8_and_uint8_limits(slots, variant, layout):
    """One order pays ``slots`` slots: a seller share then a layer share per upline or, at
    2,001 slots, a differential share for the seller, then a layer share and a peer bonus per
    upline. Every layer remainder ties, so slot order decides who gets the missing fen."""
    generations = min(slots - 1, MAX_GENERATION)
    peers = slots - 1 - generations
    rules = [
        {"kind": "seller", "rates": {"m": "0" if peers else "0.3"}},
        {"kind": "layers", "rates": {"m": ["0.0001"] * generations}},
        {
            "kind": "differential",
            "rates": {"m": "0.1" if peers else "0"},
            "peer_rate": "0.0001",
            "peer_max": peers,
        },
    ]
    chosen = deep_policy(generations, rules, self_purchase=True, **variant)
    tree = chain_tree(generations + 1)
    order = Order(
        order_id="o",
        buyer_id=f"m{generations}",
        lines=[OrderLine(sku=f"s{i}", group="g", amount=1_234_567 + i) for i in range(3)],
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(per_line, "_SPARSE_COST", 0 if layout == "sparse" else 10**6)
        assert_same(chosen, tree, [order])
    assert len(settle(chosen, tree, order).payouts) == slots


@pytest.mark.parametrize("position", [127, 128, 32_767, 32_768])
def test_rule_positions_around_the_int8_and_int16_limits(position):
    """Rules that pay nothing before the one that pays: its name must survive the position."""
    silent = [{"kind": "seller", "name": f"r{i}", "rates": {}} for i in range(position)]
    chosen = deep_policy(
        1,
        [
            *silent,
            {"kind": "seller", "name": "paying", "rates": {"m": "0.5"}},
            {"kind": "layers", "name": "up", "rates": {"m": ["0.25"]}},
        ],
    )
    order = one_line("o", 10_001, sharer_id="m1")
    assert_same(chosen, chain_tree(2), [order])
    assert [row[2] for row in reference_rows(chosen, chain_tree(2), [order])[0]] == ["paying", "up"]


def test_peer_max_is_bounded_like_max_generation():
    """peer_max at the limit settles alike on both paths; above it the policy is refused."""
    chosen = deep_policy(
        5, [{"kind": "differential", "rates": {"m": "0.5"}, "peer_max": MAX_GENERATION}]
    )
    assert_same(chosen, chain_tree(7), [one_line("o", 999, buyer_id="m6")])
    for value in (MAX_GENERATION + 1, 10**30):
        with pytest.raises(InvalidPolicyError, match=rf"peer_max={value} is above the limit"):
            deep_policy(5, [{"kind": "differential", "rates": {"m": "0.5"}, "peer_max": value}])


# ------------------------------------------------------------ item 2: the max_generation bound


def build_policy(how: str, max_generation: int, folder) -> Policy:
    """A policy with ``max_generation``, built one of the ways a policy comes in."""
    if how == "model":
        return deep_policy(max_generation, [])
    if how == "replace":
        return replace(deep_policy(1, []), max_generation=max_generation)
    path = folder / "policy.toml"
    path.write_text(
        f'name = "p"\ntiers = ["m"]\nmax_generation = {max_generation}\n[group_rates]\ng = "1"\n',
        encoding="utf-8",
    )
    return load_policy(path)


@pytest.mark.parametrize("value", [MAX_GENERATION + 1, 10**6, 10**12])
@pytest.mark.parametrize("how", ["model", "replace", "file"])
def test_max_generation_above_the_limit_is_refused_everywhere(value, how, tmp_path):
    assert build_policy(how, MAX_GENERATION, tmp_path).max_generation == MAX_GENERATION
    message = rf"max_generation={value} is above the limit of 1000 generations"
    with pytest.raises(InvalidPolicyError, match=message):
        build_policy(how, value, tmp_path)


def test_tuishou_validate_refuses_max_generation_above_the_limit(tmp_path, capsys):
    from cli_support import run

    build_policy("file", MAX_GENERATION, tmp_path)
    assert run(capsys, "validate", "--policy", str(tmp_path / "policy.toml"))[0] == 0
    with pytest.raises(InvalidPolicyError):
        build_policy("file", 10**12, tmp_path)
    code, _, err = run(capsys, "validate", "--policy", str(tmp_path / "policy.toml"))
    assert code == 2
    assert "max_generation=1000000000000 is above the limit of 1000 generations" in err


@pytest.mark.parametrize("compression", [False, True])
def test_the_chain_walk_stops_at_the_deepest_root(compression):
    """The cost follows the tree's depth: a policy at the bound walks at most 4 uplines on a
    chain of 5 members, not 1,000."""
    chosen = deep_policy(
        MAX_GENERATION,
        [
            {"kind": "layers", "rates": {"m": ["0.0001"] * MAX_GENERATION}},
            {
                "kind": "differential",
                "rates": {"m": "0.5"},
                "peer_rate": "0.0001",
                "peer_max": MAX_GENERATION,
            },
        ],
        compression=compression,
    )
    tree = chain_tree(5, statuses=["active", "suspended", "active", "active", "active"])
    arrays = tree.arrays()
    uplines = 3 if compression else 4  # compression skips the suspended m1
    assert len(_chains(chosen, arrays, np.array([4, 2]))) == 1 + uplines
    assert len(_chains(chosen, arrays, np.array([0]))) == 1
    assert len(_chains(chosen, arrays, np.zeros(0, dtype=np.int64))) == 1
    assert_same(
        chosen, tree, [one_line("o", 12_345, buyer_id="m4"), one_line("p", 777, sharer_id="m0")]
    )


# ---------------------------------------------------------------- item 3: amounts at the limit

MAX_RULES = [
    {"kind": "seller", "rates": {"m": "0.3333"}},
    {"kind": "layers", "rates": {"m": ["0.0003"] * MAX_GENERATION}},
    {
        "kind": "differential",
        "rates": {"m": "0.2"},
        "include_seller": False,
        "peer_rate": "0.0001",
        "peer_max": MAX_GENERATION,
    },
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_largest_order_over_many_lines_on_the_deepest_chain(variant):
    """An order of exactly MAX_ORDER_FEN in 7 lines, at rate 1, paying 2,000 uplines."""
    chosen = deep_policy(MAX_GENERATION, MAX_RULES, **variant)
    tree = chain_tree(MAX_GENERATION + 2)
    amounts = [MAX_ORDER_FEN // 7] * 6 + [MAX_ORDER_FEN - 6 * (MAX_ORDER_FEN // 7)]
    largest = Order(
        order_id="max",
        buyer_id=f"m{MAX_GENERATION + 1}",
        lines=[
            OrderLine(sku=f"s{i}", group="g", amount=amount) for i, amount in enumerate(amounts)
        ],
    )
    assert largest.amount == MAX_ORDER_FEN
    order_list = [
        largest,
        one_line("one-line", MAX_ORDER_FEN, sharer_id="m500"),
        one_line("small", 3, buyer_id="m7"),
    ]
    assert_same(chosen, tree, order_list)
    result = settle(chosen, tree, largest)
    # the seller share, a layer share per upline, one differential raise and 999 peer bonuses
    assert len(result.payouts) == 1 + 2 * MAX_GENERATION
    batch = settle_batch(chosen, tree, order_columns(order_list))
    assert batch.paid == sum(settle(chosen, tree, o).paid for o in order_list)
    assert batch.pool == sum(settle(chosen, tree, o).pool for o in order_list)


def test_settle_is_exact_whatever_the_decimal_context():
    """Amounts, pools and the exact values a person reads never go through a Decimal context."""
    chosen = deep_policy(
        2, [{"kind": "seller", "rates": {"m": "0.9999"}}], group_rates={"g": "0.9999"}
    )
    order = one_line("o", MAX_ORDER_FEN - 1, sharer_id="m2")
    expected = settle(chosen, chain_tree(3), order)
    with decimal.localcontext(decimal.Context(prec=3)):
        found = settle(chosen, chain_tree(3), order)
    assert found == expected
    payout = found.payouts[0]
    assert Fraction(payout.exact) == Fraction((MAX_ORDER_FEN - 1) * 9999 * 9999, 10**8)
    assert Fraction(found.lines[0].exact) == Fraction((MAX_ORDER_FEN - 1) * 9999, 10**4)
    assert payout.amount == 9_998_000_099


def test_sums_across_a_million_orders_at_the_limit_are_exact():
    """Totals past 2**53 (where a float sum stops being exact): batch, member and compare."""
    from tuishou.analysis.compare import compare

    count = (1 << 20) + 3
    chosen = deep_policy(1, [{"kind": "seller", "rates": {"m": "0.9999"}}])
    columns = {
        "order_id": np.arange(count),
        "sharer_id": ["m1"] * count,
        "sku": ["s"] * count,
        "group": ["g"] * count,
        "amount": np.full(count, MAX_ORDER_FEN),
    }
    each = MAX_ORDER_FEN * 9999 // 10**4
    assert count * each > 2**53
    batch = settle_batch(chosen, chain_tree(2), columns)
    assert (batch.paid, batch.pool) == (count * each, count * MAX_ORDER_FEN)
    assert member_totals(chosen, chain_tree(2), columns).rows() == [("m1", count * each)]
    totals = compare({"p": chosen}, chain_tree(2), columns).totals.loc["p"]
    assert (totals["gmv"], totals["paid"]) == (count * MAX_ORDER_FEN, count * each)


def test_a_batch_total_past_int64_is_refused_not_wrapped():
    assert exact_sum(np.full(5, 2**62)) == 5 * 2**62
    assert exact_sum(np.array([2**63 - 1, 1, 2**63 - 1])) == 2**64 - 1
    _check_batch_total(2**63 - 1, 10**9)  # the largest total that adds up in int64: fine
    with pytest.raises(
        InvalidOrderError,
        match=r"the 1000000000 order lines total "
        r"9223372036854775808 fen, above the 9223372036854775807 fen one batch "
        r"can add up exactly; settle them in smaller batches",
    ):
        _check_batch_total(2**63, 10**9)


# ------------------------------------------------------- the property: deep chains, every path


@st.composite
def deep_cases(draw):
    """A chain of up to 320 members with a few branches, a policy with max_generation up to
    300 (long layer lists, a differential with many peers), and orders near the tip."""
    tiers = ("t0", "t1", "t2")[: draw(st.integers(1, 3))]
    depth = draw(st.integers(1, 320))
    branches = draw(st.lists(st.integers(0, depth - 1), max_size=5))
    size = depth + len(branches)
    parents = [None, *range(depth - 1), *branches]
    tier_of = draw(st.lists(st.sampled_from(tiers), min_size=size, max_size=size))
    off = set(draw(st.lists(st.integers(0, size - 1), max_size=size // 8)))
    ids = [f"m{i}" for i in range(size)]
    tree = InviteTree.from_arrays(
        ids,
        [None if p is None else ids[p] for p in parents],
        tier_of,
        status=["suspended" if i in off else "active" for i in range(size)],
    )
    generations = draw(st.integers(0, 300))
    layers = {
        t: draw(st.lists(st.sampled_from(["0", "0.0001", "0.0002"]), max_size=generations))
        for t in tiers
    }
    peer_max = draw(st.integers(0, generations))
    rules = [
        {
            "kind": "seller",
            "rates": {t: draw(st.sampled_from(["0", "0.05", "0.2"])) for t in tiers},
        },
        {"kind": "layers", "rates": layers},
        {
            "kind": "differential",
            "include_seller": draw(st.booleans()),
            "rates": {t: str(0.1 * (i + 1))[:4] for i, t in enumerate(tiers)},
            "peer_rate": draw(st.sampled_from(["0", "0.0001", "0.0003"])),
            "peer_max": peer_max,
        },
    ]
    chosen = Policy.model_validate(
        {
            "name": "deep",
            "tiers": tiers,
            "group_rates": {"g": draw(st.sampled_from(["1", "0.3333", "0.05"]))},
            "max_generation": generations,
            "rules": rules,
            "self_purchase": draw(st.booleans()),
            "compression": draw(st.booleans()),
            **draw(st.sampled_from(VARIANTS)),
        }
    )
    amounts = st.sampled_from([1, 1_234_567, MAX_ORDER_FEN // 3]) | st.integers(0, 10**6)
    order_list = [
        Order(
            order_id=f"o{k}",
            buyer_id=ids[draw(st.integers(max(0, size - 40), size - 1))],
            sharer_id=draw(st.none() | st.sampled_from(ids)),
            lines=[
                OrderLine(sku=f"s{j}", group="g", amount=draw(amounts))
                for j in range(draw(st.integers(1, 3)))
            ],
        )
        for k in range(draw(st.integers(1, 4)))
    ]
    return chosen, tree, order_list


@settings(max_examples=40, deadline=None)
@given(deep_cases())
def test_deep_chains_settle_batch_and_member_totals_equal_settle(case):
    assert_same(*case)
