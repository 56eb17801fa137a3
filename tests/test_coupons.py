"""Order coupons (优惠券分摊): docs/domain.md §18 and example J of §15, on every path.

The shares are worked by hand in each case: a coupon is spread over the lines it applies to
in proportion to their amounts, by largest remainder, ties to the earlier line; pools are
computed on what each line paid after its share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_support import read_payouts, run, scenario, settle_args, write_rows
from tuishou import Coupon, InviteTree, Order, OrderLine, Policy, paid_order, settle
from tuishou.engine import settle_batch
from tuishou.engine.columns import read_lines
from tuishou.errors import FloatRefusedError, InvalidOrderError
from tuishou.io.inputs import load_data, read_policy
from tuishou.ledger.bulk_orders import orders_of
from tuishou.orders import order_columns
from tuishou.settlement.coupons import coupon_from_lines, line_discounts
from tuishou.testing import check_settlement

TREE = InviteTree.from_records(
    [
        {"member_id": "A", "inviter_id": None, "tier": "m"},
        {"member_id": "B", "inviter_id": "A", "tier": "m"},
    ]
)
POLICY = Policy.model_validate(
    {
        "name": "coupons",
        "tiers": ["m"],
        "group_rates": {"xiaomi": "0.1", "ecosystem": "0.2"},
        "max_generation": 1,
        "rules": [
            {"kind": "seller", "rates": {"m": "0.5"}},
            {"kind": "layers", "rates": {"m": ["0.1"]}},
        ],
    }
)


def lines(*amounts: int, group: str = "xiaomi") -> list[OrderLine]:
    return [OrderLine(sku=f"s{i}", group=group, amount=a) for i, a in enumerate(amounts, 1)]


def order(line_list: list[OrderLine], coupon: Coupon | None) -> Order:
    return Order(order_id="o1", sharer_id="B", lines=line_list, coupon=coupon)


def coupon(amount: int, **fields: Any) -> Coupon:
    return Coupon(coupon_id="c-1", amount=amount, **fields)


def same_on_every_path(the_order: Order) -> Any:
    """``settle`` (checked for every invariant) and ``settle_batch`` agree; the settlement."""
    result = settle(POLICY, TREE, the_order)
    check_settlement(POLICY, TREE, the_order, result)
    batch = settle_batch(POLICY, TREE, order_columns([the_order]))
    assert batch.orders.rows() == [("o1", "B", result.pool, result.paid, result.retained)]
    assert [(r[1], r[5]) for r in batch.payouts.rows()] == [
        (p.member_id, p.amount) for p in result.payouts
    ]
    return result


# (coupon, line amounts, each line's share), worked by hand:
SPREADS = [
    # The case: 1000 fen over 333 + 333 + 334 = 1000 fen takes each line whole.
    (1000, (333, 333, 334), (333, 333, 334)),
    # The same in yuan: ¥10 over ¥333, ¥333, ¥334: 1000 × 33300/100000 = 333 exactly, ...
    (1000, (33300, 33300, 33400), (333, 333, 334)),
    # 100 fen over 333, 333, 334: exact 33.3, 33.3, 33.4; floors 33 + 33 + 33 = 99; the one
    # fen left goes to the largest remainder, 0.4: the third line.
    (100, (333, 333, 334), (33, 33, 34)),
    # 100 fen over three lines of 100: 33⅓ each, floors 99, remainders tie: the earliest.
    (100, (100, 100, 100), (34, 33, 33)),
    # 7 fen over 1, 2, 4 (7 fen): each line whole.
    (7, (1, 2, 4), (1, 2, 4)),
    # 5 fen over 0, 10, 10: the 0-fen line takes nothing; 2.5 + 2.5: floors 2 + 2, tie: 3, 2.
    (5, (0, 10, 10), (0, 3, 2)),
]


@pytest.mark.parametrize(("amount", "amounts", "shares"), SPREADS)
def test_the_spread_worked_by_hand(amount: int, amounts: tuple, shares: tuple) -> None:
    """docs/domain.md §15, Example J: the spreads, worked by hand in ``SPREADS``."""
    the_order = order(lines(*amounts), coupon(amount))
    assert line_discounts(the_order) == shares
    paid = [a - s for a, s in zip(amounts, shares, strict=True)]
    assert [line.amount for line in paid_order(the_order).lines] == paid
    assert the_order.paid == sum(paid) == the_order.amount - amount
    result = same_on_every_path(the_order)
    assert [line.discount for line in result.lines] == list(shares)
    assert [line.amount for line in result.lines] == paid


def test_example_j_pools_on_what_was_paid() -> None:
    """docs/domain.md §15, Example J: ¥10 off ¥333 + ¥333 + ¥334, pools on what was paid."""
    # Lines of ¥333, ¥333, ¥334 at 10%, a ¥10 coupon: they paid 33300 − 333 = 32967,
    # 32967 and 33400 − 334 = 33066 fen; the pool is 10% of 99000 = 9900 fen. B (seller)
    # gets 50%: 4950; A (generation 1) 10%: 990. Without the coupon: 10000, 5000, 1000.
    the_order = order(lines(33300, 33300, 33400), coupon(1000))
    result = same_on_every_path(the_order)
    assert [line.amount for line in result.lines] == [32967, 32967, 33066]
    assert (result.pool, result.amount_for("B"), result.amount_for("A")) == (9900, 4950, 990)
    plain = settle(POLICY, TREE, order(lines(33300, 33300, 33400), None))
    assert (plain.pool, plain.amount_for("B"), plain.amount_for("A")) == (10000, 5000, 1000)


def test_a_group_restricted_coupon() -> None:
    """docs/domain.md §15, Example J: a coupon restricted to a group, then to SKUs."""
    # ¥30 off the xiaomi lines only (20000 + 10000 fen): 2000 and 1000; the ecosystem line
    # (5000 fen) pays in full. Pools: 10% of 18000 + 10% of 9000 + 20% of 5000 = 1800 + 900
    # + 1000 = 3700 fen; B 50%: 1850, A 10%: 370.
    mixed = [
        OrderLine(sku="phone", group="xiaomi", amount=20000),
        OrderLine(sku="band", group="xiaomi", amount=10000),
        OrderLine(sku="kettle", group="ecosystem", amount=5000),
    ]
    the_order = order(mixed, coupon(3000, groups=["xiaomi"]))
    assert line_discounts(the_order) == (2000, 1000, 0)
    result = same_on_every_path(the_order)
    assert (result.pool, result.amount_for("B"), result.amount_for("A")) == (3700, 1850, 370)
    by_sku = order(mixed, coupon(3000, skus=["phone", "kettle"]))  # 20000 + 5000 fen
    assert line_discounts(by_sku) == (2400, 0, 600)
    same_on_every_path(by_sku)
    text = result.explain()
    assert "paid ¥180.00 (¥200.00 less ¥20.00 of the coupon)" in text
    assert "kettle (ecosystem) paid ¥50.00 x" in text


@pytest.mark.parametrize(
    ("amounts", "fields", "message"),
    [
        ((100, 200), {"amount": 301}, "coupon 'c-1' of 301 fen is larger than the 300 fen"),
        (
            (100, 200),
            {"amount": 101, "skus": ["s1"]},
            "coupon 'c-1' of 101 fen is larger than the 100 fen of the lines it applies to",
        ),
        ((100, 200), {"amount": 1, "groups": ["toys"]}, "applies to no line"),
        ((0, 0), {"amount": 1}, "larger than the 0 fen"),
    ],
)
def test_refused_coupons(amounts: tuple, fields: dict, message: str) -> None:
    with pytest.raises(InvalidOrderError, match=message) as raised:
        order(lines(*amounts), Coupon(coupon_id="c-1", **fields))
    assert "order_id='o1'" in str(raised.value)
    columns = order_columns([order(lines(*amounts), None)])
    eligible = [
        bool(not fields.get("skus") and not fields.get("groups")) or i == 0
        for i in range(len(amounts))
    ]
    if "groups" in fields:
        eligible = [False] * len(amounts)
    columns |= {"coupon": [fields["amount"]] * len(amounts), "coupon_eligible": eligible}
    with pytest.raises(InvalidOrderError, match="order_id='o1': a coupon of"):
        read_lines(columns)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ({"coupon": [10.0, 10.0]}, FloatRefusedError, "column 'coupon' holds floats"),
        ({"coupon": [True, True]}, InvalidOrderError, "column 'coupon' holds bools"),
        ({"coupon": [-1, -1]}, InvalidOrderError, "column 'coupon' must be >= 0"),
        ({"coupon": [10, 20]}, InvalidOrderError, "'coupon' differs between lines of one order"),
        ({"coupon_eligible": ["yes", True]}, InvalidOrderError, "found 'yes' in row"),
    ],
)
def test_bad_coupon_columns(bad: dict, error: type, message: str) -> None:
    columns = order_columns([order(lines(100, 200), coupon(10))]) | bad
    with pytest.raises(error, match=message):
        settle_batch(POLICY, TREE, columns)


def test_every_coupon_problem_of_the_columns_is_named_at_once() -> None:
    """A coupon differing between lines (o1), one applying to no line (o2) and one larger
    than its lines (o3): one refusal naming all three, as an orders file does."""
    given = [order(lines(100, 200), coupon(10))]
    given += [Order(order_id=f"o{n}", sharer_id="B", lines=lines(100)) for n in (2, 3)]
    columns = order_columns(given) | {
        "coupon": [10, 20, 5, 500],
        "coupon_eligible": [True, True, False, True],
    }
    with pytest.raises(InvalidOrderError) as raised:
        settle_batch(POLICY, TREE, columns)
    message = str(raised.value)
    assert "'coupon' differs between lines of one order in row(s) 1" in message
    assert "order_id='o2': a coupon of 5 fen applies to no line" in message
    assert "order_id='o3': a coupon of 500 fen is larger than the 100 fen" in message
    assert "order_id='o1': a coupon" not in message  # no one coupon: said once, as differing


def test_one_sku_on_lines_the_coupon_applies_to_and_not_is_refused_on_every_path() -> None:
    """A coupon applies by SKU: one SKU flagged eligible on one line and not on another is
    refused by ``settle`` (``coupon_from_lines``) and by the batch engine alike, every such
    order named with its rows at once (o1, o3), with the other coupon problems (o4); without
    a coupon (o2) the flags say nothing and the order is settled."""
    mug = OrderLine(sku="mug", group="xiaomi", amount=100)
    two = [mug, mug]
    given = [Order(order_id=f"o{n}", sharer_id="B", lines=two) for n in (1, 2, 3)]
    given.append(Order(order_id="o4", sharer_id="B", lines=[mug]))
    columns = order_columns(given) | {
        "coupon": [30, 30, 0, 0, 10, 10, 5],
        "coupon_eligible": [True, False, False, True, False, True, False],
    }
    with pytest.raises(InvalidOrderError, match="SKU 'mug' is on a line the coupon applies to"):
        coupon_from_lines("o1", 30, two, [True, False])
    with pytest.raises(InvalidOrderError) as raised:
        settle_batch(POLICY, TREE, columns)
    message = str(raised.value)
    assert "row(s) 0: order_id='o1': SKU 'mug' is on a line the coupon applies to" in message
    assert "row(s) 5: order_id='o3': SKU 'mug' is on a line the coupon applies to" in message
    assert "order_id='o4': a coupon of 5 fen applies to no line" in message
    assert "o2" not in message
    fine = {name: values[2:4] for name, values in columns.items()}
    assert settle_batch(POLICY, TREE, fine).orders.rows()  # no coupon: settled


def test_one_sku_in_two_groups_is_said_by_its_group() -> None:
    """The SKU on a flagged and an unflagged line, in two groups, the flagged one's group
    wholly flagged: a coupon by group says it, so every path accepts it and agrees."""
    two = [
        OrderLine(sku="mug", group="xiaomi", amount=100),
        OrderLine(sku="mug", group="ecosystem", amount=100),
    ]
    by_group = coupon_from_lines("o1", 30, two, [False, True])
    assert by_group == Coupon(coupon_id="coupon", amount=30, groups=("ecosystem",))
    same_on_every_path(Order(order_id="o1", sharer_id="B", lines=two, coupon=by_group))
    with pytest.raises(InvalidOrderError, match="and so is its group"):
        coupon_from_lines("o1", 30, [*two, two[1]], [False, True, False])


def test_columns_without_a_coupon_and_empty_cells() -> None:
    plain = order(lines(100, 200), None)
    assert "coupon" not in order_columns([plain])  # old outputs stay as they were
    columns = order_columns([plain]) | {"coupon": [None, None], "coupon_eligible": [None, True]}
    assert read_lines(columns).coupon.tolist() == [0, 0]
    with_coupon = order_columns([order(lines(100, 200), coupon(30))])
    with_coupon["coupon_eligible"] = [None, None]  # empty: the coupon applies
    paid = settle_batch(POLICY, TREE, with_coupon).orders.rows()
    assert (
        paid
        == settle_batch(POLICY, TREE, order_columns([order(lines(90, 180), None)])).orders.rows()
    )


def test_eligibility_from_columns_becomes_the_coupons_skus() -> None:
    two = lines(100, 200)
    assert coupon_from_lines("o1", 30, two, [False, True]) == Coupon(
        coupon_id="coupon", amount=30, skus=("s2",)
    )
    same_sku = [OrderLine(sku="s", group="xiaomi", amount=a) for a in (100, 200)]
    with pytest.raises(InvalidOrderError, match="SKU 's' is on a line the coupon applies to"):
        coupon_from_lines("o1", 30, same_sku, [True, False])


def test_an_order_without_a_coupon_dumps_as_before() -> None:
    plain = order(lines(100), None)
    assert "coupon" not in plain.model_dump_json()
    given = order(lines(100, 200), coupon(30, groups=["xiaomi"]))
    assert Order.model_validate_json(given.model_dump_json()) == given


def test_numpy_columns() -> None:
    columns = order_columns([order(lines(100, 200), coupon(30, skus=["s2"]))])
    arrays = {
        k: np.array(v) if k in ("amount", "coupon", "coupon_eligible") else v
        for k, v in columns.items()
    }
    assert (
        settle_batch(POLICY, TREE, arrays).orders.rows()
        == settle_batch(POLICY, TREE, columns).orders.rows()
    )


# ------------------------------------------------------------------------------ files

MEMBERS = [
    {"member_id": "A", "inviter_id": None, "tier": "senior_advisor", "status": "active"},
    {"member_id": "B", "inviter_id": "A", "tier": "mentor", "status": "active"},
]
FILE_COLUMNS = ("order_id", "sharer_id", "sku", "group", "amount", "coupon", "coupon_eligible")
FILE_ORDERS = [
    {
        "order_id": "o1",
        "sharer_id": "B",
        "sku": "phone",
        "group": "xiaomi",
        "amount": 99900,
        "coupon": 3000,
        "coupon_eligible": True,
    },
    {
        "order_id": "o1",
        "sharer_id": "B",
        "sku": "kettle",
        "group": "ecosystem",
        "amount": 9900,
        "coupon": 3000,
        "coupon_eligible": False,
    },
    {
        "order_id": "o2",
        "sharer_id": "B",
        "sku": "band",
        "group": "xiaomi",
        "amount": 24900,
        "coupon": None,
        "coupon_eligible": None,
    },
]
FORMATS = [".csv", ".jsonl", ".parquet"]


def files_for(folder: Path, suffix: str, rows: list[dict[str, Any]]) -> dict[str, Path]:
    paths = scenario(folder, suffix, members=MEMBERS)
    paths["orders"] = write_rows(folder / f"orders{suffix}", rows, FILE_COLUMNS)
    return paths


@pytest.mark.parametrize("suffix", FORMATS)
def test_files_with_the_coupon_columns(tmp_path: Path, capsys: Any, suffix: str) -> None:
    paths = files_for(tmp_path, suffix, FILE_ORDERS)
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out))
    assert code == 0, err
    policy = read_policy(paths["policy"])  # the same files, settled order by order
    tree, lines_read = load_data([policy], paths["members"], paths["orders"])
    o1 = lines_read.order("o1")
    assert o1.coupon == Coupon(coupon_id="coupon", amount=3000, skus=("phone",))
    assert lines_read.order("o2").coupon is None
    expected = [
        (o.order_id, p.member_id, p.rule, p.kind, p.generation, p.amount)
        for o in (o1, lines_read.order("o2"))
        for p in settle(policy, tree, o).payouts
    ]
    assert read_payouts(out) == expected
    (tmp_path / "plain").mkdir()
    plain = files_for(tmp_path / "plain", suffix, [{**row, "coupon": None} for row in FILE_ORDERS])
    assert run(capsys, *settle_args(plain, tmp_path / "plain.csv"))[0] == 0
    assert read_payouts(out) != read_payouts(tmp_path / "plain.csv")  # the coupon counted


@pytest.mark.parametrize("suffix", FORMATS)
def test_bad_coupon_cells_are_named(tmp_path: Path, capsys: Any, suffix: str) -> None:
    bad_value = "12.5" if suffix == ".csv" else 12.5
    rows = [
        {**FILE_ORDERS[0], "coupon": bad_value},
        {**FILE_ORDERS[1], "coupon_eligible": "maybe"},
        {**FILE_ORDERS[2], "coupon": -5},
        {
            "order_id": "o3",
            "sharer_id": "B",
            "sku": "band",
            "group": "xiaomi",
            "amount": 100,
            "coupon": 101,
            "coupon_eligible": True,
        },
    ]
    if suffix == ".parquet":  # one type a column: the flags as text, as a CSV holds them
        rows = [{**row, "coupon_eligible": _text(row["coupon_eligible"])} for row in rows]
    paths = files_for(tmp_path, suffix, rows)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "out.csv"))
    assert code == 2
    place = "row" if suffix == ".parquet" else "line"
    first = 2 if suffix == ".csv" else 1
    assert f"{place} {first}: coupon={'12.5' if suffix != '.csv' else repr('12.5')}" in err
    assert "is not a whole number of fen" in err
    assert f"{place} {first + 1}: coupon_eligible='maybe' is not true or false" in err
    # Parquet holds the column as floats (12.5 is in it): -5.0 is refused as a float there.
    negative = (
        "coupon=-5.0 is not a whole number" if suffix == ".parquet" else "coupon=-5 is negative"
    )
    assert f"{place} {first + 2}: {negative}" in err


def _text(flag: object) -> object:
    return flag if not isinstance(flag, bool) else str(flag).lower()


@pytest.mark.parametrize("suffix", FORMATS)
def test_refused_coupons_in_files_name_the_order(tmp_path: Path, capsys: Any, suffix: str) -> None:
    rows = [
        {
            "order_id": "o3",
            "sharer_id": "B",
            "sku": "band",
            "group": "xiaomi",
            "amount": 100,
            "coupon": 101,
            "coupon_eligible": True,
        },
        {
            "order_id": "o4",
            "sharer_id": "B",
            "sku": "band",
            "group": "xiaomi",
            "amount": 100,
            "coupon": 5,
            "coupon_eligible": False,
        },
        {
            "order_id": "o5",
            "sharer_id": "B",
            "sku": "band",
            "group": "xiaomi",
            "amount": 100,
            "coupon": 5,
            "coupon_eligible": None,
        },
        {
            "order_id": "o5",
            "sharer_id": "B",
            "sku": "phone",
            "group": "xiaomi",
            "amount": 100,
            "coupon": 6,
            "coupon_eligible": None,
        },
    ]
    paths = files_for(tmp_path, suffix, rows)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "out.csv"))
    assert code == 2
    assert "coupon=6 differs from the order's first line" in err  # all at once:
    assert "order_id='o3': a coupon of 101 fen is larger than the 100 fen" in err
    assert "order_id='o4': a coupon of 5 fen applies to no line" in err
    assert "order_id='o5'" not in err  # no one coupon: said once, as differing
    rows[3]["coupon"] = 5
    paths = files_for(tmp_path, suffix, rows)
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "out.csv"))
    assert code == 2
    assert "order_id='o3': a coupon of 101 fen is larger than the 100 fen" in err
    assert "order_id='o4': a coupon of 5 fen applies to no line" in err


# ----------------------------------------------------------------------------- ledger


def test_the_ledger_stores_orders_with_their_coupon() -> None:
    from datetime import UTC, datetime

    from tuishou import Ledger

    at = datetime(2026, 12, 1, tzinfo=UTC)
    given = [
        Order(order_id="o1", sharer_id="B", lines=lines(20000, 10000), coupon=coupon(3000)),
        Order(order_id="o2", sharer_id="B", lines=lines(500, 700), coupon=coupon(100, skus=["s2"])),
        Order(order_id="o3", sharer_id="B", lines=lines(900)),
    ]
    batch = Ledger()
    posted = batch.post_batch(POLICY, TREE, order_columns(given), at=at)
    assert posted.orders_posted == 3  # coupons: posted order by order, each stored as given
    single = Ledger()
    for one in given:
        single.post(one, settle(POLICY, TREE, one), at=at)
    for one in given:
        expected = {
            (p.member_id, p.rule, p.kind): p.amount for p in settle(POLICY, TREE, one).payouts
        }
        assert batch.payouts(one.order_id) == single.payouts(one.order_id) == expected
    # Columns carry a coupon's amount and the lines it applies to, not its id: the batch
    # stored each order as the columns give it (coupon_id 'coupon', the SKUs it applies to).
    # Posting those again is a no-op: same JSON, coupon included, same fingerprint.
    as_read = orders_of(read_lines(order_columns(given)))
    assert [o.coupon for o in as_read] == [
        Coupon(coupon_id="coupon", amount=3000),
        Coupon(coupon_id="coupon", amount=100, skus=("s2",)),
        None,
    ]
    for one in as_read:
        assert batch.post(one, settle(POLICY, TREE, one), at=at) == []


def test_an_unvalidated_copy_with_too_little_left_is_refused() -> None:
    # model_copy skips validation: a coupon bigger than the lines left must not give
    # negative paid amounts (refunds start from paid_order, docs/domain.md §18).
    given = order(lines(100, 200), coupon(250))
    cut = given.model_copy(update={"lines": given.lines[1:]})
    with pytest.raises(InvalidOrderError, match="larger than the 200 fen"):
        settle(POLICY, TREE, cut)
    rest = paid_order(given).model_copy(update={"lines": paid_order(given).lines[1:]})
    assert settle(POLICY, TREE, rest).pool == 3  # 200 − 167 = 33 fen paid; 10%: 3.3 → 3


def _containers() -> list[Any]:
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    return [
        ([30, 30, None], [False, True, None]),
        (np.array([30, 30, 0]), np.array([False, True, True])),
        (pd.Series([30, 30, None], dtype="Int64"), pd.Series([False, True, None], dtype="boolean")),
        (pd.Series([30, 30, None], dtype=object), pd.Series([False, True, None], dtype=object)),
        (pa.array([30, 30, None]), pa.array([False, True, None])),
        (pa.chunked_array([[30, 30], [None]]), pa.chunked_array([[False], [True, None]])),
    ]


@pytest.mark.parametrize("index", range(6))
def test_coupon_columns_in_every_container(index: int) -> None:
    coupon_column, eligible_column = _containers()[index]
    given = [order(lines(100, 200), coupon(30, skus=["s2"])), order(lines(50), None)]
    given[1] = given[1].model_copy(update={"order_id": "o2"})
    columns = order_columns(given) | {"coupon": coupon_column, "coupon_eligible": eligible_column}
    expected = [
        (o.order_id, "B", s.pool, s.paid, s.retained)
        for o in given
        for s in [settle(POLICY, TREE, o)]
    ]
    assert settle_batch(POLICY, TREE, columns).orders.rows() == expected


def test_the_command_line_explains_each_lines_share(tmp_path: Path, capsys: Any) -> None:
    paths = files_for(tmp_path, ".csv", FILE_ORDERS)
    code, out, err = run(
        capsys,
        "explain",
        "o1",
        "--policy",
        str(paths["policy"]),
        "--members",
        str(paths["members"]),
        "--orders",
        str(paths["orders"]),
    )
    assert code == 0, err
    # ¥30 off the eligible phone only (99900 fen): the kettle pays in full.
    assert "phone (xiaomi) paid ¥969.00 (¥999.00 less ¥30.00 of the coupon)" in out
    assert "kettle (ecosystem) paid ¥99.00 x" in out
