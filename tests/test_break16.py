"""Defects found by breaking the issue 16 work (string ids, int ids, streaming, Parquet
output): each test fails on the code as it was handed over and names what should hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_support import run, scenario, settle_args

pytest.importorskip("pyarrow")


def _line(order_id, **changes):
    return {
        "order_id": order_id,
        "buyer_id": "D",
        "sharer_id": None,
        "sku": "phone",
        "group": "xiaomi",
        "amount": 1000,
        "quantity": 1,
        **changes,
    }


@pytest.mark.parametrize(
    ("suffix", "place", "seen"),
    [(".csv", "line 6", "line 4"), (".jsonl", "line 5", "line 3"), (".parquet", "row 5", "row 3")],
)
@pytest.mark.parametrize("chunk", ["2", "100"])
def test_the_first_offending_line_is_named_whatever_the_chunks(
    capsys, tmp_path: Path, suffix, place, seen, chunk
):
    # a, x, b, y | b (seen in chunk 2), a (seen in chunk 1): the first offending line is the
    # second run of b; with two-line chunks the check probed chunk 1 first and named a.
    orders = [_line(o) for o in ("a", "x", "b", "y", "b", "a")]
    paths = scenario(tmp_path, suffix, orders=orders)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "out.csv"), "--chunk-lines", chunk)
    assert code == 2
    assert f"{place}: order_id='b' was seen before, at {seen}" in err


# ------------------------------------------- ledger post: a late chunk refused after posting

PAID = ("order_id", "buyer_id", "sharer_id", "sku", "group", "amount", "quantity", "paid_at")


def _posted_before(tmp_path: Path, capsys, rows):
    """A ledger with ``rows`` posted, and the README scenario beside it."""
    from cli_support import ORDER_COLUMNS, write_rows
    from test_cli_ledger import post_args

    paths = scenario(tmp_path, ".csv")
    first = write_rows(tmp_path / "first.csv", rows, ORDER_COLUMNS)
    code, _, err = run(capsys, *post_args(tmp_path / "l.db", {**paths, "orders": first}))
    assert code == 0, err
    return paths


@pytest.mark.parametrize("chunk", ["1", "1000"])
def test_ledger_post_posts_nothing_when_a_late_order_is_paid_after_at(capsys, tmp_path, chunk):
    # o-1003 (the last chunk) is paid after --at: post_batch refuses that chunk in pass 2,
    # after o-1001 and o-1002 were posted, and the message says "nothing was posted".
    from cli_support import ORDERS, write_rows
    from test_cli_ledger import history, post_args

    paths = _posted_before(tmp_path, capsys, [{**ORDERS[0], "order_id": "o-0999"}])
    rows = [{**r, "paid_at": "2026-11-01T09:00:00"} for r in ORDERS]
    rows[-1]["paid_at"] = "2026-11-02T09:00:00"
    write_rows(paths["orders"], rows, PAID)
    before = history(tmp_path / "l.db")
    code, _, err = run(capsys, *post_args(tmp_path / "l.db", paths, "--chunk-lines", chunk))
    assert code == 2
    assert "'o-1003'" in err
    assert history(tmp_path / "l.db") == before


@pytest.mark.parametrize("chunk", ["1", "1000"])
def test_ledger_post_posts_nothing_when_a_late_order_was_posted_differently(
    capsys, tmp_path, chunk
):
    from cli_support import ORDERS
    from test_cli_ledger import history, post_args

    changed = [{**r, "amount": r["amount"] + 1} for r in ORDERS if r["order_id"] == "o-1003"]
    paths = _posted_before(tmp_path, capsys, changed)
    before = history(tmp_path / "l.db")
    code, _, err = run(capsys, *post_args(tmp_path / "l.db", paths, "--chunk-lines", chunk))
    assert code == 2
    assert "already posted with a different settlement: 'o-1003'" in err
    assert history(tmp_path / "l.db") == before


# ------------------------------------------------------------------------- Parquet output


def test_write_table_takes_an_all_null_dictionary_column_with_an_empty_dictionary(tmp_path):
    # what pyarrow makes of an all-NaN pandas categorical: _compact_column indexed an empty
    # renumbering with the nulls' filler code 0 (IndexError)
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tuishou.io.output import write_table

    column = pa.DictionaryArray.from_arrays(
        pa.array([None, None], pa.int32()), pa.array([], pa.string())
    )
    write_table(pa.table({"m": column, "n": [1, 2]}), tmp_path / "x.parquet")
    assert pq.read_table(tmp_path / "x.parquet").column("m").to_pylist() == [None, None]


@pytest.mark.parametrize("chunk", ["1", "100"])
def test_payouts_of_an_orders_file_with_only_a_header_keep_text_order_ids(capsys, tmp_path, chunk):
    # the empty run's payouts Parquet typed order_id as Arrow null (no values seen), so the
    # file no longer matches the schema of every other day's payouts
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = scenario(tmp_path, ".csv")
    paths["orders"].write_text("order_id,buyer_id,sharer_id,sku,group,amount,quantity\n")
    out = tmp_path / "out.parquet"
    code, _, err = run(capsys, *settle_args(paths, out), "--chunk-lines", chunk)
    assert code == 0, err
    kind = pq.read_schema(out).field("order_id").type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    assert pa.types.is_string(kind) or pa.types.is_large_string(kind), kind


# ------------------------------------------------------------------------------- int ids


def _int_case():
    import numpy as np
    import pandas as pd

    from tuishou import InviteTree

    from helpers import policy

    tree = InviteTree.from_arrays(np.array([1, 2, 3]), [None, 1, 2], ["member"] * 3)
    chosen = policy(group_rates={"g": "0.1"}, rules=[{"kind": "seller", "rates": {"member": "1"}}])
    lines = {
        "order_id": [10, 10, 11, 12],
        "buyer_id": pd.array([3, 3, None, 77], dtype="Int64"),
        "sharer_id": pd.array([None, None, 2, None], dtype="Int64"),
        "sku": ["s"] * 4,
        "group": ["g"] * 4,
        "amount": [100, 200, 300, 400],
    }
    return chosen, tree, lines


@pytest.mark.parametrize("container", ["Categorical", "CategoricalIndex"])
def test_a_bare_pandas_categorical_of_int_ids_with_empty_cells_is_read_as_ints(container):
    # pd.Categorical([None, None, 2, None]) has int64 categories, but it is no Series (no
    # .cat), so it went through numpy: a float array, refused as "2.0 is a float"
    pd = pytest.importorskip("pandas")
    from tuishou.engine.batch import settle_batch

    chosen, tree, lines = _int_case()
    expected = settle_batch(chosen, tree, lines).payouts.rows()
    wrap = getattr(pd, container)
    given = {**lines, "buyer_id": wrap([3, 3, None, 77]), "sharer_id": wrap([None, None, 2, None])}
    assert settle_batch(chosen, tree, given).payouts.rows() == expected


def test_settle_dask_keeps_int_sellers_as_ints_across_partitions():
    # a partition whose orders all have a seller gave numpy int64, one with an order without
    # a seller int64[pyarrow]; the meta says object, and the computed column is object
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.batch import settle_batch
    from tuishou.engine.dask import settle_dask

    chosen, tree, lines = _int_case()
    expected = settle_batch(chosen, tree, lines).orders.to_pandas().seller_id.dtype
    assert expected == pd.ArrowDtype(pa.int64())
    frame = pd.DataFrame(lines)
    settled = settle_dask(chosen, tree, dd.from_pandas(frame, npartitions=2))
    orders = settled.orders.compute()
    assert orders.seller_id.tolist()[:2] == [2, 2]
    assert orders.seller_id.dtype == expected
    assert settled.orders.dtypes["seller_id"] == expected


# ------------------------------------------------------------ JSON Lines: cut on raw values


@pytest.mark.parametrize("chunk", ["1", "100"])
def test_a_json_order_id_written_as_a_number_and_as_text_is_one_order_in_any_chunks(
    capsys, tmp_path, chunk
):
    # the whole file reads 1 and "1" as the order '1'; the chunks were cut on the raw JSON
    # values (1 != "1"), so with one-line chunks the second line was "seen before"
    from cli_support import read_payouts

    lines = [_line(1), _line("1"), _line("2")]
    paths = scenario(tmp_path, ".jsonl", orders=lines)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "out.csv"), "--chunk-lines", chunk)
    assert code == 0, err
    assert {row[0] for row in read_payouts(tmp_path / "out.csv")} == {"1", "2"}


# ------------------------------------------------------------------ trees from int columns


def test_a_tree_member_beyond_int64_is_refused_or_found_by_its_int():
    # from_arrays took a uint64 id 2**63 and stored '9223372036854775808'; lines refuse that
    # int ("beyond int64"), so the member can never be found by it: refuse it in the tree
    # as in the lines (or find it)
    np = pytest.importorskip("numpy")
    from tuishou import InvalidOrderError, InvalidTreeError, InviteTree
    from tuishou.engine.batch import settle_batch

    from helpers import policy

    big = 2**63
    try:
        tree = InviteTree.from_arrays(np.array([1, big], dtype=np.uint64), [None, 1], ["m", "m"])
    except InvalidTreeError as exc:
        refused = str(exc)
    else:
        refused = None
    if refused is not None:
        assert "beyond int64" in refused
        return
    chosen = policy(
        tiers=["m"], group_rates={"g": "0.1"}, rules=[{"kind": "seller", "rates": {"m": "1"}}]
    )
    lines = {
        "order_id": ["o1"],
        "buyer_id": [None],
        "sharer_id": np.array([big], dtype=np.uint64),
        "sku": ["s"],
        "group": ["g"],
        "amount": [100],
    }
    try:
        rows = settle_batch(chosen, tree, lines).payouts.rows()
    except InvalidOrderError as exc:
        pytest.fail(f"the tree holds member {big} but lines cannot name it: {exc}")
    assert [row[1] for row in rows] == [big]


def test_int_inviters_are_taken_beside_text_members_as_text_inviters_beside_int_members():
    # from_arrays(ints, texts) works, from_arrays(texts, ints) refused each int inviter with
    # "must be a non-empty string"
    np = pytest.importorskip("numpy")
    from tuishou import InviteTree

    tiers = ["m"] * 3
    ints_then_text = InviteTree.from_arrays(np.array([1, 2, 3]), [None, "1", "2"], tiers)
    text_then_ints = InviteTree.from_arrays(["1", "2", "3"], [None, 1, 2], tiers)
    assert text_then_ints.upline("3") == ints_then_text.upline("3") == ["2", "1"]


# ------------------------------------------------------ many problems: counted as a whole file


def _problems(path: Path, chunk: int):
    from cli_support import MEMBERS, POLICY
    from tuishou.io.chunks import OrdersFile
    from tuishou.io.files import DataFile
    from tuishou.io.order_stream import StreamProblems, checked_chunks
    from tuishou.io.policy_file import load_policy

    problems = StreamProblems()
    source = OrdersFile(DataFile.of(path), chunk_lines=chunk)
    ids = {m["member_id"] for m in MEMBERS}
    for _ in checked_chunks(
        source, member_ids=ids, policies=[load_policy(POLICY)], problems=problems
    ):
        pass
    return problems.error().problems


@pytest.mark.parametrize("chunk", [100, 1000])
def test_a_file_with_many_bad_lines_is_reported_as_the_whole_file_is(tmp_path, chunk):
    # 1,500 negative amounts. Whole file: 100 lines named and "1,400 more row(s) like these".
    # In chunks of 100 the cap applied per chunk: 1,000 lines named, then reading stopped,
    # and nothing said the last 500 lines were bad too (chunks of 1,000: 2 x 101 problems).
    path = tmp_path / "orders.csv"
    header = "order_id,buyer_id,sharer_id,sku,group,amount,quantity\n"
    path.write_text(header + "".join(f"o{i:05d},D,,phone,xiaomi,-{i + 1},1\n" for i in range(1500)))
    whole = _problems(path, 100_000)
    assert any("1,400 more row(s) like these" in p for p in whole)
    assert _problems(path, chunk) == whole
