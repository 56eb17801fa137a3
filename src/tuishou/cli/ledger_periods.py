"""``tuishou ledger close``, ``statement``, ``statements`` and ``explain``: the month end (月结)
and what members are sent (对账单), registered on the ``ledger`` group.

A month is ``--month 2026-11`` in ``--timezone`` (default Asia/Shanghai): [the 1st 00:00, the
next month's 1st 00:00). :mod:`tuishou.cli.ledger` imports this module at its end.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import click

from tuishou.cli.files import FileArg, format_option, timezone_option
from tuishou.cli.ledger import (
    at_option,
    data_out_option,
    ledger_argument,
    ledger_group,
    moment,
    not_the_ledger,
    open_ledger,
    print_table,
)
from tuishou.io.files import DataFile
from tuishou.io.output import replacing, write_table
from tuishou.ledger.statement_models import Period

__all__ = [
    "close_command",
    "explain_command",
    "month_option",
    "month_period",
    "statement_command",
    "statements_command",
]

_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--month YYYY-MM`` in ASCII digits, a real month."""
    if value is None:
        return None
    if not _MONTH.fullmatch(value) or not 1 <= int(value[5:]) <= 12:
        raise click.BadParameter(f"{value!r} is not a month; write it as 2026-11", ctx, param)
    return value


def month_option(command: Any) -> Any:
    """``--month YYYY-MM``: a calendar month in ``--timezone``."""
    return click.option(
        "--month",
        required=True,
        metavar="YYYY-MM",
        callback=_month,
        help="The month, e.g. 2026-11: from the 1st at 00:00 to the next month's, in --timezone.",
    )(command)


def month_period(month: str, zone: tzinfo) -> Period:
    """The calendar month ``month`` (YYYY-MM) in ``zone``."""
    return Period.month(month, timezone=str(zone))


@ledger_group.command("close")
@ledger_argument
@month_option
@at_option("the month is closed (at or after its end)")
@timezone_option
def close_command(ledger: str, month: str, at: datetime | None, zone: tzinfo) -> int:
    """Close a month (月结): check every member's statement and record the period's totals.

    Closing the same month again changes nothing; months close in order.
    """
    with open_ledger(ledger) as book:
        closed = book.close_period(month_period(month, zone), at=moment(at, zone))
    when = closed.closed_at.astimezone(zone).isoformat()
    if closed.repeated:
        click.echo(f"period {month} was closed before, at {when}: nothing changed")
        return 0
    click.echo(
        f"period {month} closed at {when}: {closed.members} member(s); the totals not zero, in fen:"
    )
    shown = [[name, str(fen)] for name, fen in closed.totals.items() if fen]
    print_table([["total", "fen"], *shown])
    return 0


@ledger_group.command("statement")
@ledger_argument
@click.option("--member", "member_id", required=True, metavar="ID", help="The member.")
@month_option
@click.option(
    "--format",
    "style",
    type=click.Choice(["text", "html"]),
    default="text",
    show_default=True,
    help="Text (CJK columns aligned) or one self-contained HTML page.",
)
@click.option(
    "--out",
    type=FileArg(output=True, data=False),
    metavar="FILE",
    help="Write it here (default: standard output).",
)
@timezone_option
@click.pass_context
def statement_command(
    ctx: click.Context,
    ledger: str,
    member_id: str,
    month: str,
    style: str,
    out: Path | None,
    zone: tzinfo,
) -> int:
    """One member's statement for a month (对账单), as text or HTML."""
    not_the_ledger(ctx, out, ledger)
    with open_ledger(ledger, read_only=True) as book:
        statement = book.statement(member_id, month_period(month, zone))
    text = statement.to_html() if style == "html" else statement.to_text()
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return 0
    with replacing(out) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return 0


@ledger_group.command("statements")
@ledger_argument
@month_option
@data_out_option("them", "CSV on standard output")
@timezone_option
@format_option
@click.pass_context
def statements_command(
    ctx: click.Context, ledger: str, month: str, out: DataFile | None, zone: tzinfo
) -> int:
    """Every member's statement for a month, one row per member (the figures, in fen)."""
    not_the_ledger(ctx, out, ledger)
    with open_ledger(ledger, read_only=True) as book:
        table = book.statements_arrow(month_period(month, zone))
    write_table(table, out if out is not None else DataFile.stdout(".csv"))
    return 0


@ledger_group.command("explain")
@ledger_argument
@click.option("--order", "order_id", required=True, metavar="ID", help="The order.")
def explain_command(ledger: str, order_id: str) -> int:
    """How an order was settled when posted (its recorded chain and policy), and its refunds."""
    with open_ledger(ledger, read_only=True) as book:
        click.echo(book.explain(order_id))
    return 0
