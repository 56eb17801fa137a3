"""The words and figures of a statement (对账单), shared by its text and HTML forms.

Every label is bilingual, Chinese first: the platform's members read Chinese, its
engineers and auditors often English. Amounts are fen in the ledger and yuan on paper:
``¥1,234.56`` (``tuishou.money.yuan``), with a ``+`` or ``-`` on movements and lines, as
they act on the member's balances. Times are local to the period's time zone.

>>> BUCKET_LABELS["held"], REASON_LABELS["refund"], KIND_LABELS["differential"]
('审核中 held', '退款冲减 reversed', '级差 differential')
>>> signed_yuan(123456), signed_yuan(-5), signed_yuan(0)
('+¥1,234.56', '-¥0.05', '¥0.00')
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tuishou.ledger.fees import time_zone
from tuishou.ledger.models import Balance
from tuishou.ledger.statement_models import Period, Statement, StatementLine
from tuishou.money import yuan

__all__ = [
    "BALANCE_ROWS",
    "BUCKET_LABELS",
    "KIND_LABELS",
    "LINE_HEADER",
    "MOVEMENT_LABELS",
    "REASON_LABELS",
    "Table",
    "balance_rows",
    "explain_hints",
    "header_rows",
    "line_cells",
    "line_note",
    "local_time",
    "movement_rows",
    "period_text",
    "signed_yuan",
    "statement_tables",
    "status_text",
]

BUCKET_LABELS = {
    "pending": "冻结 pending",
    "available": "可提现 available",
    "held": "审核中 held",
    "payable": "待打款 payable",
    "withdrawn": "已提现 withdrawn",
    "fees": "手续费 fees",
}
"""Each bucket of the ledger (``tuishou.ledger.models.Bucket``), as a statement names it."""

REASON_LABELS = {
    "post": "赚取 earned",
    "release": "解冻 released",
    "refund": "退款冲减 reversed",
    "clawback": "追回 clawed back",
    "write_off": "核销 written off",
    "withdrawal": "提现 withdrawal",
    "fee": "手续费 fee",
    "withdrawal_requested": "提现申请 requested",
    "withdrawal_approved": "提现批准 approved",
    "withdrawal_paid": "已打款 paid",
    "withdrawal_rejected": "驳回退回 rejected",
    "bonus": "奖金 bonus",
}
"""Each reason of an entry (``tuishou.ledger.models.Reason``), as a statement's lines name it."""

KIND_LABELS = {
    "seller": "分享 seller",
    "layer": "层级 layer",
    "differential": "级差 differential",
    "peer": "平级 peer",
    "team_bonus": "团队奖 team bonus",
    "mentor_share": "育成奖 mentor share",
    "promotion_reward": "晋升奖 promotion reward",
}
"""Each payout kind (``tuishou.rulebook.PayoutKind``) and period bonus kind
(``tuishou.bonuses.results.BONUS_KINDS``), as a statement names it."""

MOVEMENT_LABELS = {
    "earned": "赚取 earned",
    "reversed": "退款冲减 reversed",
    "released": "解冻 released",
    "bonuses": "奖金 bonuses",
    "clawed_back": "追回 clawed back",
    "written_off": "核销 written off",
    "withdrawals": "提现 withdrawals",
    "rejected": "驳回退回 rejected",
    "withdrawn": "已提现 withdrawn",
    "fees": "手续费 fees",
}
"""Each movement of ``statement_models.MOVEMENTS``, in that order."""

BALANCE_ROWS: tuple[tuple[str, Callable[[Balance], int]], ...] = (
    ("冻结 pending", lambda b: b.pending),
    ("可提现 available", lambda b: b.available),
    ("审核中 held", lambda b: b.held),
    ("待打款 payable", lambda b: b.payable),
    ("已提现 withdrawn", lambda b: b.withdrawn),
    ("手续费 fees", lambda b: b.fees),
    ("核销 written off", lambda b: b.written_off),
)
"""The balances a statement shows, in order: (label, the figure of a ``Balance``)."""

LINE_HEADER = (
    "时间 time",
    "账户 bucket",
    "事由 reason",
    "订单 order",
    "单号 request",
    "规则 rule",
    "类型 kind",
    "金额 amount",
    "备注 note",
)
"""The columns of a statement's lines (``line_cells``)."""

_NOUNS = {"refund": "refund", "clawback": "clawback", "write_off": "write-off"}


def signed_yuan(fen: int) -> str:
    """``fen`` as yuan with its sign: ``+¥1.00``, ``-¥1.00``, ``¥0.00`` (movements, lines).

    >>> signed_yuan(100)
    '+¥1.00'
    """
    return f"+{yuan(fen)}" if fen > 0 else yuan(fen)


