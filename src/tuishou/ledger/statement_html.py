"""A statement (对账单) as one self-contained HTML page, to open in a browser or print.

The page stands alone: its style is inline (``<style>``), it has no script and loads
nothing (no link, image or font from elsewhere), so it can be mailed, archived or printed
as it is. Every value from the ledger (member, order, rule and request ids) is escaped
(``html.escape``): an id such as ``<script>`` shows as text, never runs. The page is
``lang="zh-CN"``, UTF-8, with one table per section and amounts right-aligned; each earned
line names its order and how to get the order's explanation.

>>> from datetime import UTC, datetime
>>> from tuishou.ledger.models import Balance
>>> from tuishou.ledger.statement_models import Period, Statement
>>> zero = Balance(0, 0, 0)
>>> page = statement_html(Statement("<b>", Period.month("2026-11"), False, zero, zero))
>>> page.startswith("<!doctype html>"), "<b>" in page, "&lt;b&gt;" in page
(True, False, True)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from html import escape

from tuishou.ledger.statement_models import Statement
from tuishou.ledger.statement_words import Table, explain_hints, header_rows, statement_tables

__all__ = ["statement_html"]

_STYLE = """
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
  margin: 2em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin: 1.4em 0 0.4em; }
table { border-collapse: collapse; margin-bottom: 0.5em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left;
  vertical-align: top; }
th { background: #f3f3f3; }
td.amount, th.amount { text-align: right; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, "SFMono-Regular", Consolas, monospace; font-size: 0.9em; }
.provisional { color: #a40; font-weight: bold; }
@media print {
  body { margin: 0; font-size: 10pt; }
  th { background: none; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
""".strip()


def statement_html(statement: Statement) -> str:
    """The statement as one HTML page (a ``str``; write it to a ``.html`` file, UTF-8).

    The same sections as ``statement_text``; raises nothing for a statement that does not
    add up (use ``Statement.check`` for that).

    >>> from tuishou.ledger.models import Balance
    >>> from tuishou.ledger.statement_models import Period
    >>> zero = Balance(pending=0, available=0, written_off=0)
    >>> page = statement_html(Statement("张三", Period.month("2026-11"), True, zero, zero))
    >>> "<title>对账单 Statement: 张三, 2026-11</title>" in page
    True
    """
    title = f"对账单 Statement: {statement.member_id}, {statement.period.label}"
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>\n{_STYLE}\n</style>",
            "</head>",
            "<body>",
            f"<h1>{escape(title)}</h1>",
            _header(statement),
            *(_section(table) for table in statement_tables(statement)),
            _EXPLAIN,
            "</body>",
            "</html>",
        ]
    )


def _header(statement: Statement) -> str:
    rows = [[escape(label), escape(value)] for label, value in header_rows(statement)]
    if not statement.closed:
        rows[-1][1] = f'<span class="provisional">{rows[-1][1]}</span>'
    return _table(None, rows, frozenset())


def _section(table: Table) -> str:
    rows = [[escape(cell) for cell in row] for row in table.rows]
    if "备注 note" in table.header:
        note = table.header.index("备注 note")
        for row, order in zip(rows, table.explain, strict=True):
            if order:
                command, call = (escape(hint) for hint in explain_hints(order))
                row[note] = f"explain: <code>{command}</code> or <code>{call}</code>"
    header = [escape(cell) for cell in table.header]
    content = _table(header, rows, table.right) if rows else "<p>无 none</p>"
    return f"<section>\n<h2>{escape(table.title)}</h2>\n{content}\n</section>"


def _table(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], right: Collection[int]
) -> str:
    """A table of cells that are already HTML (escaped); no head if None; the columns in
    ``right`` are amounts (right-aligned)."""

    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(
            f'<{tag} class="amount">{cell}</{tag}>' if i in right else f"<{tag}>{cell}</{tag}>"
            for i, cell in enumerate(row)
        )

    head = "" if header is None else f"<thead><tr>{cells('th', header)}</tr></thead>\n"
    body = "\n".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table>\n{head}<tbody>\n{body}\n</tbody>\n</table>"


_EXPLAIN = """<section>
<h2>订单明细 How an order's commission was computed</h2>
<p>On the command line, with LEDGER the ledger's file or URL:
<code>tuishou ledger explain LEDGER --order ORDER_ID</code>; in Python, on an open ledger:
<code>ledger.explain(order_id)</code>.</p>
</section>"""
