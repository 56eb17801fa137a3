"""The ledger's vocabulary: its policy, its entries and the balances they add up to.

Glossary (docs/domain.md §12):

- **pending** (冻结): earned but frozen until ``freeze_days`` after payment (or receipt);
- **available** (可提现): released, can be withdrawn;
- **clawback** (追回): what a refund takes back from commission already released;
- **written off** (核销): a clawback that could not be taken because the balance was too
  small (``clawback="cap_at_balance"``); recorded, never silently lost;
- **withdrawal** (提现): money taken out of the available balance, less a fee (手续费),
  rounded as ``fee_rounding`` says (up to the fen by default, so splitting a withdrawal into
  small ones never pays less in fees; the rule is ``tuishou.rounding.round_fee``).

Every change is an immutable ``Entry`` in one **bucket** (pending, available, withdrawn,
fees) with a signed amount and a **reason**; a balance is the sum of a member's entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from tuishou.errors import LedgerError
from tuishou.ledger.fees import fee_of, time_zone
from tuishou.models import FrozenModel, Problems
from tuishou.money import MAX_ORDER_FEN, Fen, Rate, check_fen
from tuishou.rounding import FeeRounding
from tuishou.rulebook import PayoutKind

__all__ = [
    "MAX_FREEZE_DAYS",
    "Balance",
    "Bucket",
    "Entry",
    "LedgerPolicy",
    "PolicyChange",
    "Reason",
    "RefundResult",
    "RequestKind",
    "entry_row",
]

MAX_FREEZE_DAYS = 365
"""The longest freeze a ledger accepts: a year, far beyond any return window (7 to 30 days).

