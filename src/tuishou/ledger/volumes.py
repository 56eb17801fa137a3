"""The volume journal (业绩): what each member sold, dated, and a period's personal volumes.

Every write that changes what a buyer paid writes the journal in the same transaction as its
entries (``tuishou_volumes``, ids given under the write lock like entry ids):

- posting an order whose settlement has a seller (``Ledger.post``, every path of
  ``Ledger.post_batch``): one row, + what the buyer paid for the order (after its coupon:
  ``tuishou.settlement.coupons.paid_order``), dated at the post's ``at``; ``sold_at`` = ``at``.
  A guest order with no seller, or an order of 0 fen, writes nothing;
- a refund that takes something off the paid amount (``Ledger.refund``): one row, − what it
  took off (what is left of the lines before, less after: ``ledger.refund_lines``), for the
  seller the order's snapshot records, dated at the refund, with its ``refund_id`` as
  ``request_id`` and the order's posted time as ``sold_at``. A repeated refund id writes
  nothing again.

A member's **personal volume** in a period is the sum of its rows dated in ``[start, end)``
(``GROUP BY member_id`` in the database); a refund row in the period of an order sold before
it is an **adjustment** (``VolumeAdjustment``): it lowers this period, not the closed one.

>>> from datetime import UTC, datetime
>>> from tuishou.ledger import Ledger, Period
>>> from tuishou.examples import example_order, example_settlement
>>> ledger = Ledger()  # A shared an order of 10,000 fen
>>> _ = ledger.post(example_order(), example_settlement(), at=datetime(2026, 11, 2, tzinfo=UTC))
>>> _ = ledger.refund("o1", amounts={"s": 2500}, at=datetime(2026, 12, 3, tzinfo=UTC))
>>> ledger.volumes(Period.month("2026-11", timezone="UTC")).personal
{'A': 10000}
>>> december = ledger.volumes(Period.month("2026-12", timezone="UTC"))
>>> december.personal, december.adjustments[0].amount, december.total()
({'A': -2500}, -2500, -2500)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from tuishou.ledger import schema as t
from tuishou.ledger.refund_lines import LineState
from tuishou.ledger.statement_models import Period
from tuishou.ledger.store import Store
from tuishou.orders import Order
from tuishou.settlement import paid_order

__all__ = [
    "JournalRow",
    "PeriodVolumes",
    "VolumeAdjustment",
    "add_volumes",
    "journal",
    "order_amounts",
    "paid_amount",
    "period_volumes",
    "refund_volume",
    "sale_volume",
    "volume_rows",
]

VOLUME_COLUMNS = ("volume_id", "member_id", "at", "amount", "order_id", "request_id", "sold_at")


@dataclass(frozen=True, slots=True)
class VolumeAdjustment:
    """A refund recorded in a period of an order sold before it: ``amount`` fen (< 0) off
    ``member_id``'s volume, refund ``request_id`` (None when the refund had no id) of order
    ``order_id``, recorded ``at``, the order posted ``sold_at``."""

    member_id: str
    order_id: str
    request_id: str | None
    amount: int
    at: datetime
    sold_at: datetime


@dataclass(frozen=True, slots=True)
class PeriodVolumes:
    """A period's personal volumes (个人业绩, fen, may be negative): ``personal`` for every
    member with a journal row dated in it, and the ``adjustments`` among those rows, by
    member then time."""

    period: Period
    personal: dict[str, int]
    adjustments: tuple[VolumeAdjustment, ...]

    def total(self) -> int:
        """The sum of the personal volumes, in fen."""
        return sum(self.personal.values())


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One row of the volume journal as stored (``Ledger.volume_journal``): a sale when
    ``request_id`` is None and ``amount`` > 0, else a refund."""

    volume_id: int
    member_id: str
    order_id: str
    request_id: str | None
    amount: int
    at: datetime
    sold_at: datetime


def paid_amount(order: Order) -> int:
    """What the buyer paid for ``order``, in fen: its lines less its coupon.

    >>> from tuishou.examples import example_order
    >>> paid_amount(example_order())
    10000
    """
    return sum(line.amount for line in paid_order(order).lines)


def sale_volume(seller_id: str | None, order: Order, at: datetime) -> dict[str, Any] | None:
    """The journal row of a posted order (without its id), or None: no seller, or 0 fen."""
    amount = paid_amount(order)
    if seller_id is None or amount <= 0:
        return None
    return _row(seller_id, order.order_id, None, amount, at, at)


