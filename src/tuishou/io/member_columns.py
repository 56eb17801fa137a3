"""A members file's tree built from its columns (``InviteTree.from_arrays``, vectorised),
when it can be: the columns are the plain ones and every id is normal text. A million
members then load in seconds, not a minute, without a Python dict per member. Anything
else (times, invite codes, a problem of any kind) takes the record by record path of
:func:`tuishou.io.inputs.read_members`, whose messages name every problem's line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tuishou.errors import InvalidTreeError
from tuishou.io.cells import Column
from tuishou.io.checks import check_ids
from tuishou.io.files import Problems, Table
from tuishou.tree import InviteTree

__all__ = ["PLAIN_MEMBER_COLUMNS", "tree_from_columns"]

PLAIN_MEMBER_COLUMNS = frozenset({"member_id", "inviter_id", "tier", "status"})


def tree_from_columns(
    table: Table, columns: Sequence[Column], tiers: Sequence[str] | None
) -> tuple[InviteTree, set[str]] | None:
    """The tree and its member ids, or None when the fast path does not apply or the tree
    has a problem (the caller then reads the rows one by one and names each problem).

    >>> from pathlib import Path
    >>> table = Table(Path("m.csv"), 2, {"member_id": ["A", "B"], "inviter_id": [None, "A"],
    ...               "tier": ["m", "m"]}, {}, None)
    >>> tree, ids = tree_from_columns(table, [Column("member_id", "value")], ["m"])
    >>> tree.upline("B"), sorted(ids)
    (['A'], ['A', 'B'])
    """
    if not {"member_id", "inviter_id", "tier"} <= set(table.columns) <= PLAIN_MEMBER_COLUMNS:
        return None
    if any(table.bad.values()):
        return None
    values: dict[str, list[str | None]] = {}
    for name in table.columns:
        text = _text(table.columns[name])
        if text is None:
            return None
        values[name] = text
    if check_ids(table, columns, scratch := Problems()) and scratch:
        return None
    try:
        tree = InviteTree.from_arrays(
            values["member_id"],
            values["inviter_id"],
            values["tier"],
            status=values.get("status"),
            tiers=tiers,
        )
    except InvalidTreeError:
        return None
    return tree, {value for value in values["member_id"] if value is not None}


def _text(values: Any) -> list[str | None] | None:
    """A column as a list of text and nulls; None if it holds anything else."""
    listed = values if isinstance(values, list) else values.to_pylist()
    if all(type(value) is str or value is None for value in listed):
        return listed
    return None