It keeps every due date a valid ``datetime`` (a freeze of 10**10 days would make every post
fail) and catches a freeze given in hours or minutes by mistake."""

Bucket = Literal[
    "pending",  # frozen commission, not yet withdrawable
    "available",  # released commission (may go negative with allow_negative clawbacks)
    "held",  # withdrawals requested, under review (审核中): out of available, not yet approved
    "payable",  # withdrawals approved, awaiting the transfer (待打款)
    "withdrawn",  # paid out to the member by withdrawals, net of fees
    "fees",  # withdrawal fees kept by the platform
]
RequestKind = Literal[
    "refund",  # a refund id (Ledger.refund)
    "withdrawal",  # a withdrawal id (Ledger.withdraw)
]

Reason = Literal[
    "post",  # an order's payout, recorded pending
    "release",  # pending moved to available after the freeze
    "refund",  # a refund lowered a payout while it was pending (never raises one)
    "clawback",  # a refund took back released commission
    "write_off",  # the part of a clawback the balance could not cover (cap_at_balance)
    "withdrawal",  # money taken out of the available balance in one step (withdraw)
    "fee",  # the withdrawal fee
    "withdrawal_requested",  # a withdrawal asked for: available to held
    "withdrawal_approved",  # a reviewer approved it: held to payable
    "withdrawal_paid",  # the transfer was made: payable to withdrawn (net) and fees
    "withdrawal_rejected",  # rejected (or the transfer bounced): held or payable back to available
    "bonus",  # a period plan's bonus (team bonus, mentor share, promotion reward): available
]


class LedgerPolicy(FrozenModel):
    """How the ledger freezes, claws back and pays out.

    The ledger stores its policy in its database; see ``Ledger.change_policy``.

    >>> LedgerPolicy(freeze_days=15, clawback="cap_at_balance").freeze_from
    'paid'
    >>> LedgerPolicy(freeze_days=10**10)
    Traceback (most recent call last):
    ...
    tuishou.errors.LedgerError: invalid ledger policy: 1 problem(s)
      1. freeze_days: Input should be less than or equal to 365 (got 10000000000)
    """

    error_class: ClassVar = LedgerError
    what: ClassVar[str] = "invalid ledger policy"

    freeze_days: int = Field(default=7, ge=0, le=MAX_FREEZE_DAYS, strict=True)
    freeze_from: Literal[
        "paid",  # the freeze starts when the order is paid (order.paid_at, else posting time)
        "received",  # it starts when mark_received() says the goods arrived
    ] = "paid"
    clawback: Literal[
        "allow_negative",  # the available balance may go below zero; later earnings repay it
        "cap_at_balance",  # take the balance to zero at most; write the rest off, recorded
    ] = "allow_negative"
    min_withdrawal: Fen = Field(default=0, ge=0, le=MAX_ORDER_FEN, strict=True)
    max_withdrawal: Fen | None = Field(default=None, ge=1, le=MAX_ORDER_FEN, strict=True)
    withdrawal_fee_rate: Rate = Decimal(0)
    withdrawal_fee_fixed: Fen = Field(default=0, ge=0, le=MAX_ORDER_FEN, strict=True)
    fee_free_per_period: Fen = Field(default=0, ge=0, strict=True)
    fee_rounding: FeeRounding = "up"
    min_fee: Fen = Field(default=0, ge=0, le=MAX_ORDER_FEN, strict=True)
    timezone: str = "Asia/Shanghai"  # IANA; the fee period is the request's month there

    @model_validator(mode="after")
    def _fee_fits_the_smallest_withdrawal(self) -> Self:
        smallest = max(self.min_withdrawal, 1)
        problems = [
            f"{name}={value} is above the smallest withdrawal ({smallest} fen): a "
            f"withdrawal could pay more in fees than it takes out; set min_withdrawal to "
            f"at least {value}"
            for name, value in (
                ("min_fee", self.min_fee),
                ("withdrawal_fee_fixed", self.withdrawal_fee_fixed),
            )
            if value > smallest
        ]
        if self.max_withdrawal is not None and self.max_withdrawal < smallest:
            problems.append(
                f"max_withdrawal={self.max_withdrawal} is below min_withdrawal={smallest}: "
                "no withdrawal could be made; raise max_withdrawal or leave it None (no limit)"
            )
        largest = MAX_ORDER_FEN if self.max_withdrawal is None else self.max_withdrawal
        if not problems and self.fee(largest) > largest:  # the fee only grows with the amount
            problems.append(
                f"withdrawal_fee_rate={self.withdrawal_fee_rate} with withdrawal_fee_fixed="
                f"{self.withdrawal_fee_fixed} takes more than any withdrawal (up to {largest} "
                "fen) in fees: no withdrawal could be made; lower the rate or the fixed part"
            )
        try:
            time_zone(self.timezone)
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise Problems(problems)
        return self

    def fee(self, amount: int, *, before: int = 0) -> int:
        """The fee, in fen, on a withdrawal of ``amount`` fen when the member already asked
        for ``before`` fen (not rejected) in the same fee period: the rate on the cumulative
        taxable amount (above ``fee_free_per_period``), rounded by ``fee_rounding``, plus
        ``withdrawal_fee_fixed``, at least ``min_fee``; 0 when nothing is taxable (the rule:
        ``tuishou.ledger.fees``). ``amount`` and ``before`` are ints >= 0 (else
        ``ArgumentTypeError`` or ``InvalidArgumentError``).

        >>> LedgerPolicy(withdrawal_fee_rate="0.006").fee(37)  # 0.222 fen, rounded up
        1
        >>> LedgerPolicy(withdrawal_fee_rate="0.006", fee_rounding="half_up").fee(37)
        0
        >>> free = LedgerPolicy(withdrawal_fee_rate="0.01", fee_free_per_period=10_000)
        >>> free.fee(8_000), free.fee(8_000, before=8_000)  # 6,000 fen above the allowance
        (0, 60)
        """
        for name, value in (("amount", amount), ("before", before)):
            check_fen(value, name=name)
        return fee_of(
            amount,
            rate=self.withdrawal_fee_rate,
            fixed=self.withdrawal_fee_fixed,
            free=self.fee_free_per_period,
            min_fee=self.min_fee,
            rounding=self.fee_rounding,
            before=before,
        )


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
    kind: PayoutKind | None = None
    request_id: str | None = None  # the refund or withdrawal id, when there is one


@dataclass(frozen=True, slots=True)
class Balance:
    """A member's money, in fen: ``pending`` (frozen), ``available`` (withdrawable; negative
    after a clawback with allow_negative), ``written_off`` (clawbacks not taken), what was
    ``withdrawn`` and paid in ``fees`` so far, and the withdrawals under review: ``held``
    (requested, 审核中) and ``payable`` (approved, awaiting the transfer, 待打款)."""

    pending: int
    available: int
    written_off: int
    withdrawn: int = 0
    fees: int = 0
    held: int = 0
    payable: int = 0


@dataclass(frozen=True, slots=True)
class RefundResult:
    """What a refund did: the remaining order's payouts per (member, rule, kind), the new
    entries, and whether it was a retry of an earlier refund with the same id.

    ``pool`` is the pool of what is left of the order and ``retained`` what the platform keeps
    of it: ``pool == sum(remaining.values()) + retained``. A refund never raises a payout, so
    a fen that re-rounding the smaller order would move to a member stays in ``retained``.
    """

    order_id: str
    remaining: dict[tuple[str, str, str], int]
    entries: tuple[Entry, ...]
    pool: int
    retained: int
    repeated: bool = False


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """One recorded setting of a ledger's policy: from ``at`` on, ``policy`` applies."""

    at: datetime
    policy: LedgerPolicy
    note: str


def entry_row(
    key: tuple[str, str, str],
    bucket: str,
    reason: str,
    amount: int,
    at: datetime,
    order_id: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An entry to add (``Store.add_entries``) for a (member, rule, kind)."""
    member, rule, kind = key
    return {
        "member_id": member,
        "bucket": bucket,
        "reason": reason,
        "amount": amount,
        "at": at,
        "order_id": order_id,
        "rule": rule or None,
        "kind": kind or None,
        "request_id": request_id,
    }
