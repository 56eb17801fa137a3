"""The ledger's file and clock: aware times only, refused refunds before their order, database
problems as LedgerErrors that say what to do, read-only reports, and the schema-1 upgrade."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import tuishou
from ledger_support import BACKENDS, DAY0, ORDER, POLICY, TREE, bal, day, ledgers, posted
from tuishou import Ledger, LedgerError, LedgerPolicy, settle
from tuishou.errors import DuplicateRequestError

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

NAIVE = datetime(2026, 11, 2, 12, 0)
V2_FILE = Path(__file__).parent / "data" / "ledger_v2.db"


# ------------------------------------------------------------------ item 11: one time rule

TIMED_CALLS = {
    "post": lambda led: led.post(
        ORDER.model_copy(update={"order_id": "o2"}),
        settle(POLICY, TREE, ORDER.model_copy(update={"order_id": "o2"})),
        at=NAIVE,
    ),
    "post paid_at": lambda led: led.post(*_naive_paid(), at=day(1)),
    "mark_received": lambda led: led.mark_received("o1", NAIVE),
    "release": lambda led: led.release(NAIVE),
    "refund": lambda led: led.refund("o1", lines={"x": 1}, at=NAIVE),
    "withdraw": lambda led: led.withdraw("C", 100, at=NAIVE, withdrawal_id="w1"),
    "balance": lambda led: led.balance("C", as_of=NAIVE),
    "change_policy": lambda led: led.change_policy(LedgerPolicy(freeze_days=1), at=NAIVE),
}


def _naive_paid():
    order = ORDER.model_copy(update={"order_id": "o2", "paid_at": NAIVE})
    return order, settle(POLICY, TREE, order)


@pytest.mark.parametrize("call", TIMED_CALLS.values(), ids=TIMED_CALLS.keys())
def test_every_method_that_takes_a_time_refuses_a_naive_one(make_ledger, call):
    ledger = posted(make_ledger(freeze_days=0, freeze_from="paid"))
    before = (ledger.entries(), ledger.policy_history())
    with pytest.raises(
        LedgerError,
        match=r"=2026-11-02 12:00:00 has no time zone; the ledger "
        r"takes aware datetimes only \(stored in UTC\)",
    ):
        call(ledger)
    assert (ledger.entries(), ledger.policy_history()) == before


def test_times_are_stored_in_utc_and_any_zone_may_be_used(make_ledger, tmp_path):
    ledger = posted(make_ledger(freeze_days=7))
    due_in_utc = (DAY0 + timedelta(days=7)).astimezone(UTC)
    assert ledger.release(due_in_utc - timedelta(seconds=1)) == []
    moved = ledger.release(due_in_utc.astimezone(timezone(timedelta(hours=-5))))
    assert [e.at for e in moved] == [due_in_utc] * 2
    assert all(e.at.tzinfo == UTC for e in ledger.entries())
    assert ledger.balance("C", as_of=DAY0.astimezone(UTC)) == bal(pending=1500)


def test_stored_text_is_utc(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.open(path) as ledger:
        posted(ledger)
    with sqlite3.connect(path) as db:
        texts = [row[0] for row in db.execute("SELECT at FROM tuishou_entries")]
        texts += list(
            db.execute("SELECT posted_at, freeze_start, due_at FROM tuishou_orders").fetchone()
        )
    assert len(texts) == 5
    assert all(text.endswith("+00:00") for text in texts)
    assert texts[0] == "2026-11-01T04:00:00+00:00"  # 12:00 in UTC+8


def test_a_refund_dated_before_its_order_was_posted_is_refused(make_ledger):
    ledger = posted(make_ledger(), at=day(2))
    before = ledger.entries()
    with pytest.raises(LedgerError, match=r"is before order 'o1' was posted \(2026-11-03 04:00"):
        ledger.refund("o1", lines={"x": 1}, at=day(1), refund_id="r1")
    assert ledger.entries() == before
    ledger.refund("o1", lines={"x": 1}, at=day(2), refund_id="r1")  # the same moment is fine


# ---------------------------------------------------------- item 12: database problems


def test_a_file_that_is_not_a_database_is_a_ledger_error(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,amount\n" * 100)
    before = path.read_bytes()
    with pytest.raises(
        LedgerError,
        match=r"orders.csv is not a SQLite database \(another kind "
        r"of file, or damaged\); pass the path of a ledger",
    ):
        Ledger.open(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "damage",
    [
        "DELETE FROM schema_version",
        "UPDATE schema_version SET version = 'two'",
        "INSERT INTO schema_version VALUES (2)",
        "DROP TABLE schema_version; CREATE TABLE schema_version (v TEXT)",
    ],
    ids=["empty", "garbled", "two-rows", "no-column"],
)
def test_a_damaged_schema_version_table_is_a_ledger_error(tmp_path, damage):
    path = tmp_path / "ledger.db"
    shutil.copy(V2_FILE, path)  # a file written before Alembic: schema_version tells
    with sqlite3.connect(path) as db:
        db.executescript(damage)
    with pytest.raises(
        LedgerError,
        match=r"has a damaged schema_version table .*restore the "
        r"file from a backup",
    ):
        Ledger.open(path)


def test_a_ledger_missing_a_table_is_a_ledger_error(tmp_path):
    path = tmp_path / "ledger.db"
    Ledger.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE tuishou_payouts")
    with pytest.raises(
        LedgerError, match="is a damaged ledger: tables tuishou_payouts are missing"
    ):
        Ledger.open(path)


def test_someone_elses_database_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('A')")
    before = path.read_bytes()
    with pytest.raises(
        LedgerError,
        match=r"shop.db is a SQLite database of something else "
        r"\(tables users\), not a ledger; tuishou adds no "
        r"tables to it",
    ):
        Ledger.open(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["shop.db"]


def _report_file(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.open(path, policy=LedgerPolicy(freeze_days=0)) as ledger:
        posted(ledger)
        ledger.release(DAY0)
    return path


READ_ONLY_WRITES = {
    "post": lambda led: posted(led, ORDER.model_copy(update={"order_id": "o2"})),
    "release": lambda led: led.release(day(9)),
    "refund": lambda led: led.refund("o1", at=day(1)),
    "withdraw": lambda led: led.withdraw("C", 100, at=day(1), withdrawal_id="w1"),
    "mark_received": lambda led: led.mark_received("o1", day(1)),
    "change_policy": lambda led: led.change_policy(LedgerPolicy(), at=day(1)),
}


@pytest.mark.parametrize("write", READ_ONLY_WRITES.values(), ids=READ_ONLY_WRITES.keys())
def test_a_read_only_ledger_reports_and_refuses_every_write(tmp_path, write):
    path = _report_file(tmp_path)
    before = path.read_bytes()
    with Ledger.open(path, read_only=True) as ledger:
        assert ledger.balance("C") == bal(available=1500)
        assert ledger.payouts("o1") == {
            ("C", "seller", "seller"): 1500,
            ("B", "layers", "layer"): 750,
        }
        assert ledger.policy == LedgerPolicy(freeze_days=0)
        with pytest.raises(
            LedgerError,
            match="was opened read-only \\(for reports\\); open it "
            "without read_only=True to change it",
        ):
            write(ledger)
    assert path.read_bytes() == before


READ_A_READ_ONLY_FILE = """
import sys
from tuishou import Ledger, LedgerError
path = sys.argv[1]
try:
    Ledger.open(path)
