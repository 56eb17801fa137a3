"""The fixed lines of one order (docs/domain.md §17), for ``settle``: the amount check, each
chain member's fixed amounts, and how they join the pool and the payouts.

What a fixed schedule pays is its rule walks' (:mod:`tuishou.rulebook.fixed`, the same walks as
for rates); this module only lays the result out for one order: a ``FixedShare`` per member,
rule and line, the line's part of the pool (every share, forfeited ones included) and the
payouts, each rule payout's fixed part added to what the rates pay it (``Payout.fixed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from tuishou.errors import ArgumentTypeError, InvalidOrderError
from tuishou.money import MAX_ORDER_FEN, yuan
from tuishou.orders import Order
from tuishou.rulebook import payout_order
from tuishou.rules import Policy
from tuishou.settlement.results import ChainLink, FixedShare, LinePool, Payout

__all__ = ["bought_of", "check_fixed_amounts", "fixed_shares", "with_fixed"]


def bought_of(order: Order, bought: Sequence[int] | None) -> list[int]:
    """The quantity bought on each line: ``bought`` (aligned with the lines, e.g. when a
    refund re-settles what remains), else each line's own quantity.

    >>> from tuishou.examples import example_order
    >>> bought_of(example_order(), None), bought_of(example_order(), [3])
    ([1], [3])
    """
    if bought is None:
        return [line.quantity for line in order.lines]
    found = list(bought)
    if len(found) != len(order.lines) or not all(
        isinstance(q, int) and not isinstance(q, bool) for q in found
    ):
        raise ArgumentTypeError(
            f"order {order.order_id!r}: bought={found!r} must give one int per line "
            f"({len(order.lines)} lines), the quantity bought on each"
        )
    for line, quantity in zip(order.lines, found, strict=True):
        if quantity < line.quantity:
            raise InvalidOrderError(
                f"order {order.order_id!r}: bought={quantity} on sku {line.sku!r} is below "
                f"its quantity {line.quantity}; give the quantity originally bought"
            )
    return found


def check_fixed_amounts(policy: Policy, order: Order, bought: Sequence[int]) -> None:
    """Refuse fixed lines whose fixed budget × quantity is above their paid amount, unless the
    policy sets ``allow_fixed_above_amount`` (the free-gift case)."""
    if not policy.fixed:
        return
    problems = []
    total = 0
    for line, quantity in zip(order.lines, bought, strict=True):
        if policy.is_fixed(line.sku):
            most = policy.fixed_budget(line.sku, quantity) * line.quantity
            total += most
            if most > line.amount and not policy.allow_fixed_above_amount:
                problems.append(
                    f"sku {line.sku!r}: fixed amounts up to {most} fen ({yuan(most)}) for "
                    f"{line.quantity} unit(s), above the line's paid {line.amount} fen"
                )
    if total > MAX_ORDER_FEN:  # even a free gift: what one order can pay, as its amount
        raise InvalidOrderError(
            f"order {order.order_id!r}: fixed amounts up to {total} fen, above the supported "
            f"maximum of {MAX_ORDER_FEN} fen ({yuan(MAX_ORDER_FEN)}) per order; check the "
            "quantities and the fixed amounts (int fen per unit)"
        )
    if problems:
        raise InvalidOrderError(
            f"order {order.order_id!r}: " + "; ".join(problems) + "; lower the fixed "
            "amounts, or set allow_fixed_above_amount = true in the policy to pay them "
            "anyway (a free gift)"
        )


def fixed_shares(
    policy: Policy, order: Order, chain: tuple[ChainLink, ...], bought: Sequence[int]
) -> tuple[FixedShare, ...]:
    """Every fixed share of the order's fixed lines on ``chain``, line by line in payout order."""
    if not chain or not policy.fixed:
        return ()
    counted = [link for link in chain if link.generation is not None]  # generations 0, 1, ...
    ranks = [policy.units.tier_rank[link.tier] for link in counted]
    names = [rule.name for rule in policy.rules]
    found = []
    for index, (line, quantity) in enumerate(zip(order.lines, bought, strict=True)):
        table = policy.units.fixed.get(line.sku)
        if table is None:
            continue
        shares = sorted(
            table.for_quantity(quantity).shares(ranks), key=lambda s: payout_order(s[1], s[0], s[2])
        )
        for position, generation, kind, fen in shares:
            link = counted[generation]
            found.append(
                FixedShare(
                    index,
                    link.member_id,
                    names[position],
                    kind,
                    generation,
                    fen,
                    line.quantity,
                    link.status == "active",
                )
            )
    return tuple(found)


def with_fixed(
    policy: Policy,
    lines: tuple[LinePool, ...],
    payouts: tuple[Payout, ...],
    shares: tuple[FixedShare, ...],
) -> tuple[tuple[LinePool, ...], tuple[Payout, ...], int]:
    """The lines with their fixed parts of the pool, the payouts with their fixed parts, and
    the fixed total (what the pool gains: every share, forfeited ones included)."""
    if not shares:
        return lines, payouts, 0
    per_line = [0] * len(lines)
    for share in shares:
        per_line[share.line] += share.amount
    lines = tuple(
        replace(
            line, fixed=fixed, exact=Decimal(fixed), rounded=None if line.rounded is None else fixed
        )
        if line.rate_from == "fixed"
        else line
        for line, fixed in zip(lines, per_line, strict=True)
    )
    position = {rule.name: index for index, rule in enumerate(policy.rules)}
    merged = {(p.member_id, p.rule, p.kind, p.generation): p for p in payouts}
    for share in shares:
        if share.paid:
            key = (share.member_id, share.rule, share.kind, share.generation)
            was = merged.get(key) or Payout(*key, 0, Decimal(0), Decimal(0))
            merged[key] = replace(
                was,
                amount=was.amount + share.amount,
                exact=was.exact + share.amount,
                fixed=was.fixed + share.amount,
            )
    ordered = sorted(
        merged.values(), key=lambda p: payout_order(p.generation, position[p.rule], p.kind)
    )
    return lines, tuple(ordered), sum(per_line)
