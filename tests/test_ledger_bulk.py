"""Bulk posting (``Ledger.post_batch``): the same database state as posting order by order.

The key property: for any orders, ``post_batch(policy, tree, order_columns(orders), at=T)``
leaves every ``tuishou_*`` table exactly as ``post(o, settle(policy, tree, o), at=T)`` for
each order does (the clock's count of write transactions aside), so later posts, refunds and
releases cannot tell the two apart. Then: checks before anything is written, chunks, resume
after a kill -9 (a worker process, ``ledger_bulk_worker.py``).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_support import (
    BACKENDS,
    DAY0,
    ORPHAN_ENTRIES_SQL,
    PARTIAL_ORDERS_SQL,
    day,
    ledgers,
    table_rows,
)
from test_ledger_sqlite import assert_every_order_whole
from tuishou import (
    DuplicateOrderError,
    InvalidOrderError,
    Ledger,
    LedgerError,
    Order,
    OrderLine,
    TuishouError,
    settle,
)
from tuishou.ledger import BatchPosting
from tuishou.ledger import schema as s
from tuishou.orders import order_columns
from tuishou.testing import order_batches

from helpers import any_scenarios, examples, policy, tree_from_text

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)
local_ledger = pytest.fixture(params=["memory", "sqlite"])(ledgers)
pg_ledger = pytest.fixture(params=["postgresql"])(ledgers)

COMPARED = sorted(set(s.LEDGER_TABLES) - {"tuishou_ledger_policy", "tuishou_clock"})


def state(ledger):
    """Every row the two ways must agree on: the clock's time and what, every other table
    (the ledger policy's row is dated at the ledger's creation; ``writes`` counts
    transactions)."""
    clock = [row[2:] for row in table_rows(ledger, "tuishou_clock")]
    return {name: table_rows(ledger, name) for name in COMPARED} | {"clock": clock}


def one_by_one(ledger, chosen, tree, orders, at):
    for order in orders:
        ledger.post(order, settle(chosen, tree, order), at=at)


def assert_same_as_one_by_one(make, chosen, tree, orders, ledger_policy, chunk=3):
    reference, bulk = make(**ledger_policy), make(**ledger_policy)
    try:
        one_by_one(reference, chosen, tree, orders, DAY0)
    except TuishouError as exc:  # the batch refuses the same orders, writing nothing
        before = state(bulk)
        with pytest.raises(type(exc)):
            bulk.post_batch(chosen, tree, order_columns(orders), at=DAY0, chunk_orders=chunk)
        assert state(bulk) == before
        return
    done = bulk.post_batch(chosen, tree, order_columns(orders), at=DAY0, chunk_orders=chunk)
    assert state(bulk) == state(reference)
    assert done.orders_posted == len(orders)
    assert done.orders_skipped == 0
    assert done.entries_added == len(table_rows(bulk, "tuishou_entries"))
    for order in orders:  # a later post of the same order is a no-op
        assert bulk.post(order, settle(chosen, tree, order), at=DAY0) == []
    again = bulk.post_batch(chosen, tree, order_columns(orders), at=DAY0)
    assert (again.orders_posted, again.orders_skipped) == (0, len(orders))
    for ledger in (reference, bulk):  # refunds and releases of batch-posted orders alike
        ledger.refund(orders[0].order_id, at=day(1))
        ledger.release(day(30))
    assert state(bulk) == state(reference)


LEDGER_POLICIES = st.sampled_from(
    [{"freeze_days": 7}, {"freeze_days": 0}, {"freeze_from": "received", "freeze_days": 3}]
)


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), ledger_policy=LEDGER_POLICIES, chunk=st.integers(1, 4))
def test_a_batch_leaves_the_state_posting_order_by_order_leaves(
    local_ledger, data, ledger_policy, chunk
):
    scenario = data.draw(any_scenarios())
    orders = data.draw(order_batches(scenario.tree, min_size=1, max_size=8))
    assert_same_as_one_by_one(
        local_ledger, scenario.policy, scenario.tree, orders, ledger_policy, chunk
    )


@settings(
    max_examples=examples(8),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_batch_on_postgresql_leaves_the_state_posting_order_by_order_leaves(pg_ledger, data):
    scenario = data.draw(any_scenarios())
    orders = data.draw(order_batches(scenario.tree, min_size=1, max_size=6))
    assert_same_as_one_by_one(pg_ledger, scenario.policy, scenario.tree, orders, {"freeze_days": 7})


POLICY = policy(
    group_rates={"g": "1"},
    max_generation=2,
    rules=[
        {"kind": "seller", "rates": {"member": "0.1"}},
        {"kind": "layers", "rates": {"member": ["0.05", "0.02"]}},
    ],
)
TREE = tree_from_text("A>B>C>D C>E", suspended="B")


def orders_of(*ids, sharer="D", buyer=None):
    return [
        Order(
            order_id=order_id,
            sharer_id=sharer,
            buyer_id=buyer,
            lines=[
                OrderLine(sku=f"s{k}", group="g", amount=1000 * (n + 1) + k, quantity=k + 1)
                for k in range(1 + n % 3)
            ],
        )
        for n, order_id in enumerate(ids)
    ]


@pytest.mark.parametrize(
    "orders",
    [
        orders_of("o1", "o2", "o3"),
        orders_of("订单-1", 'quote"d', "back\\slash", "space inside", "€é"),  # JSON escapes
        orders_of("a", "b", sharer=None, buyer="E"),  # the buyer's inviter
        orders_of("g1", sharer=None, buyer="guest"),  # nobody paid: a row, no entries
        orders_of("self", sharer="E", buyer="E"),  # a self-share is no share link
    ],
    ids=["plain", "escapes", "buyer-inviter", "guest", "self-share"],
)
def test_examples_on_every_backend(make_ledger, orders):
    assert_same_as_one_by_one(make_ledger, POLICY, TREE, orders, {"freeze_days": 7})


def test_lines_of_one_order_apart_in_the_input_are_one_order(make_ledger):
    (order,) = orders_of("o1")
    order = order.model_copy(update={"lines": orders_of("x", "y", "z")[2].lines})
    other = orders_of("o2")[0]
    columns = order_columns([order, other])
    rows = list(zip(*columns.values(), strict=True))
    shuffled = [rows[0], rows[3], rows[1], rows[2]]  # o1, o2, o1, o1
    columns = {name: [row[i] for row in shuffled] for i, name in enumerate(columns)}
    reference, bulk = make_ledger(), make_ledger()
    one_by_one(reference, POLICY, TREE, [order, other], DAY0)
    bulk.post_batch(POLICY, TREE, columns, at=DAY0)
    assert state(bulk) == state(reference)


def test_an_order_posted_with_a_different_settlement_refuses_the_whole_batch(make_ledger):
    ledger = make_ledger()
    orders = orders_of("o1", "o2", "o3", "o4")
    changed = orders[2].model_copy(update={"sharer_id": "E"})
    ledger.post(changed, settle(POLICY, TREE, changed), at=DAY0)
    before = state(ledger)
    with pytest.raises(DuplicateOrderError, match="'o3'"):
        ledger.post_batch(POLICY, TREE, order_columns(orders), at=DAY0, chunk_orders=1)
    assert state(ledger) == before
    with pytest.raises(DuplicateOrderError):  # and the batch's own posts refuse a change
        ledger.post(orders[2], settle(POLICY, TREE, orders[2]), at=DAY0)


def test_a_batch_dated_before_the_clock_is_refused_unless_it_is_all_posted(make_ledger):
    ledger = make_ledger()
    orders = orders_of("o1", "o2")
    ledger.post_batch(POLICY, TREE, order_columns(orders[:1]), at=day(2))
    with pytest.raises(LedgerError, match="clock never runs backwards"):
        ledger.post_batch(POLICY, TREE, order_columns(orders), at=day(1))
    assert ledger.entries(order_id="o2") == []
    done = ledger.post_batch(POLICY, TREE, order_columns(orders[:1]), at=day(1))
    assert done == BatchPosting(0, 1, 0, 0, 0)


def test_bad_columns_are_refused_before_anything_is_written(make_ledger):
    ledger = make_ledger()
    columns = order_columns(orders_of("o1", "o2"))
    columns["amount"][-1] = -5
    with pytest.raises(InvalidOrderError):
        ledger.post_batch(POLICY, TREE, columns, at=DAY0)
    assert ledger.entries() == []


@pytest.mark.parametrize("chunk", [0, -1, 1.5, True, "10"])
def test_chunk_sizes_are_whole_numbers_of_orders(chunk):
    with pytest.raises(TypeError, match="chunk_orders"):
        Ledger().post_batch(
            POLICY, TREE, order_columns(orders_of("o1")), at=DAY0, chunk_orders=chunk
        )


def test_numeric_order_ids_are_refused():
    with pytest.raises(TypeError, match="text"):
        Ledger().post_batch(
            POLICY,
            TREE,
            {"order_id": [1], "sharer_id": ["D"], "sku": ["s"], "group": ["g"], "amount": [100]},
            at=DAY0,
        )


def test_chunks_are_transactions_and_progress_is_reported(make_ledger):
    ledger = make_ledger()
    seen = []
    done = ledger.post_batch(
        POLICY,
        TREE,
        order_columns(orders_of(*[f"o{n}" for n in range(7)])),
        at=DAY0,
        chunk_orders=3,
        progress=lambda n, total: seen.append((n, total)),
    )
    assert done.chunks == 3
    assert seen == [(3, 7), (6, 7), (7, 7)]
    assert table_rows(ledger, "tuishou_clock")[0][1] >= 3


def test_pandas_and_arrow_columns_post_the_same(make_ledger):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    orders = orders_of("o1", "o2", "o3")
    states = []
    for columns in (
        order_columns(orders),
        pd.DataFrame(order_columns(orders)),
        pa.table(order_columns(orders)),
    ):
        ledger = make_ledger()
        ledger.post_batch(POLICY, TREE, columns, at=DAY0)
        states.append(state(ledger))
    assert states[0] == states[1] == states[2]


# --------------------------------------------------------------------- kill -9, resume

WORKER = Path(__file__).with_name("ledger_bulk_worker.py")


def run_worker(target, count, chunk, **options):
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(target), str(count), str(chunk)],
        stdout=subprocess.DEVNULL,
        **options,
    )


def posted_orders(path):
    try:
        with sqlite3.connect(path, timeout=60) as db:
            return db.execute("SELECT COUNT(*) FROM tuishou_orders").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_a_killed_bulk_post_leaves_whole_orders_and_resumes_to_the_clean_state(tmp_path):
    path, clean = tmp_path / "killed.db", tmp_path / "clean.db"
    count = 20_000
    worker = run_worker(path, count, 50)
    deadline = time.monotonic() + 120
    while posted_orders(path) < 500 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert 500 <= posted_orders(path) < count, "the worker was not killed mid-run"
    assert_every_order_whole(path)
    assert run_worker(path, count, 5000).wait(timeout=300) == 0  # resume
    assert run_worker(clean, count, 5000).wait(timeout=300) == 0
    with Ledger.open(path) as resumed, Ledger.open(clean) as single:
        assert state(resumed) == state(single)
    assert_every_order_whole(path)


def count_and_partial_orders(url):
    """(orders posted, orders not whole, entries without their order) in a ledger schema."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not connection.execute(text("SELECT to_regclass('tuishou_orders')")).scalar():
                return 0, [], 0
            count = connection.execute(text("SELECT COUNT(*) FROM tuishou_orders")).scalar()
            partial = connection.execute(text(PARTIAL_ORDERS_SQL)).all()
            orphans = connection.execute(text(ORPHAN_ENTRIES_SQL)).scalar()
    finally:
        engine.dispose()
    return count, partial, orphans


def test_a_killed_bulk_post_on_postgresql_leaves_whole_orders_and_resumes(postgres):
    url, clean = postgres.new_schema_url(), postgres.new_schema_url()
    count = 20_000
    worker = run_worker(url, count, 50)
    deadline = time.monotonic() + 120
    while count_and_partial_orders(url)[0] < 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    posted, partial, orphans = count_and_partial_orders(url)
    assert 500 <= posted < count, "the worker was not killed mid-run"
    assert (partial, orphans) == ([], 0)
    assert run_worker(url, count, 5000).wait(timeout=300) == 0  # resume
    assert run_worker(clean, count, 5000).wait(timeout=300) == 0
    with Ledger.open(url) as resumed, Ledger.open(clean) as single:
        assert state(resumed) == state(single)
    assert count_and_partial_orders(url) == (count, [], 0)
