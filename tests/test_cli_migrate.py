"""``tuishou migrate``: a rival team in from files, the members file out, all or nothing."""

from __future__ import annotations

import re
from datetime import datetime

import pyarrow.parquet as pq
import pytest

from cli_support import leftovers, run, scenario, write_rows
from test_migration import STRING_FORMS, spoilt
from tuishou.io.files import Problems
from tuishou.io.inputs import read_members

from helpers import CN

ROSTER_COLUMNS = ("member_id", "inviter_id", "platform", "source_tier", "source_member_id")
MAPPING_COLUMNS = ("platform", "source_tier", "tier")
ROSTER = [
    {
        "member_id": "T0",
        "platform": "每日一淘",
        "source_tier": "高级顾问",
        "source_member_id": "r-9",
    },
    {"member_id": "T1", "inviter_id": "T0", "platform": "每日一淘", "source_tier": "顾问"},
    {"member_id": "T2", "inviter_id": "T1", "platform": "每日一淘", "source_tier": "会员"},
]
MAPPING = [
    {"platform": "每日一淘", "source_tier": "高级顾问", "tier": "senior_advisor"},
    {"platform": "每日一淘", "source_tier": "顾问", "tier": "mentor"},
    {"platform": "每日一淘", "source_tier": "会员", "tier": "member"},
]


def migrate(
    tmp_path,
    capsys,
    *extra,
    roster=None,
    mapping=None,
    suffix=".csv",
    out="new_members.csv",
    members=None,
):
    paths = scenario(tmp_path, suffix, members=members)
    write_rows(tmp_path / f"roster{suffix}", roster or ROSTER, ROSTER_COLUMNS)
    write_rows(tmp_path / f"mapping{suffix}", mapping or MAPPING, MAPPING_COLUMNS)
    return run(
        capsys,
        "migrate",
        "--members",
        str(paths["members"]),
        "--policy",
        str(paths["policy"]),
        "--roster",
        str(tmp_path / f"roster{suffix}"),
        "--mapping",
        str(tmp_path / f"mapping{suffix}"),
        "--as-of",
        "2026-11-24",
        "--out",
        str(tmp_path / out),
        *extra,
    )


@pytest.mark.parametrize(
    ("suffix", "out"), [(".csv", "new.csv"), (".jsonl", "new.parquet"), (".parquet", "new.jsonl")]
)
def test_migrate_writes_every_member_and_prints_the_report(tmp_path, capsys, suffix, out):
    code, stdout, err = migrate(tmp_path, capsys, "--attach-to", "A", suffix=suffix, out=out)
    assert (code, err) == (0, "")
    assert stdout.startswith(
        "Migrated 3 member(s) on 2026-11-24, on probation until 2027-02-22\nLeaders (under A): T0\n"
    )
    problems = Problems()
    tree, _ = read_members(tmp_path / out, tiers=None, problems=problems)
    assert not problems
    assert tree is not None
    assert len(tree) == 8
    assert tree.upline("T2") == ["T1", "T0", "A", "Z"]
    assert (tree.tier("T0"), tree.tier("T1"), tree.tier("T2")) == (
        "senior_advisor",
        "mentor",
        "member",
    )
    assert tree.probation_until("T1") == datetime(2027, 2, 22, tzinfo=CN)
    assert tree.origin("T0").source_member_id == "r-9"


def test_the_members_file_round_trips_with_its_invite_codes(tmp_path, capsys):
    assert migrate(tmp_path, capsys, "--attach-to", "A", out="new.parquet")[0] == 0
    table = pq.read_table(tmp_path / "new.parquet")
    assert table.column_names == [
        "member_id",
        "inviter_id",
        "tier",
        "status",
        "joined_at",
        "origin_platform",
        "origin_tier",
        "origin_member_id",
        "probation_until",
        "invite_code",
    ]
    assert str(table.schema.field("joined_at").type) == "timestamp[us, tz=UTC]"
    codes = dict(
        zip(
            table.column("member_id").to_pylist(),
            table.column("invite_code").to_pylist(),
            strict=True,
        )
    )
    tree, _ = read_members(tmp_path / "new.parquet", tiers=None, problems=Problems())
    assert {m: tree.invite_code(m) for m in tree} == codes


