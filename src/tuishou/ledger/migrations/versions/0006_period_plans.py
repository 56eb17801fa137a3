"""Schema version 6: the volume journal, period plan runs and tier reviews.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Additive, in the caller's transaction: ``tuishou_volumes`` (the volume journal),
``tuishou_bonus_runs``, ``tuishou_bonus_lines`` and ``tuishou_tier_reviews`` (see
``tuishou.ledger.schema``).

Then the volume journal is filled from the orders posted before (``_backfill``): for each
order with a seller, + what the buyer paid (after its coupon) dated when it was posted, and,
if it was refunded, one row of − what its refunds took off the paid amount in all, dated at
its latest refund entry (an entry of reason refund, clawback or write_off for the order,
with that entry's request id; the order's posted time when it has none). So refunds recorded
before the upgrade count in the period of the order's last refund; a ledger's statements and
balances are not touched. The stored JSON is read with tuishou's own checked decoders
(``tuishou.ledger.stored``): a damaged row stops the upgrade, naming it.

Downgrading is refused: restore the backup taken before the upgrade instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from tuishou.ledger.schema import UtcTime

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Version 5 to version 6, in the caller's transaction."""
    op.create_table(
        "tuishou_volumes",
        sa.Column("volume_id", _ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("at", UtcTime, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("request_id", _ID),
        sa.Column("sold_at", UtcTime, nullable=False),
    )
    op.create_index("tuishou_volumes_by_time", "tuishou_volumes", ["at"])
    op.create_index("tuishou_volumes_by_member_time", "tuishou_volumes", ["member_id", "at"])
    op.create_table(
        "tuishou_bonus_runs",
        sa.Column("plan", _ID, primary_key=True),
        sa.Column("period_id", _ID, primary_key=True),
        sa.Column("start", UtcTime, nullable=False),
        sa.Column("end", UtcTime, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("at", UtcTime, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("summary_json", sa.Text, nullable=False),
    )
    op.create_table(
        "tuishou_bonus_lines",
        sa.Column("plan", _ID, primary_key=True),
        sa.Column("period_id", _ID, primary_key=True),
        sa.Column("member_id", _ID, primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("source_id", sa.String(420), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("tuishou_bonus_lines_by_member", "tuishou_bonus_lines", ["member_id"])
    op.create_table(
        "tuishou_tier_reviews",
        sa.Column("plan", _ID, primary_key=True),
        sa.Column("period_id", _ID, primary_key=True),
        sa.Column("member_id", _ID, primary_key=True),
        sa.Column("old", _ID, nullable=False),
        sa.Column("new", _ID, nullable=False),
        sa.Column("qualified", _ID, nullable=False),
        sa.Column("misses", sa.Integer, nullable=False),
        sa.Column("at", UtcTime, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("tuishou_tier_reviews_by_member", "tuishou_tier_reviews", ["member_id", "at"])
    _backfill(op.get_bind())


_VOLUMES = sa.table(
    "tuishou_volumes",
    sa.column("volume_id", sa.BigInteger),
    sa.column("member_id", sa.String),
    sa.column("at", UtcTime),
    sa.column("amount", sa.BigInteger),
    sa.column("order_id", sa.String),
    sa.column("request_id", sa.String),
    sa.column("sold_at", UtcTime),
)
_ORDERS = sa.text(
    "SELECT order_id, order_json, snapshot_json, refunded_json, posted_at FROM tuishou_orders "
    "ORDER BY posted_at, order_id"
)
_REFUNDS = sa.text(
    "SELECT entry_id, order_id, at, request_id FROM tuishou_entries "
    "WHERE reason IN ('refund', 'clawback', 'write_off') AND order_id IS NOT NULL "
    "ORDER BY entry_id"
)
_CHUNK = 5_000  # rows read and inserted at a time


def _backfill(connection: sa.Connection) -> None:
    """The volume journal of the orders posted before version 6 (module docs)."""
    from tuishou.ledger.stored import decode

    name = connection.engine.url.render_as_string(hide_password=True)
    last: dict[str, tuple[datetime, str | None]] = {}  # order -> its latest refund entry
    for row in connection.execute(_REFUNDS).mappings():
        entry = decode(name, "entries", dict(row))
        last[entry["order_id"]] = (entry["at"], entry["request_id"])
    rows: list[dict[str, Any]] = []
    result = connection.execute(_ORDERS, execution_options={"yield_per": _CHUNK}).mappings()
    for part in result.partitions():
        for row in part:
            rows += _volumes_of(name, decode(name, "orders", dict(row)), last)
    rows.sort(key=lambda row: (row["at"], row["order_id"], row["amount"] < 0))
    numbered = [{**row, "volume_id": n} for n, row in enumerate(rows, start=1)]
    for start in range(0, len(numbered), _CHUNK):
        connection.execute(sa.insert(_VOLUMES), numbered[start : start + _CHUNK])


def _volumes_of(
    name: str, order: dict[str, Any], last: dict[str, tuple[datetime, str | None]]
) -> list[dict[str, Any]]:
    """One order's journal rows: its sale, and what its refunds took off (if anything)."""
    from tuishou.ledger.refund_lines import states
    from tuishou.ledger.stored import damaged
    from tuishou.settlement import paid_order

    seller = order["snapshot_json"]["seller_id"]
    if seller is None:
        return []
    paid = paid_order(order["order_json"])
    lines = states(paid, order["refunded_json"])
    if lines is None:
        raise damaged(name, "orders", order, "refunded_json", "one refund state per line")
    bought = sum(line.amount for line in paid.lines)
    taken = bought - sum(line.amount_left for line in lines)
    order_id, sold_at = order["order_id"], order["posted_at"]
    made = []
    if bought > 0:
        made.append(_row(seller, sold_at, bought, order_id, None, sold_at))
    if taken > 0:
        at, request_id = last.get(order_id, (sold_at, None))
        made.append(_row(seller, at, -taken, order_id, request_id, sold_at))
    return made


def _row(
    member: str, at: datetime, amount: int, order_id: str, request_id: str | None, sold: datetime
) -> dict[str, Any]:
    return {
        "member_id": member,
        "at": at,
        "amount": amount,
        "order_id": order_id,
        "request_id": request_id,
        "sold_at": sold,
    }


def downgrade() -> None:
    """Refused: a ledger is not downgraded; restore the backup taken before the upgrade."""
    raise NotImplementedError(
        "a ledger is not downgraded from schema version 6; restore the backup taken before "
        "the upgrade"
    )
