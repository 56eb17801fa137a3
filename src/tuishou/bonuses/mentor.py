"""The mentor bonus (育成奖, docs/domain.md §21): shares of a mentee's team bonus for the
uplines it has caught up with, and one-off rewards when a direct invitee is promoted.

Glossary:

- **mentee** (被育成人): a member paid a team bonus in the period;
- **generation**: the upline at generation g of a mentee is its inviter (g = 1), that
  inviter's inviter (g = 2), ..., along the invite chain as it is (no compression);
- **mentor share**: ``floor(rates[g - 1] × mentee's team bonus)`` fen to the upline at
  generation g when the upline is active, the mentee holds a tier ranked at least the
  upline's (it has caught up) and the upline holds at least ``min_tier``. An upline that does
  not qualify gets nothing and nothing passes on. Paid on top: the mentee keeps its bonus;
- **promotion reward**: ``promotion_rewards[T]`` fen to the direct inviter of a member whom the
  period's tier review promoted to T or past it, once per (member, T) ever, when the inviter
  is active and holds (after the review) T or higher.

Tiers are those held during the period for the shares (the tree as passed), and the review's
outcome for the rewards.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.bonuses.inputs import check_tier_names, tier_ranks
from tuishou.bonuses.models import MentorBonus
from tuishou.bonuses.results import MentorShare, PromotionReward, TeamBonusResult, TierReview
from tuishou.errors import UnknownMemberError, listing
from tuishou.money import percent, yuan
from tuishou.tree import InviteTree

__all__ = ["mentor_shares", "promotion_rewards"]

IntArray = npt.NDArray[np.int64]
_INT64_SAFE = 2**63  # a bonus times a rate's numerator at or above this is computed in Python ints


def mentor_shares(
    plan: MentorBonus, tree: InviteTree, team: TeamBonusResult, *, tiers: Sequence[str]
) -> tuple[MentorShare, ...]:
    """Every mentor share of a period, sorted by (upline, mentee); only amounts > 0.

    ``team`` is the period's team bonus on the same tree; ``tiers`` the policy's tier names,
    lowest first. Linear in the tree (one pass over the bonus column) plus the generations
    of the members paid a bonus. Amounts are int fen, rounded down. Refused: members holding
    a tier not in ``tiers``, or a ``min_tier`` not in it (``UnknownTierError``), and a team
    bonus naming members not in the tree (``UnknownMemberError``).

    >>> from tuishou.bonuses.models import TeamBonus
    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "mentor"},
    ...     {"member_id": "B", "inviter_id": "A", "tier": "mentor"}])
    >>> team = TeamBonusResult(
    ...     plan=TeamBonus(brackets=[{"from": 1, "rate": "0.05"}]), period="2026-11",
    ...     tiers=("member", "mentor"), ids=("A", "B"), inviter=np.array([-1, 0]),
    ...     tier=np.array([1, 1]), active_directs=np.array([1, 0]),
    ...     personal=np.array([0, 3_000_000]), team=np.array([3_000_000, 3_000_000]),
    ...     bracket=np.array([0, 0]), entitlement=np.array([150_000, 150_000]),
    ...     below_paid=np.array([150_000, 0]), bonus=np.array([0, 150_000]))
    >>> [share] = mentor_shares(MentorBonus(rates=["0.10"]), tree, team, tiers=["member", "mentor"])
    >>> share.member_id, share.amount
    ('A', 15000)
    >>> print(*share.text.split(" (", 1), sep="\\n(")
    10% of B's team bonus ¥1,500.00 in 2026-11
    (B, generation 1, holds mentor, at least A's mentor) = ¥150.00
    """
    ranks = tier_ranks(tree, tiers)
    if plan.min_tier is not None:
        check_tier_names([("mentor_bonus.min_tier", plan.min_tier)], tiers)
    least = list(tiers).index(plan.min_tier) if plan.min_tier is not None else 0
    paid = team.bonuses() if plan.rates else {}
    _check_known(tree, paid)
    arrays = tree.arrays()
    mentee = arrays.lookup(list(paid)) if paid else np.zeros(0, dtype=np.int64)
    bonus = np.array(list(paid.values()), dtype=object)
    period = f" in {team.period}" if team.period else ""
    shares: list[MentorShare] = []
    here = mentee  # each mentee's upline at the generation reached
    for generation, rate in enumerate(plan.rates, start=1):
        up = arrays.parent[here]
        alive = up < arrays.size  # the tree size marks "no inviter"
        mentee, bonus, here = mentee[alive], bonus[alive], up[alive]
        ok = arrays.active[here] & (ranks[mentee] >= ranks[here]) & (ranks[here] >= least)
        amount = _floor_share(rate, bonus[ok])
        pay = np.asarray(amount > 0, dtype=bool)
        rows = zip(
            here[ok][pay].tolist(),
            mentee[ok][pay].tolist(),
            bonus[ok][pay].tolist(),
            amount[pay].tolist(),
            strict=True,
        )
        shares += [
            MentorShare(
                member_id=arrays.ids[u],
                mentee_id=arrays.ids[m],
                generation=generation,
                rate=rate,
                mentee_bonus=int(b),
                amount=int(a),
                text=f"{percent(rate)} of {arrays.ids[m]}'s team bonus {yuan(int(b))}{period} "
                f"({arrays.ids[m]}, generation {generation}, holds {tiers[ranks[m]]}, "
                f"at least {arrays.ids[u]}'s {tiers[ranks[u]]}) = {yuan(int(a))}",
            )
            for u, m, b, a in rows
        ]
    return tuple(sorted(shares, key=lambda share: (share.member_id, share.mentee_id)))


def _check_known(tree: InviteTree, paid: dict[str, int]) -> None:
    unknown = sorted(m for m in paid if m not in tree)
    if unknown:
        raise UnknownMemberError(
            f"the team bonus pays {len(unknown)} member(s) not in the tree: "
            f"{listing([repr(m) for m in unknown], ', ')}; compute it on the same tree"
        )


def _floor_share(rate: Decimal, bonus: Any) -> Any:
    """``floor(rate × bonus)`` per element, exactly: int64 while the product fits, else
    Python ints (the rate as a ratio of ints; a Decimal times an int could round)."""
    numerator, denominator = rate.as_integer_ratio()
    if not len(bonus):
        return np.zeros(0, dtype=np.int64)
    if max(bonus.tolist()) * numerator < _INT64_SAFE:
        return bonus.astype(np.int64) * numerator // denominator
    return np.array([b * numerator // denominator for b in bonus.tolist()], dtype=object)


def promotion_rewards(
    plan: MentorBonus,
    tree: InviteTree,
    reviews: Sequence[TierReview],
    *,
    tiers: Sequence[str],
    rewarded: Collection[tuple[str, str]] = (),
    period: str = "",
) -> tuple[PromotionReward, ...]:
    """The promotion rewards the period's tier ``reviews`` call for, sorted by (inviter,
    invitee, tier rank).

    Each review that raises a member pays, for each rewarded tier T with old < T <= new and
    (member, T) not in ``rewarded`` (the pairs already paid, ever), ``promotion_rewards[T]``
    fen to the member's direct inviter, when the inviter is active and holds T or higher
    after the reviews (its own review's ``new``, else its tier in the tree). A root has no
    inviter: nothing is paid. Refused: reviews of members not in the tree
    (``UnknownMemberError``); reviews, rewards or members naming a tier not in ``tiers``
    (``UnknownTierError``).

    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "mentor"},
    ...     {"member_id": "B", "inviter_id": "A", "tier": "member"}])
    >>> review = TierReview("B", "member", "mentor", "mentor", 0, False, "promoted")
    >>> plan = MentorBonus(promotion_rewards={"mentor": 50_000})
    >>> [reward] = promotion_rewards(plan, tree, [review], tiers=["member", "mentor"],
    ...                              period="2026-11")
    >>> reward.member_id, reward.amount, reward.text
    ('A', 50000, 'B (invited by A) was promoted to mentor in 2026-11: reward ¥500.00')
    >>> promotion_rewards(plan, tree, [review], tiers=["member", "mentor"],
    ...                   rewarded=[("B", "mentor")])
    ()
    """
    rank = {name: r for r, name in enumerate(tiers)}
    paid = plan.promotion_rewards
    check_tier_names([("mentor_bonus.promotion_rewards", t) for t in paid], tiers)
    _check_reviews(tree, reviews, tiers)
    holds = tier_ranks(tree, tiers)  # each member's rank after the reviews
    arrays = tree.arrays()
    if reviews:
        holds[arrays.lookup([r.member_id for r in reviews])] = [rank[r.new] for r in reviews]
    lowest = min((rank[tier] for tier in paid), default=len(tiers))
    risen = [r for r in reviews if rank[r.old] < rank[r.new] and rank[r.new] >= lowest]
    up: IntArray = (
        arrays.parent[arrays.lookup([r.member_id for r in risen])]
        if risen
        else np.zeros(0, dtype=np.int64)
    )
    done = {tuple(pair) for pair in rewarded}
    when = f" in {period}" if period else ""
    rewards = []
    for review, inviter in zip(risen, up.tolist(), strict=True):
        if inviter == arrays.size or not arrays.active[inviter]:  # a root, or suspended
            continue
        member, old, new = review.member_id, rank[review.old], rank[review.new]
        rewards += [
            PromotionReward(
                arrays.ids[inviter],
                member,
                tier,
                amount,
                _reward_text(review, arrays.ids[inviter], tier, amount, when),
            )
            for tier, amount in paid.items()
            if old < rank[tier] <= min(new, holds[inviter]) and (member, tier) not in done
        ]
    return tuple(sorted(rewards, key=lambda r: (r.member_id, r.invitee_id, rank[r.tier])))


def _reward_text(review: TierReview, inviter: str, tier: str, amount: int, when: str) -> str:
    """E.g. "B (invited by A) was promoted to mentor in 2026-11: reward ¥500.00"."""
    past = f", past {tier}: reward {yuan(amount)} for {tier}" if tier != review.new else ""
    return f"{review.member_id} (invited by {inviter}) was promoted to {review.new}{when}" + (
        past or f": reward {yuan(amount)}"
    )


def _check_reviews(tree: InviteTree, reviews: Sequence[TierReview], tiers: Sequence[str]) -> None:
    unknown = sorted({review.member_id for review in reviews if review.member_id not in tree})
    if unknown:
        raise UnknownMemberError(
            f"reviews name {len(unknown)} member(s) not in the tree: "
            f"{listing([repr(m) for m in unknown], ', ')}; review the same tree"
        )
    named = {tier for review in reviews for tier in (review.old, review.new)}
    if not named <= set(tiers):  # one set test; the offenders are named only on refusal
        check_tier_names(
            [
                (f"review of {review.member_id!r}", tier)
                for review in reviews
                for tier in (review.old, review.new)
            ],
            tiers,
        )
