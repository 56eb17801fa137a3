"""Benchmark customer bindings (锁粉) in the batch engine against the seller lookup, in one run.

Generates the data of ``bench_engine.py`` (deterministic, ``--seed``): ``--members`` members
(default 1 000 000) and ``--lines`` order lines (default 10 000 000; 1-3 lines an order, 5 %
of orders bought by guests, 25 % shared), each order paid 5 seconds after the one before
from 2026-11-01 00:00 Beijing time. Bindings: every guest and ``--bound-members`` of the
members (default 20 %) have 1 to 3 bindings each, starting at random times over the orders'
span, half of them lasting 30 days, the rest until the next one (or for ever).

It times, in CPU seconds of this process (best of ``--repeat`` after a warm-up;
``time.process_time`` is steadier than wall time on a shared machine):

1. **seller lookup**: the engine's per-order attribution without bindings (``_sellers``:
   sharer and buyer columns to a seller per order), the step bindings extend;
2. **bindings**: ``bound_members``, the binding in force for every order asked (a customer's
   only binding directly, else the combined key and one ``searchsorted``; the columns built
   beforehand, as ``settle_batch`` keeps them for a ``Bindings`` object), twice: guests
   only (``bind_members`` off), and every order without a share link (``bind_members`` on);
3. once each: building the ``Bindings`` from records and its columns, and a whole
   ``settle_batch`` with and without bindings.

It reports the ratio bindings / seller lookup, warm (the hash joins of ids, cached per id
column by identity on both sides, not repeated) and cold (each step's first call), and
checks on ``--sample`` orders spread over the batch that ``settle_batch`` with bindings pays
what ``settle`` does, order for order (exit 1 otherwise).

    .venv/bin/python benchmarks/bench_bindings.py [--members N] [--lines N] [--repeat N]
        [--bound-members F] [--sample N] [--no-whole]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from bench_engine import build_tree, generate_lines, policies
from tuishou import Order, OrderLine, settle
from tuishou.bindings import Bindings
from tuishou.engine import settle_batch
from tuishou.engine.batch import _per_order, _sellers
from tuishou.engine.bindings import binding_columns, bound_members
from tuishou.engine.columns import read_lines
from tuishou.engine.paid_at import per_order
from tuishou.rules import replace

START = pd.Timestamp("2026-11-01", tz="Asia/Shanghai")
COLD: list[float] = []  # each warm-up's CPU seconds: the first call, hash joins not yet cached


def cpu_best(run: Callable[[], Any], repeat: int) -> float:
    """The least CPU time of ``repeat`` runs after a warm-up (its time is in ``COLD``)."""
    start = time.process_time()
    run()
    COLD.append(time.process_time() - start)
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def cpu_once(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    result = run()
    return time.process_time() - start, result


def binding_records(
    customers: np.ndarray, span: float, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """1-3 bindings per customer, starting at random seconds over ``span``, in time order;
    half last 30 days (at most to the next one), the rest until the next (or for ever)."""
    members = np.asarray(customers["members"])
    records: list[dict[str, Any]] = []
    counts = rng.integers(1, 4, len(customers["ids"]))
    for customer, count in zip(customers["ids"], counts.tolist(), strict=True):
        starts = np.sort(rng.choice(int(span), count, replace=False))
        chosen = rng.choice(len(members), count)
        for i in range(count):
            since = START + timedelta(seconds=int(starts[i]))
            nxt = None if i + 1 == count else START + timedelta(seconds=int(starts[i + 1]))
            until = nxt
            if rng.random() < 0.5:
                month = since + timedelta(days=30)
                until = month if nxt is None else min(month, nxt)
            member = members[chosen[i]]
            if member == customer:
                member = members[(chosen[i] + 1) % len(members)]
            records.append(
                {
                    "customer_id": customer,
                    "member_id": member,
                    "since": since.to_pydatetime(),
                    "until": None if until is None else until.to_pydatetime(),
                    "how": "import",
                }
            )
    return records


def sample_orders(frame: pd.DataFrame, count: int) -> list[Order]:
    """``count`` orders spread evenly over the lines, as ``Order`` objects."""
    ids = frame["order_id"].unique()
    chosen = set(ids[:: max(1, len(ids) // count)][:count].tolist())
    orders: list[Order] = []
    part = frame[frame["order_id"].isin(chosen)]
    for order_id, rows in part.groupby("order_id", sort=False, observed=True):
        first = rows.iloc[0]
        orders.append(
            Order(
                order_id=str(order_id),
                buyer_id=None if pd.isna(first["buyer_id"]) else str(first["buyer_id"]),
                sharer_id=None if pd.isna(first["sharer_id"]) else str(first["sharer_id"]),
                paid_at=first["paid_at"].to_pydatetime(),
                lines=[
                    OrderLine(
                        sku=str(r.sku),
                        group=str(r.group),
                        amount=int(r.amount),
                        quantity=int(r.quantity),
                    )
                    for r in rows.itertuples()
                ],
            )
        )
    return orders


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--lines", type=int, default=10_000_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="N")
    parser.add_argument("--seed", type=int, default=20240601, metavar="N")
    parser.add_argument("--bound-members", type=float, default=0.2, metavar="F")
    parser.add_argument("--sample", type=int, default=2000, metavar="N")
    parser.add_argument("--no-whole", action="store_true", help="skip the whole settle_batch")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    tree, ids = build_tree(args.members, rng)
    frame = generate_lines(ids, args.lines, rng)
    codes = pd.factorize(frame["order_id"])[0]
    frame["paid_at"] = START + pd.to_timedelta(codes * 5, unit="s")
    span = float(codes.max()) * 5 + 1
    guests = list(frame["buyer_id"].cat.categories[len(ids) :])
    picked = rng.random(len(ids)) < args.bound_members
    customers = {"ids": [*guests, *ids[picked].tolist()], "members": ids}
    made, records = cpu_once(lambda: binding_records(customers, span, rng))
    built, bindings = cpu_once(lambda: Bindings.from_records(records))
    columned, columns = cpu_once(lambda: binding_columns(bindings))

    policy = replace(policies()["youpin shipped"], name="youpin")
    members_too = replace(policy, bind_members=True)
    lines = read_lines(frame)
    arrays = tree.arrays()
    first = np.flatnonzero(
        np.concatenate([[True], lines.order.codes[1:] != lines.order.codes[:-1]])
    )
    buyer = _per_order(lines.buyer.codes, lines, first, "buyer_id")
    sharer = _per_order(lines.sharer.codes, lines, first, "sharer_id")
    assert lines.paid_at is not None
    paid = per_order(lines.paid_at, lines.order.codes, first, lines.order.values)
    order_ids = lines.order.values
    size = arrays.size

    def seller_lookup() -> Any:
        return _sellers(policy, arrays, lines, buyer, sharer, first)

    buyer_index = _index(arrays, lines.buyer.values, buyer)
    sharer_index = _index(arrays, lines.sharer.values, sharer)
    shared = (sharer_index < size) & (sharer_index != buyer_index)
    asked_guests = (buyer_index == size) & ~shared
    asked_all = ~shared
    bound = partial(bound_members, columns, arrays, lines.buyer.values, buyer, paid)

    timings = {
        "seller lookup (no bindings)": cpu_best(seller_lookup, args.repeat),
        "bindings, guests only": cpu_best(
            lambda: bound(asked_guests, order_ids=order_ids), args.repeat
        ),
        "bindings, bind_members on": cpu_best(
            lambda: bound(asked_all, order_ids=order_ids), args.repeat
        ),
        "seller lookup with bindings": cpu_best(
            lambda: _sellers(
                policy, arrays, lines, buyer, sharer, first, partial(bound, order_ids=order_ids)
            ),
            args.repeat,
        ),
    }
    base = timings["seller lookup (no bindings)"]
    print(
        f"{args.members:,} members, {lines.size:,} lines, {len(order_ids):,} orders; "
        f"{len(bindings):,} bindings of {len(bindings.customers):,} customers "
        f"({len(guests):,} guests)"
    )
    print(f"  {'':32s} {'warm':>8s}         ratio  {'cold':>8s}   ratio")
    for (label, seconds), cold in zip(timings.items(), COLD, strict=True):
        print(
            f"  {label:32s} {seconds:8.3f} s CPU  x{seconds / base:.2f}  {cold:8.3f} s  "
            f"x{cold / COLD[0]:.2f}"
        )
    print(f"  {'records (generating)':32s} {made:8.3f} s CPU  (once)")
    print(f"  {'Bindings.from_records':32s} {built:8.3f} s CPU  (once)")
    print(f"  {'binding columns':32s} {columned:8.3f} s CPU  (once per Bindings)")
    if not args.no_whole:
        for label, chosen, given in (
            ("settle_batch, no bindings", policy, None),
            ("settle_batch, bindings", policy, bindings),
            ("settle_batch, bind_members", members_too, bindings),
        ):
            seconds, _ = cpu_once(
                lambda c=chosen, g=given: settle_batch(c, tree, lines, bindings=g)
            )
            print(f"  {label:32s} {seconds:8.3f} s CPU  (once)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory {peak:,.0f} MB")
    return 0 if check(policy, members_too, tree, frame, bindings, args.sample) else 1


def _index(arrays: Any, values: Any, codes: np.ndarray) -> np.ndarray:
    """Tree index per order of an encoded member column; the tree size for none."""
    size = arrays.size
    found = arrays.lookup(values)
    return np.append(np.where(found < 0, size, found), size)[codes]


def check(
    policy: Any, members_too: Any, tree: Any, frame: pd.DataFrame, bindings: Bindings, count: int
) -> bool:
    """``settle_batch`` with bindings equals ``settle`` on the first ``count`` orders."""
    orders = sample_orders(frame, count)
    part = frame[frame["order_id"].isin([int(o.order_id) for o in orders])]
    assert len(part["order_id"].unique()) == len(orders)
    same = True
    for chosen in (policy, members_too):
        batch = settle_batch(chosen, tree, part, bindings=bindings).orders.rows()
        expected = [
            (int(o.order_id), s.seller_id, s.pool, s.paid, s.retained)
            for o, s in ((o, settle(chosen, tree, o, bindings=bindings)) for o in orders)
        ]
        same = same and batch == expected
    bound = sum(
        1 for o in orders if settle(policy, tree, o, bindings=bindings).attribution == "binding"
    )
    print(
        f"check on {len(orders):,} orders ({bound} credited by a binding):",
        "OK" if same else "FAILED",
    )
    return same


if __name__ == "__main__":
    sys.exit(main())
