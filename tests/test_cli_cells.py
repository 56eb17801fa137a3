"""Every bad cell, crafted in every format it can be written in (CSV, JSON Lines, Parquet):
exit 2, the file, the line (or Parquet row) and the value in the message, nothing written."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stderr
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_support import (
    MEMBER_COLUMNS,
    MEMBERS,
    ORDER_COLUMNS,
    ORDERS,
    leftovers,
    migrate_args,
    run,
    scenario,
    settle_args,
    write_rows,
)
from test_cli_migrate import MAPPING, MAPPING_COLUMNS, ROSTER, ROSTER_COLUMNS
from tuishou.cli.main import main

LIMIT = "one order is at most 10,000,000,000 fen (¥100,000,000.00)"
NOT_TEXT = "ids and names are text"


def normal(value, form):
    escaped = "" if value.isascii() else f"; escaped: {value!a} -> {form!a}"
    return f"is not a normal id; use its normal form {form!r} (NFKC, trimmed){escaped}"


class Typed:
    """A Parquet cell with the column's arrow type (other rows keep theirs if they fit)."""

    def __init__(self, value, kind):
        self.value, self.kind = value, kind

    def __repr__(self):
        return repr(self.value)


def each(value):
    """The same cell in the three formats (CSV as its text)."""
    text = "" if value is None else str(value)
    return {".csv": text, ".jsonl": value, ".parquet": value}


