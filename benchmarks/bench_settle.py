"""Benchmark ``settle_many`` against a hand-written pure-Python loop, in the same process.

Builds the demo's generated invite tree (``tuishou.cli.demo.example_tree``, default 100 000
members) and orders (default 100 000), then times, best of ``--repeat`` after a warm-up:

- ``settle_many`` under the bundled 有品推手 policy (three-generation 级差 with a 平级
  bonus, largest remainder per order), and under its ``rounding = "floor"`` variant;
- a **baseline**: a plain loop over a ``{member: inviter}`` dict computing the same
  differential payouts with ints and floor rounding, on the same ``Order`` objects.

The baseline computes only totals, with no explanation records or validation, so the
ratio ``settle_many / baseline`` says what the library's exactness and explainability
cost on this machine; absolute orders/second alone depends on the machine. Before
reporting, the floor variant and the baseline must agree on every member's total and
on the pool, else the script exits with status 1.

    .venv/bin/python benchmarks/bench_settle.py [--members N] [--orders N] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tuishou import DifferentialRule, InviteTree, Order, Policy, settle_many
from tuishou.cli.demo import example_orders, example_policy, example_tree
from tuishou.money import RATE_SCALE, rate_units

T = TypeVar("T")


def best_of(run: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Run once to warm up, then ``repeat`` times; the best wall time and the last result."""
    result = run()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def baseline_tables(policy: Policy, tree: InviteTree) -> dict[str, Any]:
    """What a hand-written loop would precompute: dicts of parents, tiers, rates (1/10 000)."""
    if len(policy.rules) != 1 or not isinstance(policy.rules[0], DifferentialRule):
        sys.exit("bench_settle: the baseline handles exactly one differential rule")
    rule = policy.rules[0]
    if not rule.include_seller or policy.compression or not policy.self_purchase:
        sys.exit("bench_settle: the baseline assumes include_seller, self_purchase, no compression")
    rates = {tier: rate_units(rate) for tier, rate in rule.rates.items()}
    return {
        "parent": {m: tree.inviter(m) for m in tree},
        "tier": {m: tree.tier(m) for m in tree},
        "rate": {m: rates.get(tree.tier(m), 0) for m in tree},
        "active": {m for m in tree if tree.status(m) == "active"},
        "group_rate": {g: rate_units(r) for g, r in policy.group_rates.items()},
        "sku_rate": {s: rate_units(r) for s, r in policy.sku_rates.items()},
        "max_generation": policy.max_generation,
        "peer_rate": rate_units(rule.peer_rate),
        "peer_max": rule.peer_max,
    }


def baseline(tables: dict[str, Any], orders: Sequence[Order]) -> tuple[dict[str, int], int, int]:
    """The differential walk by hand, floor per payout: (member totals, pool, payouts)."""
    parent, tier, rate, active = tables["parent"], tables["tier"], tables["rate"], tables["active"]
    group_rate, sku_rate = tables["group_rate"], tables["sku_rate"]
    max_generation, peer_rate, peer_max = (
        tables["max_generation"],
        tables["peer_rate"],
        tables["peer_max"],
    )
    scale = RATE_SCALE * RATE_SCALE
    totals: dict[str, int] = {}
    pools = payouts = 0
    for order in orders:
        pool = 0  # in 1/10 000 fen
        for line in order.lines:
            r = sku_rate.get(line.sku)
            pool += line.amount * (group_rate[line.group] if r is None else r)
        pools += pool // RATE_SCALE
        seller = order.sharer_id
        if seller is None:
            if order.buyer_id not in parent:
                continue
            seller = order.buyer_id  # self-purchase: the buyer is the seller
        member, generation, paid, top, peers = seller, 0, 0, None, 0
        while member is not None and generation <= max_generation:
            share = 0
            if rate[member] > paid:
                share, paid, top = rate[member] - paid, rate[member], tier[member]
            elif generation and tier[member] == top and peers < peer_max:
                share, peers = peer_rate, peers + 1
            if share and member in active:
                amount = pool * share // scale
                if amount:
                    totals[member] = totals.get(member, 0) + amount
                    payouts += 1
            member, generation = parent[member], generation + 1
    return totals, pools, payouts


def member_totals(settlements: Sequence[Any]) -> dict[str, int]:
    """Each member's total over all settlements, in fen."""
    totals: dict[str, int] = {}
    for s in settlements:
        for p in s.payouts:
            totals[p.member_id] = totals.get(p.member_id, 0) + p.amount
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    """Build the data, time both paths, check they agree, print (and maybe save) the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, metavar="N")
    parser.add_argument("--orders", type=int, default=100_000, metavar="N")
    parser.add_argument("--seed", type=int, default=7, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="timed runs (best)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    youpin = example_policy()
    floor = Policy.model_validate({**youpin.model_dump(), "rounding": "floor"})
    tree = example_tree(size=args.members, seed=args.seed)
    orders = example_orders(tree, count=args.orders, seed=args.seed)
    tables = baseline_tables(floor, tree)
    print(
        f"data: {len(tree):,} members, {len(orders):,} orders, "
        f"built in {time.perf_counter() - start:.1f} s"
    )

    t_youpin, s_youpin = best_of(lambda: settle_many(youpin, tree, orders), args.repeat)
    t_floor, s_floor = best_of(lambda: settle_many(floor, tree, orders), args.repeat)
    t_base, (base_totals, base_pool, base_payouts) = best_of(
        lambda: baseline(tables, orders), args.repeat
    )

    lib_totals = member_totals(s_floor)
    agree = lib_totals == base_totals and sum(s.pool for s in s_floor) == base_pool
    results = {
        "members": len(tree),
        "orders": len(orders),
        "repeat": args.repeat,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "runs": [
            _run("settle_many youpin (largest remainder)", t_youpin, orders, _count(s_youpin)),
            _run("settle_many youpin, rounding=floor", t_floor, orders, _count(s_floor)),
            _run("baseline loop, floor", t_base, orders, base_payouts),
        ],
        "ratio_floor_vs_baseline": round(t_floor / t_base, 2),
        "ratio_youpin_vs_baseline": round(t_youpin / t_base, 2),
        "total_paid_fen": {
            "settle_many_floor": sum(lib_totals.values()),
            "baseline": sum(base_totals.values()),
        },
        "agree": agree,
    }
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not agree:
        print("bench_settle: settle_many (floor) and the baseline disagree", file=sys.stderr)
        return 1
    return 0


def _count(settlements: Sequence[Any]) -> int:
    return sum(len(s.payouts) for s in settlements)


def _run(name: str, seconds: float, orders: Sequence[Order], payouts: int) -> dict[str, Any]:
    return {
        "name": name,
        "seconds": round(seconds, 4),
        "payouts": payouts,
        "orders_per_s": round(len(orders) / seconds),
        "payouts_per_s": round(payouts / seconds),
    }


def _print(results: dict[str, Any]) -> None:
    print(f"{'run':<40} {'best s':>8} {'orders/s':>10} {'payouts/s':>10}")
    for run in results["runs"]:
        print(
            f"{run['name']:<40} {run['seconds']:>8.3f} {run['orders_per_s']:>10,} "
            f"{run['payouts_per_s']:>10,}"
        )
    paid = results["total_paid_fen"]
    print(
        f"settle_many / baseline: {results['ratio_floor_vs_baseline']}x (floor), "
        f"{results['ratio_youpin_vs_baseline']}x (largest remainder)"
    )
    print(
        f"total paid (floor): settle_many {paid['settle_many_floor']:,} fen, "
        f"baseline {paid['baseline']:,} fen: {'agree' if results['agree'] else 'DISAGREE'}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
