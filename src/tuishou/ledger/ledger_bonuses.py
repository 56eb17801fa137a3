"""The period-plan part of ``Ledger`` (大团队收益, 保级): post a plan's result, read it back.

``Ledger`` takes these methods from ``BonusMethods``: a part of one facade, kept in its own
module so that each module stays one concept. The rules are in ``ledger.bonus_runs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from tuishou.bonuses.period import plan_fingerprint, run_plan
from tuishou.bonuses.results import PlanResult
from tuishou.errors import ArgumentTypeError, LedgerError, UnknownMemberError
from tuishou.ledger import bonus_runs as runs
from tuishou.ledger.bonus_runs import BonusLine, PlanRun, TierEvent
from tuishou.ledger.checks import check_ids
from tuishou.ledger.periods import check_period
from tuishou.ledger.statement_models import Period
from tuishou.ledger.store import Store
from tuishou.ledger.volumes import PeriodVolumes, VolumeAdjustment
from tuishou.money import yuan
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.tree import InviteTree

__all__ = ["BonusMethods", "adjustment_notes", "plan_policy"]

_ATTEMPTS = 3


class BonusMethods:
    """``Ledger``'s period-plan methods; see ``docs/ledger.md``, Period plans in the ledger."""

    _store: Store

    def record_plan(
        self, result: PlanResult, period: Period, *, at: datetime, fingerprint: str
    ) -> PlanRun:
        """Post a computed period plan's ``result`` for the closed ``period``, at ``at``: one
        entry per amount paid (available at once, reason ``bonus``), its lines with their
        explanations, the tier reviews; the clock moves to ``at``.

        The period must be closed (else ``LedgerError`` "close period ... first"); a plan
        runs in period order; ``at`` is at or after the ledger's clock. The same (plan,
        period) again returns the recorded run (``repeated=True``) when ``fingerprint`` is
        the same, and is refused (``LedgerError``, naming both) when it is not. Nothing
        changes on refusal. See ``ledger.bonus_runs``.

        >>> from datetime import UTC, datetime
        >>> from tuishou.bonuses.results import PlanResult, PromotionReward
        >>> from tuishou.ledger import Ledger
        >>> ledger = Ledger()
        >>> november = Period.month("2026-11", timezone="UTC")
        >>> _ = ledger.close_period(november, at=datetime(2026, 12, 1, tzinfo=UTC))
        >>> reward = PromotionReward("A", "B", "mentor", 10_000, "B became mentor: ¥100.00")
        >>> result = PlanResult("big-team", "2026-11", None, promotion_rewards=(reward,))
        >>> at = datetime(2026, 12, 2, tzinfo=UTC)
        >>> run = ledger.record_plan(result, november, at=at, fingerprint="f1")
        >>> run.totals, run.repeated, ledger.balance("A").available
        ({'promotion_reward': 10000}, False, 10000)
        >>> ledger.record_plan(result, november, at=at, fingerprint="f1").repeated
        True
        """
        return runs.record_run(self._store, result, period, at=at, fingerprint=fingerprint)

    def run_plan(
        self, policy: Policy | PolicyVersions, period: Period, tree: InviteTree, *, at: datetime
    ) -> PlanRun:
        """Run the policy's period plan (大团队收益, 育成奖, 保级) for the closed ``period`` and
        post it at ``at``: the period's personal volumes from the volume journal
        (``volumes``), the miss counts of the plan's last run, the promotion rewards it
        already paid; then ``record_plan``. With policy versions, the plan is the one in
        force at the period's last instant.

        ``tree`` is the invite tree with the tiers members held during the period; the
        review's changes are in the returned run's ``changes``, for the caller to apply to
        its tree (``tuishou.tiers.apply_tier_changes``) after the run. Refused, with nothing
        changed: a policy without a ``period_plan`` (``LedgerError``), a period not closed,
        out of order or already run on other inputs (``LedgerError``), volumes of members
        not in ``tree`` (``UnknownMemberError``, every one named), members whose tier the
        policy does not list (``UnknownTierError``). Running it again with the same inputs
        returns the recorded run (``repeated=True``). docs/domain.md §20-§22.

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_order, example_settlement, example_tree
        >>> from tuishou.ledger import Ledger
        >>> from tuishou.rules import Policy
        >>> ledger = Ledger()
        >>> november = Period.month("2026-11", timezone="UTC")
        >>> _ = ledger.post(example_order(), example_settlement(),
        ...                 at=datetime(2026, 11, 2, tzinfo=UTC))
        >>> _ = ledger.close_period(november, at=datetime(2026, 12, 1, tzinfo=UTC))
        >>> plan = {"name": "team", "team_bonus": {"brackets": [{"from": 10_000, "rate": "0.03"}]}}
        >>> policy = Policy.model_validate({"name": "p", "tiers": ["member", "pusher", "mentor"],
        ...                                 "group_rates": {"all": "0.1"}, "period_plan": plan})
        >>> at = datetime(2026, 12, 2, tzinfo=UTC)
        >>> run = ledger.run_plan(policy, november, example_tree(), at=at)
        >>> run.totals
        {'team_bonus': 300}
        >>> print(ledger.explain_bonus("A", november))
        team team_bonus: team volume ¥100.00 in 2026-11 → 3% = ¥3.00
        total ¥3.00 to A for 2026-11
        """
        chosen = plan_policy(policy, period)
        plan = chosen.period_plan
        if plan is None:
            raise LedgerError(
                f"policy {chosen.name!r} has no period_plan: nothing to run for period "
                f"{period.label}; add a period_plan (docs/domain.md §20-§22)"
            )
        journal = self.volumes(period)  # type: ignore[attr-defined]
        volumes, notes = journal.personal, adjustment_notes(journal)
        fingerprint = plan_fingerprint(plan, tree, chosen.tiers, period.label)
        for _ in range(_ATTEMPTS):  # another process may record a run of the plan meanwhile
            last, misses, rewarded = runs.plan_state(self._store, plan.name)
            result = run_plan(
                plan,
                tree,
                volumes,
                tiers=chosen.tiers,
                period=period.label,
                as_of=period.end,
                misses=_still_missing(misses, tree),
                rewarded=rewarded,
            )
            try:
                return runs.record_run(
                    self._store,
                    result,
                    period,
                    at=at,
                    fingerprint=fingerprint,
                    after=last,
                    notes=notes,
                )
            except runs.RunsChangedError:
                continue
        raise LedgerError(
            f"plan {plan.name!r}: other runs were recorded while this one for {period.label} "
            f"was computed, {_ATTEMPTS} times; try again; nothing changed"
        )

    def plan_runs(self, plan: str | None = None) -> list[PlanRun]:
        """Every recorded period plan run (of ``plan``, or all), by plan, then period."""
        return runs.plan_runs(self._store, plan)

    def bonus_lines(
        self, plan: str, period_id: str, member_id: str | None = None
    ) -> list[BonusLine]:
        """The lines (amounts paid, with their explanations, and team shortfalls at 0) of
        the run of ``plan`` for the period labelled ``period_id``; of one member, or all."""
        return runs.bonus_lines(self._store, plan, period_id, member_id)

    def tier_history(self, member_id: str | None = None) -> list[TierEvent]:
        """The dated tier changes the plans' reviews recorded (of one member, or all),
        oldest first."""
        if member_id is not None:
            check_ids(member_id=member_id)
        return runs.tier_history(self._store, member_id)

    def explain_bonus(self, member_id: str, period: Period, plan: str | None = None) -> str:
        """What ``member_id`` was paid by the plan runs of ``period`` (of ``plan``, or every
        plan run for it): the stored explanation of each line, one per line, then the total.

        ``LedgerError`` when no plan was run for the period; ``UnknownMemberError`` when
        the member has no line in those runs.
        """
        check_ids(member_id=member_id)
        period = check_period(period)
        found = [
            run for run in runs.plan_runs(self._store, plan) if run.period.label == period.label
        ]
        if not found:
            which = f"plan {plan!r}" if plan is not None else "no plan"
            raise LedgerError(
                f"{which} was not run for period {period.label} in this ledger"
                + (" (or never run at all)" if plan is not None else "")
                + "; close the period, then record the plan's run for it "
                "(Ledger.record_plan); see Ledger.plan_runs() for the runs recorded"
            )
        lines = [
            line
            for run in found
            for line in runs.bonus_lines(self._store, run.plan, period.label, member_id)
        ]
        if not lines:
            names = ", ".join(run.plan for run in found)
            raise UnknownMemberError(
                f"member_id={member_id!r} has no bonus line in the runs for {period.label} "
                f"(plans: {names}): it was paid nothing by them; check the member id"
            )
        total = sum(line.amount for line in lines)
        shown = [f"{line.plan} {line.kind} {line.source_id}".rstrip() for line in lines]
        return "\n".join(
            [f"{what}: {line.text}" for what, line in zip(shown, lines, strict=True)]
            + [f"total {yuan(total)} to {member_id} for {period.label}"]
        )


