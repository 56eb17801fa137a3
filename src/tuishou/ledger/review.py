"""Withdrawal review (提现审核): request, approve, pay or reject, forward only.

Each step is one write transaction, dated by the ledger's clock rule (at or after the latest
time the ledger recorded; it moves the clock), and is entries with ``request_id`` = the
withdrawal id, so every balance (``Balance.held``, ``Balance.payable``) is summed from them:

==========  ==========================  =================================================
step        reason                      entries
==========  ==========================  =================================================
request     ``withdrawal_requested``    available −amount, held +amount
approve     ``withdrawal_approved``     held −amount, payable +amount
pay         ``withdrawal_paid``, ``fee`` payable −amount, withdrawn +net; fees +fee
reject      ``withdrawal_rejected``     held (or payable) −amount, available +amount
==========  ==========================  =================================================

A move the state does not allow (``withdrawal_models.MOVES``) is a ``LedgerError`` naming the
state and the moves left; nothing changes. Repeating a step is a no-op returning the record
(the same transfer reference, the same rejection reason); paying again with another reference
is refused: a withdrawal is never paid twice. ``Ledger.request_withdrawal`` and the others
call these functions.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tuishou.errors import ArgumentTypeError, DuplicateRequestError, LedgerError
from tuishou.ids import check_id
from tuishou.ledger.checks import check_ids, check_time
from tuishou.ledger.clock import check_clock, in_force
from tuishou.ledger.models import entry_row
from tuishou.ledger.store import Store
from tuishou.ledger.withdrawal_models import Withdrawal
from tuishou.ledger.withdrawal_store import add_withdrawal, find_withdrawal, move_withdrawal
from tuishou.ledger.withdrawals import LEGACY, check_request, new_fee, recorded

__all__ = ["MAX_REASON_LENGTH", "approve", "get", "pay", "reject", "request"]

MAX_REASON_LENGTH = 1000
"""The longest rejection reason kept, in characters."""


def request(
    store: Store, member_id: str, amount: int, at: datetime, withdrawal_id: str
) -> Withdrawal:
    """Ask for a withdrawal: the rules are ``Ledger.request_withdrawal``'s."""
    check_request(member_id, amount, at, withdrawal_id)
    with store.transaction():
        found = recorded(store, member_id, amount, withdrawal_id)
        if isinstance(found, Withdrawal):
            return found
        if found == LEGACY:
            raise DuplicateRequestError(
                f"withdrawal id {withdrawal_id!r} was carried out as a one-step withdrawal "
                "before schema 4; use a new id; nothing changed"
            )
        check_clock(store, at, doing="withdrawal request")
        fee = new_fee(store, in_force(store.policy_rows(), at), member_id, amount, at)
        made = Withdrawal(
            withdrawal_id, member_id, amount, fee, "requested", at.astimezone(UTC), *[None] * 4
        )
        add_withdrawal(store, made)
        _entries(store, made, at, "withdrawal_requested", ("available", -amount), ("held", amount))
        store.advance(at, f"withdrawal id {withdrawal_id!r} requested")
        return made


def get(store: Store, withdrawal_id: str) -> Withdrawal:
    """The withdrawal recorded under ``withdrawal_id``; ``LedgerError`` if there is none."""
    check_ids(withdrawal_id=withdrawal_id)
    found = find_withdrawal(store, withdrawal_id)
    if found is None:
        raise LedgerError(
            f"no withdrawal has id {withdrawal_id!r} in this ledger (a one-step withdrawal "
            "recorded before schema 4 has no record: see its entries); ledger.withdrawals() "
            "lists them"
        )
    return found


def approve(store: Store, withdrawal_id: str, at: datetime) -> Withdrawal:
    """Approve a requested withdrawal: held to payable (待打款)."""
    return _move(store, withdrawal_id, at, "approved", {})


def pay(store: Store, withdrawal_id: str, at: datetime, transfer_reference: str) -> Withdrawal:
    """Record the transfer of an approved withdrawal: payable to withdrawn and fees."""
    check_id(transfer_reference, name="transfer_reference")
    return _move(store, withdrawal_id, at, "paid", {"transfer_reference": transfer_reference})


def reject(store: Store, withdrawal_id: str, at: datetime, reason: str) -> Withdrawal:
    """Reject a requested or approved withdrawal (or a bounced transfer): back to available."""
    if not isinstance(reason, str):
        raise ArgumentTypeError(f"reason is a {type(reason).__name__}; give the reason as text")
    if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        raise LedgerError(
            f"reason={reason[:80]!r} is empty or longer than {MAX_REASON_LENGTH} characters; "
            "say briefly why the withdrawal is rejected; nothing changed"
        )
    odd = [c for c in reason if unicodedata.category(c) in ("Cc", "Cs")]
    if odd:  # a NUL no database keeps alike, a lone surrogate none can encode, line breaks
        raise LedgerError(  # and escape codes that would break a printed table
            f"reason={reason[:80]!r} holds a control character or a lone surrogate "
            f"({odd[0]!r}); write the reason as one line of text; nothing changed"
        )
    return _move(store, withdrawal_id, at, "rejected", {"reason": reason})


_VERBS = {"approved": "approval", "paid": "payment", "rejected": "rejection"}


def _move(
    store: Store, withdrawal_id: str, at: datetime, to: str, values: dict[str, Any]
) -> Withdrawal:
    check_time(at)
    with store.transaction():
        found = get(store, withdrawal_id)
        if found.state == to:
            _check_repeat(found, values)
            return found
        if to not in found.moves:
            moves = " or ".join(found.moves) or "nothing: it is final"
            raise LedgerError(
                f"withdrawal {withdrawal_id!r} is {found.state}; it can move to {moves}, "
                f"not {to}; nothing changed"
            )
        check_clock(store, at, doing=f"withdrawal's {_VERBS[to]}")
        moment = at.astimezone(UTC)
        values = {**values, "state": to} | (
            {"approved_at": moment} if to == "approved" else {"finished_at": moment}
        )
        _entries(store, found, at, f"withdrawal_{to}", *_moves(found, to))
        move_withdrawal(store, withdrawal_id, **values)
        store.advance(at, f"withdrawal id {withdrawal_id!r} {to}")
        return replace(found, **values)


def _check_repeat(found: Withdrawal, values: dict[str, Any]) -> None:
    """A repeated step is a no-op only if it says the same (never pay twice)."""
    for name, value in values.items():
        if getattr(found, name) != value:
            raise DuplicateRequestError(
                f"withdrawal {found.withdrawal_id!r} is {found.state} already with "
                f"{name}={getattr(found, name)!r}, not {value!r}: it is never "
                f"{found.state} twice; nothing changed"
            )


def _moves(found: Withdrawal, to: str) -> list[tuple[str, int]]:
    amount = found.amount
    if to == "approved":
        return [("held", -amount), ("payable", amount)]
    if to == "paid":
        return [("payable", -amount), ("withdrawn", found.net), ("fees", found.fee)]
    source = "held" if found.state == "requested" else "payable"
    return [(source, -amount), ("available", amount)]


def _entries(
    store: Store, found: Withdrawal, at: datetime, reason: str, *moves: tuple[str, int]
) -> None:
    """The step's entries: one per bucket it moves (the fee, in ``fees``, only if any)."""
    key = (found.member_id, "", "")
    store.add_entries(
        [
            entry_row(
                key,
                bucket,
                "fee" if bucket == "fees" else reason,
                amount,
                at,
                None,
                found.withdrawal_id,
            )
            for bucket, amount in moves
            if amount or bucket != "fees"
        ]
    )
