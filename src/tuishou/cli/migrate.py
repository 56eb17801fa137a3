"""``tuishou migrate``: bring a rival platform's team in (等级平移); write the new members file.

The command registers itself on :data:`tuishou.cli.app.app` (a
:class:`tuishou.cli.files.FileCommand`, like every command there) with that module's shared
options (``--members``, ``--policy``, ``--out``); ``tuishou.cli.app`` imports this module at
its end, so importing either one gives the whole command line.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Literal

import click

from tuishou.cli.app import app, members_option, out_option, policy_option
from tuishou.cli.files import (
    AsciiDateTime,
    AsciiInt,
    FileArg,
    format_option,
    in_zone,
    timezone_option,
)
from tuishou.io.files import DataFile
from tuishou.io.inputs import read_policy
from tuishou.io.output import delivering, replacing, write_into

__all__ = ["migrate_command"]

_DATA_IN = FileArg(output=False, data=True)  # the roster, the mapping
_NEW = FileArg(output=True, data=False)  # the report


@app.command("migrate")
@members_option
@policy_option()
@click.option(
    "--roster",
    type=_DATA_IN,
    required=True,
    metavar="FILE",
    help="Incoming members: member_id, inviter_id, platform, source_tier[, "
    "source_member_id, evidence].",
)
@click.option(
    "--mapping",
    type=_DATA_IN,
    required=True,
    metavar="FILE",
    help="Tier mapping: platform, source_tier, tier.",
)
@click.option(
    "--attach-to",
    metavar="ID",
    help="Member the team's leaders join under (default: they become roots).",
)
@click.option("--cap", metavar="TIER", help="Highest tier the migration grants.")
@click.option(
    "--probation-days",
    type=AsciiInt(min=0),
    default=90,
    show_default=True,
    metavar="N",
    help="Days migrated members hold their tier before review.",
)
@click.option(
    "--on-unmapped",
    type=click.Choice(["reject", "lowest"]),
    default="reject",
    show_default=True,
    help="A (platform, source tier) without a mapping row: "
    "refuse the migration, or grant the lowest tier.",
)
@click.option(
    "--as-of",
    type=AsciiDateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    help="When the team joins (default: today, 00:00), in --timezone unless it has "
    "an offset (2026-11-24T09:00:00+08:00).",
)
@timezone_option
@out_option("every member, the migrated ones included")
@click.option(
    "--report",
    type=_NEW,
    metavar="FILE",
    help="Write the migration report here (default: standard output; standard "
    "error when --out is '-').",
)
@format_option
def migrate_command(
    members: DataFile,
    policy_path: Path,
    roster: DataFile,
    mapping: DataFile,
    attach_to: str | None,
    cap: str | None,
    probation_days: int,
    on_unmapped: Literal["reject", "lowest"],
    as_of: datetime | None,
    zone: tzinfo,
    out: DataFile,
    report: Path | None,
) -> int:
    """Migrate a team from a rival platform (等级平移), keeping its structure and tiers.

    The policy gives our tiers, lowest first. All or nothing: any problem in any file is
    reported with its line, and nothing is written.
    """
    from tuishou.io.roster_files import members_table, migrate_files

    tree, account = migrate_files(
        policy=read_policy(policy_path),
        members=members,
        roster=roster,
        mapping=mapping,
        attach_to=attach_to,
        cap=cap,
        probation_days=probation_days,
        on_unmapped=on_unmapped,
        as_of=in_zone(as_of, zone),
        zone=zone,
    )
    with ExitStack() as both:  # the members file and the report appear together or not at all
        write_into(
            members_table(tree, typed_dates=out.suffix == ".parquet"),
            both.enter_context(delivering(out)),
            out.suffix,
        )
        if report is not None:
            both.enter_context(replacing(report)).write_text(f"{account}\n", encoding="utf-8")
    if report is None:
        click.echo(str(account), err=out.std)  # standard output may carry the members file
    return 0
