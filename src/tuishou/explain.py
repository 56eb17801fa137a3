"""``Settlement.explain()``: an order's commission told in plain lines, fen by fen.

The account names the policy (and its version, when the order was settled under policy
versions: "version v1, in force from 2026-11-01 00:00+08:00"), the seller and why (with
the customer binding that credited it: "customer c-1 bound to B since 2026-11-03 08:00
+08:00 (first share)"), each line's pool (and its share of the order's coupon), the
chain with tiers, every share with its rule (including shares forfeited by suspended
members), how rounding moved each amount, and what the platform retains. Amounts are
shown in yuan with the exact fen beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuishou.money import percent, yuan
from tuishou.policy_versions import describe_version

if TYPE_CHECKING:
    from tuishou.settlement import LinePool, Settlement

__all__ = ["explain"]

_ATTRIBUTION = {
    "sharer": "the order came through {seller}'s share link",
    "self_purchase": "{seller} bought for themselves (self-purchase pays the buyer)",
    "buyer_inviter": "the buyer is a member invited by {seller}, who is credited with the sale",
    "none": "no member is credited (guest or root buyer without a share link)",
    "binding": "no share link; {binding}, who is credited with the sale",
}
_ROUNDING = {
    ("largest_remainder", "order"): "largest remainder, once per order",
    ("largest_remainder", "line"): "largest remainder, per line",
    ("floor", "order"): "rounded down, once per order",
    ("floor", "line"): "rounded down, per line",
    ("half_up", "order"): "half up, once per order, trimmed to the pool",
    ("half_up", "line"): "half up, per line, trimmed to the pool",
}


def explain(settlement: Settlement) -> str:
    """Render ``settlement`` as text; see ``Settlement.explain``.

    >>> from tuishou.examples import example_settlement
    >>> print(explain(example_settlement()))  # doctest: +ELLIPSIS
    Order o1 under policy 'demo' (largest remainder, once per order)
    Seller: A: the order came through A's share link
    ...
    Paid ¥5.00 to 1 member(s); the platform retains ¥5.00.
    """
    s = settlement
    rounding = _ROUNDING[(s.policy.rounding, s.policy.rounding_scope)]
    version = "" if s.version is None else describe_version(s.version, s.version_from) + "; "
    lines = [f"Order {s.order_id} under policy {s.policy_name!r} ({version}{rounding})"]
    own = (
        ""
        if s.own_link is None
        else (f"{s.own_link} bought through their own share link, which counts as no share link; ")
    )
    lines.append(
        f"Seller: {s.seller_id or '-'}: "
        + own
        + _ATTRIBUTION[s.attribution].format(
            seller=s.seller_id, binding=s.binding.describe() if s.binding else "-"
        )
    )
    lines += _pool_lines(s)
    if s.chain:
        lines.append("Chain (generation, member, tier, status):")
        for link in s.chain:
            gen = "-" if link.generation is None else str(link.generation)
            note = (
                "  skipped (suspended; compression moves the next upline down)"
                if link.generation is None
                else ""
            )
            lines.append(f"  {gen:>3}  {link.member_id}  {link.tier}  {link.status}{note}")
    lines += _payout_lines(s)
    lines.append(
        f"Paid {yuan(s.paid)} to {len({p.member_id for p in s.payouts})} member(s); "
        f"the platform retains {yuan(s.retained)}."
    )
    return "\n".join(lines)


def _pool_lines(s: Settlement) -> list[str]:
    lines = ["Pool:"]
    for i, line in enumerate(s.lines, 1):
        if line.rate_from == "fixed":
            lines.append(_fixed_line(i, line))
            continue
        source = "sku rate" if line.rate_from == "sku" else f"{line.group} rate"
        source += "" if line.bracket is None else f" (bracket from {line.bracket} units)"
        rounded = "" if line.rounded is None else f" -> {line.rounded} fen"
        lines.append(
            f"  line {i}: {line.sku} ({line.group}) paid {yuan(line.amount)}{_coupon(line)} x "
            f"{percent(line.rate)} {source} = {line.exact} fen{rounded}"
        )
    lines.append(f"  pool: {yuan(s.pool)} ({s.pool} fen)")
    return lines


def _fixed_line(i: int, line: LinePool) -> str:
    """A fixed line (docs/domain.md §17): no pool share, its fixed amounts instead."""
    bracket = "" if line.bracket is None else f", bracket from {line.bracket} units"
    return (
        f"  line {i}: {line.sku} ({line.group}) paid {yuan(line.amount)}, {line.quantity} "
        f"unit(s){bracket}: fixed amounts, no pool share = {line.fixed} fen"
    )


def _fixed_lines(s: Settlement) -> list[str]:
    if not s.fixed_shares:
        return []
    lines = ["Fixed amounts (per unit x units, never rounded):"]
    for f in s.fixed_shares:
        head = (
            f"  gen {f.generation}  {f.member_id}  {f.rule}/{f.kind}  line {f.line + 1} "
            f"{s.lines[f.line].sku}: fixed {yuan(f.per_unit)} x {f.units} = {yuan(f.amount)}"
        )
        forfeited = "" if f.paid else f"  forfeited: {f.member_id} is suspended, stays in the pool"
        lines.append(head + forfeited)
    return lines


def _coupon(line: LinePool) -> str:
    """A line's share of the order's coupon, when it has one (docs/domain.md §18)."""
    discount = getattr(line, "discount", 0)
    if not discount:
        return ""
    return f" ({yuan(line.amount + discount)} less {yuan(discount)} of the coupon)"


def _payout_lines(s: Settlement) -> list[str]:
    if s.fixed_shares and not s.shares:
        return _fixed_lines(s)
    if not s.shares:
        return ["Shares: none (nobody in the chain qualifies under the rules)", *_fixed_lines(s)]
    lines = ["Shares of the pool:"]
    paid = {(p.member_id, p.rule, p.kind): p for p in s.payouts}
    for share in s.shares:
        head = (
            f"  gen {share.generation}  {share.member_id}  {share.rule}/{share.kind}  "
            f"{percent(share.share)}"
        )
        payout = paid.get((share.member_id, share.rule, share.kind))
        if not share.paid:
            lines.append(f"{head}  forfeited: {share.member_id} is suspended, stays in the pool")
        elif payout is None:
            lines.append(f"{head}  rounds to 0 fen: not paid")
        elif payout.fixed:
            rate_part = payout.amount - payout.fixed
            lines.append(
                f"{head}  exact {payout.exact - payout.fixed} fen -> {yuan(rate_part)}, "
                f"plus fixed {yuan(payout.fixed)} = {yuan(payout.amount)}"
            )
        else:
            lines.append(f"{head}  exact {payout.exact} fen -> {yuan(payout.amount)}")
    return lines + _fixed_lines(s)
