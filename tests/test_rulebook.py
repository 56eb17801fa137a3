"""Each rule kind's two forms agree: the per-chain shares ``settle`` uses and the vectorised
slots the batch engine uses, on the same chains of tier ranks (short chains end in "nobody")."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tuishou.rulebook import PAYOUT_KINDS, DifferentialRule, LayersRule, SellerRule
from tuishou.rulebook.base import nobody

TIERS = ("member", "pusher", "mentor", "partner")
RULES = [
    SellerRule(kind="seller", rates={"member": "0.05", "mentor": "0.1"}),
    LayersRule(kind="layers", rates={"member": ["0.02", "0.01"], "partner": ["0.03"]}),
    DifferentialRule(
        kind="differential",
        rates={"pusher": "0.5", "mentor": "0.65", "partner": "0.7"},
        peer_rate="0.05",
        peer_max=2,
    ),
    DifferentialRule(
        kind="differential",
        rates={"member": "0.1", "mentor": "0.3"},
        include_seller=False,
        peer_rate="0.01",
        peer_max=1,
    ),
]


def chains(count: int, generations: int) -> list[list[int]]:
    """Random chains of tier ranks, each ending early (padded with "nobody") at random."""
    rng = random.Random(11)
    result = []
    for _ in range(count):
        length = rng.randint(1, generations)
        ranks = [rng.randrange(len(TIERS)) for _ in range(length)]
        result.append(ranks + [nobody(TIERS)] * (generations - length))
    return result


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.kind}")
def test_the_scalar_shares_and_the_vectorised_slots_agree(rule):
    units = rule.units(TIERS)
    padded = chains(300, 6)
    ranks = [np.array(column, dtype=np.int64) for column in zip(*padded, strict=True)]
    from_slots = [{} for _ in padded]
    for generation, kind, share in units.slots(ranks):
        for seller, value in enumerate(share.tolist()):
            if value:
                from_slots[seller][generation, kind] = value
    for chain, expected in zip(padded, from_slots, strict=True):
        present = [rank for rank in chain if rank != nobody(TIERS)]
        got = {(g, kind): share for g, kind, share in units.shares(present) if share}
        assert got == expected
        assert {kind for _, kind in got} <= set(rule.pays) <= set(PAYOUT_KINDS)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.kind}")
def test_no_chain_is_paid_more_than_the_rule_s_largest_share(rule):
    units = rule.units(TIERS)
    for chain in chains(300, 6):
        present = [rank for rank in chain if rank != nobody(TIERS)]
        paid = sum(share for _, _, share in units.shares(present))
        assert paid <= rule.max_share() * 10_000
