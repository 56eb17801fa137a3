"""Order lines as columns: reading a dict of arrays, a pandas DataFrame or a pyarrow Table.

One row per order line with ``order_id``, ``buyer_id``, ``sharer_id``, ``sku``, ``group``,
``amount`` (int fen), ``quantity``, ``paid_at`` (aware times, :mod:`~tuishou.engine.paid_at`)
and the order's coupon (``coupon``, ``coupon_eligible``: :mod:`~tuishou.engine.coupons`);
all but ``order_id``, ``sku``, ``group`` and ``amount`` may be left out. Id columns are
dictionary-encoded once (codes + distinct values, :mod:`~tuishou.engine.encoding`: text by
Arrow compute), so the engine works on integers.

The contract is the ``Order`` model's (:mod:`tuishou.orders`), checked column-wise: no
column outside ``LINE_COLUMNS`` (a did-you-mean names the intended one), no column twice,
every column one-dimensional and as long as the others, no empty cell in a required column,
ids in normal form (:mod:`tuishou.ids`, checked on the distinct values used only; ``''`` is
refused, a null is "no buyer"), order, buyer and sharer ids text or ints in any container
(never bools; int members: docs/concepts.md "Ids as ints") and the other ids text, amounts
and quantities int (a bool or float is refused) and every order (its lines summed) at most
``MAX_ORDER_FEN``.
Problems name the column and the first offending rows; every problem found is reported in
one ``InvalidOrderError`` (a float column raises ``FloatRefusedError``, a ``TypeError``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from tuishou.engine.coupons import coupon_amounts, coupon_problems, eligibility
from tuishou.engine.encoding import (
    Encoded,
    dictionary_codes,
    encode_integers,
    encode_nullable_integers,
    encode_text,
)
from tuishou.engine.line_checks import (
    empty_cells,
    integers,
    null_mask,
    order_amount_problems,
    rows_where,
    values_of,
)
from tuishou.engine.paid_at import read_paid_at
from tuishou.errors import InvalidOrderError, did_you_mean
from tuishou.ids import all_ids, id_problem, is_missing
from tuishou.orders import EMPTY_MEANS, ID_COLUMNS, LINE_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS

__all__ = ["Encoded", "LineColumns", "check_column_names", "read_lines", "rows_where"]

IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int32]  # codes of text columns: 4 bytes a row is enough
REQUIRED = REQUIRED_COLUMNS
OPTIONAL = OPTIONAL_COLUMNS
_SHOWN_VALUES = 20  # bad distinct values or orders spelled out (each costs a pass)
_T = TypeVar("_T")
INT_IDS = ("order_id", "buyer_id", "sharer_id")  # ids that may be ints (other ids are text)


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
    paid_at: IntArray | None = None  # UTC microseconds (NO_TIME: empty); None: no column
    coupon: IntArray | None = None  # the order's coupon in fen on each line; None: no column
    coupon_eligible: npt.NDArray[np.bool_] | None = None  # None: every line is eligible

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

    encoded = {
        name: attempt(_checked_text, name, columns[name])
        if name in columns
        else Encoded(np.full(size, -1, dtype=np.int32), [])
        for name in ID_COLUMNS
    }
    amount = attempt(integers, "amount", columns["amount"], 0)
    quantity = (
        attempt(integers, "quantity", columns["quantity"], 1)
        if "quantity" in columns
        else np.ones(size, dtype=np.int64)
    )
    paid_at = attempt(read_paid_at, columns["paid_at"]) if "paid_at" in columns else None
    coupon = attempt(coupon_amounts, columns["coupon"]) if "coupon" in columns else None
    eligible = (
        attempt(eligibility, columns["coupon_eligible"]) if "coupon_eligible" in columns else None
    )
    order = encoded["order_id"]
    if amount is not None and order is not None and not problems:
        problems += order_amount_problems(order.codes, order.values, amount)
        sku, group = encoded["sku"], encoded["group"]
        skus = None if sku is None else (sku.codes, sku.values)
        groups = None if group is None else group.codes
        problems += coupon_problems(
            order.codes, order.values, amount, coupon, eligible, skus, groups
        )
    if problems:
        raise InvalidOrderError.from_problems("invalid order lines", problems)
    text = {name: column for name, column in encoded.items() if column is not None}
    assert amount is not None  # every step succeeded: no problems
    assert quantity is not None
    return LineColumns(
        text["order_id"],
        text["buyer_id"],
        text["sharer_id"],
        text["sku"],
        text["group"],
        amount,
        quantity,
        paid_at,
        coupon,
        eligible,
    )


def check_column_names(names: Sequence[str]) -> None:
    """Refuse a column twice, an unknown column (with a did-you-mean) or a missing one.

    >>> check_column_names(["order_id", "sku", "group", "amout"])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: unknown column 'amout'; did you mean 'amount'? ...
    """
    problems = [
        f"column {name!r} appears {names.count(name)} times; keep one"
        for name in dict.fromkeys(names)
        if names.count(name) > 1
    ]
    problems += [_unknown(str(name)) for name in dict.fromkeys(names) if name not in LINE_COLUMNS]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        problems.append(
            f"order lines lack the column(s) {missing}; columns are "
            f"{list(REQUIRED)} and optionally {list(OPTIONAL)}"
        )
    if problems:
        raise InvalidOrderError("; ".join(problems), problems)


def _unknown(name: str) -> str:
    hint = did_you_mean(name, LINE_COLUMNS)
    known = ", ".join(LINE_COLUMNS)
    return (
        f"unknown column {name!r}; "
        + (f"{hint} " if hint.startswith("did") else "")
        + f"(order lines have the columns {known}; leave other columns out)"
    )


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
        "a pyarrow Table with one row per order line"
    )


def _check_lengths(columns: dict[str, Any]) -> int:
    """The number of lines: every column must have one value per line."""
    lengths = {}
    for name, values in columns.items():
        try:
            lengths[name] = len(values)
        except TypeError:
            raise InvalidOrderError(
                f"column {name!r} is a {type(values).__name__}, not a column of values; "
                "pass a list, an array or a Series per column"
            ) from None
        shape = getattr(values, "shape", None)
        if shape is not None and len(shape) != 1:  # a 2-D array or a DataFrame
            raise InvalidOrderError(_not_one_dimensional(name, tuple(shape)))
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {length}" for name, length in lengths.items())
        raise InvalidOrderError(
            f"columns have different lengths ({shown}); every column needs one value per order line"
        )
    return lengths["amount"]


def _checked_text(name: str, values: Any) -> Encoded:
    """An id column encoded, its distinct values in normal form, required cells filled."""
    encoded = _encode(name, values)
    problems = _id_problems(name, encoded)
    if name in REQUIRED and (encoded.codes < 0).any():
        problems.append(empty_cells(name, encoded.codes < 0))
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
        if value == "" and name in EMPTY_MEANS:
            problem += f"; use None (a null cell) for {EMPTY_MEANS[name]}"
        if len(problems) < _SHOWN_VALUES:
            problem = f"column {name!r}, {rows_where(column.codes == code)}: {problem}"
        else:
            problem = f"column {name!r}: {problem}"
        problems.append(problem)
    return problems


def _encode(name: str, values: Any) -> Encoded:
    """Codes into the column's distinct values used (-1 for None, NaN, pandas' NA, a null).

    Dictionary-encoded input (a pandas Categorical, a pyarrow dictionary array) is used as
    it is, keeping only the values its codes use; other text is hashed by pandas'
    ``factorize`` when pandas is installed (the ``tuishou[notebook]`` extra) and by a plain
    loop otherwise. Order, buyer and sharer ids may be ints in every container (never bools;
    a null int buyer or sharer is no buyer, no share link); the other ids are text. An empty
    text id is kept, and refused by the id rule like in the model.
    """
    if name in INT_IDS and _int_dtype(values):
        empty = null_mask(values)
        if empty is None:
            encoded = encode_integers(np.asarray(values_of(values)))
        elif name == "order_id":
            raise InvalidOrderError(empty_cells(name, empty))
        else:  # a null buyer or sharer: no buyer, no share link
            encoded = encode_nullable_integers(values, empty)
        if name == "order_id" or encoded.values.dtype == np.int64:  # type: ignore[union-attr]
            return encoded
        return Encoded(encoded.codes, _int_ids(name, encoded.codes, list(encoded.values)))
    codes, distinct, arrow = dictionary_codes(values)
    if codes is not None and arrow is not None:
        return Encoded(codes, distinct, arrow)
    if codes is None:
        text = encode_text(values)  # text hashed in Arrow, no pass over rows in Python
        if text is not None:
            return text
        codes, distinct = _factorize(name, values_of(values))
    if _all_text(values) or set(map(type, distinct)) <= {str}:
        return Encoded(codes, distinct)
    if name in INT_IDS and all(map(_is_int, distinct)):
        return Encoded(codes, _int_ids(name, codes, distinct))
    code = next(
        i
        for i, v in enumerate(distinct)
        if not isinstance(v, str) and (name not in INT_IDS or not _is_int(v) or _has_text(distinct))
    )
    value, row = distinct[code], int(np.flatnonzero(codes == code)[0])
    rule = "ids and names are text"
    if name in INT_IDS:
        rule = (
            ("order" if name == "order_id" else "member")
            + " ids are text or ints, "
            + (
                "not bools"
                if isinstance(value, bool | np.bool_)
                else "one or the other in a column"
            )
        )
    raise InvalidOrderError(
        f"column {name!r}, row {row}: {value!r} is a {type(value).__name__}; {rule}"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _has_text(values: Sequence[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def _int_dtype(values: Any) -> bool:
    """Whether a numpy, pandas or Arrow column has an int dtype (not bool)."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None:
        return getattr(dtype, "kind", "") in ("i", "u")
    return str(getattr(values, "type", "")).startswith(("int", "uint"))


