"""The month-end part of ``Ledger`` (月结, 对账单): close a period, statements, explain.

``Ledger`` takes these methods from ``PeriodMethods``: a part of one facade, kept in its own
module so that each module stays one concept. The rules are in ``ledger.periods`` (closing),
``ledger.statements`` (statements summed in SQL) and ``ledger.explained``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from tuishou.ledger import periods as closing
from tuishou.ledger import statements as stated
from tuishou.ledger.checks import check_ids
from tuishou.ledger.explained import explain_order
from tuishou.ledger.statement_models import Period, PeriodClose, Statement
from tuishou.ledger.store import Store

__all__ = ["PeriodMethods"]


class PeriodMethods:
    """``Ledger``'s period and statement methods; see ``docs/ledger.md``, Periods and
    statements."""

    _store: Store

    def close_period(self, period: Period, *, at: datetime) -> PeriodClose:
        """Close ``period`` (月结) at ``at``: check every member's statement and the totals
        against the ledger's sums, record them, and move the clock to ``at``.

        ``at`` is at or after ``period.end`` and the ledger's clock; periods close in order
        and never overlap. Closing the same period again returns the recorded close
        (``repeated=True``); the same label with other bounds, or anything else refused, is
        a ``LedgerError`` and changes nothing. See ``ledger.periods``.

        >>> from datetime import UTC, datetime
        >>> from tuishou.ledger import Ledger, LedgerPolicy
        >>> from tuishou.examples import example_order, example_settlement
        >>> ledger = Ledger()
        >>> november = Period.month("2026-11", timezone="UTC")
        >>> _ = ledger.post(example_order(), example_settlement(),
        ...                 at=datetime(2026, 11, 2, tzinfo=UTC))
        >>> close = ledger.close_period(november, at=datetime(2026, 12, 1, tzinfo=UTC))
        >>> close.members, close.totals["earned"], close.repeated
        (1, 500, False)
        >>> ledger.close_period(november, at=datetime(2026, 12, 5, tzinfo=UTC)).repeated
        True
        """
        return closing.close_period(self._store, closing.check_period(period), at)

    def periods(self) -> list[PeriodClose]:
        """Every closed period, oldest first, with its recorded totals."""
        return closing.closed_periods(self._store)

    def statement(self, member_id: str, period: Period) -> Statement:
        """One member's statement (对账单) for ``period``, with its lines (fen).

        ``closed`` is False while the period is open (a provisional statement). A member
        with no entries gets an all-zero statement.

        >>> from datetime import UTC, datetime
        >>> from tuishou.ledger import Ledger, LedgerPolicy
        >>> from tuishou.examples import example_order, example_settlement
        >>> ledger = Ledger(LedgerPolicy(freeze_days=7))
        >>> _ = ledger.post(example_order(), example_settlement(),
        ...                 at=datetime(2026, 11, 2, tzinfo=UTC))
        >>> mine = ledger.statement("A", Period.month("2026-11", timezone="UTC"))
        >>> mine.earned, mine.closing.pending, mine.schedule, mine.closed
        (500, 500, ((datetime.date(2026, 11, 9), 500),), False)
        """
        check_ids(member_id=member_id)
        period = closing.check_period(period)
        closes = closing.closed_periods(self._store)
        return stated.member_statement(self._store, member_id, period, closes)

    def statements(self, period: Period) -> Iterator[Statement]:
        """Every member's statement for ``period`` (without lines), by member id, summed by
        the database a page of members at a time (``ledger.statements``): every member
        with an entry in the period or a non-zero balance at its start."""
        period = closing.check_period(period)
        closed = stated.is_closed(period, closing.closed_periods(self._store))
        return stated.statements(self._store, period, closed)

    def statements_frame(self, period: Period) -> Any:
        """``statements`` as a pandas DataFrame, one row per member (``Statement.as_row``;
        int64 fen). Needs ``pip install 'tuishou[columnar]'``."""
        period = closing.check_period(period)
        closed = stated.is_closed(period, closing.closed_periods(self._store))
        return stated.statements_frame(self._store, period, closed)

    def statements_arrow(self, period: Period) -> Any:
        """``statements`` as a pyarrow Table, the columns of ``statements_frame``. Needs
        ``pip install 'tuishou[columnar]'``."""
        period = closing.check_period(period)
        closed = stated.is_closed(period, closing.closed_periods(self._store))
        return stated.statements_arrow(self._store, period, closed)

    def explain(self, order_id: str) -> str:
        """The posted order explained: re-settled from the recorded order, chain, policy and
        policy version (never today's), its ``explain()`` text, then its refunds so far and
        what it pays now. Refuses an order never posted (``UnknownOrderError``)."""
        return explain_order(self._store, order_id)
