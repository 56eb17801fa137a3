"""The ledger's schema versions: a schema-2 file written by the previous release upgrades on
open (all of it or nothing), a newer schema is refused, and an upgraded file has exactly the
schema of a new ledger, on SQLite and on PostgreSQL.

``tests/data/ledger_v2.db`` was written by the release before the SQLAlchemy ledger
(``tests/data/make_ledger_v2.py``); every test works on a copy of it.
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import alembic.command
import alembic.op
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tuishou import Balance, Ledger, LedgerError, settle
from tuishou.ledger import schema as t
from tuishou.ledger import versions
from tuishou.ledger.database import sqlite_engine

V2_FILE = Path(__file__).parent / "data" / "ledger_v2.db"
V2_TABLES = ["ledger_policy", "policies", "orders", "payouts", "entries", "requests"]
V2_BALANCES = {  # what the previous release printed when it wrote the file
    "A": Balance(pending=0, available=750, written_off=0, withdrawn=0, fees=0, held=0, payable=0),
    "B": Balance(pending=0, available=2000, written_off=0, withdrawn=0, fees=0, held=0, payable=0),
    "C": Balance(pending=0, available=0, written_off=0, withdrawn=994, fees=6),
}


def _maker():
    spec = importlib.util.spec_from_file_location(
        "make_ledger_v2", V2_FILE.with_name("make_ledger_v2.py")
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V2 = _maker()  # the fixture's commission policy, tree, orders and days


@pytest.fixture
def v2(tmp_path):
    """A copy of the schema-2 fixture file (the committed one is never opened)."""
    path = tmp_path / "ledger_v2.db"
    shutil.copy(V2_FILE, path)
    return path


def rows(path, sql):
    """Every row of a query on a SQLite file, read with sqlite3 directly (read-only; the
    committed fixture as immutable, so that not even a -shm file appears beside it)."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro" + ("&immutable=1" if path == V2_FILE else "")
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql).fetchall()


def spaced(found):
    """Rows with every run of white space in their text made one space."""
    return [tuple(" ".join(v.split()) if isinstance(v, str) else v for v in row) for row in found]


def dump(path):
    """A SQLite file's schema and rows, for 'nothing changed' beside the bytes."""
    with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as db:
        return list(db.iterdump())


# ------------------------------------------------------------------ a schema-2 file upgrades


