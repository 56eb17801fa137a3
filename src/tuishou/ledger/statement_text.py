"""Statements people can read: aligned text and one self-contained HTML page.

(A first, plain version; the full rendering replaces it.)
"""

from __future__ import annotations

import html

from tuishou.ledger.statement_models import MOVEMENTS, Statement

__all__ = ["statement_html", "statement_text"]


def statement_text(statement: Statement) -> str:
    """The statement as text, one line per figure (fen)."""
    row = statement.as_row()
    return "\n".join(f"{name}: {value}" for name, value in row.items() if name in MOVEMENTS)


def statement_html(statement: Statement) -> str:
    """The statement as one HTML page."""
    return f"<!doctype html><pre>{html.escape(statement_text(statement))}</pre>"
