"""Alembic's environment for the ledger: migrate the connection ``ledger.versions`` passes.

Run only through ``Ledger.open`` (which upgrades an older ledger in its own transaction);
there is no ``alembic.ini``: the ledger is a library, and its database is the platform's.
"""

from __future__ import annotations

from alembic import context

from tuishou.ledger.schema import VERSION_TABLE, metadata

__all__: list[str] = []

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():  # the caller's transaction: nothing is committed here
    context.run_migrations()
