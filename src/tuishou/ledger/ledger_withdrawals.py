"""The withdrawal part of ``Ledger`` (提现, 提现审核): request, approve, reject, pay, withdraw.

``Ledger`` takes these methods from ``WithdrawalMethods``: a part of one facade, kept in its
own module so that each module stays one concept. The rules are in ``ledger.review`` (the
review's states), ``ledger.withdrawals`` (the checks of every withdrawal, one-step
``withdraw``) and ``ledger.fees`` (the fee rule).
"""

from __future__ import annotations

from datetime import datetime

from tuishou.errors import InvalidArgumentError
from tuishou.ledger import review
from tuishou.ledger.checks import check_ids
from tuishou.ledger.models import Entry
from tuishou.ledger.store import Store
from tuishou.ledger.withdrawal_models import MOVES, Withdrawal, WithdrawalState
from tuishou.ledger.withdrawal_store import withdrawal_list
from tuishou.ledger.withdrawals import withdraw

__all__ = ["WithdrawalMethods"]


class WithdrawalMethods:
    """``Ledger``'s withdrawal methods; see ``docs/ledger.md``, Withdrawals and their review."""

    _store: Store

    def request_withdrawal(
        self, member_id: str, amount: int, *, at: datetime, withdrawal_id: str
    ) -> Withdrawal:
        """Ask to withdraw ``amount`` fen (提现申请): it moves from available to ``held``
        (审核中), so it cannot be withdrawn twice, until it is approved and paid, or rejected.

        The fee is computed now (``LedgerPolicy.fee`` after what the member asked for earlier
        in the fee period, not rejected) and charged when paid. Refused, changing nothing
        (``InsufficientBalanceError``, ``LedgerError``): below ``min_withdrawal`` or above
        ``max_withdrawal``, above the available balance, a fee above the amount, ``at``
        before the ledger's clock. The same request again (same id, member and amount)
        returns the recorded withdrawal, in whatever state; the id used otherwise is a
        ``DuplicateRequestError``.

        >>> from datetime import UTC, datetime
        >>> from tuishou.ledger import Ledger, LedgerPolicy
        >>> from tuishou.examples import example_order, example_settlement
        >>> ledger = Ledger(LedgerPolicy(freeze_days=0, withdrawal_fee_rate="0.01"))
        >>> _ = ledger.post(example_order(), example_settlement(),
        ...                 at=datetime(2026, 11, 1, tzinfo=UTC))
        >>> _ = ledger.release(datetime(2026, 11, 1, tzinfo=UTC))
        >>> w = ledger.request_withdrawal("A", 300, at=datetime(2026, 11, 2, tzinfo=UTC),
        ...                               withdrawal_id="w1")
        >>> w.state, w.fee, ledger.balance("A").available, ledger.balance("A").held
        ('requested', 3, 200, 300)
        """
        return review.request(self._store, member_id, amount, at, withdrawal_id)

    def approve_withdrawal(self, withdrawal_id: str, *, at: datetime) -> Withdrawal:
        """Approve a requested withdrawal (审核通过): held to ``payable`` (待打款).

        Approving an approved one again is a no-op; any other state is a ``LedgerError``
        naming it (nothing changes).
        """
        check_ids(withdrawal_id=withdrawal_id)
        return review.approve(self._store, withdrawal_id, at)

    def reject_withdrawal(self, withdrawal_id: str, *, at: datetime, reason: str) -> Withdrawal:
        """Reject a requested or approved withdrawal (驳回), or record that its transfer
        bounced: the amount goes back to available and ``reason`` is kept. The allowance of
        the fee period is freed for later requests.

        The same reason again is a no-op; a paid withdrawal cannot be rejected.
        """
        check_ids(withdrawal_id=withdrawal_id)
        return review.reject(self._store, withdrawal_id, at, reason)

    def pay_withdrawal(
        self, withdrawal_id: str, *, at: datetime, transfer_reference: str
    ) -> Withdrawal:
        """Record the transfer of an approved withdrawal (已打款): payable to withdrawn (the
        net) and fees, with the payment's ``transfer_reference``.

        Never pays twice: the same reference again is a no-op, another one is a
        ``DuplicateRequestError``; a requested (not approved) or rejected withdrawal is a
        ``LedgerError``.

        >>> from datetime import UTC, datetime
        >>> from tuishou.ledger import Ledger, LedgerPolicy
        >>> from tuishou.examples import example_order, example_settlement
        >>> ledger = Ledger(LedgerPolicy(freeze_days=0))
        >>> at = datetime(2026, 11, 1, tzinfo=UTC)
        >>> _ = ledger.post(example_order(), example_settlement(), at=at)
        >>> _ = ledger.release(at)
        >>> _ = ledger.request_withdrawal("A", 500, at=at, withdrawal_id="w1")
        >>> _ = ledger.approve_withdrawal("w1", at=at)
        >>> ledger.pay_withdrawal("w1", at=at, transfer_reference="bank-77").state
        'paid'
        >>> ledger.balance("A").withdrawn
        500
        """
        check_ids(withdrawal_id=withdrawal_id)
        return review.pay(self._store, withdrawal_id, at, transfer_reference)

    def withdrawal(self, withdrawal_id: str) -> Withdrawal:
        """The withdrawal recorded under ``withdrawal_id`` (reviewed or one-step);
        ``LedgerError`` if there is none."""
        with self._store.reading():
            return review.get(self._store, withdrawal_id)

    def withdrawals(
        self, *, member_id: str | None = None, state: WithdrawalState | None = None
    ) -> list[Withdrawal]:
        """Every withdrawal (of ``member_id``, in ``state``, if given) by request time, then
        id: e.g. ``withdrawals(state="requested")`` is the review queue."""
        check_ids(member_id=member_id, optional=("member_id",))
        if state is not None and state not in MOVES:
            raise InvalidArgumentError(
                f"state={state!r} is not a withdrawal state; use one of {', '.join(MOVES)}"
            )
        return withdrawal_list(self._store, member_id, state)

    def withdraw(
        self, member_id: str, amount: int, *, at: datetime, withdrawal_id: str
    ) -> list[Entry]:
        """Take ``amount`` out of the available balance (提现) in one step, less the fee:
        for platforms whose transfers are automatic (no review).

        The checks and the fee are ``request_withdrawal``'s; it is recorded as a ``paid``
        withdrawal at once (``withdrawal(withdrawal_id)``, its id as the transfer
        reference), with the entries ``withdrawal`` (available −amount, withdrawn +net) and
        ``fee``. A repeated ``withdrawal_id`` (same member and amount) is a no-op (returns
        ``[]``); the id of a withdrawal under review is refused.
        """
        return withdraw(self._store, member_id, amount, at, withdrawal_id)
