"""Schema version 3: tables named ``tuishou_*``, the ledger clock row, indexes for SQL queries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

1. Every table gets the ``tuishou_`` prefix (``orders`` becomes ``tuishou_orders``...), so the
   ledger can live in a platform's own database beside its own ``orders``; ``schema_version``
   goes (Alembic's ``tuishou_alembic_version`` keeps the revision).
2. ``tuishou_clock`` is added: the single row every write transaction locks first, holding
   the latest time recorded, computed here from what the file holds (as version 2 did on
   every write).
3. Indexes: ``released_at, due_at`` for ``release``; ``member_id, at`` for balances as of a
   time and a member's history by date. Every index name gets the prefix too (index names
   are per schema on PostgreSQL).

Downgrading is refused: restore the backup taken before the upgrade instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from tuishou.ledger.schema import UtcTime

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_RENAMED = ["ledger_policy", "policies", "orders", "payouts", "entries", "requests"]
_OLD_INDEXES = {
    "entries": ["entries_by_member", "entries_by_order", "entries_by_time"],
    "orders": ["orders_by_posting", "orders_by_freeze", "orders_by_release"],
    "requests": ["requests_by_time"],
}
_NEW_INDEXES = [
    ("tuishou_orders_by_posting", "tuishou_orders", ["posted_at"]),
    ("tuishou_orders_by_freeze", "tuishou_orders", ["freeze_start"]),
    ("tuishou_orders_by_release", "tuishou_orders", ["released_at"]),
    ("tuishou_orders_by_due", "tuishou_orders", ["released_at", "due_at"]),
    ("tuishou_entries_by_member_time", "tuishou_entries", ["member_id", "at"]),
    ("tuishou_entries_by_order", "tuishou_entries", ["order_id"]),
    ("tuishou_entries_by_time", "tuishou_entries", ["at"]),
    ("tuishou_requests_by_time", "tuishou_requests", ["at"]),
]
# The latest time of each kind version 2 recorded, and what it was (as its clock read them).
_LATEST = [
    (
        "SELECT at, 'entry ' || entry_id || ': ' || reason || ' of member ''' || member_id "
        "|| '''' FROM entries ORDER BY at DESC LIMIT 1"
    ),
    "SELECT posted_at, 'order ''' || order_id || ''' posted' FROM orders "
    "ORDER BY posted_at DESC LIMIT 1",
    "SELECT freeze_start, 'the freeze of order ''' || order_id || ''' started' FROM orders "
    "WHERE freeze_start IS NOT NULL ORDER BY freeze_start DESC LIMIT 1",
    "SELECT released_at, 'order ''' || order_id || ''' released' FROM orders "
    "WHERE released_at IS NOT NULL ORDER BY released_at DESC LIMIT 1",
    "SELECT at, kind || ' id ''' || request_id || ''' carried out' FROM requests "
    "ORDER BY at DESC LIMIT 1",
]


def upgrade() -> None:
    """Version 2 to version 3, in the caller's transaction."""
    connection = op.get_bind()
    latest: tuple[Any, Any] = (None, None)
    for sql in _LATEST:  # ISO 8601 text in UTC sorts in time order
        for at, what in connection.exec_driver_sql(sql):
            if latest[0] is None or at > latest[0]:
                latest = (at, what)
    for table, names in _OLD_INDEXES.items():
        for name in names:
            op.drop_index(name, table_name=table, if_exists=True)
    for table in _RENAMED:
        op.rename_table(table, f"tuishou_{table}")
    op.drop_table("schema_version")
    for name, table, columns in _NEW_INDEXES:
        op.create_index(name, table, columns)
    clock = op.create_table(
        "tuishou_clock",
        sa.Column("clock_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("writes", sa.BigInteger, nullable=False),
        sa.Column("at", UtcTime),
        sa.Column("what", sa.Text),
    )
    op.bulk_insert(clock, [{"clock_id": 1, "writes": 0, "at": latest[0], "what": latest[1]}])


def downgrade() -> None:
    """Refused: a ledger is not downgraded; restore the backup taken before the upgrade."""
    raise NotImplementedError(
        "a ledger is not downgraded from schema version 3; restore the backup taken before "
        "the upgrade"
    )
