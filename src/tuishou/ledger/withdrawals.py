"""Withdrawals (提现): money taken out of a member's available balance, less the fee.

``Ledger.withdraw`` calls ``withdraw``. Refused, changing nothing, above the available
balance (summed by the database, under the ledger's write lock, so two concurrent withdrawals
cannot both spend the same fen) or below ``min_withdrawal``. The fee
(``LedgerPolicy.fee``) is its own entry; a repeated ``withdrawal_id`` is a no-op.
"""

from __future__ import annotations

import json
from datetime import datetime

from tuishou.errors import InsufficientBalanceError
from tuishou.ledger.checks import check_ids, check_time
from tuishou.ledger.clock import check_clock, in_force
from tuishou.ledger.models import Entry, entry_row
from tuishou.ledger.refunds import digest
from tuishou.ledger.store import Store
from tuishou.money import check_fen

__all__ = ["withdraw"]


def withdraw(
    store: Store, member_id: str, amount: int, at: datetime, withdrawal_id: str
) -> list[Entry]:
    """Carry out a withdrawal: the rules are ``Ledger.withdraw``'s."""
    check_time(at)
    check_fen(amount)
    check_ids(member_id=member_id, withdrawal_id=withdrawal_id)
    request = digest(json.dumps([member_id, amount]))
    with store.transaction():
        if store.seen(withdrawal_id, "withdrawal", request):
            return []
        check_clock(store, at, doing="withdrawal")
        policy = in_force(store.policy_rows(), at)
        available = store.available(member_id)
        if amount < max(policy.min_withdrawal, 1):
            raise InsufficientBalanceError(
                f"withdrawal of {amount} fen is below the minimum of "
                f"{max(policy.min_withdrawal, 1)} fen"
            )
        if amount > available:
            raise InsufficientBalanceError(
                f"member {member_id!r} asked to withdraw {amount} fen but has {available} "
                "fen available"
            )
        fee = policy.fee(amount)
        key = (member_id, "", "")
        rows = [
            entry_row(key, "available", "withdrawal", -amount, at, None, withdrawal_id),
            entry_row(key, "withdrawn", "withdrawal", amount - fee, at, None, withdrawal_id),
        ]
        if fee:
            rows.append(entry_row(key, "fees", "fee", fee, at, None, withdrawal_id))
        store.record_request(withdrawal_id, "withdrawal", request, at)
        made = store.add_entries(rows)
        store.advance(at, f"withdrawal id {withdrawal_id!r} carried out")
        return made
