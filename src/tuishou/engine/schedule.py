"""Payout schedules: for every distinct seller, who is paid what share of an order's pool.

A seller's chain (generation by generation, with compression's jump to the next active
upline) and each rule's share per *slot*, a (generation, rule, kind) in the payout order of
docs/domain.md §10, computed for all sellers at once with numpy. The work depends on the number of
distinct sellers, not of orders, and never recurses, however deep the tree. The chains stop at
the deepest seller's root, so ``max_generation`` beyond the tree's depth costs nothing. Only
the slots that pay are kept (``bulk.Entries``).

Integer widths: a slot index is int32 (a policy has at most 2·``MAX_GENERATION`` + 1 slots
per rule), a rule position int32, a generation int32, a member index int32 (a tree of up to
2^31 − 1 members); shares, counts and offsets are int64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.engine.bulk import Entries
from tuishou.engine.tables import KINDS
from tuishou.errors import UnknownTierError, did_you_mean
from tuishou.members.arrays import TreeArrays
from tuishou.money import RATE_SCALE
from tuishou.rules import DifferentialRule, LayersRule, Policy, SellerRule

__all__ = ["Schedule"]

IntArray = npt.NDArray[np.int64]


class Schedule:
    """Per distinct seller: the member and share (1/10 000) of each slot that pays, as
    ``entries``; ``rows_for`` maps sellers to their rows."""

    def __init__(self, policy: Policy, arrays: TreeArrays, seller: IntArray) -> None:
        size = arrays.size
        present = np.zeros(size + 1, dtype=bool)
        present[seller] = True  # a mark per member: O(members + orders), no sorting
        self.sellers = np.flatnonzero(present[:size])
        # Row len(sellers) is all zeros: what anyone who is not a seller (and "no seller",
        # index N) maps to, so orders without a seller need no special case.
        self.row_of = np.full(size + 1, len(self.sellers), dtype=np.int64)
        self.row_of[self.sellers] = np.arange(len(self.sellers))
        chain = _chains(policy, arrays, self.sellers)
        rank = _policy_ranks(policy, arrays, chain)
        active = np.append(arrays.active, False)
        slots: list[tuple[tuple[int, int, int], IntArray, IntArray]] = []
        for position, rule in enumerate(policy.rules):
            for generation, kind, share in _rule_slots(rule, policy, chain, rank):
                paid = np.where(active[chain[generation]], share, 0)
                if paid.any():
                    key = (generation, position, kind == "peer")
                    slots.append((key, chain[generation], paid))
        slots.sort(key=lambda slot: slot[0])
        keys = [key for key, _, _ in slots]
        self.generation_of = np.array([k[0] for k in keys], dtype=np.int32)
        self.rule_of = np.array([k[1] for k in keys], dtype=np.int32)
        self.kind_of = np.array([_kind(policy.rules[k[1]], bool(k[2])) for k in keys],
                                dtype=np.int8)
        rows = len(self.sellers) + 1
        members = np.zeros((rows, len(slots)), dtype=np.int32)
        shares = np.zeros((rows, len(slots)), dtype=np.int64)
        for column, (_, member, share) in enumerate(slots):
            members[:-1, column] = member
            shares[:-1, column] = share
        self.entries = Entries.from_dense(members, shares)  # only the paying slots are kept

    def rows_for(self, seller: IntArray) -> IntArray:
        """The schedule row of each seller (all of them must be in the schedule)."""
        rows: IntArray = self.row_of[seller]
        return rows


def _kind(rule: SellerRule | LayersRule | DifferentialRule, peer: bool) -> int:
    if isinstance(rule, SellerRule):
        return KINDS.index("seller")
    if isinstance(rule, LayersRule):
        return KINDS.index("layer")
    return KINDS.index("peer" if peer else "differential")


def _chains(policy: Policy, arrays: TreeArrays, sellers: IntArray) -> list[IntArray]:
    """chain[g][i]: the member at generation g above seller i, or N (none)."""
    size = arrays.size
    parent = np.append(arrays.parent, size)
    step = parent
    if policy.compression:  # the next active upline: jump over suspended ones
        nearest = np.where(np.append(arrays.active, True), np.arange(size + 1), parent)
        while True:
            jumped = nearest[nearest]
            if np.array_equal(jumped, nearest):
                break
            nearest = jumped
        step = nearest[parent]
    chain = [sellers]
    for _ in range(policy.max_generation):
        above = step[chain[-1]]
        if (above == size).all():  # every chain has reached its root: nobody further up
            break
        chain.append(above)
    return chain


def _policy_ranks(policy: Policy, arrays: TreeArrays, chain: list[IntArray]) -> list[IntArray]:
    """Each chain member's rank in the policy's tiers (len(tiers) for "nobody")."""
    ranks = policy.units.tier_rank
    none = len(policy.tiers)
    by_code = np.array([ranks.get(name, -1) for name in arrays.tier_names] + [none],
                       dtype=np.int64)
    tier = np.append(arrays.tier, len(arrays.tier_names))
    result = []
    for links in chain:
        rank = by_code[tier[links]]
        if (rank < 0).any():
            member = int(links[np.flatnonzero(rank < 0)[0]])
            name = arrays.tier_names[int(arrays.tier[member])]
            raise UnknownTierError(
                f"member {arrays.ids[member]!r} has tier {name!r}, which policy "
                f"{policy.name!r} does not list; {did_you_mean(name, policy.tiers)}")
        result.append(rank)
    return result


def _rule_slots(rule: SellerRule | LayersRule | DifferentialRule, policy: Policy,
                chain: list[IntArray], rank: list[IntArray]) -> list[tuple[int, str, IntArray]]:
    """(generation, kind, share per seller) for every slot the rule can pay."""
    tiers = policy.tiers
    if isinstance(rule, SellerRule):
        table = _table([rule.rates.get(t, 0) for t in tiers])
        return [(0, "seller", table[rank[0]])]
    if isinstance(rule, LayersRule):
        slots = []
        for generation in range(1, len(chain)):
            rates = [r[generation - 1] if generation <= len(r) else 0
                     for r in (rule.rates.get(t, ()) for t in tiers)]
            slots.append((generation, "layer", _table(rates)[rank[generation]]))
        return slots
    return _differential(rule, policy, rank)


def _differential(rule: DifferentialRule, policy: Policy,
                  rank: list[IntArray]) -> list[tuple[int, str, IntArray]]:
    table = _table([rule.rates.get(t, 0) for t in policy.tiers])
    peer_rate = int(rule.peer_rate.scaleb(4))
    sellers = len(rank[0])
    paid = np.zeros(sellers, dtype=np.int64)
    top = np.full(sellers, -1, dtype=np.int64)
    peers = np.zeros(sellers, dtype=np.int64)
    nobody = len(policy.tiers)
    peer_max = min(rule.peer_max, len(rank))  # no chain has more peers than links
    slots = []
    for generation in range(0 if rule.include_seller else 1, len(rank)):
        tier = rank[generation]
        rate = table[tier]
        raise_ = rate > paid
        peer = (~raise_ & (generation >= 1) & (tier == top) & (tier != nobody)
                & (peers < peer_max))
        slots.append((generation, "differential", np.where(raise_, rate - paid, 0)))
        slots.append((generation, "peer", np.where(peer, peer_rate, 0)))
        peers += peer
        paid = np.where(raise_, rate, paid)
        top = np.where(raise_, tier, top)
    return slots


def _table(rates: list[Any]) -> IntArray:
    """Rates by policy tier rank as basis points, with 0 appended for "nobody"."""
    return np.array([int(r * RATE_SCALE) for r in rates] + [0], dtype=np.int64)
