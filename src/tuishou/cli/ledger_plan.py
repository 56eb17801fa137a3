"""``tuishou ledger bonus``: run a policy's period plan for a closed month and post it (大团队收益,
育成奖, 保级); registered on the ``ledger`` group.

The month must be closed (``tuishou ledger close``). The members file gives the tiers members
held during the month; ``--tiers-out`` writes it back with the review's new tiers, ready for
the next month. Pay on a downline's volume (团队计酬) is a mark of 传销: a plan with a team or
mentor bonus is named as a risk on standard error every time it runs.
:mod:`tuishou.cli.ledger` imports this module at its end.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import click

from tuishou.analysis.compliance import TEAM_PAY, compliance_flags
from tuishou.cli.app import members_option, policy_option
from tuishou.cli.files import FileArg, format_option, timezone_option
from tuishou.cli.ledger import (
    at_option,
    ledger_argument,
    ledger_group,
    moment,
    not_the_ledger,
    open_ledger,
)
from tuishou.cli.ledger_periods import month_option, month_period
from tuishou.io.files import DataFile, Problems
from tuishou.io.inputs import read_members, read_policy_or_versions
from tuishou.io.output import delivering, write_into
from tuishou.ledger.ledger_bonuses import plan_policy
from tuishou.money import yuan
from tuishou.tiers import apply_tier_changes

__all__ = ["bonus_command"]

_DATA_OUT = FileArg(output=True, data=True)


@ledger_group.command("bonus")
@ledger_argument
@policy_option(versions=True)
@members_option
@month_option
@at_option("the run is posted (at or after the month's close)")
@click.option(
    "--tiers-out",
    type=_DATA_OUT,
    metavar="FILE",
    help="Write the members file with the tier review's new tiers here (.csv, .parquet or "
    ".jsonl; '-' with --format: standard output).",
)
@timezone_option
@format_option
@click.pass_context
def bonus_command(
    ctx: click.Context,
    ledger: str,
    policy_path: Path,
    members: DataFile,
    month: str,
    at: datetime | None,
    tiers_out: DataFile | None,
    zone: tzinfo,
) -> int:
    """Run the policy's period plan for a closed month and post it to LEDGER: the team bonus
    (团队业绩奖), the mentor bonus (育成奖) and the tier review (保级), each amount with its
    explanation (see them with `tuishou ledger statement`).

    Running the same month again with the same inputs changes nothing; with other members
    or another plan it is refused.
    """
    not_the_ledger(ctx, tiers_out, ledger)
    policy = read_policy_or_versions(policy_path)
    period = month_period(month, zone)
    chosen = plan_policy(policy, period)
    if TEAM_PAY in compliance_flags(chosen):
        click.echo(
            f"warning: period plan {chosen.period_plan.name!r} pays on a downline's volume "  # type: ignore[union-attr]
            "(团队计酬), one of the marks of 传销 under the 禁止传销条例; see `tuishou "
            "validate` and have counsel review it",
            err=True,
        )
    problems = Problems()
    tree, _ = read_members(members, tiers=chosen.tiers, problems=problems, zone=zone)
    problems.check()
    assert tree is not None  # None only with problems, which check() raised
    with open_ledger(ledger) as book:
        run = book.run_plan(policy, period, tree, at=moment(at, zone))
    _report(run, month, zone, err=tiers_out is not None and tiers_out.std)
    if tiers_out is not None:
        apply_tier_changes(tree, run.changes)
        _write_members(tree, tiers_out)
    return 0


def _report(run: Any, month: str, zone: tzinfo, *, err: bool) -> None:
    """What the run paid and changed; on standard error when standard output carries the
    members file."""
    when = run.at.astimezone(zone).isoformat()
    lines = [
        f"plan {run.plan!r} was run for {month} before, at {when}: nothing changed"
        if run.repeated
        else f"plan {run.plan!r} run for {month} and posted at {when}:"
    ]
    lines += [f"  {kind}: {yuan(fen)}" for kind, fen in sorted(run.totals.items())]
    lines.append(
        f"  {run.payouts} amount(s) to {run.members} member(s), {yuan(run.total)} in all; "
        f"{len(run.changes)} tier change(s)"
    )
    lines += [f"  {c.member_id}: {c.old} -> {c.new} ({c.reason})" for c in run.changes]
    click.echo("\n".join(lines), err=err)


def _write_members(tree: Any, out: DataFile) -> None:
    from tuishou.io.roster_files import members_table  # tables need pyarrow: when used

    with delivering(out) as path:
        write_into(members_table(tree, typed_dates=out.suffix == ".parquet"), path, out.suffix)
