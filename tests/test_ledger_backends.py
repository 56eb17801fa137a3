"""Where a ledger lives: every form ``Ledger.open`` takes (paths, URLs, engines, a
Connection), the backend's own transaction (the ledger posts inside it, in a savepoint),
refused targets named without their password, and the ledger beside the platform's tables.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from ledger_support import DAY0, ORDER, POLICY, TREE, bal, day, table_rows
from tuishou import Ledger, LedgerError, LedgerPolicy, settle
from tuishou.errors import ArgumentTypeError, DuplicateOrderError
from tuishou.ledger import schema as t
from tuishou.ledger.database import sqlite_engine

from helpers import tree_from_text

KEPT = LedgerPolicy(freeze_days=7)
SETTLED = settle(POLICY, TREE, ORDER)  # C sells (1500 pending), B its inviter (750)
OTHER = settle(POLICY, tree_from_text("A>C"), ORDER)  # the same order, another chain


# ------------------------------------------------------------------ every form of target

TARGETS = {
    "Path": lambda tmp, pg: tmp / "ledger.db",
    "str path": lambda tmp, pg: str(tmp / "ledger.db"),
    "sqlite URL": lambda tmp, pg: f"sqlite:///{tmp / 'ledger.db'}",
    "sqlite_engine": lambda tmp, pg: sqlite_engine(tmp / "ledger.db"),
    "sqlite Connection": lambda tmp, pg: sqlite_engine(tmp / "ledger.db").connect(),
    "PostgreSQL URL": lambda tmp, pg: pg,
    "URL object": lambda tmp, pg: make_url(pg),
    "PostgreSQL Engine": lambda tmp, pg: create_engine(pg),
    "PostgreSQL Connection": lambda tmp, pg: create_engine(pg).connect(),
}


@pytest.fixture(params=list(TARGETS))
def target(request, tmp_path):
    """A fresh target of the given form (a new file, or a fresh schema on the server)."""
    on_server = "PostgreSQL" in request.param or request.param == "URL object"
    url = request.getfixturevalue("postgres").new_schema_url() if on_server else None
    made = TARGETS[request.param](tmp_path, url)
    yield made
    engine = getattr(made, "engine", None)
    if engine is not None:
        if engine is not made:  # a Connection
            made.close()
        engine.dispose()


def test_every_form_of_target_posts_and_reads_back(target):
    ledger = Ledger.open(target, policy=KEPT)
    assert ledger.post(ORDER, SETTLED, at=DAY0)
    assert ledger.balance("C") == bal(pending=1500)
    ledger.close()
    with Ledger.open(target) as again:  # reopened: the same ledger, its policy kept
        assert again.post(ORDER, SETTLED, at=day(1)) == []  # a repeat: a no-op
        assert again.balance("B") == bal(pending=750)
        assert again.policy == KEPT
        assert len(again.release(day(7))) == 2  # the available entries of B and C
        assert again.balance("C") == bal(available=1500)


def test_a_url_string_and_a_url_object_open_the_same_database(postgres):
    url = postgres.new_schema_url()
    with Ledger.open(url, policy=KEPT) as ledger:
        ledger.post(ORDER, SETTLED, at=DAY0)
    with Ledger.open(make_url(url)) as ledger:
        assert ledger.balance("C") == bal(pending=1500)


# ------------------------------------------------------------- the backend's transaction


SHOP = "CREATE TABLE shop_orders (order_id VARCHAR(50) PRIMARY KEY, amount BIGINT NOT NULL)"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """A backend's engine with its own table ``shop_orders``, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "shop.db")
    else:
        engine = create_engine(request.getfixturevalue("postgres").new_schema_url())
    with engine.begin() as connection:
        connection.execute(text(SHOP))
    yield engine
    engine.dispose()


def shop_order(connection, order_id, amount=25000):
    connection.execute(
        text("INSERT INTO shop_orders VALUES (:id, :amount)"), {"id": order_id, "amount": amount}
    )


