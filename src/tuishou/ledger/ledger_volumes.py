"""The volume journal part of ``Ledger`` (业绩): a period's personal volumes, the journal.

``Ledger`` takes these methods from ``VolumeMethods``: a part of one facade, kept in its own
module so that each module stays one concept. The rules are in ``ledger.volumes``.
"""

from __future__ import annotations

from tuishou.ledger import volumes as journal
from tuishou.ledger.checks import check_ids
from tuishou.ledger.periods import check_period
from tuishou.ledger.statement_models import Period
from tuishou.ledger.store import Store
from tuishou.ledger.volumes import JournalRow, PeriodVolumes

__all__ = ["VolumeMethods"]


class VolumeMethods:
    """``Ledger``'s volume journal methods; see ``docs/ledger.md``, The volume journal."""

    _store: Store

    def volumes(self, period: Period) -> PeriodVolumes:
        """Each member's personal volume (个人业绩) in ``period``, in fen: what buyers paid for
        the orders it sold that were posted in ``[period.start, period.end)``, less what
        refunds recorded in the period took off (of any order). Members without a journal
        row in the period are left out; a volume may be negative. ``adjustments`` lists the
        refunds in the period of orders sold before it. Summed by the database (``GROUP BY
        member_id``). A ``period`` that is not a ``Period`` is an ``ArgumentTypeError``.

        >>> from datetime import UTC, datetime
        >>> from tuishou.ledger import Ledger
        >>> from tuishou.examples import example_order, example_settlement
        >>> ledger = Ledger()
        >>> _ = ledger.post(example_order(), example_settlement(),
        ...                 at=datetime(2026, 11, 2, tzinfo=UTC))
        >>> ledger.volumes(Period.month("2026-11", timezone="UTC")).personal
        {'A': 10000}
        """
        return journal.period_volumes(self._store, check_period(period))

    def volume_journal(self, member_id: str | None = None) -> list[JournalRow]:
        """The volume journal's rows (one member's, or every member's), in the order they
        were recorded: what support reads to see where a volume comes from."""
        if member_id is not None:
            check_ids(member_id=member_id)
        return journal.journal(self._store, member_id)
