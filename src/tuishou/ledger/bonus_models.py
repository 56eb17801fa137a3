"""The records of a period plan's run in the ledger: ``PlanRun``, ``BonusLine``, ``TierEvent``,
and how their stored rows are read back (``ledger.bonus_runs`` writes and reads them).

>>> request_id("big-team", "2026-11")
'big-team/2026-11'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tuishou.ledger.statement_models import Period
from tuishou.ledger.stored import COLUMNS
from tuishou.tiers import TierChange

__all__ = ["LINES", "REVIEWS", "RUNS", "BonusLine", "PlanRun", "TierEvent", "request_id"]


@dataclass(frozen=True, slots=True)
class PlanRun:
    """One recorded run of a period plan: the plan's name, the period, when it was recorded,
    the fingerprint of its inputs, ``totals`` (fen by bonus kind, only kinds paid),
    ``payouts`` (how many amounts were paid), ``members`` (how many members were paid) and
    the tier ``changes`` of its review. ``repeated`` is True when the run had already been
    recorded (``record_run`` wrote nothing)."""

    plan: str
    period: Period
    at: datetime
    fingerprint: str
    totals: dict[str, int] = field(default_factory=dict)
    payouts: int = 0
    members: int = 0
    changes: tuple[TierChange, ...] = ()
    repeated: bool = False

    @property
    def total(self) -> int:
        """Everything the run paid (fen)."""
        return sum(self.totals.values())


@dataclass(frozen=True, slots=True)
class BonusLine:
    """One line of a run: what ``member_id`` was paid (``amount`` fen) of a ``kind``
    (``team_bonus``, ``mentor_share``, ``promotion_reward``) from a ``source_id`` ("" for
    a team bonus, the mentee for a mentor share, ``invitee:tier`` for a reward), and the
    ``text`` that explains it. A team row with a shortfall is a line of amount 0."""

    plan: str
    period_id: str
    member_id: str
    kind: str
    source_id: str
    amount: int
    text: str


@dataclass(frozen=True, slots=True)
class TierEvent:
    """A dated tier change (保级): ``member_id`` went from ``old`` to ``new`` at ``at`` by the
    review of ``plan`` for ``period_id`` (its figures qualified for ``qualified``)."""

    member_id: str
    at: datetime
    plan: str
    period_id: str
    old: str
    new: str
    qualified: str
    reason: str


def request_id(plan: str, period_id: str) -> str:
    """The request id of a run's entries: ``"<plan>/<period_id>"``.

    >>> request_id("big-team", "2026-11")
    'big-team/2026-11'
    """
    return f"{plan}/{period_id}"


_TEXT, _TIME = COLUMNS["entries"]["member_id"], COLUMNS["entries"]["at"]
_ANY_TEXT = COLUMNS["ledger_policy"]["note"]  # text, "" allowed (a team bonus's source)
RUNS = {
    "plan": _TEXT,
    "period_id": _TEXT,
    "start": _TIME,
    "end": _TIME,
    "timezone": _TEXT,
    "at": _TIME,
    "fingerprint": _TEXT,
    "summary_json": lambda value: _summary_of(json.loads(_TEXT(value))),
}
LINES = {
    "plan": _TEXT,
    "period_id": _TEXT,
    "member_id": _TEXT,
    "kind": COLUMNS["entries"]["member_id"],
    "source_id": _ANY_TEXT,
    "amount": COLUMNS["entries"]["amount"],
    "text": _TEXT,
}
REVIEWS = {
    "plan": _TEXT,
    "period_id": _TEXT,
    "member_id": _TEXT,
    "old": _TEXT,
    "new": _TEXT,
    "qualified": _TEXT,
    "misses": COLUMNS["entries"]["amount"],
    "at": _TIME,
    "reason": _TEXT,
}


def _summary_of(value: Any) -> dict[str, Any]:
    if (
        type(value) is not dict
        or type(value.get("totals")) is not dict
        or not all(type(v) is int for v in value["totals"].values())
        or type(value.get("payouts")) is not int
        or type(value.get("members")) is not int
        or type(value.get("changes")) is not list
        or not all(
            type(c) is list and len(c) == 4 and all(type(p) is str for p in c)
            for c in value["changes"]
        )
    ):
        raise ValueError("expected the summary a run records: totals, payouts, members, changes")
    return value
