"""Benchmark the ledger: bulk posting into SQLite and PostgreSQL, per-order ``post`` against the
previous release, ``release()`` of many due orders, and balances of all members.

Generates (deterministically, numpy ``default_rng(seed)``) a random invite tree of
``--members`` members and ``--orders`` one-line orders, each shared by a random member, under
a yudao-style three-level policy (seller 30 %, two layers 10 % and 5 %: about three payout
rows per order). Then, side by side in this one process:

1. **Bulk posting** (``Ledger.post_batch``, chunks of ``--chunk`` orders) into a SQLite file
   (WAL, ``synchronous=FULL``, as the ledger sets it) and into PostgreSQL (a durable server
   started here by ``tests/postgres_server.py``: fsync and synchronous commit on), in payout
   rows per second, against
   - a **floor**: the very rows the ledger wrote, read back and inserted into an empty ledger
     schema by the driver alone, in the same chunks (``sqlite3`` ``executemany`` with the same
     pragmas and page cache; psycopg ``COPY``), so the ratio is the ledger's own overhead;
   - per-order ``post`` (on ``--sample`` orders, extrapolated).
2. **Per-order** ``post`` **of this ledger against the previous release** (commit ``36d9b9f``,
   the last hand-written-sqlite3 ledger), both in this process: the old ``tuishou`` is
   extracted with ``git archive`` and imported first, its classes kept, then purged from
   ``sys.modules`` before this one is imported. Both post the same orders into fresh SQLite
   files (WAL, ``synchronous=FULL`` for both: the pragmas are read back and printed), in
   alternating rounds; the ratio is new time / old time.
3. ``release()`` of every bulk-posted order (all due) and ``Ledger.balances()`` of all members
   (if this tuishou has it), on the SQLite file of step 1.
4. ``post_batch`` **order by order** (the ``--sample`` orders with a ``paid_at`` column, the
   path of ``ledger.bulk_orders``) of this ledger against the ``--old`` commit, alternating
   rounds as in step 2 (skipped when the old commit cannot post such a batch).

``--old COMMIT`` chooses the commit steps 2 and 4 compare with (default the previous release):
``--old HEAD~1`` measures the last change, both in one run.

    .venv/bin/python benchmarks/bench_ledger.py [--small] [--orders N] [--members N]
        [--chunk N] [--sample N] [--rounds N] [--seed N] [--no-postgresql] [--old COMMIT]

Every bulk-posted ledger is checked in the same run: its row counts equal the settled batch's
and a few sampled orders posted again per order are no-ops (identical fingerprints).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OLD_COMMIT = "36d9b9f"
AT = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = {
    "name": "bench",
    "tiers": ["member"],
    "group_rates": {"g": "0.2"},
    "max_generation": 2,
    "rules": [
        {"kind": "seller", "rates": {"member": "0.3"}},
        {"kind": "layers", "rates": {"member": ["0.1", "0.05"]}},
    ],
}
TABLES = ("tuishou_orders", "tuishou_payouts", "tuishou_entries")


def load_old_release(folder: Path, commit: str = OLD_COMMIT) -> dict[str, Any]:
    """The ``tuishou`` classes of ``commit``; ``tuishou`` is then purged from sys.modules."""
    archive = folder / "old.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), commit, "src"], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    sys.path.insert(0, str(folder / "src"))
    try:
        import tuishou as old

        found = {
            name: getattr(old, name)
            for name in ("Ledger", "LedgerPolicy", "Order", "OrderLine", "Policy", "InviteTree")
        }
        found["settle"] = old.settle
        found["file"] = old.__file__
    finally:
        sys.path.remove(str(folder / "src"))
        for name in [n for n in sys.modules if n == "tuishou" or n.startswith("tuishou.")]:
            del sys.modules[name]
    return found


@contextmanager
def timer() -> Iterator[list[float]]:
    took: list[float] = []
    gc.collect()
    start = time.perf_counter()
    yield took
    took.append(time.perf_counter() - start)


def tree_records(members: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """A random tree: member i was invited by a random earlier member (recent ones likelier)."""
    parents = (np.arange(members) * rng.random(members) ** 0.5).astype(np.int64)
    return [
        {"member_id": f"m{i}", "inviter_id": f"m{parents[i]}" if i else None, "tier": "member"}
        for i in range(members)
    ]


def order_columns(orders: int, members: int, rng: np.random.Generator) -> dict[str, list[Any]]:
    sharers = rng.integers(0, members, orders)
    return {
        "order_id": [f"o{i:08d}" for i in range(orders)],
        "sharer_id": [f"m{s}" for s in sharers.tolist()],
        "sku": [f"s{k}" for k in rng.integers(0, 50, orders).tolist()],
        "group": ["g"] * orders,
        "amount": rng.integers(100, 200_000, orders).tolist(),
        "quantity": rng.integers(1, 4, orders).tolist(),
    }


def orders_from(columns: dict[str, list[Any]], order: Any, line: Any, rows: range) -> list[Any]:
    return [
        order(
            order_id=columns["order_id"][i],
            sharer_id=columns["sharer_id"][i],
            lines=[
                line(
                    sku=columns["sku"][i],
                    group="g",
                    amount=columns["amount"][i],
                    quantity=columns["quantity"][i],
                )
            ],
        )
        for i in rows
    ]


def report(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  "
            + "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


# ------------------------------------------------------------------- bulk, floors


def sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in TABLES
        }


def sqlite_floor(empty: Path, rows: dict[str, list[tuple[Any, ...]]], chunk: int) -> float:
    """Insert the same rows with sqlite3 alone, chunk by chunk, into an empty ledger file."""
    db = sqlite3.connect(empty, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA cache_size = -262144")  # what post_batch uses
    orders, payouts, entries = (rows[table] for table in TABLES)
    policy_ids = sorted({row[2] for row in orders})
    db.executemany("INSERT INTO tuishou_policies VALUES (?, '{}')", [(p,) for p in policy_ids])
    p = e = 0
    with timer() as took:
        for start in range(0, len(orders), chunk):
            part = orders[start : start + chunk]
            last = part[-1][0]
            p_end = p
            while p_end < len(payouts) and payouts[p_end][0] <= last:
                p_end += 1
            e_end = e
            while e_end < len(entries) and entries[e_end][6] <= last:
                e_end += 1
            db.execute("BEGIN IMMEDIATE")
            marks = ",".join("?" * len(part[0]))  # the table's columns (11 since version 4)
            db.executemany(f"INSERT INTO tuishou_orders VALUES ({marks})", part)
            db.executemany("INSERT INTO tuishou_payouts VALUES (?,?,?,?,?)", payouts[p:p_end])
            db.executemany(
                f"INSERT INTO tuishou_entries VALUES ({','.join('?' * 10)})", entries[e:e_end]
            )
            db.execute("COMMIT")
            p, e = p_end, e_end
    db.close()
    return took[0]


def postgres_floor(url: str, rows: dict[str, list[tuple[Any, ...]]], chunk: int) -> float:
    """COPY the same rows with psycopg alone, chunk by chunk, into an empty ledger schema."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.commit()
        raw.autocommit = False
        with raw.cursor() as cursor:
            for policy_id in sorted({row[2] for row in rows["tuishou_orders"]}):
                cursor.execute("INSERT INTO tuishou_policies VALUES (%s, '{}')", (policy_id,))
        raw.commit()
        orders, payouts, entries = (rows[t] for t in TABLES)
        p = e = 0
        with timer() as took:
            for start in range(0, len(orders), chunk):
                part = orders[start : start + chunk]
                last = part[-1][0]
                p_end, e_end = p, e
                while p_end < len(payouts) and payouts[p_end][0] <= last:
                    p_end += 1
                while e_end < len(entries) and entries[e_end][6] <= last:
                    e_end += 1
                with raw.cursor() as cursor:
                    for table, chosen in zip(
                        TABLES, (part, payouts[p:p_end], entries[e:e_end]), strict=True
                    ):
                        with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                            for row in chosen:
                                copy.write_row(row)
                raw.commit()
                p, e = p_end, e_end
    engine.dispose()
    return took[0]


