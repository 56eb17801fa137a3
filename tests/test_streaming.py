"""The command line reads orders in chunks of whole orders: same payouts as the whole file,
contiguous orders checked, every problem of every chunk reported with nothing written or
posted, a progress bar on a terminal only."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from cli_support import (
    MEMBER_COLUMNS,
    ORDER_COLUMNS,
    ORDERS,
    PAYOUTS,
    leftovers,
    read_payouts,
    run,
    scenario,
    settle_args,
    write_rows,
)
from test_cli_ledger import history, post_args
from tuishou.cli import demo
from tuishou.cli.report import RowsBar
from tuishou.engine.batch import settle_batch
from tuishou.io.cells import Column
from tuishou.io.chunks import OrdersFile
from tuishou.io.files import DataFile, Problems

from helpers import examples

FORMATS = [".csv", ".parquet", ".jsonl"]


@pytest.fixture(scope="module")
def small_tree():
    tree = demo.example_tree(size=40, seed=5)
    members = [{key: record[key] for key in MEMBER_COLUMNS} for record in tree.to_records()]
    return tree, members


def _lines(tree, count, seed):
    orders = demo.example_orders(tree, count=count, seed=seed)
    return [
        {
            "order_id": o.order_id,
            "buyer_id": o.buyer_id,
            "sharer_id": o.sharer_id,
            "sku": line.sku,
            "group": line.group,
            "amount": line.amount,
            "quantity": line.quantity,
        }
        for o in orders
        for line in o.lines
    ]


@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    suffix=st.sampled_from(FORMATS),
    out_suffix=st.sampled_from(FORMATS),
    count=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    chunk=st.integers(1, 7),
)
def test_chunked_gives_what_settle_batch_gives_on_the_whole_file(
    capsys, small_tree, suffix, out_suffix, count, seed, chunk
):
    tree, members = small_tree
    lines = _lines(tree, count, seed)
    columns = {name: [line[name] for line in lines] for name in ORDER_COLUMNS}
    expected = settle_batch(demo.example_policy(), tree, columns).payouts.rows()
    with tempfile.TemporaryDirectory() as folder:
        paths = scenario(Path(folder), suffix, members=members, orders=lines)
        out = Path(folder) / f"payouts{out_suffix}"
        code, _, err = run(capsys, *settle_args(paths, out), "--chunk-lines", str(chunk))
        assert code == 0, err
        assert read_payouts(out) == expected


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("chunk", [1, 2])
def test_chunks_are_whole_orders_placed_in_the_whole_file(tmp_path, suffix, chunk):
    rows = [{"order_id": order, "amount": 1} for order in "aaaabcc"]
    path = tmp_path / f"o{suffix}"
    write_rows(path, rows, ("order_id", "amount"))
    file = OrdersFile(DataFile.of(path), chunk_lines=chunk)
    columns = [Column("order_id"), Column("amount", "integer")]
    tables = list(file.tables(columns, Problems()))
    assert [t.columns["order_id"].to_pylist() for t in tables] == [["a"] * 4, ["b"], ["c", "c"]]
    first_line = 2 if suffix == ".csv" else 1
    places = [t.where(0) for t in tables]
    unit = "row" if suffix == ".parquet" else "line"
    assert places == [f"{unit} {first_line + n}" for n in (0, 4, 5)]


def _interleaved():
    """The README's orders with o-1001's two lines apart: o-1001, o-1002, o-1001, ..."""
    first, second, *rest = ORDERS
    return [first, rest[0], second, *rest[1:]]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_an_order_split_in_the_file_is_refused_at_its_first_line_again(
    tmp_path, capsys, suffix, chunk
):
    paths = scenario(tmp_path, suffix, orders=_interleaved())
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out), "--chunk-lines", str(chunk))
    assert code == 2
    again, first = {".csv": ("line 4", "line 2"), ".jsonl": ("line 3", "line 1")}.get(
        suffix, ("row 3", "row 1")
    )
    assert f"{paths['orders']}, {again}: order_id='o-1001' was seen before, at {first}" in err
    assert "sort it by order_id" in err
    assert not out.exists()
    assert leftovers(tmp_path) == []


def _many_orders(count):
    return [
        {
            "order_id": f"o-{n:04}",
            "buyer_id": "guest",
            "sharer_id": "B",
            "sku": "band",
            "group": "xiaomi",
            "amount": 1000 + n,
            "quantity": 1,
        }
        for n in range(count)
    ]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_problems_in_the_first_and_last_chunks_refuse_the_run_and_write_nothing(
    tmp_path, capsys, suffix
):
    orders = _many_orders(10)
    orders[1]["sharer_id"] = "nobody"
    orders[-1]["amount"] = -5
    paths = scenario(tmp_path, suffix, orders=orders)
    out = tmp_path / "payouts.parquet"
    out.write_bytes(b"yesterday's")
    code, _, err = run(capsys, *settle_args(paths, out), "--chunk-lines", "3")
    assert code == 2
    header = 1 if suffix == ".csv" else 0
    assert f"{paths['orders']}, line {2 + header}: sharer_id='nobody'" in err
    assert f"{paths['orders']}, line {10 + header}: amount=-5" in err
    assert err.index("sharer_id='nobody'") < err.index("amount=-5")  # in file order
    assert out.read_bytes() == b"yesterday's"
    assert leftovers(tmp_path, out.name) == []


def test_a_problem_in_the_last_parquet_chunk_is_placed_by_its_row(tmp_path, capsys):
    orders = _many_orders(7)
    orders[-1]["group"] = "cars"
    paths = scenario(tmp_path, ".parquet", orders=orders)
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out), "--chunk-lines", "2")
    assert code == 2
    assert f"{paths['orders']}, row 7: group='cars'" in err
    assert not out.exists()


@pytest.mark.parametrize("terminal", [True, False])
def test_the_bar_by_rows_is_shown_on_a_terminal_only(terminal):
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=terminal, width=100)
    with RowsBar.shown(console, "settling", 3_000, "lines") as bar:
        bar.update(3_000, 3_000)
    assert (bar.progress is not None) is terminal
    assert ("settling" in screen.getvalue()) is terminal
    assert ("3,000/3,000 lines" in screen.getvalue()) is terminal


def test_settle_shows_the_bar_by_rows_on_a_terminal(tmp_path, capsys, monkeypatch):
    from tuishou.cli import app as cli_app

    paths = scenario(tmp_path, ".parquet")
    monkeypatch.setattr(cli_app, "LONG_INPUT", 0)
    monkeypatch.setattr(cli_app, "Console", lambda **kw: Console(force_terminal=True, **kw))
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "p.csv"), "--chunk-lines", "1")
    assert code == 0
    assert "4/4 lines" in err  # Parquet: rows known from its metadata


def test_ledger_post_posts_nothing_when_a_late_chunk_is_bad(tmp_path, capsys):
    good = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, good))[0] == 0
    before = history(ledger)
    orders = _many_orders(9)
    orders[-1]["amount"] = "12.5"
    (tmp_path / "bad").mkdir()
    bad = scenario(tmp_path / "bad", orders=orders)
    code, _, err = run(capsys, *post_args(ledger, bad, "--chunk-lines", "2"))
    assert code == 2
    assert f"{bad['orders']}, line 10: amount='12.5'" in err
    assert history(ledger) == before


def test_ledger_post_posts_chunk_by_chunk_and_tells_the_throughput(tmp_path, capsys):
    paths = scenario(tmp_path, orders=_many_orders(9))
    ledger = tmp_path / "ledger.db"
    code, out, err = run(capsys, *post_args(ledger, paths, "--chunk-lines", "2", "--progress"))
    assert code == 0, err
    assert out.startswith("posted 9 order(s) to ")
    assert "9 line(s), 9 order(s) in " in err
    assert "lines/s" in err
    code, out, _ = run(capsys, *post_args(ledger, paths, "--chunk-lines", "4"))
    assert (code, out.split(":")[-1].strip()) == (0, "0 payout row(s), 0 entries; 9 already posted")


def test_the_payouts_table_is_written_as_one_parquet_file(tmp_path, capsys):
    paths = scenario(tmp_path)
    out = tmp_path / "payouts.parquet"
    assert run(capsys, *settle_args(paths, out), "--chunk-lines", "1")[0] == 0
    table = pq.read_table(out)
    assert table.num_rows == len(PAYOUTS)
    assert pa.types.is_dictionary(table.schema.field("member_id").type)