# (name, file, {row: {column: {format: cell}}}, row named, message; "{v}" is the cell's repr)
CASES = [
    (
        "float order_id",
        "orders",
        {1: {"order_id": {".jsonl": 1.5, ".parquet": Typed(1.5, pa.float64())}}},
        1,
        f"order_id=1.5 is a float; {NOT_TEXT}",
    ),
    (
        "binary order_id",
        "orders",
        {1: {"order_id": {".parquet": Typed(b"o-1001", pa.binary())}}},
        1,
        f"order_id=b'o-1001' is a bytes; {NOT_TEXT}",
    ),
    (
        "bool order_id",
        "orders",
        {1: {"order_id": {".jsonl": True, ".parquet": Typed(True, pa.bool_())}}},
        1,
        f"order_id=True is a bool; {NOT_TEXT}",
    ),
    (
        "float sku",
        "orders",
        {3: {"sku": {".jsonl": 2.0, ".parquet": Typed(2.0, pa.float64())}}},
        3,
        f"sku=2.0 is a float; {NOT_TEXT}",
    ),
    ("null order_id", "orders", {1: {"order_id": each(None)}}, 1, "order_id is empty"),
    ("null sku", "orders", {1: {"sku": each(None)}}, 1, "sku is empty"),
    ("null group", "orders", {1: {"group": each(None)}}, 1, "group is empty"),
    ("null amount", "orders", {1: {"amount": each(None)}}, 1, "amount is empty"),
    (
        "float amount",
        "orders",
        {1: {"amount": {".csv": "12.5", ".jsonl": 12.5, ".parquet": Typed(12.5, pa.float64())}}},
        1,
        "amount={v} is not a whole number of fen: money is integer fen (分), e.g. 1250 for ¥12.50",
    ),
    (
        "decimal amount",
        "orders",
        {1: {"amount": {".parquet": Typed(Decimal("249.00"), pa.decimal128(10, 2))}}},
        1,
        "amount=Decimal('249.00') is not a whole number of fen: money is integer fen (分), "
        "e.g. 24900 for ¥249.00",
    ),
    (
        "bool amount",
        "orders",
        {1: {"amount": {".jsonl": True, ".parquet": Typed(True, pa.bool_())}}},
        1,
        "amount=True is a bool; write a whole number of fen",
    ),
    (
        "uint64 amount",
        "orders",
        {
            1: {
                "amount": {
                    ".csv": str(2**63),
                    ".jsonl": 2**63,
                    ".parquet": Typed(2**63, pa.uint64()),
                }
            }
        },
        1,
        f"amount={{v}} is too large: {LIMIT}",
    ),
    (
        "amount above the limit",
        "orders",
        {1: {"amount": each(10**10 + 1)}},
        1,
        f"amount=10000000001 is too large: {LIMIT}",
    ),
    (
        "order above the limit",
        "orders",
        {0: {"amount": each(6 * 10**9)}, 1: {"amount": each(6 * 10**9)}},
        0,
        f"order_id='o-1001' is too large: its 2 line(s) sum to 12,000,000,000 fen; {LIMIT}",
    ),
    (
        "negative amount",
        "orders",
        {1: {"amount": each(-5)}},
        1,
        "amount=-5 is negative; amounts are fen >= 0",
    ),
    (
        "full-width amount",
        "orders",
        {1: {"amount": each("９９９００")}},
        1,
        "amount='９９９００' is not written in ASCII digits; write '99900'",
    ),
    (
        "bool quantity",
        "orders",
        {2: {"quantity": {".jsonl": False, ".parquet": Typed(False, pa.bool_())}}},
        2,
        "quantity=False is a bool; write a whole number",
    ),
    (
        "padded buyer",
        "orders",
        {2: {"buyer_id": each("guest-1 ")}},
        2,
        "buyer_id='guest-1 ' " + normal("guest-1 ", "guest-1"),
    ),
    (
        "padded sharer",
        "orders",
        {2: {"sharer_id": each(" B")}},
        2,
        "sharer_id=' B' " + normal(" B", "B"),
    ),
    (
        "look-alike order id",
        "orders",
        {3: {"order_id": each("ｏ-1003")}},
        3,
        "order_id='ｏ-1003' " + normal("ｏ-1003", "o-1003"),
    ),
    ("padded sku", "orders", {3: {"sku": each("band ")}}, 3, "sku='band ' " + normal("", "band")),
    (
        "padded group",
        "orders",
        {3: {"group": each("xiaomi ")}},
        3,
        "group='xiaomi ' " + normal("", "xiaomi"),
    ),
    (
        "control character in an id",
        "orders",
        {3: {"order_id": each("o-\x071003")}},
        3,
        "order_id='o-\\x071003' holds a control character; ids are printable text",
    ),
    (
        "padded member_id",
        "members",
        {4: {"member_id": each("D "), "inviter_id": each("C")}},
        4,
        "member_id='D ' " + normal("", "D"),
    ),
    (
        "full-width member_id",
        "members",
        {4: {"member_id": each("Ｄ")}},
        4,
        "member_id='Ｄ' " + normal("Ｄ", "D"),
    ),
    (
        "padded inviter_id",
        "members",
        {4: {"inviter_id": each(" C")}},
        4,
        "inviter_id=' C' " + normal("", "C"),
    ),
    (
        "padded tier",
        "members",
        {3: {"tier": each("pusher ")}},
        3,
        "tier='pusher ' " + normal("", "pusher"),
    ),
]
# Cells of the members file that the library (InviteTree.from_records) judges: the message is
# its own; the place and the value must be there.
LIBRARY_CASES = [
    (
        "float member_id",
        "members",
        {4: {"member_id": {".jsonl": 4.5, ".parquet": Typed(4.5, pa.float64())}}},
        4,
        "4.5",
    ),
    (
        "binary member_id",
        "members",
        {4: {"member_id": {".parquet": Typed(b"D", pa.binary())}}},
        4,
        "b'D'",
    ),
    ("null tier", "members", {2: {"tier": each(None)}}, 2, "tier"),
    ("bad status", "members", {2: {"status": each("asleep")}}, 2, "'asleep'"),
]


def crafted(cases):
    """One pytest case per (case, format the case can be written in)."""
    for name, file, changes, row, message in cases:
        formats = set.intersection(
            *(set(cell) for cells in changes.values() for cell in cells.values())
        )
        for suffix in sorted(formats):
            yield pytest.param(file, changes, row, message, suffix, id=f"{name}{suffix}")


def write(path, rows, columns, typed):
    """``rows`` to ``path``; in Parquet, the types of ``typed`` columns (other rows as null
    where their values do not fit the type)."""
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(
                [["" if row.get(c) is None else row[c] for c in columns] for row in rows]
            )
    elif path.suffix == ".jsonl":
        path.write_text(
            "".join(
                json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n"
                for row in rows
            ),
            encoding="utf-8",
        )
    else:
        arrays = {}
        for column in columns:
            values = [row.get(column) for row in rows]
            kind = typed.get(column)
            try:
                arrays[column] = pa.array(values, kind)
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                if kind is None:  # text where numbers were: a text column
                    arrays[column] = pa.array([None if v is None else str(v) for v in values])
                    continue
                arrays[column] = pa.array(
                    [v if isinstance(v, type(typed[column + "!"])) else None for v in values], kind
                )
        pq.write_table(pa.table(arrays), path)
    return path


