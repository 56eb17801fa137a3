"""The ledger's vocabulary: its policy, its entries and the balances they add up to.

Glossary (domain.md §10):

- **pending** (冻结): earned but frozen until ``freeze_days`` after payment (or receipt);
- **available** (可提现): released, can be withdrawn;
- **clawback** (追回): what a refund takes back from commission already released;
- **written off** (核销): a clawback that could not be taken because the balance was too
  small (``clawback="cap_at_balance"``); recorded, never silently lost;
- **withdrawal** (提现): money taken out of the available balance, less a fee.

Every change is an immutable ``Entry`` in one **bucket** (pending, available, withdrawn,
fees) with a signed amount and a **reason**; a balance is the sum of a member's entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from .errors import LedgerError
from .models import FrozenModel
from .money import Fen, Rate

__all__ = ["Balance", "Bucket", "Entry", "LedgerPolicy", "Reason", "RefundResult"]

Bucket = Literal[
    "pending",  # frozen commission, not yet withdrawable
    "available",  # released commission (may go negative with allow_negative clawbacks)
    "withdrawn",  # paid out to the member by withdrawals, net of fees
    "fees",  # withdrawal fees kept by the platform
]
Reason = Literal[
    "post",  # an order's payout, recorded pending
    "release",  # pending moved to available after the freeze
    "refund",  # a refund changed a payout while it was pending (or raised one after release)
    "clawback",  # a refund took back released commission
    "write_off",  # the part of a clawback the balance could not cover (cap_at_balance)
    "withdrawal",  # money taken out of the available balance
    "fee",  # the withdrawal fee
]


class LedgerPolicy(FrozenModel):
    """How the ledger freezes, claws back and pays out.

    >>> LedgerPolicy(freeze_days=15, clawback="cap_at_balance").freeze_from
    'paid'
    """

    error_class: ClassVar = LedgerError
    what: ClassVar[str] = "invalid ledger policy"

    freeze_days: int = Field(default=7, ge=0, strict=True)
    freeze_from: Literal[
        "paid",  # the freeze starts when the order is paid (order.paid_at, else posting time)
        "received",  # it starts when mark_received() says the goods arrived
    ] = "paid"
    clawback: Literal[
        "allow_negative",  # the available balance may go below zero; later earnings repay it
        "cap_at_balance",  # take the balance to zero at most; write the rest off, recorded
    ] = "allow_negative"
    min_withdrawal: Fen = Field(default=0, ge=0, strict=True)
    withdrawal_fee_rate: Rate = Decimal(0)


@dataclass(frozen=True, slots=True)
class Entry:
    """One immutable line of the ledger: who, which order and rule, which bucket, why, when."""

    entry_id: int
    member_id: str
    bucket: Bucket
    reason: Reason
    amount: int
    at: datetime
    order_id: str | None = None
    rule: str | None = None
    kind: str | None = None
    request_id: str | None = None  # the refund or withdrawal id, when there is one


@dataclass(frozen=True, slots=True)
class Balance:
    """A member's money, in fen: ``pending`` (frozen), ``available`` (withdrawable; negative
    after a clawback with allow_negative), ``written_off`` (clawbacks not taken), and what was
    ``withdrawn`` and paid in ``fees`` so far."""

    pending: int
    available: int
    written_off: int
    withdrawn: int = 0
    fees: int = 0


@dataclass(frozen=True, slots=True)
class RefundResult:
    """What a refund did: the remaining order's payouts per (member, rule, kind), the new
    entries, and whether it was a retry of an earlier refund with the same id."""

    order_id: str
    remaining: dict[tuple[str, str, str], int]
    entries: tuple[Entry, ...]
    repeated: bool = False