def test_the_v2_file_upgrades_on_open_and_keeps_every_balance(v2):
    with Ledger.open(v2) as ledger:
        assert {member: ledger.balance(member) for member in "ABC"} == V2_BALANCES
    assert rows(v2, f"SELECT version_num FROM {t.VERSION_TABLE}") == [(t.HEAD,)]
    found = {name for (name,) in rows(v2, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert found == t.LEDGER_TABLES | {t.VERSION_TABLE, "sqlite_sequence"}


@pytest.mark.parametrize("table", V2_TABLES)
def test_every_row_of_every_table_survives_the_upgrade_unchanged(v2, table):
    before = rows(V2_FILE, f"SELECT * FROM {table} ORDER BY 1, 2")
    Ledger.open(v2).close()
    after = rows(v2, f"SELECT * FROM tuishou_{table} ORDER BY 1, 2")
    if table == "orders":  # version 4 added the policy version: none for these orders
        assert {row[-1] for row in after} == {None}
        after = [row[:-1] for row in after]
    assert after == before
    assert before  # the fixture has rows in every table


def test_entries_payouts_and_orders_read_back_with_aware_utc_times(v2):
    with Ledger.open(v2) as ledger:
        entries = ledger.entries()
        assert [e.entry_id for e in entries] == list(range(1, 26))
        assert all(e.at.utcoffset() == timedelta(0) for e in entries)
        assert (entries[0].member_id, entries[0].amount, entries[0].at) == (
            "C",
            1500,
            datetime(2026, 11, 1, 4, tzinfo=UTC),
        )
        last = entries[-1]
        assert (last.member_id, last.reason, last.amount, last.request_id) == (
            "C",
            "clawback",
            -1500,
            "r2",
        )
        assert ledger.payouts("o2") == {
            ("C", "seller", "seller"): 1000,
            ("B", "layers", "layer"): 500,
        }
        assert ledger.payouts("o3") == {
            ("B", "seller", "seller"): 1500,
            ("A", "layers", "layer"): 750,
        }
        assert sum(ledger.payouts("o1").values()) == 0  # fully refunded (r2)
        assert [e.request_id for e in ledger.entries(member_id="C") if e.request_id] == [
            "r1",
            "w1",
            "w1",
            "w1",
            "r2",
        ]
    assert rows(v2, "SELECT request_id, kind FROM tuishou_requests ORDER BY at") == [
        ("r1", "refund"),
        ("w1", "withdrawal"),
        ("r2", "refund"),
    ]


def test_the_policy_history_keeps_the_creation_and_the_scheduled_change(v2):
    with Ledger.open(v2) as ledger:
        history = ledger.policy_history()
        assert [(c.note, c.policy.freeze_days) for c in history] == [
            ("created", 7),
            ("shorter freeze from 2027", 3),
        ]
        assert history[1].at == datetime(2027, 1, 1, tzinfo=UTC)
        assert history[0].at.utcoffset() == timedelta(0)
        assert ledger.policy_at(datetime(2027, 1, 2, tzinfo=UTC)).freeze_days == 3
        assert ledger.policy.withdrawal_fee_rate == history[0].policy.withdrawal_fee_rate


def test_the_clock_holds_the_latest_time_the_v2_file_recorded(v2):
    times = [
        at
        for sql in (
            "SELECT at FROM entries",
            "SELECT at FROM requests",
            "SELECT posted_at FROM orders",
            "SELECT freeze_start FROM orders",
            "SELECT released_at FROM orders",
        )
        for (at,) in rows(V2_FILE, sql)
        if at is not None
    ]
    latest = max(datetime.fromisoformat(at) for at in times)
    assert latest == datetime(2026, 11, 12, 4, tzinfo=UTC)  # r2's clawback, the last thing done
    Ledger.open(v2).close()
    assert rows(v2, "SELECT clock_id, writes, at, what FROM tuishou_clock") == [
        (1, 0, latest.isoformat(), "entry 25: clawback of member 'C'")
    ]


def test_operations_go_on_after_the_upgrade_and_obey_the_clock(v2):
    with Ledger.open(v2) as ledger:
        retried = ledger.refund("o2", lines={"x": 1}, at=V2.day(3), refund_id="r1")
        assert retried.repeated
        assert retried.entries == ()
        assert ledger.withdraw("C", 1000, at=V2.day(10), withdrawal_id="w1") == []
        late = V2.order("o4", "C", V2.day(10))  # paid before the last thing the file recorded
        with pytest.raises(LedgerError, match=r"before 2026-11-12T04:00:00.*never runs backwards"):
            ledger.post(late, settle(V2.POLICY, V2.TREE, late), at=V2.day(10))
        order = V2.order("o4", "C", V2.day(12))
        assert len(ledger.entries()) == 25
        ledger.post(order, settle(V2.POLICY, V2.TREE, order), at=V2.day(12))
        assert ledger.release(V2.day(18)) == []  # frozen 7 days (the 2027 change is later)
        assert len(ledger.release(V2.day(19))) == 2
        refunded = ledger.refund("o3", lines={"y": 1}, at=V2.day(20), refund_id="r3")
        assert refunded.remaining == {
            ("B", "seller", "seller"): 1000,
            ("A", "layers", "layer"): 500,
        }
        ledger.withdraw("B", 500, at=V2.day(20), withdrawal_id="w2")
        assert {member: ledger.balance(member) for member in "ABC"} == {
            "A": Balance(
                pending=0, available=500, written_off=0, withdrawn=0, fees=0, held=0, payable=0
            ),
            "B": Balance(pending=0, available=1750, written_off=0, withdrawn=497, fees=3),
            "C": Balance(pending=0, available=1500, written_off=0, withdrawn=994, fees=6),
        }
    assert rows(v2, "SELECT at FROM tuishou_clock") == [(V2.day(20).isoformat(),)]


def test_reopening_an_upgraded_file_runs_no_migration(v2, monkeypatch):
    Ledger.open(v2).close()

    def refused(*args, **kwargs):
        raise AssertionError("a migration ran on a ledger already at head")

    monkeypatch.setattr(alembic.command, "upgrade", refused)
    monkeypatch.setattr(alembic.command, "stamp", refused)
    with Ledger.open(v2) as ledger:
        assert ledger.balance("B") == V2_BALANCES["B"]
    with Ledger.open(v2, read_only=True) as ledger:
        assert ledger.balance("C") == V2_BALANCES["C"]


def test_a_read_only_open_of_a_v2_file_is_refused_with_the_way_out(v2):
    before = v2.read_bytes()
    with pytest.raises(
        LedgerError, match=r"schema version 2, older .*open it once without read_only=True"
    ):
        Ledger.open(v2, read_only=True)
    assert v2.read_bytes() == before


@pytest.mark.parametrize("step", ["drop_table", "bulk_insert"])  # after the copy; the last one
def test_a_failure_in_the_middle_of_the_upgrade_leaves_the_file_as_it_was(v2, monkeypatch, step):
    before, rows_before = v2.read_bytes(), dump(v2)

    def broken(*args, **kwargs):
        raise RuntimeError("the disk failed in the middle of the upgrade")

    with monkeypatch.context() as patched:
        patched.setattr(alembic.op, step, broken)
        with pytest.raises(RuntimeError, match="disk failed"):
            Ledger.open(v2)
    assert v2.read_bytes() == before
    assert dump(v2) == rows_before
    with Ledger.open(v2) as ledger:  # and it upgrades when nothing fails
        assert ledger.balance("A") == V2_BALANCES["A"]


def test_a_ledger_is_not_downgraded(v2):
    engine = sqlite_engine(v2)
    try:
        Ledger.open(engine).close()
        with (
            engine.connect() as connection,
            connection.begin(),
            pytest.raises(NotImplementedError, match="restore the backup"),
        ):
            alembic.command.downgrade(versions._config(connection), "0002")
    finally:
        engine.dispose()
    assert rows(v2, f"SELECT version_num FROM {t.VERSION_TABLE}") == [(t.HEAD,)]


# ------------------------------------------------------------------ a newer schema is refused


@pytest.mark.parametrize("read_only", [False, True])
def test_an_unknown_alembic_revision_is_refused_as_newer(tmp_path, read_only):
    path = tmp_path / "newer.db"
    Ledger.open(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(f"UPDATE {t.VERSION_TABLE} SET version_num = '0099'")
    before = dump(path)
    with pytest.raises(LedgerError, match=r"revision '0099', newer than .*upgrade tuishou"):
        Ledger.open(path, read_only=read_only)
    assert dump(path) == before


def test_an_empty_version_table_is_a_damaged_ledger(tmp_path):
    path = tmp_path / "damaged.db"
    Ledger.open(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(f"DELETE FROM {t.VERSION_TABLE}")
    before = dump(path)
    with pytest.raises(LedgerError, match=r"damaged ledger: tuishou_alembic_version holds no"):
        Ledger.open(path)
    assert dump(path) == before


@pytest.mark.parametrize("read_only", [False, True])
def test_a_legacy_schema_version_above_2_is_refused_as_newer(v2, read_only):
    with closing(sqlite3.connect(v2)) as db, db:
        db.execute("UPDATE schema_version SET version = 3")
    before = dump(v2)
    with pytest.raises(LedgerError, match=r"schema version 3, newer .*upgrade tuishou"):
        Ledger.open(v2, read_only=read_only)
    assert dump(v2) == before


# ------------------------------------------------------- the upgraded schema is the new one


def _differences(connection):
    """What Alembic's autogenerate would change to make the database match the metadata
    (the version table is Alembic's own, not in the metadata)."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        diff
        for diff in compare_metadata(context, t.metadata)
        if not (diff[0] == "remove_table" and diff[1].name == t.VERSION_TABLE)
    ]


def _shape(connection):
    """Every table's columns (name, type, nullable, key) and indexes, by inspection."""
    found = inspect(connection)
    return {
        table: (
            [
                (c["name"], str(c["type"]), c["nullable"], c["primary_key"])
                for c in found.get_columns(table)
            ],
            sorted(
                (i["name"], tuple(i["column_names"]), i["unique"]) for i in found.get_indexes(table)
            ),
            sorted(
                (tuple(k["constrained_columns"]), k["referred_table"])
                for k in found.get_foreign_keys(table)
            ),
        )
        for table in found.get_table_names()
    }


def _sqlite_schema(path):
    engine = sqlite_engine(path)
    try:
        with engine.connect() as connection:
            return _differences(connection), _shape(connection)
    finally:
        engine.dispose()


def test_an_upgraded_v2_file_has_exactly_the_schema_of_a_new_ledger(v2, tmp_path):
    Ledger.open(v2).close()
    Ledger.open(tmp_path / "new.db").close()
    upgraded, new = _sqlite_schema(v2), _sqlite_schema(tmp_path / "new.db")
    assert upgraded[0] == []
    assert new[0] == []
    assert upgraded[1] == new[1]
    sql = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 2"
    # the same DDL, word for word (SQLite keeps an added column's text on the line before)
    assert spaced(rows(v2, sql)) == spaced(rows(tmp_path / "new.db", sql))


def test_on_postgresql_a_new_schema_has_exactly_the_ledger_tables_at_head(postgres):
    url = postgres.new_schema_url()
    with Ledger.open(url) as ledger:
        ledger.balance("A")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == t.LEDGER_TABLES | {t.VERSION_TABLE}
            assert versions.revision(connection) == t.HEAD
            assert _differences(connection) == []
            schema = connection.execute(text("SELECT current_schema()")).scalar()
            assert schema.startswith("t_")  # the fresh schema, not public
    finally:
        engine.dispose()


def test_the_schema_shape_comparison_sees_a_missing_index(tmp_path):
    """The comparisons above can fail: a dropped index is a difference."""
    path = tmp_path / "new.db"
    Ledger.open(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP INDEX tuishou_orders_by_due")
    differences, _ = _sqlite_schema(path)
    assert [d[0] for d in differences] == ["add_index"]