def local_time(period: Period, moment: datetime) -> str:
    """``moment`` in the period's time zone, to the minute: ``2026-11-03 14:05``.

    >>> from datetime import UTC
    >>> local_time(Period.month("2026-11"), datetime(2026, 11, 3, 6, 5, tzinfo=UTC))
    '2026-11-03 14:05'
    """
    return moment.astimezone(time_zone(period.timezone)).strftime("%Y-%m-%d %H:%M")


def period_text(period: Period) -> str:
    """The period's label and its bounds in its time zone (the end is not part of it).

    >>> period_text(Period.month("2026-11"))
    '2026-11: 2026-11-01 00:00 to 2026-12-01 00:00 Asia/Shanghai (end excluded)'
    """
    start, end = local_time(period, period.start), local_time(period, period.end)
    return f"{period.label}: {start} to {end} {period.timezone} (end excluded)"


def status_text(statement: Statement) -> str:
    """Closed (已月结: the statement is final) or provisional (预览: it may still change).

    >>> zero = Balance(0, 0, 0)
    >>> status_text(Statement("A", Period.month("2026-11"), True, zero, zero))
    '已月结 closed: this statement is final'
    """
    if statement.closed:
        return "已月结 closed: this statement is final"
    return "预览 provisional: the period is not closed, the figures may still change"


def balance_rows(balance: Balance) -> list[tuple[str, int]]:
    """(label, fen) for every balance a statement shows, in ``BALANCE_ROWS`` order.

    >>> balance_rows(Balance(pending=100, available=-5, written_off=5))[:2]
    [('冻结 pending', 100), ('可提现 available', -5)]
    """
    return [(label, figure(balance)) for label, figure in BALANCE_ROWS]


def movement_rows(statement: Statement) -> list[tuple[str, int]]:
    """(label, fen) for every movement of the statement, in ``MOVEMENTS`` order; bonuses
    only when the statement has some (a period plan paid the member in the period).

    >>> zero = Balance(0, 0, 0)
    >>> movement_rows(Statement("A", Period.month("2026-11"), True, zero, zero))[0]
    ('赚取 earned', 0)
    """
    return [
        (label, getattr(statement, name))
        for name, label in MOVEMENT_LABELS.items()
        if name != "bonuses" or _has_bonuses(statement)
    ]


def _has_bonuses(statement: Statement) -> bool:
    """Whether a period plan paid the member anything in the period (else the statement
    leaves bonuses out: most platforms run no period plan)."""
    return bool(statement.bonuses or statement.bonus_lines)


def line_note(line: StatementLine) -> str:
    """What a line refers to: a correction of an order from an earlier closed period.

    >>> from datetime import UTC
    >>> at = datetime(2026, 12, 2, tzinfo=UTC)
    >>> line_note(StatementLine(1, at, "available", "clawback", -50, "o1", refers_to="2026-11"))
    'clawback of an order from 2026-11 (原单 2026-11)'
    """
    if line.refers_to is None:
        return ""
    noun = _NOUNS.get(line.reason, "correction")
    return f"{noun} of an order from {line.refers_to} (原单 {line.refers_to})"


def line_cells(period: Period, line: StatementLine) -> list[str]:
    """One line of a statement as its ``LINE_HEADER`` cells ("" where there is nothing).

    >>> from datetime import UTC
    >>> at = datetime(2026, 11, 3, 6, 5, tzinfo=UTC)
    >>> line = StatementLine(7, at, "pending", "post", 1200, "o1", "级差", "differential")
    >>> line_cells(Period.month("2026-11"), line)  # doctest: +NORMALIZE_WHITESPACE
    ['2026-11-03 14:05', '冻结 pending', '赚取 earned', 'o1', '', '级差', '级差 differential',
     '+¥12.00', '']
    """
    return [
        local_time(period, line.at),
        BUCKET_LABELS.get(line.bucket, line.bucket),
        REASON_LABELS.get(line.reason, line.reason),
        line.order_id or "",
        line.request_id or "",
        line.rule or "",
        KIND_LABELS.get(line.kind, line.kind) if line.kind else "",
        signed_yuan(line.amount),
        line_note(line),
    ]


def explain_hints(order_id: str) -> tuple[str, str]:
    """How to get an order's explanation: the command line and the Python call.

    >>> explain_hints("o 1")
    ("tuishou ledger explain LEDGER --order 'o 1'", "ledger.explain('o 1')")
    """
    return (
        f"tuishou ledger explain LEDGER --order {shlex.quote(order_id)}",
        f"ledger.explain({order_id!r})",
    )


