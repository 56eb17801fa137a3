"""``--policy FOLDER``: the command line under policy versions, and the paid_at column of
order files (issue 13)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cli_support import (
    MEMBER_COLUMNS,
    MEMBERS,
    ORDER_COLUMNS,
    ORDERS,
    read_payouts,
    run,
    write_rows,
)
from tuishou.engine import settle_batch
from tuishou.io.policy_versions_file import load_policy_versions
from tuishou.tree import InviteTree

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

FOLDER = Path(str(files("tuishou") / "data" / "versions"))
VERSIONS = load_policy_versions(FOLDER)
TREE = InviteTree.from_records(MEMBERS)
SHANGHAI = ZoneInfo("Asia/Shanghai")
COLUMNS = (*ORDER_COLUMNS, "paid_at")
# o-1001 the last second of v1 (Beijing time), o-1002 the first of v2, o-1003 later in v2.
PAID_LOCAL = {
    "o-1001": "2026-11-30T23:59:59",
    "o-1002": "2026-12-01T00:00:00",
    "o-1003": "2026-12-24T12:00:00",
}


# The README's orders, o-1002 of an ecosystem good: the group v2 rates higher than v1.
LINES = [{**row, "group": "ecosystem"} if row["order_id"] == "o-1002" else row for row in ORDERS]


def orders_with(paid: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**row, "paid_at": paid.get(row["order_id"])} for row in LINES]


def expected(zone: ZoneInfo = SHANGHAI) -> list[tuple[Any, ...]]:
    """``settle_batch`` under the versions, the times read in ``zone``."""
    rows = orders_with(
        {o: datetime.fromisoformat(t).replace(tzinfo=zone) for o, t in PAID_LOCAL.items()}
    )
    columns = {name: [row[name] for row in rows] for name in COLUMNS}
    return settle_batch(VERSIONS, TREE, columns).payouts.rows()


def files_for(folder: Path, suffix: str, rows: list[dict[str, Any]]) -> list[str]:
    members = write_rows(folder / f"members{suffix}", MEMBERS, MEMBER_COLUMNS)
    orders = write_rows(folder / f"orders{suffix}", rows, COLUMNS)
    return ["--policy", str(FOLDER), "--members", str(members), "--orders", str(orders)]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_settle_reads_paid_at_without_an_offset_in_the_platform_zone(tmp_path, capsys, suffix):
    out = tmp_path / f"payouts{suffix}"
    args = files_for(tmp_path, suffix, orders_with(PAID_LOCAL))
    code, _, err = run(capsys, "settle", *args, "--out", str(out))
    assert code == 0, err
    assert read_payouts(out) == expected()
    said = " ".join(err.split())  # rich wraps lines
    assert "version v1, in force from 2026-11-01 00:00+08:00: 1 order(s)" in said
    assert "version v2, in force from 2026-12-01 00:00+08:00: 2 order(s)" in said
    # The versions pay differently on either side of the switch (v2 rates ecosystem higher).
    assert (
        expected()
        != settle_batch(
            VERSIONS.versions[0].policy,
            TREE,
            {name: [row[name] for row in ORDERS] for name in ORDER_COLUMNS},
        ).payouts.rows()
    )


def test_another_timezone_moves_an_order_across_the_switch(tmp_path, capsys):
    out = tmp_path / "payouts.csv"
    args = files_for(tmp_path, ".csv", orders_with(PAID_LOCAL))
    code, _, err = run(capsys, "settle", *args, "--out", str(out), "--timezone", "UTC")
    assert code == 0, err
    assert read_payouts(out) == expected(ZoneInfo("UTC"))
    assert expected(ZoneInfo("UTC")) != expected()


@pytest.mark.parametrize(
    "column",
    [
        pa.array(
            [
                datetime.fromisoformat(t).replace(tzinfo=SHANGHAI)
                for t in [
                    "2026-11-30T23:59:59",
                    "2026-11-30T23:59:59",
                    "2026-12-01T00:00:00",
                    "2026-12-24T12:00:00",
                ]
            ],
            pa.timestamp("us", tz="Asia/Shanghai"),
        ),
        pa.array(
            [
                datetime.fromisoformat(t)
                for t in [
                    "2026-11-30T23:59:59",
                    "2026-11-30T23:59:59",
                    "2026-12-01T00:00:00",
                    "2026-12-24T12:00:00",
                ]
            ],
            pa.timestamp("ms"),
        ),
        pa.array(
            [
                "2026-11-30T15:59:59Z",
                "2026-11-30T15:59:59+00:00",
                "2026-12-01T00:00:00+08:00",
                "2026-12-24 12:00:00",
            ]
        ),
    ],
    ids=["aware-timestamps", "naive-timestamps", "text-with-offsets"],
)
def test_parquet_paid_at_timestamps_and_text(tmp_path, capsys, column):
    table = pa.Table.from_pylist([{c: row[c] for c in ORDER_COLUMNS} for row in LINES])
    pq.write_table(table.append_column("paid_at", column), tmp_path / "orders.parquet")
    members = write_rows(tmp_path / "members.csv", MEMBERS, MEMBER_COLUMNS)
    out = tmp_path / "payouts.csv"
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        str(FOLDER),
        "--members",
        str(members),
        "--orders",
        str(tmp_path / "orders.parquet"),
        "--out",
        str(out),
    )
    assert code == 0, err
    assert read_payouts(out) == expected()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_bad_paid_at_is_named_by_file_line_and_value_and_nothing_is_written(
    tmp_path, capsys, suffix
):
    paid = {"o-1001": "2026-11-30T23:59:59", "o-1002": "2026-13-01", "o-1003": None}
    rows = orders_with(paid)
    rows[1]["paid_at"] = "2026-12-01T00:00:00"  # o-1001's second line differs
    out = tmp_path / f"payouts{suffix}"
    code, _, err = run(capsys, "settle", *files_for(tmp_path, suffix, rows), "--out", str(out))
    assert code == 2
    orders = tmp_path / f"orders{suffix}"
    first = 2 if suffix == ".csv" else 1  # the line of the first row: CSV has a header
    said = [
        f"line {first + 1}: paid_at=2026-12-01T00:00:00+08:00 differs from the order's first",
        f"line {first + 2}: paid_at='2026-13-01' is not a time",
        f"line {first + 3}: order 'o-1003' has no paid_at; with 2 policy versions",
    ]
    for problem in said:
        assert f"{orders}, {problem}" in err
    assert not out.exists()


def test_an_order_paid_before_the_first_version_is_refused(tmp_path, capsys):
    rows = orders_with({**PAID_LOCAL, "o-1003": "2026-10-31T23:59:59"})
    code, _, err = run(
        capsys, "settle", *files_for(tmp_path, ".csv", rows), "--out", str(tmp_path / "p.csv")
    )
    assert code == 2
    assert "line 5: order 'o-1003': paid_at=2026-10-31 23:59:59+08:00 is before the first" in err


def test_a_plain_policy_file_accepts_paid_at_and_ignores_it(tmp_path, capsys):
    rows = orders_with(PAID_LOCAL)
    args = files_for(tmp_path, ".csv", rows)
    args[1] = str(files("tuishou") / "data" / "youpin.toml")
    code, _, err = run(capsys, "settle", *args, "--out", str(tmp_path / "p.csv"))
    assert code == 0, err
    assert "version" not in err


def test_explain_names_the_version(tmp_path, capsys):
    code, out, err = run(
        capsys, "explain", *files_for(tmp_path, ".csv", orders_with(PAID_LOCAL)), "o-1002"
    )
    assert code == 0, err
    assert "version v2, in force from 2026-12-01 00:00+08:00" in out


def test_compare_takes_a_folder_and_a_file(tmp_path, capsys):
    args = files_for(tmp_path, ".csv", orders_with(PAID_LOCAL))
    code, out, err = run(
        capsys, "compare", *args, "--policy", str(files("tuishou") / "data" / "youpin.toml")
    )
    assert code == 0, err
    assert "versions" in out
    assert "youpin" in out


def test_validate_checks_a_folder(capsys):
    code, out, err = run(capsys, "validate", "--policy", str(FOLDER))
    assert code == 0, err
    assert "2 policy version(s)" in out
    assert "version v1, in force from 2026-11-01 00:00+08:00" in out


def test_validate_names_every_bad_file_of_a_folder(tmp_path, capsys):
    for name in ("v1.toml", "v2.toml"):
        text = (FOLDER / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("+08:00", ""), encoding="utf-8")
    code, _, err = run(capsys, "validate", "--policy", str(tmp_path))
    assert code == 2
    assert "v1.toml" in err
    assert "v2.toml" in err


def test_utc_paid_at_equals_the_same_instant_in_beijing_time(tmp_path, capsys):
    utc = {
        o: datetime.fromisoformat(t).replace(tzinfo=SHANGHAI).astimezone(UTC).isoformat()
        for o, t in PAID_LOCAL.items()
    }
    out = tmp_path / "payouts.jsonl"
    code, _, err = run(
        capsys,
        "settle",
        *files_for(tmp_path, ".jsonl", orders_with(utc)),
        "--out",
        str(out),
        "--timezone",
        "America/New_York",
    )
    assert code == 0, err
    assert read_payouts(out) == expected()


def test_the_example_in_docs_cli_md_runs_as_shown(tmp_path, capsys, monkeypatch):
    text = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    block = next(b for b in text.split("```text\n")[1:] if "Orders by policy version" in b).split(
        "```"
    )[0]
    orders = block.split("$ cat orders.csv\n")[1].split("$ ")[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    shutil.copytree(FOLDER, tmp_path / "policies")
    write_rows(tmp_path / "members.csv", MEMBERS, MEMBER_COLUMNS)
    (tmp_path / "orders.csv").write_text(orders, encoding="utf-8")
    command = block.split("$ tuishou ")[1].splitlines()[0].split()
    code, _, err = run(capsys, *command)
    assert code == 0, err
    shown = block.split("...\n")[1]
    assert err.endswith(shown)


def test_one_version_takes_orders_without_paid_at(tmp_path, capsys):
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(FOLDER / "v1.toml", single / "v1.toml")
    args = files_for(tmp_path, ".csv", orders_with({}))
    args[1] = str(single)
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, "settle", *args, "--out", str(out))
    assert code == 0, err
    columns = {name: [row[name] for row in LINES] for name in ORDER_COLUMNS}
    v1 = VERSIONS.versions[0].policy
    assert read_payouts(out) == settle_batch(v1, TREE, columns).payouts.rows()
