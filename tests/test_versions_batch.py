"""Policy versions in the batch engine: grouping by paid_at, refusals, the policy_version
column, and the paid_at column in every container (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tuishou import InviteTree, settle
from tuishou.analysis import compare
from tuishou.engine import member_totals, settle_batch
from tuishou.errors import ArgumentTypeError, InvalidOrderError, UnknownGroupError
from tuishou.examples import example_policy
from tuishou.orders import Order, OrderLine, order_columns
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import replace

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOV = datetime(2026, 11, 1, tzinfo=SHANGHAI)
DEC = datetime(2026, 12, 1, tzinfo=SHANGHAI)
TREE = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
OLD = example_policy()  # the seller gets 50% of the pool
NEW = replace(OLD, rules=[{"kind": "seller", "rates": {"m": "0.6"}}])
VERSIONS = PolicyVersions.of((NOV, OLD), (DEC, NEW))


def lines(*paid: datetime | None, ids: list[object] | None = None) -> dict[str, list[object]]:
    """One 10 000 fen line per order shared by A, paid at ``paid``."""
    count = len(paid)
    return {
        "order_id": ids or [f"o{n}" for n in range(count)],
        "sharer_id": ["A"] * count,
        "sku": ["s"] * count,
        "group": ["g"] * count,
        "amount": [10000] * count,
        "paid_at": list(paid),
    }


def test_orders_are_settled_under_the_version_in_force_when_paid_in_input_order():
    just_before = DEC - timedelta(microseconds=1)
    result = settle_batch(VERSIONS, TREE, lines(DEC, just_before, DEC.astimezone(UTC), NOV))
    names = VERSIONS.names
    assert result.orders.rows() == [
        ("o0", "A", 1000, 600, 400, names[1]),
        ("o1", "A", 1000, 500, 500, names[0]),
        ("o2", "A", 1000, 600, 400, names[1]),
        ("o3", "A", 1000, 500, 500, names[0]),
    ]
    assert [row[0] for row in result.payouts.rows()] == ["o0", "o1", "o2", "o3"]
    assert dict(member_totals(VERSIONS, TREE, lines(DEC, NOV)).rows()) == {"A": 1100}


def test_lines_of_orders_interleaved_keep_the_order_of_first_appearance():
    columns = lines(DEC, NOV, DEC, NOV, ids=["b", "a", "b", "c"])
    columns["paid_at"] = [DEC, NOV, DEC, NOV]
    result = settle_batch(VERSIONS, TREE, columns)
    orders = [
        Order(
            order_id="b",
            sharer_id="A",
            paid_at=DEC,
            lines=[OrderLine(sku="s", group="g", amount=10000)] * 2,
        )
    ]
    assert result.orders.rows()[0] == ("b", "A", 2000, 1200, 800, VERSIONS.names[1])
    assert settle(VERSIONS, TREE, orders[0]).paid == 1200
    assert [row[0] for row in result.orders.rows()] == ["b", "a", "c"]


def test_int_order_ids_and_every_container_give_the_same_rows():
    columns = lines(DEC, NOV, NOV, ids=[30, 10, 20])
    expected = settle_batch(VERSIONS, TREE, columns).orders.rows()
    assert [row[0] for row in expected] == [30, 10, 20]
    for form in (pd.DataFrame(columns), pa.table(pd.DataFrame(columns))):
        assert settle_batch(VERSIONS, TREE, form).orders.rows() == expected


def test_the_per_order_table_has_a_policy_version_column_only_with_versions():
    with_versions = settle_batch(VERSIONS, TREE, lines(NOV, DEC)).orders
    assert with_versions.to_pandas()["policy_version"].tolist() == list(VERSIONS.names)
    assert with_versions.to_arrow().column("policy_version").to_pylist() == list(VERSIONS.names)
    plain = settle_batch(OLD, TREE, lines(NOV, DEC)).orders
    assert "policy_version" not in plain.to_pandas().columns
    assert len(plain.rows()[0]) == 5


def test_a_plain_policy_accepts_paid_at_without_changing_the_result():
    with_times = settle_batch(OLD, TREE, lines(NOV, None))
    columns = lines(NOV, None)
    del columns["paid_at"]
    assert with_times.payouts.rows() == settle_batch(OLD, TREE, columns).payouts.rows()


def test_one_version_takes_orders_without_paid_at():
    single = PolicyVersions.of((NOV, OLD))
    columns = lines(None, None)
    assert [row[5] for row in settle_batch(single, TREE, columns).orders.rows()] == [
        single.names[0]
    ] * 2
    del columns["paid_at"]
    assert settle_batch(single, TREE, columns).paid == 1000


@pytest.mark.parametrize("drop_column", [False, True])
def test_orders_without_paid_at_under_two_versions_are_all_named(drop_column):
    columns = lines(None, DEC, None)
    if drop_column:
        del columns["paid_at"]
    with pytest.raises(InvalidOrderError) as error:
        settle_batch(VERSIONS, TREE, columns)
    named = ["o0", "o2"] if not drop_column else ["o0", "o1", "o2"]
    assert len(error.value.problems) == len(named)
    for problem, order_id in zip(error.value.problems, named, strict=True):
        assert problem.startswith(f"order {order_id!r} has no paid_at; with 2 policy versions")
    with pytest.raises(InvalidOrderError):
        member_totals(VERSIONS, TREE, columns)


def test_an_order_paid_before_the_first_version_is_refused_naming_both_times():
    with pytest.raises(InvalidOrderError) as error:
        settle_batch(VERSIONS, TREE, lines(DEC, NOV - timedelta(seconds=1)))
    [problem] = error.value.problems
    assert problem.startswith("order 'o1': paid_at=2026-10-31 15:59:59+00:00 is before")
    assert VERSIONS.names[0] in problem


def test_a_group_a_version_does_not_rate_is_named_by_input_row():
    later = PolicyVersions.of((NOV, OLD), (DEC, replace(OLD, group_rates={"h": "0.1"})))
    columns = lines(NOV, DEC, NOV)
    with pytest.raises(UnknownGroupError, match=r"'g' in row\(s\) 1, which has no pool rate"):
        settle_batch(later, TREE, columns)
    columns["group"] = ["g", "h", "g"]
    assert settle_batch(later, TREE, columns).pool == 2000 + 1000


def test_a_sharer_who_is_no_member_is_named_by_input_row_under_versions():
    columns = lines(NOV, DEC, DEC)
    columns["sharer_id"] = ["A", "A", "Z"]
    with pytest.raises(Exception, match=r"row\(s\) 2"):
        settle_batch(VERSIONS, TREE, columns)


def test_paid_at_must_be_the_same_on_every_line_of_an_order():
    columns = lines(NOV, DEC, ids=["o1", "o1"])
    with pytest.raises(InvalidOrderError, match="differs between lines of order 'o1'"):
        settle_batch(OLD, TREE, columns)


NAIVE = datetime(2026, 11, 5)


@pytest.mark.parametrize(
    "column",
    [
        [NAIVE],
        np.array([np.datetime64("2026-11-05")]),
        pd.Series(pd.to_datetime(["2026-11-05"])),
        pa.array([NAIVE], pa.timestamp("us")),
        ["2026-11-05T00:00:00+08:00"],
    ],
    ids=["datetime", "numpy", "pandas", "arrow", "text"],
)
def test_naive_or_text_paid_at_is_refused_in_every_container(column):
    columns = {**lines(NOV), "paid_at": column}
    with pytest.raises(InvalidOrderError, match="paid_at"):
        settle_batch(OLD, TREE, columns)


@pytest.mark.parametrize(
    "column",
    [
        [NOV],
        pd.Series([NOV]).dt.tz_convert("UTC"),
        pa.array([NOV], pa.timestamp("us", tz="Asia/Shanghai")),
        pa.array([NOV], pa.timestamp("ns", tz="UTC")),
        pa.chunked_array([pa.array([NOV], pa.timestamp("ms", tz="UTC"))]),
    ],
    ids=["datetime", "pandas", "arrow", "arrow-ns", "chunked"],
)
def test_aware_paid_at_is_read_in_every_container(column):
    columns = {**lines(NOV), "paid_at": column}
    assert settle_batch(VERSIONS, TREE, columns).orders.rows()[0][5] == VERSIONS.names[0]


def test_nanoseconds_are_refused():
    column = pa.array([1_793_462_400_000_000_001], pa.timestamp("ns", tz="UTC"))
    with pytest.raises(InvalidOrderError, match="nanoseconds"):
        settle_batch(OLD, TREE, {**lines(NOV), "paid_at": column})


def test_order_columns_carry_paid_at():
    order = Order(order_id="o1", paid_at=NOV, lines=[OrderLine(sku="s", group="g", amount=1)])
    assert order_columns([order])["paid_at"] == [NOV]


def test_compare_takes_versions_on_either_side():
    columns = lines(NOV, DEC)
    result = compare({"old": OLD, "versions": VERSIONS}, TREE, columns)
    assert result.totals["paid"].to_dict() == {"old": 1000, "versions": 1100}
    with pytest.raises(ArgumentTypeError, match="PolicyVersions"):
        compare({"old": "OLD"}, TREE, columns)  # type: ignore[dict-item]


def test_dask_settles_under_versions_with_a_policy_version_column():
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.dask import settle_dask

    frame = pd.DataFrame(lines(NOV, DEC, NOV))
    with dask.config.set(scheduler="synchronous"):
        result = settle_dask(VERSIONS, TREE, dd.from_pandas(frame, npartitions=2))
        orders = result.orders.compute()
    assert orders["policy_version"].tolist() == [VERSIONS.names[i] for i in (0, 1, 0)]
    assert orders["paid"].tolist() == [500, 600, 500]