def test_the_report_can_go_to_a_file(tmp_path, capsys):
    code, stdout, _ = migrate(tmp_path, capsys, "--report", str(tmp_path / "report.txt"))
    assert (code, stdout) == (0, "")
    report = (tmp_path / "report.txt").read_text(encoding="utf-8")
    assert "Leaders (as new roots): T0" in report
    assert "T1      T0       每日一淘  顾问         mentor" in report


def test_cap_and_unmapped_tiers(tmp_path, capsys):
    roster = [
        *ROSTER,
        {"member_id": "T3", "inviter_id": "T0", "platform": "每日一淘", "source_tier": "店长"},
    ]
    code, stdout, _ = migrate(
        tmp_path, capsys, "--cap", "mentor", "--on-unmapped", "lowest", roster=roster
    )
    assert code == 0
    assert "Granted tiers: member 2, mentor 2" in stdout
    assert "capped from senior_advisor" in stdout
    assert "unmapped: lowest tier" in stdout


@pytest.mark.parametrize(
    ("roster", "mapping", "extra", "messages"),
    [
        (
            [{**ROSTER[0]}, {**ROSTER[1], "source_tier": "顾问X"}],
            None,
            (),
            [
                "roster.csv, line 3 (member_id='T1'): (每日一淘, 顾问X) has no mapping; did you "
                "mean "
                "'顾问'"
            ],
        ),
        (
            [{**ROSTER[0], "inviter_id": "T1"}, ROSTER[1]],
            None,
            (),
            ["roster.csv, lines 2, 3: cycle: T0 → T1 → T0"],
        ),
        (
            [ROSTER[0], {**ROSTER[1], "member_id": "B"}],
            None,
            (),
            [
                "roster.csv, line 3 (member_id='B'): is already a member of the tree; "
                "give it a new id"
            ],
        ),
        (
            [ROSTER[0], {**ROSTER[1], "platform": ""}],
            None,
            (),
            ["roster.csv, line 3: platform: must not be empty or blank"],
        ),
        (
            None,
            [MAPPING[0], {**MAPPING[1], "tier": "boss"}, MAPPING[2]],
            (),
            ["mapping.csv, line 3 (每日一淘, 顾问): tier 'boss' is not in the ladder"],
        ),
        (
            None,
            [MAPPING[0], MAPPING[0], MAPPING[1], MAPPING[2]],
            (),
            ["mapping.csv, line 3: (每日一淘, 高级顾问) is already mapped by line 2; keep one row"],
        ),
        (
            None,
            None,
            ("--attach-to", "Q"),
            ["--attach-to: attach_to='Q' is not a member of the tree"],
        ),
        (None, None, ("--cap", "boss"), ["--cap: 'boss' is not in the ladder"]),
    ],
)
def test_migrate_refuses_bad_files_and_writes_nothing(
    tmp_path, capsys, roster, mapping, extra, messages
):
    code, stdout, err = migrate(
        tmp_path,
        capsys,
        *extra,
        "--report",
        str(tmp_path / "report.txt"),
        roster=roster,
        mapping=mapping,
    )
    assert (code, stdout) == (2, "")
    assert err.startswith("tuishou: error: bad input: ")
    for message in messages:
        assert message in err
    assert leftovers(tmp_path, "roster.csv", "mapping.csv") == []


def test_every_file_is_checked_before_anything_is_refused(tmp_path, capsys):
    mapping = [MAPPING[0], {**MAPPING[1], "tier": "boss"}, MAPPING[2]]
    roster = [ROSTER[0], {**ROSTER[1], "platform": ""}]
    code, _, err = migrate(tmp_path, capsys, roster=roster, mapping=mapping)
    assert code == 2
    assert "mapping.csv, line 3" in err
    assert "roster.csv, line 3: platform" in err


