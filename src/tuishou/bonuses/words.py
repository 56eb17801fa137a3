"""Explanations of period bonuses, in text a support agent can paste (docs/domain.md §20).

Amounts print as yuan (``tuishou.money.yuan``), rates as percentages (``tuishou.money.percent``).
A team bonus reads: the team volume and period, the bracket's rate and the entitlement (and
which higher brackets a gate refused), then one deduction per direct invitee whose team was
paid something, then the bonus, or the shortfall when the invitees' teams were paid more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuishou.money import percent, yuan

if TYPE_CHECKING:
    from tuishou.bonuses.results import TeamBonusResult, TeamBonusRow

__all__ = ["team_text"]


def team_text(result: TeamBonusResult, member_id: str) -> str:
    """Why ``member_id`` gets its team bonus (``TeamBonusResult.explain``).

    ``UnknownMemberError`` for an id not in the result's tree.

    >>> from tuishou.bonuses import TeamBonus, team_bonus
    >>> from tuishou.tree import InviteTree
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"},
    ...                                 {"member_id": "B", "inviter_id": "A", "tier": "m"}])
    >>> plan = TeamBonus(brackets=[{"from": 100, "rate": "0.1"}, {"from": 1000, "rate": "0.2"}])
    >>> result = team_bonus(plan, tree, {"A": -500, "B": 1000}, tiers=["m"], period="2026-11")
    >>> print(team_text(result, "A"))
    team volume ¥5.00 in 2026-11 → 10% = ¥0.50, less B's team ¥10.00 at 20% (¥2.00) = -¥1.50: \
B's team was paid more than A's entitlement; nothing is paid (clamped, shortfall ¥1.50)
    """
    i = result.position(member_id)
    row = result.row(member_id)
    where = f" in {result.period}" if result.period else ""
    parts = [f"team volume {yuan(row.team)}{where} → {_bracket(result, i, row)}"]
    paid_kids = _paid_invitees(result, i)
    parts += [_deduction(result, kid) for kid in paid_kids]
    text = ", ".join(parts)
    if not paid_kids:
        return text if row.bracket >= 0 else f"{text} = {yuan(0)}"
    if row.clamped == 0:
        return f"{text} = {yuan(row.bonus)}"
    whose = (
        f"{result.ids[paid_kids[0]]}'s team was"
        if len(paid_kids) == 1
        else ("its invitees' teams were")
    )
    return (
        f"{text} = {yuan(row.clamped)}: {whose} paid more than {member_id}'s entitlement; "
        f"nothing is paid (clamped, shortfall {yuan(-row.clamped)})"
    )


def _bracket(result: TeamBonusResult, i: int, row: TeamBonusRow) -> str:
    """ "8% = ¥17,200.00", with the higher brackets a gate refused; or why there is none."""
    if row.team <= 0:
        return "no bracket (the team volume is not positive)"
    refused = _refused(result, i, row)
    if row.bracket >= 0:
        because = f" ({'; '.join(refused)})" if refused else ""
        return f"{percent(row.rate)}{because} = {yuan(row.entitlement)}"
    if refused:
        return f"no bracket ({'; '.join(refused)})"
    return f"no bracket (the lowest starts at {yuan(result.plan.brackets[0].start)})"


def _refused(result: TeamBonusResult, i: int, row: TeamBonusRow) -> list[str]:
    """Each bracket above the one applied that the volume reaches but a gate refused."""
    held = result.tiers[int(result.tier[i])]
    directs = int(result.active_directs[i])
    reasons = []
    for index in reversed(range(row.bracket + 1, len(result.plan.brackets))):
        bracket = result.plan.brackets[index]
        if bracket.start > row.team:
            continue
        needs = []
        tier = bracket.min_tier
        if tier is not None and result.tiers.index(tier) > int(result.tier[i]):
            needs.append(f"tier {tier} or higher (holds {held})")
        if bracket.min_active_directs is not None and directs < bracket.min_active_directs:
            needs.append(f"{bracket.min_active_directs} active directs (has {directs})")
        reasons.append(f"{percent(bracket.rate)} needs {' and '.join(needs)}")
    return reasons


def _paid_invitees(result: TeamBonusResult, i: int) -> list[int]:
    """The direct invitees whose team was paid something, by member id."""
    kids = result.invitees(i)
    paid = [k for k in kids if int(result.bonus[k]) + int(result.below_paid[k]) > 0]
    return sorted(paid, key=result.ids.__getitem__)


def _deduction(result: TeamBonusResult, k: int) -> str:
    """ "less B's team ¥90,000.00 at 5% (¥4,500.00)" when B's team was paid floor(rate × its
    team volume); otherwise "less ¥X paid in B's team (team ¥90,000.00)"."""
    kid = result.row(result.ids[k])
    if kid.bracket >= 0 and kid.team_paid == kid.entitlement:
        return (
            f"less {kid.member_id}'s team {yuan(kid.team)} at {percent(kid.rate)} "
            f"({yuan(kid.team_paid)})"
        )
    return f"less {yuan(kid.team_paid)} paid in {kid.member_id}'s team (team {yuan(kid.team)})"
