"""Ledger queries in SQL (issue 12): balances of all members, entries paged by member and date.

- ``balances()`` (and its DataFrame and Arrow forms) equals ``balance(m)`` for every member;
- ``entry_pages`` concatenated equals ``entries`` filtered in Python, for every page size;
- ``since <= at < until``, checked at its boundaries;
- nothing loads a whole history: peak memory does not grow with it;
- a damaged file raises the ``LedgerError`` naming the row.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tracemalloc
from datetime import UTC, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from ledger_support import BACKENDS, DAY0, POLICY, bal, day, ledgers, refund_plans
from tuishou import (
    ArgumentTypeError,
    InvalidArgumentError,
    InvalidIdentifierError,
    Ledger,
    LedgerError,
    LedgerPolicy,
    Order,
    OrderLine,
    settle,
)
from tuishou.ledger import queries
from tuishou.ledger import schema as t

from helpers import examples, tree_from_text

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

TREE = tree_from_text("A>B>C>D A>E>F")
SHARERS = ["B", "C", "D", "E", "F"]


def an_order(number, sharer, amounts, at=DAY0):
    lines = [
        OrderLine(sku=f"s{n}", group="g", amount=amount, quantity=1 + n % 2)
        for n, amount in enumerate(amounts)
    ]
    return Order(order_id=f"o{number}", sharer_id=sharer, paid_at=at, lines=lines)


def post(ledger, order, at=DAY0):
    return ledger.post(order, settle(POLICY, TREE, order), at=at)


def expected_balances(ledger, as_of=None):
    """What ``balances`` must give: ``balance(m)`` for every member with entries by then."""
    members = sorted({e.member_id for e in ledger.entries() if as_of is None or e.at <= as_of})
    return [(member, ledger.balance(member, as_of=as_of)) for member in members]


def as_rows(table):
    """A DataFrame or an Arrow table as (member_id, Balance) rows."""
    columns = table.to_pydict() if hasattr(table, "to_pydict") else table.to_dict("list")
    return [
        (member, bal(*values))
        for member, *values in zip(
            *(columns[name] for name in queries.BALANCE_COLUMNS), strict=True
        )
    ]


# ------------------------------------------------ balances of all members, summed in SQL


@st.composite
def histories(draw):
    """Steps of a ledger's life, in time order: posts, releases, refunds, withdrawals."""
    steps, posted = [], []
    for number in range(draw(st.integers(1, 6))):
        amounts = draw(st.lists(st.integers(1, 50_000), min_size=1, max_size=3))
        order = an_order(number, draw(st.sampled_from(SHARERS)), amounts)
        steps.append(("post", order))
        posted.append(order)
        for kind in draw(st.lists(st.sampled_from(["release", "refund", "withdraw"]), max_size=3)):
            if kind == "refund":
                plans = draw(refund_plans(draw(st.sampled_from(posted))))
                steps += [("refund", (order_id_of(plans, posted), plan)) for plan in plans[:1]]
            else:
                steps.append((kind, draw(st.sampled_from([*SHARERS, "A"]))))
    return steps


def order_id_of(plans, posted):
    """The order a refund plan was drawn for (the SKUs tell; refunds go to the latest)."""
    skus = {sku for plan in plans for sku in plan}
    return next(o.order_id for o in reversed(posted) if skus <= {li.sku for li in o.lines})


