"""Period plans (周期方案): the team bonus, the mentor bonus and tier keeping, as data.

A ``PeriodPlan`` says what is computed when a period (a month) ends; it is a field of
``Policy`` (``Policy.period_plan``, None by default). Glossary (docs/domain.md §20-§22):

- **team bonus** (团队业绩奖, 管理奖; ``TeamBonus``): brackets of team volume with rates, and
  the 级差 on volume between a member and the teams of its direct invitees;
- **mentor bonus** (育成奖; ``MentorBonus``): a share of a mentee's team bonus for the uplines
  it has caught up with, and a one-off reward when a direct invitee is promoted;
- **tier keeping** (保级; ``TierKeeping``): tiers evaluated on each period's figures, demotion
  after ``demote_after`` consecutive periods below the tier's requirements.

Pay on a downline's sales (团队计酬) is one of the marks of 传销 under Chinese law: these
bonuses are off unless a policy sets them, and ``tuishou.analysis.compliance`` flags every
policy that does. Computation lives in ``tuishou.bonuses.team``, ``.mentor`` and ``.keeping``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from tuishou.errors import InvalidPolicyError, did_you_mean
from tuishou.ladder import Requirements, Tier, TierLadder
from tuishou.models import BRACKET_CONFIG, FrozenMap, FrozenModel, Id, Problems
from tuishou.money import MAX_ORDER_FEN, Fen, Rate

__all__ = [
    "MAX_MENTOR_GENERATIONS",
    "MentorBonus",
    "PeriodPlan",
    "TeamBonus",
    "TeamBracket",
    "TierKeeping",
    "plan_problems",
]

MAX_MENTOR_GENERATIONS = 3
"""The most mentee generations a mentor bonus pays (一代 to 三代育成)."""

_Count = Annotated[int, Field(strict=True, ge=1)]


class _PlanPart(FrozenModel):
    error_class: ClassVar = InvalidPolicyError
    what: ClassVar[str] = "invalid period plan"


class TeamBracket(_PlanPart):
    """One bracket of team volume: ``rate`` from ``start`` fen of team volume on (written
    ``from``, inclusive), optionally gated by the member's tier (``min_tier``: that tier or
    higher) and by its active direct invitees in the period (``min_active_directs``).

    >>> TeamBracket.model_validate({"from": 1_000_000, "rate": "0.03"}).model_dump(mode="json")
    {'from': 1000000, 'rate': '0.03'}
    """

    model_config = BRACKET_CONFIG
    start: Annotated[int, Field(alias="from", ge=1, le=MAX_ORDER_FEN * 10**6, strict=True)]
    rate: Rate
    min_tier: Id | None = Field(default=None, exclude_if=lambda value: value is None)
    min_active_directs: _Count | None = Field(default=None, exclude_if=lambda value: value is None)


class TeamBonus(_PlanPart):
    """The team bonus (团队业绩奖): ``brackets`` by team volume (strictly increasing ``from``,
    rates never lower for a larger volume); ``active_volume`` is the personal volume (fen) a
    direct invitee needs in the period to count as active for ``min_active_directs``.

    >>> plan = TeamBonus.model_validate({"brackets": [
    ...     {"from": 1_000_000, "rate": "0.03"}, {"from": 5_000_000, "rate": "0.05"},
    ...     {"from": 20_000_000, "rate": "0.08"}]})
    >>> plan.top_rate
    Decimal('0.08')
    >>> TeamBonus.model_validate({"brackets": [
    ...     {"from": 1_000_000, "rate": "0.05"}, {"from": 5_000_000, "rate": "0.03"}]})
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidPolicyError: invalid period plan: 1 problem(s)
      1. brackets.1: rate 0.03 is below bracket 0's 0.05; a larger team volume must never ...
    """

    brackets: tuple[TeamBracket, ...] = Field(min_length=1)
    active_volume: Fen = Field(default=1, ge=1, le=MAX_ORDER_FEN, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> TeamBonus:
        problems = []
        for index in range(1, len(self.brackets)):
            before, here = self.brackets[index - 1], self.brackets[index]
            if here.start <= before.start:
                problems.append(
                    f"brackets.{index}: from {here.start} is not above bracket {index - 1}'s "
                    f"{before.start}; list brackets by strictly increasing 'from'"
                )
            if here.rate < before.rate:
                problems.append(
                    f"brackets.{index}: rate {here.rate} is below bracket {index - 1}'s "
                    f"{before.rate}; a larger team volume must never pay a lower rate"
                )
        if problems:
            raise Problems(problems)
        return self

    @property
    def top_rate(self) -> Decimal:
        """The highest bracket rate: no team is paid more than this share of its volume."""
        return self.brackets[-1].rate


class MentorBonus(_PlanPart):
    """The mentor bonus (育成奖).

    - ``rates``: one rate per mentee generation (1: the mentee's inviter, 2: its inviter's
      inviter, ...; at most ``MAX_MENTOR_GENERATIONS``): the share of the mentee's team bonus
      paid, on top, to an upline the mentee has caught up with (its tier ranks at least the
      upline's), when the upline holds at least ``min_tier``;
    - ``promotion_rewards``: ``{tier: fen}``, a one-off reward to the direct inviter of a member
      promoted to that tier by a period's tier review (once per member and tier, ever).

    >>> MentorBonus(rates=("0.10", "0.05"), promotion_rewards={"mentor": 50_000}).rates
    (Decimal('0.1'), Decimal('0.05'))
    """

    rates: tuple[Rate, ...] = Field(default=(), max_length=MAX_MENTOR_GENERATIONS)
    min_tier: Id | None = None
    promotion_rewards: FrozenMap[Annotated[Fen, Field(ge=1, le=MAX_ORDER_FEN, strict=True)]] = (
        Field(default_factory=lambda: MappingProxyType({}))
    )

    @model_validator(mode="after")
    def _something(self) -> MentorBonus:
        if not self.rates and not self.promotion_rewards:
            raise Problems(["a mentor bonus needs rates, promotion_rewards or both"])
        return self


class TierKeeping(_PlanPart):
    """Tier keeping per period (保级): ``requirements`` for the tiers above the lowest (a tier
    not listed is granted only by hand); ``demote_after`` is K, the consecutive periods below
    its tier's requirements after which a member is demoted (0: never); ``promote``: whether
    a period's figures also promote.

    >>> TierKeeping(demote_after=2, requirements={"pusher": {"min_personal_sales": 39_600}})
    ... # doctest: +ELLIPSIS
    TierKeeping(requirements=...pusher...), demote_after=2, promote=True)
    """

    requirements: FrozenMap[Requirements] = Field(default_factory=lambda: MappingProxyType({}))
    demote_after: int = Field(default=0, ge=0, le=120, strict=True)
    promote: bool = Field(default=True, strict=True)

    def ladder(self, tiers: Sequence[str]) -> TierLadder:
        """The tier ladder of ``tiers`` (a policy's, lowest first) with these requirements.

        >>> keeping = TierKeeping(requirements={"pusher": {"min_personal_sales": 39_600}})
        >>> keeping.ladder(["member", "pusher"]).tier("pusher").requires.min_personal_sales
        39600
        """
        return TierLadder(
            tiers=[Tier(name=name, requires=self.requirements.get(name)) for name in tiers]
        )


class PeriodPlan(_PlanPart):
    """What a period's end computes (周期方案): any of a team bonus, a mentor bonus and tier
    keeping, under a ``name`` the ledger posts it by (once per plan and period).

    >>> plan = PeriodPlan(name="monthly", team_bonus={"brackets": [{"from": 1, "rate": "0.01"}]})
    >>> plan.pays_team, plan_problems(plan, ["member"])
    (True, [])
    """

    name: Id = "monthly"
    team_bonus: TeamBonus | None = None
    mentor_bonus: MentorBonus | None = None
    tier_keeping: TierKeeping | None = None

    @model_validator(mode="after")
    def _parts(self) -> PeriodPlan:
        problems = []
        if self.team_bonus is None and self.mentor_bonus is None and self.tier_keeping is None:
            problems.append("a period plan needs a team_bonus, a mentor_bonus or tier_keeping")
        mentor = self.mentor_bonus
        if mentor is not None and mentor.rates and self.team_bonus is None:
            problems.append(
                "mentor_bonus.rates are shares of the team bonus, but the plan has no "
                "team_bonus: add one, or drop the rates"
            )
        if mentor is not None and mentor.promotion_rewards and self.tier_keeping is None:
            problems.append(
                "mentor_bonus.promotion_rewards are paid on promotions of the period's tier "
                "review, but the plan has no tier_keeping: add it, or drop the rewards"
            )
        if problems:
            raise Problems(problems)
        return self

    @cached_property
    def pays_team(self) -> bool:
        """Whether the plan pays on a downline's volume (团队计酬): a team or mentor bonus."""
        return self.team_bonus is not None or self.mentor_bonus is not None


def plan_problems(plan: PeriodPlan | Mapping[str, Any], tiers: Sequence[str]) -> list[str]:
    """Every tier the plan names that ``tiers`` (the policy's, lowest first) does not list,
    and a requirement on the lowest tier; each as ``period_plan.<path>: ...``. ``plan`` may
    also be a plan as data (a policy file's ``period_plan`` table), whatever else is wrong
    with it: what is not shaped as a plan is skipped, so a policy can report these problems
    beside those of the plan's own checks.

    >>> plan = PeriodPlan(tier_keeping={"requirements": {"mentr": {"min_direct": 3}}})
    >>> for problem in plan_problems(plan, ["member", "mentor"]):
    ...     print(problem)
    period_plan.tier_keeping.requirements: tier 'mentr' is not one of the policy's tiers; ...
    """
    data = plan.model_dump(by_alias=True) if isinstance(plan, PeriodPlan) else plan
    problems = [
        f"period_plan.{path}: tier {tier!r} is not one of the policy's tiers; "
        f"{did_you_mean(tier, list(tiers))}"
        for path, tier in _named_tiers(data)
        if tier not in tiers
    ]
    if tiers and tiers[0] in _mapping(_mapping(data.get("tier_keeping")).get("requirements")):
        problems.append(
            f"period_plan.tier_keeping.requirements: {tiers[0]!r} is the lowest tier, which "
            "everyone holds; drop its requirements"
        )
    return problems


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _named_tiers(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path, tier) for each tier name a plan's data names (text only)."""
    team, mentor = _mapping(data.get("team_bonus")), _mapping(data.get("mentor_bonus"))
    brackets = team.get("brackets")
    named = [
        (f"team_bonus.brackets.{i}.min_tier", _mapping(b).get("min_tier"))
        for i, b in enumerate(brackets if isinstance(brackets, list | tuple) else [])
    ]
    named.append(("mentor_bonus.min_tier", mentor.get("min_tier")))
    named += [
        ("mentor_bonus.promotion_rewards", t) for t in _mapping(mentor.get("promotion_rewards"))
    ]
    requirements = _mapping(_mapping(data.get("tier_keeping")).get("requirements"))
    named += [("tier_keeping.requirements", t) for t in requirements]
    for tier, needs in requirements.items():
        at = _mapping(_mapping(needs).get("min_direct_at"))
        named += [(f"tier_keeping.requirements.{tier}.min_direct_at", t) for t in at]
    return [(path, tier) for path, tier in named if isinstance(tier, str)]
