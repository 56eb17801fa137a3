"""``tuishou ledger tiers``: the dated tier history the period plans' reviews recorded (保级),
and ``tuishou ledger runs``: the period plan runs (大团队收益); registered on the ``ledger``
group.

Both only read the ledger (opened read-only). Times are shown in ``--timezone``.
:mod:`tuishou.cli.ledger` imports this module at its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

import click

from tuishou.cli.files import format_option, timezone_option
from tuishou.cli.ledger import (
    data_out_option,
    ledger_argument,
    ledger_group,
    not_the_ledger,
    open_ledger,
    print_table,
)
from tuishou.io.files import DataFile
from tuishou.money import yuan

__all__ = ["runs_command", "tiers_command"]

_TIER_COLUMNS = ("at", "member_id", "old", "new", "qualified", "plan", "period", "reason")
_RUN_COLUMNS = ("plan", "period", "at", "payouts", "members", "total", "changes", "fingerprint")


def _in(moment: object, zone: tzinfo) -> str:
    """A time shown on screen, in ``--timezone`` (files carry it in UTC)."""
    assert isinstance(moment, datetime)
    return moment.astimezone(zone).isoformat()


@ledger_group.command("tiers")
@ledger_argument
@click.option("--member", "member_id", metavar="ID", help="Only this member's tier changes.")
@data_out_option(
    "the tier changes (at, member_id, old, new, qualified, plan, period, reason)", "print them"
)
@timezone_option
@format_option
@click.pass_context
def tiers_command(
    ctx: click.Context, ledger: str, member_id: str | None, out: DataFile | None, zone: tzinfo
) -> int:
    """The tier changes the period plans' reviews recorded (保级), oldest first."""
    not_the_ledger(ctx, out, ledger)
    with open_ledger(ledger, read_only=True) as book:
        found = book.tier_history(member_id)
    rows = [_tier_row(x) for x in found]
    if out is not None:
        _write(out, _TIER_COLUMNS, rows)
        return 0
    print_table([list(_TIER_COLUMNS), *([_in(r[0], zone), *map(str, r[1:])] for r in rows)])
    if not found:
        click.echo("(no tier changes)")
    return 0


@ledger_group.command("runs")
@ledger_argument
@click.option("--plan", metavar="NAME", help="Only this period plan's runs.")
@data_out_option(
    "the runs (plan, period, at, payouts, members, total in fen, changes, fingerprint)",
    "print them",
)
@timezone_option
@format_option
@click.pass_context
def runs_command(
    ctx: click.Context, ledger: str, plan: str | None, out: DataFile | None, zone: tzinfo
) -> int:
    """The period plan runs recorded, by plan, then period: what each paid (total in fen
    in a file, in yuan on screen) and how many tiers it changed."""
    not_the_ledger(ctx, out, ledger)
    with open_ledger(ledger, read_only=True) as book:
        found = book.plan_runs(plan)
    rows: list[list[object]] = [
        [
            run.plan,
            run.period.label,
            run.at.astimezone(UTC),
            run.payouts,
            run.members,
            run.total,
            len(run.changes),
            run.fingerprint,
        ]
        for run in found
    ]
    if out is not None:
        _write(out, _RUN_COLUMNS, rows)
        return 0
    shown = [
        [
            yuan(v) if isinstance(v, int) and i == 5 else _in(v, zone) if i == 2 else str(v)
            for i, v in enumerate(row)
        ]
        for row in rows
    ]
    print_table([list(_RUN_COLUMNS), *shown])
    if not found:
        click.echo("(no plan runs)")
    return 0


def _tier_row(x: Any) -> list[object]:
    """A tier change as a row of ``_TIER_COLUMNS``, its time in UTC."""
    return [
        x.at.astimezone(UTC),
        x.member_id,
        x.old,
        x.new,
        x.qualified,
        x.plan,
        x.period_id,
        x.reason,
    ]


def _write(out: DataFile, columns: tuple[str, ...], rows: Sequence[Sequence[object]]) -> None:
    import pyarrow as pa

    from tuishou.io.output import write_table

    table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})
    write_table(table, out)