def postgres_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    keys = {
        "tuishou_orders": "order_id",
        "tuishou_payouts": "order_id, member_id, rule, kind",
        "tuishou_entries": "entry_id",
    }
    with engine.connect() as connection:
        found = {
            table: [
                tuple(r)
                for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY {keys[table]}"))
            ]
            for table in TABLES
        }
    engine.dispose()
    return found


def per_order(
    ledger: Any, settle: Callable[..., Any], policy: Any, tree: Any, orders: list[Any]
) -> float:
    settled = [settle(policy, tree, order) for order in orders]
    with timer() as took:
        for order, settlement in zip(orders, settled, strict=True):
            ledger.post(order, settlement, at=AT)
    return took[0]


def check_bulk(
    ledger: Any,
    settle: Callable[..., Any],
    policy: Any,
    tree: Any,
    orders: list[Any],
    done: Any,
    rows: int,
) -> str:
    again = [ledger.post(order, settle(policy, tree, order), at=AT) for order in orders]
    fine = done.payout_rows == rows and all(result == [] for result in again)
    return "OK" if fine else "FAILED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="20k orders, 10k members")
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--old", default=OLD_COMMIT, help="the commit to compare with")
    args = parser.parse_args()
    if args.small:
        args.orders, args.members, args.chunk, args.sample = 20_000, 10_000, 5_000, 500
    folder = Path(tempfile.mkdtemp(prefix="bench_ledger_"))
    old = load_old_release(folder, args.old)
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "tests"))
    import tuishou
    from tuishou import InviteTree, Ledger, Order, OrderLine, Policy, settle
    from tuishou.engine.batch import settle_batch

    assert old["file"] != tuishou.__file__
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"old tuishou: {old['file']}\nnew tuishou: {tuishou.__file__}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    rng = np.random.default_rng(args.seed)
    records = tree_records(args.members, rng)
    columns = order_columns(args.orders, args.members, rng)
    policy, tree = Policy.model_validate(POLICY), InviteTree.from_records(records)
    payout_rows = len(settle_batch(policy, tree, columns).payouts)
    sample = orders_from(columns, Order, OrderLine, range(args.sample))
    print(
        f"data: {args.members} members, {args.orders} orders, {payout_rows} payout rows, "
        f"chunks of {args.chunk} orders; per-order post on {args.sample} orders"
    )
    table: list[tuple[str, ...]] = [("target", "approach", "seconds", "payout rows/s", "ratio")]

    # 1. SQLite
    path = folder / "bulk.db"
    with Ledger.open(path) as ledger, timer() as took:
        done = ledger.post_batch(policy, tree, columns, at=AT, chunk_orders=args.chunk)
    with Ledger.open(path) as ledger:
        checked = check_bulk(ledger, settle, policy, tree, sample[:50], done, payout_rows)
    bulk = took[0]
    empty = folder / "floor.db"
    Ledger.open(empty).close()
    floor = sqlite_floor(empty, sqlite_rows(path), args.chunk)
    with Ledger.open(folder / "per_order.db") as ledger:
        one = per_order(ledger, settle, policy, tree, sample) * args.orders / args.sample
    table += [
        ("SQLite", "post_batch", f"{bulk:.2f}", f"{payout_rows / bulk:,.0f}", "1.00"),
        (
            "SQLite",
            "floor: sqlite3 executemany",
            f"{floor:.2f}",
            f"{payout_rows / floor:,.0f}",
            f"{floor / bulk:.2f}",
        ),
        (
            "SQLite",
            "per-order post (extrapolated)",
            f"{one:.2f}",
            f"{payout_rows / one:,.0f}",
            f"{one / bulk:.2f}",
        ),
    ]
    print(f"SQLite bulk check: {checked}")

    # 3. release and balances on the bulk-posted file
    with Ledger.open(path) as ledger, timer() as took:
        moved = ledger.release(AT + timedelta(days=30))
    release = took[0]
    extra = [
        (
            "SQLite",
            f"release() of {args.orders} due orders",
            f"{release:.2f}",
            f"{len(moved) / release:,.0f}",
            "",
        )
    ]
    with Ledger.open(path) as ledger:
        if hasattr(ledger, "balances"):
            with timer() as took:
                count = sum(1 for _ in ledger.balances())
            extra.append(("SQLite", f"balances() of {count} members", f"{took[0]:.2f}", "", ""))
        else:
            extra.append(("SQLite", "balances(): not in this tuishou", "-", "", ""))

    # 1. PostgreSQL
    if not args.no_postgresql:
        from postgres_server import running_server

        with running_server(durable=True) as server:
            url = server.new_schema_url()
            with Ledger.open(url) as ledger, timer() as took:
                done = ledger.post_batch(policy, tree, columns, at=AT, chunk_orders=args.chunk)
            with Ledger.open(url) as ledger:
                checked = check_bulk(ledger, settle, policy, tree, sample[:50], done, payout_rows)
            bulk = took[0]
            empty_url = server.new_schema_url()
            Ledger.open(empty_url).close()
            floor = postgres_floor(empty_url, postgres_rows(url), args.chunk)
            with Ledger.open(server.new_schema_url()) as ledger:
                one = per_order(ledger, settle, policy, tree, sample) * args.orders / args.sample
        table += [
            ("PostgreSQL", "post_batch", f"{bulk:.2f}", f"{payout_rows / bulk:,.0f}", "1.00"),
            (
                "PostgreSQL",
                "floor: psycopg COPY",
                f"{floor:.2f}",
                f"{payout_rows / floor:,.0f}",
                f"{floor / bulk:.2f}",
            ),
            (
                "PostgreSQL",
                "per-order post (extrapolated)",
                f"{one:.2f}",
                f"{payout_rows / one:,.0f}",
                f"{one / bulk:.2f}",
            ),
        ]
        print(f"PostgreSQL bulk check: {checked}")
    print("\nbulk posting (ratio: time / post_batch's time)")
    report(table + extra)

    # 2. per-order post, new against old, alternating rounds
    old_policy = old["Policy"].model_validate(POLICY)
    old_tree = old["InviteTree"].from_records(records)
    old_orders = orders_from(columns, old["Order"], old["OrderLine"], range(args.sample))
    times: dict[str, list[float]] = {"old": [], "new": []}
    pragmas: dict[str, tuple[Any, ...]] = {}
    for n in range(args.rounds):
        for name in ("old", "new") if n % 2 == 0 else ("new", "old"):
            target = folder / f"{name}{n}.db"
            if name == "old":
                ledger = old["Ledger"].open(target)
                times["old"].append(
                    per_order(ledger, old["settle"], old_policy, old_tree, old_orders)
                )
            else:
                ledger = Ledger.open(target)
                times["new"].append(per_order(ledger, settle, policy, tree, sample))
            ledger.close()
            with sqlite3.connect(target) as db:
                pragmas[name] = (db.execute("PRAGMA journal_mode").fetchone()[0],)
    old_best, new_best = min(times["old"]), min(times["new"])
    print(
        f"\nper-order post, {args.sample} orders into a fresh SQLite file, best of {args.rounds} "
        f"alternating rounds (journal modes {pragmas}; both set synchronous=FULL)"
    )
    report(
        [
            ("ledger", "seconds", "orders/s", "ratio"),
            (f"old ({args.old})", f"{old_best:.2f}", f"{args.sample / old_best:,.0f}", "1.00"),
            (
                "this ledger",
                f"{new_best:.2f}",
                f"{args.sample / new_best:,.0f}",
                f"{new_best / old_best:.2f}",
            ),
        ]
    )

    by_order_batch(args, old, (policy, old_policy), (tree, old_tree), columns, folder)


