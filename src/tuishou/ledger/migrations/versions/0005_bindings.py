"""Schema version 5: customer bindings (锁粉).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Additive, in the caller's transaction: ``tuishou_bindings``, the customer bindings the ledger
keeps (customer, since, member, until, how), keyed by ``(customer_id, since)``. A version-4
ledger has none; its orders and their snapshots stay as they were (an order's snapshot names
its binding only when one credited its seller).

Downgrading is refused: restore the backup taken before the upgrade instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tuishou.ledger.schema import UtcTime

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


def upgrade() -> None:
    """Version 4 to version 5, in the caller's transaction."""
    op.create_table(
        "tuishou_bindings",
        sa.Column("customer_id", _ID, primary_key=True),
        sa.Column("since", UtcTime, primary_key=True),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("until", UtcTime),
        sa.Column("how", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    """Refused: a ledger is not downgraded; restore the backup taken before the upgrade."""
    raise NotImplementedError(
        "a ledger is not downgraded from schema version 5; restore the backup taken before "
        "the upgrade"
    )