def in_transaction(engine, work):
    """Run ``work(connection)`` in one transaction of the backend: committed, or rolled back
    if it raises."""
    with engine.begin() as connection:
        work(connection)


def shop_orders(engine):
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT order_id FROM shop_orders"))]


def test_the_backend_commits_its_write_and_the_ledgers_together(backend):
    with backend.begin() as connection:
        shop_order(connection, "o1")
        ledger = Ledger.open(connection, policy=KEPT)  # a new ledger: created in the transaction
        ledger.post(ORDER, SETTLED, at=DAY0)
        ledger.close()  # the backend's connection stays open, its transaction too
        assert connection.in_transaction()
    assert shop_orders(backend) == ["o1"]
    with Ledger.open(backend) as ledger:
        assert ledger.balance("C") == bal(pending=1500)


def test_the_backend_rolls_back_its_write_and_the_ledgers_together(backend):
    Ledger.open(backend, policy=KEPT).close()  # the ledger exists before

    def checkout(connection):
        shop_order(connection, "o1")
        Ledger.open(connection).post(ORDER, SETTLED, at=DAY0)
        raise RuntimeError("payment failed after the post")

    with pytest.raises(RuntimeError, match="payment failed"):
        in_transaction(backend, checkout)
    assert shop_orders(backend) == []
    with Ledger.open(backend) as ledger:
        assert ledger.entries() == []
        assert ledger.balance("C") == bal()
        ledger.post(ORDER, SETTLED, at=DAY0)  # the order was never posted: it posts now
        assert ledger.balance("C") == bal(pending=1500)


def test_a_rolled_back_first_open_leaves_no_ledger_tables(backend):

    def checkout(connection):
        Ledger.open(connection, policy=KEPT).post(ORDER, SETTLED, at=DAY0)
        raise RuntimeError("payment failed")

    with pytest.raises(RuntimeError, match="payment failed"):
        in_transaction(backend, checkout)
    with backend.connect() as connection:
        assert inspect(connection).get_table_names() == ["shop_orders"]


def test_a_refusal_inside_the_backends_transaction_undoes_only_the_ledgers_part(backend):
    with Ledger.open(backend, policy=KEPT) as ledger:
        ledger.post(ORDER, SETTLED, at=DAY0)
        before = ledger.entries()
        clock = table_rows(ledger, "tuishou_clock")  # every write moves its counter
    with backend.begin() as connection:
        shop_order(connection, "o2")
        ledger = Ledger.open(connection)
        with pytest.raises(DuplicateOrderError, match="o1"):
            ledger.post(ORDER, OTHER, at=day(1))  # the same order id, another settlement
        with pytest.raises(LedgerError, match="never runs backwards"):
            ledger.withdraw("C", 100, at=DAY0 - (day(1) - DAY0), withdrawal_id="w1")
        shop_order(connection, "o3")  # the transaction is still usable (savepoints)
        assert ledger.entries() == before
    assert sorted(shop_orders(backend)) == ["o2", "o3"]
    with Ledger.open(backend) as ledger:
        assert ledger.entries() == before
        assert table_rows(ledger, "tuishou_clock") == clock  # the refused writes left nothing


def test_two_orders_under_one_policy_in_the_backends_transaction(backend):
    # the policy both orders are posted under is stored once (it was inserted twice: a
    # unique-key error on the second post)
    second = ORDER.model_copy(update={"order_id": "o2"})
    with backend.begin() as connection:
        ledger = Ledger.open(connection, policy=KEPT)
        ledger.post(ORDER, SETTLED, at=DAY0)
        ledger.post(second, settle(SETTLED.policy, TREE, second), at=DAY0)
    with Ledger.open(backend) as ledger:
        assert ledger.balance("C") == bal(pending=3000)
        assert len(table_rows(ledger, "tuishou_policies")) == 1


