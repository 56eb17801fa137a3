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

from tuishou.bindings import Binding, Bindings
from tuishou.orders import Order
from tuishou.rules import Policy
from tuishou.settlement import Payout, Settlement, paid_order
from tuishou.tree import InviteTree

__all__ = ["Case", "bound_at", "difference", "expected_seller", "fen", "money_of"]


@dataclass(frozen=True)
class Case:
    """What one check reads: the inputs, the settlement, and exact values computed once."""

    policy: Policy
    tree: InviteTree
    order: Order
    settlement: Settlement
    bindings: Bindings | None = None

    @cached_property
    def line_pools(self) -> list[Fraction]:
        """Each line's exact pool in fen, straight from docs/domain.md §7.

        The rate comes from ``Policy.pool_rate``, the one lookup settlement uses too (a plain
        precedence, SKU before group, the bracket of the quantity bought; 0 on a fixed line);
        the sums and the rounding are checked independently.
        """
        return [
            line.amount * Fraction(self.policy.pool_rate(line.sku, line.group, line.quantity) or 0)
            for line in paid_order(self.order).lines  # after the coupon (§18)
        ]

    @cached_property
    def fixed_pool(self) -> int:
        """The fixed lines' part of the pool: every fixed share, forfeited ones included."""
        return sum(share.amount for share in self.settlement.fixed_shares)

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
        seller = expected_seller(self.policy, self.tree, self.order, self.bindings)
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


def expected_seller(
    policy: Policy, tree: InviteTree, order: Order, bindings: Bindings | None = None
) -> str | None:
    """The seller docs/domain.md §6 credits: the sharer, the buyer, the member the buyer is
    bound to (guests; members with ``bind_members``) or the buyer's inviter; else None."""
    if order.sharer_id is not None and order.sharer_id != order.buyer_id:  # own link: none
        return order.sharer_id
    buyer = order.buyer_id
    member = buyer is not None and buyer in tree
    if member and policy.self_purchase:
        return buyer
    bound = bound_at(order, bindings) if policy.bind_members or not member else None
    if bound is not None:
        return bound.member_id
    return tree.inviter(buyer) if member and buyer is not None else None


def bound_at(order: Order, bindings: Bindings | None) -> Binding | None:
    """The buyer's binding in force at ``paid_at`` (§16), found by reading every binding of
    the buyer (not ``Bindings.at``'s search): independent of the code it checks."""
    if bindings is None or order.buyer_id is None or order.paid_at is None:
        return None
    paid = order.paid_at
    found = [
        b
        for b in bindings.for_customer(order.buyer_id)
        if b.since <= paid and (b.until is None or paid < b.until)
    ]
    return found[0] if found else None


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
