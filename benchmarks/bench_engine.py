"""Benchmark ``settle_batch`` against the other ways of settling a big batch, on the same data.

Generates (deterministically, numpy ``default_rng(seed)``) an invite tree of ``--members``
members (default 1 000 000: preferential attachment plus "deep lines" hundreds of levels deep)
and ``--lines`` order lines (default 10 000 000) in a pandas DataFrame, then times, best of
``--repeat`` after one warm-up, each approach under three policy variants:

- ``youpin floor/line``: the bundled 有品推手 policy (``tuishou/data/youpin.toml``: a
  three-generation 级差 with a 平级 peer bonus) with ``rounding = "floor"`` and
  ``rounding_scope = "line"``;
- ``youpin shipped``: the same policy as shipped (largest remainder, once per order);
- ``yudao floor/line``: a yudao-style two-level policy (seller 5 %, generation 1 2 %, pool =
  the paid price, floor per line, no self-purchase).

Approaches:

1. ``settle_batch(policy, tree, df)``: the numpy batch engine, on every line;
2. ``settle`` per order (the reference), on a sample of ``--sample`` ``Order`` objects,
   extrapolated to every order;
3. a plain networkx implementation (build ``tree.graph`` once, then walk ``G.predecessors``
   per order), floor rounding only, on the same sample, extrapolated;
4. DuckDB SQL over the tree edges and the lines (a recursive CTE per distinct seller, then a
   join to the lines), on every line; loading the tables is timed on its own row.

Also ``evaluate_tiers`` on the whole tree (and a faster tier engine, if ``tuishou`` has one),
and the real inputs of issue 16 under ``--inputs-policy`` (``engine_files.run_parts``): the
same lines as object strings, pandas ``str``, ``string[pyarrow]``, Arrow strings and int ids
(``engine_inputs``); Parquet to payouts Parquet against DuckDB doing the same, and the CLI's
peak memory (``engine_files``); a 250k-line ``str`` frame against the per-order loop. Every
result is checked equal to the categorical path's; the issue's targets are printed as met or
not met, with Markdown tables for docs/performance.md (``engine_report``). ``--parts``
chooses what runs.

Each approach runs in a fresh forked child process, so its peak memory can be read on its
own (see ``PeakMemory``). Before reporting, the script checks in the same run that

- DuckDB pays exactly what ``settle_batch`` pays, per (member, kind), and the same pool
  (floor/line variants, and the shipped variant too);
- ``settle_batch`` gives, for the sampled orders, exactly the payout rows and pools of
  ``settle`` (every variant);
- the networkx loop's totals per (member, kind) equal ``settle_batch``'s on the sample;
- a tier engine, if found, returns exactly the reference's ``TierChange``s;

and prints OK or FAILED for each; any failure makes the exit status 1.

    .venv/bin/python benchmarks/bench_engine.py [--small] [--members N] [--lines N]
        [--sample N] [--seed N] [--repeat N] [--json PATH] [--markdown PATH]
        [--parts approaches,tiers,inputs,files,cli,loop] [--inputs-policy LABEL]
        [--workdir DIR] [--loop-size MEMBERS LINES]

Money is int fen and rates int basis points throughout; floats appear only in random
number generation (before amounts become ints), in timings and in ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import hashlib
import importlib.resources
import inspect
import json
import multiprocessing
import os
import platform
import re
import resource
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

import tuishou
from tuishou import (
    DifferentialRule,
    InviteTree,
    LayersRule,
    Order,
    OrderLine,
    Policy,
    Requirements,
    SellerRule,
    Tier,
    TierLadder,
    evaluate_tiers,
    load_policy,
    settle,
)
from tuishou.engine.batch import member_totals, settle_batch
from tuishou.engine.tables import KINDS

T = TypeVar("T")

TIERS = ("member", "pusher", "mentor", "senior_advisor")
TIER_SHARES = (0.70, 0.20, 0.07, 0.03)  # probabilities, not money
SUSPENDED_SHARE = 0.02
GROUPS = ("xiaomi", "ecosystem", "third_party")
GROUP_SHARES = (0.40, 0.35, 0.25)
GIFT_PACK = "gift-pack-398"  # the one sku with its own pool rate in youpin.toml
SKUS = 300
GUEST_SHARE = 0.05  # orders bought by a guest (an id the tree does not know)
SHARED_SHARE = 0.25  # orders placed through a member's share link
FEN_SCALE = 10**4  # rates are int units of 1/10 000 (tuishou.money.RATE_SCALE)
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "engine.json"
PARTS = ("approaches", "tiers", "inputs", "files", "cli", "loop")


# ----------------------------------------------------------------------------- the data


def generate_parents(size: int, rng: np.random.Generator) -> np.ndarray:
    """Each member's inviter index (``size`` for a root), in join order, then shuffled.

    Member j joins and picks its inviter (performance.md §1, "Data generator"):

    - with p = 2·10⁻⁴ it becomes a new root;
    - with p = 0.05 it extends one of ``max(2, size // 5000)`` deep lines (joins under the
      line's last member), so lines grow a few hundred levels; a line restarts under a
      random earlier member with p = 0.002;
    - otherwise preferential attachment: P(inviter = u) ∝ 1 + invites(u), drawn from an urn
      holding every member once plus once per invite.

    The ids are then randomly permuted, so an inviter's index is not always smaller.
    """
    roll = rng.random(size).tolist()
    pick = rng.random(size).tolist()
    line_of = rng.integers(0, max(2, size // 5000), size).tolist()
    restart = (rng.random(size) < 0.002).tolist()
    tips = [-1] * max(2, size // 5000)
    urn: list[int] = []
    parent = [size] * size
    for j in range(size):
        up = size
        if j and roll[j] >= 2e-4:
            if roll[j] < 2e-4 + 0.05:
                line = line_of[j]
                up = tips[line] if tips[line] >= 0 and not restart[j] else int(pick[j] * j)
                tips[line] = j
            else:
                up = urn[int(pick[j] * len(urn))]
        parent[j] = up
        urn.append(j)
        if up != size:
            urn.append(up)
    order = rng.permutation(size)  # member j of the join order gets index order[j]
    shuffled = np.empty(size, dtype=np.int64)
    joined = np.asarray(parent, dtype=np.int64)
    shuffled[order] = np.where(joined == size, size, order[np.minimum(joined, size - 1)])
    return shuffled


def member_ids(size: int) -> np.ndarray:
    """``m0000000``, ``m0000001``, ... as a numpy object array (built once)."""
    width = max(7, len(str(size - 1)))
    return np.array([f"m{i:0{width}d}" for i in range(size)], dtype=object)


def build_tree(size: int, rng: np.random.Generator) -> tuple[InviteTree, np.ndarray]:
    """The generated tree (tiers 70/20/7/3 %, ~2 % suspended) and its member ids."""
    ids = member_ids(size)
    parent = generate_parents(size, rng)
    inviter_ids = np.append(ids, None)[parent]  # index ``size`` is the root's None
    tiers = np.array(TIERS, dtype=object)[rng.choice(len(TIERS), size, p=TIER_SHARES)]
    statuses = np.where(rng.random(size) < SUSPENDED_SHARE, "suspended", "active").astype(object)
    tree = InviteTree.from_arrays(ids, inviter_ids, tiers, status=statuses)
    return tree, ids


def generate_lines(ids: np.ndarray, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` order lines: int order ids (sorted, 1-3 lines each) and categorical columns.

    Buyers are members drawn with lognormal(0, 1.5) weights (a few buy a lot) or, for 5 % of
    orders, guests ``g…`` (extra categories beyond the member ids); 25 % of orders carry a
    sharer (a member, drawn the same skewed way). A few hundred skus each belong to one group,
    popular ones Zipf-like; ``gift-pack-398`` is rare. Amounts are lognormal around 10 000 fen,
    clipped to [1, 10⁸], as int64; quantities 1-3.
    """
    size = len(ids)
    per_order = rng.integers(1, 4, count // 2 + 16)
    while per_order.sum() < count:
        per_order = np.concatenate([per_order, rng.integers(1, 4, count // 2 + 16)])
    orders = int(np.searchsorted(np.cumsum(per_order), count)) + 1
    per_order = per_order[:orders]
    per_order[-1] -= int(per_order.sum()) - count
    order_of_line = np.repeat(np.arange(orders, dtype=np.int64), per_order)

    weights = rng.lognormal(0.0, 1.5, size)
    buyers = rng.choice(size, orders, p=weights / weights.sum())
    guests = max(1, size // 10)
    is_guest = rng.random(orders) < GUEST_SHARE
    buyer = np.where(is_guest, size + rng.integers(0, guests, orders), buyers)
    weights = rng.lognormal(0.0, 1.5, size)
    sharers = rng.choice(size, orders, p=weights / weights.sum())
    sharer = np.where(rng.random(orders) < SHARED_SHARE, sharers, -1)

    sku_names = [GIFT_PACK] + [f"sku-{k:03d}" for k in range(1, SKUS)]
    sku_group = rng.choice(len(GROUPS), SKUS, p=GROUP_SHARES)
    popularity = 1.0 / np.arange(1, SKUS + 1) ** 0.8
    popularity[0] = popularity[1:].sum() * 0.005 / 0.995  # the gift pack: 0.5 % of lines
    rng.shuffle(popularity[1:])
    sku = rng.choice(SKUS, count, p=popularity / popularity.sum())
    amount = np.clip(np.rint(rng.lognormal(np.log(10_000), 1.0, count)), 1, 10**8)

    guest_ids = [f"g{i:07d}" for i in range(guests)]
    return pd.DataFrame(
        {
            "order_id": 10**10 + order_of_line,
            "buyer_id": pd.Categorical.from_codes(
                buyer[order_of_line], categories=pd.Index([*ids.tolist(), *guest_ids])
            ),
            "sharer_id": pd.Categorical.from_codes(
                sharer[order_of_line], categories=pd.Index(ids.tolist())
            ),
            "sku": pd.Categorical.from_codes(sku, categories=pd.Index(sku_names)),
            "group": pd.Categorical.from_codes(sku_group[sku], categories=pd.Index(GROUPS)),
            "amount": amount.astype(np.int64),
            "quantity": rng.integers(1, 4, count),
        }
    )


def sample_orders(df: pd.DataFrame, count: int, rng: np.random.Generator) -> list[Order]:
    """``count`` random orders of ``df`` (kept in input order) as ``Order`` objects.

    Reads categorical columns through their codes: materialising a 10M-row column of
    strings would leave a gigabyte of freed Python objects behind in this process, which
    every forked child would inherit as free, resident memory (hiding its real growth).
    """
    order_ids = df["order_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, order_ids[1:] != order_ids[:-1]])
    ends = np.r_[starts[1:], len(order_ids)]
    chosen = np.sort(rng.choice(len(starts), min(count, len(starts)), replace=False))
    text = {
        name: (df[name].cat.codes.to_numpy(), df[name].cat.categories.tolist())
        for name in ("buyer_id", "sharer_id", "sku", "group")
    }

    def value(name: str, row: int) -> str | None:
        codes, names = text[name]
        return None if codes[row] < 0 else str(names[codes[row]])

    amount, quantity = df["amount"].to_numpy(), df["quantity"].to_numpy()
    sampled = []
    for k in chosen.tolist():
        start, end = int(starts[k]), int(ends[k])
        lines = [
            OrderLine(
                sku=value("sku", r),
                group=value("group", r),
                amount=int(amount[r]),
                quantity=int(quantity[r]),
            )
            for r in range(start, end)
        ]
        sampled.append(
            Order(
                order_id=str(order_ids[start]),
                buyer_id=value("buyer_id", start),
                sharer_id=value("sharer_id", start),
                lines=lines,
            )
        )
    return sampled


def tree_shape(tree: InviteTree) -> dict[str, Any]:
    """Roots, depth percentiles and the biggest inviter: does the tree look realistic?"""
    arrays = tree.arrays()
    depth = arrays.depth()
    directs = np.bincount(arrays.parent, minlength=arrays.size + 1)[: arrays.size]
    p50, p90, p99 = np.percentile(depth, [50, 90, 99]).astype(int).tolist()
    return {
        "members": arrays.size,
        "roots": int((arrays.parent == arrays.size).sum()),
        "depth_mean": round(float(depth.mean()), 1),
        "depth_p50": p50,
        "depth_p90": p90,
        "depth_p99": p99,
        "depth_max": int(depth.max()),
        "max_direct_invites": int(directs.max()),
        "leaves_pct": round(100 * float((directs == 0).mean()), 1),
        "suspended": int((~arrays.active).sum()),
    }


def lines_shape(df: pd.DataFrame, members: int) -> dict[str, Any]:
    """How many orders, guests, shared orders and distinct buyers the lines hold."""
    order_ids = df["order_id"].to_numpy()
    first = np.r_[True, order_ids[1:] != order_ids[:-1]]
    buyer = df["buyer_id"].cat.codes.to_numpy()[first]
    sharer = df["sharer_id"].cat.codes.to_numpy()[first]
    return {
        "lines": len(df),
        "orders": int(first.sum()),
        "guest_orders": int((buyer >= members).sum()),
        "shared_orders": int((sharer >= 0).sum()),
        "distinct_member_buyers": int(np.unique(buyer[buyer < members]).size),
        "amount_fen_total": int(df["amount"].sum()),
    }


# ----------------------------------------------------------------------------- policies


def policies() -> dict[str, Policy]:
    """The three policy variants every approach runs under, by label."""
    youpin = load_policy(importlib.resources.files("tuishou") / "data" / "youpin.toml")
    floor = Policy.model_validate(
        {**youpin.model_dump(), "rounding": "floor", "rounding_scope": "line"}
    )
    yudao = Policy.model_validate(
        {
            "name": "yudao-two-level",
            "tiers": list(TIERS),
            "group_rates": dict.fromkeys(GROUPS, "1"),
            "self_purchase": False,
            "max_generation": 1,
            "rounding": "floor",
            "rounding_scope": "line",
            "rules": [
                {"kind": "seller", "rates": dict.fromkeys(TIERS, "0.05")},
                {"kind": "layers", "rates": {tier: ["0.02"] for tier in TIERS}},
            ],
        }
    )
    return {"youpin floor/line": floor, "youpin shipped": youpin, "yudao floor/line": yudao}


def is_floor_line(policy: Policy) -> bool:
    """The variants every approach computes (networkx handles only these)."""
    return policy.rounding == "floor" and policy.rounding_scope == "line"


def example_ladder() -> TierLadder:
    """A 4-tier ladder like docs/domain.md §15 Example C, with a ``min_direct_at`` requirement."""
    return TierLadder(
        tiers=[
            Tier(name="member"),
            Tier(name="pusher", requires=Requirements(min_personal_sales=39_600)),
            Tier(name="mentor", requires=Requirements(min_direct=3, min_team_sales=500_000)),
            Tier(
                name="senior_advisor",
                requires=Requirements(min_direct_at={"mentor": 2}, min_team_size=8),
            ),
        ]
    )


def personal_sales(df: pd.DataFrame, ids: np.ndarray) -> dict[str, int]:
    """Each member's own purchases in fen (guests left out), summed exactly in int64."""
    buyer = df["buyer_id"].cat.codes.to_numpy().astype(np.int64)
    members = buyer < len(ids)
    totals = np.zeros(len(ids), dtype=np.int64)
    np.add.at(totals, buyer[members], df["amount"].to_numpy()[members])
    paying = np.flatnonzero(totals)
    return dict(zip(ids[paying].tolist(), totals[paying].tolist(), strict=True))


# ----------------------------------------------------------------------------- measuring


def best_of(
    run: Callable[[], T], repeat: int, cpu: list[float] | None = None
) -> tuple[float, float, T]:
    """Run once to warm up, then ``repeat`` times: (best seconds, warm-up seconds, result).

    The previous result is dropped before each run, so peak memory is that of one run.
    ``cpu``: the best CPU seconds of this process is appended to it (steadier than wall
    time while other work shares the machine; counts every thread of the process).
    """
    start = time.perf_counter()
    result = run()
    first = time.perf_counter() - start
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        result = None  # type: ignore[assignment]
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    if cpu is not None:
        cpu.append(best_cpu)
    return best, first, result


class PeakMemory:
    """Peak resident memory (RSS) of this process since the last ``reset``, in MB.

    Linux keeps a high-water mark (``VmHWM`` in /proc/self/status); writing 5 to
    /proc/self/clear_refs resets it to the current RSS. A forked child starts with the
    parent's pages (the tree and the order lines) resident, so each reading gives both the
    peak and the peak minus the RSS at the last reset: what the approach itself added.
    Where clear_refs is not available, ``ru_maxrss`` (never reset) is used.
    """

    def __init__(self) -> None:
        self.start = self.reset()

    @staticmethod
    def _status(key: str) -> int | None:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith(key + ":"):
                        return int(line.split()[1]) // 1024
        except OSError:
            pass
        return None

    @classmethod
    def rss(cls) -> int:
        """The current RSS in MB (0 where /proc is missing)."""
        return cls._status("VmRSS") or 0

    def reset(self) -> int:
        """Reset the high-water mark; return the current RSS in MB."""
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
                clear.write("5")
        except OSError:
            pass
        self.start = self.rss()
        return self.start

    def peak(self) -> tuple[int, int]:
        """(peak RSS MB since the last reset, that peak minus the RSS at the reset)."""
        peak = self._status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        return peak, peak - self.start


def release_free_memory() -> int:
    """Collect garbage and hand free heap memory back to the OS; return the RSS in MB.

    A forked child inherits the parent's resident pages, free ones included, and could
    reuse them without its RSS growing: the parent trims first, so a child's growth shows.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return PeakMemory.rss()


def in_child(task: Callable[[], T]) -> T:
    """Run ``task`` in a fresh forked process and return what it returns (pickled back)."""
    release_free_memory()
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def body() -> None:
        try:
            send.send(("ok", task()))
        except BaseException:  # reported in the parent
            send.send(("error", traceback.format_exc()))
        finally:
            send.close()

    process = context.Process(target=body)
    process.start()
    send.close()
    try:
        status, value = receive.recv()
    except EOFError:
        process.join()
        raise RuntimeError(
            f"child process died (exit code {process.exitcode}); out of memory?"
        ) from None
    process.join()
    if status != "ok":
        raise RuntimeError(f"child process failed:\n{value}")
    result: T = value
    return result


@dataclass
class Row:
    """One line of the results table."""

    approach: str
    policy: str
    seconds: float
    first_seconds: float | None = None
    work: int | None = None  # lines (or members, for tiers) the seconds stand for
    unit: str = "lines"
    peak_mb: int | None = None
    added_mb: int | None = None
    sampled: int | None = None  # orders actually run, when extrapolated
    ratio: float | None = None
    note: str = ""
    cpu_seconds: float | None = None  # best CPU time of this process, where measured

    @classmethod
    def measured(
        cls, approach: str, policy: str, run: dict[str, Any], work: int | None = None, **fields: Any
    ) -> Row:
        """A row from a child's run (``seconds``, ``first`` if any, ``peak``), its times
        multiplied by ``fields["scale"]`` when given (sampled runs, extrapolated)."""
        scale = fields.pop("scale", 1.0)
        first = run.get("first")
        return cls(
            approach,
            policy,
            run["seconds"] * scale,
            None if first is None else first * scale,
            work,
            peak_mb=run["peak"][0],
            added_mb=run["peak"][1],
            **fields,
        )


@dataclass
class Check:
    """One verification: what was compared, and whether it matched."""

    what: str
    ok: bool
    detail: str = ""


@dataclass
class Context:
    """Everything the approaches share (inherited by the forked children)."""

    tree: InviteTree
    ids: np.ndarray
    df: pd.DataFrame
    sample: list[Order]
    policies: dict[str, Policy]
    repeat: int
    lines: int
    orders: int
    sample_lines: int = field(init=False)

    def __post_init__(self) -> None:
        self.sample_lines = sum(len(order.lines) for order in self.sample)


# ----------------------------------------------------------------------------- 1. the engine


def run_engine(ctx: Context, label: str) -> dict[str, Any]:
    """``settle_batch`` on every line; its totals per (member, kind) and the sample's rows."""
    memory = PeakMemory()
    policy = ctx.policies[label]
    cpu: list[float] = []
    seconds, first, result = best_of(
        lambda: settle_batch(policy, ctx.tree, ctx.df), ctx.repeat, cpu
    )
    peak = memory.peak()
    payouts = result.payouts
    totals = np.zeros(len(ctx.ids) * len(KINDS), dtype=np.int64)
    np.add.at(totals, payouts.member * len(KINDS) + payouts.kind, payouts.amount)
    sample_ids = np.array([int(order.order_id) for order in ctx.sample], dtype=np.int64)
    order_ids = np.asarray(payouts.order_ids)
    mask = np.isin(order_ids[payouts.order], sample_ids)
    columns = [
        order_ids[payouts.order[mask]].tolist(),
        [payouts.member_ids[m] for m in payouts.member[mask].tolist()],
        [payouts.rules[r] for r in payouts.rule[mask].tolist()],
        [KINDS[k] for k in payouts.kind[mask].tolist()],
        payouts.generation[mask].tolist(),
        payouts.amount[mask].tolist(),
    ]
    table = result.orders
    in_sample = np.isin(order_ids[table.order], sample_ids)
    pools = dict(
        zip(order_ids[table.order[in_sample]].tolist(), table.pool[in_sample].tolist(), strict=True)
    )
    return {
        "seconds": seconds,
        "first": first,
        "peak": peak,
        "totals": totals,
        "paid": result.paid,
        "pool": result.pool,
        "payouts": len(payouts),
        "sample_rows": list(zip(*columns, strict=True)),
        "sample_pools": pools,
        "cpu": cpu[0],
    }


def run_member_totals(ctx: Context, label: str) -> dict[str, Any]:
    """``member_totals``: the aggregate DuckDB's query computes, without a row per payout."""
    memory = PeakMemory()
    policy = ctx.policies[label]
    seconds, first, result = best_of(lambda: member_totals(policy, ctx.tree, ctx.df), ctx.repeat)
    per_member = np.zeros(len(ctx.ids), dtype=np.int64)
    per_member[result.member] = result.amount
    return {"seconds": seconds, "first": first, "peak": memory.peak(), "per_member": per_member}


def compare_member_totals(engine: dict[str, Any], run: dict[str, Any], label: str) -> Check:
    """member_totals against settle_batch's payouts summed per member."""
    expected = engine["totals"].reshape(-1, len(KINDS)).sum(axis=1)
    same = np.array_equal(expected, run["per_member"])
    return Check(
        f"member_totals == settle_batch summed per member ({label})",
        same,
        f"paid {int(run['per_member'].sum()):,} vs {engine['paid']:,} fen",
    )


# ----------------------------------------------------------------------------- 2. settle


def run_reference(ctx: Context, label: str) -> dict[str, Any]:
    """The per-order reference ``settle`` on the sample of ``Order`` objects."""
    memory = PeakMemory()
    policy = ctx.policies[label]
    cpu: list[float] = []
    seconds, first, settled = best_of(
        lambda: [settle(policy, ctx.tree, order) for order in ctx.sample], ctx.repeat, cpu
    )
    rows = [
        (int(s.order_id), p.member_id, p.rule, p.kind, p.generation, p.amount)
        for s in settled
        for p in s.payouts
    ]
    return {
        "seconds": seconds,
        "first": first,
        "peak": memory.peak(),
        "rows": rows,
        "pools": {int(s.order_id): s.pool for s in settled},
        "cpu": cpu[0],
    }


# ----------------------------------------------------------------------------- 3. networkx


def networkx_settle(
    graph: Any, policy: Policy, orders: Sequence[Order]
) -> tuple[dict[tuple[str, str], int], int]:
    """What a developer writes first: walk ``G.predecessors`` up from each order's seller.

    Floor per line and no compression only. Returns (fen per (member, kind), total pool).
    """
    units, nodes = policy.units, graph.nodes
    totals: dict[tuple[str, str], int] = defaultdict(int)
    pool = 0
    for order in orders:
        line_pools = []  # in 1/10 000 fen
        for line in order.lines:
            rate = units.sku.get(line.sku)
            line_pools.append(line.amount * (units.group[line.group] if rate is None else rate))
        pool += sum(p // FEN_SCALE for p in line_pools)
        seller = order.sharer_id
        if seller is None:
            if order.buyer_id is None or order.buyer_id not in graph:
                continue
            seller = (
                order.buyer_id
                if policy.self_purchase
                else next(iter(graph.predecessors(order.buyer_id)), None)
            )
            if seller is None:
                continue
        chain = [seller]
        while len(chain) <= policy.max_generation:
            inviter = next(iter(graph.predecessors(chain[-1])), None)
            if inviter is None:
                break
            chain.append(inviter)
        for member, kind, share in _networkx_shares(
            policy, [nodes[m]["tier"] for m in chain], chain
        ):
            if nodes[member]["status"] == "active":
                for line_pool in line_pools:
                    totals[member, kind] += line_pool * share // (FEN_SCALE * FEN_SCALE)
    return totals, pool


def _networkx_shares(
    policy: Policy, tiers: list[str], chain: list[str]
) -> list[tuple[str, str, int]]:
    """(member, kind, share in 1/10 000) for every rule, docs/domain.md §8, with plain ints."""
    shares = []
    for rule, units in zip(policy.rules, policy.units.rules, strict=True):
        rates = units.rates
        if rule.kind == "seller":
            shares.append((chain[0], "seller", rates.get(tiers[0], 0)))
        elif rule.kind == "layers":
            for g in range(1, len(chain)):
                by_generation = rates.get(tiers[g], ())
                shares.append(
                    (chain[g], "layer", by_generation[g - 1] if g <= len(by_generation) else 0)
                )
        else:
            paid, top, peers = 0, None, 0
            for g in range(0 if rule.include_seller else 1, len(chain)):
                rate = rates.get(tiers[g], 0)
                if rate > paid:
                    shares.append((chain[g], "differential", rate - paid))
                    paid, top = rate, tiers[g]
                elif g and tiers[g] == top and peers < rule.peer_max:
                    shares.append((chain[g], "peer", units.peer_rate))
                    peers += 1
    return shares


def run_networkx(ctx: Context) -> dict[str, Any]:
    """Build ``tree.graph`` once (timed on its own), then the walk per floor/line policy."""
    memory = PeakMemory()
    start = time.perf_counter()
    graph = ctx.tree.graph
    built = {"seconds": time.perf_counter() - start, "peak": memory.peak()}
    runs = {}
    for label, policy in ctx.policies.items():
        if not is_floor_line(policy):
            continue
        seconds, first, (totals, pool) = best_of(
            lambda policy=policy: networkx_settle(graph, policy, ctx.sample), ctx.repeat
        )
        runs[label] = {
            "seconds": seconds,
            "first": first,
            "peak": memory.peak(),
            "totals": dict(totals),
            "pool": pool,
        }
    return {"build": built, "runs": runs}


# ----------------------------------------------------------------------------- 4. DuckDB


def duckdb_tables(ctx: Context) -> dict[str, Any]:
    """The tree edges and the order lines as pyarrow tables over the numpy arrays.

    Numeric columns without nulls are wrapped without copying; ``parent`` and ``sharer``
    are NULL for "none". ``buyer`` is the buyer's code: the member's index, or an index
    beyond the tree for a guest (so it matches no member, as a guest's id would not).
    """
    import pyarrow as pa

    arrays = ctx.tree.arrays()
    size = arrays.size
    members = pa.table(
        {
            "idx": pa.array(np.arange(size, dtype=np.int32)),
            "parent": pa.array(arrays.parent.astype(np.int32), mask=arrays.parent == size),
            "tier": pa.array(arrays.tier.astype(np.int8)),
            "active": pa.array(arrays.active),
        }
    )
    sharer = ctx.df["sharer_id"].cat.codes.to_numpy()
    lines = pa.table(
        {
            "order_id": pa.array(ctx.df["order_id"].to_numpy()),
            "buyer": pa.array(ctx.df["buyer_id"].cat.codes.to_numpy()),
            "sharer": pa.array(sharer, mask=sharer < 0),
            "grp": pa.array(ctx.df["group"].cat.codes.to_numpy()),
            "sku": pa.array(ctx.df["sku"].cat.codes.to_numpy()),
            "amount": pa.array(ctx.df["amount"].to_numpy()),
        }
    )
    return {"members": members, "lines": lines}


def _case(column: str, values: dict[int, int], otherwise: str = "0") -> str:
    """``CASE column WHEN code THEN value ... ELSE otherwise END`` (zero values left out)."""
    whens = " ".join(f"WHEN {code} THEN {value}" for code, value in values.items() if value)
    return f"(CASE {column} {whens} ELSE {otherwise} END)" if whens else otherwise


def _half_even(expression: str, scale: int) -> str:
    """SQL for ``expression / scale`` rounded half to even (``expression`` ≥ 0)."""
    whole, rest, half = f"(({expression}) // {scale})", f"(({expression}) % {scale})", scale // 2
    return (
        f"({whole} + CASE WHEN {rest} > {half} OR ({rest} = {half} AND {whole} % 2 = 1) "
        "THEN 1 ELSE 0 END)"
    )


class DuckdbPlan:
    """The SQL for one policy: payouts per (member, kind) plus the pool as row (-1, -1).

    1. ``line_sellers``: each line's pool in 1/10 000 fen (sku rate, else group rate) and its
       seller (the sharer, else the buyer or the buyer's inviter; a guest joins no member);
    2. ``chain``: a recursive CTE per *distinct* seller, generation by generation up to
       ``max_generation``, carrying the differential walk's state (paid, top tier, peers);
    3. ``schedule``: every rule's share per chain position, active members only;
    4. the lines (floor per line) or the orders (largest remainder per order, by window
       functions) joined to the schedule and summed per (member, kind).

    Rates are the policy's int basis points written into the SQL, so everything is exact
    BIGINT/HUGEINT arithmetic. Covers seller, layers and one differential rule, without
    compression, rounded floor per line or largest remainder per order: this benchmark's
    variants (anything else raises ``NotImplementedError``).
    """

    def __init__(
        self, policy: Policy, tier_names: Sequence[str], groups: Sequence[str], skus: Sequence[str]
    ) -> None:
        if policy.compression:
            raise NotImplementedError("the SQL does not model compression")
        if sum(rule.kind == "differential" for rule in policy.rules) > 1:
            raise NotImplementedError("the SQL models at most one differential rule")
        self.policy, self.units = policy, policy.units
        self.tier_code = {name: i for i, name in enumerate(tier_names)}
        self.groups, self.skus = groups, skus

    def tier_case(self, column: str, rates: dict[str, int]) -> str:
        """A tier's rate (basis points) from the tree's tier code in ``column``."""
        return _case(
            column, {self.tier_code[t]: r for t, r in rates.items() if t in self.tier_code}
        )

    def sql(self, *, rows: bool = False) -> str:
        """The whole query: totals per (member, kind), or (``rows``) one row per payout."""
        policy = self.policy
        ctes = f"WITH RECURSIVE\n{self.line_sellers()},\n{self.chain()},\n{self.schedule()}"
        if policy.rounding == "floor" and policy.rounding_scope == "line":
            return ctes + (self.floor_rows() if rows else self.floor_per_line())
        if policy.rounding == "largest_remainder" and policy.rounding_scope == "order":
            tail = self.largest_remainder_per_order()
            return ctes + (
                tail.split("\n    SELECT member, kind,")[0] + self.ranked_rows() if rows else tail
            )
        raise NotImplementedError(f"rounding {policy.rounding!r} per {policy.rounding_scope!r}")

    @staticmethod
    def floor_rows() -> str:
        """One row per payout: each order's floored line amounts per (member, rule, kind)."""
        return f"""
    SELECT l.order_id, s.member, s.kind, s.gen,
           CAST(SUM(l.pool4 * s.share // {FEN_SCALE**2}) AS BIGINT) AS amount
    FROM line_sellers l JOIN schedule s ON s.seller = l.seller
    GROUP BY l.order_id, s.member, s.pos, s.kind, s.gen
    HAVING amount > 0"""

    @staticmethod
    def ranked_rows() -> str:
        """One row per payout from the largest-remainder ranking."""
        return """
    SELECT order_id, member, kind, gen, amount FROM (
        SELECT order_id, member, kind, gen,
               CAST(whole + CASE WHEN place <= missing THEN 1 ELSE 0 END AS BIGINT) AS amount
        FROM ranked) WHERE amount > 0"""

    def line_sellers(self) -> str:
        """Each line's pool (1/10 000 fen) and seller (docs/domain.md §6, §7; a sharer who is
        the buyer is no share link)."""
        units = self.units
        rate = _case("l.grp", {i: units.group.get(g, 0) for i, g in enumerate(self.groups)}, "NULL")
        if units.sku:
            sku_rate = _case(
                "l.sku",
                {i: units.sku[s] for i, s in enumerate(self.skus) if s in units.sku},
                "NULL",
            )
            rate = f"COALESCE({sku_rate}, {rate})"
        credited = "b.idx" if self.policy.self_purchase else "b.parent"
        return f"""
    line_sellers AS (
        SELECT l.order_id, CAST(l.amount AS BIGINT) * {rate} AS pool4,
               COALESCE(CASE WHEN l.sharer IS DISTINCT FROM l.buyer THEN l.sharer END,
                        {credited}) AS seller
        FROM lines l LEFT JOIN members b ON b.idx = l.buyer
    ),
    sellers AS (SELECT DISTINCT seller FROM line_sellers WHERE seller IS NOT NULL)"""

    def chain(self) -> str:
        """Per seller, generations 0..max_generation with the differential's shares (§5)."""
        rule = next((r for r in self.policy.rules if isinstance(r, DifferentialRule)), None)
        if rule is None:
            rate, seed, peer_rate, peer_max = "0", "0", 0, 0
        else:
            units = self.units.rules[self.policy.rules.index(rule)]
            rate = self.tier_case("m.tier", units.rates)
            seed = rate if rule.include_seller else "0"
            peer_rate, peer_max = units.peer_rate, rule.peer_max
        peer = f"{rate} <= c.paid AND m.tier = c.top AND c.peers < {peer_max}"
        return f"""
    chain AS (
        SELECT s.seller, 0 AS gen, m.idx AS member, m.parent, m.tier, m.active,
               CAST({seed} AS INTEGER) AS paid,
               CAST(CASE WHEN {seed} > 0 THEN m.tier END AS INTEGER) AS top,
               0 AS peers, CAST({seed} AS INTEGER) AS dshare, 0 AS pshare
        FROM sellers s JOIN members m ON m.idx = s.seller
        UNION ALL
        SELECT c.seller, c.gen + 1, m.idx, m.parent, m.tier, m.active,
               GREATEST(c.paid, {rate}),
               CASE WHEN {rate} > c.paid THEN m.tier ELSE c.top END,
               c.peers + CASE WHEN {peer} THEN 1 ELSE 0 END,
               CASE WHEN {rate} > c.paid THEN {rate} - c.paid ELSE 0 END,
               CASE WHEN {peer} THEN {peer_rate} ELSE 0 END
        FROM chain c JOIN members m ON m.idx = c.parent
        WHERE c.gen < {self.policy.max_generation}
    )"""

    def schedule(self) -> str:
        """Every rule's share per (seller, chain member), in payout order (gen, pos, peer)."""
        slots = []
        for position, (rule, units) in enumerate(
            zip(self.policy.rules, self.units.rules, strict=True)
        ):
            pick = f"SELECT seller, member, active, gen, {position} AS pos"
            if isinstance(rule, SellerRule):
                share = self.tier_case("tier", units.rates)
                slots.append(
                    f"{pick}, 0 AS peer, 0 AS kind, {share} AS share FROM chain WHERE gen = 0"
                )
            elif isinstance(rule, LayersRule):
                by_generation = " ".join(
                    f"WHEN {g} THEN "
                    + self.tier_case(
                        "tier",
                        {t: rates[g - 1] for t, rates in units.rates.items() if g <= len(rates)},
                    )
                    for g in range(1, self.policy.max_generation + 1)
                )
                slots.append(
                    f"{pick}, 0 AS peer, 1 AS kind, "
                    f"(CASE gen {by_generation} ELSE 0 END) AS share "
                    "FROM chain WHERE gen >= 1"
                )
            else:
                slots.append(f"{pick}, 0 AS peer, 2 AS kind, dshare AS share FROM chain")
                slots.append(f"{pick}, 1 AS peer, 3 AS kind, pshare AS share FROM chain")
        union = "\n        UNION ALL ".join(slots)
        return f"""
    schedule AS (
        SELECT * FROM ({union}) WHERE share > 0 AND active
    )"""

    @staticmethod
    def floor_per_line() -> str:
        """floor(pool × share) per line, summed; the pool is the sum of floored line pools."""
        return f"""
    SELECT s.member, s.kind, CAST(SUM(l.pool4 * s.share // {FEN_SCALE**2}) AS BIGINT) AS amount
    FROM line_sellers l JOIN schedule s ON s.seller = l.seller
    GROUP BY s.member, s.kind
    UNION ALL
    SELECT -1, -1, CAST(SUM(l.pool4 // {FEN_SCALE}) AS BIGINT) FROM line_sellers l"""

    @staticmethod
    def largest_remainder_per_order() -> str:
        """Floors plus one fen each to the largest remainders (ties: payout order), per order,
        until the half-even rounded total; the pool is each order's pool rounded half-even."""
        scale = FEN_SCALE**2
        return f""",
    orders AS (
        SELECT order_id, seller, SUM(pool4) AS pool4 FROM line_sellers GROUP BY order_id, seller
    ),
    exact AS (
        SELECT o.order_id, s.member, s.kind, s.gen, s.pos, s.peer,
               CAST(o.pool4 AS HUGEINT) * s.share AS x
        FROM orders o JOIN schedule s ON s.seller = o.seller
    ),
    ranked AS (
        SELECT order_id, member, kind, gen, x // {scale} AS whole,
               {_half_even("SUM(x) OVER per_order", scale)}
                   - SUM(x // {scale}) OVER per_order AS missing,
               ROW_NUMBER() OVER (PARTITION BY order_id
                                  ORDER BY x % {scale} DESC, gen, pos, peer) AS place
        FROM exact WINDOW per_order AS (PARTITION BY order_id)
    )
    SELECT member, kind,
           CAST(SUM(whole + CASE WHEN place <= missing THEN 1 ELSE 0 END) AS BIGINT) AS amount
    FROM ranked GROUP BY member, kind
    UNION ALL
    SELECT -1, -1, CAST(SUM({_half_even("pool4", FEN_SCALE)}) AS BIGINT) FROM orders"""


def run_duckdb(ctx: Context, label: str) -> dict[str, Any]:
    """Register the tables (timed as loading), then time one policy's query."""
    import duckdb

    memory = PeakMemory()
    start = time.perf_counter()
    con = duckdb.connect()
    for name, table in duckdb_tables(ctx).items():
        con.register(name, table)
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    loaded = {
        "seconds": time.perf_counter() - start,
        "peak": memory.peak(),
        "threads": threads[0] if threads else None,
    }
    plan = DuckdbPlan(
        ctx.policies[label],
        ctx.tree.arrays().tier_names,
        list(ctx.df["group"].cat.categories),
        list(ctx.df["sku"].cat.categories),
    )
    sql = plan.sql()
    seconds, first, found = best_of(lambda: con.execute(sql).fetchnumpy(), ctx.repeat)
    peak = memory.peak()
    member, kind, amount = (
        np.asarray(found[c], dtype=np.int64) for c in ("member", "kind", "amount")
    )
    is_pool = member < 0
    totals = np.zeros(len(ctx.ids) * len(KINDS), dtype=np.int64)
    np.add.at(totals, member[~is_pool] * len(KINDS) + kind[~is_pool], amount[~is_pool])
    pool = int(amount[is_pool].sum())
    del found
    memory = PeakMemory()
    rows_sql = plan.sql(rows=True)
    row_seconds, row_first, rows = best_of(lambda: con.execute(rows_sql).fetchnumpy(), ctx.repeat)
    row_peak = memory.peak()
    member, kind, amount = (
        np.asarray(rows[c], dtype=np.int64) for c in ("member", "kind", "amount")
    )
    row_totals = np.zeros(len(ctx.ids) * len(KINDS), dtype=np.int64)
    np.add.at(row_totals, member * len(KINDS) + kind, amount)
    return {
        "load": loaded,
        "seconds": seconds,
        "first": first,
        "peak": peak,
        "totals": totals,
        "pool": pool,
        "rows": {
            "seconds": row_seconds,
            "first": row_first,
            "peak": row_peak,
            "count": len(amount),
            "totals": row_totals,
        },
    }


# ----------------------------------------------------------------------------- tiers


def tier_evaluations(members: int) -> list[tuple[str, Callable[..., Any]]]:
    """The ways ``tuishou`` can evaluate tiers now: the reference first, then a faster engine.

    Looked for, in turn: a size threshold in ``tuishou.tiers`` whose name mentions
    engine/batch (``evaluate_tiers`` switching to an engine for big trees: the reference is
    then timed with the threshold raised above the tree size, in the child process only);
    a public function whose name mentions batch/engine; a keyword of ``evaluate_tiers``
    that does. Without any, only ``evaluate_tiers`` itself is timed.
    """
    import tuishou.tiers as tiers

    limits = [
        (name, value)
        for name, value in vars(tiers).items()
        if re.search("engine|batch", name, re.I) and type(value) is int
    ]
    if limits:
        name, limit = limits[0]

        def reference(*args: Any) -> Any:
            setattr(tiers, name, members + 1)
            try:
                return evaluate_tiers(*args)
            finally:
                setattr(tiers, name, limit)

        paths: list[tuple[str, Callable[..., Any]]] = [
            (f"evaluate_tiers, reference path ({name} > N)", reference)
        ]
        if members >= limit:
            paths.append((f"evaluate_tiers, engine path (N >= {name}={limit})", evaluate_tiers))
        return paths
    reference_only = [("evaluate_tiers", evaluate_tiers)]
    for name in dir(tiers):
        function = getattr(tiers, name)
        if (
            re.search("batch|engine", name, re.I)
            and inspect.isfunction(function)
            and not name.startswith("_")
        ):
            return [*reference_only, (f"tuishou.tiers.{name}", function)]
    for name, parameter in inspect.signature(evaluate_tiers).parameters.items():
        if re.search("batch|engine", name, re.I):
            value: Any = True
            if isinstance(parameter.default, str):  # e.g. engine="python": the other choice
                choices = re.findall(r"'([^']+)'", str(parameter.annotation))
                value = next((c for c in choices if c != parameter.default), None)
                if value is None:
                    continue
            return [
                *reference_only,
                (
                    f"evaluate_tiers(..., {name}={value!r})",
                    lambda *args, _n=name, _v=value: evaluate_tiers(*args, **{_n: _v}),
                ),
            ]
    return reference_only


def run_tiers(
    ctx: Context, ladder: TierLadder, sales: dict[str, int], function: Callable[..., Any]
) -> dict[str, Any]:
    """Time one tier evaluation over the whole tree; its changes as plain tuples."""
    memory = PeakMemory()
    seconds, first, changes = best_of(lambda: function(ladder, ctx.tree, sales), ctx.repeat)
    rows = [(c.member_id, c.old, c.new, c.reason) for c in changes]
    return {"seconds": seconds, "first": first, "peak": memory.peak(), "changes": rows}


# ----------------------------------------------------------------------------- verification


def compare_sample(engine: dict[str, Any], reference: dict[str, Any], label: str) -> Check:
    """The engine's rows and pools for the sampled orders against ``settle``'s."""
    rows_ok = engine["sample_rows"] == reference["rows"]
    pools_ok = engine["sample_pools"] == reference["pools"]
    paid = sum(row[-1] for row in reference["rows"])
    engine_paid = sum(row[-1] for row in engine["sample_rows"])
    detail = (
        f"{len(reference['rows']):,} payout rows, paid {engine_paid:,} vs {paid:,} fen, "
        f"pool {sum(engine['sample_pools'].values()):,} vs "
        f"{sum(reference['pools'].values()):,} fen"
    )
    if not rows_ok:
        first = next(
            (
                i
                for i, (a, b) in enumerate(
                    zip(engine["sample_rows"], reference["rows"], strict=False)
                )
                if a != b
            ),
            None,
        )
        detail += f"; first differing row {first}"
    return Check(f"settle_batch == settle on the sample ({label})", rows_ok and pools_ok, detail)


def sample_totals(rows: Sequence[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
    """Fen per (member, kind) from payout rows."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for _, member, _, kind, _, amount in rows:
        totals[member, kind] += amount
    return dict(totals)


def compare_networkx(engine: dict[str, Any], nx_run: dict[str, Any], label: str) -> Check:
    """networkx totals per (member, kind) and pool against the engine's, on the sample."""
    expected = sample_totals(engine["sample_rows"])
    found = {key: value for key, value in nx_run["totals"].items() if value}
    pool = sum(engine["sample_pools"].values())
    ok = found == expected and nx_run["pool"] == pool
    return Check(
        f"networkx == settle_batch on the sample ({label})",
        ok,
        f"paid {sum(found.values()):,} vs {sum(expected.values()):,} fen, "
        f"pool {nx_run['pool']:,} vs {pool:,} fen",
    )


def compare_duckdb(engine: dict[str, Any], db_run: dict[str, Any], label: str) -> Check:
    """DuckDB totals per (member, kind) and pool against the engine's, on every line."""
    same = np.array_equal(engine["totals"], db_run["totals"])
    ok = same and db_run["pool"] == engine["pool"]
    differing = int((engine["totals"] != db_run["totals"]).sum())
    return Check(
        f"DuckDB == settle_batch on all lines ({label})",
        ok,
        f"paid {int(db_run['totals'].sum()):,} vs {engine['paid']:,} fen, "
        f"pool {db_run['pool']:,} vs {engine['pool']:,} fen"
        + ("" if same else f"; {differing} (member, kind) totals differ"),
    )


# ----------------------------------------------------------------------------- the report


def table(rows: Sequence[Row]) -> str:
    """The results as a fixed-width text table."""
    width = max([51, *(len(r.approach) for r in rows)])
    head = (
        f"{'approach':<{width}} {'policy':<17} {'wall s':>9} {'throughput':>18} "
        f"{'peak MB':>8} {'+MB':>7} {'x batch':>8}"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        rate = f"{r.work / r.seconds / 1e6:,.3f}M {r.unit}/s" if r.work and r.seconds else "-"
        ratio = (
            "-" if r.ratio is None else f"{r.ratio:,.1f}x" if r.ratio >= 10 else f"{r.ratio:.2f}x"
        )
        out.append(
            f"{r.approach:<{width}} {r.policy:<17} {r.seconds:>9.3f} {rate:>18} "
            f"{_mb(r.peak_mb):>8} {_mb(r.added_mb):>7} {ratio:>8}"
        )
    return "\n".join(out)


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


LEGEND = """\
wall s: best of {repeat} after a warm-up, time.perf_counter. "(sampled, extrapolated)": run on
  {sample:,} random orders ({sample_lines:,} lines), then scaled by {orders:,} / {sample:,} orders.
throughput: order lines per second over all {lines:,} lines (members/s for the tier rows).
peak MB: peak resident memory (RSS, Linux VmHWM) of the forked child process the row ran in.
  Each approach and policy gets a fresh child (networkx: one child builds the graph, then
  walks under each policy), which starts holding the inputs: tree, order lines, sampled Orders.
  +MB: that peak minus the child's RSS at its start: what the approach needed on top of the
  inputs (networkx walks: graph included; DuckDB: its tables and query memory).
x batch: wall s / settle_batch's wall s under the same policy (tier rows: / the tier engine);
  above 1 is slower than settle_batch. settle_batch and networkx use one core; DuckDB uses
  {threads} threads."""


NEW_LEGEND = """\
input rows: settle_batch on the same lines given another way; x batch is / the categoricals.
end to end rows: from the lines Parquet file to a payouts Parquet file; x batch is / tuishou's.
str frame rows: their own data (50k members, 250k lines); x batch is / settle_batch there.
CLI rows: python -m tuishou settle in a subprocess; peak MB is that process's max RSS."""


def build_data(args: argparse.Namespace) -> tuple[Context, dict[str, Any]]:
    """Generate the tree, the lines and the sample; report how long each took."""
    rng = np.random.default_rng(args.seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    tree, ids = build_tree(args.members, rng)
    timings["tree_s"] = time.perf_counter() - start
    start = time.perf_counter()
    df = generate_lines(ids, args.lines, rng)
    timings["lines_s"] = time.perf_counter() - start
    start = time.perf_counter()
    sample = sample_orders(df, args.sample, rng)
    timings["sample_s"] = time.perf_counter() - start
    shape = {**tree_shape(tree), **lines_shape(df, len(ids))}
    ctx = Context(tree, ids, df, sample, policies(), args.repeat, len(df), shape["orders"])
    return ctx, {"shape": shape, "timings": {k: round(v, 2) for k, v in timings.items()}}


def settlement_rows(ctx: Context, checks: list[Check]) -> tuple[list[Row], Any]:
    """Time every settlement approach under every policy, and verify them against each other."""
    rows: list[Row] = []
    scale = ctx.orders / len(ctx.sample)
    sampled = "(sampled, extrapolated)"
    engines = {}
    for label in ctx.policies:
        print(f"  settle_batch, {label} ...", flush=True)
        engine = engines[label] = in_child(lambda label=label: run_engine(ctx, label))
        rows.append(
            Row.measured(
                "settle_batch",
                label,
                engine,
                ctx.lines,
                ratio=1.0,
                note=f"{engine['payouts']:,} payouts",
            )
        )
        print(f"  member_totals, {label} ...", flush=True)
        totals = in_child(lambda label=label: run_member_totals(ctx, label))
        rows.append(
            Row.measured(
                "member_totals (sums per member, no payout rows)", label, totals, ctx.lines
            )
        )
        checks.append(compare_member_totals(engine, totals, label))
        print(f"  settle per order, {label} ...", flush=True)
        reference = in_child(lambda label=label: run_reference(ctx, label))
        rows.append(
            Row.measured(
                f"settle per order {sampled}",
                label,
                reference,
                ctx.lines,
                scale=scale,
                sampled=len(ctx.sample),
            )
        )
        checks.append(compare_sample(engine, reference, label))

    print("  networkx ...", flush=True)
    nx_result = in_child(lambda: run_networkx(ctx))
    build = nx_result["build"]
    rows.append(Row.measured("networkx: build tree.graph (once)", "-", build))
    for label, run in nx_result["runs"].items():
        rows.append(
            Row.measured(
                f"networkx predecessors walk {sampled}",
                label,
                run,
                ctx.lines,
                scale=scale,
                sampled=len(ctx.sample),
            )
        )
        checks.append(compare_networkx(engines[label], run, label))

    loads = []
    for label in ctx.policies:
        print(f"  DuckDB, {label} ...", flush=True)
        run = in_child(lambda label=label: run_duckdb(ctx, label))
        loads.append(run["load"])
        rows.append(Row.measured("DuckDB SQL (recursive CTE per seller)", label, run, ctx.lines))
        checks.append(compare_duckdb(engines[label], run, label))
        rows_run = run["rows"]
        rows.append(
            Row.measured(
                "DuckDB SQL, one row per payout (like settle_batch)",
                label,
                rows_run,
                ctx.lines,
                note=f"{rows_run['count']:,} payouts",
            )
        )
        same = (
            np.array_equal(rows_run["totals"], engines[label]["totals"])
            and rows_run["count"] == engines[label]["payouts"]
        )
        checks.append(
            Check(
                f"DuckDB payout rows == settle_batch rows ({label})",
                same,
                f"{rows_run['count']:,} vs {engines[label]['payouts']:,} rows, "
                f"paid {int(rows_run['totals'].sum()):,} fen",
            )
        )
    load = min(loads, key=lambda loaded: loaded["seconds"])
    rows.append(
        Row.measured("DuckDB: register arrow tables", "-", load, note=f"threads={load['threads']}")
    )

    batch_seconds = {row.policy: row.seconds for row in rows if row.approach == "settle_batch"}
    for row in rows:
        if row.policy in batch_seconds:
            row.ratio = row.seconds / batch_seconds[row.policy]
    order = {label: i for i, label in enumerate(ctx.policies)}
    rows.sort(key=lambda r: (order.get(r.policy, len(order)), r.approach != "settle_batch"))
    return rows, load["threads"]


def tier_rows(ctx: Context, checks: list[Check]) -> list[Row]:
    """Tier evaluation over the whole tree: the reference, and the engine if there is one."""
    ladder, sales = example_ladder(), personal_sales(ctx.df, ctx.ids)
    members = len(ctx.ids)
    rows, results = [], []
    for name, function in tier_evaluations(members):
        print(f"  {name} ...", flush=True)
        run = in_child(lambda function=function: run_tiers(ctx, ladder, sales, function))
        results.append(run)
        rows.append(
            Row.measured(
                name,
                "Example C ladder",
                run,
                members,
                unit="members",
                note=f"{len(run['changes']):,} changes",
            )
        )
    if len(rows) == 1:
        print("  (no tier engine found in tuishou.tiers: the reference alone is timed)")
        return rows
    for row in rows:
        row.ratio = row.seconds / rows[-1].seconds
    same = results[-1]["changes"] == results[0]["changes"]
    checks.append(
        Check(
            f"{rows[-1].approach} == {rows[0].approach}",
            same,
            f"{len(results[-1]['changes']):,} vs {len(results[0]['changes']):,} "
            "tier changes (member, old, new, reason)",
        )
    )
    return rows


def engine_digest() -> str:
    """12 hex digits of a SHA-256 over tuishou's sources: which code was measured.

    Read once at the start: the engine (engine.py and the modules it uses) may be edited
    while a long run goes on; the children run the code imported at the start.
    """
    source = Path(tuishou.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(source.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the data, run every approach in its own child process, verify, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--lines", type=int, default=10_000_000, metavar="N")
    parser.add_argument(
        "--small",
        action="store_true",
        help="100 000 members and 1 000 000 lines (overrides the two above)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="orders for the per-order approaches (default 20 000; --small: 5 000)",
    )
    parser.add_argument("--seed", type=int, default=20240601, metavar="N")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="N",
        help="timed runs after the warm-up (best is reported)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH")
    parser.add_argument(
        "--markdown",
        type=Path,
        default=DEFAULT_JSON.with_suffix(".md"),
        metavar="PATH",
        help="where the Markdown tables go (also printed at the end)",
    )
    parser.add_argument(
        "--parts",
        type=lambda text: text.split(","),
        default=list(PARTS),
        metavar="A,B",
        help=f"what to run, of {','.join(PARTS)} (default: all)",
    )
    parser.add_argument(
        "--inputs-policy",
        default="yudao floor/line",
        choices=list(policies()),
        help="the policy of the input variants, end to end and CLI runs",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="keep the Parquet files here (default: a temporary folder, removed)",
    )
    parser.add_argument(
        "--loop-size",
        type=int,
        nargs=2,
        metavar=("MEMBERS", "LINES"),
        help="the str frame against the per-order loop (default 50 000 250 000)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"--parts: unknown {sorted(unknown)}; known: {','.join(PARTS)}")
    if args.small:
        args.members, args.lines = 100_000, 1_000_000
    if args.sample is None:
        args.sample = 5_000 if args.small else 20_000

    digest = engine_digest()
    print(
        f"generating {args.members:,} members and {args.lines:,} order lines "
        f"(seed {args.seed}); tuishou sources {digest} ...",
        flush=True,
    )
    ctx, data = build_data(args)
    shape = data["shape"]
    print(
        f"tree: {shape['roots']} roots, depth mean {shape['depth_mean']} / p50 "
        f"{shape['depth_p50']} / p99 {shape['depth_p99']} / max {shape['depth_max']}, max "
        f"direct invites {shape['max_direct_invites']:,}, {shape['suspended']:,} suspended"
    )
    print(
        f"lines: {shape['lines']:,} in {shape['orders']:,} orders ({shape['guest_orders']:,} "
        f"by guests, {shape['shared_orders']:,} shared), {shape['distinct_member_buyers']:,} "
        f"distinct member buyers; built in {data['timings']}",
        flush=True,
    )

    inputs_mb = release_free_memory()
    print(
        f"inputs resident in this process (every child starts with them): {inputs_mb:,} MB",
        flush=True,
    )
    checks: list[Check] = []
    rows, threads = settlement_rows(ctx, checks) if "approaches" in args.parts else ([], "-")
    parts: dict[str, list[Row]] = {"approaches": list(rows)}
    if "tiers" in args.parts:
        rows += tier_rows(ctx, checks)
    import engine_files
    import engine_report

    parts.update(engine_files.run_parts(ctx, args, checks))
    for name in ("inputs", "files", "loop", "cli"):
        rows += parts.get(name, [])

    print()
    print(table(rows))
    print(
        LEGEND.format(
            repeat=args.repeat,
            sample=len(ctx.sample),
            sample_lines=ctx.sample_lines,
            orders=ctx.orders,
            lines=ctx.lines,
            threads=threads,
        )
    )
    print(NEW_LEGEND)
    print()
    for check in checks:
        print(f"{'OK    ' if check.ok else 'FAILED'} {check.what}: {check.detail}")
    ok = all(check.ok for check in checks)
    found = engine_report.targets(parts, args.members, args.lines)
    print("\nTargets of issue 16 (1M members, 10M lines):")
    print(engine_report.target_text(found))
    command = "python benchmarks/bench_engine.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    note = (
        f"{args.members:,} members, {args.lines:,} lines, tuishou sources {digest}, "
        f"every check {'OK' if ok else 'FAILED'}"
    )
    text = engine_report.markdown(parts, found, command.strip(), note)
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(text, encoding="utf-8")
    print(f"\nMarkdown (also in {args.markdown}):\n\n{text}")

    results = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "tuishou": tuishou.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "tuishou_sources_sha256": digest,
        },
        "data": data,
        "inputs_rss_mb": inputs_mb,
        "rows": [asdict(row) for row in rows],
        "checks": [asdict(check) for check in checks],
        "targets": [asdict(target) for target in found],
        "verified": ok,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.json}")
    if not ok:
        print("bench_engine: verification FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.modules.setdefault("bench_engine", sys.modules[__name__])  # one module for the parts
    raise SystemExit(main())
