"""A team migration (等级平移) from files: members, roster and mapping in, members out.

- **roster file**: one row per incoming member: ``member_id``, ``inviter_id`` (inside the
  roster; empty for the team's leaders), ``platform``, ``source_tier``, and optionally
  ``source_member_id`` and ``evidence`` (the fields of :class:`tuishou.RosterEntry`).
- **mapping file**: one row per (``platform``, ``source_tier``) → our ``tier``
  (:class:`tuishou.TierMapping`).
- **ladder**: the tiers of the policy, lowest first. Migration needs only their names and
  order, so every tier above the lowest is one granted by hand (see :class:`tuishou.Tier`).

Every problem of every file is reported at once, with its file and line, and nothing is
written; see :func:`tuishou.migrate_team` for what is checked.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from tuishou.errors import InvalidPolicyError, MigrationError
from tuishou.ids import id_problem
from tuishou.io.cells import Column
from tuishou.io.files import DataFile, Problems, Table
from tuishou.io.inputs import PLATFORM_ZONE, first_rows, read_members, read_rows, translate
from tuishou.members.records import RECORD_KEYS
from tuishou.migration.report import MigrationReport
from tuishou.migration.team import MigrationPolicy, TierMapping, migrate_team
from tuishou.rules import Policy
from tuishou.tiers import Tier, TierLadder
from tuishou.tree import InviteTree

__all__ = ["MAPPING_COLUMNS", "ROSTER_COLUMNS", "members_table", "migrate_files"]

ROSTER_COLUMNS = (
    Column("member_id", blank_is_none=False, identifier=True),
    Column("inviter_id", required=False, identifier=True),
    Column("platform", blank_is_none=False),
    Column("source_tier", blank_is_none=False),
    Column("source_member_id", required=False),
    Column("evidence", required=False),
)
MAPPING_COLUMNS = (
    Column("platform", blank_is_none=False),
    Column("source_tier", blank_is_none=False),
    Column("tier", blank_is_none=False, identifier=True),
)
_DATES = ("joined_at", "probation_until")


def migrate_files(
    *,
    policy: Policy,
    members: Path | DataFile,
    roster: Path | DataFile,
    mapping: Path | DataFile,
    attach_to: str | None,
    cap: str | None,
    probation_days: int,
    on_unmapped: Literal["reject", "lowest"],
    as_of: datetime,
    zone: tzinfo = PLATFORM_ZONE,
) -> tuple[InviteTree, MigrationReport]:
    """Read the three files and migrate the roster into the members' tree, or raise
    ``InvalidFileError`` listing every problem (nothing is changed or written then).
    ``as_of`` is aware; the members' times without an offset are read in ``zone``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> from tuishou.cli.demo import example_policy
    >>> files = {"m.csv": "member_id,inviter_id,tier\\nA,,mentor\\n",
    ...          "r.csv": "member_id,inviter_id,platform,source_tier\\nT0,,云集,店主\\n",
    ...          "map.csv": "platform,source_tier,tier\\n云集,店主,pusher\\n"}
    >>> for name, text in files.items():
    ...     _ = (folder / name).write_text(text)
    >>> tree, report = migrate_files(
    ...     policy=example_policy(), members=folder / "m.csv", roster=folder / "r.csv",
    ...     mapping=folder / "map.csv", attach_to="A", cap=None, probation_days=90,
    ...     on_unmapped="reject", as_of=datetime(2026, 11, 24, tzinfo=PLATFORM_ZONE))
    >>> tree.upline("T0"), tree.tier("T0"), report.added
    (['A'], 'pusher', ['T0'])
    """
    problems = Problems()
    tree, _ = read_members(members, tiers=policy.tiers, problems=problems, zone=zone)
    mapping_table, rows = read_rows(mapping, MAPPING_COLUMNS, problems)
    ladder = TierLadder(tiers=[Tier(name=name) for name in policy.tiers])
    migration = _migration_policy(
        rows,
        mapping_table,
        problems,
        ladder=ladder,
        cap=cap,
        probation_days=probation_days,
        on_unmapped=on_unmapped,
    )
    roster_table, entries = read_rows(roster, ROSTER_COLUMNS, problems)
    # Run even when the members or the mapping have problems, so that the roster's are
    # reported too: on an empty tree, or granting everyone the lowest tier. Such a run's
    # result is thrown away, as problems are raised below.
    target = tree if tree is not None else InviteTree()
    if (
        tree is None
        and attach_to is not None
        and (problem := id_problem(attach_to, name="attach_to")) is not None
    ):
        problems.add("--attach-to", problem)  # with a tree, migrate_team says it
    try:
        report = migrate_team(
            target,
            entries,
            ladder=ladder,
            as_of=as_of,
            policy=migration or MigrationPolicy(mappings=(), on_unmapped="lowest"),
            attach_to=attach_to if tree is not None else None,
        )
    except MigrationError as exc:
        row_of = first_rows(entries)
        for problem in exc.problems:
            _roster_problem(problem, roster_table, problems, row_of)
        raise problems.error() from None
    problems.check()
    return target, report


def _migration_policy(
    rows: list[dict[str, Any]],
    table: Table,
    problems: Problems,
    *,
    ladder: TierLadder,
    cap: str | None,
    probation_days: int,
    on_unmapped: Literal["reject", "lowest"],
) -> MigrationPolicy | None:
    """The mapping rows as a ``MigrationPolicy`` that fits the ladder, or None (problems).

    A row refused on its own (an id that is not normal, a blank name) and a ``cap`` that is
    not an id are reported and left out, so that the rest is checked in the same run too:
    rows mapped twice, tiers or a cap the ladder does not list.
    """
    kept = [index for index, row in enumerate(rows) if _mapping_row_ok(index, row, table, problems)]
    whole = len(kept) == len(rows)
    if cap is not None and (problem := id_problem(cap, name="cap")) is not None:
        problems.add("--cap", problem)
        cap, whole = None, False
    try:
        migration = MigrationPolicy(
            mappings=[rows[index] for index in kept],
            cap=cap,
            probation_days=probation_days,
            on_unmapped=on_unmapped,
        )
        migration.check(ladder)
    except InvalidPolicyError as exc:
        for problem in exc.problems:
            if problem.startswith("mappings."):  # numbered among the kept rows
                problem = _ROW.sub(lambda found: f"mappings.{kept[int(found[1])]}", problem)
                translate(problem, table, "mappings.", problems, {})
            else:  # an option, not a line of the file: "cap: 'boss' is not in the ladder"
                field, _, message = problem.partition(": ")
                problems.add(_OPTIONS.get(field, field), message)
        return None
    return migration if whole else None


_ROW = re.compile(r"\bmappings\.([0-9]+)")
_OPTIONS = {"cap": "--cap", "probation_days": "--probation-days", "on_unmapped": "--on-unmapped"}


def _mapping_row_ok(index: int, row: dict[str, Any], table: Table, problems: Problems) -> bool:
    """Whether a mapping row is valid on its own; if not, its problems are reported."""
    try:
        TierMapping.model_validate(row)
    except InvalidPolicyError as exc:
        for problem in exc.problems:
            translate(f"mappings.{index}.{problem}", table, "mappings.", problems, {})
        return False
    return True


def _roster_problem(problem: str, table: Table, problems: Problems, row_of: dict[str, int]) -> None:
    if problem.startswith("attach_to="):
        problems.add("--attach-to", problem)
    else:
        translate(problem, table, "entry", problems, row_of)


def members_table(tree: InviteTree, *, typed_dates: bool) -> Any:
    """Every member of ``tree`` as a pyarrow Table with the columns of a members file;
    dates as timestamps in UTC (``typed_dates``, for Parquet) or ISO text with the offset
    (CSV, JSON Lines).

    >>> from tuishou.examples import example_tree
    >>> members_table(example_tree(), typed_dates=False).column("member_id").to_pylist()
    ['A', 'B', 'D', 'C']
    """
    import pyarrow as pa

    records = tree.to_records()
    types = {
        key: pa.timestamp("us", tz="UTC") if key in _DATES and typed_dates else pa.string()
        for key in RECORD_KEYS
    }
    columns = {key: [_cell(record[key], typed_dates) for record in records] for key in RECORD_KEYS}
    return pa.table({key: pa.array(values, types[key]) for key, values in columns.items()})


def _cell(value: Any, typed_dates: bool) -> Any:
    if isinstance(value, datetime) and not typed_dates:
        return value.isoformat()
    return value
