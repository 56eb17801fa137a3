"""Period bonuses and tier keeping (大团队收益, 育成奖, 保级): what a period's end computes.

- ``models``: ``PeriodPlan`` and its parts, ``TeamBonus`` (brackets of team volume),
  ``MentorBonus``, ``TierKeeping``; a field of ``Policy`` (``period_plan``);
- ``results``: the result types: ``TeamBonusResult`` (columns) and ``TeamBonusRow``,
  ``MentorShare``, ``PromotionReward``, ``TierReview``, ``PlanResult``.
- ``mentor``: ``mentor_shares`` and ``promotion_rewards`` (育成奖);
- ``keeping``: ``review_period``, one period's tier review (保级).

The semantics are docs/domain.md §20-§22. Pay on a downline's sales (团队计酬) is a mark of 传销
under Chinese law: nothing here is on unless a policy sets a period plan.
"""

from tuishou.bonuses.keeping import review_period
from tuishou.bonuses.mentor import mentor_shares, promotion_rewards
from tuishou.bonuses.models import (
    MAX_MENTOR_GENERATIONS,
    MentorBonus,
    PeriodPlan,
    TeamBonus,
    TeamBracket,
    TierKeeping,
    plan_problems,
)
from tuishou.bonuses.results import (
    BONUS_KINDS,
    MentorShare,
    PlanResult,
    PromotionReward,
    TeamBonusResult,
    TeamBonusRow,
    TierReview,
)

__all__ = [
    "BONUS_KINDS",
    "MAX_MENTOR_GENERATIONS",
    "MentorBonus",
    "MentorShare",
    "PeriodPlan",
    "PlanResult",
    "PromotionReward",
    "TeamBonus",
    "TeamBonusResult",
    "TeamBonusRow",
    "TeamBracket",
    "TierKeeping",
    "TierReview",
    "mentor_shares",
    "plan_problems",
    "promotion_rewards",
    "review_period",
]
