"""Order lines as columns: reading a dict of arrays, a pandas DataFrame or a pyarrow Table.

One row per order line with ``order_id``, ``buyer_id``, ``sharer_id``, ``sku``, ``group``,
``amount`` (int fen) and ``quantity`` (``buyer_id``, ``sharer_id`` and ``quantity`` may be
left out). Text columns are dictionary-encoded once (codes + distinct values), so the engine
works on integers.

The contract is the ``Order`` model's (:mod:`tuishou.orders`), checked column-wise: no
column outside ``LINE_COLUMNS`` (a did-you-mean names the intended one), no column twice,
every column as long as the others, no empty cell in a required column, ids in normal form
(:mod:`tuishou.ids`, checked on the distinct values only), amounts and quantities int (a
bool or float is refused) and every order (its lines summed) at most ``MAX_ORDER_FEN``.
Problems name the column and the first offending rows; every problem found is reported in
one ``InvalidOrderError`` (a float column raises ``FloatRefusedError``, a ``TypeError``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from tuishou.engine.line_checks import integers, order_amount_problems, rows_where, values_of
from tuishou.errors import InvalidOrderError, did_you_mean
from tuishou.ids import all_ids, id_problem
from tuishou.orders import ID_COLUMNS, LINE_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS

__all__ = ["Encoded", "LineColumns", "check_column_names", "read_lines", "rows_where"]

IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int32]  # codes of text columns: 4 bytes a row is enough
REQUIRED = REQUIRED_COLUMNS
OPTIONAL = OPTIONAL_COLUMNS
_SHOWN_VALUES = 20  # bad distinct values or orders spelled out (each costs a pass)
_T = TypeVar("_T")


@dataclass(frozen=True, eq=False)
class Encoded:
    """A text column as codes into its distinct values (-1 for a missing value)."""

    codes: CodeArray
    values: Sequence[Any] | npt.NDArray[Any]  # a list, or a numpy array for int order ids


@dataclass(frozen=True, eq=False)
class LineColumns:
    """Checked order-line columns: text columns encoded, amounts and quantities as int64."""

    order: Encoded
    buyer: Encoded
    sharer: Encoded
    sku: Encoded
    group: Encoded
    amount: IntArray
    quantity: IntArray

    @property
    def size(self) -> int:
        """The number of lines."""
        return len(self.amount)


def read_lines(orders: Any) -> LineColumns:
    """Check and encode order-line columns from a mapping, a DataFrame or a pyarrow Table.

    >>> lines = read_lines({"order_id": ["o1", "o1"], "sku": ["a", "b"],
    ...                     "group": ["g", "g"], "amount": [100, 250]})
    >>> lines.order.codes.tolist(), lines.amount.tolist()
    ([0, 0], [100, 250])
    >>> read_lines(lines) is lines  # already read: a sweep over policies reads once
    True
    >>> read_lines({"order_id": ["o1"], "sharer": ["A"], "sku": ["a"], "group": ["g"],
    ...             "amount": [True]})
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: unknown column 'sharer'; did you mean 'sharer_id'? ...
    """
    if isinstance(orders, LineColumns):
        return orders
    columns = _as_mapping(orders)
    check_column_names(list(columns))
    size = _check_lengths(columns)
    problems: list[str] = []

    def attempt(step: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return step(*args)
        except InvalidOrderError as exc:
            problems.extend(exc.problems)
            return None

    encoded = {name: attempt(_checked_text, name, columns[name]) if name in columns else
               Encoded(np.full(size, -1, dtype=np.int32), []) for name in ID_COLUMNS}
    amount = attempt(integers, "amount", columns["amount"], 0)
    quantity = (attempt(integers, "quantity", columns["quantity"], 1)
                if "quantity" in columns else np.ones(size, dtype=np.int64))
    order = encoded["order_id"]
    if amount is not None and order is not None and not problems:
        problems += order_amount_problems(order.codes, order.values, amount)
    if problems:
        raise InvalidOrderError.from_problems("invalid order lines", problems)
    text = {name: column for name, column in encoded.items() if column is not None}
    assert amount is not None  # every step succeeded: no problems
    assert quantity is not None
    return LineColumns(text["order_id"], text["buyer_id"], text["sharer_id"], text["sku"],
                       text["group"], amount, quantity)


def check_column_names(names: Sequence[str]) -> None:
    """Refuse a column twice, an unknown column (with a did-you-mean) or a missing one.

    >>> check_column_names(["order_id", "sku", "group", "amout"])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: unknown column 'amout'; did you mean 'amount'? ...
    """
    problems = [f"column {name!r} appears {names.count(name)} times; keep one"
                for name in dict.fromkeys(names) if names.count(name) > 1]
    problems += [_unknown(str(name)) for name in dict.fromkeys(names)
                 if name not in LINE_COLUMNS]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        problems.append(f"order lines lack the column(s) {missing}; columns are "
                        f"{list(REQUIRED)} and optionally {list(OPTIONAL)}")
    if problems:
        raise InvalidOrderError("; ".join(problems), problems)


def _unknown(name: str) -> str:
    hint = did_you_mean(name, LINE_COLUMNS)
    known = ", ".join(LINE_COLUMNS)
    return (f"unknown column {name!r}; " + (f"{hint} " if hint.startswith("did") else "")
            + f"(order lines have the columns {known}; leave other columns out)")


def _as_mapping(orders: Any) -> dict[str, Any]:
    if hasattr(orders, "column_names") and hasattr(orders, "column"):  # a pyarrow Table
        names = list(orders.column_names)
        check_column_names(names)  # before .column(name), which fails on a repeated name
        return {name: orders.column(name) for name in names}
    if hasattr(orders, "columns") and hasattr(orders, "__getitem__"):  # a pandas DataFrame
        names = [str(name) for name in orders.columns]
        check_column_names(names)  # before frame[name], a DataFrame for a repeated name
        return {str(name): orders[name] for name in orders.columns}
    if isinstance(orders, dict):
        return orders
    raise InvalidOrderError(
        f"orders is a {type(orders).__name__}; pass a dict of columns, a pandas DataFrame or "
        "a pyarrow Table with one row per order line")


def _check_lengths(columns: dict[str, Any]) -> int:
    """The number of lines: every column must have one value per line."""
    lengths = {}
    for name, values in columns.items():
        try:
            lengths[name] = len(values)
        except TypeError:
            raise InvalidOrderError(
                f"column {name!r} is a {type(values).__name__}, not a column of values; "
                "pass a list, an array or a Series per column") from None
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {length}" for name, length in lengths.items())
        raise InvalidOrderError(f"columns have different lengths ({shown}); every column "
                                "needs one value per order line")
    return lengths["amount"]


def _checked_text(name: str, values: Any) -> Encoded:
    """A text column encoded, its distinct values in normal form, required cells filled."""
    encoded = _encode(name, values)
    problems = _id_problems(name, encoded)
    if name in REQUIRED and (encoded.codes < 0).any():
        problems.append(f"column {name!r} is empty in {rows_where(encoded.codes < 0)}; "
                        f"every order line needs its {name}")
    if problems:
        raise InvalidOrderError("; ".join(problems), problems)
    return encoded


def _id_problems(name: str, column: Encoded) -> list[str]:
    """Ids not in normal form, among the distinct values only (a pass per bad value shown)."""
    if isinstance(column.values, np.ndarray):  # int order ids: nothing to normalise
        return []
    if all_ids(list(column.values)):  # the usual case, in one pass in C
        return []
    problems: list[str] = []
    for code, value in enumerate(column.values):
        problem = id_problem(value, name=name)
        if problem is None:
            continue
        if len(problems) < _SHOWN_VALUES:
            problem = f"column {name!r}, {rows_where(column.codes == code)}: {problem}"
        else:
            problem = f"column {name!r}: {problem}"
        problems.append(problem)
    return problems


def _encode(name: str, values: Any) -> Encoded:
    """Codes into the column's distinct values (-1 for None, NaN and '').

    Dictionary-encoded input (a pandas Categorical, a pyarrow dictionary array) is used as
    it is; other text is hashed by pandas' ``factorize`` when pandas is installed (the
    ``tuishou[notebook]`` extra) and by a plain loop otherwise. Order ids may be ints.
    """
    dtype = getattr(values, "dtype", None)
    if name == "order_id" and getattr(dtype, "kind", "") in "iu" and dtype is not None:
        return _encode_integers(np.asarray(values_of(values)))
    codes, distinct = _dictionary(values)
    if codes is None:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - exercised where pandas is absent
            return _encode_slowly(name, values_of(values))
        raw, uniques = pd.factorize(np.asarray(values_of(values), dtype=object), sort=False)
        codes, distinct = raw.astype(np.int32, copy=False), uniques.tolist()
    allowed = (str, int) if name == "order_id" else (str,)
    bad = [] if _all_text(values) else [
        v for v in distinct if not isinstance(v, allowed) or isinstance(v, bool)]
    if bad:
        row = int(np.flatnonzero(codes == distinct.index(bad[0]))[0])
        raise InvalidOrderError(f"column {name!r}, row {row}: {bad[0]!r} is a "
                                f"{type(bad[0]).__name__}; ids and names are text")
    if "" in distinct:  # an empty text cell is missing too; renumber the codes after it
        distinct = list(distinct)
        blank = distinct.index("")
        codes = np.where(codes == blank, -1, codes - (codes > blank))
        del distinct[blank]
    return Encoded(codes, distinct)


def _all_text(values: Any) -> bool:
    """Whether a pandas categorical's categories are known to be text (skips a value scan)."""
    categories = getattr(getattr(values, "cat", None), "categories", None)
    return categories is not None and categories.inferred_type in ("string", "empty")


