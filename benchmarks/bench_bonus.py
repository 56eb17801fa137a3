"""Benchmark the period team bonus: one month at 1M members and 10M order lines.

Builds (deterministically, numpy ``default_rng(seed)``) the invite tree of
``bench_engine.build_tree`` (preferential attachment plus deep lines hundreds of levels deep;
tiers 70/20/7/3 %, ~2 % suspended) and ``--lines`` order lines as ``bench_engine``'s fast
input (a pandas DataFrame: int order ids, categorical member, SKU and group columns; 1-3
lines an order, 5 % guest buyers, 25 % through a share link, lognormal amounts around
10 000 fen), with a coupon on 10 % of the orders (up to 30 % of the order, on every line).
Then it times, best of ``--repeat`` after one warm-up:

- ``settle_batch`` of the lines under a plain policy (``bench_engine``'s yudao two-level);
- ``tuishou.engine.personal_volumes(result, lines)``: each seller's sales after the coupon
  (exact int64 ``np.add.at``), from the DataFrame (read again) and from the ``LineColumns``
  already read;
- ``team_bonus`` (the numpy bottom-up pass) on those volumes;

and ``team_bonus_reference`` (plain Python, the definition) once; checks that every column
of the two agrees (and the totals), and prints a table with the ratio. Exit status 1 if they
differ.

    .venv/bin/python benchmarks/bench_bonus.py [--members N] [--lines N] [--seed N]
        [--repeat N]

Money is int fen; floats appear only in random number generation and timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

from bench_engine import TIERS, build_tree, generate_lines, policies
from tuishou.bonuses import TeamBonus, TeamBonusResult, team_bonus, team_bonus_reference
from tuishou.engine import personal_volumes, settle_batch
from tuishou.engine.columns import read_lines
from tuishou.money import yuan

T = TypeVar("T")

PLAN = TeamBonus.model_validate(
    {
        "brackets": [
            {"from": 1_000_000, "rate": "0.03"},
            {"from": 5_000_000, "rate": "0.05", "min_active_directs": 2},
            {"from": 20_000_000, "rate": "0.08", "min_tier": "mentor"},
            {
                "from": 100_000_000,
                "rate": "0.1",
                "min_tier": "senior_advisor",
                "min_active_directs": 3,
            },
        ]
    }
)
COUPON_SHARE = 0.1  # orders with a coupon
POLICY = "yudao floor/line"  # of bench_engine.policies(): a plain two-level policy
COLUMNS = ("personal", "team", "bracket", "entitlement", "below_paid", "bonus")


def month_lines(ids: np.ndarray, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """``bench_engine.generate_lines`` with a ``coupon`` column: on ``COUPON_SHARE`` of the
    orders, 1 fen up to 30 % of the order (every line eligible), 0 (none) elsewhere."""
    lines = generate_lines(ids, count, rng)
    order = lines["order_id"].to_numpy() - lines["order_id"].iloc[0]  # 0, 1, ... sorted
    orders = int(order[-1]) + 1
    # An order is at most MAX_ORDER_FEN < 2**53: a float64 sum of its lines is exact.
    total = np.bincount(order, weights=lines["amount"].to_numpy(), minlength=orders)
    drawn = np.maximum((rng.random(orders) * 0.3 * total).astype(np.int64), 1)
    lines["coupon"] = np.where(rng.random(orders) < COUPON_SHARE, drawn, 0)[order]
    return lines


def timed(run: Callable[[], T], repeat: int = 1) -> tuple[tuple[float, float], T]:
    """Best (wall, CPU) seconds of ``repeat`` runs (after a warm-up when repeat > 1) and the
    result. CPU time is what to read on a shared machine."""
    result = run() if repeat > 1 else None
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    assert result is not None
    return best, result


def same(fast: TeamBonusResult, slow: TeamBonusResult) -> list[str]:
    """The columns that differ (by member id), empty when the results agree."""
    if fast.ids != slow.ids:
        return [] if fast.as_rows() == slow.as_rows() else ["rows"]
    return [
        name for name in COLUMNS if getattr(fast, name).tolist() != getattr(slow, name).tolist()
    ] + ([] if fast.total() == slow.total() else ["total"])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rows: list[tuple[str, tuple[float, float]]] = []
    seconds, (tree, ids) = timed(lambda: build_tree(args.members, rng))
    rows.append(("build the tree (not compared)", seconds))
    seconds, lines = timed(lambda: month_lines(ids, args.lines, rng))
    rows.append((f"generate {args.lines:,} lines", seconds))
    policy = policies()[POLICY]
    seconds, batch = timed(lambda: settle_batch(policy, tree, lines), args.repeat)
    rows.append((f"settle_batch ({POLICY})", seconds))
    seconds, volumes = timed(lambda: personal_volumes(batch, lines), args.repeat)
    rows.append(("personal_volumes (DataFrame)", seconds))
    columns = read_lines(lines)
    seconds, again = timed(lambda: personal_volumes(batch, columns), args.repeat)
    rows.append(("personal_volumes (LineColumns)", seconds))
    if again != volumes:
        print("personal_volumes differ between the DataFrame and its LineColumns: FAILED")
        return 1

    def fast() -> TeamBonusResult:
        return team_bonus(PLAN, tree, volumes, tiers=TIERS, period="bench")

    def slow() -> TeamBonusResult:
        return team_bonus_reference(PLAN, tree, volumes, tiers=TIERS, period="bench")

    numpy_s, fast_result = timed(fast, args.repeat)
    reference_s, slow_result = timed(slow)
    differ = same(fast_result, slow_result)
    depth = int(tree.arrays().depth().max())
    print(
        f"{args.members:,} members ({depth + 1} levels), {args.lines:,} lines, "
        f"{len(volumes):,} sellers; best of {args.repeat} (numpy), once (reference):"
    )
    order_ids = lines["order_id"].to_numpy()
    first = np.r_[True, order_ids[1:] != order_ids[:-1]]  # each order's first line
    sales, coupons = int(lines["amount"].sum()), int(lines["coupon"].to_numpy()[first].sum())
    print(
        f"  all sales {yuan(sales - coupons)} after {yuan(coupons)} of coupons; "
        f"commission paid {yuan(batch.paid)}; personal volumes {yuan(sum(volumes.values()))}"
    )
    print(f"  {'step':34} {'wall':>8}   {'CPU':>8}   CPU ratio")
    for name, (wall, cpu) in rows:
        print(f"  {name:34} {wall:8.2f} s {cpu:8.2f} s")
    for name, (wall, cpu) in [
        ("team_bonus (numpy)", numpy_s),
        ("team_bonus_reference (Python)", reference_s),
    ]:
        print(f"  {name:34} {wall:8.2f} s {cpu:8.2f} s {cpu / numpy_s[1]:6.1f}x")
    paid, short = fast_result.bonuses(), fast_result.clamped()
    print(
        f"  paid {len(paid):,} members {yuan(fast_result.total())}; "
        f"{len(short):,} shortfalls; int64 columns: {fast_result.bonus.dtype == np.int64}"
    )
    print(f"  numpy = reference: {'OK' if not differ else 'FAILED ' + ', '.join(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
