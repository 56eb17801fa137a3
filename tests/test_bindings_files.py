"""Bindings files (CSV, JSON Lines, Parquet) and ``--bindings`` on the command line: the
round trip, every bad cell named with its line, and the commands' output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cli_support import MEMBER_COLUMNS, MEMBERS, ORDERS, read_payouts, run, scenario, write_rows
from tuishou import InvalidFileError, settle
from tuishou.bindings import Bindings
from tuishou.engine.batch import settle_batch
from tuishou.io import load_bindings, load_policy
from tuishou.io.inputs import load_data

FORMATS = [".csv", ".jsonl", ".parquet"]
BINDING_COLUMNS = ("customer_id", "member_id", "since", "until", "how")
ORDER_COLUMNS = (
    "order_id",
    "buyer_id",
    "sharer_id",
    "sku",
    "group",
    "amount",
    "quantity",
    "paid_at",
)
CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 3, 8, tzinfo=CST)
# guest-2 (o-1003, no share link) is bound to C for a week from T0; guest-1 for good to A.
BINDINGS = [
    {
        "customer_id": "guest-2",
        "member_id": "C",
        "since": T0,
        "until": T0 + timedelta(days=7),
        "how": "first_share",
    },
    {
        "customer_id": "guest-1",
        "member_id": "A",
        "since": T0.astimezone(UTC),
        "until": None,
        "how": "import",
    },
]


def _cell(value, suffix):
    return value.isoformat() if isinstance(value, datetime) and suffix != ".parquet" else value


def bindings_file(folder, suffix, rows=BINDINGS):
    rows = [{k: _cell(v, suffix) for k, v in row.items()} for row in rows]
    return write_rows(folder / f"bindings{suffix}", rows, BINDING_COLUMNS)


def timed_scenario(folder, suffix, paid_at):
    orders = [{**row, "paid_at": _cell(paid_at, suffix)} for row in ORDERS]
    paths = scenario(folder, suffix)
    paths["orders"] = write_rows(folder / f"orders{suffix}", orders, ORDER_COLUMNS)
    paths["bindings"] = bindings_file(folder, suffix)
    return paths


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_bindings_file_round_trips_in_every_format(tmp_path, suffix):
    found = load_bindings(bindings_file(tmp_path, suffix))
    assert found == Bindings.from_records(BINDINGS)
    offsets = [b.since.utcoffset() for b in found]  # a Parquet column has one zone
    assert offsets == (
        [timedelta(hours=8)] * 2 if suffix == ".parquet" else [timedelta(hours=8), timedelta(0)]
    )


def test_times_without_an_offset_are_read_in_the_timezone(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("customer_id,member_id,since,until\nc,B,2026-11-03T08:00:00,\n")
    assert next(iter(load_bindings(path))).since == T0
    in_utc = next(iter(load_bindings(path, timezone=ZoneInfo("UTC")))).since
    assert in_utc == datetime(2026, 11, 3, 8, tzinfo=UTC)


def test_every_bad_cell_is_named_with_its_line(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(
        "customer_id,member_id,since,until,how\n"
        "c-1,B,2026-11-03T08:00:00+08:00,,first_share\n"  # line 2: fine
        "B,B,2026-11-03T08:00:00+08:00,,\n"  # line 3: bound to itself
        "c-2,B,2026-13-03,,\n"  # line 4: not a time
        "c-3,B,2026-11-03T08:00:00+08:00,2026-11-03T08:00:00+08:00,\n"  # line 5: empty interval
        "c-4,B,2026-11-03T08:00:00+08:00,,guess\n"  # line 6: unknown how
        "c-5, B,2026-11-03T08:00:00+08:00,,\n"  # line 7: not a normal id
    )
    with pytest.raises(InvalidFileError) as caught:
        load_bindings(path)
    problems = caught.value.problems
    assert [p.split(": ")[0].rsplit(", ", 1)[1] for p in problems] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
    ]
    assert "never be bound to itself" in problems[0]
    assert "since" in problems[1]
    assert "is not after since" in problems[2]
    assert "how" in problems[3]
    assert "normal form 'B'" in problems[4]


def test_overlaps_name_the_lines_of_the_customer_and_strangers_are_refused(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(
        "customer_id,member_id,since,until\n"
        "c-1,B,2026-11-03T08:00:00+08:00,\n"
        "c-2,C,2026-11-03T08:00:00+08:00,\n"
        "c-1,C,2026-11-05T08:00:00+08:00,\n"
    )
    with pytest.raises(InvalidFileError, match=r"b.csv, lines 2, 4: customer 'c-1': the binding"):
        load_bindings(path)
    tree, _ = load_data(
        [load_policy(scenario(tmp_path)["policy"])],
        scenario(tmp_path)["members"],
        scenario(tmp_path)["orders"],
    )
    path.write_text("customer_id,member_id,since\nc-1,Bee,2026-11-03T08:00:00+08:00\n")
    with pytest.raises(InvalidFileError, match=r"b.csv, line 2: member_id='Bee' is not a member"):
        load_bindings(path, tree=tree)
    path.write_text("customer_id,since\nc-1,2026-11-03T08:00:00+08:00\n")
    with pytest.raises(InvalidFileError, match="member_id"):
        load_bindings(path)


@pytest.mark.parametrize("suffix", FORMATS)
def test_cli_settle_with_bindings_round_trip(tmp_path, capsys, suffix):
    paths = timed_scenario(tmp_path, suffix, T0 + timedelta(days=1))
    out = tmp_path / f"payouts{suffix}"
    args = ["settle", "--policy", str(paths["policy"]), "--members", str(paths["members"])]
    args += ["--orders", str(paths["orders"]), "--out", str(out)]
    code, _, err = run(capsys, *args, "--bindings", str(paths["bindings"]))
    assert code == 0, err
    policy = load_policy(paths["policy"])
    tree, lines = load_data([policy], paths["members"], paths["orders"])
    expected = settle_batch(policy, tree, lines.columns, bindings=load_bindings(paths["bindings"]))
    assert read_payouts(out) == expected.payouts.rows()
    assert {row[0] for row in read_payouts(out)} == {"o-1001", "o-1002", "o-1003"}
    assert next(row[1] for row in read_payouts(out) if row[0] == "o-1003") == "C"
    code, _, _ = run(capsys, *args)
    assert "o-1003" not in {row[0] for row in read_payouts(out)}  # no bindings: nobody


def test_cli_explain_tells_the_binding(tmp_path, capsys):
    paths = timed_scenario(tmp_path, ".csv", T0 + timedelta(days=7) - timedelta(seconds=1))
    args = ["explain", "--policy", str(paths["policy"]), "--members", str(paths["members"])]
    args += ["--orders", str(paths["orders"]), "o-1003", "--bindings", str(paths["bindings"])]
    code, stdout, _ = run(capsys, *args)
    assert code == 0
    assert (
        "Seller: C: no share link; customer guest-2 bound to C since 2026-11-03 08:00 +08:00 "
        "until 2026-11-10 08:00 +08:00 (first share), who is credited with the sale"
    ) in stdout
    policy = load_policy(paths["policy"])
    tree, lines = load_data([policy], paths["members"], paths["orders"])
    bound = load_bindings(paths["bindings"])
    assert stdout == settle(policy, tree, lines.order("o-1003"), bindings=bound).explain() + "\n"


def test_cli_compare_and_validate_take_bindings(tmp_path, capsys):
    paths = timed_scenario(tmp_path, ".csv", T0 + timedelta(days=1))
    common = ["--members", str(paths["members"]), "--orders", str(paths["orders"])]
    _, without, _ = run(capsys, "compare", "--policy", str(paths["policy"]), *common)
    code, with_bindings, _ = run(
        capsys,
        "compare",
        "--policy",
        str(paths["policy"]),
        *common,
        "--bindings",
        str(paths["bindings"]),
    )
    assert code == 0
    assert with_bindings != without
    code, stdout, _ = run(
        capsys,
        "validate",
        "--policy",
        str(paths["policy"]),
        "--bindings",
        str(paths["bindings"]),
        "--members",
        str(paths["members"]),
    )
    assert code == 0
    assert "bindings.csv: 2 binding(s), 2 customer(s), every bound member a member." in stdout
    few = write_rows(
        tmp_path / "few.csv", [m for m in MEMBERS if m["member_id"] != "C"][:3], MEMBER_COLUMNS
    )
    code, _, err = run(
        capsys,
        "validate",
        "--policy",
        str(paths["policy"]),
        "--bindings",
        str(paths["bindings"]),
        "--members",
        str(few),
    )
    assert code == 2
    assert "bindings.csv, line 2: member_id='C' is not a member" in err


def test_ledger_post_and_validate_name_every_problem_of_a_bindings_file_at_once(tmp_path, capsys):
    """Bad cells (a number, a bad time), a stranger and an overlap among the good rows: all at
    once, and the same on ``validate --bindings`` and ``ledger post --bindings``."""
    paths = timed_scenario(tmp_path, ".csv", T0 + timedelta(days=1))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "customer_id,member_id,since,until\n"
        "c-1,B,2026-11-03T08:00:00+08:00,\n"  # lines 2 and 4 overlap
        "c-9,B,1700000000,\n"  # line 3: a number is not a time
        "c-1,C,2026-11-05T08:00:00+08:00,\n"
        "c-8,Bee,2026-11-05T08:00:00+08:00,\n"  # line 5: not a member
        "c-7,B,not a time,\n"  # line 6
    )
    common = ["--policy", str(paths["policy"]), "--members", str(paths["members"])]
    code, _, checked = run(capsys, "validate", *common, "--bindings", str(bad))
    assert code == 2
    ledger = tmp_path / "book.sqlite"
    code, _, posted = run(
        capsys, "ledger", "post", str(ledger), *common, "--orders", str(paths["orders"]),
        "--bindings", str(bad),
    )  # fmt: skip
    assert code == 2
    assert not ledger.exists()

    def problems(err: str) -> list[str]:
        return sorted(line.strip() for line in err.splitlines() if "bad.csv, line" in line)

    found = problems(checked)
    assert found == problems(posted)
    where = sorted(p.split(": ")[0].partition("bad.csv, ")[2] for p in found)
    assert where == ["line 3", "line 5", "line 6", "lines 2, 4"]
