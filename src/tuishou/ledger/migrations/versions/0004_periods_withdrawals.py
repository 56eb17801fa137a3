"""Schema version 4: policy versions on orders, withdrawal review, closed periods.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Additive, in the caller's transaction:

1. ``tuishou_orders.policy_version``: the name of the policy version an order was settled
   under (NULL for the orders posted before: they were settled under a plain policy);
2. ``tuishou_withdrawals``: every withdrawal and its review state. The one-step withdrawals
   of version 3 stay where they were recorded (``tuishou_requests``, kind ``withdrawal``,
   and their entries); their ids stay taken;
3. ``tuishou_periods``: the closed periods (月结) and their totals.

Downgrading is refused: restore the backup taken before the upgrade instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tuishou.ledger.schema import UtcTime

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


def upgrade() -> None:
    """Version 3 to version 4, in the caller's transaction."""
    # ALTER TABLE ... ADD COLUMN on both databases: the column goes last, as in a new ledger
    op.add_column("tuishou_orders", sa.Column("policy_version", _ID))
    op.create_table(
        "tuishou_withdrawals",
        sa.Column("withdrawal_id", _ID, primary_key=True),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("fee", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("requested_at", UtcTime, nullable=False),
        sa.Column("approved_at", UtcTime),
        sa.Column("finished_at", UtcTime),
        sa.Column("transfer_reference", _ID),
        sa.Column("reason", sa.Text),
    )
    op.create_index(
        "tuishou_withdrawals_by_member", "tuishou_withdrawals", ["member_id", "requested_at"]
    )
    op.create_index(
        "tuishou_withdrawals_by_state", "tuishou_withdrawals", ["state", "requested_at"]
    )
    op.create_table(
        "tuishou_periods",
        sa.Column("period_id", _ID, primary_key=True),
        sa.Column("start", UtcTime, nullable=False),
        sa.Column("end", UtcTime, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("closed_at", UtcTime, nullable=False),
        sa.Column("totals_json", sa.Text, nullable=False),
    )
    op.create_index("tuishou_periods_by_end", "tuishou_periods", ["end"])


def downgrade() -> None:
    """Refused: a ledger is not downgraded; restore the backup taken before the upgrade."""
    raise NotImplementedError(
        "a ledger is not downgraded from schema version 4; restore the backup taken before "
        "the upgrade"
    )
