"""The rows of ``tuishou_withdrawals``: read (decoded and checked), added, moved on.

Kept beside ``ledger.store`` (which holds the other tables' rows) so that each module stays
one concept. Every function runs inside the caller's transaction (``Store.transaction`` for
the writes: under the ledger's write lock) or opens a read transaction of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, insert, select, update

from tuishou.errors import DuplicateRequestError
from tuishou.ledger import schema as t
from tuishou.ledger.database import database_errors
from tuishou.ledger.store import Store
from tuishou.ledger.stored import decode
from tuishou.ledger.withdrawal_models import WITHDRAWAL_COLUMNS, Withdrawal

__all__ = [
    "add_withdrawal",
    "asked_in",
    "find_withdrawal",
    "legacy_request",
    "move_withdrawal",
    "withdrawal_list",
]

_W = t.withdrawals.c


def _read(store: Store, *where: ColumnElement[bool]) -> list[Withdrawal]:
    statement = select(t.withdrawals).where(*where).order_by(_W.requested_at, _W.withdrawal_id)
    with store.reading() as connection, database_errors(store.path):
        rows = connection.execute(statement).mappings().all()
    return [
        Withdrawal(**decode(store.path, "withdrawals", dict(row), WITHDRAWAL_COLUMNS))
        for row in rows
    ]


def find_withdrawal(store: Store, withdrawal_id: str) -> Withdrawal | None:
    """The withdrawal recorded under ``withdrawal_id``, or None."""
    found = _read(store, _W.withdrawal_id == withdrawal_id)
    return found[0] if found else None


def withdrawal_list(store: Store, member_id: str | None, state: str | None) -> list[Withdrawal]:
    """Withdrawals (of one member, in one state, if given) by request time, then id."""
    where = ([_W.member_id == member_id] if member_id is not None else []) + (
        [_W.state == state] if state is not None else []
    )
    return _read(store, *where)


def legacy_request(store: Store, withdrawal_id: str, fingerprint: str) -> bool:
    """Whether ``withdrawal_id`` is a one-step withdrawal recorded before schema 4 (in
    ``tuishou_requests``) with this fingerprint; refuses an id used there otherwise (a
    refund id, or another withdrawal): one namespace."""
    try:
        return store.seen(withdrawal_id, "withdrawal", fingerprint)
    except DuplicateRequestError:
        raise DuplicateRequestError(
            f"withdrawal id {withdrawal_id!r} was already used (by a refund, or by a "
            "withdrawal recorded before schema 4, for another member or amount); use a new id; "
            "nothing changed"
        ) from None


def asked_in(store: Store, member_id: str, start: datetime, end: datetime) -> tuple[int, int]:
    """What ``member_id`` asked to withdraw with requests dated in ``[start, end)`` and not
    rejected, and the fees they carry, in fen: reviewed and one-step withdrawals, and the
    one-step withdrawals of ledgers before schema 4 (their entries: they have no row in
    ``tuishou_withdrawals``)."""
    e = t.entries.c
    recorded = select(
        func.coalesce(func.sum(_W.amount), 0), func.coalesce(func.sum(_W.fee), 0)
    ).where(
        _W.member_id == member_id,
        _W.state != "rejected",
        _W.requested_at >= start,
        _W.requested_at < end,
    )
    legacy = select(
        func.coalesce(func.sum(case((e.bucket == "available", -e.amount), else_=0)), 0),
        func.coalesce(func.sum(case((e.bucket == "fees", e.amount), else_=0)), 0),
    ).where(
        e.member_id == member_id,
        e.reason.in_(("withdrawal", "fee")),
        e.at >= start,
        e.at < end,
        e.request_id.not_in(select(_W.withdrawal_id)),
    )
    asked = fees = 0
    with store.reading() as connection, database_errors(store.path):
        for query in (recorded, legacy):
            row = connection.execute(query).one()
            asked, fees = asked + int(row[0] or 0), fees + int(row[1] or 0)
    return asked, fees


def add_withdrawal(store: Store, withdrawal: Withdrawal) -> None:
    """Record a new withdrawal (inside a write transaction)."""
    values: dict[str, Any] = {
        name: getattr(withdrawal, name) for name in WITHDRAWAL_COLUMNS if name != "net"
    }
    with database_errors(store.path):
        store.connection.execute(insert(t.withdrawals).values(**values))


def move_withdrawal(store: Store, withdrawal_id: str, **values: Any) -> None:
    """Set the state (and its time, reference or reason) of a recorded withdrawal."""
    with database_errors(store.path):
        store.connection.execute(
            update(t.withdrawals).where(_W.withdrawal_id == withdrawal_id).values(**values)
        )
