"""What ``settle_batch`` returns: a payouts table and a per-order table, as numpy columns.

Text columns are kept as integer codes into their distinct values, so 10 million payouts
cost a few integer arrays; ``to_pandas()`` turns them into categorical columns and
``to_arrow()`` into dictionary arrays without materialising a string per row. When the lines'
buyer and sharer ids were ints (docs/concepts.md, "Ids as ints"), member ids come out as
int64 columns (``seller_id`` nullable where an order has no seller): int in, int out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.rulebook import PAYOUT_KINDS

__all__ = ["KINDS", "BatchResult", "MemberTotals", "OrderTable", "PayoutTable"]

IntArray = npt.NDArray[np.int64]
KINDS = PAYOUT_KINDS
"""The payout kinds by their code in ``PayoutTable.kind`` (``tuishou.rulebook.PAYOUT_KINDS``)."""


@dataclass(frozen=True, eq=False)
class PayoutTable:
    """One row per payout: order, member, rule, kind (codes), generation, amount (fen).

    ``kind`` codes index ``KINDS``. Codes in result tables use -1 for "none" (pandas' and
    Arrow's missing code), e.g. ``OrderTable.seller``; nothing else is negative.

    Rows come order by order (in the order orders first appear in the input), each order's
    payouts in the order of docs/domain.md §10 — the order of ``Settlement.payouts``.
    """

    order: IntArray
    member: IntArray
    rule: IntArray
    kind: IntArray
    generation: IntArray
    amount: IntArray
    order_ids: Sequence[Any] | npt.NDArray[Any]
    member_ids: Sequence[str] | IntArray  # int64 when the lines' member ids were ints
    rules: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.amount)

    def rows(self) -> list[tuple[Any, str, str, str, int, int]]:
        """Every row as (order_id, member_id, rule, kind, generation, amount): for small results.

        >>> from tuishou.examples import example_result
        >>> example_result().payouts.rows()
        [('o1', 'A', 'seller', 'seller', 0, 500)]
        """
        return [
            (_plain(self.order_ids[o]), _plain(self.member_ids[m]), self.rules[r], KINDS[k], g, a)
            for o, m, r, k, g, a in zip(*(c.tolist() for c in self._codes()), strict=True)
        ]

    def _codes(self) -> list[IntArray]:
        return [self.order, self.member, self.rule, self.kind, self.generation, self.amount]

    def to_pandas(self) -> Any:
        """A pandas DataFrame; text columns are categoricals over the codes (no copies).

        >>> from tuishou.examples import example_result
        >>> example_result().payouts.to_pandas().amount.tolist()
        [500]
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "order_id": _categorical(self.order, self.order_ids),
                "member_id": _members(self.member, self.member_ids, _categorical),
                "rule": _categorical(self.rule, self.rules),
                "kind": _categorical(self.kind, KINDS),
                "generation": self.generation,
                "amount": self.amount,
            }
        )

    def to_arrow(self) -> Any:
        """A pyarrow Table with dictionary-encoded text columns."""
        import pyarrow as pa

        return pa.table(
            {
                "order_id": _dictionary(self.order, self.order_ids),
                "member_id": _members(self.member, self.member_ids, _dictionary),
                "rule": _dictionary(self.rule, self.rules),
                "kind": _dictionary(self.kind, KINDS),
                "generation": self.generation,
                "amount": self.amount,
            }
        )


@dataclass(frozen=True, eq=False)
class OrderTable:
    """One row per order, in order of first appearance: seller (-1: none), pool, paid,
    retained, all in fen; ``pool == paid + retained``. Settled under ``PolicyVersions``,
    ``version`` holds each order's version as a code into ``versions`` (their names), shown
    as the column ``policy_version``; with a plain Policy it is None."""

    order: IntArray
    seller: IntArray
    pool: IntArray
    paid: IntArray
    retained: IntArray
    order_ids: Sequence[Any] | npt.NDArray[Any]
    member_ids: Sequence[str] | IntArray  # int64 when the lines' member ids were ints
    version: IntArray | None = None
    versions: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.order)

    def rows(self) -> list[tuple[Any, ...]]:
        """Every row as (order_id, seller_id, pool, paid, retained), and the version's name
        when settled under versions: for small results.

        >>> from tuishou.examples import example_result
        >>> example_result().orders.rows()
        [('o1', 'A', 1000, 500, 500)]
        """
        rows: list[tuple[Any, ...]] = [
            (_plain(self.order_ids[o]), _plain(self.member_ids[s]) if s >= 0 else None, p, d, r)
            for o, s, p, d, r in zip(
                self.order.tolist(),
                self.seller.tolist(),
                self.pool.tolist(),
                self.paid.tolist(),
                self.retained.tolist(),
                strict=True,
            )
        ]
        if self.version is None:
            return rows
        names = [self.versions[v] for v in self.version.tolist()]
        return [(*row, name) for row, name in zip(rows, names, strict=True)]

    def _columns(self, text: Any) -> dict[str, Any]:
        columns = {
            "order_id": text(self.order, self.order_ids),
            "seller_id": _members(self.seller, self.member_ids, text, nullable=True),
            "pool": self.pool,
            "paid": self.paid,
            "retained": self.retained,
        }
        if self.version is not None:
            columns["policy_version"] = text(self.version, self.versions)
        return columns

    def to_pandas(self) -> Any:
        """A pandas DataFrame with categorical order and seller ids (and policy versions)."""
        import pandas as pd

        return pd.DataFrame(self._columns(_categorical))

    def to_arrow(self) -> Any:
        """A pyarrow Table with dictionary-encoded ids (and policy versions)."""
        import pyarrow as pa

        return pa.table(self._columns(_dictionary))