def by_order_batch(
    args: Any, old: Any, policies: Any, trees: Any, columns: dict[str, list[Any]], folder: Path
) -> None:
    """Step 4: ``post_batch`` of ``--sample`` orders with a ``paid_at`` column, new and old."""
    from tuishou import Ledger

    sample = {name: values[: args.sample] for name, values in columns.items()}
    sample["paid_at"] = [AT - timedelta(hours=1)] * args.sample
    ledgers = {"new": Ledger, "old": old["Ledger"]}
    chosen = {"new": (policies[0], trees[0]), "old": (policies[1], trees[1])}
    times: dict[str, list[float]] = {"old": [], "new": []}
    for n in range(args.rounds):
        for name in ("old", "new") if n % 2 == 0 else ("new", "old"):
            ledger = ledgers[name].open(folder / f"batch_{name}{n}.db")
            try:
                with timer() as took:
                    ledger.post_batch(*chosen[name], sample, at=AT)
            except Exception as exc:  # an old tuishou without paid_at columns
                print(f"\npost_batch with paid_at: {name} refused it ({exc}); step 4 skipped")
                return
            finally:
                ledger.close()
            times[name].append(took[0])
    old_best, new_best = min(times["old"]), min(times["new"])
    print(
        f"\npost_batch order by order (a paid_at column), {args.sample} orders into a fresh "
        f"SQLite file, best of {args.rounds} alternating rounds"
    )
    report(
        [
            ("ledger", "seconds", "orders/s", "ratio"),
            (f"old ({args.old})", f"{old_best:.2f}", f"{args.sample / old_best:,.0f}", "1.00"),
            (
                "this ledger",
                f"{new_best:.2f}",
                f"{args.sample / new_best:,.0f}",
                f"{new_best / old_best:.2f}",
            ),
        ]
    )


if __name__ == "__main__":
    main()
