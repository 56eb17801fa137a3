"""Edge cases of the ledger's storage found by a fresh attempt to break it (issue 12).

Each test is a minimal reproduction of a problem that was then fixed; its docstring says
what should happen, and what happened before the fix.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger_support import POLICY
from tuishou import (
    DuplicateOrderError,
    Ledger,
    LedgerPolicy,
    Order,
    OrderLine,
    TuishouError,
    settle,
)
from tuishou.examples import example_order, example_settlement
from tuishou.ledger.database import sqlite_engine
from tuishou.orders import order_columns

from helpers import tree_from_text

DAY = datetime(2026, 11, 1, tzinfo=UTC)
# 9999-12-31 23:00 at UTC-5 is in the year 10000 in UTC: a valid aware datetime
FAR = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
TREE = tree_from_text("A>B>C>D")
ONE_ORDER = {"order_id": ["o1"], "sharer_id": ["C"], "sku": ["s"], "group": ["g"], "amount": [1000]}


def _refusal(call) -> str:
    """The message of the TuishouError ``call()`` raises, or "" if it answers."""
    try:
        call()
    except TuishouError as error:
        return str(error)
    return ""


def _engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest):
    if backend == "sqlite":
        return sqlite_engine(tmp_path / "shop.db")
    return create_engine(request.getfixturevalue("postgres").new_schema_url())


# --------------------------------------------------------------- money and safety


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_backend_rollback_after_a_post_lets_the_same_ledger_post_it_again(
    backend, tmp_path, request
):
    """The backend's transaction (with the ledger's post in it) rolls back; the backend
    retries it with the same Ledger object. Should: the retry posts the order (A pends 500).
    Before the fix: the ledger remembered the commission policy row the rollback undid,
    skipped inserting it, and the retry failed on the foreign key with "check the database
    and the disk, or restore it from a backup": an order never postable through this Ledger."""
    engine = _engine(backend, tmp_path, request)
    try:
        with engine.connect() as connection:
            with connection.begin():
                ledger = Ledger.open(connection, policy=LedgerPolicy(freeze_days=7))
            first = connection.begin()
            ledger.post(example_order(), example_settlement(), at=DAY)
            first.rollback()  # e.g. the backend's own write failed after the ledger's
            with connection.begin():
                ledger.post(example_order(), example_settlement(), at=DAY)
            assert ledger.balance("A").pending == 500
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_backend_rollback_after_a_batch_lets_the_same_ledger_post_it_again(
    backend, tmp_path, request
):
    """The same with ``post_batch``. Should: the retried batch posts its order."""
    engine = _engine(backend, tmp_path, request)
    columns = ONE_ORDER
    try:
        with engine.connect() as connection:
            with connection.begin():
                ledger = Ledger.open(connection)
            first = connection.begin()
            ledger.post_batch(POLICY, TREE, columns, at=DAY)
            first.rollback()
            with connection.begin():  # on PostgreSQL a raw psycopg ForeignKeyViolation now
                done = ledger.post_batch(POLICY, TREE, columns, at=DAY)
            assert done.orders_posted == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
def test_a_pandas_timestamp_with_nanoseconds_does_not_brick_the_ledger(backend, tmp_path, request):
    """A backend passes ``at`` as a pandas Timestamp (an aware datetime subclass) that has
    nanoseconds. Should: refused before anything is written (naming the nanoseconds), or
    stored at microseconds, and the ledger goes on. Before the fix (memory, SQLite): accepted and
    written as '...00.000000001+00:00'; from then on every read of the entries and every
    write (release, post, refund: the clock row) is refused as "a damaged value ... restore
    it from a backup"."""
    pd = pytest.importorskip("pandas")
    if backend == "memory":
        ledger = Ledger()
    elif backend == "sqlite":
        ledger = Ledger.open(tmp_path / "ledger.db")
    else:
        ledger = Ledger.open(request.getfixturevalue("postgres").new_schema_url())
    with ledger:
        at = pd.Timestamp("2026-11-01 00:00:00.000000001", tz="UTC")
        _refusal(lambda: ledger.post(example_order(), example_settlement(), at=at))
        ledger.release(DAY + timedelta(days=30))
        assert len(ledger.entries()) in (0, 3)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_platform_database_with_its_own_schema_version_table_can_hold_the_ledger(
    backend, tmp_path, request
):
    """The platform's database has its own ``schema_version`` table (a common name) and
    ``orders`` table; the ledger is opened on the platform's engine. Should: the ledger's
    ``tuishou_*`` tables are created beside them (docs: "a server's database or a backend's
    engine may hold other tables"). Before the fix: taken for a pre-Alembic ledger file and refused:
    "has ledger schema version 5, newer than this tuishou understands; upgrade tuishou" (and
    with version 2: "a damaged ledger ... restore the file from a backup")."""
    engine = _engine(backend, tmp_path, request)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE schema_version (version INTEGER)"))
            connection.execute(text("INSERT INTO schema_version VALUES (5)"))
            connection.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY)"))
        with Ledger.open(engine) as ledger:
            assert ledger.balance("A").available == 0
    finally:
        engine.dispose()