@dataclass(frozen=True, slots=True)
class Table:
    """One section of a statement as text cells: a title, the column heads, the rows.

    ``right`` holds the indexes of the amount columns (right-aligned); ``explain`` gives,
    per row, the order whose explanation the row can point to (earned lines), else None.
    An empty ``rows`` shows as "无 none".
    """

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = frozenset()
    explain: tuple[str | None, ...] = ()


def header_rows(statement: Statement) -> list[tuple[str, str]]:
    """The statement's header: (label, value) for the member, the period and its status.

    >>> zero = Balance(0, 0, 0)
    >>> header_rows(Statement("张三", Period.month("2026-11"), True, zero, zero))[0]
    ('会员 member', '张三')
    """
    return [
        ("会员 member", statement.member_id),
        ("周期 period", period_text(statement.period)),
        ("状态 status", status_text(statement)),
    ]


def statement_tables(statement: Statement) -> list[Table]:
    """The sections of a statement, in the order both its text and its page show them.

    Opening balances, movements, closing balances, earned by rule and kind, the period
    plans' bonuses (only when there are some), the pending schedule, then every line of the
    period (none left out: a statement is a record).

    >>> zero = Balance(0, 0, 0)
    >>> made = Statement("张三", Period.month("2026-11"), True, zero, zero)
    >>> for table in statement_tables(made):
    ...     print(table.title, len(table.rows))
    期初余额 Opening balances (at 2026-11-01 00:00) 7
    本期变动 Movements 9
    期末余额 Closing balances (at 2026-12-01 00:00) 7
    按规则赚取 Earned by rule and kind 0
    待解冻 Pending schedule (available on, local date) 0
    明细 Lines (0) 0
    """
    period = statement.period
    return [
        _figures(
            f"期初余额 Opening balances (at {local_time(period, period.start)})",
            "余额 balance",
            [(label, yuan(fen), fen) for label, fen in balance_rows(statement.opening)],
        ),
        _figures(
            "本期变动 Movements",
            "变动 movement",
            [(label, signed_yuan(fen), fen) for label, fen in movement_rows(statement)],
        ),
        _figures(
            f"期末余额 Closing balances (at {local_time(period, period.end)})",
            "余额 balance",
            [(label, yuan(fen), fen) for label, fen in balance_rows(statement.closing)],
        ),
        _earned(statement),
        *([_bonuses(statement)] if _has_bonuses(statement) else []),
        _schedule(statement),
        _lines(statement),
    ]


_AMOUNT = "金额 amount"
_FEN = "分 fen"


def _figures(title: str, what: str, rows: list[tuple[str, str, int]]) -> Table:
    body = tuple((label, money, str(fen)) for label, money, fen in rows)
    return Table(title, (what, _AMOUNT, _FEN), body, frozenset({1, 2}))


def _earned(statement: Statement) -> Table:
    body = tuple(
        (rule, KIND_LABELS.get(kind, kind), signed_yuan(fen), str(fen))
        for rule, kind, fen in statement.earned_by_rule
    )
    header = ("规则 rule", "类型 kind", _AMOUNT, _FEN)
    return Table("按规则赚取 Earned by rule and kind", header, body, frozenset({2, 3}))


def _bonuses(statement: Statement) -> Table:
    body = tuple(
        (f"{plan} {period_id}", KIND_LABELS.get(kind, kind), source, signed_yuan(fen), str(fen))
        for plan, period_id, kind, source, fen in statement.bonus_lines
    )
    header = ("方案 plan run", "类型 kind", "来源 source", _AMOUNT, _FEN)
    return Table("奖金 Bonuses (period plans)", header, body, frozenset({3, 4}))


def _schedule(statement: Statement) -> Table:
    body = [(day.isoformat(), yuan(fen), str(fen)) for day, fen in statement.schedule]
    if statement.awaiting_receipt:
        fen = statement.awaiting_receipt
        body.append(("待收货 awaiting receipt", yuan(fen), str(fen)))
    title = "待解冻 Pending schedule (available on, local date)"
    return Table(title, ("日期 date", _AMOUNT, _FEN), tuple(body), frozenset({1, 2}))


def _lines(statement: Statement) -> Table:
    lines = statement.lines
    return Table(
        f"明细 Lines ({len(lines)})",
        LINE_HEADER,
        tuple(tuple(line_cells(statement.period, line)) for line in lines),
        frozenset({LINE_HEADER.index(_AMOUNT)}),
        tuple(line.order_id if line.reason == "post" else None for line in lines),
    )
