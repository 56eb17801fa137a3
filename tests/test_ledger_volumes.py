"""The volume journal (业绩): what post, post_batch and refunds write, ``Ledger.volumes``."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_support import BACKENDS, DAY0, ORDER, POLICY, TREE, day, ledgers, table_rows
from tuishou import InviteTree, Order, OrderLine, order_columns, settle
from tuishou.bindings import Bindings
from tuishou.errors import DuplicateOrderError, LedgerError
from tuishou.ledger import Ledger, Period
from tuishou.ledger import schema as t
from tuishou.ledger.refunds import posted_lines
from tuishou.ledger.volumes import PeriodVolumes, VolumeAdjustment
from tuishou.orders import Coupon

from helpers import examples

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

NOVEMBER = Period.month("2026-11")
DECEMBER = Period.month("2026-12")


def journal(ledger):
    """The journal as (member, order, request, amount, at, sold_at) rows, oldest first."""
    return [
        (r.member_id, r.order_id, r.request_id, r.amount, r.at, r.sold_at)
        for r in ledger.volume_journal()
    ]


def make_order(order_id, *, sharer="C", buyer=None, coupon=None, paid_at=None, lines=None):
    return Order(
        order_id=order_id,
        sharer_id=sharer,
        buyer_id=buyer,
        paid_at=paid_at,
        coupon=coupon,
        lines=lines or ORDER.lines,
    )


def post(ledger, order, at=DAY0, bindings=None):
    return ledger.post(order, settle(POLICY, TREE, order, bindings=bindings), at=at)


# ---------------------------------------------------------------------- what is written


def test_a_post_writes_the_paid_amount_for_the_seller(make_ledger):
    ledger = make_ledger()
    post(ledger, ORDER)
    assert journal(ledger) == [("C", "o1", None, 15000, DAY0, DAY0)]
    assert [r.volume_id for r in ledger.volume_journal()] == [1]
    post(ledger, ORDER)  # the identical post again: a no-op
    assert len(journal(ledger)) == 1


@pytest.mark.parametrize(
    ("asked", "taken"),
    [
        ({"lines": {"x": 1}}, 5000),  # one of the two units of 10,000 fen
        ({"amounts": {"y": 1234}}, 1234),
        ({}, 15000),  # everything
    ],
)
def test_a_refund_writes_what_it_took_off_the_paid_amount(make_ledger, asked, taken):
    ledger = make_ledger()
    post(ledger, ORDER)
    ledger.refund("o1", **asked, at=day(1), refund_id="r1")
    assert journal(ledger)[1:] == [("C", "o1", "r1", -taken, day(1), DAY0)]


def test_refunds_after_a_refund_by_amount_take_what_is_left(make_ledger):
    ledger = make_ledger()
    post(ledger, ORDER)
    ledger.refund("o1", amounts={"x": 1001}, at=day(1))  # x: 8,999 fen left for 2 units
    ledger.refund("o1", lines={"x": 1}, at=day(2))  # 8,999 - floor(8,999 / 2) = 4,500 off
    ledger.refund("o1", at=day(3))  # the rest: 4,499 + 5,000
    assert [row[3] for row in journal(ledger)] == [15000, -1001, -4500, -9499]
    assert [row[2] for row in journal(ledger)] == [None] * 4  # refunds without an id


def test_a_coupon_order_counts_what_the_buyer_paid(make_ledger):
    ledger = make_ledger()
    post(ledger, make_order("o2", coupon=Coupon(coupon_id="c", amount=3000)))
    ledger.refund("o2", at=day(1))
    assert [row[3] for row in journal(ledger)] == [12000, -12000]


def test_a_guest_order_without_a_seller_and_an_order_of_nothing_write_nothing(make_ledger):
    ledger = make_ledger()
    post(ledger, make_order("guest", sharer=None, buyer="a-guest"))
    free = [OrderLine(sku="x", group="g", amount=0)]
    post(ledger, make_order("free", lines=free))
    ledger.refund("guest", at=day(1))
    assert journal(ledger) == []


def test_a_refund_that_takes_nothing_off_writes_nothing(make_ledger):
    ledger = make_ledger()
    post(ledger, make_order("o2", lines=[*ORDER.lines, OrderLine(sku="z", group="g", amount=0)]))
    ledger.refund("o2", lines={"z": 1}, at=day(1))
    assert len(journal(ledger)) == 1


def test_a_repeated_refund_writes_nothing_again(make_ledger):
    ledger = make_ledger()
    post(ledger, ORDER)
    ledger.refund("o1", lines={"x": 1}, at=day(1), refund_id="r1")
    ledger.refund("o1", lines={"x": 1}, at=day(2), refund_id="r1")
    assert [row[2:4] for row in journal(ledger)] == [(None, 15000), ("r1", -5000)]


def test_refused_posts_and_refunds_write_nothing(make_ledger):
    ledger = make_ledger()
    post(ledger, ORDER)
    before = table_rows(ledger, "tuishou_volumes")
    other = ORDER.model_copy(update={"sharer_id": "B"})
    with pytest.raises(DuplicateOrderError):
        post(ledger, other)
    with pytest.raises(LedgerError, match="only 2 left"):
        ledger.refund("o1", lines={"x": 3}, at=day(1))
    with pytest.raises(LedgerError, match="before order"):
        ledger.refund("o1", at=DAY0 - timedelta(days=1))
    assert table_rows(ledger, "tuishou_volumes") == before


# -------------------------------------------------------------------- a period's volumes


def test_a_refund_in_the_next_period_is_an_adjustment_with_its_reference(make_ledger):
    ledger = make_ledger()
    post(ledger, ORDER)  # 2026-11-01 12:00 in China
    post(ledger, make_order("o2", sharer="B"), at=day(3))
    late = DECEMBER.start + timedelta(hours=2)
    ledger.refund("o1", lines={"x": 1}, at=late, refund_id="r1")
    post(ledger, make_order("o3"), at=late)
    ledger.refund("o3", amounts={"y": 100}, at=late)  # sold in the period: no adjustment
    assert ledger.volumes(NOVEMBER) == PeriodVolumes(NOVEMBER, {"B": 15000, "C": 15000}, ())
    december = ledger.volumes(DECEMBER)
    assert december.personal == {"C": 15000 - 5000 - 100}
    assert december.adjustments == (VolumeAdjustment("C", "o1", "r1", -5000, late, DAY0),)
    assert (december.total(), ledger.volumes(Period.month("2027-01")).personal) == (9900, {})


def test_volumes_refuses_what_is_not_a_period(make_ledger):
    with pytest.raises(TypeError, match="pass a Period"):
        make_ledger().volumes("2026-11")


# ---------------------------------------------------------------------------- post_batch

BATCH = [
    make_order("b1"),
    make_order("b2", sharer="B", lines=[OrderLine(sku="x", group="g", amount=777, quantity=3)]),
    make_order("b3", sharer=None, buyer="a-guest"),  # no seller
    make_order("b4", sharer=None, buyer="C"),  # C's inviter B sells
    make_order("b5", sharer="A"),
]


def with_paid_at(orders):
    return [
        o.model_copy(update={"paid_at": DAY0 - timedelta(hours=i)}) for i, o in enumerate(orders)
    ]


def with_coupons(orders):
    coupon = Coupon(coupon_id="c", amount=333)
    return [o.model_copy(update={"coupon": coupon}) if i % 2 else o for i, o in enumerate(orders)]


def one_by_one(ledger, policy, orders, bindings=None):
    for order in orders:
        ledger.post(order, settle(policy, TREE, order, bindings=bindings), at=DAY0)


@pytest.mark.parametrize("chunk", [1, 2, 5000])
@pytest.mark.parametrize(
    ("variant", "orders", "bound"),
    [
        ("plain", BATCH, False),
        ("reversed", BATCH[::-1], False),  # order ids not in sorted order
        ("paid_at", with_paid_at(BATCH), False),
        ("coupons", with_coupons(BATCH), False),
        ("bindings", with_paid_at(BATCH), True),
    ],
)
def test_post_batch_writes_what_posting_one_by_one_writes(
    make_ledger, variant, orders, chunk, bound
):
    bindings = (
        Bindings.from_records(
            [{"customer_id": "a-guest", "member_id": "A", "since": day(-9), "how": "first_share"}]
        )
        if bound
        else None
    )
    batch, single = make_ledger(), make_ledger()
    batch.post_batch(
        POLICY, TREE, order_columns(orders), at=DAY0, chunk_orders=chunk, bindings=bindings
    )
    one_by_one(single, POLICY, orders, bindings)
    assert table_rows(batch, "tuishou_volumes") == table_rows(single, "tuishou_volumes")
    assert len(journal(batch)) == (5 if bound else 4)


def test_post_batch_of_a_frame_whose_order_categories_are_not_in_order(make_ledger):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(order_columns(BATCH))
    ids = sorted(set(frame["order_id"]), reverse=True)
    frame["order_id"] = pd.Categorical(frame["order_id"], categories=ids)
    batch, single = make_ledger(), make_ledger()
    batch.post_batch(POLICY, TREE, frame, at=DAY0)
    one_by_one(single, POLICY, BATCH)
    assert table_rows(batch, "tuishou_volumes") == table_rows(single, "tuishou_volumes")


def test_post_batch_under_policy_versions_writes_what_posting_one_by_one_writes():
    from test_worked_month import TREE as RECORDS
    from test_worked_month import cn, order, versions

    orders = [order("v1", cn(11, 10), 20000, quantity=2), order("v2", cn(12, 1), 10000)]
    tree = InviteTree.from_records(RECORDS)
    batch, single = Ledger(), Ledger()
    batch.post_batch(versions(), tree, order_columns(orders), at=cn(12, 2))
    for o in orders:
        single.post(o, settle(versions(), tree, o), at=cn(12, 2))
    assert table_rows(batch, "tuishou_volumes") == table_rows(single, "tuishou_volumes")
    assert [row[3] for row in journal(batch)] == [20000, 10000]


def test_a_resumed_batch_writes_each_order_once(make_ledger):
    ledger = make_ledger()
    ledger.post_batch(POLICY, TREE, order_columns(BATCH[:2]), at=DAY0)
    ledger.post_batch(POLICY, TREE, order_columns(BATCH), at=DAY0, chunk_orders=2)
    assert [row[1] for row in journal(ledger)] == ["b1", "b2", "b4", "b5"]
    assert [r.volume_id for r in ledger.volume_journal()] == [1, 2, 3, 4]


# ------------------------------------------------------------------------------ properties

SKUS = ("x", "y")
SELLERS = (None, "A", "B", "C")


@st.composite
def histories(draw):
    """Orders (random lines and seller) and refunds of them (units, amounts or whole)."""
    count = draw(st.integers(1, 4))
    orders = []
    for n in range(count):
        quantities = draw(st.lists(st.integers(1, 3), min_size=1, max_size=len(SKUS)))
        lines = [
            OrderLine(sku=sku, group="g", amount=draw(st.integers(0, 5000)), quantity=q)
            for sku, q in zip(SKUS[: len(quantities)], quantities, strict=True)
        ]
        sharer = draw(st.sampled_from(SELLERS))
        orders.append(
            make_order(f"o{n}", sharer=sharer, buyer=None if sharer else "g", lines=lines)
        )
    refunds = draw(
        st.lists(
            st.tuples(
                st.integers(0, count - 1),
                st.sampled_from(SKUS),
                st.sampled_from(["lines", "amounts", "all"]),
                st.integers(1, 3000),
            ),
            max_size=6,
        )
    )
    return orders, refunds


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_the_journal_per_member_is_what_was_paid_less_what_was_refunded(history):
    orders, refunds = history
    ledger = Ledger()
    for order in orders:
        post(ledger, order)
    for n, (i, sku, how, size) in enumerate(refunds):
        asked = {} if how == "all" else {how: {sku: size if how == "amounts" else 1}}
        # more than is left, or a SKU not in the order: refused, nothing written
        with contextlib.suppress(LedgerError):
            ledger.refund(orders[i].order_id, **asked, at=day(1 + n))
    expected: dict[str, int] = {}
    for order in orders:
        if order.sharer_id is not None:
            row = ledger._store.order_row(order.order_id, "order_json", "refunded_json")
            left = sum(s.amount_left for s in posted_lines(ledger._store, row)[1])
            expected[order.sharer_id] = expected.get(order.sharer_id, 0) + left
    found: dict[str, int] = {}
    for member, _, _, amount, _, _ in journal(ledger):
        found[member] = found.get(member, 0) + amount
    assert found == {m: v for m, v in expected.items() if v or m in found}
    everything = Period(label="all", start=day(-1), end=day(30))
    assert ledger.volumes(everything).personal == found


@settings(max_examples=examples(20), deadline=None)
@given(history=histories(), chunk=st.integers(1, 3))
def test_post_batch_equals_posting_one_by_one(history, chunk):
    orders = history[0]
    batch, single = Ledger(), Ledger()
    batch.post_batch(POLICY, TREE, order_columns(orders), at=DAY0, chunk_orders=chunk)
    one_by_one(single, POLICY, orders)
    assert table_rows(batch, "tuishou_volumes") == table_rows(single, "tuishou_volumes")


# ---------------------------------------------------------------------------- the upgrade


def _as_version_5(target):
    """Make a ledger look as version 5 wrote it: no tables of version 6, revision 0005."""
    from sqlalchemy import create_engine, text

    engine = create_engine(target if "://" in target else f"sqlite:///{target}")
    try:
        with engine.begin() as connection:
            for table in (
                "tuishou_volumes",
                "tuishou_bonus_runs",
                "tuishou_bonus_lines",
                "tuishou_tier_reviews",
            ):
                connection.execute(text(f"DROP TABLE {table}"))
            connection.execute(text(f"UPDATE {t.VERSION_TABLE} SET version_num = '0005'"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_version_5_ledger_gets_its_journal_as_if_posted_now(backend, tmp_path, request):
    target = (
        request.getfixturevalue("postgres").new_schema_url()
        if backend == "postgresql"
        else str(tmp_path / "v5.db")
    )
    with Ledger.open(target) as ledger:
        post(ledger, ORDER)
        post(ledger, make_order("o2", sharer="B", coupon=Coupon(coupon_id="c", amount=3000)))
        post(ledger, make_order("guest", sharer=None, buyer="a-guest"), at=day(1))
        post(ledger, make_order("o3"), at=day(1))
        ledger.refund("o2", amounts={"x": 2000}, at=day(2), refund_id="r2")
        ledger.refund("o3", at=day(3))
        post(ledger, make_order("o4"), at=day(4))
        ledger.refund("o1", lines={"y": 1}, at=day(5), refund_id="r1")  # after o4's post
        expected = table_rows(ledger, "tuishou_volumes")
        orders = table_rows(ledger, "tuishou_orders")
    _as_version_5(target)
    with Ledger.open(target) as ledger:
        assert table_rows(ledger, "tuishou_volumes") == expected
        assert table_rows(ledger, "tuishou_orders") == orders
        post(ledger, make_order("o5"), at=day(6))  # ids go on after the backfill's
        assert [r.volume_id for r in ledger.volume_journal()][-1] == len(expected) + 1


def test_the_upgrade_dates_an_orders_refunds_at_its_last_refund(tmp_path):
    target = str(tmp_path / "v5.db")
    with Ledger.open(target) as ledger:
        post(ledger, ORDER)
        ledger.refund("o1", lines={"x": 1}, at=day(1), refund_id="r1")
        ledger.refund("o1", amounts={"y": 100}, at=day(2), refund_id="r2")
    _as_version_5(target)
    with Ledger.open(target) as ledger:
        assert journal(ledger) == [
            ("C", "o1", None, 15000, DAY0, DAY0),
            ("C", "o1", "r2", -5100, day(2), DAY0),
        ]


def test_the_docs_example_runs():
    """docs/ledger.md, "The volume journal (业绩)": its example."""
    import re
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "ledger.md").read_text("utf-8")
    section = docs[docs.index("## The volume journal") :]
    section = section[: section.find("\n## ", 5)]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    exec(compile(block, "docs/ledger.md", "exec"), {})