def craft(tmp_path, file, changes, suffix):
    """The scenario in ``suffix`` with the cells of ``changes`` in ``file``; its paths."""
    data = {"members": [dict(r) for r in MEMBERS], "orders": [dict(r) for r in ORDERS]}
    typed = {}
    for row, cells in changes.items():
        for column, by_format in cells.items():
            cell = by_format[suffix]
            if isinstance(cell, Typed):
                typed[column], typed[column + "!"], cell = cell.kind, cell.value, cell.value
            data[file][row][column] = cell
    paths = scenario(tmp_path, suffix)
    write(paths["members"], data["members"], MEMBER_COLUMNS, typed if file == "members" else {})
    write(paths["orders"], data["orders"], ORDER_COLUMNS, typed if file == "orders" else {})
    return paths


def settle_crafted(tmp_path, capsys, file, changes, suffix):
    paths = craft(tmp_path, file, changes, suffix)
    code, out, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert (code, out) == (2, ""), err
    assert err.startswith("tuishou: error: bad input: ")
    assert "Traceback" not in err
    assert leftovers(tmp_path) == []
    cell = changes.get(next(iter(changes)), {})
    return paths[file], err, cell


def place(suffix, row):
    return {".csv": f"line {row + 2}", ".jsonl": f"line {row + 1}", ".parquet": f"row {row + 1}"}[
        suffix
    ]


@pytest.mark.parametrize(("file", "changes", "row", "message", "suffix"), list(crafted(CASES)))
def test_every_bad_cell_is_named_with_its_file_place_and_value(
    tmp_path, capsys, file, changes, row, message, suffix
):
    path, err, cells = settle_crafted(tmp_path, capsys, file, changes, suffix)
    first = next(iter(cells.values()))[suffix]
    expected = message.replace("{v}", repr(first))
    assert f"{path}, {place(suffix, row)}: {expected}\n" in err


@pytest.mark.parametrize(
    ("file", "changes", "row", "value", "suffix"), list(crafted(LIBRARY_CASES))
)
def test_cells_the_library_judges_are_named_with_their_place_and_value(
    tmp_path, capsys, file, changes, row, value, suffix
):
    path, err, _ = settle_crafted(tmp_path, capsys, file, changes, suffix)
    named = [line for line in err.splitlines() if f"{path}, {place(suffix, row)}" in line]
    assert named, err
    assert any(value in line for line in named), err


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_refused_id_is_not_reported_again_as_unknown(tmp_path, capsys, suffix):
    changes = {2: {"sharer_id": each(" B")}, 3: {"group": each("xiaomi ")}}
    _, err, _ = settle_crafted(tmp_path, capsys, "orders", changes, suffix)
    assert err.startswith("tuishou: error: bad input: 2 problem(s)\n"), err
    assert "is not a member" not in err
    assert "has no pool rate" not in err


def test_many_bad_cells_of_one_column_are_summarised(tmp_path, capsys, monkeypatch):
    """A Parquet column of the wrong type is named cell by cell, then counted."""
    from tuishou.io.files import Problems

    monkeypatch.setattr(Problems, "per_check", 3)
    orders = [{**ORDERS[3], "order_id": f"o-{i}"} for i in range(5)]
    paths = scenario(tmp_path, ".parquet", orders=orders)
    table = pq.read_table(paths["orders"])
    pq.write_table(table.set_column(5, "amount", pa.array([249.0] * 5)), paths["orders"])
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert err.splitlines()[0] == "tuishou: error: bad input: 4 problem(s)"
    assert f"{paths['orders']}, row 3: amount=249.0 is not a whole number of fen" in err
    assert (
        f"{paths['orders']}: 2 more row(s) like these, from row 4: amount=249.0 is not "
        "a whole number of fen" in err
    )


@pytest.mark.parametrize(
    ("file", "row", "cell", "message"),
    [
        ("roster", 1, {"member_id": " T1"}, "member_id=' T1' " + normal("", "T1")),
        ("roster", 2, {"inviter_id": "T1 "}, "inviter_id='T1 ' " + normal("", "T1")),
        (
            "mapping",
            0,
            {"tier": "senior_advisor "},
            "tier='senior_advisor ' " + normal("", "senior_advisor"),
        ),
    ],
)
def test_migration_files_follow_the_id_rule(tmp_path, capsys, file, row, cell, message):
    from test_cli_migrate import MAPPING, ROSTER, migrate

    rows = {"roster": [dict(r) for r in ROSTER], "mapping": [dict(r) for r in MAPPING]}
    rows[file][row].update(cell)
    code, _, err = migrate(
        tmp_path, capsys, "--attach-to", "A", roster=rows["roster"], mapping=rows["mapping"]
    )
    assert code == 2
    assert f"{tmp_path / file}.csv, line {row + 2}: {message}\n" in err
    assert not (tmp_path / "new_members.csv").exists()


