"""Where files go: no output may overwrite an input, and ``-`` is standard input or output in
the format ``--format`` gives."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cli_support import PAYOUTS, leftovers, read_payouts, run, scenario, settle_args, write_rows
from test_cli_migrate import MAPPING, MAPPING_COLUMNS, ROSTER, ROSTER_COLUMNS

FORMATS = [".csv", ".parquet", ".jsonl"]


def files(tmp_path):
    """The settle scenario plus a roster and a mapping, all CSV."""
    paths = scenario(tmp_path)
    paths["roster"] = write_rows(tmp_path / "roster.csv", ROSTER, ROSTER_COLUMNS)
    paths["mapping"] = write_rows(tmp_path / "mapping.csv", MAPPING, MAPPING_COLUMNS)
    return paths


def command(paths, name, **outputs):
    """A command's arguments over ``paths``, with its outputs."""
    given = {"policy": paths["policy"], "members": paths["members"], "orders": paths["orders"]}
    if name == "migrate":
        given = {
            "policy": paths["policy"],
            "members": paths["members"],
            "roster": paths["roster"],
            "mapping": paths["mapping"],
        }
    argv = [name]
    for option, value in {**given, **outputs}.items():
        argv += [f"--{option}", str(value)]
    return argv + (["--as-of", "2026-11-24"] if name == "migrate" else [])


# (command, output option, what it names): the input's key in ``files``, or a variant of it
OVERWRITES = [
    ("settle", "out", "orders"),
    ("settle", "out", "members"),
    ("compare", "html", "policy"),
    ("compare", "html", "orders"),
    ("migrate", "out", "members"),
    ("migrate", "out", "roster"),
    ("migrate", "report", "mapping"),
    ("migrate", "report", "policy"),
]


