"""A period plan's result posted to the ledger: its run, its lines, its entries, its reviews.

``record_run`` records one computed ``PlanResult`` (``tuishou.bonuses.results``) for one
closed period, in one transaction under the write lock (``Ledger.record_plan``):

- the period must be closed in the ledger (``Ledger.close_period``): a closed period's
  figures never change, so the run is final;
- the runs of one plan go in period order: a period starting before the end of the plan's
  last run is refused, unless it is that same (plan, period) again;
- dated at or after the ledger's clock (``ledger.clock``), which it moves to ``at``;
- the same (plan, period) again with the same ``fingerprint`` returns the recorded run
  (``repeated=True``) and writes nothing; another fingerprint is refused, naming both;
- it writes the run (``tuishou_bonus_runs``, with a summary: totals by kind, members paid,
  tier changes), one line per amount paid with its explanation (``tuishou_bonus_lines``;
  team rows whose entitlement fell short of what their invitees' teams were paid are lines
  of amount 0 that say so), one entry per amount paid (bucket ``available``, reason
  ``bonus``, rule = the plan, kind = the bonus kind, request id ``"<plan>/<period>"``) and
  the tier reviews (``tuishou_tier_reviews``, dated ``at``).

The reads (``plan_runs``, ``bonus_lines``, ``last_misses``, ``rewarded``, ``tier_history``)
give what the next run needs and what support looks up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from tuishou.bonuses.results import BONUS_KINDS, PlanResult
from tuishou.errors import ArgumentTypeError, LedgerError
from tuishou.ids import MAX_ID_LENGTH, check_id
from tuishou.ledger import schema as t
from tuishou.ledger.bonus_models import (
    LINES,
    REVIEWS,
    RUNS,
    BonusLine,
    PlanRun,
    TierEvent,
    request_id,
)
from tuishou.ledger.bonus_rows import summary, write_run
from tuishou.ledger.checks import check_time
from tuishou.ledger.clock import check_clock
from tuishou.ledger.periods import check_period, closed_periods, stored_period
from tuishou.ledger.statement_models import Period
from tuishou.ledger.store import Store
from tuishou.ledger.stored import decode
from tuishou.tiers import TierChange

__all__ = [
    "BonusLine",
    "PlanRun",
    "RunsChangedError",
    "TierEvent",
    "bonus_lines",
    "last_misses",
    "plan_runs",
    "plan_state",
    "record_run",
    "request_id",
    "rewarded",
    "tier_history",
]


# ----------------------------------------------------------------------------- recording


class RunsChangedError(LedgerError):
    """Another run of the plan was recorded between reading the plan's state (its last run's
    miss counts and rewards) and recording this one: compute again (``Ledger.run_plan``
    does, by itself)."""


_ANY = object()  # record whatever run came last


def record_run(
    store: Store,
    result: PlanResult,
    period: Period,
    *,
    at: datetime,
    fingerprint: str,
    after: object = _ANY,
    notes: Mapping[str, str] | None = None,
) -> PlanRun:
    """Record ``result`` for ``period`` at ``at``: the rules are the module's.

    ``notes`` (member → text) are appended to members' team bonus lines (the refund
    adjustments in their volume). ``after`` is the label of the plan's last run the result
    was computed on (None: no run): if another was recorded since, ``RunsChangedError`` (a
    ``LedgerError``) is raised and nothing is written. Raises ``LedgerError`` (period not
    closed, out of order, before the clock, the same (plan, period) with another
    fingerprint), ``ArgumentTypeError`` or
    ``InvalidIdentifierError`` for a result the ledger could not keep (a payout not a
    positive int of fen, a member id that is not an id, an unknown kind); nothing changes on
    refusal.
    """
    _check(result, period, at, fingerprint)
    _check_payouts(result)
    with store.transaction() as connection:
        recorded = _runs(store, connection, result.plan)
        same = [run for run in recorded if run.period.label == period.label]
        if same:
            return _repeat(same[0], period, fingerprint)
        latest = recorded[-1].period.label if recorded else None
        if after is not _ANY and after != latest:
            raise RunsChangedError(
                f"plan {result.plan!r} was run for {latest} while this run for {period.label} "
                "was computed; compute it again on the new state; nothing changed"
            )
        _check_closed(store, period)
        if recorded and period.start < recorded[-1].period.end:
            last = recorded[-1].period
            raise LedgerError(
                f"period {period.label} starts at {period.start.isoformat()}, before the end "
                f"of period {last.label} ({last.end.isoformat()}), the last one plan "
                f"{result.plan!r} was run for; a plan runs in period order: run it for a "
                f"period starting at or after {last.end.isoformat()}; nothing changed"
            )
        check_clock(store, at, doing="bonus run")
        run = summary(result, period, at, fingerprint)
        write_run(store, connection, result, run, notes or {})
        store.advance(at, f"plan {result.plan} run for {period.label}")
        return run


def _check(result: object, period: object, at: object, fingerprint: object) -> None:
    if not isinstance(result, PlanResult):
        raise ArgumentTypeError(
            f"result is a {type(result).__name__}; pass the PlanResult of a period plan"
        )
    check_period(period)
    assert isinstance(period, Period)
    check_time(at)
    if type(fingerprint) is not str or not fingerprint:
        raise ArgumentTypeError(
            f"fingerprint={fingerprint!r} is not a non-empty str; pass the SHA-256 of the run's "
            "inputs (the same inputs give the same fingerprint)"
        )
    check_id(result.plan, name="plan")
    if result.period != period.label:
        raise LedgerError(
            f"the result is for period {result.period!r}, not {period.label!r}; record a "
            "result with the period it was computed for; nothing changed"
        )
    if len(request_id(result.plan, period.label)) > MAX_ID_LENGTH:
        raise LedgerError(
            f"plan {result.plan!r} and period {period.label!r} make a request id longer than "
            f"{MAX_ID_LENGTH} characters; use a shorter plan name; nothing changed"
        )


def _check_payouts(result: PlanResult) -> None:
    """Refuse a result whose amounts or ids the ledger could not keep or read back."""
    seen: set[tuple[str, str, str]] = set()
    for member, kind, source, fen in result.payouts():
        where = f"{kind} to {member!r} (source {source!r})"
        if (member, kind, source) in seen:
            raise LedgerError(f"{where} is listed twice; pay each amount once; nothing changed")
        seen.add((member, kind, source))
        check_id(member, name=f"member_id of the {kind}")
        if kind not in BONUS_KINDS:
            raise LedgerError(f"{where}: kind {kind!r} is not one of {BONUS_KINDS}")
        if type(fen) is not int:
            raise ArgumentTypeError(
                f"{where}: amount {fen!r} is a {type(fen).__name__}; pass an int number of fen"
            )
        if not 0 < fen < 2**63:
            raise LedgerError(
                f"{where}: amount {fen} is not a positive int64 number of fen; a period bonus "
                "is never negative (a shortfall is reported, not paid); nothing changed"
            )
        if len(source) > 420:
            raise LedgerError(f"{where}: the source is longer than 420 characters")
    for review in result.reviews:
        check_id(review.member_id, name="member_id of a tier review")
        for tier in (review.old, review.new, review.qualified):
            check_id(tier, name=f"a tier of {review.member_id!r}'s review")


def _check_closed(store: Store, period: Period) -> None:
    closes = closed_periods(store)
    if not any(close.period == period for close in closes):
        raise LedgerError(
            f"period {period.label} is not closed in this ledger: close period {period.label} "
            "first (Ledger.close_period, or tuishou ledger close), so that its volumes and "
            "statements never change after the run; nothing changed"
        )


def _repeat(recorded: PlanRun, period: Period, fingerprint: str) -> PlanRun:
    if recorded.period != period:
        was = recorded.period
        raise LedgerError(
            f"plan {recorded.plan!r} was run for period {period.label} with other bounds: "
            f"[{was.start.isoformat()}, {was.end.isoformat()}) in {was.timezone}, not "
            f"[{period.start.isoformat()}, {period.end.isoformat()}) in {period.timezone}; a "
            "label names one period: give the recorded bounds; nothing changed"
        )
    if recorded.fingerprint != fingerprint:
        raise LedgerError(
            f"plan {recorded.plan!r} was already run for period {period.label} with other "
            f"inputs: fingerprint {recorded.fingerprint} recorded, {fingerprint} given now; a "
            "run is final: check what changed (the tree, the plan, the volumes); nothing "
            "changed"
        )
    return PlanRun(
        recorded.plan,
        recorded.period,
        recorded.at,
        recorded.fingerprint,
        recorded.totals,
        recorded.payouts,
        recorded.members,
        recorded.changes,
        True,
    )


# ------------------------------------------------------------------------------- reading


def plan_runs(store: Store, plan: str | None = None) -> list[PlanRun]:
    """Every recorded run (of ``plan``, or of every plan), by plan, then period."""
    with store.reading() as connection:
        return _runs(store, connection, plan)


def _runs(store: Store, connection: Connection, plan: str | None) -> list[PlanRun]:
    r = t.bonus_runs.c
    chosen = [r.plan == plan] if plan is not None else []
    rows = connection.execute(
        select(r.plan, r.period_id, r.start, r.end, r.timezone, r.at, r.fingerprint)
        .add_columns(r.summary_json)
        .where(*chosen)
        .order_by(r.plan, r.end)
    ).mappings()
    runs = []
    for raw in rows:
        row = decode(store.path, "bonus_runs", dict(raw), RUNS)
        period = stored_period(row)
        summary = row["summary_json"]
        runs.append(
            PlanRun(
                row["plan"],
                period,
                row["at"],
                row["fingerprint"],
                dict(summary["totals"]),
                summary["payouts"],
                summary["members"],
                tuple(TierChange(*change) for change in summary["changes"]),
            )
        )
    return runs


def bonus_lines(
    store: Store, plan: str, period_id: str, member_id: str | None = None
) -> list[BonusLine]:
    """The lines of the run of ``plan`` for ``period_id`` (of one member, or all), by
    member, kind and source; none when there is no such run."""
    b = t.bonus_lines.c
    chosen = [b.plan == plan, b.period_id == period_id]
    if member_id is not None:
        chosen.append(b.member_id == member_id)
    query = select(t.bonus_lines).where(*chosen).order_by(b.member_id, b.kind, b.source_id)
    with store.reading() as connection:
        rows = connection.execute(query).mappings().all()
    return [BonusLine(**decode(store.path, "bonus_lines", dict(raw), LINES)) for raw in rows]


def plan_state(
    store: Store, plan: str
) -> tuple[str | None, dict[str, tuple[int, str]], set[tuple[str, str]]]:
    """What the next run of ``plan`` starts from: the label of its last run (None: never
    run), that run's misses with the tier each member was left holding
    (``last_misses(..., with_tiers=True)``), and every (invitee, tier) rewarded."""
    with store.reading() as connection:
        recorded = _runs(store, connection, plan)
    last = recorded[-1].period.label if recorded else None
    return last, last_misses(store, plan, with_tiers=True), rewarded(store, plan)


def last_misses(store: Store, plan: str, *, with_tiers: bool = False) -> dict[str, Any]:
    """Member → consecutive misses after the plan's last run (members with a miss only):
    what the next review of the plan starts from; with ``with_tiers``, member → (misses,
    the tier the review left it holding), so that a tier changed by hand since resets them.
    Empty before the first run."""
    runs = plan_runs(store, plan)
    if not runs:
        return {}
    reviews = _reviews(store, [t.tier_reviews.c.plan == plan], runs[-1].period.label)
    return {
        review.member_id: (misses, review.new) if with_tiers else misses
        for review, misses in reviews
        if misses > 0
    }


def rewarded(store: Store, plan: str) -> set[tuple[str, str]]:
    """Every (invitee, tier) the plan has paid a promotion reward for, in any run: a reward is
    paid once per invitee and tier, ever. (A source is ``invitee:tier``; a tier name holds no
    ``:``.)"""
    b = t.bonus_lines.c
    query = select(b.source_id).where(b.plan == plan, b.kind == "promotion_reward")
    with store.reading() as connection:
        sources = connection.execute(query).scalars().all()
    found = set()
    for source in sources:
        invitee, _, tier = str(source).rpartition(":")
        found.add((invitee, tier))
    return found


def tier_history(store: Store, member_id: str | None = None) -> list[TierEvent]:
    """Every tier change the reviews recorded (of one member, or all), oldest first (by
    time, then plan, then member)."""
    r = t.tier_reviews.c
    chosen = [r.old != r.new] + ([r.member_id == member_id] if member_id is not None else [])
    return [event for event, _ in _reviews(store, chosen, None)]


def _reviews(store: Store, chosen: list[Any], period_id: str | None) -> list[tuple[TierEvent, int]]:
    r = t.tier_reviews.c
    if period_id is not None:
        chosen = [*chosen, r.period_id == period_id]
    query = select(t.tier_reviews).where(*chosen).order_by(r.at, r.plan, r.member_id)
    with store.reading() as connection:
        rows = connection.execute(query).mappings().all()
    made = []
    for raw in rows:
        row: Mapping[str, Any] = decode(store.path, "tier_reviews", dict(raw), REVIEWS)
        event = TierEvent(
            row["member_id"],
            row["at"],
            row["plan"],
            row["period_id"],
            row["old"],
            row["new"],
            row["qualified"],
            row["reason"],
        )
        made.append((event, row["misses"]))
    return made
