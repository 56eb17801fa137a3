"""The invite tree as numpy columns, for batch settlement and large-tree checks.

Members are numbered 0..N-1; ``parent[i]`` is the index of i's inviter, or ``N`` for a root.
The sentinel is N, never -1: a negative index silently wraps around in numpy. ``tier[i]`` is
a code into ``tier_names``, ``active[i]`` False for a suspended member.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.errors import InvalidTreeError
from tuishou.ids import all_ids, is_missing
from tuishou.members.records import (
    STATUSES,
    cycle_problems,
    duplicate_problem,
    location,
    member_problems,
    unknown_inviter,
)

__all__ = ["CheckedColumns", "TreeArrays", "check_arrays", "column"]

IntArray = npt.NDArray[np.int64]
_CANONICAL = re.compile(r"(0|-?[1-9][0-9]{0,18})")  # str(n) of an int64 n (range checked too)


@dataclass(frozen=True, eq=False)
class TreeArrays:
    """A tree as columns: ids, parent indices (N = none), tier codes and active flags."""

    ids: list[str]
    index: dict[str, int]
    parent: IntArray
    tier_names: tuple[str, ...]
    tier: IntArray
    active: npt.NDArray[np.bool_]

    @classmethod
    def build(
        cls, inviter: Mapping[str, str | None], tier: Mapping[str, str], suspended: set[str]
    ) -> TreeArrays:
        """Columns from the tree's core dicts (in the tree's iteration order)."""
        ids = list(inviter)
        index = {member: i for i, member in enumerate(ids)}
        size = len(ids)
        parent = np.fromiter(
            (size if p is None else index[p] for p in inviter.values()), dtype=np.int64, count=size
        )
        return cls._with_tiers(
            ids,
            index,
            parent,
            [tier[m] for m in ids],
            np.fromiter((m not in suspended for m in ids), bool, size),
        )

    @classmethod
    def _with_tiers(
        cls,
        ids: list[str],
        index: dict[str, int],
        parent: IntArray,
        tiers: list[str],
        active: npt.NDArray[np.bool_],
    ) -> TreeArrays:
        names = tuple(sorted(set(tiers)))
        code = {name: i for i, name in enumerate(names)}
        tier = np.fromiter((code[t] for t in tiers), dtype=np.int64, count=len(tiers))
        return cls(ids, index, parent, names, tier, active)

    def lookup(self, ids: Sequence[Any]) -> IntArray:
        """The index of each id, -1 for ids not in the tree (a hash join when pandas is there).

        >>> TreeArrays.build({"A": None, "B": "A"}, {"A": "m", "B": "m"}, set()).lookup(
        ...     ["B", "x"]).tolist()
        [1, -1]
        """
        if isinstance(ids, np.ndarray) and ids.dtype.kind in "iu":  # int ids: see int_keys
            return self._int_lookup(ids)
        if _is_arrow(ids):  # distinct text encoded by Arrow: hashed in C against the tree's
            import pyarrow.compute as pc

            # string or large_string: one type to hash
            asked = ids.cast(self._arrow_ids.type)  # type: ignore[attr-defined]
            hits = pc.index_in(asked, value_set=self._arrow_ids).fill_null(-1)
            indices: IntArray = np.asarray(hits.to_numpy(zero_copy_only=False), dtype=np.int64)
            return indices
        index = self._pandas_index
        if index is None:  # pragma: no cover - exercised where pandas is absent
            return np.array([self.index.get(i, -1) for i in ids], dtype=np.int64)
        for seen, found in self._lookups:  # the same categories again: same answer
            if seen is ids:
                return found
        asked = (
            ids if isinstance(ids, index.__class__) else index.__class__(list(ids), dtype=object)
        )
        if len(asked) == len(index) and asked.equals(index):  # ids listed like the tree's
            found = np.arange(len(index), dtype=np.int64)
        else:
            found = index.get_indexer(asked).astype(np.int64)
        if asked is ids:  # a pandas Index is immutable: safe to remember by identity
            self._lookups[:] = [(ids, found), *self._lookups[:3]]
        return found

    @cached_property
    def _lookups(self) -> list[tuple[Any, IntArray]]:
        """The last few (ids object, indices) looked up: categories repeat across calls."""
        return []

    def _int_lookup(self, ids: npt.NDArray[Any]) -> IntArray:
        """Indices of int ids by binary search in ``int_keys`` (no text per id)."""
        keys, members = self.int_keys
        beyond = ids > np.iinfo(np.int64).max if ids.dtype.kind == "u" else None
        asked = ids.astype(np.int64)
        at = np.minimum(np.searchsorted(keys, asked), max(len(keys) - 1, 0))
        found = np.full(len(asked), -1, dtype=np.int64)
        if len(keys):
            hit = keys[at] == asked
            if beyond is not None:
                hit &= ~beyond
            found[hit] = members[at[hit]]
        return found

    @cached_property
    def int_keys(self) -> tuple[IntArray, IntArray]:
        """The int64 keys of the members whose id is the canonical decimal form of an int64
        (``str(n)``: ``'10086'``, ``'-7'``, ``'0'``; not ``'+7'``, ``'007'``, ``'-0'``),
        sorted, and the member index of each: what int ``buyer_id`` / ``sharer_id`` columns
        are looked up in. Built once, vectorised (an Arrow regex, then a cast).

        >>> TreeArrays.build({"7": None, "007": "7", "-3": "7"}, dict.fromkeys(
        ...     ["7", "007", "-3"], "m"), set()).int_keys
        (array([-3,  7]), array([2, 0]))
        """
        try:
            import pyarrow as pa
            import pyarrow.compute as pc
        except ImportError:  # pragma: no cover - exercised where pyarrow is absent
            return _int_keys_slowly(self.ids)
        text = self._arrow_ids
        canonical = pc.match_substring_regex(text, r"^(0|-?[1-9][0-9]{0,18})$")
        rows = np.flatnonzero(canonical.fill_null(False).to_numpy(zero_copy_only=False))
        digits = text.take(pa.array(rows, type=pa.int64()))
        length = pc.utf8_length(digits)
        beyond = pc.or_(  # 19 digits (20 with '-') may pass int64's range: compare as text
            pc.and_(pc.equal(length, 19), pc.greater(digits, "9223372036854775807")),
            pc.and_(pc.equal(length, 20), pc.greater(digits, "-9223372036854775808")),
        )
        keep = np.logical_not(beyond.to_numpy(zero_copy_only=False))
        ints = pc.cast(digits.filter(pa.array(keep)), pa.int64()).to_numpy(zero_copy_only=False)
        members = rows[keep].astype(np.int64)
        order = np.argsort(ints, kind="stable")
        return np.asarray(ints[order], dtype=np.int64), members[order]

    @cached_property
    def member_ints(self) -> IntArray | None:
        """Every member's id as an int64 (by index) when every id is canonical (see
        ``int_keys``: a tree built from int columns), else None.

        >>> TreeArrays.build({"7": None, "10": "7"}, {"7": "m", "10": "m"}, set()).member_ints
        array([ 7, 10])
        """
        keys, members = self.int_keys
        if len(keys) != self.size:
            return None
        ints = np.empty(self.size, dtype=np.int64)
        ints[members] = keys
        return ints

    @cached_property
    def _arrow_ids(self) -> Any:
        """The member ids as one Arrow string array (the value set of Arrow lookups)."""
        import pyarrow as pa

        return pa.array(self.ids, type=pa.large_string())

    @property
    def hashes_lists(self) -> bool:
        """Whether ``lookup`` of a list uses a kept hash table (pandas is installed)."""
        return self._pandas_index is not None

    @cached_property
    def _pandas_index(self) -> Any:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - exercised where pandas is absent
            return None
        return pd.Index(self.ids, dtype=object)

    @property
    def size(self) -> int:
        """The number of members."""
        return len(self.ids)

    def depth(self) -> IntArray:
        """Every member's depth (roots 0), by pointer doubling: O(N log depth), no recursion.

        Computed once per arrays (tier evaluation, team sizes and comparisons all need it)
        and read-only, since it is shared.

        >>> TreeArrays.build({"A": None, "B": "A", "C": "B"}, dict.fromkeys("ABC", "m"),
        ...                  set()).depth().tolist()
        [0, 1, 2]
        """
        return self._depths

    @cached_property
    def _depths(self) -> IntArray:
        size = self.size
        up = np.append(self.parent, size)  # up[size] = size: the sentinel points to itself
        hops = (up[:size] != size).astype(np.int64)
        jump = up.copy()
        for _ in range(max(1, math.ceil(math.log2(size + 1)) + 1)):
            # hops[i] counts edges from i to jump[i]; doubling: add the jumped-to's count.
            hops = hops + np.where(jump[:size] != size, np.append(hops, 0)[jump[:size]], 0)
            jump = jump[jump]
        depths: IntArray = hops
        depths.flags.writeable = False
        return depths

    def team_sizes(self) -> IntArray:
        """How many members are below each member, at any depth (``InviteTree.team_size``).

        Deepest level first, each level adds its teams to its inviters: linear, no recursion.

        >>> TreeArrays.build({"A": None, "B": "A", "C": "B", "D": "A"}, dict.fromkeys("ABCD", "m"),
        ...                  set()).team_sizes().tolist()
        [3, 1, 0, 0]
        """
        size = self.size
        below = np.zeros(size + 1, dtype=np.int64)  # below[size]: the roots' sink, never read
        depth = self.depth()
        by_depth = np.argsort(-depth, kind="stable")
        for level in np.split(by_depth, np.flatnonzero(np.diff(depth[by_depth])) + 1):
            np.add.at(below, self.parent[level], below[level] + 1)
        sizes: IntArray = below[:size]
        return sizes


def _is_arrow(values: Any) -> bool:
    """Whether ``values`` is a pyarrow array (checked without importing pyarrow)."""
    return type(values).__module__.startswith("pyarrow")


@dataclass(frozen=True)
class CheckedColumns:
    """Columns that passed :func:`check_arrays`, with their arrays."""

    ids: list[str]
    inviters: list[str | None]
    tier_column: list[str]
    arrays: TreeArrays


def column(values: Any) -> list[Any]:
    """A column (list, tuple, numpy array, pandas Series, pyarrow array) as a Python list;
    an empty cell (None, NaN, pandas' NA) becomes None.

    >>> import pandas as pd
    >>> column(pd.array(["A", None], dtype="string"))
    ['A', None]
    """
    converted: list[Any] = list(values)
    for method in ("to_pylist", "tolist"):
        if hasattr(values, method):
            converted = getattr(values, method)()
            break
    if set(map(type, converted)) <= {str, type(None)}:  # the usual column: nothing to map
        return converted
    return [v if type(v) is str or not is_missing(v) else None for v in converted]


def check_arrays(
    member_ids: Any, inviter_ids: Any, tier: Any, status: Any, tiers: Sequence[str] | None
) -> CheckedColumns:
    """Check tree columns with the checks of ``InviteTree.from_records`` (the same
    ``member_problems``, duplicate and unknown-inviter wording, rows for records), and report
    every problem at once. An empty inviter cell ('' too) means a root."""
    # int ids (either column, numpy, pandas, Arrow or a list): their canonical text, see
    # TreeArrays.int_keys; text columns come back as they were
    if _holds_ints(member_ids):
        member_ids = _as_text(member_ids, "member_id")
    if _holds_ints(inviter_ids):
        inviter_ids = _as_text(inviter_ids, "inviter_id")
    ids, inviters, tier_column = column(member_ids), column(inviter_ids), column(tier)
    statuses = (
        ["active" if s is None else s for s in column(status)]
        if status is not None
        else ["active"] * len(ids)
    )  # an empty status is active, as in from_records
    if not len(ids) == len(inviters) == len(tier_column) == len(statuses):
        raise InvalidTreeError(
            f"columns of different lengths: member_ids {len(ids)}, inviter_ids {len(inviters)}, "
            f"tier {len(tier_column)}, status {len(statuses)}"
        )
    inviters = [None if _blank(inviter) else inviter for inviter in inviters]
    problems = _row_problems(ids, inviters, tier_column, statuses, tiers)
    index: dict[str, int] = {}
    for row, member in enumerate(ids):
        if isinstance(member, str) and index.setdefault(member, row) != row:
            where = location("row", row, member)
            problems.append(f"{where}: {duplicate_problem(f'row {index[member]}')}")
    size = len(ids)
    parent = np.full(size, size, dtype=np.int64)
    for row, inviter in enumerate(inviters):
        if inviter is None or inviter == ids[row]:  # a self-invite is a row problem
            continue
        if inviter in index:
            parent[row] = index[inviter]
        elif isinstance(inviter, str) and (problem := unknown_inviter(inviter, index)):
            problems.append(f"{location('row', row, ids[row])}: {problem}")
    problems += _cycles(ids, parent)
    if problems:
        raise InvalidTreeError.from_problems("invalid tree columns", problems)
    active = np.fromiter((s == "active" for s in statuses), dtype=bool, count=size)
    arrays = TreeArrays._with_tiers(ids, index, parent, tier_column, active)
    return CheckedColumns(ids, inviters, tier_column, arrays)


def _int_keys_slowly(ids: list[str]) -> tuple[IntArray, IntArray]:
    """``TreeArrays.int_keys`` by a loop over the ids (without pyarrow)."""
    pairs = [
        (int(member), row)
        for row, member in enumerate(ids)
        if _CANONICAL.fullmatch(member) and -(2**63) <= int(member) < 2**63
    ]
    pairs.sort()
    keys = np.array([key for key, _ in pairs], dtype=np.int64)
    return keys, np.array([row for _, row in pairs], dtype=np.int64)


def _int_column(values: Any) -> bool:
    """Whether a numpy, pandas or Arrow column has an int dtype (not bool)."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None:
        return getattr(dtype, "kind", "") in ("i", "u")
    return str(getattr(values, "type", "")).startswith(("int", "uint"))


def _holds_ints(values: Any) -> bool:
    """Whether a column is one of ints: an int dtype, or untyped values (a list, objects)
    whose first present value is an int (a column mixing ints and text is then refused by
    the checks). Text columns, the usual case, are not converted to find out."""
    if _int_column(values):
        return True
    if _is_arrow(values) or getattr(getattr(values, "dtype", None), "kind", "O") != "O":
        return False
    if not hasattr(values, "__len__"):  # an iterator: looking would use it up
        return False
    for value in values:
        if not is_missing(value):
            return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    return False


def _as_text(values: Any, name: str) -> Any:
    """An int column (nulls, None: empty) as Arrow text, ``str(n)`` per id, by one Arrow
    cast; a column Arrow cannot type as ints is left as it is (its checks name the cells).
    An id beyond int64 is refused: order lines could never name it (their ids are int64)."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - exercised where pyarrow is absent
        return [
            str(int(v)) if isinstance(v, int | np.integer) and not isinstance(v, bool) else v
            for v in column(values)
        ]
    if _is_arrow(values):
        array = values
    else:
        try:
            array = pa.array(getattr(values, "array", values), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return values
    if not (pa.types.is_integer(array.type) or pa.types.is_null(array.type)):
        return values
    if pa.types.is_uint64(array.type):
        beyond = np.flatnonzero(array.fill_null(0).to_numpy(zero_copy_only=False) > 2**63 - 1)
        if len(beyond):
            row = int(beyond[0])
            raise InvalidTreeError(
                f"row {row}: {name}={array[row].as_py()} is beyond int64; int member ids must "
                "fit int64, as order lines' ids do (or give the ids as text)"
            )
    return array.cast(pa.string())


def _blank(value: Any) -> bool:
    """None (any empty cell, see ``column``) and '' both mean "no inviter"."""
    return value is None or value == ""


def _row_problems(
    ids: list[Any],
    inviters: list[Any],
    tiers_column: list[Any],
    statuses: list[Any],
    ladder: Sequence[str] | None,
) -> list[str]:
    """``member_problems`` of every row that might have one (all rows look fine quickly)."""
    problems = []
    valid = (
        all_ids(ids)
        and all_ids(tiers_column)
        and all_ids([inviter for inviter in inviters if inviter is not None])
    )
    for row, (member, inviter, tier, status) in enumerate(
        zip(ids, inviters, tiers_column, statuses, strict=True)
    ):
        if (
            valid
            and inviter != member
            and status in STATUSES
            and (ladder is None or tier in ladder)
        ):
            continue
        fields = {"member_id": member, "inviter_id": inviter, "tier": tier, "status": status}
        where = location("row", row, member)
        problems += [f"{where}: {problem}" for problem in member_problems(fields, ladder)]
    return problems


def _cycles(ids: list[Any], parent: IntArray) -> list[str]:
    """Name the cycles, if any: pointer doubling finds members that never reach a root."""
    size = len(ids)
    up = np.append(parent, size)
    for _ in range(max(1, math.ceil(math.log2(size + 1)) + 1)):
        up = up[up]
    stuck = np.flatnonzero(up[:size] != size)
    if stuck.size == 0:
        return []
    links = {ids[i]: ids[int(parent[i])] for i in stuck.tolist()}
    return cycle_problems(links)