def _dictionary(values: Any) -> tuple[CodeArray | None, Any]:
    """Codes and distinct values of already dictionary-encoded input, else (None, [])."""
    if hasattr(values, "cat"):  # pandas Categorical
        return values.cat.codes.to_numpy().astype(np.int32, copy=False), values.cat.categories
    if hasattr(values, "combine_chunks"):  # pyarrow ChunkedArray
        values = values.combine_chunks()
    if hasattr(values, "dictionary") and hasattr(values, "indices"):  # pyarrow dictionary
        indices = values.indices.to_numpy(zero_copy_only=False)
        codes = np.where(np.isnan(indices), -1, indices) if indices.dtype.kind == "f" \
            else indices
        return codes.astype(np.int32), values.dictionary.to_pylist()
    return None, []


def _encode_integers(array: npt.NDArray[Any]) -> Encoded:
    """Int order ids: codes by hashing (pandas) or sorting (numpy); the values stay an array.

    Sorted ids (an export ordered by order id, the usual case) take a linear fast path.
    """
    if len(array) and bool((array[1:] >= array[:-1]).all()):
        starts = np.concatenate([[True], array[1:] != array[:-1]])
        return Encoded(np.cumsum(starts, dtype=np.int32) - 1, array[starts])
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - exercised where pandas is absent
        distinct, codes = np.unique(array, return_inverse=True)
        return Encoded(codes.astype(np.int32), distinct)
    codes, distinct = pd.factorize(array, sort=False)
    return Encoded(codes.astype(np.int32, copy=False), np.asarray(distinct))


def _encode_slowly(name: str, values: Any) -> Encoded:
    seen: dict[Any, int] = {}
    codes = np.empty(len(values), dtype=np.int32)
    for row, value in enumerate(values.tolist() if hasattr(values, "tolist") else values):
        if value is None or value == "" or (isinstance(value, float) and value != value):
            codes[row] = -1
            continue
        if not isinstance(value, str):
            raise InvalidOrderError(f"column {name!r}, row {row}: {value!r} is a "
                                    f"{type(value).__name__}; ids and names are text")
        codes[row] = seen.setdefault(value, len(seen))
    return Encoded(codes, list(seen))
