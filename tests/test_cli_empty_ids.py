"""An empty id, one rule on every path: a CSV cell has no way to say null but to be empty, so an
empty (or quoted empty) CSV cell is null, as before; JSON Lines and Parquet write a null as
``null``, so an explicit ``""`` in an id column is refused (exit 2, nothing written), naming the
file, the line (row), the value and the way out, as the library refuses ``''``."""

from __future__ import annotations

import re

import pytest

from cli_support import (
    MEMBER_COLUMNS,
    MEMBERS,
    ORDER_COLUMNS,
    ORDERS,
    PAYOUTS,
    leftovers,
    migrate_args,
    read_payouts,
    run,
    scenario,
    settle_args,
    write_rows,
)
from test_cli_migrate import MAPPING, MAPPING_COLUMNS, ROSTER, ROSTER_COLUMNS

ROWS = {"members": MEMBERS, "orders": ORDERS, "roster": ROSTER, "mapping": MAPPING}
COLUMNS = {
    "members": MEMBER_COLUMNS,
    "orders": ORDER_COLUMNS,
    "roster": ROSTER_COLUMNS,
    "mapping": MAPPING_COLUMNS,
}
# (file, row changed, id column, what a null means there: None where the id is required)
IDS = [
    ("orders", 3, "order_id", None),
    ("orders", 3, "buyer_id", "no buyer"),
    ("orders", 3, "sharer_id", "no share link"),
    ("orders", 3, "sku", None),
    ("orders", 3, "group", None),
    ("members", 4, "member_id", None),
    ("members", 4, "inviter_id", "no inviter"),
    ("members", 4, "tier", None),
    ("roster", 1, "member_id", None),
    ("roster", 1, "inviter_id", "no inviter"),
    ("mapping", 1, "tier", None),
]
# What an empty CSV cell of a required id has always said (after "<file>.csv, line N").
CSV_EMPTY = {
    ("orders", "order_id"): ": order_id is empty",
    ("orders", "sku"): ": sku is empty",
    ("orders", "group"): ": group is empty",
    ("members", "member_id"): ": member_id='' is empty",
    ("members", "tier"): " (member_id='D'): tier='' is empty",
    ("roster", "member_id"): ": member_id: member_id='' is empty; ids are non-empty text",
    ("mapping", "tier"): ": tier: tier='' is empty; ids are non-empty text",
}
OUT = "out.csv"


def place(suffix, row):
    """Where a row is named: CSV counts its header as line 1, Parquet counts rows."""
    return {".csv": f"line {row + 2}", ".jsonl": f"line {row + 1}", ".parquet": f"row {row + 1}"}[
        suffix
    ]


def prepare(folder, suffix, file, row, column, value):
    """The scenario in ``suffix`` with one cell set to ``value``; the arguments of ``settle``
    (members, orders) or ``migrate`` (roster, mapping) over it, and the changed file."""
    folder.mkdir()
    data = {name: [dict(r) for r in rows] for name, rows in ROWS.items()}
    data[file][row][column] = value
    paths = scenario(folder, suffix, members=data["members"], orders=data["orders"])
    for name in ("roster", "mapping"):
        paths[name] = write_rows(folder / f"{name}{suffix}", data[name], COLUMNS[name])
    if file in ("members", "orders"):
        return settle_args(paths, folder / OUT), paths[file]
    return migrate_args(paths, folder / OUT), paths[file]


def quote_cell(path, row, index):
    """Write the (empty) CSV cell at ``row``, column ``index``, quoted: ``""``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[row + 1].split(",")
    assert cells[index] == ""
    cells[index] = '""'
    lines[row + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def output(folder, file):
    """What a run wrote: payouts as tuples, or the members file ``migrate`` wrote, as text."""
    if file in ("members", "orders"):
        return read_payouts(folder / OUT)
    return (folder / OUT).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "row", "column", "means"), IDS, ids=[f"{f}.{c}" for f, _, c, _ in IDS]
)
@pytest.mark.parametrize("quoted", [False, True], ids=["empty", "quoted"])
def test_an_empty_csv_cell_is_null_as_before(tmp_path, capsys, file, row, column, means, quoted):
    """Unchanged: an empty CSV cell, quoted or not, is what a null is in JSON Lines: the same
    payouts or members written, or the same refusal of a required id."""
    argv, path = prepare(tmp_path / "csv", ".csv", file, row, column, "")
    if quoted:
        quote_cell(path, row, COLUMNS[file].index(column))
    code, _, err = run(capsys, *argv)
    if means is None:
        assert code == 2
        assert f"{path}, {place('.csv', row)}{CSV_EMPTY[file, column]}" in err
        return
    assert code == 0, err
    code, _, err = run(capsys, *prepare(tmp_path / "null", ".jsonl", file, row, column, None)[0])
    assert code == 0, err
    assert output(tmp_path / "csv", file) == output(tmp_path / "null", file)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
@pytest.mark.parametrize(
    ("file", "row", "column", "means"), IDS, ids=[f"{f}.{c}" for f, _, c, _ in IDS]
)
def test_an_explicit_empty_string_id_is_refused_in_typed_formats(
    tmp_path, capsys, suffix, file, row, column, means
):
    """Never read as "no buyer" (or no inviter...): the file, the line, the value, the way out."""
    argv, path = prepare(tmp_path / "typed", suffix, file, row, column, "")
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    assert err.startswith("tuishou: error: bad input: ")
    assert "Traceback" not in err
    assert leftovers(tmp_path / "typed", "roster" + suffix, "mapping" + suffix) == []
    way_out = f"; use null for {means}" if means else ""
    said = (
        re.escape(f"{path}, {place(suffix, row)}")
        + r"[^\n]*"
        + re.escape(f"{column}='' is empty")
        + r"[^\n]*"
        + re.escape(way_out)
    )
    assert re.search(said, err), err
    if means:  # the library's words, then what to write instead
        assert (
            f"{path}, {place(suffix, row)}: {column}='' is empty; ids are non-empty text"
            f"{way_out}" in err
        )
        assert err.count(f"{column}=''") == 1  # said once, not again by the library


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_null_is_still_no_buyer_in_typed_formats(tmp_path, capsys, suffix):
    orders = [dict(row) for row in ORDERS]
    orders[3]["buyer_id"] = None
    paths = scenario(tmp_path, suffix, orders=orders)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / OUT))
    assert code == 0, err
    assert read_payouts(tmp_path / OUT) == PAYOUTS  # o-1003 pays nothing either way


@pytest.mark.parametrize(
    ("suffix", "code", "said"),
    [
        (".csv", 0, ""),
        (
            ".jsonl",
            2,
            "members.jsonl, line 2 (member_id='A'): status='' is not one of "
            "('active', 'suspended')",
        ),
        (
            ".parquet",
            2,
            "members.parquet, row 2 (member_id='A'): status='' is not one of "
            "('active', 'suspended')",
        ),
    ],
)
def test_a_label_follows_the_same_rule_and_the_library_judges_it(
    tmp_path, capsys, suffix, code, said
):
    """``status`` is a label, not an id: empty in CSV is null (``active``); ``""`` in JSON
    Lines or Parquet is the text ``''``, refused as ``InviteTree.from_records`` refuses it."""
    members = [dict(row) for row in MEMBERS]
    members[1]["status"] = ""
    paths = scenario(tmp_path, suffix, members=members)
    result, _, err = run(capsys, *settle_args(paths, tmp_path / OUT))
    assert result == code, err
    assert said in err
    if not code:  # A is active: the README's payouts
        assert read_payouts(tmp_path / OUT) == PAYOUTS