def refund_volume(
    snapshot: dict[str, Any],
    order_id: str,
    before: Sequence[LineState],
    after: Sequence[LineState],
    at: datetime,
    refund_id: str | None,
    sold_at: datetime,
) -> dict[str, Any] | None:
    """The journal row of a refund (without its id): − what it took off the paid amount,
    for the snapshot's seller; None when there is no seller or it took nothing off."""
    taken = sum(s.amount_left for s in before) - sum(s.amount_left for s in after)
    seller_id = snapshot["seller_id"]
    if seller_id is None or taken <= 0:
        return None
    return _row(seller_id, order_id, refund_id, -taken, at, sold_at)


def _row(
    member_id: str,
    order_id: str,
    request_id: str | None,
    amount: int,
    at: datetime,
    sold_at: datetime,
) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "at": at,
        "amount": amount,
        "order_id": order_id,
        "request_id": request_id,
        "sold_at": sold_at,
    }


def add_volumes(store: Store, rows: Sequence[dict[str, Any] | None]) -> None:
    """Insert journal rows (None: nothing) with the next ids, in the caller's transaction."""
    chosen = [row for row in rows if row is not None]
    if chosen:
        first = store.claim_volumes(len(chosen))
        store.insert(t.volumes, [{**row, "volume_id": first + n} for n, row in enumerate(chosen)])


def period_volumes(store: Store, period: Period) -> PeriodVolumes:
    """``Ledger.volumes``: the period's volumes summed by the database, and its adjustments."""
    v = t.volumes.c
    inside = (v.at >= period.start, v.at < period.end)
    with store.reading():
        sums = store.read(
            "volume_sums",
            select(v.member_id, func.sum(v.amount).label("amount"))
            .where(*inside)
            .group_by(v.member_id)
            .order_by(v.member_id),
        )
        adjusted = store.read(
            "volumes",
            select(v.member_id, v.order_id, v.request_id, v.amount, v.at, v.sold_at)
            .where(*inside, v.sold_at < period.start)
            .order_by(v.member_id, v.at, v.volume_id),
        )
    return PeriodVolumes(
        period,
        {row["member_id"]: row["amount"] for row in sums},
        tuple(VolumeAdjustment(**row) for row in adjusted),
    )


def journal(store: Store, member_id: str | None = None) -> list[JournalRow]:
    """``Ledger.volume_journal``: the journal's rows (one member's, or all), oldest first."""
    v = t.volumes.c
    statement = select(*(v[name] for name in VOLUME_COLUMNS)).order_by(v.volume_id)
    if member_id is not None:
        statement = statement.where(v.member_id == member_id)
    return [JournalRow(**row) for row in store.read("volumes", statement)]


def order_amounts(
    codes: npt.NDArray[np.integer[Any]], amounts: npt.NDArray[np.int64], position: npt.NDArray[Any]
) -> npt.NDArray[np.int64]:
    """What each order's buyer paid (the sum of its lines' amounts, exact int64: the batch
    fast path has no coupons), for the orders in ``position`` order (first appearance).

    >>> order_amounts(np.array([0, 1, 0]), np.array([100, 7, 250]), np.array([1, 0])).tolist()
    [7, 350]
    """
    paid = np.zeros(len(position), dtype=np.int64)
    np.add.at(paid, codes, amounts)
    chosen: npt.NDArray[np.int64] = paid[position]
    return chosen


def volume_rows(
    ids: Sequence[str],
    sellers: npt.NDArray[np.int64],
    paid: npt.NDArray[np.int64],
    member_ids: Sequence[str],
    chosen: Sequence[int],
) -> list[tuple[str, str, int]]:
    """The journal rows of the ``chosen`` orders of a batch: (order id, seller, paid) for each
    order with a seller (a code into ``member_ids``, -1 for none) and an amount paid.

    >>> volume_rows(["o1", "o2"], np.array([0, -1]), np.array([500, 300]), ["A"], [0, 1])
    [('o1', 'A', 500)]
    """
    picked = np.asarray(chosen, dtype=np.int64)
    kept = (sellers[picked] >= 0) & (paid[picked] > 0)
    return [
        (ids[i], member_ids[m], a)
        for i, m, a in zip(
            picked[kept].tolist(),
            sellers[picked][kept].tolist(),
            paid[picked][kept].tolist(),
            strict=True,
        )
    ]
