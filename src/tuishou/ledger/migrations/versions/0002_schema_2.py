"""Schema version 2: the ledger as tuishou wrote it with hand-written SQLite SQL.

Revision ID: 0002
Revises:
Create Date: 2026-12-01

No operations: a version-2 file already has these tables (``schema_version``, ``policies``,
``orders``, ``payouts``, ``entries``, ``requests``, ``ledger_policy``, all times ISO 8601 text
in UTC). ``ledger.versions`` stamps such a file with this revision before upgrading it; a new
database is created at the current revision directly.
"""

from __future__ import annotations

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: the base of the ledger's history."""


def downgrade() -> None:
    """Nothing below the base."""
