"""Id columns as codes into their distinct values, encoded by Arrow compute when they are text.

A text column that is not dictionary-encoded already (a list or numpy array of ``str``, a
pandas ``str`` / ``string`` Series, a pyarrow string array, chunked or not) is turned into one
Arrow string array and hashed by ``pyarrow.compute.dictionary_encode``: no Python-level pass
over the rows, only the distinct values become Python strings (for the id rule and for
messages). A column Arrow cannot type as text (an int among strings, a list in a cell, all
cells empty) gives None here and is left to the plain path in :mod:`tuishou.engine.columns`,
whose messages name the offending value. pyarrow ships with tuishou's ``columnar`` extra and
is imported only when a column is encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.errors import InvalidOrderError
from tuishou.ids import is_missing

__all__ = [
    "Encoded",
    "arrow_text",
    "dictionary_codes",
    "encode_integers",
    "encode_nullable_integers",
    "encode_text",
]

CodeArray = npt.NDArray[np.int32]  # codes of text columns: 4 bytes a row is enough


@dataclass(frozen=True, eq=False)
class Encoded:
    """A column as codes into its distinct values (-1 for a missing value).

    ``values`` are the distinct values as Python objects (a list; a numpy int64 array for int
    ids); ``arrow`` is the same distinct text as a pyarrow string array when the column was
    encoded by Arrow, else None (``TreeArrays.lookup`` takes either: see ``member_index``).

    >>> encode_text(["b", None, "a", "b"]).codes.tolist()
    [0, -1, 1, 0]
    """

    codes: CodeArray
    values: Sequence[Any] | npt.NDArray[Any]
    arrow: Any = None


def arrow_text(values: Any) -> Any:
    """The column as one Arrow (large) string array, or None when Arrow cannot type it as text.

    Empty cells (None, NaN, pandas' NA) become nulls (``from_pandas``).

    >>> arrow_text(["a", None]).to_pylist(), arrow_text(["a", 1]), arrow_text([None])
    (['a', None], None, None)
    """
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - exercised where pyarrow is absent
        return None
    if isinstance(values, pa.ChunkedArray | pa.Array):
        array = values
    elif isinstance(values, np.ndarray) and values.dtype.kind not in "OUS":
        return None  # numbers, bools, times: the plain path names them
    else:
        try:
            array = pa.array(_unwrapped(values), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return None  # mixed types, an unhashable cell: the plain path names them
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    text = (pa.string(), pa.large_string())
    if array.type not in text:
        if not pa.types.is_string_view(array.type):
            return None
        array = array.cast(pa.large_string())
    return array


def _unwrapped(values: Any) -> Any:
    """A pandas column as its numpy or Arrow-backed array (what ``pa.array`` reads fastest)."""
    dtype = getattr(values, "dtype", None)
    if not hasattr(values, "to_numpy") or dtype is None:  # a list, a numpy array
        return values
    if getattr(dtype, "storage", None) == "python" or (
        isinstance(dtype, np.dtype) and dtype.kind == "O"  # (a pandas StringDtype's kind is O)
    ):
        return values.to_numpy()  # Python strings: pyarrow reads the object array fastest
    return getattr(values, "array", values)  # Arrow-backed: handed over without a copy


def encode_text(values: Any) -> Encoded | None:
    """Codes and distinct values of a text column by ``dictionary_encode``, or None when
    Arrow cannot type the column as text (see :func:`arrow_text`).

    Distinct values come in the order of first appearance, like ``pandas.factorize``.

    >>> encoded = encode_text(["o1", "o2", "o1"])
    >>> encoded.codes.tolist(), encoded.values
    ([0, 1, 0], ['o1', 'o2'])
    """
    array = arrow_text(values)
    if array is None:
        return None
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(array)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    distinct = encoded.dictionary
    return Encoded(codes, distinct.to_pylist(), distinct)


def encode_integers(array: npt.NDArray[Any]) -> Encoded:
    """Int order ids: codes by hashing (pandas) or sorting (numpy); the values stay an array.

    Sorted ids (an export ordered by order id, the usual case) take a linear fast path.
    """
    if array.ndim != 1:
        raise InvalidOrderError(
            f"column 'order_id' has shape {array.shape}; a column is one-dimensional, one "
            "value per order line"
        )
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


def encode_nullable_integers(values: Any, empty: npt.NDArray[np.bool_]) -> Encoded:
    """An int column with empty cells (pandas ``Int64``, an Arrow int array): code -1 where
    ``empty``, the other cells encoded like :func:`encode_integers`.

    >>> import pandas as pd
    >>> column = pd.Series([7, None, 7], dtype="Int64")
    >>> encoded = encode_nullable_integers(column, column.isna().to_numpy())
    >>> encoded.codes.tolist(), encoded.values.tolist()
    ([0, -1, 0], [7])
    """
    import pyarrow as pa

    array = values if isinstance(values, pa.ChunkedArray | pa.Array) else None
    if array is None:
        array = pa.array(_unwrapped(values), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    filled = np.asarray(array.fill_null(0).to_numpy(zero_copy_only=False))
    present = encode_integers(filled[~empty])
    codes = np.full(len(filled), -1, dtype=np.int32)
    codes[~empty] = present.codes
    return Encoded(codes, present.values)


def dictionary_codes(values: Any) -> tuple[CodeArray | None, list[Any], Any]:
    """Codes, the distinct values used and (for Arrow text) those values as an Arrow array, of
    dictionary-encoded input (a pandas Categorical, a pyarrow dictionary array, chunked or
    not), else (None, [], None).

    >>> import pandas as pd
    >>> codes, values, _ = dictionary_codes(pd.Series(["b", "a", "b"], dtype="category"))
    >>> codes.tolist(), values
    ([1, 0, 1], ['a', 'b'])
    """
    categorical = getattr(values, "cat", values)  # a Series' .cat, or a bare Categorical
    if hasattr(categorical, "codes") and hasattr(categorical, "categories"):
        # pandas Categorical, CategoricalIndex or categorical Series: categories are never null
        codes = np.asarray(categorical.codes).astype(np.int32, copy=False)
        categories = categorical.categories.tolist()
        codes, distinct, _ = _used(codes, categories, np.zeros(len(categories), dtype=bool))
        return codes, distinct, None
    if hasattr(values, "combine_chunks"):  # pyarrow ChunkedArray
        values = _one_dictionary(values)
    if hasattr(values, "dictionary") and hasattr(values, "indices"):  # pyarrow dictionary
        indices = values.indices
        if indices.null_count:
            indices = indices.fill_null(-1)
        codes = indices.to_numpy(zero_copy_only=False)
        dictionary = values.dictionary
        listed = dictionary.to_pylist()
        text = str(dictionary.type) in ("string", "large_string")
        missing = (
            dictionary.is_null().to_numpy(zero_copy_only=False)
            if text
            else np.fromiter(map(is_missing, listed), dtype=bool, count=len(listed))
        )
        codes, distinct, used = _used(codes.astype(np.int32), listed, missing)
        arrow = (dictionary if used is None else dictionary.filter(used)) if text else None
        return codes, distinct, arrow
    return None, [], None


def _one_dictionary(values: Any) -> Any:
    """A chunked column as one array. Chunks of a Parquet file read with ``read_dictionary``
    each have their own dictionary (one per page): concatenating them unifies the dictionaries
    by hashing each chunk's values again, which at 10M lines over 77 chunks took 3.0 s against
    1.8 s for decoding the text and encoding it once (``dictionary_encode`` of a chunked array
    gives every chunk the same dictionary, so concatenating the result copies indices only)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.num_chunks == 1:
        return values.chunk(0)
    kind = values.type
    if pa.types.is_dictionary(kind) and values.num_chunks > 1:
        first = values.chunk(0).dictionary
        if not all(chunk.dictionary.equals(first) for chunk in values.chunks[1:]):
            values = pc.dictionary_encode(values.cast(kind.value_type))
    return values.combine_chunks()


def _used(
    codes: CodeArray, values: list[Any], missing: npt.NDArray[np.bool_]
) -> tuple[CodeArray, list[Any], npt.NDArray[np.bool_] | None]:
    """Only the dictionary's values that some row uses (an unused category is no cell) and
    that are not null (-1, like a null cell); the codes renumbered to match; the mask of the
    values kept (None: all)."""
    used = np.bincount(codes[codes >= 0], minlength=len(values)).astype(bool)
    used &= ~missing
    if used.all():
        return codes, values, None
    renumber = np.append(np.where(used, np.cumsum(used) - 1, -1), -1).astype(np.int32)
    kept: list[Any] = np.asarray(values, dtype=object)[used].tolist() if values else []
    return renumber[codes], kept, used
