"""Period bonuses and tier keeping (大团队收益, 育成奖, 保级): what a period's end computes.

- ``models``: ``PeriodPlan`` and its parts, ``TeamBonus`` (brackets of team volume),
  ``MentorBonus``, ``TierKeeping``; a field of ``Policy`` (``period_plan``);
- ``results``: the result types: ``TeamBonusResult`` (columns) and ``TeamBonusRow``,
  ``MentorShare``, ``PromotionReward``, ``TierReview``, ``PlanResult``;
- ``team``: ``team_bonus``, the numpy bottom-up pass; ``reference``: ``team_bonus_reference``,
  the same in plain Python (the definition); ``words``: the explanations;
- ``mentor``: ``mentor_shares`` and ``promotion_rewards`` (育成奖);
- ``keeping``: ``review_period``, one period's tier review (保级);
- ``period``: ``run_plan``, one plan for one period (keeping, team, mentor);
- ``inputs``: the input checks they share.

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
from tuishou.bonuses.period import run_plan
from tuishou.bonuses.reference import team_bonus_reference
from tuishou.bonuses.results import (
    BONUS_KINDS,
    MentorShare,
    PlanResult,
    PromotionReward,
    TeamBonusResult,
    TeamBonusRow,
    TierReview,
)
from tuishou.bonuses.team import team_bonus

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
    "run_plan",
    "team_bonus",
    "team_bonus_reference",
]
