"""Benchmark what order coupons and half-up rounding cost the batch engine, in one run.

Generates (deterministically, numpy ``default_rng(seed)``) a tree of ``--members`` members
(each invited by a random earlier one) and ``--lines`` order lines (1 to 4 lines an order,
a share link on every order), then times ``settle_batch`` best of ``--repeat``:

- the lines without coupon columns (the baseline);
- the same lines with ``coupon`` and ``coupon_eligible`` columns, a coupon on ``--share`` of
  the orders (the rest 0), eligible on three lines in four: the engine checks the columns and
  spreads every coupon before the pools;
- the baseline under ``rounding = "half_up"`` instead of largest remainder (per order and
  per line).

Each is reported as seconds and as a ratio to the baseline. Before reporting, it checks on
``--sample`` orders that ``settle_batch`` gives exactly what ``settle`` gives with coupons and
half-up, and prints OK or FAILED (exit status 1 on a failure).

    .venv/bin/python benchmarks/bench_coupons.py [--lines N] [--members N] [--share F]
        [--sample N] [--seed N] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from tuishou import Coupon, InviteTree, Order, OrderLine, Policy, settle
from tuishou.engine import settle_batch
from tuishou.rules import replace

POLICY = Policy.model_validate(
    {
        "name": "bench",
        "tiers": ["m"],
        "group_rates": {"g0": "0.05", "g1": "0.2", "g2": "0.1"},
        "max_generation": 2,
        "rules": [
            {"kind": "seller", "rates": {"m": "0.5"}},
            {"kind": "layers", "rates": {"m": ["0.15", "0.05"]}},
        ],
    }
)


def build(args: argparse.Namespace) -> tuple[InviteTree, dict[str, Any], dict[str, Any]]:
    """The tree, the lines without coupons and the same lines with the coupon columns."""
    rng = np.random.default_rng(args.seed)
    parents = [None] + [int(rng.integers(0, i)) for i in range(1, args.members)]
    tree = InviteTree.from_records(
        [
            {"member_id": f"m{i}", "inviter_id": None if p is None else f"m{p}", "tier": "m"}
            for i, p in enumerate(parents)
        ]
    )
    sizes = rng.integers(1, 5, size=args.lines)
    order = np.repeat(np.arange(len(sizes)), sizes)[: args.lines]
    count = int(order[-1]) + 1
    amount = rng.integers(0, 100_000, size=args.lines)
    sharer = rng.integers(0, args.members, size=count)
    names = np.array([f"m{i}" for i in range(args.members)], dtype=object)
    plain = {
        "order_id": order,
        "sharer_id": names[sharer][order],
        "sku": np.array(["a", "b", "c", "d"], dtype=object)[rng.integers(0, 4, args.lines)],
        "group": np.array(["g0", "g1", "g2"], dtype=object)[rng.integers(0, 3, args.lines)],
        "amount": amount,
    }
    eligible = rng.random(args.lines) < 0.75
    eligible[np.concatenate([[True], order[1:] != order[:-1]])] = True  # one per order at least
    total = np.bincount(order, weights=np.where(eligible, amount, 0), minlength=count)
    total = total.astype(np.int64)
    drawn = (rng.random(count) * total).astype(np.int64)
    coupon = np.where((rng.random(count) < args.share) & (total > 0), np.maximum(drawn, 1), 0)
    with_coupons = {**plain, "coupon": coupon[order], "coupon_eligible": eligible}
    return tree, plain, with_coupons


def best(run: Any, repeat: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def orders_of(columns: dict[str, Any], rows: np.ndarray) -> list[Order]:
    """The orders of ``columns`` whose codes are in ``rows`` (a sample), as models."""
    built = []
    for code in rows.tolist():
        at = np.flatnonzero(columns["order_id"] == code)
        lines = [
            OrderLine(
                sku=columns["sku"][r], group=columns["group"][r], amount=int(columns["amount"][r])
            )
            for r in at.tolist()
        ]
        amount = int(columns["coupon"][at[0]])
        flags = columns["coupon_eligible"][at]
        skus = tuple(sorted({line.sku for line, on in zip(lines, flags, strict=True) if on}))
        left_out = {line.sku for line, on in zip(lines, flags, strict=True) if not on}
        if amount and set(skus) & left_out:
            continue  # one SKU both eligible and not: columns can say it, a Coupon cannot
        coupon = (
            Coupon(coupon_id="c", amount=amount, skus=() if not left_out else skus)
            if amount
            else None
        )
        built.append(
            Order(
                order_id=str(code),
                sharer_id=columns["sharer_id"][at[0]],
                lines=lines,
                coupon=coupon,
            )
        )
    return built


def check(tree: InviteTree, columns: dict[str, Any], sample: int, seed: int) -> bool:
    rng = np.random.default_rng(seed + 1)
    codes = rng.choice(int(columns["order_id"][-1]) + 1, size=sample, replace=False)
    orders = orders_of(columns, np.sort(codes))
    ok = True
    for policy in (
        POLICY,
        replace(POLICY, rounding="half_up"),
        replace(POLICY, rounding="half_up", rounding_scope="line"),
    ):
        rows = [(o.order_id, s.pool, s.paid) for o in orders for s in [settle(policy, tree, o)]]
        picked = np.isin(columns["order_id"], [int(o.order_id) for o in orders])
        part = {name: values[picked] for name, values in columns.items()}
        part["order_id"] = np.array([str(v) for v in part["order_id"]], dtype=object)
        got = [r[0:1] + r[2:4] for r in settle_batch(policy, tree, part).orders.rows()]
        same = got == rows
        ok &= same
        print(
            f"  {'OK' if same else 'FAILED'}: settle_batch = settle on {len(orders)} "
            f"orders ({policy.rounding}, per {policy.rounding_scope})"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tree, plain, with_coupons = build(args)
    print(
        f"{args.lines:,} lines, {int(plain['order_id'][-1]) + 1:,} orders, "
        f"{args.members:,} members; coupons on {args.share:.0%} of the orders"
    )
    ok = check(tree, with_coupons, args.sample, args.seed)
    base = best(lambda: settle_batch(POLICY, tree, plain), args.repeat)
    rows = [
        ("no coupon columns (baseline)", base),
        ("with coupons", best(lambda: settle_batch(POLICY, tree, with_coupons), args.repeat)),
    ]
    for scope in ("order", "line"):
        variant = replace(POLICY, rounding="half_up", rounding_scope=scope)
        reference = replace(POLICY, rounding_scope=scope)
        lr = (
            base
            if scope == "order"
            else best(lambda p=reference: settle_batch(p, tree, plain), args.repeat)
        )
        if scope == "line":
            rows.append(("largest remainder, per line", lr))
        rows.append(
            (
                f"half_up, per {scope}",
                best(lambda p=variant: settle_batch(p, tree, plain), args.repeat),
            )
        )
    for label, seconds in rows:
        print(f"  {label:<32} {seconds:8.3f} s  {seconds / base:5.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
