"""One Alembic revision per ledger schema version."""

__all__: list[str] = []