def test_a_database_error_in_a_batch_on_postgresql_is_a_ledger_error(postgres):
    """A database error while ``post_batch`` writes on PostgreSQL (here a CHECK constraint
    someone added to tuishou_payouts). Should: a ``LedgerError`` naming the database, as
    ``post`` gives for the same row (docs: "Every database error comes out as a
    LedgerError"). Before the fix: a raw ``psycopg.errors.CheckViolation`` from the COPY, which
    ``database_errors`` does not translate (it is raised by the driver's own cursor)."""
    url = postgres.new_schema_url()
    columns = ONE_ORDER
    engine = create_engine(url)
    try:
        with Ledger.open(url) as ledger:
            with engine.begin() as connection:
                connection.execute(
                    text("ALTER TABLE tuishou_payouts ADD CONSTRAINT tiny CHECK (amount < 1)")
                )
            with pytest.raises(TuishouError):
                ledger.post_batch(POLICY, TREE, columns, at=DAY)
    finally:
        engine.dispose()


def test_a_batch_refused_midway_does_not_say_nothing_was_posted(tmp_path):
    """Another process posts one of the batch's orders with another settlement while the
    batch runs (here: from the progress callback, after chunk 1 committed). Should: the
    DuplicateOrderError says the orders of the earlier chunks were posted (and how to
    resume). Before the fix: it says "nothing of the batch was posted" while order o1 is posted."""
    path = tmp_path / "ledger.db"
    orders = [
        Order(order_id=f"o{n}", sharer_id="C", lines=[OrderLine(sku="s", group="g", amount=1000)])
        for n in (1, 2)
    ]
    ledger, other = Ledger.open(path), Ledger.open(path)
    rival = Order(order_id="o2", sharer_id="D", lines=[OrderLine(sku="s", group="g", amount=1000)])

    def meanwhile(done, total):
        if done == 1:
            other.post(rival, settle(POLICY, TREE, rival), at=DAY)

    with ledger, other, pytest.raises(DuplicateOrderError) as refused:
        ledger.post_batch(
            POLICY, TREE, order_columns(orders), at=DAY, chunk_orders=1, progress=meanwhile
        )
    with Ledger.open(path) as reopened:
        assert reopened.payouts("o1")  # chunk 1 stands
    assert "nothing of the batch was posted" not in str(refused.value)


def test_an_empty_path_is_refused_not_a_throwaway_database(tmp_path):
    """``Ledger.open("")`` (an unset setting, e.g. ``os.environ.get("LEDGER", "")``).
    Should: refused like ``None``, naming the forms a target takes. Before the fix: SQLite opens a
    private temporary database: posts succeed and vanish at close()."""
    with pytest.raises(TuishouError):
        Ledger.open("")


# ---------------------------------------------------------------------- clarity


@pytest.mark.parametrize(
    "query",
    [
        lambda ledger: ledger.balance("A", as_of=FAR),
        lambda ledger: list(ledger.balances(as_of=FAR)),
        lambda ledger: ledger.entries(until=FAR),
    ],
    ids=["balance", "balances", "entries"],
)
def test_a_time_beyond_year_9999_in_utc_is_not_called_damage(query):
    """An aware time whose UTC is past the year 9999. Should: refused as an argument naming
    it (or answered). Before the fix: "the ledger database :memory: holds a sum beyond
    64-bit integers: restore the database from a backup": a healthy ledger called damaged."""
    ledger = Ledger()
    ledger.post(example_order(), example_settlement(), at=DAY)
    message = _refusal(lambda: query(ledger))
    assert "restore" not in message
    assert "beyond 64-bit" not in message


