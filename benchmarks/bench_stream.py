"""Peak memory of ``tuishou settle`` on Parquet files of 1M and 10M order lines over 1M members.

Writes the files once (the trees and lines of ``bench_engine.py``: string ids, order ids as
text, sorted by order), then runs the command line in a child process per case and reads its
peak RSS with ``os.wait4`` (that child's own ``ru_maxrss``). Cases: the default chunk size,
and the whole file as one chunk (``--chunk-lines`` above the file's lines: what the command
line held before it streamed).
Every run's payouts are compared with the first run's on the same file.

    .venv/bin/python benchmarks/bench_stream.py              # 1M members; 1M and 10M lines
    .venv/bin/python benchmarks/bench_stream.py --small      # 100k members; 100k and 1M lines
    .venv/bin/python benchmarks/bench_stream.py --no-whole   # skip the one-chunk baseline
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
import bench_engine

POLICY = Path(str(files("tuishou") / "data" / "youpin.toml"))


def write_inputs(folder: Path, members: int, lines: list[int]) -> dict[int, Path]:
    """members.parquet and one orders file per line count; their paths by line count."""
    rng = np.random.default_rng(7)
    tree, ids = bench_engine.build_tree(members, rng)
    keys = ("member_id", "inviter_id", "tier", "status")
    records = [{key: record[key] for key in keys} for record in tree.to_records()]
    pq.write_table(pa.Table.from_pylist(records), folder / "members.parquet")
    paths = {}
    for count in lines:
        table = pa.Table.from_pandas(
            bench_engine.generate_lines(ids, count, rng), preserve_index=False
        )
        plain = {
            name: column.cast(column.type.value_type)
            if pa.types.is_dictionary(column.type)
            else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
        plain["order_id"] = plain["order_id"].cast(pa.string())
        paths[count] = folder / f"orders-{count}.parquet"
        pq.write_table(pa.table(plain), paths[count], row_group_size=1 << 20)
    return paths


def peak_of(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in GiB) of a child process that must succeed: ``os.wait4`` gives
    that child's own resource usage (``RUSAGE_CHILDREN`` would be the largest child so far)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    return time.perf_counter() - started, usage.ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100k members; 100k, 1M lines")
    parser.add_argument("--no-whole", action="store_true", help="skip the one-chunk runs")
    args = parser.parse_args()
    members, lines = (100_000, [100_000, 1_000_000]) if args.small else (10**6, [10**6, 10**7])
    tuishou = [sys.executable, "-m", "tuishou"]
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as name:
        folder = Path(name)
        paths = write_inputs(folder, members, lines)
        print(f"{members:,} members; peak RSS of tuishou settle (Parquet in, Parquet out)")
        for count, orders in paths.items():
            cases = [("default chunks", [])]
            if not args.no_whole:
                cases.append(("one chunk (whole file)", ["--chunk-lines", str(count + 1)]))
            first = None
            for label, extra in cases:
                out = folder / f"payouts-{count}-{len(extra)}.parquet"
                command = [
                    *tuishou,
                    "settle",
                    "--policy",
                    str(POLICY),
                    "--members",
                    str(folder / "members.parquet"),
                    "--orders",
                    str(orders),
                    "--out",
                    str(out),
                    *extra,
                ]
                seconds, peak = peak_of(command)
                payouts = pq.read_table(out)
                same = "" if first is None else f", same payouts: {payouts.equals(first)}"
                first = payouts if first is None else first
                print(f"  {count:>12,} lines, {label:<24} {peak:5.2f} GiB  {seconds:6.1f} s{same}")


if __name__ == "__main__":
    main()
