"""Periods and statements (月结, 对账单): the vocabulary of a month's close.

- **period** (结算周期): a span of time ``[start, end)``, usually a calendar month in the
  platform's time zone (``Period.month("2026-11")``, Asia/Shanghai by default);
- **close** (月结): recording that a period is over. The close is dated at or after the
  period's end and moves the ledger's clock, so nothing can be dated inside a closed period
  afterwards: its statements never change. A refund of an order from a closed period is
  recorded when it happens, in the open period, and its lines refer to the period the order
  was posted in;
- **statement** (对账单): one member's money over a period: the opening balances, every
  movement (earned per rule and kind, reversed, released, bonuses, clawed back, written
  off, withdrawals, rejected, withdrawn, fees), the closing balances and the pending schedule
  (what becomes available on which date). For every bucket, closing = opening + movements,
  to the fen (``Statement.check``).

``bonuses`` are the period plans' bonuses (大团队收益: team bonus, mentor share, promotion
reward) posted in the period: available at once (bucket available, reason ``bonus``).
Movements are signed as they act on the member's balances: ``reversed`` (a refund that
lowered a pending payout) and ``clawed_back`` are at most 0, ``withdrawals`` (money leaving
the available balance for a withdrawal) is at most 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self

from pydantic import model_validator

from tuishou.errors import InvalidArgumentError, LedgerError
from tuishou.ledger.fees import time_zone
from tuishou.ledger.models import Balance, Bucket, Reason
from tuishou.models import AwareTime, FrozenModel, Id, Problems

__all__ = ["DEFAULT_TIMEZONE", "MOVEMENTS", "Period", "PeriodClose", "Statement", "StatementLine"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The platform's time zone unless told otherwise: months and due dates are local dates."""

