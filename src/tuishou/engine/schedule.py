"""Payout schedules: for every distinct seller, who is paid what share of an order's pool.

A seller's chain (generation by generation, with compression's jump to the next active
upline) and each rule's share per *slot*, a (generation, rule, kind) in the payout order of
docs/domain.md §10, computed for all sellers at once with numpy. The work depends on the number of
distinct sellers, not of orders, and never recurses, however deep the tree. The chains stop at
the deepest seller's root, so ``max_generation`` beyond the tree's depth costs nothing. Only
the slots that pay are kept (``bulk.Entries``). Each rule kind's slots come from its module
in ``tuishou.rulebook``, beside the per-chain shares ``settle`` uses.

Sentinels, one per array kind: a member index is N (the tree size) for "no member"; a tier
rank is ``len(tiers)`` for "nobody" (``tuishou.rulebook.base``).

Integer widths: a slot index is int32 (a policy has at most 2·``MAX_GENERATION`` + 1 slots
per rule), a rule position int32, a generation int32, a member index int32 (a tree of up to
2^31 − 1 members); shares, counts and offsets are int64.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tuishou.engine.bulk import Entries
from tuishou.errors import UnknownTierError, did_you_mean
from tuishou.members.arrays import TreeArrays
from tuishou.rulebook import PAYOUT_KINDS, PayoutKind, payout_order
from tuishou.rules import Policy

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
        self.chain, self.rank, self.active = chain, rank, active  # for fixed lines (§17)
        slots: list[tuple[tuple[int, int, bool], PayoutKind, IntArray, IntArray]] = []
        for position, units in enumerate(policy.units.rules):
            for generation, kind, share in units.slots(rank):  # the rule kind's semantics
                paid = np.where(active[chain[generation]], share, 0)
                if paid.any():
                    key = payout_order(generation, position, kind)
                    slots.append((key, kind, chain[generation], paid))
        slots.sort(key=lambda slot: slot[0])
        self.generation_of = np.array([key[0] for key, *_ in slots], dtype=np.int32)
        self.rule_of = np.array([key[1] for key, *_ in slots], dtype=np.int32)
        self.kind_of = np.array(
            [PAYOUT_KINDS.index(kind) for _, kind, _, _ in slots], dtype=np.int8
        )
        rows = len(self.sellers) + 1
        members = np.zeros((rows, len(slots)), dtype=np.int32)
        shares = np.zeros((rows, len(slots)), dtype=np.int64)
        for column, (_, _, member, share) in enumerate(slots):
            members[:-1, column] = member
            shares[:-1, column] = share
        self.entries = Entries.from_dense(members, shares)  # only the paying slots are kept

    def rows_for(self, seller: IntArray) -> IntArray:
        """The schedule row of each seller (all of them must be in the schedule)."""
        rows: IntArray = self.row_of[seller]
        return rows


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
    """Each chain member's rank in the policy's tiers; len(tiers) for no member (the
    rank arrays' one sentinel, ``rulebook.base.nobody``)."""
    ranks = policy.units.tier_rank
    nobody = len(policy.tiers)
    by_code = np.array(
        [ranks.get(name, nobody) for name in arrays.tier_names] + [nobody], dtype=np.int64
    )
    known = np.array([name in ranks for name in arrays.tier_names] + [True])
    tier = np.append(arrays.tier, len(arrays.tier_names))
    result = []
    for links in chain:
        codes = tier[links]
        if not known[codes].all():
            member = int(links[np.flatnonzero(~known[codes])[0]])
            name = arrays.tier_names[int(arrays.tier[member])]
            raise UnknownTierError(
                f"member {arrays.ids[member]!r} has tier {name!r}, which policy "
                f"{policy.name!r} does not list; {did_you_mean(name, policy.tiers)}"
            )
        result.append(by_code[codes])
    return result
