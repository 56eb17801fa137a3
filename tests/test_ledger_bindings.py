"""Customer bindings kept in the ledger (``Ledger.bind``, ``record_bindings``, ``bindings``) on
every backend: the semantics are ``tuishou.bindings``' (replayed with ``bind`` here as the
reference), the ledger adds the write lock, the clock and idempotence; a version-4 ledger
gains ``tuishou_bindings`` when it is opened (revision 0005)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_support import BACKENDS, DAY0, day, ledgers, table_rows
from tuishou.bindings import Binding, BindingEvent, BindingRule, Bindings, bind
from tuishou.errors import ArgumentTypeError, InvalidBindingError, LedgerError
from tuishou.ledger import Ledger
from tuishou.ledger import schema as t
from tuishou.times import utc

from helpers import examples

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)


def event(member, n, customer="c-1", how="share", hours=0):
    return BindingEvent(
        customer_id=customer, member_id=member, at=day(n) + timedelta(hours=hours), how=how
    )


def in_utc(bindings):
    """Records with every time in UTC, as the ledger keeps them (the same instants)."""
    return [
        {**r, "since": utc(r["since"]), "until": r["until"] and utc(r["until"])}
        for r in bindings.records()
    ]


@pytest.mark.parametrize(
    ("mode", "days", "events"),
    [
        ("first", 7, [("B", 0), ("C", 3), ("C", 7), ("D", 8)]),  # C binds at expiry
        ("first", None, [("B", 0), ("C", 30)]),  # permanent: B stays
        ("override", 7, [("B", 0), ("C", 3), ("C", 4), ("B", 20)]),  # rebinds, a renewal
        ("override", None, [("B", 0), ("B", 1)]),
        ("register", 7, [("B", 0), ("C", 1, "register"), ("D", 2, "register"), ("B", 9)]),
    ],
)
def test_bind_records_what_bind_replays(make_ledger, mode, days, events):
    rule = BindingRule(mode=mode, days=days)
    made = [event(e[0], e[1], how=e[2] if len(e) > 2 else "share") for e in events]
    ledger = make_ledger()
    for e in made:
        ledger.bind(e, rule)
    expected = bind(made, rule)
    assert ledger.bindings() == expected
    assert in_utc(ledger.bindings()) == in_utc(expected)
    assert ledger.bindings("c-1") == expected
    assert len(ledger.bindings("c-2")) == 0


def test_bind_returns_the_binding_in_force_and_moves_the_clock(make_ledger):
    ledger, rule = make_ledger(), BindingRule(mode="first", days=7)
    made = ledger.bind(event("B", 0), rule)
    assert (made.member_id, made.how, made.since, made.until) == (
        "B",
        "first_share",
        DAY0,
        DAY0 + timedelta(days=7),
    )
    assert ledger.bind(event("C", 3), rule).member_id == "B"  # first: B is in force
    assert ledger.bind(event("C", 7), rule).member_id == "C"  # at the expiry: C binds
    assert ledger._store.latest() == (utc(day(7)), "customer 'c-1' bound to 'C'")


def test_an_identical_repeat_is_a_no_op_at_any_time(make_ledger):
    ledger = make_ledger()
    rule = BindingRule(mode="override", days=30)
    first, second = event("B", 0), event("C", 2)
    for e in (first, second):
        ledger.bind(e, rule)
    before = table_rows(ledger, "tuishou_bindings"), ledger._store.latest()
    assert ledger.bind(first, rule).member_id == "B"  # long after: still a no-op
    assert ledger.bind(second, rule).member_id == "C"
    assert (table_rows(ledger, "tuishou_bindings"), ledger._store.latest()) == before
    with pytest.raises(LedgerError, match="clock never runs backwards"):  # not a repeat
        ledger.bind(event("D", 1, customer="c-2"), rule)


def test_two_events_at_one_instant_under_override_leave_the_later_one(make_ledger):
    ledger, rule = make_ledger(), BindingRule(mode="override")
    share, register = event("B", 0), event("C", 0, how="register")
    ledger.bind(share, rule)
    assert ledger.bind(register, rule).member_id == "C"
    assert ledger.bind(register, rule).member_id == "C"  # a repeat
    assert ledger.bind(event("C", 0), rule).member_id == "C"  # C's share then: the same
    ledger.bind(event("D", 1, customer="c-2"), rule)
    with pytest.raises(LedgerError, match="clock never runs backwards"):
        ledger.bind(share, rule)  # B's share again: a new event, late
    assert [b.member_id for b in ledger.bindings()] == ["C", "D"]


@pytest.mark.parametrize("mode", ["first", "override", "register"])
def test_repeats_change_no_row(make_ledger, mode):
    ledger, rule = make_ledger(), BindingRule(mode=mode, days=3)
    made = [event("B", 0), event("C", 1, how="register"), event("D", 5)]
    for e in made:
        ledger.bind(e, rule)
    rows, clock = table_rows(ledger, "tuishou_bindings"), ledger._store.latest()
    assert rows
    for e in made:  # each again, after the clock moved on
        ledger.bind(e, rule)
    assert (table_rows(ledger, "tuishou_bindings"), ledger._store.latest()) == (rows, clock)


def test_an_event_that_binds_nothing_is_a_no_op_even_before_the_clock(make_ledger):
    ledger, rule = make_ledger(), BindingRule(mode="first")
    ledger.bind(event("B", 0), rule)
    ledger.bind(event("B", 9, customer="c-2"), rule)  # the clock is at day 9
    assert ledger.bind(event("C", 1), rule).member_id == "B"  # first: binds nothing
    shares = BindingRule(mode="register")
    assert ledger.bind(event("C", 2, customer="c-3"), shares) is None  # a share never binds
    assert len(ledger.bindings()) == 2


def test_an_event_before_the_clock_that_would_bind_is_refused(make_ledger):
    ledger, rule = make_ledger(), BindingRule(mode="override")
    ledger.bind(event("B", 5), rule)
    before = table_rows(ledger, "tuishou_bindings")
    with pytest.raises(LedgerError, match=r"event.at=.* is before .*clock never runs backwards"):
        ledger.bind(event("C", 4, customer="c-2"), rule)  # another customer, but late
    with pytest.raises(InvalidBindingError, match="apply events in time order"):
        ledger.bind(event("C", 4), rule)  # before c-1's latest binding
    assert table_rows(ledger, "tuishou_bindings") == before


def test_other_operations_after_a_binding_obey_the_clock(make_ledger):
    from ledger_support import ORDER, POLICY, TREE  # paid at DAY0
    from tuishou import settle

    ledger = make_ledger()
    ledger.bind(event("B", 2), BindingRule(mode="first"))
    with pytest.raises(LedgerError, match="clock never runs backwards"):
        ledger.post(ORDER, settle(POLICY, TREE, ORDER), at=day(1))


def test_a_rebind_ends_the_binding_in_force_in_the_table(make_ledger):
    ledger, rule = make_ledger(), BindingRule(mode="override", days=10)
    ledger.bind(event("B", 0), rule)
    ledger.bind(event("C", 4), rule)
    rows = table_rows(ledger, "tuishou_bindings")
    assert [(r[0], r[2], r[4]) for r in rows] == [
        ("c-1", "B", "first_share"),
        ("c-1", "C", "rebind"),
    ]
    b, c = ledger.bindings().for_customer("c-1")
    assert (b.until, c.since, c.until) == (utc(day(4)), utc(day(4)), utc(day(14)))
    ledger.bind(event("D", 4), rule)  # the same instant: replaces C (in force for no time)
    assert [x.member_id for x in ledger.bindings().for_customer("c-1")] == ["B", "D"]


def test_record_bindings_imports_skips_identical_and_refuses_overlaps(make_ledger):
    ledger = make_ledger()
    records = [
        {"customer_id": "c-1", "member_id": "B", "since": day(0), "until": day(5)},
        {"customer_id": "c-2", "member_id": "C", "since": day(1), "how": "first_share"},
    ]
    assert ledger.record_bindings(Bindings.from_records(records)) == 2
    assert ledger.record_bindings(Bindings.from_records(records)) == 0
    later = {"customer_id": "c-1", "member_id": "D", "since": day(5)}
    assert ledger.record_bindings(Bindings.from_records([*records, later])) == 1
    before = table_rows(ledger, "tuishou_bindings")
    clash = [
        {"customer_id": "c-1", "member_id": "E", "since": day(3)},
        {"customer_id": "c-2", "member_id": "E", "since": day(2)},
        {"customer_id": "c-3", "member_id": "E", "since": day(2)},
    ]
    with pytest.raises(InvalidBindingError) as refused:
        ledger.record_bindings(Bindings.from_records(clash))
    assert len(refused.value.problems) == 3  # c-1 twice (D and B), c-2 once: all at once
    assert "customer 'c-2'" in str(refused.value)
    assert table_rows(ledger, "tuishou_bindings") == before  # c-3 not recorded either
    assert table_rows(ledger, "tuishou_clock")[0][2] is None  # imports are not on the clock


def test_bind_after_an_import_follows_the_imported_binding(make_ledger):
    ledger = make_ledger()
    ledger.record_bindings(
        Bindings.from_records([{"customer_id": "c-1", "member_id": "B", "since": day(0)}])
    )
    assert ledger.bind(event("C", 3), BindingRule(mode="first")).how == "import"
    made = ledger.bind(event("C", 4), BindingRule(mode="override"))
    assert (made.member_id, made.how) == ("C", "rebind")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda ledger: ledger.bind({"customer_id": "c"}, BindingRule(mode="first")), "event"),
        (lambda ledger: ledger.bind(event("B", 0), "first"), "rule"),
        (lambda ledger: ledger.record_bindings([]), "bindings"),
    ],
)
def test_wrong_types_are_refused(call, error):
    with pytest.raises(ArgumentTypeError, match=f"^{error} is a "):
        call(Ledger())


def test_a_read_only_ledger_cannot_bind(tmp_path):
    path = tmp_path / "l.db"
    Ledger.open(path).close()
    with Ledger.open(path, read_only=True) as ledger, pytest.raises(LedgerError, match="read-only"):
        ledger.bind(event("B", 0), BindingRule(mode="first"))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["B", "C", "D"]),
            st.sampled_from(["c-1", "c-2"]),
            st.integers(0, 20),
            st.sampled_from(["share", "register"]),
        ),
        max_size=8,
    ),
    st.sampled_from(["first", "override", "register"]),
    st.sampled_from([None, 1, 3]),
)
@settings(max_examples=examples(60), deadline=None)
def test_binding_events_in_time_order_give_what_bind_gives(raw, mode, days):
    rule = BindingRule(mode=mode, days=days)
    made = sorted(  # ties: input order, as bind() takes them; no event twice (bind() would
        # take a second identical override event as a new one, relabelled first_share)
        {event(m, n, customer=c, how=h): None for m, c, n, h in raw},
        key=lambda e: utc(e.at),
    )
    ledger = Ledger()
    for e in made:
        ledger.bind(e, rule)
    assert ledger.bindings() == bind(made, rule)
    ledger.bind(event("B", 21, customer="c-9"), rule)  # the clock moves on
    for e in made:  # every event again, late: no-ops unless a tie of two members at once
        try:
            ledger.bind(e, rule)
        except (LedgerError, InvalidBindingError):
            tied = [o for o in made if o.customer_id == e.customer_id and o.at == e.at]
            assert mode == "override"
            assert len({o.member_id for o in tied}) > 1
    assert ledger.bindings() == bind([*made, event("B", 21, customer="c-9")], rule)


def test_a_damaged_binding_row_is_named(tmp_path):
    path = tmp_path / "l.db"
    with Ledger.open(path) as ledger:
        ledger.bind(event("B", 0), BindingRule(mode="first"))
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE tuishou_bindings SET member_id = customer_id")
    with (
        Ledger.open(path) as ledger,
        pytest.raises(
            LedgerError, match="damaged value: table tuishou_bindings, row customer_id='c-1'"
        ),
    ):
        ledger.bindings()


def test_binding_records_are_bindings():
    assert isinstance(Ledger().bindings(), Bindings)
    assert Binding  # the model a row reads back as


# ------------------------------------------------------------ a version-4 ledger upgrades


def _engine(target):
    from sqlalchemy import create_engine

    return create_engine(target if "://" in target else f"sqlite:///{target}")


def _as_version_4(target):
    """Make a new ledger look as version 4 wrote it: no tables of versions 5 and 6, revision
    0004."""
    from sqlalchemy import text

    engine = _engine(target)
    try:
        with engine.begin() as connection:
            for table in (
                "tuishou_bindings",  # version 5
                "tuishou_volumes",  # version 6
                "tuishou_bonus_runs",
                "tuishou_bonus_lines",
                "tuishou_tier_reviews",
            ):
                connection.execute(text(f"DROP TABLE {table}"))
            connection.execute(text(f"UPDATE {t.VERSION_TABLE} SET version_num = '0004'"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_version_4_ledger_gains_the_bindings_table_when_opened(backend, tmp_path, request):
    from sqlalchemy import inspect

    from ledger_support import ORDER, POLICY, TREE
    from tuishou import settle
    from tuishou.ledger import versions

    target = (
        request.getfixturevalue("postgres").new_schema_url()
        if backend == "postgresql"
        else str(tmp_path / "v4.db")
    )
    with Ledger.open(target) as ledger:
        ledger.post(ORDER, settle(POLICY, TREE, ORDER), at=DAY0)
        orders = table_rows(ledger, "tuishou_orders")
    _as_version_4(target)
    with pytest.raises(LedgerError, match=rf"older than this tuishou's \({t.HEAD}\)"):
        Ledger.open(target, read_only=True)
    with Ledger.open(target) as ledger:  # upgraded on open
        assert table_rows(ledger, "tuishou_orders") == orders
        assert len(ledger.bindings()) == 0
        ledger.bind(event("B", 1), BindingRule(mode="first"))
        assert ledger.bindings("c-1").for_customer("c-1")[0].member_id == "B"
    engine = _engine(target)
    try:
        with engine.connect() as connection:
            assert versions.revision(connection) == t.HEAD
            assert "tuishou_bindings" in inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_the_docs_example_runs(tmp_path, monkeypatch):
    """docs/ledger.md, "Customer bindings": its example, in a fresh folder."""
    import re
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "ledger.md").read_text("utf-8")
    section = docs[docs.index("## Customer bindings") :]
    section = section[: section.find("\n## ", 5)]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(block, "docs/ledger.md", "exec"), namespace)
    with Ledger.open(tmp_path / "ledger.db", read_only=True) as ledger:
        (made,) = ledger.bindings("c-1")
    assert (made.member_id, made.how, made.until - made.since) == (
        "B",
        "first_share",
        timedelta(30),
    )
