"""JSON that Python's ``json`` reads but that is no data (NaN, Infinity, an integer of more than
4,300 digits, a lone surrogate), and the odd values it can give (nested objects, -0, 1e400),
in every column of every JSON file and on every command: exit 2 naming the file, the line and
the value (shortened), or a result; never a traceback. And the rules for column names and
padded numbers, the same in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_support import (
    MEMBER_COLUMNS,
    MEMBERS,
    ORDER_COLUMNS,
    ORDERS,
    PAYOUTS,
    read_payouts,
    run,
    scenario,
    settle_args,
)
from test_cli_migrate import MAPPING, MAPPING_COLUMNS, ROSTER, ROSTER_COLUMNS

HUGE = "1" + "0" * 5000  # more digits than Python's int() reads from text
HUGE_SAID = "the number 1000000000…0000000000 has 5,001 digits, more than the 4,300"
SURROGATE_SAID = r"holds '\ud800', half of a UTF-16 pair without its other half"

# (what, the raw JSON of the cell, what the message says)
RAW = [
    ("huge integer", HUGE, HUGE_SAID),
    ("lone surrogate", r'"o\ud800"', r"the text 'o\ud800' " + SURROGATE_SAID),
    ("NaN", "NaN", "NaN is not a JSON number (RFC 8259); write a number"),
    ("Infinity", "-Infinity", "-Infinity is not a JSON number (RFC 8259)"),
]


def jsonl(rows, columns, row=None, column=None, raw=None):
    """Rows as JSON Lines; the cell (row, column) holds ``raw`` JSON text as written."""
    lines = []
    for index, values in enumerate(rows):
        record = {c: values.get(c) for c in columns}
        if index == row:
            record[column] = "@@cell@@"
        lines.append(json.dumps(record).replace('"@@cell@@"', raw))
    return "".join(line + "\n" for line in lines)


def argv_of(paths, name, tmp_path):
    argv = settle_args(paths, tmp_path / "payouts.csv")
    extra = {"settle": [], "explain": ["o-1001"], "compare": []}[name]
    return [name, *(argv[1:] if name == "settle" else argv[1:-2]), *extra]


@pytest.mark.parametrize("name", ["settle", "explain", "compare"])
@pytest.mark.parametrize(
    ("file", "column"),
    [
        ("orders", "amount"),
        ("orders", "order_id"),
        ("orders", "sharer_id"),
        ("orders", "quantity"),
        ("members", "member_id"),
        ("members", "tier"),
        ("members", "joined_at"),
    ],
)
@pytest.mark.parametrize(("what", "raw", "said"), RAW)
def test_json_no_data_is_refused_in_every_column_on_every_command(
    tmp_path, capsys, name, file, column, what, raw, said
):
    paths = scenario(tmp_path, ".jsonl")
    rows, columns = (ORDERS, ORDER_COLUMNS) if file == "orders" else (MEMBERS, MEMBER_COLUMNS)
    paths[file].write_text(jsonl(rows, columns, 1, column, raw), encoding="utf-8")
    code, out, err = run(capsys, *argv_of(paths, name, tmp_path))
    assert (code, out) == (2, ""), err
    assert f"{paths[file]}: each line must be one JSON object: line 2: {said}" in err
    assert len(err) < 1000  # the huge value is shortened
    assert not (tmp_path / "payouts.csv").exists()


@pytest.mark.parametrize("file", ["roster", "mapping"])
@pytest.mark.parametrize(("what", "raw", "said"), RAW)
def test_json_no_data_is_refused_in_migration_files(tmp_path, capsys, file, what, raw, said):
    paths = scenario(tmp_path)
    files = {"roster": (ROSTER, ROSTER_COLUMNS), "mapping": (MAPPING, MAPPING_COLUMNS)}
    for key, (rows, columns) in files.items():
        text = jsonl(rows, columns, 0 if key == file else None, columns[0], raw)
        (tmp_path / f"{key}.jsonl").write_text(text, encoding="utf-8")
    code, out, err = run(
        capsys,
        "migrate",
        "--policy",
        str(paths["policy"]),
        "--members",
        str(paths["members"]),
        "--roster",
        str(tmp_path / "roster.jsonl"),
        "--mapping",
        str(tmp_path / "mapping.jsonl"),
        "--out",
        str(tmp_path / "new.csv"),
        "--as-of",
        "2026-11-24",
    )
    assert (code, out) == (2, ""), err
    assert f"{tmp_path / f'{file}.jsonl'}: each line must be one JSON object: line 1: {said}" in err
    assert not (tmp_path / "new.csv").exists()


def test_a_lone_surrogate_in_a_key_is_refused(tmp_path, capsys):
    paths = scenario(tmp_path, ".jsonl")
    text = paths["orders"].read_text().replace('"sku"', r'"sku\udc00"', 1)
    paths["orders"].write_text(text)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert r"line 1: the text 'sku\udc00' holds '\udc00', half of a UTF-16 pair" in err


@pytest.mark.parametrize(
    ("suffix", "raw", "said"),
    [
        (".json", HUGE, f"invalid JSON: {HUGE_SAID}"),
        (".json", '"x\\ud800"', r"invalid JSON: the text 'x\ud800' " + SURROGATE_SAID),
        (".json", "NaN", "invalid JSON: NaN is not a JSON number (RFC 8259)"),
        (".toml", HUGE, "not valid TOML: line 2: " + HUGE_SAID),
    ],
)
def test_a_policy_with_no_data_is_refused_in_tuishou_words(tmp_path, capsys, suffix, raw, said):
    policy = tmp_path / f"policy{suffix}"
    if suffix == ".json":
        policy.write_text('{"name": "p", "max_generation": @@}'.replace("@@", raw))
    else:
        policy.write_text(f'name = "p"\nmax_generation = {raw}\n')
    code, _, err = run(capsys, "validate", "--policy", str(policy))
    assert code == 2
    assert f"tuishou: error: {policy}: {said}" in err
    assert "Exceeds the limit" not in err
    assert "sys.set_int_max_str_digits" not in err
    assert len(err) < 1000


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("1e400", "amount=inf is not a whole number of fen"),
        ('{"fen": 100}', "amount={'fen': 100} is not a whole number"),
        ("[100]", "amount=[100] is not a whole number"),
        (
            json.dumps("9" * 5000),
            "amount='" + "9" * 28 + "…" + "9" * 28 + "' (5,000 characters) is too large",
        ),
    ],
)
def test_odd_json_amounts_are_named(tmp_path, capsys, raw, said):
    paths = scenario(tmp_path, ".jsonl")
    paths["orders"].write_text(jsonl(ORDERS, ORDER_COLUMNS, 1, "amount", raw))
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2, err
    assert f"{paths['orders']}, line 2: {said}" in err
    assert len(err) < 1000


def test_minus_zero_is_zero(tmp_path, capsys):
    paths = scenario(tmp_path, ".jsonl")
    orders = [dict(row, quantity=1) for row in ORDERS] + [dict(ORDERS[3], order_id="o-1004")]
    paths["orders"].write_text(jsonl(orders, ORDER_COLUMNS, 4, "amount", "-0"))
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out))
    assert code == 0, err
    assert read_payouts(out) == PAYOUTS


# ------------------------------------------------------- names exact, numbers trimmed


def write(path, columns, rows):
    """Rows (lists of cells) to ``path`` in its format, every cell as text."""
    if path.suffix == ".csv":
        path.write_text("".join(",".join(row) + "\n" for row in [columns, *rows]))
    elif path.suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps(dict(zip(columns, row, strict=True))) + "\n" for row in rows)
        )
    else:
        pq.write_table(pa.table({c: [row[i] for row in rows] for i, c in enumerate(columns)}), path)


ORDER_ROWS = [
    [
        r["order_id"],
        r["buyer_id"] or "",
        r["sharer_id"] or "",
        r["sku"],
        r["group"],
        str(r["amount"]),
        str(r["quantity"]),
    ]
    for r in ORDERS
]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_column_name_with_blanks_is_refused_in_every_format(tmp_path, capsys, suffix):
    paths = scenario(tmp_path)
    orders = tmp_path / f"padded{suffix}"
    columns = [" sharer_id" if c == "sharer_id" else c for c in ORDER_COLUMNS]
    write(
        orders, columns, [[c or None if suffix != ".csv" else c for c in row] for row in ORDER_ROWS]
    )
    paths["orders"] = orders
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert (
        f"{orders}: column ' sharer_id' has blanks around its name; name it exactly "
        "'sharer_id'" in err
    )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
@pytest.mark.parametrize(
    ("cell", "ok"),
    [
        (" 99900", True),
        ("99900\t", True),
        ("  99900  ", True),
        ("\u300099900", False),
        ("99900\xa0", False),
        ("9 9900", False),
        ("+99900", False),
    ],
)
def test_a_padded_number_is_read_the_same_in_every_format(tmp_path, capsys, suffix, cell, ok):
    paths = scenario(tmp_path)
    rows = [list(row) for row in ORDER_ROWS]
    rows[1][5] = cell  # the phone's amount, 99900
    write(
        tmp_path / f"padded{suffix}",
        list(ORDER_COLUMNS),
        [[c or None if suffix != ".csv" else c for c in row] for row in rows],
    )
    paths["orders"] = tmp_path / f"padded{suffix}"
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out))
    if ok:
        assert code == 0, err
        assert read_payouts(out) == PAYOUTS
    else:
        assert code == 2
        place = {".csv": "line 3", ".jsonl": "line 2", ".parquet": "row 2"}[suffix]
        assert f"padded{suffix}, {place}: amount={cell!r} is not" in err, err


# --------------------------- arguments that are not UTF-8 (a shell passes bytes as surrogates)


def test_an_order_id_argument_that_is_not_utf8_is_refused(tmp_path, capsys):
    paths = scenario(tmp_path)
    argv = argv_of(paths, "explain", tmp_path)
    code, out, err = run(capsys, *argv[:-1], "o-1001\udcff")
    assert (code, out) == (2, "")
    assert r"tuishou: error: order_id='o-1001\udcff' holds a control character" in err


@pytest.mark.parametrize("option", ["out", "orders", "members", "policy"])
def test_a_file_name_that_is_not_utf8_is_refused(tmp_path, capsys, option):
    paths = scenario(tmp_path)
    argv = settle_args(paths, tmp_path / "payouts.csv")
    name = tmp_path / ("x\udcff" + Path(argv[argv.index(f"--{option}") + 1]).suffix)
    if option != "out":
        name.write_bytes(paths[option].read_bytes())
    argv[argv.index(f"--{option}") + 1] = str(name)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert f"Invalid value for '--{option}': {str(name)!r} is not a UTF-8 file name" in " ".join(
        err.split()
    )
