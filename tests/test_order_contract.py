"""One contract for orders, on every path: the Order model and columns (dict of lists, pandas
object / string / categorical / Int64 columns, pyarrow, Dask) into settle_batch, member_totals,
compare and settle_dask. Each kind of bad input is refused the same way everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tuishou import Order, OrderLine, TuishouError
from tuishou.analysis.compare import compare
from tuishou.engine.batch import member_totals, settle_batch
from tuishou.engine.columns import read_lines
from tuishou.errors import FloatRefusedError, InvalidOrderError
from tuishou.money import MAX_ORDER_FEN
from tuishou.orders import LINE_COLUMNS

from helpers import policy, tree_from_text

POLICY = policy(
    tiers=["member"], group_rates={"g": "1"}, rules=[{"kind": "seller", "rates": {"member": "0.2"}}]
)
TREE = tree_from_text("Z>A>B")
GOOD: dict[str, list[Any]] = {
    "order_id": ["o1", "o1", "o2"],
    "buyer_id": ["B", "B", "guest"],
    "sharer_id": [None, None, "A"],
    "sku": ["s1", "s2", "s1"],
    "group": ["g", "g", "g"],
    "amount": [100, 250, 1000],
    "quantity": [1, 2, 1],
}
TEXT = ("order_id", "buyer_id", "sharer_id", "sku", "group")
INTS = ("amount", "quantity")


def as_dict(columns: dict[str, Any]) -> Any:
    return dict(columns)


def as_pandas(columns: dict[str, Any]) -> Any:
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object) if name in TEXT else values
            for name, values in columns.items()
        }
    )


def as_pandas_string(columns: dict[str, Any]) -> Any:
    return pd.DataFrame(
        {
            name: pd.array(values, dtype="string") if name in TEXT else values
            for name, values in columns.items()
        }
    )


def as_categorical(columns: dict[str, Any]) -> Any:
    return pd.DataFrame(
        {
            name: pd.Categorical(values) if name in TEXT else values
            for name, values in columns.items()
        }
    )


def as_int64(columns: dict[str, Any]) -> Any:
    return pd.DataFrame(
        {
            name: pd.array(values, dtype="Int64") if name in INTS else values
            for name, values in columns.items()
        }
    )


def as_arrow(columns: dict[str, Any]) -> Any:
    return pa.table({name: pa.array(values) for name, values in columns.items()})


def as_arrow_dictionary(columns: dict[str, Any]) -> Any:
    return pa.table(
        {
            name: pa.array(values).dictionary_encode() if name in TEXT else pa.array(values)
            for name, values in columns.items()
        }
    )


FORMS = [
    as_dict,
    as_pandas,
    as_pandas_string,
    as_categorical,
    as_int64,
    as_arrow,
    as_arrow_dictionary,
]


def with_settle_batch(columns: Any) -> Any:
    return settle_batch(POLICY, TREE, columns)


def with_member_totals(columns: Any) -> Any:
    return member_totals(POLICY, TREE, columns)


def with_compare(columns: Any) -> Any:
    return compare({"now": POLICY}, TREE, columns)


def with_dask(columns: Any) -> Any:
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.dask import settle_dask

    frame = (
        columns
        if isinstance(columns, pd.DataFrame)
        else columns.to_pandas()
        if isinstance(columns, pa.Table)
        else pd.DataFrame(columns)
    )
    return settle_dask(POLICY, TREE, dd.from_pandas(frame, npartitions=1)).payouts.compute()


ENTRIES = [with_settle_batch, with_member_totals, with_compare, with_dask]


def from_model(columns: dict[str, Any]) -> list[Order]:
    """The same rows as Order models (what the model path refuses, it refuses here)."""
    orders: dict[str, dict[str, Any]] = {}
    for row in zip(*(columns[name] for name in LINE_COLUMNS if name in columns), strict=True):
        cells = dict(zip([n for n in LINE_COLUMNS if n in columns], row, strict=True))
        order = orders.setdefault(
            cells["order_id"],
            {
                "order_id": cells["order_id"],
                "buyer_id": cells.get("buyer_id"),
                "sharer_id": cells.get("sharer_id"),
                "lines": [],
            },
        )
        order["lines"].append(
            {k: cells[k] for k in ("sku", "group", "amount", "quantity") if k in cells}
        )
    return [Order.model_validate(order) for order in orders.values()]


def refused(build: Callable[[], Any], error: type[BaseException], match: str) -> TuishouError:
    with pytest.raises(error, match=match) as info:
        build()
    assert isinstance(info.value, TuishouError)
    return info.value


# ------------------------------------------------------------------------ every form, good


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_every_form_and_entry_point_reads_good_columns_alike(form, entry):
    expected = settle_batch(POLICY, TREE, GOOD).payouts.rows()
    assert expected == [
        ("o1", "A", "seller", "seller", 0, 70),
        ("o2", "A", "seller", "seller", 0, 200),
    ]
    assert entry(form(GOOD)) is not None
    assert settle_batch(POLICY, TREE, form(GOOD)).payouts.rows() == expected


# ---------------------------------------------------------------------- the kinds, refused

BAD_COLUMNS = [
    pytest.param(
        {"sharer": ["A", "A", "A"]},
        r"unknown column 'sharer'; did you mean "
        r"'sharer_id'\?",
        id="unknown-column",
    ),
    pytest.param(
        {"amount": [True, 250, 1000]},
        r"column 'amount' holds bools \(True/False\) in row\(s\) 0",
        id="bool",
    ),
    pytest.param(
        {"quantity": [1, True, 1]},
        r"column 'quantity' holds bools \(True/False\) in row\(s\) 1; quantity must "
        r"be int",
        id="bool-quantity",
    ),
    pytest.param(
        {"amount": [100, None, 1000]}, r"column 'amount' is empty in row\(s\) 1", id="null-amount"
    ),
    pytest.param(
        {"quantity": [1, None, 1]}, r"column 'quantity' is empty in row\(s\) 1", id="null-quantity"
    ),
    pytest.param(
        {"sku": ["s1", None, "s1"]}, r"column 'sku' is empty in row\(s\) 1", id="null-sku"
    ),
    pytest.param(
        {"order_id": ["o1", "o1", None]},
        r"column 'order_id' is empty in row\(s\) 2",
        id="null-order",
    ),
    pytest.param(
        {"amount": [MAX_ORDER_FEN, 1, 1000]},
        r"order_id='o1': amount=10000000001 fen \(2 lines\) is above the supported "
        r"maximum of 10000000000 fen \(¥100,000,000.00\) per order",
        id="order-sum",
    ),
    pytest.param(
        {"amount": [100, 250, MAX_ORDER_FEN + 1]},
        r"amount=10000000001 fen is above the supported maximum",
        id="line",
    ),
    pytest.param(
        {"buyer_id": [" B", " B", "guest"]},
        r"buyer_id=' B' is not a normal id; use its normal form 'B'",
        id="buyer-padded",
    ),
    pytest.param(
        {"buyer_id": ["B ", "B ", "guest"]},
        r"buyer_id='B ' is not a normal id; use its normal form 'B'",
        id="buyer-trailing",
    ),
    pytest.param(
        {"buyer_id": ["Ｂ", "Ｂ", "guest"]},
        r"buyer_id='Ｂ' is not a normal id; use its normal form 'B'",
        id="buyer-wide",
    ),
    pytest.param(
        {"sharer_id": [None, None, "A "]},
        r"sharer_id='A ' is not a normal id; use its normal form 'A'",
        id="sharer",
    ),
    pytest.param(
        {"group": ["g ", "g ", "g"]},
        r"group='g ' is not a normal id; use its normal form 'g'",
        id="group",
    ),
    pytest.param(
        {"sku": ["gift-pack-398 ", "s2", "s1"]},
        r"sku='gift-pack-398 ' is not a normal id; use its normal form 'gift-pack-398'",
        id="sku",
    ),
    pytest.param(
        {"buyer_id": ["", "", "guest"]},
        r"column 'buyer_id', row\(s\) 0, 1: buyer_id='' is empty; ids are non-empty "
        r"text; use None \(a null cell\) for no buyer",
        id="buyer-empty",
    ),
    pytest.param(
        {"sharer_id": [None, None, ""]},
        r"column 'sharer_id', row\(s\) 2: sharer_id='' is empty; ids are non-empty "
        r"text; use None \(a null cell\) for no share link",
        id="sharer-empty",
    ),
    pytest.param(
        {"sku": ["s1", "", "s1"]},
        r"column 'sku', row\(s\) 1: sku='' is empty; ids are non-empty text",
        id="sku-empty",
    ),
    pytest.param(
        {"order_id": ["o1", "o1", "o2\t"]},
        r"order_id='o2\\t' is not a normal id; use its normal form 'o2'",
        id="order",
    ),
]


def _bad(change: dict[str, Any]) -> dict[str, Any]:
    return {**GOOD, **change}


def _forms_for(change: dict[str, Any]) -> list[Any]:
    """The forms that can hold the change: a column mixing bools and ints is Python's or
    pandas' object column (Int64 and Arrow columns cannot hold it; bool dtypes are tested
    in test_bool_dtypes_are_refused)."""
    if any(v is True for values in change.values() for v in values):
        return [as_dict, as_pandas, as_pandas_string, as_categorical]
    return FORMS


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("change", "match"), BAD_COLUMNS)
def test_each_kind_is_refused_in_every_form(change, match, form):
    if form not in _forms_for(change):
        pytest.skip("this form cannot hold the value")
    columns = form(_bad(change))
    error = refused(lambda: read_lines(columns), ValueError, match)
    assert isinstance(error, InvalidOrderError)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(("change", "match"), BAD_COLUMNS)
def test_each_kind_is_refused_by_every_entry_point(change, match, entry):
    refused(lambda: entry(as_pandas(_bad(change))), ValueError, match)


MODEL_KINDS = [
    pytest.param(
        {"sharer": "A"},
        r"sharer: Extra inputs are not permitted .*did you mean "
        r"'sharer_id'\?",
        id="unknown-field",
    ),
    pytest.param(
        {"lines": [{"sku": "s", "group": "g", "amount": True}]}, r"amount=True is a bool", id="bool"
    ),
    pytest.param(
        {"lines": [{"sku": "s", "group": "g", "amount": 1, "quantity": True}]},
        r"quantity=True is a bool",
        id="bool-quantity",
    ),
    pytest.param(
        {"lines": [{"sku": "s", "group": "g", "amount": 6 * 10**9}] * 2},
        r"order_id='o1': amount=12000000000 fen \(2 lines\) is above the supported "
        r"maximum of 10000000000 fen",
        id="order-sum",
    ),
    pytest.param(
        {"lines": [{"sku": "s", "group": "g", "amount": 2**63}]},
        r"amount=9223372036854775808 fen is above the supported maximum",
        id="line",
    ),
    pytest.param(
        {"buyer_id": "Ｄ"},
        r"buyer_id='Ｄ' is not a normal id; use its normal "
        r"form 'D'",
        id="buyer-wide",
    ),
    pytest.param({"buyer_id": " D"}, r"buyer_id=' D' is not a normal id", id="buyer-padded"),
    pytest.param({"sharer_id": "B "}, r"sharer_id='B ' is not a normal id", id="sharer"),
    pytest.param(
        {"lines": [{"sku": "gift-pack-398 ", "group": "g", "amount": 1}]},
        r"sku='gift-pack-398 ' is not a normal id",
        id="sku",
    ),
    pytest.param(
        {"lines": [{"sku": "s", "group": "ecosystem ", "amount": 1}]},
        r"group='ecosystem ' is not a normal id",
        id="group",
    ),
    pytest.param({"order_id": "o1 "}, r"order_id='o1 ' is not a normal id", id="order"),
    pytest.param(
        {"buyer_id": ""}, r"buyer_id='' is empty; ids are non-empty text", id="buyer-empty"
    ),
    pytest.param(
        {"sharer_id": ""}, r"sharer_id='' is empty; ids are non-empty text", id="sharer-empty"
    ),
]


@pytest.mark.parametrize(("change", "match"), MODEL_KINDS)
def test_each_kind_is_refused_by_the_order_model(change, match):
    fields = {"order_id": "o1", "lines": [{"sku": "s", "group": "g", "amount": 1}], **change}
    refused(lambda: Order.model_validate(fields), InvalidOrderError, match)


def test_the_model_and_the_columns_refuse_the_same_orders():
    for change, _ in [(p.values[0], p.values[1]) for p in BAD_COLUMNS[1:]]:
        columns = _bad(change)
        with pytest.raises(InvalidOrderError):
            read_lines(columns)
        try:
            orders = from_model(columns)
        except InvalidOrderError:
            continue
        raise AssertionError(f"the model accepted {change}: {orders}")


def test_a_line_alone_above_the_maximum_is_refused():
    refused(
        lambda: OrderLine(sku="s", group="g", amount=MAX_ORDER_FEN + 1),
        InvalidOrderError,
        r"amount=10000000001 fen is above the supported maximum of 10000000000 fen",
    )
    assert OrderLine(sku="s", group="g", amount=MAX_ORDER_FEN).amount == MAX_ORDER_FEN


@pytest.mark.parametrize("entry", ENTRIES)
def test_an_order_at_the_maximum_is_settled_exactly(entry):
    columns = {
        "order_id": ["o1", "o1"],
        "buyer_id": ["B", "B"],
        "sku": ["s", "t"],
        "group": ["g", "g"],
        "amount": [MAX_ORDER_FEN - 1, 1],
    }
    assert entry(columns) is not None
    assert settle_batch(POLICY, TREE, columns).payouts.rows() == [
        ("o1", "A", "seller", "seller", 0, MAX_ORDER_FEN // 5)
    ]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_no_lines_at_all_settle_to_nothing_in_every_form(form, entry):
    empty = {name: [] for name in LINE_COLUMNS}
    if entry is with_dask and form in (as_arrow, as_arrow_dictionary):
        pytest.skip("an empty Arrow table has no pandas dtypes to give Dask")
    assert entry(form(empty)) is not None
    assert settle_batch(POLICY, TREE, form(empty)).payouts.rows() == []


# ------------------------------------------------------------------ structure of the columns


def test_columns_of_different_lengths_are_named():
    refused(
        lambda: read_lines({**GOOD, "sku": ["s1", "s2"]}),
        InvalidOrderError,
        r"columns have different lengths \(order_id 3, buyer_id 3, sharer_id 3, sku 2, "
        r"group 3, amount 3, quantity 3\)",
    )
    refused(
        lambda: settle_batch(POLICY, TREE, {**GOOD, "amount": np.array([1, 2, 3, 4])}),
        InvalidOrderError,
        r"amount 4",
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: pd.concat([pd.DataFrame(GOOD), pd.DataFrame({"amount": [1, 2, 3]})], axis=1),
        lambda: pa.table(
            [pa.array(v) for v in [*GOOD.values(), [1, 2, 3]]], names=[*GOOD, "amount"]
        ),
    ],
    ids=["pandas", "arrow"],
)
def test_a_column_given_twice_is_refused(build):
    refused(
        lambda: settle_batch(POLICY, TREE, build()),
        InvalidOrderError,
        r"column 'amount' appears 2 times; keep one",
    )


def test_dask_refuses_an_unknown_column_before_computing():
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.dask import settle_dask

    frame = dd.from_pandas(pd.DataFrame({**GOOD, "sharer": ["A"] * 3}), npartitions=1)
    refused(
        lambda: settle_dask(POLICY, TREE, frame),
        InvalidOrderError,
        r"unknown column 'sharer'; did you mean 'sharer_id'\?",
    )


@pytest.mark.parametrize(
    "values",
    [
        np.array([2**63, 1, 1], dtype=np.uint64),
        np.array([2**64 - 1, 1, 1], dtype=np.uint64),
        [2**63, 1, 1],
        [2**70, 1, 1],
    ],
    ids=["uint64-2^63", "uint64-max", "int-2^63", "int-2^70"],
)
def test_amounts_beyond_int64_are_refused_as_out_of_range(values):
    refused(
        lambda: settle_batch(POLICY, TREE, {**GOOD, "amount": values}),
        InvalidOrderError,
        r"column 'amount', row\(s\) 0: amount=\d+ fen is above the supported maximum",
    )


@pytest.mark.parametrize(
    "amount",
    [
        np.array([True, False, True]),
        pd.array([True, False, True], dtype="boolean"),
        pa.array([True, False, True]),
    ],
    ids=["numpy", "pandas", "arrow"],
)
@pytest.mark.parametrize("entry", ENTRIES)
def test_bool_dtypes_are_refused(amount, entry):
    if entry is with_dask and isinstance(amount, pa.Array):
        amount = amount.to_pandas()
    refused(
        lambda: entry({**GOOD, "amount": amount}),
        InvalidOrderError,
        r"column 'amount' holds bools \(True/False\) in row\(s\) 0, 1, 2; amount must be "
        r"int fen: True is not 1 fen",
    )


def test_an_int_column_read_as_floats_because_of_an_empty_cell_says_so():
    frame = pd.DataFrame({**GOOD, "amount": [100.0, np.nan, 1000.0]})
    refused(
        lambda: settle_batch(POLICY, TREE, frame),
        InvalidOrderError,
        r"column 'amount' is empty in row\(s\) 1; .*pandas turns an int column with "
        r"empty cells into floats",
    )
    refused(
        lambda: settle_batch(POLICY, TREE, {**GOOD, "amount": [100, 2.5, 1000]}),
        FloatRefusedError,
        r"column 'amount' holds floats, e.g. 2.5 in row\(s\) 1",
    )


def test_every_problem_is_reported_at_once():
    error = refused(
        lambda: read_lines(
            {**GOOD, "sku": ["s1 ", None, "s1 "], "amount": [True, 1, 1], "quantity": [1, None, 1]}
        ),
        InvalidOrderError,
        r"invalid order lines: 4 problem\(s\)",
    )
    expected = [
        "sku='s1 ' is not a normal id",
        "column 'sku' is empty in row(s) 1",
        "column 'amount' holds bools",
        "column 'quantity' is empty in row(s) 1",
    ]
    assert len(error.problems) == len(expected)
    assert all(e in p for e, p in zip(expected, error.problems, strict=True)), error.problems


def test_the_order_strategies_stay_within_the_supported_maximum():
    from hypothesis import Phase, find, settings

    from tuishou.errors import InvalidArgumentError
    from tuishou.testing import orders

    reach = settings(database=None, max_examples=2000, phases=[Phase.generate])
    large = find(orders(TREE), lambda o: o.amount >= MAX_ORDER_FEN // 4, settings=reach)
    assert large.amount <= MAX_ORDER_FEN
    with pytest.raises(
        InvalidArgumentError,
        match=r"max_amount=10000000000 x max_lines=4 is "
        r"above the supported order amount",
    ):
        orders(TREE, max_amount=MAX_ORDER_FEN)


# ------------------------------------------------ int order ids: one rule for every container

INT_IDS = [7, 7, 3]
INT_ID_COLUMNS = [
    pytest.param(lambda: list(INT_IDS), id="list"),
    pytest.param(lambda: np.array(INT_IDS), id="numpy-int64"),
    pytest.param(lambda: np.array(INT_IDS, dtype=np.uint64), id="numpy-uint64"),
    pytest.param(lambda: np.array([np.int32(i) for i in INT_IDS], dtype=object), id="objects"),
    pytest.param(lambda: pd.Series(INT_IDS, dtype="Int64"), id="pandas-Int64"),
    pytest.param(lambda: pd.Series(INT_IDS, dtype="UInt64"), id="pandas-UInt64"),
    pytest.param(
        lambda: pd.Series(pd.Categorical(INT_IDS, categories=[3, 5, 7])), id="pandas-categorical"
    ),
    pytest.param(lambda: pa.chunked_array([pa.array(INT_IDS)]), id="arrow-int64"),
    pytest.param(lambda: pa.array(INT_IDS, type=pa.uint64()), id="arrow-uint64"),
    pytest.param(lambda: pa.array(INT_IDS).dictionary_encode(), id="arrow-dictionary"),
]
INT_LINES = {
    "buyer_id": ["B", "B", "guest"],
    "sharer_id": [None, None, "A"],
    "sku": ["s1", "s2", "s1"],
    "group": ["g", "g", "g"],
    "amount": [100, 250, 1000],
}


@pytest.mark.parametrize("column", INT_ID_COLUMNS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_int_order_ids_are_accepted_in_every_container_and_stay_ints(column, entry):
    lines = {"order_id": column(), **INT_LINES}
    if entry is with_dask:
        ids = entry({name: _to_pandas(values) for name, values in lines.items()}).order_id
    else:
        assert entry(lines) is not None
        result = settle_batch(POLICY, TREE, lines)
        assert result.payouts.rows() == [
            (7, "A", "seller", "seller", 0, 70),
            (3, "A", "seller", "seller", 0, 200),
        ]
        assert result.orders.to_arrow().column("order_id").to_pylist() == [7, 3]
        ids = result.payouts.to_pandas().order_id
    assert [type(i) for i in ids.tolist()] == [int, int]
    assert ids.tolist() == [7, 3]


def _to_pandas(values: Any) -> Any:
    """A column for Dask: Arrow as pandas (ints with nulls as Int64, not floats)."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    masked = {pa.int64(): pd.Int64Dtype(), pa.uint64(): pd.UInt64Dtype()}
    return values.to_pandas(types_mapper=masked.get)


