"""Shared by the ledger's tests: both backends, a small scenario, aware days, balances."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from tuishou import Balance, Ledger, LedgerPolicy, Order, OrderLine, settle

from helpers import policy, tree_from_text

CN = timezone(timedelta(hours=8), "CST")  # the ledger takes aware times only
DAY0 = datetime(2026, 11, 1, 12, 0, tzinfo=CN)


BACKENDS = ["memory", "sqlite", "postgresql"]


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


# A policy change is dated at or after the ledger's creation (now): these days come after it.
LATER0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def later(n: int) -> datetime:
    return LATER0 + timedelta(days=n)


def ledgers(request, tmp_path):
    """A fixture body: ``make(**policy_fields)`` opens a ledger on the parametrised backend
    (in memory, a SQLite file, or a fresh schema on the session's PostgreSQL server).

    Each test module declares ``make_ledger = pytest.fixture(params=BACKENDS)(ledgers)``.
    """
    opened = []
    numbers = itertools.count()
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None

    def make(**fields):
        chosen = LedgerPolicy(**fields)
        if server is not None:  # a fresh schema on the session's server
            ledger = Ledger.open(server.new_schema_url(), policy=chosen)
        elif request.param == "memory":
            ledger = Ledger(chosen)
        else:
            ledger = Ledger.open(tmp_path / f"ledger{next(numbers)}.db", policy=chosen)
        opened.append(ledger)
        for old in opened[:-10]:  # a hypothesis test makes one per example: keep few open
            old.close()
        del opened[:-10]
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


# C sells; B is its inviter. Seller 10%, layer 5%, pool = the paid amount.
POLICY = policy(
    group_rates={"g": "1"},
    rules=[
        {"kind": "seller", "rates": {"member": "0.1"}},
        {"kind": "layers", "rates": {"member": ["0.05"]}},
    ],
)
TREE = tree_from_text("A>B>C")
ORDER = Order(
    order_id="o1",
    sharer_id="C",
    paid_at=DAY0,
    lines=[
        OrderLine(sku="x", group="g", amount=10000, quantity=2),
        OrderLine(sku="y", group="g", amount=5000),
    ],
)


def table_rows(ledger, table):
    """Every row of a ledger table, in primary-key order (for "nothing changed" checks)."""
    from sqlalchemy import select

    from tuishou.ledger import schema

    chosen = schema.metadata.tables[table]
    with ledger._store.reading() as connection:
        return [
            tuple(row)
            for row in connection.execute(select(chosen).order_by(*chosen.primary_key.columns))
        ]


def posted(ledger, order=ORDER, at=DAY0):
    ledger.post(order, settle(POLICY, TREE, order), at=at)
    return ledger


def bal(pending=0, available=0, written_off=0, withdrawn=0, fees=0, held=0, payable=0):
    return Balance(pending, available, written_off, withdrawn, fees, held, payable)


@st.composite
def refund_plans(draw, order):
    """A sequence of partial refunds (sku → quantity) that never exceeds what was bought."""
    left = {}
    for line in order.lines:
        left[line.sku] = left.get(line.sku, 0) + line.quantity
    plans = []
    for _ in range(draw(st.integers(0, 4))):
        skus = [sku for sku, n in left.items() if n]
        if not skus:
            break
        chosen = draw(st.lists(st.sampled_from(skus), min_size=1, unique=True))
        plan = {sku: draw(st.integers(1, left[sku])) for sku in chosen}
        for sku, n in plan.items():
            left[sku] -= n
        plans.append(plan)
    return plans


# Orders posted in part (their payouts and post entries differ, or no entry at all), and
# entries whose order was never posted: both must be empty after any crash.
PARTIAL_ORDERS_SQL = """
    SELECT o.order_id FROM tuishou_orders o
    WHERE (SELECT COALESCE(SUM(amount), 0) FROM tuishou_payouts p
           WHERE p.order_id = o.order_id)
       != (SELECT COALESCE(SUM(amount), 0) FROM tuishou_entries e
           WHERE e.order_id = o.order_id AND e.reason = 'post')
       OR NOT EXISTS (SELECT 1 FROM tuishou_entries e WHERE e.order_id = o.order_id)
"""
ORPHAN_ENTRIES_SQL = (
    "SELECT COUNT(*) FROM tuishou_entries "
    "WHERE order_id NOT IN (SELECT order_id FROM tuishou_orders)"
)
