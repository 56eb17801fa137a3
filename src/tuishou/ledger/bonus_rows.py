"""The rows a period plan run writes (``ledger.bonus_runs`` decides whether it may): the run's
summary, its lines (each amount paid with its explanation, and the team shortfalls at 0), one
``available``/``bonus`` entry per amount, and the tier reviews with a miss or a change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from tuishou.bonuses.results import BONUS_KINDS, PlanResult
from tuishou.ledger import schema as t
from tuishou.ledger.bonus_models import PlanRun, request_id
from tuishou.ledger.database import database_errors
from tuishou.ledger.models import entry_row
from tuishou.ledger.statement_models import Period
from tuishou.ledger.store import Store
from tuishou.money import yuan

__all__ = ["summary", "write_run"]


def summary(result: PlanResult, period: Period, at: datetime, fingerprint: str) -> PlanRun:
    """The run's ``PlanRun``: totals by kind, how many amounts and members were paid, the
    review's changes."""
    payouts = result.payouts()
    totals: dict[str, int] = {}
    for _, kind, _, fen in payouts:
        totals[kind] = totals.get(kind, 0) + fen
    return PlanRun(
        result.plan,
        period,
        at,
        fingerprint,
        {kind: totals[kind] for kind in BONUS_KINDS if kind in totals},
        len(payouts),
        len({member for member, *_ in payouts}),
        tuple(result.changes()),
    )


def write_run(
    store: Store, connection: Connection, result: PlanResult, run: PlanRun, notes: Mapping[str, str]
) -> None:
    """Write the run's rows in the caller's transaction (the write lock is held)."""
    period, at = run.period, run.at
    key = {"plan": result.plan, "period_id": period.label}
    summary = {
        "totals": run.totals,
        "payouts": run.payouts,
        "members": run.members,
        "changes": [[c.member_id, c.old, c.new, c.reason] for c in run.changes],
    }
    with database_errors(store.path):
        connection.execute(
            insert(t.bonus_runs).values(
                **key,
                start=period.start,
                end=period.end,
                timezone=period.timezone,
                at=at,
                fingerprint=run.fingerprint,
                summary_json=json.dumps(summary, ensure_ascii=False, sort_keys=True),
            )
        )
    lines = _lines(result, notes)
    store.insert(t.bonus_lines, [{**key, **line} for line in lines])
    asked = request_id(result.plan, period.label)
    store.add_entries(
        [
            entry_row(
                (line["member_id"], result.plan, line["kind"]),
                "available",
                "bonus",
                line["amount"],
                at,
                None,
                asked,
            )
            for line in lines
            if line["amount"]
        ]
    )
    store.insert(
        t.tier_reviews,
        [
            {
                **key,
                "member_id": review.member_id,
                "old": review.old,
                "new": review.new,
                "qualified": review.qualified,
                "misses": review.misses,
                "at": at,
                "reason": review.reason or "-",
            }
            for review in result.reviews
        ],
    )


def _lines(result: PlanResult, notes: Mapping[str, str]) -> list[dict[str, Any]]:
    """The lines of a run: every amount paid with its text, and the team shortfalls."""
    texts: dict[tuple[str, str, str], str] = {}
    for share in result.mentor_shares:
        texts[(share.member_id, "mentor_share", share.mentee_id)] = share.text
    for reward in result.promotion_rewards:
        texts[(reward.member_id, "promotion_reward", f"{reward.invitee_id}:{reward.tier}")] = (
            reward.text
        )

    def team(member: str) -> str:
        assert result.team is not None
        note = notes.get(member)
        return result.team.explain(member) + (f"; {note}" if note else "")

    rows = []
    for member, kind, source, fen in result.payouts():
        text = team(member) if result.team and kind == "team_bonus" else ""
        text = texts.get((member, kind, source), text)
        rows.append(_line(member, kind, source, fen, text))
    if result.team is not None:
        for member in result.team.clamped():
            rows.append(_line(member, "team_bonus", "", 0, team(member)))
    return sorted(rows, key=lambda row: (row["member_id"], row["kind"], row["source_id"]))


def _line(member: str, kind: str, source: str, fen: int, text: str) -> dict[str, Any]:
    return {
        "member_id": member,
        "kind": kind,
        "source_id": source,
        "amount": fen,
        "text": text or f"{kind} {yuan(fen)}",
    }
