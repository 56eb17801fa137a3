"""Benchmark ``tuishou.analysis.compare.compare`` (two policies) against the per-order path.

Generates the same kind of data as ``bench_engine.py`` (deterministic, ``--seed``):
``--members`` members (default 100 000) and ``--orders`` orders (default 1 000 000,
1-3 lines each), then times, best of ``--repeat`` after a warm-up:

1. ``compare({"current": youpin, "proposal": ecosystem 25 %}, tree, lines)``: every table
   of the comparison, on every order;
2. what one would write without it: ``settle_many`` per policy and the per-member sums in
   Python dicts, on a sample of ``--sample`` orders, extrapolated (clearly labelled).

Before reporting, it checks on the sample that ``compare``'s per-member payouts equal the
per-order path's, and exits with status 1 if they do not.

    .venv/bin/python benchmarks/bench_compare.py [--members N] [--orders N] [--sample N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bench_engine import best_of, build_tree, generate_lines, policies, sample_orders
from bench_settle import member_totals
from tuishou import settle_many
from tuishou.analysis.compare import compare, replace
from tuishou.orders import order_columns

LINES_PER_ORDER = 2  # generate_lines draws 1-3 lines per order


def per_order_totals(labelled: dict, tree, orders) -> dict[str, dict[str, int]]:
    """The per-order path: settle every order under each policy, sum per member."""
    return {
        label: member_totals(settle_many(policy, tree, orders))
        for label, policy in labelled.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, metavar="N")
    parser.add_argument("--orders", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--sample", type=int, default=20_000, metavar="N")
    parser.add_argument("--seed", type=int, default=7, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="N")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    tree, ids = build_tree(args.members, rng)
    lines = generate_lines(ids, args.orders * LINES_PER_ORDER, rng)
    orders = lines.order_id.nunique()
    youpin = policies()["youpin shipped"]
    labelled = {
        "current": youpin,
        "proposal": replace(youpin, group_rates={**youpin.group_rates, "ecosystem": "0.25"}),
    }
    print(f"{len(tree):,} members, {orders:,} orders, {len(lines):,} lines", flush=True)

    seconds, first, result = best_of(lambda: compare(labelled, tree, lines), args.repeat)
    sample = sample_orders(lines, args.sample, rng)
    start = time.perf_counter()
    reference = per_order_totals(labelled, tree, sample)
    per_order = (time.perf_counter() - start) * orders / len(sample)

    check = compare(labelled, tree, pd.DataFrame(order_columns(sample))).by_member
    same = all(
        dict(zip(check.member_id, check[label], strict=True))
        == {m: reference[label].get(m, 0) for m in check.member_id}
        for label in labelled
    )
    print(result.totals.to_string(), "\n")
    print(f"{'approach':<56} {'seconds':>9} {'orders/s':>11} {'ratio':>7}")
    for name, wall in [
        (f"compare, 2 policies (warm-up {first:.2f} s)", seconds),
        (f"settle_many + dict sums, {len(sample):,} sampled, extrapolated", per_order),
    ]:
        print(f"{name:<56} {wall:>9.2f} {orders / wall:>11,.0f} {wall / seconds:>6.1f}×")
    print(f"\nper-member payouts on the sample, compare vs per-order: {'OK' if same else 'FAILED'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
