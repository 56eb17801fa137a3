"""Text id columns in every container settle exactly as plain lists do (issue 16 §1).

Text that is not dictionary-encoded is hashed by Arrow compute (``tuishou.engine.encoding``);
categoricals and Arrow dictionaries keep their own path. Every container must give the same
payouts, the same per-order rows and the same refusals (same type, same message).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import InvalidOrderError, UnknownMemberError
from tuishou.engine.batch import member_totals, settle_batch
from tuishou.engine.columns import read_lines
from tuishou.orders import order_columns
from tuishou.testing import invite_trees, order_batches, policies

from helpers import examples, ladders, policy, tree_from_text

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

TEXT = ("order_id", "buyer_id", "sharer_id", "sku", "group")


def _text(columns, convert):
    return {k: convert(v) if k in TEXT else v for k, v in columns.items()}


def _frame(columns, dtype):
    return pd.DataFrame(_text(columns, lambda v: pd.Series(v, dtype=dtype)))


def _arrow_table(columns, dictionary=False):
    arrays = {}
    for name, values in columns.items():
        if name in TEXT:
            array = pa.array(values, type=pa.string())
            arrays[name] = array.dictionary_encode() if dictionary else array
        elif name == "paid_at" and all(v is None for v in values):
            continue  # no times at all: leave the column out (an Arrow null column)
        else:
            arrays[name] = pa.array(values)
    return pa.table(arrays)


def _chunked(columns):
    half = len(columns["amount"]) // 2
    return _text(columns, lambda v: pa.chunked_array([v[:half], v[half:]], type=pa.string()))


def _chunked_dictionaries(columns):
    """Two chunks with their own dictionaries, as a Parquet file read with read_dictionary
    gives (one dictionary per page)."""
    half = len(columns["amount"]) // 2

    def convert(values):
        chunks = [
            pa.array(part, type=pa.string()).dictionary_encode()
            for part in (values[:half], values[half:])
        ]
        return pa.chunked_array(chunks)

    return _text(columns, convert)


VARIANTS = {
    "categorical": lambda c: pd.DataFrame(_text(c, lambda v: pd.Categorical(v))),
    "numpy object": lambda c: _text(c, lambda v: np.array(v, dtype=object)),
    "pandas object": lambda c: _frame(c, object),
    "pandas str": lambda c: _frame(c, "str"),
    "string[python]": lambda c: _frame(c, "string[python]"),
    "string[pyarrow]": lambda c: _frame(c, "string[pyarrow]"),
    "arrow table": _arrow_table,
    "arrow chunked": _chunked,
    "arrow large_string": lambda c: _text(c, lambda v: pa.array(v, type=pa.large_string())),
    "arrow dictionary": lambda c: _arrow_table(c, dictionary=True),
    "arrow chunked dictionaries": _chunked_dictionaries,
}


@st.composite
def batches(draw):
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=12))
    return draw(policies(tiers=tiers)), tree, draw(order_batches(tree, max_size=6))


def _rows(result):
    return result.payouts.rows(), result.orders.rows()


@settings(max_examples=examples(60), deadline=None)
@given(batches())
def test_every_text_container_gives_the_payouts_of_plain_lists(batch):
    chosen, tree, orders = batch
    columns = order_columns(orders)
    if not columns["amount"]:
        return
    expected = _rows(settle_batch(chosen, tree, columns))
    totals = member_totals(chosen, tree, columns).rows()
    for name, variant in VARIANTS.items():
        lines = variant(columns)
        assert _rows(settle_batch(chosen, tree, lines)) == expected, name
        assert member_totals(chosen, tree, lines).rows() == totals, name


# ------------------------------------------------------------ refusals: the same in each

TREE = tree_from_text("A>B>C")
POLICY = policy(group_rates={"g": "0.1"}, rules=[{"kind": "seller", "rates": {"member": "1"}}])
GOOD = {
    "order_id": ["o1", "o1", "o2"],
    "buyer_id": ["C", "C", "x"],
    "sharer_id": [None, None, "B"],
    "sku": ["s", "s", "s"],
    "group": ["g", "g", "g"],
    "amount": [100, 200, 300],
}

# (what is changed, the error, a piece of its message)
REFUSALS = [
    ({"sharer_id": [None, None, "Z"]}, UnknownMemberError, "names non-members in row(s) 2"),
    ({"sharer_id": ["A ", "A ", None]}, InvalidOrderError, "column 'sharer_id', row(s) 0, 1"),
    ({"buyer_id": ["C", "C", "ｘ"]}, InvalidOrderError, "use its normal form 'x'"),
    ({"buyer_id": ["C", "C", ""]}, InvalidOrderError, "use None (a null cell) for no buyer"),
    ({"order_id": ["o1", None, "o2"]}, InvalidOrderError, "column 'order_id'"),
    ({"sku": ["s", None, "s"]}, InvalidOrderError, "column 'sku'"),
    ({"group": ["g", "g", "h"]}, Exception, "h"),
]


def _refusal(lines):
    try:
        settle_batch(POLICY, TREE, lines)
    except Exception as exc:  # compared across variants below
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize(("change", "error", "message"), REFUSALS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_container_is_refused_the_same_way(change, error, message, variant):
    plain = {**GOOD, **change}
    expected = _refusal(plain)
    assert expected is not None
    assert issubclass(expected[0], error)
    assert message in expected[1]
    assert _refusal(VARIANTS[variant](plain)) == expected


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_empty_cells_mean_no_buyer_and_no_share_link_in_every_container(variant):
    plain = {**GOOD, "buyer_id": [None, None, None], "sharer_id": [None, None, "B"]}
    assert _rows(settle_batch(POLICY, TREE, VARIANTS[variant](plain))) == _rows(
        settle_batch(POLICY, TREE, plain)
    )


@pytest.mark.parametrize(
    "column",
    [
        pytest.param(lambda: np.array(["o1", 5, "o2"], dtype=object), id="numpy mixed"),
        pytest.param(lambda: pd.Series(["o1", 5, "o2"], dtype=object), id="pandas mixed"),
        pytest.param(lambda: ["o1", ["o1"], "o2"], id="a list cell"),
        pytest.param(lambda: [b"o1", b"o1", b"o2"], id="bytes"),
    ],
)
def test_columns_arrow_cannot_type_as_text_keep_their_messages(column):
    lines = {**GOOD, "sku": column()}
    with pytest.raises(InvalidOrderError, match=r"column 'sku', row \d: .* is a (int|list|bytes)"):
        read_lines(lines)


def test_text_is_encoded_by_arrow_and_looked_up_in_the_trees_arrow_ids():
    lines = read_lines(VARIANTS["string[pyarrow]"](GOOD))
    assert lines.buyer.arrow is not None
    assert lines.buyer.values == ["C", "x"]
    assert lines.buyer.codes.tolist() == [0, 0, 1]
    assert TREE.arrays().lookup(lines.buyer.arrow).tolist() == [2, -1]
    plain = read_lines(VARIANTS["categorical"](GOOD))  # categoricals keep their own path
    assert plain.buyer.arrow is None
    assert plain.buyer.values == ["C", "x"]


def test_an_arrow_dictionary_keeps_only_the_values_used_and_its_arrow_values():
    column = pa.DictionaryArray.from_arrays(pa.array([2, 2, 0]), pa.array(["C", None, "x"]))
    lines = read_lines({**GOOD, "buyer_id": column})
    assert lines.buyer.values == ["C", "x"]  # the null and the unused value dropped
    assert lines.buyer.arrow.to_pylist() == ["C", "x"]
    assert lines.buyer.codes.tolist() == [1, 1, 0]


def test_the_dask_path_takes_arrow_backed_strings():
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.dask import settle_dask

    frame = VARIANTS["string[pyarrow]"](GOOD)
    settled = settle_dask(POLICY, TREE, dd.from_pandas(frame, npartitions=1))
    payouts = settled.payouts.compute()
    expected = settle_batch(POLICY, TREE, GOOD).payouts.rows()
    got = [tuple(row) for row in payouts.itertuples(index=False)]
    assert got == expected