def test_the_librarys_word_on_an_id_the_file_refused_is_not_repeated():
    """When the library also checks ids (``InviteTree.from_records``), its problem for a row
    the file's checks already named is not listed twice."""
    from pathlib import Path

    from tuishou.io.checks import check_ids
    from tuishou.io.files import Problems, Table
    from tuishou.io.inputs import MEMBER_COLUMNS, translate

    problems = Problems()
    table = Table(Path("m.csv"), 2, {"member_id": ["A", "D "]}, {}, lambda: [2, 3])
    check_ids(table, MEMBER_COLUMNS, problems)
    said = "member_id='D ' " + normal("", "D")
    translate(f"record 1 (member_id='D '): {said}", table, "record", problems, {})
    translate(
        "record 1 (member_id='D '): inviter_id='Q' is not a member", table, "record", problems, {}
    )
    assert problems.error().problems == (
        f"m.csv, line 3: {said}",
        "m.csv, line 3 (member_id='D '): inviter_id='Q' is not a member",
    )


@pytest.mark.parametrize("name", ["settle", "explain", "compare"])
@pytest.mark.parametrize(
    ("changes", "row", "message"),
    [
        (
            {1: {"amount": {".parquet": Typed(2**63, pa.uint64())}}},
            1,
            f"amount=9223372036854775808 is too large: {LIMIT}",
        ),
        (
            {2: {"buyer_id": {".parquet": "guest-1 "}}},
            2,
            "buyer_id='guest-1 ' " + normal("", "guest-1"),
        ),
    ],
)
def test_every_command_refuses_the_same_cells(tmp_path, capsys, name, changes, row, message):
    paths = craft(tmp_path, "orders", changes, ".parquet")
    argv = settle_args(paths, tmp_path / "payouts.csv")[1:]
    extra = {"settle": [], "explain": ["o-1001"], "compare": []}[name]
    code, out, err = run(capsys, name, *(argv if name == "settle" else argv[:-2]), *extra)
    assert (code, out) == (2, "")
    assert f"{paths['orders']}, {place('.parquet', row)}: {message}\n" in err