@pytest.mark.parametrize("backend", ["memory", "postgresql"])
@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("limit", lambda ledger: ledger.entries(limit=2**63)),
        ("after", lambda ledger: ledger.entries(after=2**63)),
        ("page_size", lambda ledger: list(ledger.entry_pages(page_size=2**63))),
    ],
)
def test_a_count_beyond_64_bits_is_refused_the_same_way_everywhere(backend, name, query, request):
    """``limit``, ``after`` and ``page_size`` are accepted as any positive int. Should: one
    error naming the argument on every backend (or an answer). Before the fix: SQLite raises a raw
    ``OverflowError``, PostgreSQL a LedgerError "holds a sum beyond 64-bit integers: restore
    the database from a backup"."""
    if backend == "memory":
        ledger = Ledger()
    else:
        ledger = Ledger.open(request.getfixturevalue("postgres").new_schema_url())
    ledger.post(example_order(), example_settlement(), at=DAY)
    with ledger:
        message = _refusal(lambda: query(ledger))
    assert "restore" not in message
    assert not message or name in message


def test_a_batch_refusing_an_order_posted_with_paid_at_says_why():
    """An order posted in real time by ``post`` with its ``paid_at``, then in the nightly
    batch (which has no paid_at column). Should: the error names the difference (paid_at),
    or the order is skipped. Before the fix: "already posted with a different settlement" though the
    settlement is the same."""
    order = Order(
        order_id="o1",
        sharer_id="C",
        paid_at=DAY,
        lines=[OrderLine(sku="s", group="g", amount=1000)],
    )
    ledger = Ledger()
    ledger.post(order, settle(POLICY, TREE, order), at=DAY)
    message = _refusal(lambda: ledger.post_batch(POLICY, TREE, order_columns([order]), at=DAY))
    assert not message or "paid_at" in message


@pytest.mark.parametrize("how", ["engine", "connection"])
def test_a_backend_sqlite_engine_is_named_by_its_file(tmp_path, how):
    """A ledger opened on ``sqlite_engine(path)`` (as docs/ledger.md shows). Should: its
    messages name the file. Before the fix: they name "sqlite://" (e.g. "the ledger database sqlite://
    failed; ... restore it from a backup"), which names no file at all."""
    engine = sqlite_engine(tmp_path / "shop.db")
    with engine.connect() as connection:
        Ledger.open(connection, policy=LedgerPolicy(freeze_days=7)).close()
        connection.commit()
    with engine.connect() as connection:
        target = engine if how == "engine" else connection
        with pytest.raises(TuishouError) as refused:
            Ledger.open(target, policy=LedgerPolicy(freeze_days=1))
    engine.dispose()
    assert "shop.db" in str(refused.value)


def test_a_ledger_whose_creation_was_rolled_back_says_so(tmp_path):
    """The backend opens a new ledger inside its transaction and rolls it back (documented:
    the ledger disappears with it), then uses the Ledger object. Should: an error saying the
    ledger's tables are gone (open it again). Before the fix, on PostgreSQL "has no such database or
    role; create it first"; here on SQLite a generic "failed; check the database and the
    disk, or restore it from a backup"."""
    engine = sqlite_engine(tmp_path / "shop.db")
    with engine.connect() as connection:
        transaction = connection.begin()
        ledger = Ledger.open(connection)
        transaction.rollback()
        with pytest.raises(TuishouError) as refused:
            ledger.balance("A")
    assert "restore" not in str(refused.value)
    assert "no such database" not in str(refused.value)


def test_a_refund_of_an_unknown_sku_lists_each_known_sku_once():
    """Should: "known: 's'". Before the fix: "known: 's', 's'" (one per line of the SKU)."""
    order = Order(
        order_id="o1",
        sharer_id="C",
        lines=[OrderLine(sku="s", group="g", amount=100), OrderLine(sku="s", group="g", amount=50)],
    )
    ledger = Ledger()
    ledger.post(order, settle(POLICY, TREE, order), at=DAY)
    with pytest.raises(TuishouError) as refused:
        ledger.refund("o1", lines={"S": 1}, at=DAY)
    assert "'s', 's'" not in str(refused.value)