def plan_policy(policy: object, period: Period) -> Policy:
    """The policy whose plan ``period`` runs: ``policy`` itself, or of policy versions the
    one in force at the period's last instant (``ArgumentTypeError`` for anything else)."""
    if isinstance(policy, PolicyVersions):
        return policy.policy_at(period.end - timedelta(microseconds=1))
    if not isinstance(policy, Policy):
        raise ArgumentTypeError(
            f"policy is a {type(policy).__name__}; pass the Policy (or PolicyVersions) with "
            "the period_plan to run"
        )
    return policy


def adjustment_notes(journal: PeriodVolumes, shown: int = 5) -> dict[str, str]:
    """Member → a note on the refunds of orders sold in earlier periods that lowered its
    personal volume in this one (docs/domain.md §20), for its team bonus line: "personal
    volume includes -¥600.00 of refunds of orders sold before 2026-12: o-7 (sold
    2026-11-10)"."""
    by_member: dict[str, list[VolumeAdjustment]] = {}
    for adjustment in journal.adjustments:
        by_member.setdefault(adjustment.member_id, []).append(adjustment)
    zone = journal.period.start.tzinfo
    notes = {}
    for member, found in by_member.items():
        orders = [f"{x.order_id} (sold {x.sold_at.astimezone(zone).date()})" for x in found]
        more = f" and {len(orders) - shown} more" if len(orders) > shown else ""
        notes[member] = (
            f"personal volume includes {yuan(sum(x.amount for x in found))} of refunds of "
            f"orders sold before {journal.period.label}: {', '.join(orders[:shown])}{more}"
        )
    return notes


def _still_missing(misses: Mapping[str, tuple[int, str]], tree: InviteTree) -> dict[str, int]:
    """The last run's misses that still count: a member gone from the tree, or whose tier
    was changed (by hand) since that run, starts again from 0."""
    return {
        member: count
        for member, (count, tier) in misses.items()
        if member in tree and tree.tier(member) == tier
    }
