"""The ledger's Alembic migrations (``ledger.versions`` runs them; see ``docs/ledger.md``).

``env.py`` runs them on the connection ``ledger.versions`` hands over, inside its
transaction; ``versions/`` holds one revision per schema version, named after it.
"""

__all__: list[str] = []
