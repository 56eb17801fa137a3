"""``tuishou settle`` end to end on files: every format, the summary, atomic output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_support import (
    MEMBER_COLUMNS,
    ORDER_COLUMNS,
    PAYOUTS,
    leftovers,
    read_payouts,
    run,
    scenario,
    settle_args,
    write_rows,
)
from tuishou.cli import demo
from tuishou.engine.batch import settle_batch
from tuishou.io import output as file_output

FORMATS = [".csv", ".parquet", ".jsonl"]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("out_suffix", FORMATS)
def test_settle_writes_one_row_per_payout_in_every_format(tmp_path, capsys, suffix, out_suffix):
    paths = scenario(tmp_path, suffix)
    out = tmp_path / f"payouts{out_suffix}"
    code, stdout, _ = run(capsys, *settle_args(paths, out))
    assert (code, stdout) == (0, "")
    assert read_payouts(out) == PAYOUTS
    assert leftovers(tmp_path, out.name) == []


def test_the_summary_on_stderr_gives_the_totals(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    lines = [" ".join(line.split()) for line in err.splitlines()]
    assert code == 0
    for expected in [
        "Settled under policy 'youpin-tuishou'",
        "orders 3",
        "lines 4",
        "pool ¥114.85",
        "paid ¥81.92",
        "retained ¥32.93",
        "payout ratio 71.33% of the pool",
        "members paid 5",
        "payouts 7 row(s)",
        "no seller 1 order(s): guest or root buyers, pool retained",
    ]:
        assert expected in lines
    assert any(line.startswith("time ") and line.endswith(" s") for line in lines)
    assert str(tmp_path / "payouts.csv") in "".join(err.split())  # a long path may wrap


@pytest.fixture(scope="module")
def generated():
    """Example data large enough for every rule, guests, sharers and suspended members."""
    tree = demo.example_tree(size=300, seed=3)
    orders = demo.example_orders(tree, count=1500, seed=3)
    members = [{key: record[key] for key in MEMBER_COLUMNS} for record in tree.to_records()]
    lines = [
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
    columns = {name: [line[name] for line in lines] for name in ORDER_COLUMNS}
    expected = settle_batch(demo.example_policy(), tree, columns).payouts.rows()
    return members, lines, expected


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_gives_what_settle_batch_gives(tmp_path, capsys, generated, suffix):
    members, lines, expected = generated
    paths = scenario(tmp_path, suffix, members=members, orders=lines)
    out = tmp_path / f"payouts{suffix}"
    assert run(capsys, *settle_args(paths, out))[0] == 0
    assert read_payouts(out) == expected
    assert len(expected) > 1000


def test_the_progress_bar_changes_nothing_but_the_screen(tmp_path, capsys, monkeypatch):
    from rich.console import Console

    from tuishou.cli import app as cli_app

    paths = scenario(tmp_path)
    assert run(capsys, *settle_args(paths, tmp_path / "plain.csv"))[0] == 0
    monkeypatch.setattr(cli_app, "LONG_INPUT", 0)
    monkeypatch.setattr(cli_app, "Console", lambda **kw: Console(force_terminal=True, **kw))
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "bar.csv"))
    assert code == 0
    assert "settling" in err
    assert "100%" in err
    assert (tmp_path / "bar.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()


def test_a_failure_while_writing_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    paths = scenario(tmp_path)
    out = tmp_path / "payouts.csv"
    out.write_text("yesterday's payouts\n")

    def half_then_fail(appender, table):
        appender._file.write(b"order_id,member_id\no-1001,")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(file_output.Appender, "write", half_then_fail)
    code, _, err = run(capsys, *settle_args(paths, out))
    assert (code, err) == (1, "tuishou: error: [Errno 28] No space left on device\n")
    assert out.read_text() == "yesterday's payouts\n"  # untouched: replaced only on success
    assert leftovers(tmp_path, out.name) == []


def test_an_interrupt_while_writing_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    paths = scenario(tmp_path)

    def interrupted(appender, table):
        appender._file.write(b"order_id")
        raise KeyboardInterrupt

    monkeypatch.setattr(file_output.Appender, "write", interrupted)
    assert run(capsys, *settle_args(paths, tmp_path / "payouts.parquet"))[0] == 1
    assert leftovers(tmp_path) == []


def test_the_output_keeps_the_usual_permissions(tmp_path, capsys):
    paths = scenario(tmp_path)
    out = tmp_path / "payouts.csv"
    assert run(capsys, *settle_args(paths, out))[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_ids_with_commas_and_quotes_survive_csv(tmp_path, capsys):
    members = [{"member_id": 'Li, "Lee"', "inviter_id": None, "tier": "mentor"}]
    orders = [
        {
            "order_id": "o,1",
            "buyer_id": 'Li, "Lee"',
            "sku": "s",
            "group": "xiaomi",
            "amount": 1000,
            "quantity": 1,
        }
    ]
    paths = scenario(tmp_path, members=members, orders=orders)
    out = tmp_path / "payouts.csv"
    assert run(capsys, *settle_args(paths, out))[0] == 0
    assert read_payouts(out) == [("o,1", 'Li, "Lee"', "differential", "differential", 0, 32)]


def test_integer_ids_in_typed_files_are_read_as_text(tmp_path, capsys):
    members = [{"member_id": 7, "inviter_id": None, "tier": "mentor"}]
    orders = [{"order_id": 1001, "buyer_id": 7, "sku": "s", "group": "xiaomi", "amount": 1000}]
    paths = scenario(tmp_path, ".jsonl", members=members, orders=orders)
    out = tmp_path / "payouts.jsonl"
    assert run(capsys, *settle_args(paths, out))[0] == 0
    assert read_payouts(out) == [("1001", "7", "differential", "differential", 0, 32)]


def test_quoted_line_breaks_do_not_confuse_line_numbers(tmp_path, capsys):
    orders = [
        {
            "order_id": "o-1",
            "buyer_id": "D",
            "sku": "two\nlines",
            "group": "xiaomi",
            "amount": 100,
            "quantity": 1,
        },
        {
            "order_id": "o-2",
            "buyer_id": "D",
            "sku": "s",
            "group": "xiaomi",
            "amount": "1.5",
            "quantity": 1,
        },
    ]
    paths = scenario(tmp_path, orders=orders)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert f"{paths['orders']}, line 4: amount='1.5' is not a whole number of fen" in err


def test_the_console_script_runs_in_a_fresh_process(tmp_path):
    paths = scenario(tmp_path)
    script = Path(sys.executable).with_name("tuishou")
    done = subprocess.run(
        [str(script), *settle_args(paths, tmp_path / "payouts.csv")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert read_payouts(tmp_path / "payouts.csv") == PAYOUTS
    write_rows(
        paths["orders"],
        [{"order_id": "o-1", "sku": "s", "group": "xiaomi", "amount": "12.5"}],
        ORDER_COLUMNS,
    )
    bad = subprocess.run(
        [str(script), *settle_args(paths, tmp_path / "again.csv")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "line 2: amount='12.5' is not a whole number of fen" in bad.stderr
    assert not (tmp_path / "again.csv").exists()


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_orders_file_without_rows_gives_an_empty_payouts_file(tmp_path, capsys, suffix):
    paths = scenario(tmp_path, suffix)
    write_rows(paths["orders"], [], ORDER_COLUMNS)
    if suffix == ".parquet":  # a table from no rows has no types: give the real ones
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(
            pa.table(
                {
                    name: pa.array(
                        [], pa.int64() if name in ("amount", "quantity") else pa.string()
                    )
                    for name in ORDER_COLUMNS
                }
            ),
            paths["orders"],
        )
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out))
    assert code == 0
    assert out.read_text() == "order_id,member_id,rule,kind,generation,amount\n"
    assert "payout ratio  -" in err


def test_a_row_the_engine_still_refuses_is_named_by_its_line(tmp_path, capsys, monkeypatch):
    from tuishou import InvalidOrderError
    from tuishou.engine import batch as engine

    def refuse(policy, tree, orders, **options):
        raise InvalidOrderError("column 'amount' must be >= 0: row(s) 0, 2")

    monkeypatch.setattr(engine, "settle_batch", refuse)
    paths = scenario(tmp_path)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    assert err == (f"tuishou: error: {paths['orders']}: column 'amount' must be >= 0: lines 2, 4\n")


def test_a_spreadsheet_csv_with_a_bom_and_crlf_is_read(tmp_path, capsys):
    paths = scenario(tmp_path)
    text = paths["orders"].read_text(encoding="utf-8")
    paths["orders"].write_text(text.replace("\n", "\r\n"), encoding="utf-8-sig")
    out = tmp_path / "payouts.csv"
    assert run(capsys, *settle_args(paths, out))[0] == 0
    assert read_payouts(out) == PAYOUTS


def test_a_padded_header_is_refused_naming_the_exact_names(tmp_path, capsys):
    """Column names are exact, as the library's columns are (docs/cli.md): a padded header
    is refused, naming each column's exact name; the BOM is no part of the first name."""
    paths = scenario(tmp_path)
    text = paths["orders"].read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    paths["orders"].write_text(", ".join(header.split(",")) + "\n" + rest, encoding="utf-8-sig")
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out))
    assert code == 2
    for name in ("buyer_id", "sharer_id", "sku", "group", "amount", "quantity"):
        assert f"column ' {name}' has blanks around its name; name it exactly {name!r}" in err
    assert "'order_id' has" not in err
    assert "missing column" not in err  # said once: as padded
    assert not out.exists()