@pytest.mark.parametrize(("name", "option", "target"), OVERWRITES)
def test_no_output_may_overwrite_an_input(tmp_path, capsys, name, option, target):
    paths = files(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    outputs = {"out": tmp_path / "new.csv"} if name != "compare" else {}
    outputs[option] = paths[target]
    code, out, err = run(capsys, *command(paths, name, **outputs))
    assert (code, out) == (2, "")
    assert (
        f"Invalid value for '--{option}': {paths[target]} is also the input --{target} "
        f"{paths[target]}; writing it would destroy that file: name another file" in err
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written


@pytest.mark.parametrize("how", ["relative", "dots", "symlink", "hard link"])
def test_the_same_file_by_another_name_is_refused(tmp_path, capsys, monkeypatch, how):
    paths = scenario(tmp_path)
    orders = paths["orders"]
    before = orders.read_bytes()
    monkeypatch.chdir(tmp_path)
    if how == "relative":
        out = Path("orders.csv")
    elif how == "dots":
        (tmp_path / "sub").mkdir()
        out = Path("sub/../orders.csv")
    elif how == "symlink":
        out = tmp_path / "link.csv"
        out.symlink_to(orders)
    else:
        out = tmp_path / "hard.csv"
        os.link(orders, out)
    code, _, err = run(capsys, *settle_args(paths, out))
    assert code == 2
    assert f"is also the input --orders {orders}; writing it would destroy that file" in err
    assert orders.read_bytes() == before


def test_two_outputs_may_not_name_one_file(tmp_path, capsys):
    paths = files(tmp_path)
    out = tmp_path / "new.csv"
    code, _, err = run(capsys, *command(paths, "migrate", out=out, report=out))
    assert code == 2
    assert f"Invalid value for '--report': {out} is also the output --out {out}" in err
    assert not out.exists()


# ----------------------------------------------------------------------------------- "-"


def stdin(monkeypatch, data):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def parse(data, suffix, tmp_path):
    """Payouts written to standard output, as tuples."""
    path = tmp_path / f"stdout{suffix}"
    path.write_bytes(data)
    return read_payouts(path)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("option", ["orders", "members"])
def test_an_input_can_be_standard_input(tmp_path, capsys, monkeypatch, suffix, option):
    paths = scenario(tmp_path, suffix)
    stdin(monkeypatch, paths[option].read_bytes())
    argv = settle_args(paths, tmp_path / "payouts.csv")
    argv[argv.index(f"--{option}") + 1] = "-"
    code, _, err = run(capsys, *argv, "--format", suffix[1:])
    assert code == 0, err
    assert read_payouts(tmp_path / "payouts.csv") == PAYOUTS


@pytest.mark.parametrize("suffix", FORMATS)
def test_payouts_can_go_to_standard_output(tmp_path, capsysbinary, suffix):
    paths = scenario(tmp_path)
    code, out, err = run(capsysbinary, *settle_args(paths, "-"), "--format", suffix[1:])
    assert code == 0
    assert parse(out, suffix, tmp_path) == PAYOUTS
    assert b"written to    <stdout>" in err  # the summary stays on standard error
    assert leftovers(tmp_path, f"stdout{suffix}") == []


def test_a_pipe_through_standard_input_and_output(tmp_path):
    paths = scenario(tmp_path, ".jsonl")
    script = Path(sys.executable).with_name("tuishou")
    done = subprocess.run(
        [str(script), *settle_args(paths, "-"), "--format", "jsonl", "--orders", "-"],
        input=paths["orders"].read_bytes(),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [tuple(row.values()) for row in rows] == PAYOUTS


def test_bad_cells_from_standard_input_are_named(tmp_path, capsys, monkeypatch):
    paths = scenario(tmp_path)
    stdin(monkeypatch, paths["orders"].read_bytes().replace(b",99900,", b",999.00,"))
    argv = settle_args(paths, tmp_path / "payouts.csv")
    argv[argv.index("--orders") + 1] = "-"
    code, _, err = run(capsys, *argv, "--format", "csv")
    assert code == 2
    assert "<stdin>, line 3: amount='999.00' is not a whole number of fen" in err
    assert leftovers(tmp_path) == []


def test_explain_and_compare_read_standard_input(tmp_path, capsys, monkeypatch):
    paths = scenario(tmp_path)
    for name, extra in [("explain", ["o-1002"]), ("compare", [])]:
        stdin(monkeypatch, paths["orders"].read_bytes())
        code, out, err = run(
            capsys,
            name,
            "--policy",
            str(paths["policy"]),
            "--members",
            str(paths["members"]),
            "--orders",
            "-",
            "--format",
            "csv",
            *extra,
        )
        assert (code, err) == (0, "")
        assert "o-1002" in out if name == "explain" else "youpin-tuishou" in out


def test_migrate_writes_the_members_to_standard_output_and_the_report_to_stderr(tmp_path, capsys):
    paths = files(tmp_path)
    code, out, err = run(
        capsys, *command(paths, "migrate", out="-"), "--format", "csv", "--attach-to", "A"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["member_id"] for row in rows if row["origin_platform"]] == ["T0", "T1", "T2"]
    assert err.startswith("Migrated 3 member(s) on 2026-11-24")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--orders", "-"],
            "Error: --orders -: standard input has no extension to tell its "
            "format; give --format csv, parquet or jsonl",
        ),
        (
            ["--out", "-"],
            "Error: --out -: standard output has no extension to tell its format; "
            "give --format csv, parquet or jsonl",
        ),
        (
            ["--format", "csv"],
            "Error: --format gives the format of '-' (standard input or "
            "output); no file is '-' here, and files take the format of their "
            "extension (.csv, .parquet, .jsonl)",
        ),
        (
            ["--orders", "-", "--members", "-", "--format", "csv"],
            "Error: --members and --orders are both '-'; only one file can be standard input",
        ),
        (
            ["--policy", "-"],
            "Error: Invalid value for '--policy': '-' (standard input or output) is "
            "only for data files (CSV, Parquet, JSON Lines); name the file",
        ),
        (
            ["--format", "xlsx", "--out", "-"],
            "Error: Invalid value for '--format': 'xlsx' is not one of 'csv', 'parquet', 'jsonl'.",
        ),
    ],
)
def test_a_dash_needs_a_format_and_only_data_files_take_it(tmp_path, capsys, argv, message):
    paths = scenario(tmp_path)
    base = settle_args(paths, tmp_path / "payouts.csv")
    for option, value in zip(argv[::2], argv[1::2], strict=True):
        if option in base:
            base[base.index(option) + 1] = value
        else:
            base += [option, value]
    code, out, err = run(capsys, *base)
    assert (code, out) == (2, "")
    assert message in err
    assert leftovers(tmp_path) == []


