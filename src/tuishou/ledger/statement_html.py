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
from tuishou.ledger.statement_words import (
    KIND_LABELS,
    LINE_HEADER,
    balance_rows,
    explain_hints,
    line_cells,
    local_time,
    movement_rows,
    period_text,
    signed_yuan,
    status_text,
)
from tuishou.money import yuan

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

_AMOUNT = "金额 amount"
_FEN = "分 fen"


def statement_html(statement: Statement) -> str:
    """The statement as one HTML page (a ``str``; write it to a ``.html`` file, UTF-8).

    The same sections as ``statement_text``; raises nothing for a statement that does not
    add up (use ``Statement.check`` for that).
    """
    period = statement.period
    title = f"对账单 Statement: {statement.member_id}, {period.label}"
    sections = [
        _header(statement),
        _section(
            f"期初余额 Opening balances (at {local_time(period, period.start)})",
            _figures("余额 balance", balance_rows(statement.opening), signed=False),
        ),
        _section("本期变动 Movements", _figures("变动 movement", movement_rows(statement))),
        _section(
            f"期末余额 Closing balances (at {local_time(period, period.end)})",
            _figures("余额 balance", balance_rows(statement.closing), signed=False),
        ),
        _section("按规则赚取 Earned by rule and kind", _earned(statement)),
        _section("待解冻 Pending schedule (available on, local date)", _schedule(statement)),
        _section(f"明细 Lines ({len(statement.lines)})", _lines(statement)),
        _explain_footer(),
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="zh-CN">',
            '<head>\n<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>\n{_STYLE}\n</style>\n</head>",
            "<body>",
            f"<h1>{escape(title)}</h1>",
            *sections,
            "</body>",
            "</html>",
        ]
    )


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Collection[int] = ()
) -> str:
    """A table of escaped text cells; columns in ``right`` are amounts (right-aligned)."""
    escaped = [[escape(cell) for cell in row] for row in rows]
    return _raw_table([escape(cell) for cell in header], escaped, right)


def _raw_table(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], right: Collection[int]
) -> str:
    """A table of cells that are already HTML (escaped by the caller); no head if None."""

    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(
            f'<{tag} class="amount">{cell}</{tag}>' if i in right else f"<{tag}>{cell}</{tag}>"
            for i, cell in enumerate(row)
        )

    head = "" if header is None else f"<thead><tr>{cells('th', header)}</tr></thead>\n"
    body = "\n".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table>\n{head}<tbody>\n{body}\n</tbody>\n</table>"


def _section(title: str, content: str) -> str:
    return f"<section>\n<h2>{escape(title)}</h2>\n{content}\n</section>"


def _header(statement: Statement) -> str:
    status = escape(status_text(statement))
    if not statement.closed:
        status = f'<span class="provisional">{status}</span>'
    rows = [
        ["会员 member", escape(statement.member_id)],
        ["周期 period", escape(period_text(statement.period))],
        ["状态 status", status],
    ]
    return _raw_table(None, rows, ())


def _figures(what: str, rows: list[tuple[str, int]], *, signed: bool = True) -> str:
    money = signed_yuan if signed else yuan
    body = [[label, money(fen), str(fen)] for label, fen in rows]
    return _table([what, _AMOUNT, _FEN], body, right={1, 2})


def _earned(statement: Statement) -> str:
    if not statement.earned_by_rule:
        return "<p>无 none</p>"
    body = [
        [rule, KIND_LABELS.get(kind, kind), signed_yuan(fen), str(fen)]
        for rule, kind, fen in statement.earned_by_rule
    ]
    return _table(["规则 rule", "类型 kind", _AMOUNT, _FEN], body, right={2, 3})


def _schedule(statement: Statement) -> str:
    body = [[day.isoformat(), yuan(fen), str(fen)] for day, fen in statement.schedule]
    if statement.awaiting_receipt:
        fen = statement.awaiting_receipt
        body.append(["待收货 awaiting receipt", yuan(fen), str(fen)])
    if not body:
        return "<p>无 none</p>"
    return _table(["日期 date", _AMOUNT, _FEN], body, right={1, 2})


def _lines(statement: Statement) -> str:
    if not statement.lines:
        return "<p>无 none</p>"
    note = LINE_HEADER.index("备注 note")
    rows = []
    for line in statement.lines:
        row = [escape(cell) for cell in line_cells(statement.period, line)]
        if line.reason == "post" and line.order_id:
            command, call = explain_hints(line.order_id)
            row[note] = f"explain: <code>{escape(command)}</code> or <code>{escape(call)}</code>"
        rows.append(row)
    header = [escape(cell) for cell in LINE_HEADER]
    return _raw_table(header, rows, {LINE_HEADER.index(_AMOUNT)})


def _explain_footer() -> str:
    return (
        "<section>\n<h2>订单明细 How an order's commission was computed</h2>\n"
        "<p>On the command line, with LEDGER the ledger's file or URL: "
        "<code>tuishou ledger explain LEDGER --order ORDER_ID</code>; in Python, on an open "
        "ledger: <code>ledger.explain(order_id)</code>.</p>\n</section>"
    )