@dataclass(frozen=True, eq=False)
class BatchResult:
    """``payouts`` (one row per payout) and ``orders`` (one row per order)."""

    payouts: PayoutTable
    orders: OrderTable

    @property
    def paid(self) -> int:
        """Everything paid, in fen."""
        return int(self.payouts.amount.sum())

    @property
    def pool(self) -> int:
        """Every order's pool together, in fen."""
        return int(self.orders.pool.sum())


@dataclass(frozen=True, eq=False)
class MemberTotals:
    """Fen earned per member (members who earn nothing are left out), by tree index."""

    member: IntArray
    amount: IntArray
    member_ids: Sequence[str] | IntArray  # int64 when the lines' member ids were ints

    def __len__(self) -> int:
        return len(self.member)

    def rows(self) -> list[tuple[Any, int]]:
        """Every row as (member_id, amount): for small results."""
        return [
            (_plain(self.member_ids[m]), a)
            for m, a in zip(self.member.tolist(), self.amount.tolist(), strict=True)
        ]

    def to_pandas(self) -> Any:
        """A pandas DataFrame (member_id as a categorical, amount in fen)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "member_id": _members(self.member, self.member_ids, _categorical),
                "amount": self.amount,
            }
        )


def _members(
    codes: IntArray, ids: Sequence[str] | IntArray, text: Any, *, nullable: bool = False
) -> Any:
    """A member column: int64 for int ids, else ``text``. A ``nullable`` column (an order's
    seller, -1 for none) is pandas' Arrow-backed int64 whether or not this batch has a null,
    so batches and Dask partitions agree on its dtype."""
    if not isinstance(ids, np.ndarray):
        return text(codes, ids)
    import pyarrow as pa

    values = pa.array(ids[np.maximum(codes, 0)], mask=codes < 0, type=pa.int64())
    if text is _dictionary:
        return values
    if not nullable:
        return ids[codes]
    import pandas as pd

    return pd.array(values, dtype=pd.ArrowDtype(pa.int64()))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _categorical(codes: IntArray, values: Sequence[Any] | npt.NDArray[Any]) -> Any:
    import pandas as pd

    return pd.Categorical.from_codes(codes, categories=pd.Index(list(values)))


def _dictionary(codes: IntArray, values: Sequence[Any] | npt.NDArray[Any]) -> Any:
    import pyarrow as pa

    mask = codes < 0
    indices = pa.array(np.where(mask, 0, codes), mask=mask) if mask.any() else pa.array(codes)
    return pa.DictionaryArray.from_arrays(indices, _arrow_values(values))


_ARROW_VALUES: list[tuple[Any, Any]] = []  # the last (values, Arrow array) converted


def _arrow_values(values: Sequence[Any] | npt.NDArray[Any]) -> Any:
    """``values`` as an Arrow array: numpy arrays without a copy, and the last list converted
    kept (the tree's member ids, a million strings, are the same list in every result of a
    tree; converting them again cost as much as settling a million lines)."""
    import pyarrow as pa

    if isinstance(values, np.ndarray):
        return pa.array(values)
    for seen, converted in _ARROW_VALUES:
        if seen is values:  # held here, so its id cannot be reused by another list
            return converted
    converted = pa.array(values, type=None if len(values) else pa.string())  # none: text ids
    if len(values) >= _KEEP_FROM:
        _ARROW_VALUES[:] = [(values, converted)]
    return converted


_KEEP_FROM = 10_000  # shorter lists convert faster than they are worth keeping