PLACES = {".csv": "line {}", ".jsonl": "line {}", ".parquet": "row {}"}
FIRST = {".csv": 2, ".jsonl": 1, ".parquet": 1}  # the line (or row) of the first record


@pytest.mark.parametrize("suffix", PLACES)
@pytest.mark.parametrize("form", STRING_FORMS)
def test_ids_not_normal_are_refused_with_file_line_and_value_all_together(
    tmp_path, capsys, form, suffix
):
    def bad(good, name):
        return spoilt(form, good, name)[0]

    roster = [
        ROSTER[0],
        {**ROSTER[1], "inviter_id": bad("T0", "inviter_id")},
        {**ROSTER[2], "member_id": bad("T2", "member_id")},
    ]
    mapping = [MAPPING[0], {**MAPPING[1], "tier": bad("mentor", "tier")}, MAPPING[2]]
    code, stdout, err = migrate(
        tmp_path,
        capsys,
        "--cap",
        bad("mentor", "cap"),
        "--attach-to",
        bad("A", "attach_to"),
        roster=roster,
        mapping=mapping,
        suffix=suffix,
        out="new.csv",
    )
    assert (code, stdout) == (2, "")

    def place(file, index):
        return re.escape(
            f"{tmp_path / file}{suffix}, " + PLACES[suffix].format(FIRST[suffix] + index) + ": "
        )

    expected = [
        place("mapping", 1) + spoilt(form, "mentor", "tier")[1],
        "--cap: " + spoilt(form, "mentor", "cap")[1],
        place("roster", 1) + spoilt(form, "T0", "inviter_id")[1],
        place("roster", 2) + spoilt(form, "T2", "member_id")[1],
        "--attach-to: " + spoilt(form, "A", "attach_to")[1],
    ]
    lines = err.splitlines()
    assert lines[0] == "tuishou: error: bad input: 5 problem(s)", err
    for line, says in zip(lines[1:], expected, strict=True):
        assert re.match(r"  [0-9]\. " + says, line), (line, says)
    assert leftovers(tmp_path, f"roster{suffix}", f"mapping{suffix}") == []


def test_a_float_id_in_a_roster_or_mapping_is_refused_with_its_line(tmp_path, capsys):
    code, _, err = migrate(
        tmp_path,
        capsys,
        roster=[{**ROSTER[0], "member_id": 7.5}],
        mapping=[{**MAPPING[0], "tier": 7.5}],
        suffix=".jsonl",
    )
    assert code == 2
    assert "mapping.jsonl, line 1: tier: Input should be a valid string (got 7.5)" in err
    assert "roster.jsonl, line 1: member_id: Input should be a valid string (got 7.5)" in err


def test_attach_to_not_normal_is_reported_even_when_the_members_file_is_refused(tmp_path, capsys):
    code, _, err = migrate(
        tmp_path,
        capsys,
        "--attach-to",
        "A ",
        members=[{"member_id": "A", "inviter_id": None, "tier": "boss"}],
    )
    assert code == 2
    assert "tier='boss' is not in the ladder" in err
    assert "--attach-to: attach_to='A ' is not a normal id; use its normal form 'A'" in err


def test_a_mapping_row_refused_on_its_own_does_not_hide_the_other_rows_problems(tmp_path, capsys):
    mapping = [MAPPING[0], {**MAPPING[1], "tier": "mentor "}, {**MAPPING[2], "tier": "boss"}]
    code, _, err = migrate(tmp_path, capsys, "--cap", " mentor", mapping=mapping)
    assert code == 2
    assert err.startswith("tuishou: error: bad input: 3 problem(s)")
    for message in [
        "mapping.csv, line 3: tier='mentor ' is not a normal id; use its normal form 'mentor'",
        "mapping.csv, line 4 (每日一淘, 会员): tier 'boss' is not in the ladder",
        "--cap: cap=' mentor' is not a normal id; use its normal form 'mentor'",
    ]:
        assert message in err