@pytest.mark.parametrize(
    "ids",
    [
        np.array([2**64 - 1] * 2 + [0], dtype=np.uint64),
        [2**64 - 1] * 2 + [0],
        [-(2**63)] * 2 + [2**63 - 1],
    ],
    ids=["uint64", "big", "low"],
)
def test_int_order_ids_at_the_limits_of_64_bits_are_kept_exactly(ids):
    result = settle_batch(POLICY, TREE, {"order_id": ids, **INT_LINES})
    assert [row[0] for row in result.orders.rows()] == [int(ids[0]), int(ids[2])]
    assert result.orders.to_arrow().column("order_id").to_pylist() == [int(ids[0]), int(ids[2])]


BAD_INT_IDS = [
    pytest.param(
        [True, True, False],
        r"column 'order_id', row 0: True is a bool; order ids "
        r"are text or ints, not bools",
        id="bools",
    ),
    pytest.param(np.array([True, True, False]), r"True is a bool; .* not bools", id="numpy-bool"),
    pytest.param(
        pd.array([True, True, False], dtype="boolean"), r"True is a bool", id="pandas-boolean"
    ),
    pytest.param(pa.array([True, True, False]), r"True is a bool", id="arrow-bool"),
    pytest.param(
        [7, 7, None],
        r"column 'order_id' is empty in row\(s\) 2; every order line "
        r"needs its order_id",
        id="null",
    ),
    pytest.param(
        pd.array([7, 7, None], dtype="Int64"),
        r"column 'order_id' is empty in "
        r"row\(s\) 2",
        id="Int64-NA",
    ),
    pytest.param(
        pa.array([7, 7, None]), r"column 'order_id' is empty in row\(s\) 2", id="arrow-null"
    ),
    pytest.param([7.0, 7.0, 3.0], r"7.0 is a float; order ids are text or ints", id="float"),
    pytest.param(
        [7, 7, "o3"],
        r"column 'order_id', row 0: 7 is a int; order ids are text or "
        r"ints, one or the other in a column",
        id="mixed",
    ),
    pytest.param(
        [2**64, 2**64, 3],
        r"column 'order_id', row\(s\) 0, 1: "
        r"order_id=18446744073709551616 is beyond 64 bits; int order ids must fit int64",
        id="beyond-64-bits",
    ),
    pytest.param(
        [-1, -1, 2**64 - 1],
        r"order_id=-1 is negative while others are beyond int64",
        id="mixed-signs",
    ),
]


