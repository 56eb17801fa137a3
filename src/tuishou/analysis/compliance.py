"""What a policy can pay, and the points of it to check against the rules on 分销 and 传销.

Glossary:

- **budget**: the largest share of an order's pool the policy could pay (``Policy.budget``);
  times a group's pool rate, the largest share of what the buyer paid.
- **largest share by tier**: the most one member of a tier can receive from one order, as
  the seller (generation 0) or as an upline (generation 1 or more), over every rule; each
  rule kind states its own (``seller_share``, ``upline_shares`` in ``tuishou.rulebook``).
- **generations paid**: the deepest generation above the seller any rule can pay, by a
  rate or by a fixed schedule.
- **largest fixed amounts**: per fixed SKU and tier, the most one member can receive per unit
  from its fixed schedule (docs/domain.md §17), as the seller and as an upline, over its
  quantity brackets.
- **compliance notes**: facts of the policy worth checking with counsel, in the terms
  regulators use: 三级分销 (distribution commonly kept to three levels), 传销 (pyramid
  selling, whose marks in the 禁止传销条例 include an entry fee, 入门费, and pay computed
  on a downline's sales, 团队计酬). The notes point; they are not legal advice.
"""

from __future__ import annotations

from decimal import Decimal

from tuishou.money import percent, yuan
from tuishou.rulebook.brackets import RateBracket
from tuishou.rules import DifferentialRule, Policy

__all__ = [
    "TEAM_PAY",
    "compliance_flags",
    "compliance_notes",
    "generations_paid",
    "largest_fixed",
    "largest_shares",
    "top_rate",
]

_LEVELS = 3  # 三级分销: the depth of distribution commonly held to be the limit

TEAM_PAY = "team_pay"
"""The compliance flag of a policy that pays on a downline's sales by period (团队计酬): a team
bonus or a mentor bonus in its period plan (docs/domain.md §20, §21)."""


def compliance_flags(policy: Policy) -> frozenset[str]:
    """The marks of 传销 risk a program can test for: ``TEAM_PAY`` when the policy's period
    plan has a team bonus or a mentor bonus (团队计酬).

    >>> from tuishou.examples import example_policy
    >>> compliance_flags(example_policy())
    frozenset()
    >>> plan = {"team_bonus": {"brackets": [{"from": 1_000_000, "rate": "0.03"}]}}
    >>> with_plan = Policy.model_validate({**example_policy().model_dump(), "period_plan": plan})
    >>> sorted(compliance_flags(with_plan))
    ['team_pay']
    """
    plan = policy.period_plan
    return frozenset({TEAM_PAY}) if plan is not None and plan.pays_team else frozenset()


def generations_paid(policy: Policy) -> int:
    """The deepest generation above the seller that any rule of ``policy`` can pay.

    >>> from tuishou.cli.demo import example_policy
    >>> generations_paid(example_policy())
    3
    """
    by_rates = max((rule.generations(policy.max_generation) for rule in policy.rules), default=0)
    by_fixed = max(
        (
            units.most(0, policy.max_generation)[2]
            for table in policy.units.fixed.values()
            for units in table.units
        ),
        default=0,
    )
    return max(by_rates, by_fixed)


def largest_fixed(policy: Policy) -> dict[str, dict[str, tuple[int, int]]]:
    """Per fixed SKU, per tier: the most one member can get per unit from its fixed schedule,
    in fen, as the seller and as an upline (the best bracket of each).

    >>> from tuishou.rules import Policy
    >>> policy = Policy.model_validate({"name": "p", "tiers": ["m"], "group_rates": {"g": "1"},
    ...     "rules": [{"kind": "seller", "rates": {"m": "0.1"}}],
    ...     "fixed": {"mug": {"seller": {"amounts": {"m": 500}}}}})
    >>> largest_fixed(policy)
    {'mug': {'m': (500, 0)}}
    """
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for sku, table in sorted(policy.units.fixed.items()):
        found[sku] = {}
        for rank, tier in enumerate(policy.tiers):
            most = [units.most(rank, policy.max_generation) for units in table.units]
            found[sku][tier] = (max(m[0] for m in most), max(m[1] for m in most))
    return found


def top_rate(rate: Decimal | tuple[RateBracket, ...]) -> Decimal:
    """A ``sku_rates`` value's highest rate (over its quantity brackets, if it has them).

    >>> top_rate(Decimal("0.05"))
    Decimal('0.05')
    """
    return rate if isinstance(rate, Decimal) else max(bracket.rate for bracket in rate)


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
        if top_rate(rate) > top_group:
            notes.append(
                f"sku {sku!r} has a pool rate of {percent(top_rate(rate))}, above every group "
                "rate: if it is a membership or starter package, commissions on it "
                "can look like an entry fee (入门费), a mark of 传销"
            )
    notes += _fixed_notes(policy) + _period_notes(policy)
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


def _fixed_notes(policy: Policy) -> list[str]:
    notes = []
    for sku in sorted(policy.fixed):
        most = max(units.budget for units in policy.units.fixed[sku].units)
        notes.append(
            f"sku {sku!r} pays fixed amounts of up to {yuan(most)} per unit whatever its price "
            "(固定佣金): check them against the price when it changes"
        )
    if policy.fixed and policy.allow_fixed_above_amount:
        notes.append(
            "allow_fixed_above_amount is on: fixed amounts are paid even above what the buyer "
            "paid (free gifts); commissions on free or starter items can look like pay for "
            "recruiting (拉人头), a mark of 传销"
        )
    return notes


def _period_notes(policy: Policy) -> list[str]:
    plan = policy.period_plan
    if plan is None:
        return []
    notes = []
    if plan.team_bonus is not None:
        brackets = plan.team_bonus.brackets
        notes.append(
            f"period plan {plan.name!r} pays a team bonus (团队业绩奖) of up to "
            f"{percent(plan.team_bonus.top_rate)} of a team's volume from "
            f"{yuan(brackets[0].start)} of team volume on: pay computed on a downline's sales "
            "(团队计酬) is one of the marks of 传销 under the 禁止传销条例; have counsel review it"
        )
    mentor = plan.mentor_bonus
    if mentor is not None and mentor.rates:
        shares = ", ".join(percent(rate) for rate in mentor.rates)
        notes.append(
            f"period plan {plan.name!r} pays a mentor bonus (育成奖) of {shares} of a mentee's "
            f"team bonus over {len(mentor.rates)} generation(s): pay on a downline's team "
            "(团队计酬) is one of the marks of 传销; have counsel review it"
        )
    if mentor is not None and mentor.promotion_rewards:
        rewards = ", ".join(
            f"{t} {yuan(fen)}" for t, fen in sorted(mentor.promotion_rewards.items())
        )
        notes.append(
            f"period plan {plan.name!r} pays a one-off reward when a direct invitee is "
            f"promoted ({rewards}): pay tied to recruits' progress can look like pay for "
            "recruiting (拉人头) or team pay (团队计酬), marks of 传销"
        )
    return notes
