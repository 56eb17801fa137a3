"""Scale-out with Dask (``tuishou[dask]``): settle an order history partition by partition.

``settle_dask(policy, tree, orders)`` takes a Dask DataFrame of order lines (the columns
``settle_batch`` reads) and returns a :class:`DaskSettlement` with lazy ``payouts`` and
``orders`` Dask DataFrames. The tree's arrays are built once and broadcast to every worker
(scattered when a ``distributed`` client is running), and each partition is settled with
:func:`tuishou.engine.batch.settle_batch`.

All lines of one order must be in the same partition (partition by order id, e.g.
``ddf.shuffle("order_id")`` or ``set_index("order_id")``): an order split across
partitions would be settled twice, in parts. ``settle_dask`` checks this before it returns
and raises ``InvalidOrderError`` naming an order found in two partitions. The columns'
names are checked at once (an unknown or repeated column is refused before anything runs);
every other rule of the order-line contract (:mod:`tuishou.engine.columns`) is checked per
partition, when the result is computed. Partitions are read as they were given: Dask's
conversion of object columns to text (``dataframe.convert-string``) is turned off for the
orders, so a Decimal amount, an int beyond int64 or a bool reaches the checks as itself and
is refused as ``settle_batch`` refuses it (not as a ``str``, nor taken as a text id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
from dask.delayed import delayed

from tuishou.bindings import Bindings
from tuishou.engine.batch import settle_batch
from tuishou.engine.columns import check_column_names
from tuishou.errors import InvalidOrderError
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.tree import InviteTree

__all__ = ["DaskSettlement", "settle_dask"]

_PAYOUT_META = pd.DataFrame(
    {
        "order_id": pd.Series(dtype=object),
        "member_id": pd.Series(dtype=object),
        "rule": pd.Series(dtype=object),
        "kind": pd.Series(dtype=object),
        "generation": pd.Series(dtype="int64"),
        "amount": pd.Series(dtype="int64"),
    }
)
_ORDER_META = pd.DataFrame(
    {
        "order_id": pd.Series(dtype=object),
        "seller_id": pd.Series(dtype=object),
        "pool": pd.Series(dtype="int64"),
        "paid": pd.Series(dtype="int64"),
        "retained": pd.Series(dtype="int64"),
    }
)


def _int_members(orders: dd.DataFrame, tree: InviteTree) -> bool:
    """Whether partitions give member ids as ints: the lines' buyer or sharer ids are ints
    and every member id of the tree is an int's text (``TreeArrays.member_ints``)."""
    kinds = [
        getattr(orders.dtypes[name], "kind", "")
        for name in ("buyer_id", "sharer_id")
        if name in orders.columns
    ]
    ints = any(kind in ("i", "u") for kind in kinds)
    return ints and tree.arrays().member_ints is not None


@dataclass(frozen=True)
class DaskSettlement:
    """Lazy results: ``payouts`` (one row per payout) and ``orders`` (one row per order)."""

    payouts: dd.DataFrame
    orders: dd.DataFrame


def settle_dask(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    orders: dd.DataFrame,
    *,
    check_partitions: bool = True,
    bindings: Bindings | None = None,
) -> DaskSettlement:
    """Settle a Dask DataFrame of order lines partition by partition with ``settle_batch``
    (``bindings``, customer bindings, go to every partition as they are).

    With ``PolicyVersions`` each order is settled under the version in force at its
    ``paid_at``, and ``orders`` has a ``policy_version`` column (the version's name).

    >>> import dask.dataframe as dd, pandas as pd
    >>> from tuishou.examples import example_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> lines = dd.from_pandas(pd.DataFrame({"order_id": ["o1", "o2"], "sharer_id": ["A", "A"],
    ...     "sku": ["s", "s"], "group": ["g", "g"], "amount": [10000, 20000]}), npartitions=2)
    >>> settle_dask(example_policy(), tree, lines).payouts.compute().amount.tolist()
    [500, 1000]
    """
    check_column_names([str(name) for name in orders.columns])  # now, not at compute()
    orders = _as_given(orders)
    tree.arrays()  # build the columns once, before the tree is shipped to the workers
    shipped = _broadcast(tree)
    if check_partitions:
        _check_partitions(orders)
    parts = orders.to_delayed()
    settled = [
        delayed(_settle_partition)(policy, shipped, part, bindings=bindings) for part in parts
    ]
    payout_meta, meta = _PAYOUT_META, _ORDER_META
    if _int_members(orders, tree):  # int in, int out (see tuishou.engine.tables)
        import pyarrow as pa

        payout_meta = payout_meta.assign(member_id=pd.Series(dtype="int64"))
        meta = meta.assign(seller_id=pd.Series(dtype=pd.ArrowDtype(pa.int64())))
    with dask.config.set({"dataframe.convert-string": False}):  # int order ids stay ints
        payouts = dd.from_delayed(
            [delayed(lambda pair: pair[0])(s) for s in settled], meta=payout_meta, verify_meta=False
        )
        if isinstance(policy, PolicyVersions):
            meta = meta.assign(policy_version=pd.Series(dtype=object))
        per_order = dd.from_delayed(
            [delayed(lambda pair: pair[1])(s) for s in settled], meta=meta, verify_meta=False
        )
    return DaskSettlement(payouts, per_order)


def _as_given(orders: dd.DataFrame) -> dd.DataFrame:
    """``orders`` without Dask's conversion of object columns to text, which would turn a
    Decimal into ``'1.5'`` and ``True`` into ``'True'`` before any check sees them. (A Dask
    without expressions, or another source, is used as it is.)"""
    try:
        from dask._collections import new_collection
        from dask._expr import Expr
    except ImportError:  # pragma: no cover - an older Dask
        return orders

    def untouched(expr: Any) -> Any:
        operands = [untouched(o) if isinstance(o, Expr) else o for o in expr.operands]
        parameters = list(type(expr)._parameters)
        if "pyarrow_strings_enabled" not in parameters:
            same = all(new is old for new, old in zip(operands, expr.operands, strict=True))
            return expr if same else type(expr)(*operands)
        operands[parameters.index("pyarrow_strings_enabled")] = False
        return type(expr)(*operands)

    expr = getattr(orders, "expr", None)
    return orders if expr is None else new_collection(untouched(expr))


def _broadcast(tree: InviteTree) -> Any:
    """The tree as a future on every worker when a distributed client runs, else as is."""
    try:
        from distributed import get_client

        return get_client().scatter(tree, broadcast=True)
    except (ImportError, ValueError):  # no distributed, or no client: the local scheduler
        return delayed(tree)


def _settle_partition(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    lines: pd.DataFrame,
    *,
    bindings: Bindings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = settle_batch(policy, tree, lines, bindings=bindings)
    return _plain(result.payouts.to_pandas()), _plain(result.orders.to_pandas())


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain objects: partitions' categories differ and must concatenate."""
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def _check_partitions(orders: dd.DataFrame) -> None:
    def ids(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"order_id": pd.unique(frame["order_id"])})

    found = orders.map_partitions(ids, meta={"order_id": object}).compute()["order_id"]
    twice = found[found.duplicated()]
    if len(twice):
        raise InvalidOrderError(
            f"order {twice.iloc[0]!r} has lines in more than one partition "
            f"({len(twice)} order(s) in all); partition by order id first, e.g. "
            "orders.shuffle('order_id')"
        )
