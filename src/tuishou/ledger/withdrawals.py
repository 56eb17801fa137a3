"""Withdrawals (提现): the checks every withdrawal passes, and the one-step ``withdraw``.

A withdrawal takes ``amount`` fen out of a member's available balance. It is refused,
changing nothing, below ``min_withdrawal`` (at least 1 fen) or above ``max_withdrawal``,
above the available balance (summed by the database under the ledger's write lock, so two
concurrent withdrawals cannot both spend the same fen), or when its fee (``ledger.fees``,
fixed at request) would be above the amount. Withdrawal ids are one namespace: reviewed
withdrawals (``ledger.review``), one-step ones, and the one-step ones of ledgers before
schema 4 (kept in ``tuishou_requests``), whose ids stay taken.

``withdraw`` is the one-step withdrawal, for platforms whose transfers are automatic: the
same checks and fee, recorded in ``tuishou_withdrawals`` as ``paid`` at once (its own id as
the transfer reference) with the entries ``withdrawal`` (available −amount, withdrawn +net)
and ``fee``. ``Ledger.withdraw`` calls it.
"""

from __future__ import annotations

import json
from datetime import datetime

from tuishou.errors import DuplicateRequestError, InsufficientBalanceError, LedgerError
from tuishou.ledger.checks import check_ids, check_time
from tuishou.ledger.clock import check_clock, in_force
from tuishou.ledger.fees import month_of
from tuishou.ledger.models import Entry, LedgerPolicy, entry_row
from tuishou.ledger.refunds import digest
from tuishou.ledger.store import Store
from tuishou.ledger.withdrawal_models import Withdrawal
from tuishou.ledger.withdrawal_store import (
    add_withdrawal,
    asked_in,
    find_withdrawal,
    legacy_request,
)
from tuishou.money import check_fen

__all__ = ["LEGACY", "check_request", "new_fee", "recorded", "withdraw"]

LEGACY = "legacy"
"""``recorded``'s answer for a one-step withdrawal of a ledger before schema 4."""


def check_request(member_id: str, amount: int, at: datetime, withdrawal_id: str) -> None:
    """Refuse an argument of the wrong type or form (before any transaction)."""
    check_time(at)
    check_fen(amount)
    check_ids(member_id=member_id, withdrawal_id=withdrawal_id)


def recorded(
    store: Store, member_id: str, amount: int, withdrawal_id: str
) -> Withdrawal | str | None:
    """The withdrawal already recorded under ``withdrawal_id`` for this member and amount
    (``LEGACY`` for one of a ledger before schema 4), None if the id is new; an id used for
    another member, amount or a refund is refused (``DuplicateRequestError``)."""
    found = find_withdrawal(store, withdrawal_id)
    if found is None:
        fingerprint = digest(json.dumps([member_id, amount]))
        return LEGACY if legacy_request(store, withdrawal_id, fingerprint) else None
    if (found.member_id, found.amount) != (member_id, amount):
        raise DuplicateRequestError(
            f"withdrawal id {withdrawal_id!r} was already used for {found.amount} fen of "
            f"member {found.member_id!r}, not {amount} fen of member {member_id!r}; use a new "
            "id; nothing changed"
        )
    return found


def new_fee(store: Store, policy: LedgerPolicy, member_id: str, amount: int, at: datetime) -> int:
    """Check a new withdrawal against the policy in force and the available balance (under
    the write lock); return its fee (``LedgerPolicy.fee`` after what the member asked for
    earlier in the fee period)."""
    smallest = max(policy.min_withdrawal, 1)
    if amount < smallest:
        raise InsufficientBalanceError(
            f"withdrawal of {amount} fen is below the minimum of {smallest} fen "
            "(min_withdrawal); nothing changed"
        )
    if policy.max_withdrawal is not None and amount > policy.max_withdrawal:
        raise LedgerError(
            f"withdrawal of {amount} fen is above the maximum of {policy.max_withdrawal} fen "
            "per withdrawal (max_withdrawal): ask for at most that; nothing changed"
        )
    available = store.available(member_id)
    if amount > available:
        raise InsufficientBalanceError(
            f"member {member_id!r} asked to withdraw {amount} fen but has {available} "
            "fen available; nothing changed"
        )
    start, end = month_of(at, policy.timezone)
    before, charged = asked_in(store, member_id, start, end)
    fee = policy.fee(amount, before=before)
    free = policy.fee_free_per_period
    if max(0, before + amount - free) > max(0, before - free):  # a taxable part: topped up
        fee = max(fee, policy.fee(before + amount) - charged)  # (see ledger.fees)
    if fee > amount:
        raise LedgerError(
            f"the fee on a withdrawal of {amount} fen would be {fee} fen, more than the "
            "amount: withdraw a larger amount; nothing changed"
        )
    return fee


def withdraw(
    store: Store, member_id: str, amount: int, at: datetime, withdrawal_id: str
) -> list[Entry]:
    """Carry out a one-step withdrawal: the rules are ``Ledger.withdraw``'s."""
    check_request(member_id, amount, at, withdrawal_id)
    with store.transaction():
        found = recorded(store, member_id, amount, withdrawal_id)
        if found == LEGACY or (isinstance(found, Withdrawal) and found.state == "paid"):
            return []
        if isinstance(found, Withdrawal):
            raise DuplicateRequestError(
                f"withdrawal id {withdrawal_id!r} is a reviewed withdrawal, {found.state}: "
                "carry it on with approve_withdrawal, pay_withdrawal or reject_withdrawal, or "
                "use a new id; nothing changed"
            )
        check_clock(store, at, doing="withdrawal")
        fee = new_fee(store, in_force(store.policy_rows(), at), member_id, amount, at)
        add_withdrawal(
            store,
            Withdrawal(
                withdrawal_id, member_id, amount, fee, "paid", at, at, at, withdrawal_id, None
            ),
        )
        key = (member_id, "", "")
        rows = [
            entry_row(key, "available", "withdrawal", -amount, at, None, withdrawal_id),
            entry_row(key, "withdrawn", "withdrawal", amount - fee, at, None, withdrawal_id),
        ]
        if fee:
            rows.append(entry_row(key, "fees", "fee", fee, at, None, withdrawal_id))
        made = store.add_entries(rows)
        store.advance(at, f"withdrawal id {withdrawal_id!r} carried out")
        return made
