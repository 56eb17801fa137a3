"""docs/domain.md §14's invariants, under hypothesis, plus an independent reference settlement.

The scenarios come from ``tuishou.testing``, the strategies users test their policies with.

The reference (``reference_settle``) re-reads docs/domain.md §6-§10 with ``Fraction`` and Python's
own half-to-even ``round``; it shares no code with tuishou's settlement.
"""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import InviteTree, Order, Policy, resettle, settle
from tuishou.testing import check_settlement

from helpers import any_scenarios

EXAMPLES = settings(max_examples=300, deadline=None)


def reference_settle(policy: Policy, tree: InviteTree, order: Order):
    """(pool, {(member, rule, kind): amount}) straight from the domain text."""
    seller = _reference_seller(policy, tree, order)
    rates = [
        Fraction(str(policy.sku_rates.get(line.sku, policy.group_rates[line.group])))
        for line in order.lines
    ]
    exact_lines = [line.amount * r for line, r in zip(order.lines, rates, strict=True)]
    pieces = [sum(exact_lines)] if policy.rounding_scope == "order" else exact_lines
    shares = _reference_shares(policy, tree, seller) if seller else []
    amounts: dict[tuple[str, str, str], int] = {}
    pool = 0
    for piece in pieces:
        exact = [share * piece for *_, share in shares]
        floors = [int(e // 1) for e in exact]
        if policy.rounding == "largest_remainder":
            pool += round(piece)
            missing = round(sum(exact)) - sum(floors)
            order_by_remainder = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
            for i in order_by_remainder[:missing]:
                floors[i] += 1
        else:
            pool += int(piece // 1)
        for (member, rule, kind, _), amount in zip(shares, floors, strict=True):
            key = (member, rule, kind)
            amounts[key] = amounts.get(key, 0) + amount
    return pool, {key: amount for key, amount in amounts.items() if amount}


def _reference_seller(policy, tree, order):
    if order.sharer_id is not None and order.sharer_id != order.buyer_id:  # own link: none
        return order.sharer_id
    if order.buyer_id in tree:
        return order.buyer_id if policy.self_purchase else tree.inviter(order.buyer_id)
    return None


def _reference_chain(policy, tree, seller):
    chain, generation, member = [(seller, 0)], 0, tree.inviter(seller)
    while member is not None and generation < policy.max_generation:
        if not (policy.compression and tree.status(member) == "suspended"):
            generation += 1
            chain.append((member, generation))
        member = tree.inviter(member)
    return chain


def _reference_shares(policy, tree, seller):
    chain = _reference_chain(policy, tree, seller)
    found = []
    for position, rule in enumerate(policy.rules):
        for member, generation, kind, share in _reference_rule(rule, tree, chain):
            if share > 0 and tree.status(member) == "active":
                found.append(
                    ((generation, position, kind == "peer"), member, rule.name, kind, share)
                )
    found.sort(key=lambda item: item[0])
    return [(member, rule, kind, Fraction(str(share))) for _, member, rule, kind, share in found]


def _reference_rule(rule, tree, chain):
    if rule.kind == "seller":
        yield chain[0][0], 0, "seller", rule.rates.get(tree.tier(chain[0][0]), 0)
    elif rule.kind == "layers":
        for member, g in chain[1:]:
            rates = rule.rates.get(tree.tier(member), ())
            yield member, g, "layer", rates[g - 1] if g <= len(rates) else 0
    else:
        paid, top, peers = 0, None, 0
        for member, g in chain if rule.include_seller else chain[1:]:
            tier = tree.tier(member)
            r = rule.rates.get(tier, 0)
            if r > paid:
                yield member, g, "differential", r - paid
                paid, top = r, tier
            elif g >= 1 and tier == top and peers < rule.peer_max:
                yield member, g, "peer", rule.peer_rate
                peers += 1


@EXAMPLES
@given(any_scenarios())
def test_settle_matches_the_reference(scenario):
    policy, tree, order = scenario
    result = settle(policy, tree, order)
    pool, amounts = reference_settle(policy, tree, order)
    assert result.pool == pool
    assert {(p.member_id, p.rule, p.kind): p.amount for p in result.payouts} == amounts


@EXAMPLES
@given(any_scenarios())
def test_every_invariant_holds(scenario):
    """Conservation, no payout beyond max_generation or to a suspended member, the budget,
    rounding, ...: every check of ``tuishou.invariants`` (each is shown to catch a broken
    settlement in test_testing.py)."""
    check_settlement(*scenario, settle(*scenario))


@EXAMPLES
@given(any_scenarios(), st.randoms(use_true_random=False))
def test_same_input_same_output_whatever_the_order(scenario, rng: random.Random):
    policy, tree, order = scenario
    expected = settle(policy, tree, order)
    assert settle(policy, tree, order) == expected

    records = tree.to_records()
    rng.shuffle(records)
    reordered_tree = InviteTree.from_records(records, tiers=tree.tiers)
    reversed_policy = Policy.model_validate(_reverse_dicts(policy.model_dump()))
    lines = list(order.lines)
    rng.shuffle(lines)
    reordered = settle(reversed_policy, reordered_tree, order.model_copy(update={"lines": lines}))
    assert reordered.payouts == expected.payouts
    assert (reordered.pool, reordered.retained) == (expected.pool, expected.retained)


def _reverse_dicts(value):
    if isinstance(value, dict):
        return {k: _reverse_dicts(v) for k, v in reversed(value.items())}
    if isinstance(value, list | tuple):
        return [_reverse_dicts(v) for v in value]
    return value


@EXAMPLES
@given(any_scenarios(), st.randoms(use_true_random=False))
def test_resettling_uses_the_recorded_chain_not_todays_tree(scenario, rng: random.Random):
    policy, tree, order = scenario
    first = settle(policy, tree, order)
    for member in list(tree):  # today's tree differs: shuffled tiers, everyone suspended
        tree.set_tier(member, rng.choice(policy.tiers))
        tree.set_status(member, "suspended")
    assert resettle(first, order) == first