@pytest.mark.parametrize(("ids", "match"), BAD_INT_IDS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_bad_int_order_ids_are_refused_on_every_entry_point(ids, match, entry):
    lines = {"order_id": ids, **INT_LINES}
    if entry is with_dask:
        lines = {name: _to_pandas(values) for name, values in lines.items()}
        if isinstance(ids, list):
            lines["order_id"] = pd.Series(ids, dtype=object)
    refused(lambda: entry(lines), InvalidOrderError, match)


ID_NAMES = ("buyer_id", "sharer_id", "sku", "group")
INT_CONTAINERS = [
    pytest.param(lambda: [1, 1, 2], id="list"),
    pytest.param(lambda: np.array([1, 1, 2]), id="numpy"),
    pytest.param(lambda: pd.Series([1, 1, 2], dtype="Int64"), id="Int64"),
    pytest.param(lambda: pd.Series(pd.Categorical([1, 1, 2])), id="categorical"),
    pytest.param(lambda: pa.array([1, 1, 2]), id="arrow"),
    pytest.param(lambda: pa.array([1, 1, 2]).dictionary_encode(), id="arrow-dictionary"),
]


@pytest.mark.parametrize("name", ["sku", "group"])  # buyer and sharer ids may be ints
@pytest.mark.parametrize("column", INT_CONTAINERS)
def test_every_other_id_column_must_be_text_in_every_container(name, column):
    refused(
        lambda: read_lines({**GOOD, name: column()}),
        InvalidOrderError,
        rf"column '{name}', row 0: 1 is a int; ids and names are text",
    )


# ---------------------------------------------------------- dictionaries: only values used


@pytest.mark.parametrize(
    "build",
    [
        lambda values, unused: pd.Series(
            pd.Categorical(values, categories=[*dict.fromkeys(values), unused])
        ),
        lambda values, unused: pa.DictionaryArray.from_arrays(
            pa.array([list(dict.fromkeys(values)).index(v) for v in values], type=pa.int8()),
            pa.array([*dict.fromkeys(values), unused]),
        ),
    ],
    ids=["categorical", "arrow-dictionary"],
)
@pytest.mark.parametrize("entry", ENTRIES)
def test_an_unused_category_is_no_cell_and_a_used_one_names_its_rows(build, entry):
    for name, unused in [
        ("buyer_id", "D "),
        ("sku", "Ｄ"),
        ("group", "unknown"),
        ("sharer_id", "not-a-member"),
        ("order_id", ""),
    ]:
        column = build(
            [v for v in GOOD[name] if v is not None] if name != "sharer_id" else ["A", "A", "A"],
            unused,
        )
        lines = {**GOOD, name: column}
        if entry is with_dask:
            lines = {n: _to_pandas(values) for n, values in lines.items()}
        assert entry(lines) is not None, name
    refused(
        lambda: read_lines({**GOOD, "buyer_id": build(["B", "D ", "B"], "E ")}),
        InvalidOrderError,
        r"column 'buyer_id', row\(s\) 1: buyer_id='D ' is not a normal "
        r"id; use its normal form 'D' \(NFKC, trimmed\)$",
    )


def test_a_null_in_an_arrow_dictionary_is_an_empty_cell():
    sku = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0]), pa.array(["s1", None]))
    refused(
        lambda: read_lines({**GOOD, "sku": sku}),
        InvalidOrderError,
        r"column 'sku' is empty in row\(s\) 1; every order line needs its sku",
    )


