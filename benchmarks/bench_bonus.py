"""Benchmark the period team bonus: one month at 1M members and 10M order lines.

Builds (deterministically, numpy ``default_rng(seed)``) the invite tree of
``bench_engine.build_tree`` (preferential attachment plus deep lines hundreds of levels deep;
tiers 70/20/7/3 %, ~2 % suspended), then ``--lines`` order lines with random sellers (5 %
with no seller) and lognormal amounts around 10 000 fen, 1 % of them refund adjustments
(negative). Their per-seller sums are the personal volumes, through
``tuishou.engine.personal_volumes`` (exact int64 ``np.add.at``). Then, in the same run:

- ``team_bonus`` (the numpy bottom-up pass), best of ``--repeat`` after one warm-up;
- ``team_bonus_reference`` (plain Python, the definition), once;

checks that every column agrees (and the totals), and prints a table with the ratio. Exit
status 1 if they differ.

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

from bench_engine import TIERS, build_tree
from tuishou.bonuses import TeamBonus, TeamBonusResult, team_bonus, team_bonus_reference
from tuishou.engine import BatchResult, OrderTable, PayoutTable, personal_volumes
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
COLUMNS = ("personal", "team", "bracket", "entitlement", "below_paid", "bonus")


def month_lines(members: int, lines: int, rng: np.random.Generator) -> BatchResult:
    """``lines`` one-line orders as a batch result: seller (-1: none) and amount (fen)."""
    seller = rng.integers(0, members, lines)
    seller[rng.random(lines) < 0.05] = -1
    amount = np.clip(rng.lognormal(np.log(10_000), 1.0, lines), 1, 10**8).astype(np.int64)
    refund = rng.random(lines) < 0.01
    amount[refund] = -amount[refund]
    codes = np.arange(lines, dtype=np.int64)
    orders = OrderTable(
        order=codes,
        seller=seller,
        pool=amount,
        paid=amount,
        retained=np.zeros(lines, dtype=np.int64),
        order_ids=codes,
        member_ids=[f"m{i:07d}" for i in range(members)],
    )
    empty = np.zeros(0, dtype=np.int64)
    payouts = PayoutTable(empty, empty, empty, empty, empty, empty, codes, orders.member_ids, ())
    return BatchResult(payouts, orders)


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
    seconds, (tree, _) = timed(lambda: build_tree(args.members, rng))
    rows.append(("build the tree (not compared)", seconds))
    seconds, batch = timed(lambda: month_lines(args.members, args.lines, rng))
    rows.append((f"generate {args.lines:,} lines", seconds))
    seconds, volumes = timed(lambda: personal_volumes(batch), args.repeat)
    rows.append(("personal_volumes (np.add.at)", seconds))

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
