"""The SQLite ledger across processes: a crash mid-batch and two concurrent writers."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ledger_support import ORPHAN_ENTRIES_SQL, PARTIAL_ORDERS_SQL
from tuishou import Ledger

WORKER = Path(__file__).with_name("ledger_worker.py")


def start_worker(path: Path, first: int, count: int, *, slow: bool = False) -> subprocess.Popen:
    arguments = [sys.executable, str(WORKER), str(path), str(first), str(count)]
    return subprocess.Popen([*arguments, *(["--slow"] if slow else [])])


def posted_orders(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=30) as db:
            return int(db.execute("SELECT COUNT(*) FROM tuishou_orders").fetchone()[0])
    except sqlite3.OperationalError:  # the worker has not created the schema yet
        return 0


def assert_every_order_whole(path: Path) -> None:
    """Each order row has all its post entries and payouts, and no entry lacks its order."""
    with sqlite3.connect(path) as db:
        partial = db.execute(PARTIAL_ORDERS_SQL).fetchall()
        orphans = db.execute(ORPHAN_ENTRIES_SQL).fetchone()[0]
    assert partial == []
    assert orphans == 0


def test_a_crash_in_the_middle_of_a_batch_leaves_no_partial_order(tmp_path):
    path = tmp_path / "ledger.db"
    worker = start_worker(path, 0, 5000, slow=True)
    deadline = time.monotonic() + 60
    while posted_orders(path) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    count = posted_orders(path)
    assert 50 <= count < 5000, "the worker was not killed mid-batch"
    assert_every_order_whole(path)
    with Ledger.open(path) as ledger:  # and the ledger opens and carries on
        assert len(ledger.entries(order_id="o00000")) >= 1


def test_two_processes_posting_the_same_orders_post_each_exactly_once(tmp_path):
    path = tmp_path / "ledger.db"
    Ledger.open(path).close()  # create the schema before the race
    workers = [start_worker(path, 0, 300), start_worker(path, 0, 300)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    assert posted_orders(path) == 300
    with sqlite3.connect(path) as db:
        doubled = db.execute("""
            SELECT order_id, member_id, rule, kind, COUNT(*) FROM tuishou_entries
            WHERE reason = 'post'
            GROUP BY order_id, member_id, rule, kind HAVING COUNT(*) > 1""").fetchall()
    assert doubled == []
    assert_every_order_whole(path)