def test_a_connection_outside_a_transaction_commits_each_operation(backend):
    with backend.connect() as connection:
        ledger = Ledger.open(connection, policy=KEPT)
        ledger.post(ORDER, SETTLED, at=DAY0)
        assert not connection.in_transaction()  # committed by the ledger
    with Ledger.open(backend) as ledger:
        assert ledger.balance("C") == bal(pending=1500)


@pytest.mark.parametrize("form", ["Engine", "Connection"])
def test_a_plain_sqlite_engine_is_refused_naming_sqlite_engine(tmp_path, form):
    path = tmp_path / "shop.db"
    engine = create_engine(f"sqlite:///{path}")  # pysqlite's own transaction handling
    try:
        with engine.connect() as connection:
            target = engine if form == "Engine" else connection
            with pytest.raises(LedgerError, match=r"shop\.db .*sqlite_engine\(path\)"):
                Ledger.open(target, policy=KEPT)
        assert engine.pool.checkedout() == 0  # the refused open returned its connection
    finally:
        engine.dispose()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []


# -------------------------------------------------------------------------- bad targets


BAD = [
    (1, ArgumentTypeError, r"database is a int; pass a path"),
    (None, ArgumentTypeError, r"database is a NoneType; pass a path"),
    (b"ledger.db", ArgumentTypeError, r"database is a bytes; pass a path"),
    ("://nothing", LedgerError, r"'://nothing' is not a database URL"),
    (
        "postgresql+psycopg://u:secret@127.0.0.1:port/db",
        LedgerError,
        r"'postgresql\+psycopg://u:\*\*\*@127.0.0.1:port/db' is not a database URL",
    ),
    (
        "mysql://u:secret@127.0.0.1/db",
        LedgerError,
        r"cannot open mysql://u:\*\*\*@127.0.0.1/db: No module named .*install the driver",
    ),
    (
        "nosuchdb+driver://u:secret@127.0.0.1/db",
        LedgerError,
        r"cannot open nosuchdb\+driver://u:\*\*\*@127.0.0.1/db: Can't load plugin",
    ),
    (
        "postgresql+psycopg://u:secret@127.0.0.1:1/db",
        LedgerError,
        r"postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/db cannot be reached; check the URL",
    ),
]


@pytest.mark.parametrize(("target", "error", "message"), BAD, ids=[repr(b[0]) for b in BAD])
def test_a_bad_target_is_refused_naming_it_without_its_password(target, error, message):
    with pytest.raises(error, match=message) as refused:
        Ledger.open(target, policy=KEPT)
    assert "secret" not in str(refused.value)
    assert "secret" not in repr(refused.value)


# ------------------------------------------------------ beside the platform's own tables


PLATFORM = [
    "CREATE TABLE orders (order_id VARCHAR(50) PRIMARY KEY, buyer VARCHAR(50))",
    "INSERT INTO orders VALUES ('o1', 'platform buyer')",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('platform_rev_42')",
]


def test_the_ledger_lives_beside_the_platforms_own_tables(backend):
    with backend.begin() as connection:
        for sql in PLATFORM:
            connection.execute(text(sql))
    with Ledger.open(backend, policy=KEPT) as ledger:
        ledger.post(ORDER, SETTLED, at=DAY0)
    with backend.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert tables == {"shop_orders", "orders", "alembic_version"} | t.LEDGER_TABLES | {
            t.VERSION_TABLE
        }
        assert all(
            name.startswith("tuishou_")
            for name in tables - {"shop_orders", "orders", "alembic_version"}
        )
        assert connection.execute(text("SELECT * FROM orders")).all() == [("o1", "platform buyer")]
        assert connection.execute(text("SELECT * FROM alembic_version")).all() == [
            ("platform_rev_42",)
        ]
        assert connection.execute(text(f"SELECT * FROM {t.VERSION_TABLE}")).all() == [(t.HEAD,)]
    with Ledger.open(backend) as ledger:  # reopened: the platform's tables do not confuse it
        assert ledger.balance("C") == bal(pending=1500)