# ------------------------------------------------------------------ shapes, and Dask's cells


@pytest.mark.parametrize(
    ("name", "column", "shape"),
    [
        ("amount", np.zeros((3, 2), dtype=np.int64), (3, 2)),
        ("quantity", np.ones((3, 1), dtype=np.int64), (3, 1)),
        ("sku", np.array([["a", "b"]] * 3), (3, 2)),
        ("order_id", np.ones((3, 2), dtype=int), (3, 2)),
        ("sku", [["a", "b"]] * 3, (3, 2)),
        ("amount", pd.DataFrame({"a": [1, 2, 3]}), (3, 1)),
    ],
)
def test_a_column_that_is_not_one_dimensional_is_refused_by_name_and_shape(name, column, shape):
    refused(
        lambda: settle_batch(POLICY, TREE, {**GOOD, name: column}),
        InvalidOrderError,
        rf"column '{name}' has shape \({shape[0]}, {shape[1]}\); a column is "
        r"one-dimensional, one value per order line",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"amount": [Decimal("100"), 250, 1000]},
        {"amount": [2**70, 250, 1000]},
        {"quantity": [1, Decimal(2), 1]},
        {"amount": [100, 250, True]},
        {"order_id": [2**70, 2**70, 3]},
        {"sku": [Decimal(1), "s2", "s1"]},
        {"group": [1, "g", "g"]},
        {"buyer_id": [b"B", b"B", "guest"]},
    ],
    ids=repr,
)
def test_dask_words_odd_cells_as_settle_batch_does(change):
    frame = pd.DataFrame(
        {name: pd.Series(values, dtype=object) for name, values in _bad(change).items()}
    )
    expected = refused(lambda: settle_batch(POLICY, TREE, frame), InvalidOrderError, "column")
    refused(lambda: with_dask(frame), InvalidOrderError, re.escape(str(expected)) + "$")