def test_html_is_not_written_to_standard_output(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, _, err = run(capsys, *command(paths, "compare", html="-"))
    assert code == 2
    assert (
        "Invalid value for '--html': '-' (standard input or output) is only for data files" in err
    )


def test_parquet_is_not_written_to_a_terminal(tmp_path, capsys, monkeypatch):
    paths = scenario(tmp_path)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(capsys, *settle_args(paths, "-"), "--format", "parquet")
    assert (code, out) == (2, "")
    assert (
        "Error: --out - --format parquet: Parquet is binary and standard output is a "
        "terminal; redirect it to a file or a pipe, or name a .parquet file" in err
    )


def test_parquet_to_a_pipe_is_whole(tmp_path, capsysbinary):
    paths = scenario(tmp_path)
    code, out, _ = run(capsysbinary, *settle_args(paths, "-"), "--format", "PARQUET")
    assert code == 0
    (tmp_path / "p.parquet").write_bytes(out)
    assert pq.read_table(tmp_path / "p.parquet").num_rows == len(PAYOUTS)


def test_a_roster_can_come_from_standard_input(tmp_path, capsys, monkeypatch):
    paths = files(tmp_path)
    stdin(monkeypatch, paths["roster"].read_bytes())
    argv = command(paths, "migrate", out=tmp_path / "new.jsonl")
    argv[argv.index("--roster") + 1] = "-"
    code, out, err = run(capsys, *argv, "--format", "csv", "--attach-to", "A")
    assert (code, err) == (0, "")
    assert out.startswith("Migrated 3 member(s) on 2026-11-24")
    assert len((tmp_path / "new.jsonl").read_text().splitlines()) == 8


# ------------------------------------------------------- "-" redirected from or to a file


def tuishou(argv, *, stdin=None, stdout=None):
    """Run the installed ``tuishou`` in a real process, with real redirections."""
    script = Path(sys.executable).with_name("tuishou")
    return subprocess.run(
        [str(script), *map(str, argv)],
        stdin=stdin,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=False,
        timeout=60,
    )


def dash(argv, option):
    argv = list(argv)
    argv[argv.index(f"--{option}") + 1] = "-"
    return argv


# (command, the option given "-", standard input ("in") or output ("out"), the file it is
# redirected from or to, the option naming that file, and the outputs naming files)
REDIRECTIONS = [
    ("settle", "orders", "in", "orders", "out", {"out": "orders"}),
    ("settle", "members", "in", "members", "out", {"out": "members"}),
    ("settle", "out", "out", "members", "members", {}),
    ("settle", "out", "out", "orders", "orders", {}),
    ("settle", "out", "out", "policy", "policy", {}),
    ("compare", "orders", "in", "orders", "html", {"html": "orders"}),
    ("migrate", "roster", "in", "roster", "out", {"out": "roster"}),
    ("migrate", "mapping", "in", "mapping", "report", {"report": "mapping"}),
    ("migrate", "out", "out", "members", "members", {}),
    ("migrate", "out", "out", "report", "report", {"report": "report"}),  # two outputs
]


@pytest.mark.parametrize(
    ("name", "option", "direction", "target", "other", "outputs"), REDIRECTIONS
)
def test_a_dash_redirected_from_or_to_an_input_is_refused(
    tmp_path, name, option, direction, target, other, outputs
):
    paths = files(tmp_path)
    paths["report"] = tmp_path / "report.txt"
    paths["report"].write_text("last month's report\n")
    given = {"out": tmp_path / "new.csv"} if name != "compare" else {}
    given.update({key: paths[value] for key, value in outputs.items()})
    argv = [*dash(command(paths, name, **given), option), "--format", "csv"]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    reading = direction == "in"
    with paths[target].open("rb" if reading else "ab") as stream:  # ">>": keeps the file
        done = tuishou(argv, **{"stdin" if reading else "stdout": stream})
    err = done.stderr.decode()
    assert done.returncode == 2, err
    said = "standard input comes from" if reading else "standard output goes to"
    what = "output" if reading or target == "report" else "input"
    assert (
        f"Invalid value for '--{option}': '-': {said} {paths[target]}, the {what} "
        f"--{other}; " in " ".join(err.split())
    ), err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written


def test_standard_input_and_output_may_not_be_one_file(tmp_path):
    paths = scenario(tmp_path)
    argv = [*dash(dash(settle_args(paths, "-"), "orders"), "out"), "--format", "csv"]
    before = paths["orders"].read_bytes()
    with paths["orders"].open("rb") as reading, paths["orders"].open("ab") as writing:
        done = tuishou(argv, stdin=reading, stdout=writing)
    assert done.returncode == 2, done.stderr
    assert "standard output goes to the file standard input comes from (--orders -)" in " ".join(
        done.stderr.decode().split()
    )
    assert paths["orders"].read_bytes() == before


def test_a_dash_redirected_from_a_file_no_output_names_is_read(tmp_path):
    paths = scenario(tmp_path)
    out = tmp_path / "payouts.csv"
    with paths["orders"].open("rb") as reading:
        done = tuishou([*dash(settle_args(paths, out), "orders"), "--format", "csv"], stdin=reading)
    assert done.returncode == 0, done.stderr
    assert read_payouts(out) == PAYOUTS