MOVEMENTS = (
    "earned",
    "reversed",
    "released",
    "bonuses",
    "clawed_back",
    "written_off",
    "withdrawals",
    "rejected",
    "withdrawn",
    "fees",
)
"""The movement sums of a statement, in the order it shows them."""

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class Period(FrozenModel):
    """A span of time ``[start, end)`` with a label, as the platform closes it (月结).

    ``start`` and ``end`` are aware datetimes; ``timezone`` (an IANA name) is where its
    dates are local: the statement's pending schedule gives due dates in it.

    >>> november = Period.month("2026-11")
    >>> november.label, november.start.isoformat(), november.end.isoformat()
    ('2026-11', '2026-11-01T00:00:00+08:00', '2026-12-01T00:00:00+08:00')
    >>> Period.month("2026-13")
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidArgumentError: month='2026-13' is not a month; write it as YYYY-MM, ...
    """

    error_class: ClassVar = LedgerError
    what: ClassVar[str] = "invalid period"

    label: Id
    start: AwareTime
    end: AwareTime
    timezone: str = DEFAULT_TIMEZONE

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        problems = []
        if self.end <= self.start:
            problems.append(
                f"end={self.end.isoformat()} is not after start={self.start.isoformat()}"
            )
        try:
            local = time_zone(self.timezone)
        except InvalidArgumentError as exc:
            problems.append(str(exc))
        else:
            for name, moment in (("start", self.start), ("end", self.end)):
                try:
                    moment.astimezone(local)
                except (OverflowError, ValueError):
                    problems.append(
                        f"{name}={moment.isoformat()} is beyond the year 9999 in "
                        f"{self.timezone}; check the time"
                    )
        if problems:
            raise Problems(problems)
        return self

    @classmethod
    def month(cls, month: str, *, timezone: str = DEFAULT_TIMEZONE) -> Period:
        """The calendar month ``month`` ("YYYY-MM") in ``timezone``, labelled ``month``."""
        found = _MONTH.fullmatch(month) if isinstance(month, str) else None
        if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
            raise InvalidArgumentError(
                f"month={month!r} is not a month; write it as YYYY-MM, e.g. '2026-11'"
            )
        year, number = int(found[1]), int(found[2])
        if (year, number) == (9999, 12):  # it would end in the year 10000
            raise InvalidArgumentError(
                f"month={month!r} ends beyond the year 9999, the last tuishou can date; check "
                "the month"
            )
        local = time_zone(timezone)
        start = datetime(year, number, 1, tzinfo=local)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=local)
        return cls(label=month, start=start, end=end, timezone=timezone)

    def local_date(self, moment: datetime) -> date:
        """The date of ``moment`` in the period's time zone."""
        return moment.astimezone(time_zone(self.timezone)).date()


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One entry of a member in a period, as a statement lists it.

    ``refers_to`` is the label of the closed period the order was posted in, for the lines
    of a refund, clawback or write-off of an order from an earlier closed period (None
    otherwise): the reference from the correction to the original.
    """

    entry_id: int
    at: datetime
    bucket: Bucket
    reason: Reason
    amount: int
    order_id: str | None = None
    rule: str | None = None
    kind: str | None = None
    request_id: str | None = None
    refers_to: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """One member's statement (对账单) for one period, every amount in fen.

    ``opening`` is the balance from the entries before ``period.start``, ``closing`` from
    those before ``period.end``. The movements are sums of the entries in the period,
    signed as they act on balances (see the module docstring); ``earned_by_rule`` splits
    ``earned`` by (rule, kind). ``schedule`` is the pending balance at the end by the local
    date its freeze ends ((date, fen), earliest first); ``awaiting_receipt`` the pending
    whose freeze had not started by the end (orders frozen from receipt, not yet received).
    ``closed`` says whether the period was closed (else the statement is provisional).
    ``bonuses`` is what period plan runs posted in the period (available at once), and
    ``bonus_lines`` splits it: (plan, period of the run, kind, source, fen) per line paid.
    """

    member_id: str
    period: Period
    closed: bool
    opening: Balance
    closing: Balance
    earned: int = 0
    reversed: int = 0
    released: int = 0
    bonuses: int = 0
    clawed_back: int = 0
    written_off: int = 0
    withdrawals: int = 0
    rejected: int = 0
    withdrawn: int = 0
    fees: int = 0
    earned_by_rule: tuple[tuple[str, str, int], ...] = ()
    bonus_lines: tuple[tuple[str, str, str, str, int], ...] = ()
    schedule: tuple[tuple[date, int], ...] = ()
    awaiting_receipt: int = 0
    lines: tuple[StatementLine, ...] = ()

    def check(self) -> None:
        """Raise ``LedgerError`` unless the statement adds up, to the fen.

        For each balance: closing = opening + the movements that act on it; the earned
        lines add up to ``earned``, the bonus lines to ``bonuses``; the schedule and
        ``awaiting_receipt`` add up to the closing pending balance.
        """
        problems = [
            f"{name}: opening {before} + movements {moved} = {before + moved}, but closing "
            f"is {after}"
            for name, before, moved, after in self._identities()
            if before + moved != after
        ]
        if sum(fen for *_, fen in self.earned_by_rule) != self.earned:
            problems.append(f"the earned lines do not add up to earned={self.earned}")
        if sum(fen for *_, fen in self.bonus_lines) != self.bonuses:
            problems.append(f"the bonus lines do not add up to bonuses={self.bonuses}")
        scheduled = sum(fen for _, fen in self.schedule) + self.awaiting_receipt
        if scheduled != self.closing.pending:
            problems.append(
                f"the pending schedule adds up to {scheduled}, the closing pending balance "
                f"is {self.closing.pending}"
            )
        if problems:
            raise LedgerError.from_problems(
                f"the statement of member {self.member_id!r} for {self.period.label} does "
                "not add up; the ledger may be damaged: check it, or restore it from a backup",
                problems,
            )

    def _identities(self) -> list[tuple[str, int, int, int]]:
        o, c = self.opening, self.closing
        # what leaves the available balance for a withdrawal goes under review (requested)
        # or straight out (one step); under review, it goes back (rejected) or out (paid)
        out = self.withdrawn + self.fees
        return [
            ("pending", o.pending, self.earned + self.reversed - self.released, c.pending),
            (
                "available",
                o.available,
                self.released
                + self.bonuses
                + self.clawed_back
                + self.written_off
                + self.withdrawals
                + self.rejected,
                c.available,
            ),
            ("written off", o.written_off, self.written_off, c.written_off),
            ("withdrawn", o.withdrawn, self.withdrawn, c.withdrawn),
            ("fees", o.fees, self.fees, c.fees),
            (
                "under review",
                o.held + o.payable,
                -self.withdrawals - self.rejected - out,
                c.held + c.payable,
            ),
        ]

    def to_text(self) -> str:
        """The statement as aligned text (CJK columns aligned): ``ledger.statement_text``."""
        from tuishou.ledger.statement_text import statement_text

        return statement_text(self)

    def to_html(self) -> str:
        """The statement as one self-contained HTML page: ``ledger.statement_text``."""
        from tuishou.ledger.statement_text import statement_html

        return statement_html(self)

    def as_row(self) -> dict[str, Any]:
        """One flat row (member, period, opening, movements, closing, schedule totals), as
        ``Ledger.statements_frame`` has it: ``opening_*`` and ``closing_*`` for pending,
        available, in_review (held + payable) and every other field of ``Balance``."""
        row: dict[str, Any] = {"member_id": self.member_id, "period": self.period.label}
        for name, balance in (("opening", self.opening), ("closing", self.closing)):
            row[f"{name}_pending"] = balance.pending
            row[f"{name}_available"] = balance.available
            row[f"{name}_in_review"] = balance.held + balance.payable
            for part in ("written_off", "withdrawn", "fees", "held", "payable"):
                row[f"{name}_{part}"] = getattr(balance, part)
        for name in MOVEMENTS:
            row[name] = getattr(self, name)
        row["awaiting_receipt"] = self.awaiting_receipt
        return row


@dataclass(frozen=True, slots=True)
class PeriodClose:
    """A recorded close (月结): the period, when it was closed, how many members have a
    statement, and the totals over all of them (``Statement.as_row`` sums, fen).
    ``repeated`` is True when the close had already been recorded (closing is idempotent)."""

    period: Period
    closed_at: datetime
    members: int
    totals: dict[str, int]
    repeated: bool = False
