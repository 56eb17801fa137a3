"""Schema version 3: tables named ``tuishou_*``, the ledger clock row, indexes for SQL queries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Version 2 existed only as SQLite files. The upgrade, in the caller's transaction:

1. creates the version-3 tables (frozen below, as ``ledger.schema`` defined them for version 3)
   and copies every row into them: ``orders`` becomes ``tuishou_orders``... so the ledger can
   live in a platform's own database beside its own ``orders``. The tables are made anew
   rather than renamed so that an upgraded file has exactly the schema of a new one: version
   2's ``TEXT PRIMARY KEY`` columns accepted NULL (a SQLite quirk), its types were untyped
   ``TEXT``/``INTEGER``, and its ``entries`` were ``AUTOINCREMENT``;
2. drops the version-2 tables, ``schema_version`` included (Alembic's
   ``tuishou_alembic_version`` keeps the revision);
3. adds ``tuishou_clock``: the single row every write transaction locks first, holding the
   latest time recorded, computed here from what the file holds (as version 2 did on every
   write);
4. indexes: ``released_at, due_at`` for ``release``; ``member_id, at`` for balances as of a
   time and a member's history by date; ``order_id`` and ``at`` for entries by order and by
   date. Version 2's indexes on the orders' and requests' times go: they served its clock,
   which the clock row replaces, and each costs every post a b-tree insert. Every index name
   gets the prefix too (index names are per schema on PostgreSQL).

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

# Version 2's tables, parents before children: each is copied into tuishou_<name>.
_COPIED = ["ledger_policy", "policies", "orders", "payouts", "entries", "requests"]
# The latest time of each kind version 2 recorded, and what it was (as its clock read them).
_LATEST = [
    (
        "SELECT at, 'entry ' || entry_id || ': ' || reason || ' of member ''' || member_id "
        "|| '''' FROM entries ORDER BY at DESC, entry_id DESC LIMIT 1"
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


def _version_3() -> sa.MetaData:
    """The tables of schema version 3, frozen here (``ledger.schema`` may move on)."""
    m = sa.MetaData()
    ids = sa.String(200)
    sa.Table(
        "tuishou_clock",
        m,
        sa.Column("clock_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("writes", sa.BigInteger, nullable=False),
        sa.Column("at", UtcTime),
        sa.Column("what", sa.Text),
    )
    sa.Table(
        "tuishou_ledger_policy",
        m,
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcTime, nullable=False),
        sa.Column("policy_json", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    sa.Table(
        "tuishou_policies",
        m,
        sa.Column("policy_id", sa.String(64), primary_key=True),
        sa.Column("policy_json", sa.Text, nullable=False),
    )
    sa.Table(
        "tuishou_orders",
        m,
        sa.Column("order_id", ids, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column(
            "policy_id", sa.String(64), sa.ForeignKey("tuishou_policies.policy_id"), nullable=False
        ),
        *(sa.Column(name, sa.Text, nullable=False) for name in _JSON),
        sa.Column("posted_at", UtcTime, nullable=False),
        *(sa.Column(name, UtcTime) for name in ("freeze_start", "due_at", "released_at")),
        sa.Index("tuishou_orders_by_due", "released_at", "due_at"),
    )
    sa.Table(
        "tuishou_payouts",
        m,
        sa.Column("order_id", ids, sa.ForeignKey("tuishou_orders.order_id"), primary_key=True),
        sa.Column("member_id", ids, primary_key=True),
        sa.Column("rule", ids, primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "tuishou_entries",
        m,
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("member_id", ids, nullable=False),
        sa.Column("bucket", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("at", UtcTime, nullable=False),
        *(sa.Column(name, ids) for name in ("order_id", "rule")),
        sa.Column("kind", sa.String(40)),
        sa.Column("request_id", ids),
        sa.Index("tuishou_entries_by_member_time", "member_id", "at"),
        sa.Index("tuishou_entries_by_order", "order_id"),
        sa.Index("tuishou_entries_by_time", "at"),
    )
    sa.Table(
        "tuishou_requests",
        m,
        sa.Column("request_id", ids, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("at", UtcTime, nullable=False),
    )
    return m


_JSON = ("order_json", "snapshot_json", "refunded_json")


def upgrade() -> None:
    """Version 2 to version 3, in the caller's transaction."""
    connection = op.get_bind()
    latest: tuple[Any, Any] = (None, None)
    for sql in _LATEST:  # ISO 8601 text in UTC sorts in time order
        for at, what in connection.exec_driver_sql(sql):
            if latest[0] is None or at > latest[0]:
                latest = (at, what)
    tables = _version_3()
    tables.create_all(connection)
    for old in _COPIED:
        new = tables.tables[f"tuishou_{old}"]
        columns = ", ".join(column.name for column in new.columns)
        op.execute(f"INSERT INTO {new.name} ({columns}) SELECT {columns} FROM {old}")
    for old in [*reversed(_COPIED), "schema_version"]:  # children first: no key left dangling
        op.drop_table(old)
    op.bulk_insert(
        tables.tables["tuishou_clock"],
        [{"clock_id": 1, "writes": 0, "at": latest[0], "what": latest[1]}],
    )


def downgrade() -> None:
    """Refused: a ledger is not downgraded; restore the backup taken before the upgrade."""
    raise NotImplementedError(
        "a ledger is not downgraded from schema version 3; restore the backup taken before "
        "the upgrade"
    )
