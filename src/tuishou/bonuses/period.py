"""One period plan, one period: tier keeping, then the team bonus, then the mentor bonus.

``run_plan`` is the order of a period's end (docs/domain.md §20-§22):

1. the tier review (保级) on the period's figures, when the plan keeps tiers;
2. the team bonus (团队业绩奖) on the tiers members held during the period;
3. the mentor shares (育成奖) of those team bonuses, and the one-off rewards of the review's
   promotions.

It changes nothing: the review's tier changes are in ``PlanResult.changes()``, for the caller
to apply (``tuishou.tiers.apply_tier_changes``) once the result is posted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import numpy as np

from tuishou.bonuses.keeping import review_period
from tuishou.bonuses.mentor import mentor_shares, promotion_rewards
from tuishou.bonuses.models import PeriodPlan
from tuishou.bonuses.results import PlanResult
from tuishou.bonuses.team import team_bonus
from tuishou.tree import InviteTree

__all__ = ["plan_fingerprint", "run_plan"]

_NONE: Mapping[str, int] = MappingProxyType({})


def run_plan(
    plan: PeriodPlan,
    tree: InviteTree,
    volumes: Mapping[str, int],
    *,
    tiers: Sequence[str],
    period: str,
    as_of: datetime,
    misses: Mapping[str, int] = _NONE,
    rewarded: Collection[tuple[str, str]] = (),
) -> PlanResult:
    """The plan's result for one period: ``volumes`` are the members' personal volumes in
    it (fen), ``tiers`` the policy's tiers (lowest first), ``as_of`` the period's end (who is
    still on probation), ``misses`` each member's consecutive periods below its tier before
    this one, ``rewarded`` the (invitee, tier) pairs already rewarded. Errors are those of
    ``team_bonus`` and ``review_period``; nothing is changed.

    >>> from datetime import UTC, datetime
    >>> from tuishou.tree import InviteTree
    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "member"},
    ...     {"member_id": "B", "inviter_id": "A", "tier": "member"}])
    >>> plan = PeriodPlan(team_bonus={"brackets": [{"from": 1_000_000, "rate": "0.03"}]})
    >>> result = run_plan(plan, tree, {"A": 600_000, "B": 500_000}, tiers=["member"],
    ...                   period="2026-11", as_of=datetime(2026, 12, 1, tzinfo=UTC))
    >>> result.payouts()
    [('A', 'team_bonus', '', 33000)]
    """
    reviews = (
        review_period(
            plan.tier_keeping, tree, volumes, tiers=tiers, as_of=as_of, misses=misses, period=period
        )
        if plan.tier_keeping is not None
        else ()
    )
    team = (
        team_bonus(plan.team_bonus, tree, volumes, tiers=tiers, period=period)
        if plan.team_bonus is not None
        else None
    )
    mentor = plan.mentor_bonus
    shares = (
        mentor_shares(mentor, tree, team, tiers=tiers)
        if mentor is not None and mentor.rates and team is not None
        else ()
    )
    rewards = (
        promotion_rewards(mentor, tree, reviews, tiers=tiers, rewarded=rewarded, period=period)
        if mentor is not None and mentor.promotion_rewards
        else ()
    )
    return PlanResult(plan.name, period, team, tuple(shares), tuple(rewards), tuple(reviews))


def plan_fingerprint(plan: PeriodPlan, tree: InviteTree, tiers: Sequence[str], period: str) -> str:
    """The SHA-256 of what a run depends on besides the period's volumes: the plan, the
    policy's tiers, the period's label and the tree (members, inviters, tiers, status,
    probation ends as instants, whatever their offset). The ledger records a run under it:
    the same (plan, period) posted again with another fingerprint is refused
    (``Ledger.run_plan``).

    >>> from tuishou.tree import example_tree
    >>> plan = PeriodPlan(tier_keeping={"demote_after": 2})
    >>> tiers = ["member", "pusher", "mentor"]
    >>> first = plan_fingerprint(plan, example_tree(), tiers, "2026-11")
    >>> tree = example_tree(); tree.set_tier("C", "pusher")
    >>> first == plan_fingerprint(plan, example_tree(), tiers, "2026-11")
    True
    >>> first == plan_fingerprint(plan, tree, tiers, "2026-11")
    False
    """
    arrays = tree.arrays()
    digest = hashlib.sha256()
    for part in (plan.model_dump_json(), "\x1f".join(tiers), period, "\x1f".join(arrays.ids)):
        digest.update(part.encode())
        digest.update(b"\x1e")
    names = np.array([tiers.index(n) if n in tiers else -1 for n in arrays.tier_names])
    for column in (arrays.parent, names[arrays.tier] if len(names) else arrays.tier, arrays.active):
        digest.update(np.ascontiguousarray(column).astype(np.int64).tobytes())
    for member, until in sorted(tree.probations().items()):
        moment = until.astimezone(UTC).isoformat()  # one instant, whatever its offset
        digest.update(f"{member}\x1f{moment}\x1e".encode())
    return digest.hexdigest()