def _int_ids(name: str, codes: CodeArray, distinct: Sequence[Any]) -> npt.NDArray[Any]:
    """Python or numpy int ids as an int64 array (order ids: or uint64); beyond refused."""
    ints = [int(v) for v in distinct]
    for dtype in (np.int64, np.uint64) if name == "order_id" else (np.int64,):
        info = np.iinfo(dtype)
        if all(info.min <= v <= info.max for v in ints):
            return np.array(ints, dtype=dtype)
    if name != "order_id":
        code = next(i for i, v in enumerate(ints) if not -(2**63) <= v < 2**63)
        raise InvalidOrderError(
            f"column {name!r}, {rows_where(codes == code)}: {name}={ints[code]} is beyond "
            "int64; int member ids must fit int64 (or pass the ids as text)"
        )
    beyond = [i for i, v in enumerate(ints) if not -(2**63) <= v < 2**64]
    code = beyond[0] if beyond else next(i for i, v in enumerate(ints) if v < 0)
    why = "is beyond 64 bits" if beyond else "is negative while others are beyond int64"
    raise InvalidOrderError(
        f"column 'order_id', {rows_where(codes == code)}: order_id={ints[code]} {why}; int "
        "order ids must fit int64 (or uint64 when none is negative)"
    )


def _factorize(name: str, values: Any) -> tuple[CodeArray, list[Any]]:
    """Codes and distinct values of a column of Python objects (None, NaN and NA are -1)."""
    array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise InvalidOrderError(_not_one_dimensional(name, array.shape))
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - exercised where pandas is absent
        return _factorize_slowly(array)
    try:
        raw, uniques = pd.factorize(array.astype(object, copy=False), sort=False)
    except TypeError:  # an unhashable cell (a list): named by the type check
        return _factorize_slowly(array)
    return raw.astype(np.int32, copy=False), uniques.tolist()


def _all_text(values: Any) -> bool:
    """Whether a pandas categorical's categories are known to be text (skips a value scan)."""
    categories = getattr(getattr(values, "cat", None), "categories", None)
    return categories is not None and categories.inferred_type in ("string", "empty")


def _factorize_slowly(array: npt.NDArray[Any]) -> tuple[CodeArray, list[Any]]:
    """Codes by a plain loop; an unhashable cell becomes a distinct value of its own."""
    seen: dict[Any, int] = {}
    distinct: list[Any] = []
    codes = np.empty(len(array), dtype=np.int32)
    for row, value in enumerate(array.tolist()):
        if is_missing(value):
            codes[row] = -1
            continue
        try:
            codes[row] = seen.setdefault(value, len(distinct))
        except TypeError:
            codes[row] = len(distinct)
        if codes[row] == len(distinct):
            distinct.append(value)
    return codes, distinct


def _not_one_dimensional(name: str, shape: tuple[int, ...]) -> str:
    return (
        f"column {name!r} has shape {shape}; a column is one-dimensional, one value per order line"
    )
