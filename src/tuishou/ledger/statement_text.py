"""Statements people can read (对账单): aligned text, and one self-contained HTML page.

``statement_text(statement)`` (``Statement.to_text()``) gives the statement as plain text
in tables: the header (member, period, closed or provisional), the opening balances, the
movements, the closing balances, what was earned by rule and kind, the pending schedule and
every line of the period (a statement is a record: none is left out). It ends with how to
get an order's explanation. ``statement_html(statement)`` (``Statement.to_html()``, from
``tuishou.ledger.statement_html``) gives the same as one HTML page.

**Display width.** Member ids and rule names may be Chinese (张三, 级差): in a terminal or
a monospaced font a Chinese character takes two columns, a Latin letter one. Columns are
padded by display width (``display_width``: East Asian Wide and Fullwidth characters count
2, combining marks and other zero-width characters 0, everything else 1), so every row's
columns start at the same column. Ambiguous-width characters (``·``, ``–``) count 1, as
terminals outside East Asian locales show them; the statement's own words avoid them.

>>> display_width("张三"), display_width("A1"), display_width("e\\u0301")
(4, 2, 1)
>>> for line in text_table(["会员 member", "金额 amount"], [["张三", "¥1.00"]], right={1}):
...     print(line)
会员 member  金额 amount
-----------  -----------
张三               ¥1.00
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from functools import lru_cache

from tuishou.ledger.statement_html import statement_html
from tuishou.ledger.statement_models import Statement
from tuishou.ledger.statement_words import Table, explain_hints, header_rows, statement_tables

__all__ = ["display_width", "pad", "statement_html", "statement_text", "text_table"]

_GAP = "  "  # between two columns
_INDENT = "  "  # before a section's table
_GENERIC_HINTS = ("tuishou ledger explain LEDGER --order ORDER_ID", "ledger.explain(order_id)")


def display_width(text: str) -> int:
    """The number of terminal columns ``text`` takes (East Asian Wide/Fullwidth: 2).

    >>> display_width("级差 differential")
    17
    """
    if text.isascii():  # the common case, and a fast one: every ASCII character takes 1
        return len(text)
    return _wide_width(text)


@lru_cache(maxsize=4096)  # labels and ids repeat on every line of a long statement
def _wide_width(text: str) -> int:
    return sum(map(_char_width, text))


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):  # combining marks, zero-width
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` display columns, on the left if ``right``.

    Text wider than ``width`` is returned whole (never cut).

    >>> pad("张三", 6) + "|", pad("¥1.00", 7, right=True)
    ('张三  |', '  ¥1.00')
    """
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def text_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Collection[int] = ()
) -> list[str]:
    """A table as lines: the header, a rule of ``-``, then the rows, columns two spaces apart.

    Each column is as wide as its widest cell (display width); the columns in ``right``
    (indexes) are right-aligned, the others left-aligned. Trailing spaces are dropped.
    """
    cells = [[_printable(cell) for cell in row] for row in [header, *rows]]
    sizes = [[display_width(cell) for cell in row] for row in cells]
    widths = [max(column) for column in zip(*sizes, strict=True)]
    rule = ["-" * width for width in widths]
    return [
        _row(cells[0], sizes[0], widths, right),
        _row(rule, widths, widths, right),
        *(_row(row, size, widths, right) for row, size in zip(cells[1:], sizes[1:], strict=True)),
    ]


def _row(cells: list[str], sizes: list[int], widths: list[int], right: Collection[int]) -> str:
    """One row of ``text_table``: each cell padded to its column's width (``sizes`` are the
    cells' display widths, computed once)."""
    padded = (
        " " * (width - size) + cell if i in right else cell + " " * (width - size)
        for i, (cell, size, width) in enumerate(zip(cells, sizes, widths, strict=True))
    )
    return _GAP.join(padded).rstrip()


def statement_text(statement: Statement) -> str:
    """The statement as text: tables aligned by display width, amounts in yuan and fen.

    Raises nothing for a statement that does not add up (it shows what it is given; use
    ``Statement.check`` for that).

    >>> from tuishou.ledger.models import Balance
    >>> from tuishou.ledger.statement_models import Period
    >>> zero = Balance(pending=0, available=0, written_off=0)
    >>> text = statement_text(Statement("张三", Period.month("2026-11"), False, zero, zero))
    >>> print("\\n".join(text.splitlines()[:4]))
    对账单 Statement
      会员 member  张三
      周期 period  2026-11: 2026-11-01 00:00 to 2026-12-01 00:00 Asia/Shanghai (end excluded)
      状态 status  预览 provisional: the period is not closed, the figures may still change
    """
    rows = header_rows(statement)
    header = text_table(rows[0], rows[1:])  # aligned as a table, shown without its rule
    parts = [
        ["对账单 Statement", *_indented([header[0], *header[2:]])],
        *(_section(table) for table in statement_tables(statement)),
        _explain_footer(statement),
    ]
    return "\n\n".join("\n".join(part) for part in parts) + "\n"


def _section(table: Table) -> list[str]:
    body = text_table(table.header, table.rows, right=table.right) if table.rows else ["无 none"]
    return [table.title, *_indented(body)]


def _indented(lines: list[str]) -> list[str]:
    return [_INDENT + line if line else line for line in lines]


def _explain_footer(statement: Statement) -> list[str]:
    earned = [line.order_id for line in statement.lines if line.reason == "post" and line.order_id]
    command, call = explain_hints(earned[0]) if earned else _GENERIC_HINTS
    return [
        "订单明细 How an order's commission was computed (LEDGER: the ledger's file or URL):",
        f"{_INDENT}{command}",
        f"{_INDENT}{call}   (Python, on an open Ledger)",
    ]


def _printable(text: str) -> str:
    """Text with each control character escaped (``\\n`` as ``\\u000a``): one row, one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else f"\\u{ord(char):04x}" for char in text)