def test_a_roster_cell_of_the_wrong_type_is_named_with_its_value(tmp_path, capsys):
    from test_cli_migrate import MAPPING, MAPPING_COLUMNS

    paths = scenario(tmp_path)
    write(tmp_path / "mapping.csv", MAPPING, MAPPING_COLUMNS, {})
    pq.write_table(
        pa.table(
            {
                "member_id": ["T0", "T1"],
                "inviter_id": [None, "T0"],
                "platform": pa.array([1.5, 2.5]),
                "source_tier": ["高级顾问", "顾问"],
            }
        ),
        tmp_path / "roster.parquet",
    )
    code = main(
        [
            "migrate",
            "--members",
            str(paths["members"]),
            "--policy",
            str(paths["policy"]),
            "--roster",
            str(tmp_path / "roster.parquet"),
            "--mapping",
            str(tmp_path / "mapping.csv"),
            "--out",
            str(tmp_path / "new.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    for row, value in [(1, "1.5"), (2, "2.5")]:
        assert any(
            f"roster.parquet, row {row}: platform" in line and value in line
            for line in err.splitlines()
        ), err
    assert not (tmp_path / "new.csv").exists()


# Any value in any cell: a result or a refusal naming the file, never a traceback. Hypothesis
# crafts the values the table above did not think of, including what Python's json reads but
# no other JSON tool writes (RAW_JSON: literals written as they are).


class RawJson:
    """A JSON Lines cell written as this text, as it is (json.dumps cannot write it)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"RawJson({self.text[:40]!r})"


RAW_JSON = st.sampled_from(
    [
        "1" + "0" * 5000,
        "-" + "9" * 4301,
        "9" * 4300,
        "NaN",
        "Infinity",
        "-Infinity",
        "-0",
        "-0.0",
        "1e400",
        "-1e400",
        "1E-400",
        r'"o\ud800"',
        r'"\udc00x"',
        r'"\ud83d\ude00"',
        '{"a": {"b": [1, {"c": null}]}}',
        "[[[]]]",
        json.dumps("x" * 5000),
        '"\u0000"',
    ]
)
PYTHON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.text(st.characters(categories=["Cs", "Cc", "Zs", "Nd"]), max_size=4),  # surrogates...
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.none(), max_size=1),
    st.recursive(
        st.none() | st.integers(),
        lambda inner: (
            st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner, max_size=2)
        ),
        max_leaves=4,
    ),
)
JSON_VALUES = st.one_of(PYTHON_VALUES, RAW_JSON.map(RawJson))  # raw: half of the draws
ARROW_VALUES = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.binary(max_size=4),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6
    ),
    st.dates(),
)


def arrow_column(value, size):
    """A column holding ``value`` in its second row and nulls elsewhere, in ``value``'s type
    (uint64 where an int64 cannot hold it)."""
    kind = (
        pa.uint64()
        if isinstance(value, int) and not isinstance(value, bool) and value >= 2**63
        else None
    )
    return pa.array([None, value] + [None] * (size - 2), kind)


def json_line(row):
    """A row as a JSON line (ASCII: a lone surrogate is written as its escape)."""
    raw = {key: value.text for key, value in row.items() if isinstance(value, RawJson)}
    text = json.dumps({key: f"@@{key}@@" if key in raw else value for key, value in row.items()})
    for key, value in raw.items():
        text = text.replace(json.dumps(f"@@{key}@@"), value)
    return text + "\n"


FILES = {
    "orders": (ORDERS, ORDER_COLUMNS),
    "members": (MEMBERS, MEMBER_COLUMNS),
    "roster": (ROSTER, ROSTER_COLUMNS),
    "mapping": (MAPPING, MAPPING_COLUMNS),
}


@settings(max_examples=80, deadline=None)
@given(
    file=st.sampled_from(list(FILES)),
    data=st.data(),
    suffix=st.sampled_from([".jsonl", ".parquet"]),
)
def test_no_cell_gives_a_traceback(tmp_path_factory, file, data, suffix):
    folder = tmp_path_factory.mktemp("cell")
    paths = scenario(folder, suffix)
    for name in ("roster", "mapping"):
        paths[name] = write_rows(folder / f"{name}{suffix}", *FILES[name])
    rows, columns = FILES[file]
    column = data.draw(st.sampled_from(columns))
    if suffix == ".jsonl":
        rows = [dict(row) for row in rows]
        rows[1][column] = data.draw(JSON_VALUES)
        paths[file].write_text("".join(json_line(row) for row in rows))
    else:
        table = pq.read_table(paths[file])
        index = table.column_names.index(column)
        column_values = arrow_column(data.draw(ARROW_VALUES), table.num_rows)
        pq.write_table(table.set_column(index, column, column_values), paths[file])
    out = folder / "out.csv"
    argv = settle_args(paths, out) if file in ("orders", "members") else migrate_args(paths, out)
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(argv)
    assert code in (0, 2), err.getvalue()
    if code == 2:
        assert err.getvalue().startswith("tuishou: error: bad input: "), err.getvalue()
        named = [paths[file]] if file != "mapping" else [paths["mapping"], paths["roster"]]
        assert any(str(path) in err.getvalue() for path in named)  # unmapped: the roster's line
        assert len(err.getvalue()) < 5000, err.getvalue()[:5000]  # long values shortened
        assert not out.exists()


@pytest.mark.parametrize(
    ("row", "column", "says"),
    [
        (1, "buyer_id", "differs from the order's first line"),
        (2, "sharer_id", "is not a member"),
        (3, "group", "has no pool rate"),
    ],
)
def test_a_long_value_is_shortened_in_every_check(tmp_path, capsys, row, column, says):
    """A 200-character buyer, sharer or group (the longest id; a longer one is refused as
    too long, also shortened) is named shortened, by every check that names it (one order,
    one sharer, known groups), not written out whole."""
    orders = [dict(r) for r in ORDERS]
    orders[row][column] = "x" * 200
    paths = scenario(tmp_path, ".jsonl", orders=orders)
    code, out, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert (code, out) == (2, "")
    assert f"orders.jsonl, line {row + 1}: {column}='xxx" in err
    assert f"(200 characters) {says}" in err
    assert len(err) < 1000, err[:1000]