def play(ledger, steps):
    """Carry out ``steps``, one day apart; refusals (nothing left to refund) are skipped."""
    for n, (kind, what) in enumerate(steps):
        at = day(n)
        if kind == "post":
            post(ledger, what.model_copy(update={"paid_at": at}), at=at)
        elif kind == "release":
            ledger.release(at)
        elif kind == "refund":
            with contextlib.suppress(LedgerError):  # nothing left to refund
                ledger.refund(what[0], lines=what[1], at=at)
        else:
            available = ledger.balance(what).available
            if available > 0:
                ledger.withdraw(what, available // 2 + 1, at=at, withdrawal_id=f"w{n}")
    return len(steps)


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_balances_are_the_balance_of_every_member(make_ledger, monkeypatch, data):
    monkeypatch.setattr(queries, "MEMBERS_PER_PAGE", data.draw(st.integers(1, 3)))
    ledger = make_ledger(
        freeze_days=data.draw(st.integers(0, 2)),
        clawback=data.draw(st.sampled_from(["allow_negative", "cap_at_balance"])),
        withdrawal_fee_rate=data.draw(st.sampled_from(["0", "0.01"])),
    )
    days = play(ledger, data.draw(histories()))
    as_of = data.draw(st.none() | st.integers(-1, days).map(day))
    expected = expected_balances(ledger, as_of)
    assert list(ledger.balances(as_of=as_of)) == expected
    assert as_rows(ledger.balances_frame(as_of=as_of)) == expected
    assert as_rows(ledger.balances_arrow(as_of=as_of)) == expected


def test_balances_in_a_fixed_scenario(make_ledger):
    ledger = make_ledger(freeze_days=0, withdrawal_fee_rate="0.01")
    post(ledger, an_order(1, "C", [10_000]))  # C 1,000, B 500
    ledger.release(day(1))
    post(ledger, an_order(2, "F", [20_000]), at=day(2))  # F 2,000, E 1,000
    ledger.withdraw("C", 300, at=day(3), withdrawal_id="w1")
    assert list(ledger.balances()) == [
        ("B", bal(available=500)),
        ("C", bal(available=700, withdrawn=297, fees=3)),
        ("E", bal(pending=1000)),
        ("F", bal(pending=2000)),
    ]
    assert list(ledger.balances(as_of=day(1) - timedelta(seconds=1))) == [
        ("B", bal(pending=500)),
        ("C", bal(pending=1000)),
    ]
    assert list(ledger.balances(as_of=day(-1))) == []


def test_balances_of_an_empty_ledger_as_tables(make_ledger):
    ledger = make_ledger()
    frame, table = ledger.balances_frame(), ledger.balances_arrow()
    assert list(frame.columns) == list(queries.BALANCE_COLUMNS) == table.column_names
    assert len(frame) == table.num_rows == 0
    assert [str(frame[name].dtype) for name in queries.BALANCE_COLUMNS[1:]] == ["int64"] * 7
    assert [str(table.schema.field(n).type) for n in queries.BALANCE_COLUMNS] == [
        "string",
        *["int64"] * 7,
    ]


# ------------------------------------------------------------------- entries, paged


def history(ledger):
    """Three orders on three days, a release, a refund and a withdrawal: 18 entries."""
    post(ledger, an_order(1, "C", [10_000, 4_000]))
    post(ledger, an_order(2, "F", [20_000]), at=day(1))
    ledger.release(day(1))  # freeze_days=0: both orders
    post(ledger, an_order(3, "C", [6_000]), at=day(2))
    ledger.refund("o1", lines={"s1": 1}, at=day(2))
    ledger.withdraw("C", 500, at=day(3), withdrawal_id="w1")
    return ledger


FILTERS = {
    "everything": {},
    "member": {"member_id": "C"},
    "order": {"order_id": "o1"},
    "member and order": {"member_id": "B", "order_id": "o1"},
    "since": {"since": day(1)},
    "until": {"until": day(2)},
    "a day": {"since": day(1), "until": day(2)},
    "member in days": {"member_id": "C", "since": day(1), "until": day(3)},
    "another zone": {"since": day(1).astimezone(UTC), "until": day(2).astimezone(UTC)},
    "empty range": {"since": day(1), "until": day(1)},
    "unknown member": {"member_id": "Z"},
}


def matching(entries, member_id=None, order_id=None, since=None, until=None):
    return [
        e
        for e in entries
        if member_id in (None, e.member_id)
        and order_id in (None, e.order_id)
        and (since is None or since <= e.at)
        and (until is None or e.at < until)
    ]


@pytest.mark.parametrize("filters", FILTERS.values(), ids=FILTERS.keys())
def test_pages_concatenated_are_the_filtered_entries_for_every_page_size(make_ledger, filters):
    ledger = history(make_ledger(freeze_days=0))
    everything = ledger.entries()
    assert len(everything) == 18
    expected = matching(everything, **filters)
    assert ledger.entries(**filters) == expected
    for size in range(1, len(everything) + 2):
        pages = list(ledger.entry_pages(**filters, page_size=size))
        assert [e for page in pages for e in page] == expected
        assert all(len(page) == size for page in pages[:-1])
        assert all(0 < len(page) <= size for page in pages)
        first = ledger.entries(**filters, limit=size)
        assert first == expected[:size]
        if first:
            assert ledger.entries(**filters, after=first[-1].entry_id) == expected[size:]


def test_since_is_included_and_until_is_not(make_ledger):
    ledger = history(make_ledger(freeze_days=0))
    second = timedelta(seconds=1)
    posted_on = {  # the orders posted each day, by their entries' times
        n: sorted({e.order_id for e in ledger.entries(since=day(n), until=day(n) + second)})
        for n in range(3)
    }
    assert posted_on == {0: ["o1"], 1: ["o1", "o2"], 2: ["o1", "o3"]}  # releases, a refund
    assert {e.at for e in ledger.entries(since=day(1), until=day(2))} == {day(1)}
    assert {e.at for e in ledger.entries(since=day(1) - second, until=day(1))} == set()
    assert {e.at for e in ledger.entries(since=day(1) + second)} == {day(2), day(3)}
    assert {e.at for e in ledger.entries(until=day(1) + second)} == {day(0), day(1)}
    withdrawal = ledger.entries(since=day(3))
    assert [(e.reason, e.request_id) for e in withdrawal] == [("withdrawal", "w1")] * 2


def test_entry_ids_follow_time_so_pages_in_a_range_are_in_time_order(make_ledger):
    ledger = history(make_ledger(freeze_days=0))
    pages = list(ledger.entry_pages(since=day(1), page_size=2))
    times = [e.at for page in pages for e in page]
    assert times == sorted(times)
    assert len(set(times)) == 3


def test_a_write_between_pages_shows_in_the_later_pages(make_ledger):
    ledger = history(make_ledger(freeze_days=0))
    pages = ledger.entry_pages(member_id="C", page_size=4)
    seen = next(pages)
    post(ledger, an_order(4, "C", [1_000]), at=day(4))  # no read transaction is held open
    seen += [e for page in pages for e in page]
    assert seen == ledger.entries(member_id="C")
    assert seen[-1].order_id == "o4"


BAD_ARGUMENTS = {  # (call, error, message)
    "naive since": (
        lambda led: led.entries(since=DAY0.replace(tzinfo=None)),
        LedgerError,
        r"since=2026-11-01 12:00:00 has no time zone",
    ),
    "naive until, paged": (
        lambda led: led.entry_pages(until=DAY0.replace(tzinfo=None)),
        LedgerError,
        r"until=.* has no time zone",
    ),
    "text since": (lambda led: led.entries(since="2026-11-01"), ArgumentTypeError, "since="),
    "since after until": (
        lambda led: led.entry_pages(since=day(2), until=day(1)),
        InvalidArgumentError,
        r"since=2026-11-03T12:00:00\+08:00 is after until=.*swap them",
    ),
    "member id": (
        lambda led: led.entry_pages(member_id=" C"),
        InvalidIdentifierError,
        "member_id=' C'",
    ),
    "order id": (lambda led: led.entries(order_id=7), ArgumentTypeError, "order_id=7"),
    "page size 0": (
        lambda led: led.entry_pages(page_size=0),
        InvalidArgumentError,
        r"page_size=0 is not positive; pass an int >= 1",
    ),
    "page size True": (
        lambda led: led.entry_pages(page_size=True),
        ArgumentTypeError,
        r"page_size=True is a bool",
    ),
    "page size float": (
        lambda led: led.entry_pages(page_size=10.0),
        ArgumentTypeError,
        r"page_size=10.0 is a float",
    ),
    "limit -1": (lambda led: led.entries(limit=-1), InvalidArgumentError, r"limit=-1"),
    "limit False": (lambda led: led.entries(limit=False), ArgumentTypeError, r"limit=False"),
    "after text": (lambda led: led.entries(after="3"), ArgumentTypeError, r"after='3' is a str"),
    "after bool": (lambda led: led.entries(after=True), ArgumentTypeError, r"after=True"),
    "naive as_of": (
        lambda led: led.balances(as_of=DAY0.replace(tzinfo=None)),
        LedgerError,
        r"as_of=.* has no time zone",
    ),
    "as_of text, frame": (
        lambda led: led.balances_frame(as_of="today"),
        ArgumentTypeError,
        r"as_of='today'",
    ),
    "as_of text, arrow": (lambda led: led.balances_arrow(as_of=1), ArgumentTypeError, r"as_of=1"),
}


@pytest.mark.parametrize(("call", "error", "match"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS)
def test_bad_arguments_are_refused_at_the_call(make_ledger, call, error, match):
    ledger = history(make_ledger(freeze_days=0))
    with pytest.raises(error, match=match):
        call(ledger)  # generators too: refused before the first page is asked for


# ------------------------------------------------ nothing loads a whole history


def fill(ledger, members, per_member):
    """``members × per_member`` entries, inserted straight into the ledger's table (valid
    rows, ids in time order), each member's spread over the history."""
    rows = [
        {
            "entry_id": n + 1,
            "member_id": f"m{n % members:06d}",
            "bucket": "pending",
            "reason": "post",
            "amount": 100 + n % 7,
            "at": DAY0 + timedelta(seconds=n),
            "order_id": f"o{n // 3}",
        }
        for n in range(members * per_member)
    ]
    with ledger._store.transaction() as connection:
        for start in range(0, len(rows), 20_000):
            connection.execute(insert(t.entries), rows[start : start + 20_000])


def peak_memory(read):
    """The peak of Python allocations while ``read()`` runs, in bytes, and its result."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = read()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


READS = {  # each yields what it reads, a member or a page at a time: (read, count of entries)
    "balances": (lambda led: led.balances(), lambda _: 5),
    "entry pages": (lambda led: led.entry_pages(page_size=1000), len),
    "a member's days": (lambda led: led.entry_pages("m000001", since=DAY0, page_size=2), len),
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize(("read", "entries_in"), READS.values(), ids=READS.keys())
def test_peak_memory_does_not_grow_with_the_history(request, tmp_path, backend, read, entries_in):
    peaks = []
    for members in (4_000, 20_000):  # 20,000 and 100,000 entries
        target = (
            request.getfixturevalue("postgres").new_schema_url()
            if backend == "postgresql"
            else tmp_path / f"big{members}.db"
        )
        with Ledger.open(target, policy=LedgerPolicy()) as ledger:
            fill(ledger, members, 5)
            next(read(ledger))  # warm up: compiled statements and caches are not the history
            peak, count = peak_memory(lambda ledger=ledger: sum(map(entries_in, read(ledger))))
        assert count in (members * 5, 5)
        peaks.append(peak)
    small, large = peaks
    # Five times the history: a fetchall() holds five times as many rows; pages hold the same.
    assert large < small * 1.5 + 200_000, peaks
    assert large < 3_000_000, peaks


# ------------------------------------------------------------- damaged values


def damaged_file(tmp_path):
    """o1 posted and released, C has withdrawn 100, o2 (by F) posted and waiting."""
    path = tmp_path / "ledger.db"
    with Ledger.open(path, policy=LedgerPolicy(freeze_days=0)) as ledger:
        post(ledger, an_order(1, "C", [10_000]))
        ledger.release(DAY0)
        ledger.withdraw("C", 100, at=DAY0, withdrawal_id="w1")
        post(ledger, an_order(2, "F", [20_000]))
    return path


DAMAGE = {  # SQL run on the file with sqlite3, the read, the message
    "text amount": (
        "UPDATE tuishou_entries SET amount = 'abc' WHERE member_id = 'C'",
        lambda led: list(led.balances()),
        r"table tuishou_entries, row entry_id=\d+, amount='abc' \(expected a whole number",
    ),
    "real amount, as of": (
        "UPDATE tuishou_entries SET amount = 1.5 WHERE member_id = 'E'",
        lambda led: list(led.balances(as_of=day(1))),
        r"table tuishou_entries, row entry_id=\d+, amount=1.5 \(expected a whole number",
    ),
    "bucket, in a frame": (
        "UPDATE tuishou_entries SET bucket = 'savings' WHERE member_id = 'F'",
        lambda led: led.balances_frame(),
        r"table tuishou_entries, row entry_id=\d+, bucket='savings' \(expected one of",
    ),
    "reason, in a table": (
        "UPDATE tuishou_entries SET reason = 'gift' WHERE entry_id = 1",
        lambda led: led.balances_arrow(),
        r"table tuishou_entries, row entry_id=1, reason='gift' \(expected one of",
    ),
    "member id": (
        "UPDATE tuishou_entries SET member_id = '' WHERE entry_id = 2",
        lambda led: list(led.balances()),
        r"table tuishou_entries, row entry_id=2, member_id='' \(expected non-empty text",
    ),
    "entry time, paged": (
        "UPDATE tuishou_entries SET at = 'yesterday' WHERE entry_id = 3",
        lambda led: list(led.entry_pages(page_size=2)),
        r"table tuishou_entries, row entry_id=3, at='yesterday'",
    ),
}


@pytest.mark.parametrize(("damage", "call", "match"), DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_value_is_a_ledger_error_naming_the_row(tmp_path, damage, call, match):
    path = damaged_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(damage)
    before = path.read_bytes()
    with (
        pytest.raises(
            LedgerError, match=rf"the ledger \S*ledger\.db holds a damaged value: {match}"
        ) as caught,
        Ledger.open(path) as ledger,
    ):
        call(ledger)
    assert "was altered outside tuishou: restore it from a backup" in str(caught.value)
    assert path.read_bytes() == before


def test_ids_sort_by_code_point_even_where_the_database_sorts_by_language(postgres):
    """A PostgreSQL database whose default collation is ICU English sorts 'a' before 'B';
    the ledger's id columns use the "C" collation, so balances come in code point order
    (as on SQLite, and as Python's sorted) on every server."""
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(
                "CREATE DATABASE english TEMPLATE template0 LOCALE_PROVIDER icu "
                "ICU_LOCALE 'en-US' LOCALE 'C'"
            )
        )
        assert connection.execute(text("SELECT 'a' < 'B' COLLATE \"en-US-x-icu\"")).scalar()
    admin.dispose()
    tree = tree_from_text("A>a>B>b")
    with Ledger.open(postgres.url.rsplit("/", 1)[0] + "/english") as ledger:
        for number, seller in enumerate(["a", "B", "b", "A"]):
            order = an_order(number, seller, [1000])
            ledger.post(order, settle(POLICY, tree, order), at=DAY0)
        assert [member for member, _ in ledger.balances()] == ["A", "B", "a", "b"]
