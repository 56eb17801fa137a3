"""The rows of ``tuishou_bindings``: read (decoded and checked) and changed.

Kept beside ``ledger.store`` (which holds the other tables' rows) so that each module stays
one concept. A row is one ``tuishou.bindings.Binding``, keyed by ``(customer_id, since)``;
times are stored in UTC, as every time the ledger keeps, so a binding read back has UTC
times (the same instants). Every function runs inside the caller's transaction
(``Store.transaction`` for the writes: under the ledger's write lock) or opens a read
transaction of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, insert, select, update

from tuishou.bindings import Binding
from tuishou.errors import InvalidBindingError
from tuishou.ledger import schema as t
from tuishou.ledger.database import database_errors
from tuishou.ledger.store import Store
from tuishou.ledger.stored import damaged, decode
from tuishou.times import utc

__all__ = ["change_bindings", "read_bindings"]

_B = t.bindings.c


def read_bindings(store: Store, *where: ColumnElement[bool]) -> list[Binding]:
    """The bindings recorded (those matching ``where``), by customer, then ``since``; a row
    the ledger would not have written is a ``LedgerError`` naming it."""
    statement = (
        select(_B.customer_id, _B.since, _B.member_id, _B.until, _B.how)
        .where(*where)
        .order_by(_B.customer_id, _B.since)
    )
    with store.reading() as connection, database_errors(store.path):
        rows = [dict(row) for row in connection.execute(statement).mappings()]
    return [_binding(store.path, row) for row in rows]


def _binding(path: str, row: dict[str, Any]) -> Binding:
    decoded = decode(path, "bindings", row)
    try:
        return Binding(**decoded)
    except InvalidBindingError as exc:  # e.g. a self-binding, or until not after since
        raise damaged(path, "bindings", row, "member_id", "; ".join(exc.problems)) from None


def change_bindings(
    store: Store, before: Sequence[Binding], after: Sequence[Binding]
) -> tuple[int, int, int]:
    """Make one customer's recorded bindings ``before`` become ``after`` (rows keyed by
    ``since``): delete, update and insert only what differs; (deleted, updated, inserted)."""
    old = {utc(b.since): b for b in before}
    new = {utc(b.since): b for b in after}
    gone = [b for key, b in old.items() if key not in new]
    moved = [b for key, b in new.items() if key in old and old[key] != b]
    added = [b for key, b in new.items() if key not in old]
    connection = store.connection
    with database_errors(store.path):
        for binding in gone:
            connection.execute(delete(t.bindings).where(_key(binding)))
        for binding in moved:
            connection.execute(update(t.bindings).where(_key(binding)).values(_values(binding)))
        if added:
            connection.execute(insert(t.bindings), [_row(b) for b in added])
    return len(gone), len(moved), len(added)


def _key(binding: Binding) -> ColumnElement[bool]:
    return and_(_B.customer_id == binding.customer_id, _B.since == utc(binding.since))


def _values(binding: Binding) -> dict[str, Any]:
    until = None if binding.until is None else utc(binding.until)
    return {"member_id": binding.member_id, "until": until, "how": binding.how}


def _row(binding: Binding) -> dict[str, Any]:
    return {"customer_id": binding.customer_id, "since": utc(binding.since)} | _values(binding)
