"""tuishou.testing: the strategies draw valid inputs and shrink; check_settlement catches breakage.

The strategies are exercised under hypothesis' health checks (nothing filtered, nothing too
slow); ``find`` shows what they shrink to. Every invariant of ``check_settlement`` is shown to
catch a settlement broken in its way, and a property shows that any fen moved is caught.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import tuishou
from tuishou import (
    ArgumentTypeError,
    InvalidArgumentError,
    InviteTree,
    Order,
    OrderLine,
    Tier,
    TierLadder,
    TuishouError,
    migrate_team,
    settle,
)
from tuishou import invariants as invariants_module
from tuishou.cli.demo import example_policy
from tuishou.invariants import checks as invariant_checks
from tuishou.testing import (
    DEFAULT_TIERS,
    INVARIANTS,
    InvariantError,
    check_settlement,
    invite_trees,
    order_batches,
    orders,
    policies,
    rosters,
    scenarios,
)

from helpers import CN, any_scenarios, policy, tree_from_text

# Health checks on (none suppressed): a strategy that filtered too much, drew too much data or
# was too slow would fail these tests. No database: each run starts afresh.
CHECKED = settings(max_examples=60, deadline=None, suppress_health_check=(), database=None)
FIND = settings(database=None, max_examples=2000)  # find's own default, without a database
REACH = settings(FIND, phases=[Phase.generate])  # any example will do: no need to shrink it


# ----------------------------------------------------------------------------- strategies


@CHECKED
@given(invite_trees(min_size=2, max_size=9, tiers=("a", "b"), suspended_ratio=0.5))
def test_invite_trees_are_valid_trees_within_the_bounds(tree):
    assert 2 <= len(tree) <= 9
    assert tree.tiers == ("a", "b")
    assert list(tree) == [m for m in tree if m.startswith("m")]
    for member in tree:
        assert tree.tier(member) in ("a", "b")
        assert tree.status(member) in ("active", "suspended")
        assert int(member[1:]) > max((int(up[1:]) for up in tree.upline(member)), default=-1)


@CHECKED
@given(invite_trees(max_size=6, forest=False, suspended_ratio=0, id_prefix="x"))
def test_a_tree_with_one_root_and_nobody_suspended(tree):
    assert tree.roots() == ["x0"]
    assert all(tree.status(member) == "active" for member in tree)


@pytest.mark.parametrize(
    ("condition", "size"),
    [
        (lambda tree: True, 1),
        (lambda tree: len(tree) >= 4, 4),
        (lambda tree: any(tree.status(m) == "suspended" for m in tree), 1),
        (lambda tree: "m3" in tree and len(tree.upline("m3")) == 3, 4),
    ],
)
def test_trees_shrink_to_the_smallest_that_still_fails(condition, size):
    tree = find(invite_trees(), condition, settings=FIND)
    assert len(tree) == size
    assert all(tree.tier(m) == "member" for m in tree)  # the lowest tier


@CHECKED
@given(policies(tiers=("member", "vip"), groups=("g",), skus=("s",), max_rules=2))
def test_policies_are_valid_and_within_budget(drawn):
    assert drawn.tiers == ("member", "vip")
    assert set(drawn.group_rates) == {"g"}
    assert set(drawn.sku_rates) <= {"s"}
    assert len(drawn.rules) <= 2
    assert drawn.budget() <= 1


@pytest.mark.parametrize(
    "condition",
    [
        lambda p: {rule.kind for rule in p.rules} == {"seller", "layers", "differential"},
        lambda p: any(
            r.kind == "differential" and r.peer_max and r.peer_rate and not r.include_seller
            for r in p.rules
        ),
        lambda p: any(
            r.kind == "layers" and max(map(len, r.rates.values()), default=0) >= 3 for r in p.rules
        ),
        lambda p: p.budget() == 1,  # pays the whole pool
        lambda p: p.compression and p.self_purchase and p.max_generation == 4,
        lambda p: p.rounding == "floor" and p.rounding_scope == "line" and p.sku_rates,
        lambda p: not p.rules,
    ],
    ids=[
        "every-kind",
        "peers",
        "three-layers",
        "whole-budget",
        "compression",
        "floor-line",
        "no-rules",
    ],
)
def test_policies_reach_every_rule_kind_and_option(condition):
    assert condition(find(policies(), condition, settings=REACH))


@CHECKED
@given(st.data())
def test_orders_draw_buyers_and_sharers_from_the_tree(data):
    tree = data.draw(invite_trees(max_size=5))
    order = data.draw(
        orders(tree, groups=("g",), skus=("s",), max_lines=2, max_amount=500, order_id="x")
    )
    assert order.order_id == "x"
    assert 1 <= len(order.lines) <= 2
    assert order.buyer_id is None or order.buyer_id in tree or order.buyer_id == "guest"
    assert order.sharer_id is None or order.sharer_id in tree
    assert all(line.group == "g" and line.sku == "s" and line.amount <= 500 for line in order.lines)


@pytest.mark.parametrize(
    "condition",
    [
        lambda o: o.buyer_id == "guest" and o.sharer_id is not None,
        lambda o: o.buyer_id is None and o.sharer_id is None,
        lambda o: o.amount > 10**9,
        lambda o: (
            o.buyer_id == "m2" and len(o.lines) == 4 and len({ln.group for ln in o.lines}) == 3
        ),
    ],
)
def test_orders_reach_guests_anonymous_buyers_and_huge_amounts(condition):
    tree = tree_from_text("m0>m1>m2")
    assert condition(find(orders(tree), condition, settings=REACH))


def test_a_guest_is_never_a_member_and_an_empty_tree_has_only_guests():
    tree = tree_from_text("guest>guest-1")
    order = find(orders(tree), lambda o: o.buyer_id not in tree and o.buyer_id, settings=FIND)
    assert order.buyer_id == "guest-2"
    empty = find(orders(InviteTree()), lambda o: True, settings=FIND)
    assert empty.sharer_id is None
    assert empty.buyer_id in ("guest", None)


@CHECKED
@given(st.data())
def test_order_batches_have_distinct_ids(data):
    tree = data.draw(invite_trees(max_size=3))
    batch = data.draw(order_batches(tree, min_size=2, max_size=5))
    assert [order.order_id for order in batch] == [f"o{i}" for i in range(len(batch))]
    assert 2 <= len(batch) <= 5


@CHECKED
@given(scenarios(max_size=4, max_lines=2))
def test_scenarios_settle(scenario):
    assert len(scenario.tree) <= 4
    assert len(scenario.order.lines) <= 2
    assert scenario.tree.tiers == scenario.policy.tiers == DEFAULT_TIERS
    settle(*scenario)


LADDER = TierLadder(tiers=[Tier(name=name) for name in DEFAULT_TIERS])


@CHECKED
@given(invite_trees(max_size=5), rosters(max_size=8))
def test_migration_never_loses_a_member(tree, roster):
    before = {member: tree.inviter(member) for member in tree}
    report = migrate_team(
        tree,
        roster.entries,
        ladder=LADDER,
        policy=roster.policy,
        attach_to="m0",
        as_of=datetime(2026, 11, 24, tzinfo=CN),
    )
    assert sorted(report.added) == sorted(roster.member_ids)
    assert {member: tree.inviter(member) for member in before} == before
    for entry in roster.entries:
        assert tree.inviter(entry.member_id) == (entry.inviter_id or "m0")
    assert set(roster.leaders) == {e.member_id for e in roster.entries if e.inviter_id is None}


@pytest.mark.parametrize(
    "condition",
    [
        lambda r: r.policy.cap == "member" and len(r.entries) >= 2,
        lambda r: (
            r.policy.on_unmapped == "lowest"
            and any(r.policy.tier_for(e.platform, e.source_tier) is None for e in r.entries)
        ),
        lambda r: r.entries[0].inviter_id is not None,  # shuffled: an invitee before its inviter
        lambda r: len(r.entries) >= 4 and len(r.leaders) == 1 and r.policy.probation_days == 0,
    ],
    ids=["cap", "unmapped", "shuffled", "one-leader"],
)
def test_rosters_reach_caps_unmapped_tiers_and_shuffled_entries(condition):
    assert condition(find(rosters(), condition, settings=REACH))


@CHECKED
@given(invite_trees(max_size=3, max_chain=200, tiers=("a", "b")))
def test_a_chain_comes_first_and_is_at_most_max_chain_long(tree):
    chain = 1 + max(
        i
        for i in range(len(tree))
        if tree.upline(f"m{i}") == [f"m{j}" for j in range(i - 1, -1, -1)]
    )
    assert len(tree) - chain <= 3  # the others, after the chain (one may continue it)
    assert chain <= 200 + 3


def test_a_chain_reaches_max_chain():
    tree = find(invite_trees(max_size=1, max_chain=60), lambda t: len(t) > 60, settings=REACH)
    assert len(tree.upline("m59")) == 59


@pytest.mark.parametrize(
    "deep",
    [
        lambda p: any(
            r.kind == "layers"
            and any(len(rates) == p.max_generation and rates[-1] > 0 for rates in r.rates.values())
            for r in p.rules
        ),
        lambda p: any(
            r.kind == "differential" and r.peer_max > 128 and r.peer_rate for r in p.rules
        ),
    ],
    ids=["layers-every-generation", "many-peers"],
)
def test_deep_policies_pay_every_generation(deep):
    def found(p):
        return p.max_generation > 128 and deep(p)

    assert found(find(policies(max_generation=st.integers(0, 300)), found, settings=REACH))


def test_a_strategy_of_max_generations_is_checked_when_drawn():
    with pytest.raises(InvalidArgumentError, match=r"max_generation=-2 is below 0"):
        find(policies(max_generation=st.just(-2)), lambda p: True, settings=REACH)


def test_rosters_shrink_to_leaders():
    roster = find(rosters(), lambda r: len(r.entries) >= 3, settings=FIND)
    assert roster.leaders == roster.member_ids == ("r0", "r1", "r2")


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: invite_trees(min_size=5, max_size=2),
            InvalidArgumentError,
            r"min_size=5 > max_size=2; min_size must be at most max_size",
        ),
        (lambda: invite_trees(min_size=-1), InvalidArgumentError, r"min_size=-1 is below 0"),
        (lambda: invite_trees(max_size=2.0), ArgumentTypeError, r"max_size=2.0 is a float"),
        (lambda: invite_trees(tiers="member"), ArgumentTypeError, r"tiers='member' is a str"),
        (lambda: invite_trees(tiers=()), InvalidArgumentError, r"tiers=\(\) is empty"),
        (lambda: invite_trees(tiers=("a", "a")), InvalidArgumentError, r"'a' is listed twice"),
        (lambda: invite_trees(suspended_ratio=1.5), InvalidArgumentError, r"outside \[0, 1\]"),
        (lambda: invite_trees(suspended_ratio="0.2"), ArgumentTypeError, r"pass a number"),
        (lambda: invite_trees(forest=1), ArgumentTypeError, r"forest=1 is a int; pass True"),
        (lambda: policies(groups=("g", "")), InvalidArgumentError, r"groups: '' is not"),
        (lambda: policies(max_generation=-1), InvalidArgumentError, r"max_generation=-1"),
        (
            lambda: policies(max_generation="3"),
            ArgumentTypeError,
            r"max_generation='3' is a str; pass an int, a strategy of ints",
        ),
        (lambda: invite_trees(max_chain=-1), InvalidArgumentError, r"max_chain=-1 is below 0"),
        (lambda: orders({"m0": None}), ArgumentTypeError, r"tree is a dict, expected InviteTree"),
        (
            lambda: orders(InviteTree(), max_lines=0),
            InvalidArgumentError,
            r"max_lines=0 is below 1",
        ),
        (lambda: orders(InviteTree(), order_id=""), ArgumentTypeError, r"order_id='' must be"),
        (
            lambda: order_batches(InviteTree(), min_size=3, max_size=1),
            InvalidArgumentError,
            r"min_size=3 > max_size=1",
        ),
        (lambda: rosters(min_size=0), InvalidArgumentError, r"min_size=0 is below 1"),
        (lambda: scenarios(max_size=0), InvalidArgumentError, r"max_size=0 is below 1"),
    ],
)
def test_bad_arguments_fail_when_the_strategy_is_made(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_without_hypothesis_the_import_says_what_to_install(monkeypatch):
    monkeypatch.setattr(tuishou, "invariants", invariants_module)  # restored afterwards
    for name in [m for m in sys.modules if m.startswith("tuishou.testing")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "tuishou.invariants")
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # makes "import hypothesis" fail
    with pytest.raises(ImportError, match=r"pip install 'tuishou\[testing\]'"):
        importlib.import_module("tuishou.testing")
    assert importlib.import_module("tuishou.invariants").check_settlement  # needs none


# ------------------------------------------------------------------------ check_settlement


def example_a():
    """docs/domain.md §15, Example A: D 4497 (seller), C 450 (peer), B 1349, A 900; kept 1799."""
    tree = tree_from_text(
        "Z>A>B>C>D", tiers="Z:senior_advisor A:senior_advisor B:mentor C:pusher D:pusher"
    )
    order = Order(
        order_id="A-1",
        buyer_id="D",
        lines=[
            OrderLine(sku="earphones", group="ecosystem", amount=19999),
            OrderLine(sku="phone", group="xiaomi", amount=99900),
        ],
    )
    return example_policy(), tree, order


def changed(result, member, **fields):
    """``result`` with the first payout to ``member`` changed."""
    payouts = list(result.payouts)
    first = next(i for i, p in enumerate(payouts) if p.member_id == member)
    payouts[first] = replace(payouts[first], **fields)
    return replace(result, payouts=tuple(payouts))


def moved(result, member, fen):
    """``result`` with ``fen`` moved from what is retained to the first payout to ``member``."""
    amount = next(p.amount for p in result.payouts if p.member_id == member) + fen
    return replace(changed(result, member, amount=amount), retained=result.retained - fen)


def floor_policy():
    return policy(**{**example_policy().model_dump(), "rounding": "floor"})


# Each case: (invariant, how the settlement is broken, words of the message).
# A breaker takes (policy, tree, order, result) and returns the four, broken.
BREAKAGES = [
    (
        "inputs",
        lambda p, t, o, r: (p, t, o, replace(r, order_id="A-2")),
        "order 'A-1' was checked against the settlement of order 'A-2'",
    ),
    (
        "inputs",
        lambda p, t, o, r: (p, t, o, settle(floor_policy(), t, o)),
        "was settled under another policy than the one given ('youpin-tuishou')",
    ),
    (
        "amounts",
        lambda p, t, o, r: (p, t, o, moved(r, "C", -450)),
        "pays 'C' 0 fen by rule 'differential'; every payout must be a whole number of fen above 0",
    ),
    ("amounts", lambda p, t, o, r: (p, t, o, moved(r, "C", -455)), "pays 'C' -5 fen"),
    (
        "amounts",
        lambda p, t, o, r: (p, t, o, changed(r, "D", amount=4497.0)),
        "pays 'D' 4497.0 fen",
    ),
    (
        "pool",
        lambda p, t, o, r: (p, t, o, replace(r, pool=8996, retained=1800)),
        "pool 8996 fen, but its lines give 8994.8 fen, which rounds (largest_remainder, per "
        "order) to 8995",
    ),
    (
        "conservation",
        lambda p, t, o, r: (p, t, o, replace(r, retained=1798)),
        "conservation: order 'A-1' pool 8995 fen ≠ paid 7196 + retained 1798",
    ),
    (
        "conservation",
        lambda p, t, o, r: (p, t, o, changed(r, "A", amount=901)),
        "pool 8995 fen ≠ paid 7197 + retained 1799",
    ),
    (
        "retained",
        lambda p, t, o, r: (p, t, o, moved(r, "A", 1800)),
        "retains -1 fen, below 0 (pool 8995, paid 8996)",
    ),
    (
        "max_generation",
        lambda p, t, o, r: (p, t, o, changed(r, "A", generation=4)),
        "pays 'A' 900 fen at generation 4, outside 0..max_generation=3",
    ),
    (
        "suspended",
        lambda p, t, o, r: (p, suspended(t, "C"), o, r),
        "pays 'C' 450 fen by rule 'differential', but 'C' is suspended",
    ),
    (
        "chain",
        lambda p, t, o, r: (p, t, o, changed(r, "B", member_id="Z")),
        "pays 'Z' 1349 fen at generation 2, but the chain there is 'B' (chain: D > C > B > A)",
    ),
    (
        "chain",
        lambda p, t, o, r: (p, t, o, changed(r, "B", member_id="ghost")),
        "pays 'ghost' 1349 fen at generation 2",
    ),
    (
        "chain",
        lambda p, t, o, r: (p, t, o, replace(r, seller_id="C")),
        "credits seller 'C', but docs/domain.md §6 gives 'D'",
    ),
    (
        "rules",
        lambda p, t, o, r: (p, t, o, changed(r, "B", rule="bonus")),
        "pays 'B' by rule 'bonus', which policy 'youpin-tuishou' does not have",
    ),
    (
        "rules",
        lambda p, t, o, r: (p, t, o, changed(r, "B", kind="layer")),
        "pays 'B' a 'layer' payout by differential rule 'differential'",
    ),
    (
        "peer_max",
        lambda p, t, o, r: (p, t, o, changed(r, "B", kind="peer")),
        "pays 2 peer bonuses by rule 'differential' ('C', 'B'), more than peer_max=1",
    ),
    (
        "budget",
        lambda p, t, o, r: (p, t, o, changed(r, "A", share=Decimal("0.5"))),
        "pays 1.2 of the pool by rule 'differential', more than its largest share 0.80",
    ),
    (
        "rounding",
        lambda p, t, o, r: (p, t, o, moved(r, "D", 1)),
        "paid 7197 fen, but the exact total 7195.84 fen rounds (half to even, per order) to 7196",
    ),
    (
        "rounding",
        lambda p, t, o, r: (p, t, o, changed(changed(r, "B", amount=1347), "D", amount=4499)),
        "pays 'D' 4499 fen by rule 'differential', but its exact share is 4497.4 fen, which "
        "rounds (largest_remainder, per order) to 4497 to 4498 fen",
    ),
    (
        "rounding",
        lambda p, t, o, r: floored(t, o, lambda s: moved(s, "D", 1)),
        "pays 'D' 4498 fen by rule 'differential', but its exact share is 4497.4 fen, which "
        "rounds (floor, per order) to 4497 fen",
    ),
    (
        "rounding",
        lambda p, t, o, r: floored(t, o, lambda s: moved(s, "B", 1)),
        "pays 'B' 1350 fen by rule 'differential', but its exact share is 1349.22 fen",
    ),
    (
        "deterministic",
        lambda p, t, o, r: (p, promoted(t, "B"), o, r),
        "gives another settlement when settled again: payouts [('D', 'differential', "
        "'differential', 4497), ('C', 'differential', 'peer', 450), ('B', 'differential', "
        "'differential', 2249)] instead of",
    ),
]


def suspended(tree, member):
    tree.set_status(member, "suspended")
    return tree


def promoted(tree, member):
    tree.set_tier(member, "senior_advisor")
    return tree


def floored(tree, order, breaker):
    chosen = floor_policy()
    return chosen, tree, order, breaker(settle(chosen, tree, order))


@pytest.mark.parametrize(
    ("invariant", "breaker", "words"),
    BREAKAGES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(BREAKAGES)],
)
def test_check_settlement_names_the_invariant_a_broken_settlement_breaks(invariant, breaker, words):
    good_policy, tree, order = example_a()
    check_settlement(good_policy, tree, order, settle(good_policy, tree, order))  # unbroken
    broken = breaker(good_policy, tree, order, settle(good_policy, tree, order))
    with pytest.raises(InvariantError) as caught:
        check_settlement(*broken)
    assert caught.value.invariant == invariant
    assert caught.value.order_id == "A-1"
    assert str(caught.value).startswith(f"{invariant}: order 'A-1' ")
    assert words in str(caught.value)


def test_line_order_and_refund_are_checked_with_a_settle_that_breaks_them(monkeypatch):
    good_policy, tree, order = example_a()
    result = settle(good_policy, tree, order)

    def depends_on_line_order(chosen, tree, order, **options):  # as a buggy settle would
        found = settle(chosen, tree, order, **options)
        return (
            replace(found, retained=found.retained + 1) if order.lines[0].sku == "phone" else found
        )

    monkeypatch.setattr(invariant_checks, "settle", depends_on_line_order)
    with pytest.raises(
        InvariantError,
        match=r"^line_order: order 'A-1' settles differently "
        r"with its lines reversed: retained 1800 instead "
        r"of 1799$",
    ):
        check_settlement(good_policy, tree, order, result)

    monkeypatch.setattr(invariant_checks, "settle", settle)
    monkeypatch.setattr(
        invariant_checks,
        "resettle",
        lambda previous, rest: replace(previous, pool=previous.pool - 1),
    )
    with pytest.raises(
        InvariantError,
        match=r"^refund: order 'A-1' after a refund of its last "
        r"line re-settles to pool 8994 instead of 4000$",
    ):
        check_settlement(good_policy, tree, order, result)


def test_every_invariant_has_a_breakage():
    shown = {case[0] for case in BREAKAGES} | {"line_order", "refund"}
    assert shown == set(INVARIANTS)


def test_an_invariant_error_is_an_assertion_error_and_a_tuishou_error():
    assert issubclass(InvariantError, AssertionError)
    assert issubclass(InvariantError, TuishouError)


@pytest.mark.parametrize("position", range(4))
def test_check_settlement_refuses_arguments_of_the_wrong_type(position):
    arguments = list(example_a())
    arguments.append(settle(*arguments))
    arguments[position] = {"not": "it"}
    with pytest.raises(ArgumentTypeError, match=r" is a dict, expected "):
        check_settlement(*arguments)


@settings(max_examples=150, deadline=None)
@given(any_scenarios(), st.integers(1, 3), st.data())
def test_any_fen_moved_from_retained_to_a_payout_is_caught(scenario, fen, data):
    result = settle(*scenario)
    if not result.payouts or result.retained < fen:
        return  # nothing to move
    member = data.draw(st.sampled_from([p.member_id for p in result.payouts]))
    with pytest.raises(InvariantError):
        check_settlement(*scenario, moved(result, member, fen))
