"""Benchmark period statements: ``Ledger.statements_frame`` against ``balances_frame``.

Builds (deterministically, numpy ``default_rng(seed)``) a ledger of ``--members`` members in
a SQLite file (and, with ``--postgresql``, on a PostgreSQL server started here by
``tests/postgres_server.py``): ``--orders`` one-line orders bulk-posted half on 15 October
and half on 10 November 2026 (UTC), released on 3 and 20 November (freeze 7 days), so that
nearly every member has an opening balance and movements in November. Then, in this one
process, in alternating rounds (best of ``--rounds``):

- ``balances_frame(as_of=end)``: every member's balance, one ``GROUP BY`` per 1,000 members;
- ``statements_frame(November)``: every member's statement (opening, closing, movements,
  earned by rule, the pending schedule), several ``GROUP BY`` per 1,000 members;
- ``close_period(November)`` once (every statement computed and checked, totals compared).

The ratio statements / balances is what a statement costs over a plain balance. The run
checks that the statements' closing sums equal the balances' and exits 1 if they do not.

    .venv/bin/python benchmarks/bench_statements.py [--members N] [--orders N]
        [--rounds N] [--seed N] [--postgresql]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # postgres_server

from tuishou import InviteTree, Ledger, LedgerPolicy, Policy  # noqa: E402
from tuishou.ledger.statement_models import Period  # noqa: E402

POLICY = Policy.model_validate(
    {
        "name": "bench",
        "tiers": ["member"],
        "group_rates": {"g": "0.2"},
        "max_generation": 2,
        "rules": [
            {"kind": "seller", "rates": {"member": "0.3"}},
            {"kind": "layers", "rates": {"member": ["0.1", "0.05"]}},
        ],
    }
)
NOVEMBER = Period.month("2026-11", timezone="UTC")


def tree(members: int, rng: np.random.Generator) -> InviteTree:
    parents = (np.arange(members) * rng.random(members) ** 0.5).astype(np.int64)
    return InviteTree.from_records(
        [
            {"member_id": f"m{i}", "inviter_id": f"m{parents[i]}" if i else None, "tier": "member"}
            for i in range(members)
        ]
    )


def orders(first: int, count: int, members: int, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "order_id": [f"o{i:08d}" for i in range(first, first + count)],
        "sharer_id": [f"m{s}" for s in rng.integers(0, members, count).tolist()],
        "sku": ["s"] * count,
        "group": ["g"] * count,
        "amount": rng.integers(100, 200_000, count).tolist(),
    }


def build(ledger: Ledger, members: int, count: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    invited = tree(members, rng)
    start = time.perf_counter()
    half = count // 2
    october = datetime(2026, 10, 15, tzinfo=UTC)
    ledger.post_batch(POLICY, invited, orders(0, half, members, rng), at=october)
    ledger.release(datetime(2026, 11, 3, tzinfo=UTC))
    november = datetime(2026, 11, 10, tzinfo=UTC)
    ledger.post_batch(POLICY, invited, orders(half, count - half, members, rng), at=november)
    ledger.release(datetime(2026, 11, 20, tzinfo=UTC))
    return time.perf_counter() - start


def best(call: Any, rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def measure(name: str, ledger: Ledger, args: argparse.Namespace) -> bool:
    built = build(ledger, args.members, args.orders, args.seed)
    as_of = NOVEMBER.end - timedelta(microseconds=1)
    balances_time = statements_time = float("inf")
    balances = statements = None
    for _ in range(args.rounds):  # alternating, best of each
        took, balances = best(lambda: ledger.balances_frame(as_of=as_of), 1)
        balances_time = min(balances_time, took)
        took, statements = best(lambda: ledger.statements_frame(NOVEMBER), 1)
        statements_time = min(statements_time, took)
    start = time.perf_counter()
    close = ledger.close_period(NOVEMBER, at=NOVEMBER.end)
    close_time = time.perf_counter() - start
    assert balances is not None
    assert statements is not None
    same = all(
        int(statements[f"closing_{field}"].sum()) == int(balances[field].sum())
        for field in ("pending", "available", "withdrawn", "fees")
    )
    print(
        f"{name:<10} members {len(statements):>7,}  built in {built:6.1f} s  "
        f"balances_frame {balances_time:6.2f} s  statements_frame {statements_time:6.2f} s  "
        f"ratio {statements_time / balances_time:4.1f}x  close_period {close_time:6.2f} s  "
        f"(close: {close.members:,} members)  sums equal: {same}"
    )
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    print(f"{args.members:,} members, {args.orders:,} orders; best of {args.rounds} rounds")
    policy = LedgerPolicy(freeze_days=7)
    ok = True
    with (
        tempfile.TemporaryDirectory() as folder,
        Ledger.open(Path(folder) / "ledger.db", policy=policy) as ledger,
    ):
        ok &= measure("SQLite", ledger, args)
    if args.postgresql:
        from postgres_server import running_server

        with (
            running_server() as server,
            Ledger.open(server.new_schema_url(), policy=policy) as ledger,
        ):
            ok &= measure("PostgreSQL", ledger, args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
