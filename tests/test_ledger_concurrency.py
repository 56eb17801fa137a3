"""Four processes at once on one ledger: every post, refund and withdrawal takes effect exactly
once, no balance goes below the policy's floor at any time, and the entries keep time order.

The workers (tests/ledger_race_worker.py) start together behind a start file and share order
ids, refund ids and withdrawal ids, and compete for the same members' balances, against a real
PostgreSQL schema (the session's server) and a SQLite file. Everything is then checked from
the final database, and against what each worker says it carried out itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger_race_worker import MEMBERS, ORDERS, POLICY, TREE, order
from ledger_support import table_rows
from tuishou import Balance, Ledger, LedgerPolicy, settle
from tuishou.ledger import schema
from tuishou.ledger.refunds import totals

WORKER = Path(__file__).with_name("ledger_race_worker.py")
WORKERS = 4
STEPS = 80


def run_workers(database: str, tmp_path: Path, *arguments: str) -> list[dict]:
    """Start the workers, release them together once all are ready, return their reports."""
    start = tmp_path / "start"
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), database, str(seed), *arguments, "--start", str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(Path(f"{start}.ready.{seed}").exists() for seed in range(WORKERS)):
            failed = [w for w in workers if w.poll() is not None]
            assert not failed, failed[0].communicate()[1]
            assert time.monotonic() < deadline, "the workers never got ready"
            time.sleep(0.01)
        start.touch()  # the barrier: every worker goes now
        outputs = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (_, error) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, error
    return [json.loads(out.splitlines()[-1]) for out, _ in outputs]


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").new_schema_url()
    return str(tmp_path / "ledger.db")


@pytest.mark.parametrize("clawback", ["cap_at_balance", "allow_negative"])
def test_four_processes_post_refund_and_withdraw_exactly_once(database, clawback, tmp_path):
    chosen = LedgerPolicy(freeze_days=0, clawback=clawback, withdrawal_fee_rate=Decimal("0.01"))
    Ledger.open(database, policy=chosen).close()
    reports = run_workers(database, tmp_path, "--steps", str(STEPS))
    assert [report["unexpected"] for report in reports] == [[]] * WORKERS
    counts = sum((Counter(report["counts"]) for report in reports), Counter())
    # the mix did race: repeats of shared ids and refused competing withdrawals happened
    for outcome in ("post done", "post no-op", "withdraw done", "withdraw no-op", "refund done"):
        assert counts[outcome] > 0, counts
    assert counts["withdraw refused: InsufficientBalanceError"] > 0, counts
    with Ledger.open(database) as ledger:
        entries = ledger.entries()
        check_exactly_once(ledger, entries, reports)
        check_conservation(ledger, entries)
        check_floor(ledger, entries, clawback)
    assert [e.entry_id for e in entries] == list(range(1, len(entries) + 1))
    times = [e.at for e in entries]
    assert times == sorted(times)  # entry ids follow time order


def decoded(ledger: Ledger, table: str) -> list[dict]:
    """Every row of a ledger table, decoded as the ledger reads it (times as datetimes)."""
    with ledger._store.reading():
        return ledger._store.read(table, select(schema.metadata.tables[f"tuishou_{table}"]))


def check_exactly_once(ledger: Ledger, entries: list, reports: list[dict]) -> None:
    posted = Counter(o for report in reports for o in report["posted"])
    refunded = Counter(r for report in reports for r in report["refunded"])
    withdrew = {w: a for report in reports for w, a in report["withdrew"].items()}
    withdrawals = Counter(w for report in reports for w in report["withdrew"])
    orders = {row[0] for row in table_rows(ledger, "tuishou_orders")}
    requests = {row["request_id"]: (row["kind"], row["at"]) for row in decoded(ledger, "requests")}
    recorded = {w.withdrawal_id: w for w in ledger.withdrawals()}  # one-step: state paid
    requests |= {w: ("withdrawal", made.requested_at) for w, made in recorded.items()}
    # each order, refund id and withdrawal id was carried out by exactly one worker
    assert posted == Counter(orders)
    assert refunded == Counter(r for r, (kind, _) in requests.items() if kind == "refund")
    assert withdrawals == Counter(w for w, (kind, _) in requests.items() if kind == "withdrawal")
    # no entry twice: each (member, bucket, reason, order, rule, kind, request) is written once
    keys = Counter(
        (e.member_id, e.bucket, e.reason, e.order_id, e.rule, e.kind, e.request_id) for e in entries
    )
    assert [key for key, n in keys.items() if n > 1] == []
    # every order's post entries are its whole settlement, once
    for k in range(ORDERS):
        made = order(k)
        posts = {
            (e.member_id, e.rule or "", e.kind or ""): e.amount
            for e in entries
            if e.order_id == made.order_id and e.reason == "post"
        }
        assert posts == (totals(settle(POLICY, TREE, made)) if made.order_id in orders else {})
    # the entries of one request are one transaction: its time, and one order (refunds)
    by_request = defaultdict(list)
    for e in entries:
        if e.request_id is not None:
            by_request[e.request_id].append(e)
    assert set(by_request) <= set(requests)
    for request_id, made in by_request.items():
        assert {e.at for e in made} == {requests[request_id][1]}
        assert len({e.order_id for e in made}) == 1
    for withdrawal_id, amount in withdrew.items():
        made = by_request[withdrawal_id]
        fee = recorded[withdrawal_id].fee  # fixed at request (the fee period's cumulative rule)
        assert (recorded[withdrawal_id].amount, recorded[withdrawal_id].state) == (amount, "paid")
        assert sorted((e.bucket, e.reason, e.amount) for e in made) == sorted(
            [("available", "withdrawal", -amount), ("withdrawn", "withdrawal", amount - fee)]
            + ([("fees", "fee", fee)] if fee else [])
        )


def check_conservation(ledger: Ledger, entries: list) -> None:
    for member in MEMBERS:
        mine = [e for e in entries if e.member_id == member]

        def total(bucket=None, reason=None, among=mine):
            return sum(
                e.amount for e in among if bucket in (None, e.bucket) and reason in (None, e.reason)
            )

        assert ledger.balance(member) == Balance(
            pending=total("pending"),
            available=total("available"),
            written_off=total(reason="write_off"),
            withdrawn=total("withdrawn"),
            fees=total("fees"),
        )
        assert total("withdrawn") + total("fees") == -total("available", "withdrawal")
    at = [column.name for column in schema.orders.columns].index("released_at")
    released = {row[0]: row[at] is not None for row in table_rows(ledger, "tuishou_orders")}
    for order_id, is_released in released.items():
        now = ledger.payouts(order_id)
        its = [e for e in entries if e.order_id == order_id]
        for key in set(now) | {(e.member_id, e.rule or "", e.kind or "") for e in its}:
            part = [e for e in its if (e.member_id, e.rule or "", e.kind or "") == key]

            def total(bucket=None, reasons=None, among=part):
                return sum(
                    e.amount
                    for e in among
                    if bucket in (None, e.bucket) and (reasons is None or e.reason in reasons)
                )

            paid = total(reasons=("post", "refund", "clawback"))
            assert paid == now.get(key, 0), (order_id, key)  # what it pays now
            assert total("pending") == (0 if is_released else paid), (order_id, key)
            moved = total("available", ("release", "clawback"))  # released, less clawed back
            assert moved == (paid if is_released else 0), (order_id, key)


def check_floor(ledger: Ledger, entries: list, clawback: str) -> None:
    """Replay each member's entries in id order: the available balance after each operation
    (its entries share one time) never goes below 0 under cap_at_balance; under
    allow_negative no withdrawal took more than was available before it."""
    for member in MEMBERS:
        mine = [e for e in entries if e.member_id == member and e.bucket == "available"]
        running = 0
        for n, e in enumerate(mine):
            if e.reason == "withdrawal":
                assert running >= -e.amount, (member, e)
            running += e.amount
            last_of_its_time = n + 1 == len(mine) or mine[n + 1].at != e.at
            if clawback == "cap_at_balance" and last_of_its_time:
                assert running >= 0, (member, e)
        if clawback == "cap_at_balance":
            for when in sorted({e.at for e in entries if e.member_id == member}):
                assert ledger.balance(member, as_of=when).available >= 0, (member, when)


def test_four_processes_opening_the_same_new_database_create_it_once(database, tmp_path):
    """A new PostgreSQL schema (the advisory lock in ledger.versions) or a new SQLite file
    (the write lock taken first, ``BEGIN IMMEDIATE``): each process opens it, once made."""
    reports = run_workers(database, tmp_path, "--open-only")
    assert reports == [{"policies": 1}] * WORKERS
    with Ledger.open(database) as ledger:
        assert len(table_rows(ledger, "tuishou_ledger_policy")) == 1
        assert len(table_rows(ledger, "tuishou_clock")) == 1
        with ledger._store.reading() as connection:
            stamps = connection.exec_driver_sql("SELECT * FROM tuishou_alembic_version").all()
        assert [tuple(row) for row in stamps] == [(schema.HEAD,)]
