"""A withdrawal (提现) and its review state (提现审核), as the ledger records it.

States move forward only::

    requested ──approve──> approved ──pay──> paid
        │                     │
        └──────reject─────────┴──────> rejected

A one-step withdrawal (``Ledger.withdraw``) is recorded ``paid`` at once, with its own id as
the transfer reference. ``WITHDRAWAL_COLUMNS`` decodes a stored row (``ledger.stored``).

>>> from datetime import UTC, datetime
>>> at = datetime(2026, 11, 3, tzinfo=UTC)
>>> w = Withdrawal("w1", "A", 1000, 6, "requested", at, None, None, None, None)
>>> w.net, w.moves
(994, ('approved', 'rejected'))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from tuishou.ledger.stored import COLUMNS, Convert

__all__ = ["MOVES", "WITHDRAWAL_COLUMNS", "Withdrawal", "WithdrawalState"]

WithdrawalState = Literal[
    "requested",  # asked for, under review (审核中): the amount is held
    "approved",  # approved, awaiting the transfer (待打款): the amount is payable
    "paid",  # the transfer was made (已打款): withdrawn, net of the fee
    "rejected",  # refused, or the transfer bounced (已驳回): back to available
]
MOVES: dict[str, tuple[str, ...]] = {
    "requested": ("approved", "rejected"),
    "approved": ("paid", "rejected"),
    "paid": (),
    "rejected": (),
}
"""The states each state may move to (forward only)."""


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """One withdrawal: who, how much (``amount`` fen, out of the available balance), the
    ``fee`` fixed at request and charged when paid, its ``state`` and when it moved
    (``requested_at``, ``approved_at``, ``finished_at``: paid or rejected), the
    ``transfer_reference`` of the payment and the ``reason`` of a rejection."""

    withdrawal_id: str
    member_id: str
    amount: int
    fee: int
    state: WithdrawalState
    requested_at: datetime
    approved_at: datetime | None
    finished_at: datetime | None
    transfer_reference: str | None
    reason: str | None

    @property
    def net(self) -> int:
        """What the member receives, in fen: ``amount - fee``."""
        return self.amount - self.fee

    @property
    def moves(self) -> tuple[str, ...]:
        """The states this withdrawal may still move to."""
        return MOVES[self.state]


def _state(value: object) -> str:
    if value not in get_args(WithdrawalState):
        raise ValueError(f"expected one of {', '.join(get_args(WithdrawalState))}")
    return str(value)


def _reason(value: object) -> str | None:
    if value is not None and type(value) is not str:
        raise ValueError("expected text or NULL")
    return value


_entries = COLUMNS["entries"]
WITHDRAWAL_COLUMNS: dict[str, Convert] = {
    "withdrawal_id": _entries["member_id"],
    "member_id": _entries["member_id"],
    "amount": _entries["amount"],
    "fee": _entries["amount"],
    "state": _state,
    "requested_at": _entries["at"],
    "approved_at": COLUMNS["orders"]["due_at"],  # an optional time
    "finished_at": COLUMNS["orders"]["due_at"],
    "transfer_reference": _entries["request_id"],  # optional non-empty text
    "reason": _reason,
}
"""How each column of ``tuishou_withdrawals`` is decoded (what the ledger writes)."""
