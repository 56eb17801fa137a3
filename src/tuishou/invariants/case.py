"""What an invariant check reads (``Case``), and how a failure shows the numbers.

``Case`` holds the inputs and the settlement, and the exact values the checks compare it with
(the pool, the chain), computed once and stated independently of ``settle``.
``difference`` names the first field in which two settlements differ; ``fen`` writes an
exact amount as a plain decimal. ``tuishou.invariants.checks`` uses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from tuishou.orders import Order
from tuishou.rules import Policy
from tuishou.settlement import Payout, Settlement, paid_order
from tuishou.tree import InviteTree

__all__ = ["Case", "difference", "expected_seller", "fen", "money_of"]


@dataclass(frozen=True)
class Case:
    """What one check reads: the inputs, the settlement, and exact values computed once."""

    policy: Policy
    tree: InviteTree
    order: Order
    settlement: Settlement

    @cached_property
    def line_pools(self) -> list[Fraction]:
        """Each line's exact pool in fen, straight from docs/domain.md §7.

        The rate comes from ``Policy.pool_rate``, the one lookup settlement uses too (a plain
        precedence, SKU before group); the sums and the rounding are checked independently.
        """
        return [
            line.amount * Fraction(self.policy.pool_rate(line.sku, line.group) or 0)
            for line in paid_order(self.order).lines  # after the coupon (§18)
        ]

    @cached_property
    def exact_pool(self) -> Fraction:
        return sum(self.line_pools, Fraction(0))

    @property
    def per_line(self) -> bool:
        return self.policy.rounding_scope == "line"

    @cached_property
    def chain(self) -> list[str]:
        """The members at generation 0, 1, ... as docs/domain.md §6, §8 and §9 define them.

        Written here again on purpose, from the tree's public methods: an independent
        statement of attribution and compression, so that a bug in ``settle``'s is caught.
        """
        seller = expected_seller(self.policy, self.tree, self.order)
        if seller is None:
            return []
        chain, member = [seller], self.tree.inviter(seller)
        while member is not None and len(chain) <= self.policy.max_generation:
            if not (self.policy.compression and self.tree.status(member) == "suspended"):
                chain.append(member)
            member = self.tree.inviter(member)
        return chain

    def rounded(self, exact: Fraction) -> int:
        """Round the policy's way: half-to-even (Python's ``round``), half up, or down."""
        if self.policy.rounding == "half_up":
            return math.floor(exact + Fraction(1, 2))
        return round(exact) if self.policy.rounding == "largest_remainder" else int(exact // 1)


def expected_seller(policy: Policy, tree: InviteTree, order: Order) -> str | None:
    """The seller docs/domain.md §3 credits: the sharer, the buyer or its inviter; else None."""
    if order.sharer_id is not None and order.sharer_id != order.buyer_id:  # own link: none
        return order.sharer_id
    if order.buyer_id is not None and order.buyer_id in tree:
        return order.buyer_id if policy.self_purchase else tree.inviter(order.buyer_id)
    return None


def money_of(settlement: Settlement) -> tuple[int, int, tuple[Payout, ...]]:
    """What a settlement pays: its pool, what the platform retains, and the payouts."""
    return settlement.pool, settlement.retained, settlement.payouts


def difference(expected: Settlement, got: Settlement) -> str:
    """The first field in which two settlements differ, both values shown."""
    for field in ("pool", "retained", "seller_id", "payouts", "shares", "chain", "lines"):
        if getattr(expected, field) != getattr(got, field):
            return (
                f"{field} {_short(getattr(got, field))} instead of "
                f"{_short(getattr(expected, field))}"
            )
    return "the settlements differ"


def _short(value: object) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], Payout):
        value = [(p.member_id, p.rule, p.kind, p.amount) for p in value]
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def fen(value: Fraction) -> str:
    """An exact amount as a plain decimal (4497.4); every exact amount here has one.

    >>> fen(Fraction(44974, 10)), fen(Fraction(3, 1))
    ('4497.4', '3')
    """
    for places in range(13):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return format(Decimal(scaled.numerator).scaleb(-places), "f")
    return str(value)
