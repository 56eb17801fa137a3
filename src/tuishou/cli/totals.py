"""The totals of a settle run, added up over the chunks it settles one after another (the
command line settles a file in chunks of whole orders: :mod:`tuishou.io.chunks`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tuishou.engine.tables import BatchResult

__all__ = ["SettleTotals"]


@dataclass(slots=True)
class SettleTotals:
    """The totals of a settle run, added up over the chunks settled one after another.

    >>> from tuishou.examples import example_result
    >>> totals = SettleTotals()
    >>> totals.add(example_result(), lines=1); totals.add(example_result(), lines=1)
    >>> totals.orders, totals.lines, totals.paid, totals.members_paid
    (2, 2, 1000, 1)
    """

    orders: int = 0
    lines: int = 0
    pool: int = 0
    paid: int = 0
    payouts: int = 0
    no_seller: int = 0
    versions: npt.NDArray[np.int64] | None = None  # orders under each policy version
    _paid_members: npt.NDArray[np.bool_] | None = None  # by member code

    @property
    def members_paid(self) -> int:
        """Members with at least one payout."""
        return 0 if self._paid_members is None else int(self._paid_members.sum())

    def add(self, result: BatchResult, *, lines: int) -> None:
        """Count a chunk's result (``lines`` order lines)."""
        self.orders += len(result.orders)
        self.lines += lines
        self.pool += result.pool
        self.paid += result.paid
        self.payouts += len(result.payouts)
        self.no_seller += int((result.orders.seller < 0).sum())
        members = np.asarray(result.payouts.member)
        if self._paid_members is None:
            self._paid_members = np.zeros(len(result.payouts.member_ids), bool)
        self._paid_members[members] = True
        if result.orders.version is not None:
            counts = np.bincount(result.orders.version, minlength=len(result.orders.versions))
            self.versions = counts if self.versions is None else self.versions + counts

    @classmethod
    def of(cls, result: BatchResult, *, lines: int) -> SettleTotals:
        """The totals of one result."""
        totals = cls()
        totals.add(result, lines=lines)
        return totals
