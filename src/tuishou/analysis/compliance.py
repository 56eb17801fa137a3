"""What a policy can pay, and the points of it to check against the rules on 分销 and 传销.

Glossary:

- **budget**: the largest share of an order's pool the policy could pay (``Policy.budget``);
  times a group's pool rate, the largest share of what the buyer paid.
- **largest share by tier**: the most one member of a tier can receive from one order, as
  the seller (generation 0) or as an upline (generation 1 or more), over every rule; each
  rule kind states its own (``seller_share``, ``upline_shares`` in ``tuishou.rulebook``).
- **generations paid**: the deepest generation above the seller any rule can pay.
- **compliance notes**: facts of the policy worth checking with counsel, in the terms
  regulators use: 三级分销 (distribution commonly kept to three levels), 传销 (pyramid
  selling, whose marks in the 禁止传销条例 include an entry fee, 入门费, and pay computed
  on a downline's sales, 团队计酬). The notes point; they are not legal advice.
"""

from __future__ import annotations

from decimal import Decimal

from tuishou.rules import DifferentialRule, Policy

__all__ = ["compliance_notes", "generations_paid", "largest_shares", "percent"]

_LEVELS = 3  # 三级分销: the depth of distribution commonly held to be the limit


def generations_paid(policy: Policy) -> int:
    """The deepest generation above the seller that any rule of ``policy`` can pay.

    >>> from tuishou.cli.demo import example_policy
    >>> generations_paid(example_policy())
    3
    """
    return max((rule.generations(policy.max_generation) for rule in policy.rules), default=0)


def largest_shares(policy: Policy) -> dict[str, tuple[Decimal, Decimal]]:
    """Per tier: the largest share of the pool one member can get from one order, as the
    seller and as an upline (every rule together).

    >>> from tuishou.cli.demo import example_policy
    >>> largest_shares(example_policy())["mentor"]
    (Decimal('0.65'), Decimal('0.65'))
    """
    return {tier: (_as_seller(policy, tier), _as_upline(policy, tier)) for tier in policy.tiers}


def _as_seller(policy: Policy, tier: str) -> Decimal:
    return sum((rule.seller_share(tier) for rule in policy.rules), Decimal(0))


def _as_upline(policy: Policy, tier: str) -> Decimal:
    """A member sits at one generation: the most every rule pays there, at the best one."""
    by_rule = [rule.upline_shares(tier, policy.max_generation) for rule in policy.rules]
    by_generation = [sum(shares, Decimal(0)) for shares in zip(*by_rule, strict=True)]
    return max(by_generation, default=Decimal(0))


def compliance_notes(policy: Policy) -> list[str]:
    """Facts of ``policy`` to check against the rules on 分销 and 传销, one sentence each.

    >>> from tuishou.cli.demo import example_policy
    >>> for note in compliance_notes(example_policy()):
    ...     print(note.split(":")[0])
    pays 3 generations
    pays a peer (平级) bonus of 5% to up to 1 upline(s) of the tier that last raised the rate
    pays the seller on its own purchases (自购省)
    sku 'gift-pack-398' has a pool rate of 50%, above every group rate
    """
    notes = _depth_notes(policy) + _peer_notes(policy)
    if policy.self_purchase and any(_as_seller(policy, t) for t in policy.tiers):
        notes.append(
            "pays the seller on its own purchases (自购省): present it to members as a "
            "discount on what they buy, not as income"
        )
    top_group = max(policy.group_rates.values(), default=Decimal(0))
    for sku, rate in sorted(policy.sku_rates.items()):
        if rate > top_group:
            notes.append(
                f"sku {sku!r} has a pool rate of {percent(rate)}, above every group "
                "rate: if it is a membership or starter package, commissions on it "
                "can look like an entry fee (入门费), a mark of 传销"
            )
    if not notes:
        notes.append(
            "nothing to note: at most "
            f"{generations_paid(policy)} generation(s) above the seller are paid"
        )
    return notes


def _depth_notes(policy: Policy) -> list[str]:
    depth = generations_paid(policy)
    notes = []
    if depth >= _LEVELS:
        beyond = " (more than three)" if depth > _LEVELS else ""
        notes.append(
            f"pays {depth} generations: check this against 三级分销 rules (the seller and "
            f"{depth} uplines{beyond} are paid); pay computed on a downline's sales many "
            "levels deep (团队计酬) is a mark of 传销 under the 禁止传销条例"
        )
    if policy.compression and depth:
        notes.append(
            "compression is on: suspended uplines are skipped, so a commission can reach a "
            f"member more than {policy.max_generation} levels above the seller in the tree; "
            "count levels the way the rules you follow do"
        )
    return notes


def _peer_notes(policy: Policy) -> list[str]:
    notes = []
    for rule in policy.rules:
        if not isinstance(rule, DifferentialRule) or not rule.peer_max or not rule.peer_rate:
            continue
        notes.append(
            f"pays a peer (平级) bonus of {percent(rule.peer_rate)} to up to {rule.peer_max} "
            "upline(s) of the tier that last raised the rate: pay that depends on the "
            "upline's team (团队计酬) deserves a check"
        )
        if rule.peer_max > policy.max_generation:
            notes.append(
                f"rule {rule.name!r}: peer_max={rule.peer_max} reaches beyond "
                f"max_generation={policy.max_generation}: at most {policy.max_generation} "
                "peer bonus(es) can be paid, but the budget counts all of them"
            )
    return notes


def percent(rate: Decimal) -> str:
    """A rate as a percentage without trailing zeros.

    >>> percent(Decimal("0.050")), percent(Decimal("0.1234"))
    ('5%', '12.34%')
    """
    value = (rate * 100).normalize()
    return f"{value:f}%"
