"""Order lines as columns: reading a dict of arrays, a pandas DataFrame or a pyarrow Table.

One row per order line with ``order_id``, ``buyer_id``, ``sharer_id``, ``sku``, ``group``,
``amount`` (int fen) and ``quantity`` (``buyer_id``, ``sharer_id`` and ``quantity`` may be
left out). Text columns are dictionary-encoded once (codes + distinct values), so the engine
works on integers. Problems name the column and the first offending rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import FloatRefusedError, InvalidOrderError

__all__ = ["LineColumns", "read_lines"]

IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int32]  # codes of text columns: 4 bytes a row is enough
REQUIRED = ("order_id", "sku", "group", "amount")
OPTIONAL = ("buyer_id", "sharer_id", "quantity")
_SHOWN_ROWS = 5


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
    """
    if isinstance(orders, LineColumns):
        return orders
    columns = _as_mapping(orders)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise InvalidOrderError(
            f"order lines lack the column(s) {missing}; columns are {list(REQUIRED)} and "
            f"optionally {list(OPTIONAL)}")
    size = len(_values(columns["amount"]))
    encoded = {name: _encode(name, columns[name]) if name in columns else
               Encoded(np.full(size, -1, dtype=np.int32), [])
               for name in ("order_id", "buyer_id", "sharer_id", "sku", "group")}
    for name in ("order_id", "sku", "group"):
        _no_missing(name, encoded[name])
    amount = _integers("amount", columns["amount"], size, minimum=0)
    quantity = (_integers("quantity", columns["quantity"], size, minimum=1)
                if "quantity" in columns else np.ones(size, dtype=np.int64))
    return LineColumns(encoded["order_id"], encoded["buyer_id"], encoded["sharer_id"],
                       encoded["sku"], encoded["group"], amount, quantity)


def rows_where(mask: npt.NDArray[np.bool_]) -> str:
    """The first offending row numbers, for a message."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:_SHOWN_ROWS].tolist())
    return f"row(s) {shown}" + (f" and {len(rows) - _SHOWN_ROWS} more" if len(rows) > _SHOWN_ROWS
                                else "")


def _as_mapping(orders: Any) -> dict[str, Any]:
    if hasattr(orders, "column_names") and hasattr(orders, "column"):  # a pyarrow Table
        return {name: orders.column(name) for name in orders.column_names}
    if hasattr(orders, "columns") and hasattr(orders, "__getitem__"):  # a pandas DataFrame
        return {str(name): orders[name] for name in orders.columns}
    if isinstance(orders, dict):
        return orders
    raise InvalidOrderError(
        f"orders is a {type(orders).__name__}; pass a dict of columns, a pandas DataFrame or "
        "a pyarrow Table with one row per order line")


def _values(values: Any) -> Any:
    if hasattr(values, "to_numpy") and hasattr(values, "combine_chunks"):  # pyarrow
        return values.to_numpy()
    if hasattr(values, "to_numpy"):  # pandas
        return values.to_numpy()
    return values


def _encode(name: str, values: Any) -> Encoded:
    """Codes into the column's distinct values (-1 for None, NaN and '').

    Dictionary-encoded input (a pandas Categorical, a pyarrow dictionary array) is used as
    it is; other text is hashed by pandas' ``factorize`` when pandas is installed (the
    ``tuishou[notebook]`` extra) and by a plain loop otherwise. Order ids may be ints.
    """
    dtype = getattr(values, "dtype", None)
    if name == "order_id" and getattr(dtype, "kind", "") in "iu" and dtype is not None:
        return _encode_integers(np.asarray(_values(values)))
    codes, distinct = _dictionary(values)
    if codes is None:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - exercised where pandas is absent
            return _encode_slowly(name, _values(values))
        raw, uniques = pd.factorize(np.asarray(_values(values), dtype=object), sort=False)
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


def _no_missing(name: str, column: Encoded) -> None:
    if (column.codes < 0).any():
        raise InvalidOrderError(f"column {name!r} is empty in {rows_where(column.codes < 0)}")


def _integers(name: str, values: Any, size: int, *, minimum: int) -> IntArray:
    array = np.asarray(_values(values))
    if len(array) != size:
        raise InvalidOrderError(f"column {name!r} has {len(array)} rows, 'amount' has {size}")
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind == "f":
        raise FloatRefusedError(
            f"column {name!r} holds floats ({array.dtype}); {name} must be int (fen for "
            "amounts): floats cannot hold money exactly")
    if array.dtype.kind not in "iu" or array.dtype == np.bool_:
        if size and not all(type(v) is int for v in array.tolist()):
            raise InvalidOrderError(f"column {name!r} must hold ints, found {array.dtype}")
        array = np.array(array.tolist(), dtype=np.int64)
    if array.dtype.kind == "u" and size and int(array.max()) > np.iinfo(np.int64).max:
        raise InvalidOrderError(f"column {name!r} holds values beyond int64")
    array = array.astype(np.int64, copy=False)
    if size and (array < minimum).any():
        raise InvalidOrderError(f"column {name!r} must be >= {minimum}: "
                                f"{rows_where(array < minimum)}")
    return array