except LedgerError as exc:
    print("refused:", exc)
with Ledger.open(path, read_only=True) as ledger:
    print("available:", ledger.balance("C").available)
"""


def test_a_read_only_file_in_a_read_only_folder_can_be_read_for_balances():
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root may write a read-only file, and setpriv is missing to drop its rights")
    folder = Path(tempfile.mkdtemp(prefix="tuishou-ro-"))
    path = _report_file(folder)
    path.chmod(0o444)
    folder.chmod(0o555)  # no -wal or -shm file can be made either
    # root may write anything: run the reader as root without the capabilities that override
    # file permissions, so the file really is read-only to it (and the checkout, wherever it
    # is, stays readable: it is root's own)
    as_plain_owner = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    command = [
        *(as_plain_owner if os.geteuid() == 0 else []),
        sys.executable,
        "-c",
        READ_A_READ_ONLY_FILE,
        str(path),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(Path(tuishou.__file__).parents[1])},
        )
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
    assert done.returncode == 0, done.stderr
    assert "is read-only; open it with read_only=True for reports" in done.stdout
    assert "available: 1500" in done.stdout


def test_read_only_needs_an_existing_ledger(tmp_path):
    with pytest.raises(LedgerError, match=r"there is no ledger file at .*missing\.db"):
        Ledger.open(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(LedgerError, match="holds no ledger yet"):
        Ledger.open(empty, read_only=True)


# ------------------------------------------------------------------ schema 1 → schema 2


def _schema_1_file(tmp_path):
    """A ledger as tuishou wrote it before schema 2: naive times, no stored policy, and a
    full refund fingerprinted like an empty one."""
    path = tmp_path / "old.db"
    with Ledger.open(path, policy=LedgerPolicy(freeze_days=0, min_withdrawal=100)) as ledger:
        posted(ledger)
        posted(ledger, ORDER.model_copy(update={"order_id": "o2"}))
        ledger.release(DAY0)
        ledger.refund("o1", at=day(1), refund_id="r-full")
    # closed at the end (not only committed): a connection left for the garbage collector
    # would checkpoint the WAL whenever it is collected, changing the file's bytes later
    with closing(sqlite3.connect(path)) as db, db:  # back to schema 1's tables
        for (index,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'tuishou_%'"
        ).fetchall():
            db.execute(f"DROP INDEX {index}")
        for table in ("policies", "orders", "payouts", "entries", "requests"):
            db.execute(f"ALTER TABLE tuishou_{table} RENAME TO {table}")
        for table in (
            "tuishou_ledger_policy",
            "tuishou_clock",
            "tuishou_alembic_version",
            "tuishou_withdrawals",  # schema 4's tables: none in schema 1
            "tuishou_periods",
            "tuishou_bindings",  # schema 5's
            "tuishou_volumes",  # schema 6's
            "tuishou_bonus_runs",
            "tuishou_bonus_lines",
            "tuishou_tier_reviews",
        ):
            db.execute(f"DROP TABLE {table}")
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (1)")
        for table, columns in (
            ("entries", ["at"]),
            ("requests", ["at"]),
            ("orders", ["posted_at", "freeze_start", "due_at", "released_at"]),
        ):
            for column in columns:  # schema 1 kept the naive times it was given (here: UTC+8)
                db.execute(
                    f"UPDATE {table} SET {column} = "
                    f"replace(replace({column}, '+00:00', ''), 'T04:', 'T12:')"
                )
        from hashlib import sha256

        old = sha256(json.dumps(["o1", []]).encode()).hexdigest()
        db.execute("UPDATE requests SET fingerprint = ? WHERE request_id = 'r-full'", (old,))
        db.execute(
            "INSERT INTO requests VALUES ('r-empty', 'refund', ?, '2026-11-02T12:00:00')",
            (sha256(json.dumps(["o2", []]).encode()).hexdigest(),),
        )
    return path


def test_a_schema_1_file_is_refused_until_upgraded_explicitly(tmp_path):
    path = _schema_1_file(tmp_path)
    with pytest.raises(LedgerError, match=r"schema version 1 .*Ledger.upgrade\(path, policy="):
        Ledger.open(path)
    before = path.read_bytes()
    with pytest.raises(
        LedgerError,
        match=r"orders.posted_at = 2026-11-01T12:00:00 is a naive "
        r"time; pass naive_times=",
    ):
        Ledger.upgrade(path, policy=LedgerPolicy(freeze_days=0, min_withdrawal=100))
    assert path.read_bytes() == before


def test_the_upgrade_reads_naive_times_in_the_given_zone_and_stores_the_policy(tmp_path):
    path = _schema_1_file(tmp_path)
    kept = LedgerPolicy(freeze_days=0, min_withdrawal=100)
    Ledger.upgrade(path, policy=kept, naive_times=timezone(timedelta(hours=8)))
    with Ledger.open(path) as ledger:
        assert ledger.policy == kept
        assert ledger.policy_history()[0].note == "upgraded from schema 1"
        assert ledger.entries(order_id="o1")[0].at == DAY0
        assert ledger.balance("C") == bal(available=1500)  # o2's; o1 was refunded
        # A retry of the full refund stays a no-op; an id whose refund posted nothing (it may
        # have been empty) cannot be reused for a full refund: refused, not skipped.
        assert ledger.refund("o1", at=day(2), refund_id="r-full").repeated
        with pytest.raises(DuplicateRequestError, match="'r-empty' was already used"):
            ledger.refund("o2", at=day(2), refund_id="r-empty")
    with pytest.raises(LedgerError, match="only version 1 is upgraded"):
        Ledger.upgrade(path, policy=kept)


def test_the_upgrade_reads_a_damaged_time_as_a_ledger_error_and_changes_nothing(tmp_path):
    path = _schema_1_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET at = 'yesterday' WHERE entry_id = 2")
    before = path.read_bytes()
    with pytest.raises(
        LedgerError,
        match=r"old.db holds a damaged value: table entries, row "
        r"entry_id=2, at='yesterday' \(Invalid isoformat",
    ):
        Ledger.upgrade(path, policy=LedgerPolicy(), naive_times=UTC)
    assert path.read_bytes() == before
