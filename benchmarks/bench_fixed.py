"""Benchmark fixed lines and quantity brackets in ``settle_batch`` (docs/domain.md §17).

Generates (numpy ``default_rng(seed)``) a random invite tree of ``--members`` members (each
invited by an earlier one) and ``--lines`` order lines over 100 SKUs, then times
``settle_batch``, best of ``--repeat`` after a warm-up, under three policies that differ only
in §17:

- ``rates``: a seller rule, a two-generation layers rule and a 级差 with a peer bonus; every
  SKU at its group's rate;
- ``brackets``: the same, with 10 SKUs' rates in quantity brackets (from 1 and from 3);
- ``fixed``: the same, with 10 SKUs on fixed schedules (all three rules, in brackets), about
  10% of the lines, and ``allow_fixed_above_amount``.

It reports each time and its ratio to ``rates``, and checks that ``settle_batch`` equals
``settle`` on the first ``--sample`` orders under each policy (OK or FAILED; a failure exits 1).

    .venv/bin/python benchmarks/bench_fixed.py [--members N] [--lines N] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from tuishou import InviteTree, Order, OrderLine, Policy, settle
from tuishou.engine import settle_batch

SKUS = 100
SPECIAL = 10  # SKUs in brackets or on fixed schedules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    tree = _tree(rng, args.members)
    columns = _lines(rng, args.members, args.lines)
    base = _policy({})
    policies = {
        "rates": base,
        "brackets": _policy(
            {
                "sku_rates": {
                    f"s{i}": [{"from": 1, "rate": "0.3"}, {"from": 3, "rate": "0.2"}]
                    for i in range(SPECIAL)
                }
            }
        ),
        "fixed": _policy({"fixed": _fixed(), "allow_fixed_above_amount": True}),
    }
    times = {name: _best(policy, tree, columns, args.repeat) for name, policy in policies.items()}
    print(f"{args.lines:,} lines, {args.members:,} members, best of {args.repeat}:")
    for name, seconds in times.items():
        print(f"  {name:9} {seconds:7.3f} s   {seconds / times['rates']:5.2f}x rates")
    failed = False
    for name, policy in policies.items():
        same = _same(policy, tree, columns, args.sample)
        failed |= not same
        verdict = "OK" if same else "FAILED"
        print(f"  settle_batch = settle on {args.sample} orders ({name}): {verdict}")
    return 1 if failed else 0


def _tree(rng: np.random.Generator, size: int) -> InviteTree:
    parents = [None] + [int(p) for p in (rng.random(size - 1) * np.arange(1, size)).astype(int)]
    tiers = rng.integers(0, 3, size)
    names = ("member", "pusher", "mentor")
    return InviteTree.from_records(
        {"member_id": f"m{i}", "inviter_id": None if p is None else f"m{p}", "tier": names[t]}
        for i, (p, t) in enumerate(zip(parents, tiers, strict=True))
    )


def _lines(rng: np.random.Generator, members: int, lines: int) -> dict[str, Any]:
    orders = np.arange(lines) // 2  # two lines an order
    sharer = rng.integers(0, members, lines // 2 + 1)[orders]
    return {
        "order_id": orders,
        "sharer_id": np.array([f"m{i}" for i in range(members)], dtype=object)[sharer],
        "sku": np.array([f"s{i}" for i in range(SKUS)], dtype=object)[rng.integers(0, SKUS, lines)],
        "group": np.full(lines, "g", dtype=object),
        "amount": rng.integers(0, 50_000, lines),
        "quantity": rng.integers(1, 5, lines),
    }


def _policy(changes: dict[str, Any]) -> Policy:
    return Policy.model_validate(
        {
            "name": "bench",
            "tiers": ["member", "pusher", "mentor"],
            "group_rates": {"g": "0.2"},
            "max_generation": 3,
            "rules": [
                {"kind": "seller", "rates": {"member": "0.05"}},
                {"kind": "layers", "rates": {"pusher": ["0.02", "0.01"]}},
                {
                    "kind": "differential",
                    "name": "diff",
                    "rates": {"pusher": "0.2", "mentor": "0.3"},
                    "peer_rate": "0.02",
                    "peer_max": 1,
                },
            ],
            **changes,
        }
    )


def _fixed() -> dict[str, Any]:
    def schedule(scale: int) -> dict[str, Any]:
        return {
            "seller": {"amounts": {"member": 5 * scale}},
            "layers": {"amounts": {"pusher": [2 * scale, scale]}},
            "diff": {"amounts": {"pusher": 3 * scale, "mentor": 5 * scale}, "peer_amount": scale},
        }

    return {
        f"s{i}": [{"from": 1, "schedule": schedule(100)}, {"from": 3, "schedule": schedule(80)}]
        for i in range(SPECIAL)
    }


def _best(policy: Policy, tree: InviteTree, columns: dict[str, Any], repeat: int) -> float:
    settle_batch(policy, tree, columns)  # warm-up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        settle_batch(policy, tree, columns)
        best = min(best, time.perf_counter() - start)
    return best


def _same(policy: Policy, tree: InviteTree, columns: dict[str, Any], sample: int) -> bool:
    part = {name: values[: 2 * sample] for name, values in columns.items()}
    batch = settle_batch(policy, tree, part)
    orders = [
        Order(
            order_id=str(int(part["order_id"][i])),
            sharer_id=part["sharer_id"][i],
            lines=[
                OrderLine(
                    sku=part["sku"][j],
                    group="g",
                    amount=int(part["amount"][j]),
                    quantity=int(part["quantity"][j]),
                )
                for j in (i, i + 1)
            ],
        )
        for i in range(0, 2 * sample, 2)
    ]
    rows = []
    pools = []
    for order in orders:
        result = settle(policy, tree, order)
        rows += [
            (int(order.order_id), p.member_id, p.rule, p.kind, p.generation, p.amount)
            for p in result.payouts
        ]
        pools.append(
            (int(order.order_id), result.seller_id, result.pool, result.paid, result.retained)
        )
    return batch.payouts.rows() == rows and batch.orders.rows() == pools


if __name__ == "__main__":
    sys.exit(main())
