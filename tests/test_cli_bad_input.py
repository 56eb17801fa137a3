"""Bad input files: every problem named with its file, line and value; exit 2; no output."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_support import (
    MEMBER_COLUMNS,
    MEMBERS,
    ORDER_COLUMNS,
    ORDERS,
    leftovers,
    run,
    scenario,
    settle_args,
    write_rows,
)


def changed(rows, index, **fields):
    """A copy of ``rows`` with fields of row ``index`` replaced (None drops nothing)."""
    copy = [dict(row) for row in rows]
    copy[index].update(fields)
    return copy


def refused(tmp_path, capsys, suffix=".csv", *, members=None, orders=None, out="payouts.csv"):
    """Settle a scenario that must be refused; return stderr after checking the exit status
    and that nothing was written."""
    paths = scenario(tmp_path, suffix, members=members, orders=orders)
    code, stdout, err = run(capsys, *settle_args(paths, tmp_path / out))
    assert (code, stdout) == (2, "")
    assert leftovers(tmp_path) == []
    return err


# (file, row to change, fields, what the message says after "<file>, ")
CASES = [
    (
        "orders",
        1,
        {"amount": "12.5"},
        "line 3: amount='12.5' is not a whole number of fen: money is integer fen (分), e.g. 1250 "
        "for ¥12.50",
    ),
    ("orders", 1, {"amount": "-300"}, "line 3: amount=-300 is negative; amounts are fen >= 0"),
    ("orders", 1, {"amount": ""}, "line 3: amount is empty"),
    ("orders", 1, {"amount": "¥999"}, "line 3: amount='¥999' is not a whole number"),
    (
        "orders",
        1,
        {"amount": "12345678901234567890"},
        "line 3: amount='12345678901234567890' is too large",
    ),
    ("orders", 2, {"quantity": "1.5"}, "line 4: quantity='1.5' is not a whole number"),
    ("orders", 2, {"quantity": "0"}, "line 4: quantity=0 is below 1"),
    (
        "orders",
        2,
        {"sharer_id": "Q"},
        "line 4: sharer_id='Q' is not a member; known: 'A', 'B', 'C', 'D', 'Z' (a sharer must be "
        "in the members file; an unknown buyer is a guest)",
    ),
    ("orders", 2, {"sharer_id": "BB"}, "line 4: sharer_id='BB' is not a member; did you mean 'B'?"),
    (
        "orders",
        3,
        {"group": "toys"},
        "line 5: group='toys' has no pool rate in policy 'youpin-tuishou'; known: 'ecosystem', "
        "'third_party', 'xiaomi'",
    ),
    (
        "orders",
        3,
        {"group": "xiaomy"},
        "line 5: group='xiaomy' has no pool rate in policy "
        "'youpin-tuishou'; did you mean 'xiaomi'?",
    ),
    ("orders", 0, {"order_id": ""}, "line 2: order_id is empty"),
    ("orders", 0, {"sku": ""}, "line 2: sku is empty"),
    (
        "orders",
        1,
        {"buyer_id": "C"},
        "line 3: buyer_id='C' differs from the order's first line "
        "(line 2: 'D'); an order has one buyer_id",
    ),
    ("members", 1, {"tier": "boss"}, "line 3 (member_id='A'): tier='boss' is not in the ladder"),
    (
        "members",
        2,
        {"status": "sleeping"},
        "line 4 (member_id='B'): status='sleeping' is not one of ('active', 'suspended')",
    ),
    (
        "members",
        4,
        {"member_id": "C"},
        "line 6 (member_id='C'): duplicate member_id, first seen in line 5",
    ),
    ("members", 4, {"inviter_id": "X"}, "line 6 (member_id='D'): inviter_id='X' is not a member"),
    (
        "members",
        2,
        {"inviter_id": "D"},
        "lines 4, 5, 6: cycle: B → C → D → B (X → Y: X invited Y); a tree has no cycles",
    ),
    ("members", 0, {"member_id": ""}, "line 2: member_id='' is empty"),
]


@pytest.mark.parametrize(("file", "row", "fields", "message"), CASES)
def test_each_bad_cell_is_named_with_its_line_and_value(
    tmp_path, capsys, file, row, fields, message
):
    data = {"members": MEMBERS, "orders": ORDERS}
    data[file] = changed(data[file], row, **fields)
    err = refused(tmp_path, capsys, **data)
    assert err.startswith("tuishou: error: bad input: ")
    assert f"{tmp_path / file}.csv, {message}" in err


@pytest.mark.parametrize(("suffix", "where"), [(".jsonl", "line 2"), (".parquet", "row 2")])
def test_typed_formats_name_lines_or_rows(tmp_path, capsys, suffix, where):
    orders = changed(ORDERS, 1, amount=-5)
    err = refused(tmp_path, capsys, suffix, orders=orders)
    assert f"orders{suffix}, {where}: amount=-5 is negative" in err


def test_a_float_amount_in_json_lines_is_refused(tmp_path, capsys):
    err = refused(tmp_path, capsys, ".jsonl", orders=changed(ORDERS, 2, amount=249.0))
    assert (
        "orders.jsonl, line 3: amount=249.0 is not a whole number of fen: money is integer "
        "fen (分), e.g. 24900 for ¥249.00" in err
    )


def test_a_float_amount_column_in_parquet_is_refused(tmp_path, capsys):
    """Cell by cell, with the words JSON Lines gets (a whole float column: every row)."""
    paths = scenario(tmp_path, ".parquet")
    table = pq.read_table(paths["orders"])
    floats = table.set_column(5, "amount", pa.array([199.99, 999.0, 249.0, 249.0]))
    pq.write_table(floats, paths["orders"])
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert err.startswith("tuishou: error: bad input: 4 problem(s)\n")
    assert (
        "orders.parquet, row 1: amount=199.99 is not a whole number of fen: money is "
        "integer fen (分), e.g. 19999 for ¥199.99" in err
    )
    assert "orders.parquet, row 4: amount=249.0 is not a whole number of fen" in err
    assert not (tmp_path / "payouts.csv").exists()


def test_a_missing_column_names_the_file_and_its_columns(tmp_path, capsys):
    paths = scenario(tmp_path)
    write_rows(paths["orders"], ORDERS, tuple(c for c in ORDER_COLUMNS if c != "group"))
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert (
        f"{paths['orders']}: missing column(s) ['group']; the file has ['order_id', "
        "'buyer_id', 'sharer_id', 'sku', 'amount', 'quantity']" in err
    )


def test_a_misspelt_column_is_refused_not_ignored(tmp_path, capsys):
    paths = scenario(tmp_path)
    rows = [{**row, "sharer": row["sharer_id"]} for row in ORDERS]
    write_rows(paths["orders"], rows, (*ORDER_COLUMNS, "sharer"))
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert "unknown column 'sharer'; did you mean 'sharer_id'?" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "order_id,sku,group,amount\no-1,s,xiaomi,100,7\n",
            "rows must have 4 cells like the header: line 2 has 5",
        ),
        ("", "is empty; a CSV file starts with a header line naming its columns"),
    ],
)
def test_a_malformed_csv_is_named(tmp_path, capsys, text, message):
    paths = scenario(tmp_path)
    paths["orders"].write_text(text)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert (code, f"{paths['orders']}: {message}" in err) == (2, True)


def test_a_csv_that_is_not_utf8_is_named(tmp_path, capsys):
    paths = scenario(tmp_path)
    paths["orders"].write_bytes("order_id,sku,group,amount\no-1,耳机,xiaomi,100\n".encode("gbk"))
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert f"{paths['orders']}: is not UTF-8 text; save it as CSV UTF-8" in err


def test_a_line_that_is_not_json_is_named(tmp_path, capsys):
    paths = scenario(tmp_path, ".jsonl")
    paths["orders"].write_text('{"order_id": "o-1"}\n\n[1, 2]\n{"order_id": \n')
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert (
        "each line must be one JSON object: line 3 is a JSON list, not an object; line 4 "
        "is not JSON (Expecting value)" in err
    )


def test_every_problem_of_both_files_is_reported_at_once(tmp_path, capsys):
    members = changed(MEMBERS, 1, tier="boss")
    orders = changed(changed(ORDERS, 0, amount="12.5"), 3, group="toys")
    err = refused(tmp_path, capsys, members=members, orders=orders)
    assert err.splitlines()[0] == "tuishou: error: bad input: 3 problem(s)"
    assert [line.split(",")[0].split("/")[-1] for line in err.splitlines()[1:]] == [
        "members.csv",
        "orders.csv",
        "orders.csv",
    ]


def test_many_problems_are_summarised(tmp_path, capsys):
    orders = [{**ORDERS[3], "order_id": f"o-{i}", "amount": "-1"} for i in range(150)]
    err = refused(tmp_path, capsys, orders=orders)
    lines = err.splitlines()
    assert lines[0] == "tuishou: error: bad input: 101 problem(s)"
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "  ... and 81 more problem(s)"
    assert lines[1].endswith("orders.csv, line 2: amount=-1 is negative; amounts are fen >= 0")


def test_the_summary_of_many_rows_names_where_they_start(tmp_path, capsys, monkeypatch):
    from tuishou.io.files import Problems

    monkeypatch.setattr(Problems, "per_check", 2)
    orders = [{**ORDERS[3], "order_id": f"o-{i}", "amount": "-1"} for i in range(5)]
    err = refused(tmp_path, capsys, orders=orders)
    assert (
        f"{tmp_path / 'orders.csv'}: 3 more row(s) like these, from line 4: amount=-1 is "
        "negative" in err
    )


@pytest.mark.parametrize("option", ["--members", "--orders", "--out"])
def test_an_unknown_extension_is_a_usage_error(tmp_path, capsys, option):
    paths = scenario(tmp_path)
    argv = settle_args(paths, tmp_path / "payouts.csv")
    odd = tmp_path / "data.xlsx"
    odd.write_text("")
    argv[argv.index(option) + 1] = str(odd)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert (
        f"Invalid value for '{option}': {odd}: unknown extension '.xlsx'; use .csv (CSV), "
        ".parquet (Parquet), .jsonl (JSON Lines)" in err
    )
    assert not (tmp_path / "payouts.csv").exists()


def test_a_missing_input_file_is_a_usage_error(tmp_path, capsys):
    paths = scenario(tmp_path)
    paths["members"].unlink()
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert "Invalid value for '--members': File" in err
    assert "does not exist" in err


def test_members_columns_must_be_complete(tmp_path, capsys):
    paths = scenario(tmp_path)
    write_rows(paths["members"], MEMBERS, tuple(c for c in MEMBER_COLUMNS if c != "inviter_id"))
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert "members.csv: missing column(s) ['inviter_id']" in err


def test_a_number_where_text_belongs_is_named(tmp_path, capsys):
    err = refused(tmp_path, capsys, ".jsonl", orders=changed(ORDERS, 3, group=5.0))
    assert "orders.jsonl, line 4: group=5.0 is a float; ids and names are text" in err


def test_a_parquet_column_of_the_wrong_type_is_named(tmp_path, capsys):
    paths = scenario(tmp_path, ".parquet")
    table = pq.read_table(paths["orders"])
    pq.write_table(table.set_column(1, "buyer_id", pa.array([1.0, 1.0, 2.0, 3.0])), paths["orders"])
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert err.startswith("tuishou: error: bad input: 4 problem(s)\n")
    for row, value in enumerate([1.0, 1.0, 2.0, 3.0], 1):
        assert (
            f"orders.parquet, row {row}: buyer_id={value} is a float; ids and names are text" in err
        )
