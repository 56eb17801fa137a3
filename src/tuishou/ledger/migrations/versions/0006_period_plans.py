"""Schema version 6: the volume journal, period plan runs and tier reviews.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Additive, in the caller's transaction: ``tuishou_volumes`` (the volume journal),
``tuishou_bonus_runs``, ``tuishou_bonus_lines`` and ``tuishou_tier_reviews`` (see
``tuishou.ledger.schema``).

Downgrading is refused: restore the backup taken before the upgrade instead.
"""

from __future__ import annotations

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


def downgrade() -> None:
    """Refused: a ledger is not downgraded; restore the backup taken before the upgrade."""
    raise NotImplementedError(
        "a ledger is not downgraded from schema version 6; restore the backup taken before "
        "the upgrade"
    )
