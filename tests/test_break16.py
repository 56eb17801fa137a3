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
