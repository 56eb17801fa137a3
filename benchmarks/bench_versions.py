"""Benchmark policy versions in the batch engine: what ``paid_at`` and versions cost.

Generates the data of ``bench_engine.py`` (deterministic, ``--seed``): ``--members`` members
(default 100 000) and ``--lines`` order lines (default 1 000 000), each order paid 5 seconds
after the one before from 2026-11-01 00:00 Beijing time, and times ``settle_batch`` under
the shipped youpin policy, best of ``--repeat`` after a warm-up, in CPU seconds of this
process (``time.process_time``: steadier than wall time on a shared machine):

1. a plain Policy, lines without ``paid_at`` (the path before versions existed);
2. a plain Policy, lines with ``paid_at`` (read and checked, changing nothing);
3. one version (every order in it: nothing is cut);
4. two versions, the switch in the middle (half of the orders in each).

It checks that 1, 2 and 3 pay the same and that 4 equals settling each half under its
version's policy, and exits with status 1 otherwise.

    .venv/bin/python benchmarks/bench_versions.py [--members N] [--lines N] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench_engine import build_tree, generate_lines, policies
from tuishou import PolicyVersions
from tuishou.engine import settle_batch
from tuishou.rules import replace


def cpu_best(run: Callable[[], Any], repeat: int) -> float:
    """The least CPU time of ``repeat`` runs after a warm-up."""
    run()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000, metavar="N")
    parser.add_argument("--lines", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=5, metavar="N")
    parser.add_argument("--seed", type=int, default=20240601, metavar="N")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    tree, ids = build_tree(args.members, rng)
    plain = generate_lines(ids, args.lines, rng)
    codes = pd.factorize(plain["order_id"])[0]
    start = pd.Timestamp("2026-11-01", tz="Asia/Shanghai")
    paid = plain.assign(paid_at=start + pd.to_timedelta(codes * 5, unit="s"))
    policy = policies()["youpin shipped"]
    later = replace(policy, rounding="floor", group_rates={**policy.group_rates, "xiaomi": "0.06"})
    switch = start + pd.to_timedelta(int(codes.max()) * 5 // 2, unit="s")
    one = PolicyVersions.of((start.to_pydatetime(), policy))
    two = PolicyVersions.of((start.to_pydatetime(), policy), (switch.to_pydatetime(), later))
    runs = {
        "plain Policy, no paid_at": (policy, plain),
        "plain Policy, with paid_at": (policy, paid),
        "one version": (one, paid),
        "two versions (half each)": (two, paid),
    }
    base = 0.0
    for label, (chosen, lines) in runs.items():
        seconds = cpu_best(lambda c=chosen, d=lines: settle_batch(c, tree, d), args.repeat)
        base = base or seconds
        print(f"{label:28s} {seconds:7.3f} s CPU  x{seconds / base:.2f}")
    return 0 if checks(tree, plain, paid, policy, later, one, two, switch) else 1


def checks(
    tree: Any, plain: Any, paid: Any, policy: Any, later: Any, one: Any, two: Any, switch: Any
) -> bool:
    """The four runs pay what they should; prints OK or FAILED."""
    expected = settle_batch(policy, tree, plain).payouts.to_pandas()
    same = all(
        settle_batch(chosen, tree, paid).payouts.to_pandas().equals(expected)
        for chosen in (policy, one)
    )
    before = paid[paid["paid_at"] < switch].drop(columns="paid_at")
    after = paid[paid["paid_at"] >= switch].drop(columns="paid_at")
    halves = sum(
        int(settle_batch(p, tree, part).paid) for p, part in ((policy, before), (later, after))
    )
    split = int(settle_batch(two, tree, paid).paid) == halves
    print("checks:", "OK" if same and split else "FAILED")
    return same and split


if __name__ == "__main__":
    sys.exit(main())
