"""Personal volumes (个人业绩) from a batch: what buyers paid for each seller's orders.

A member's personal volume is the paid amount, after the order coupon, of the orders
credited to it as seller (docs/domain.md §20). ``settle_batch``'s result knows each order's
seller but not what the buyer paid (its ``orders.paid`` is the *commission* paid out of the
order's pool), so :func:`personal_volumes` reads the same order lines again for the amounts.
For analysts who settle a month with ``settle_batch`` and want per-member figures to feed
``tuishou.bonuses.team_bonus`` without the ledger (the ledger's volume journal is the
reference for posted months).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.engine.bulk import exact_sum
from tuishou.engine.columns import LineColumns, read_lines
from tuishou.engine.coupons import paid_amounts
from tuishou.engine.line_checks import plain
from tuishou.engine.tables import BatchResult, OrderTable
from tuishou.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["personal_volumes"]

IntArray = npt.NDArray[np.int64]
_MAX_SUM = 2**63 - 1  # what one int64 total holds
_SHOWN = 3  # order ids named in a refusal
_AGAIN = (
    "pass the order lines the result was settled from (the same mapping, DataFrame, Arrow "
    "table or LineColumns given to settle_batch)"
)


def personal_volumes(result: BatchResult, orders: Any) -> dict[str, int]:
    """Seller id → the paid amount (fen, after each order's coupon) of the orders the batch
    credited to it; orders without a seller are left out, and so are sellers whose sum is 0.

    ``orders`` is the order-line input ``result`` was settled from (a mapping of columns, a
    pandas DataFrame, a pyarrow Table, or the ``LineColumns`` of ``engine.columns.read_lines``,
    which is not read again); a plain ``Policy`` or ``PolicyVersions`` alike. Each line pays
    its amount less its share of its order's coupon (``engine.coupons.paid_amounts``, as the
    engine computes pools); each order's seller is the result's. The sums are exact int64
    additions (``np.add.at``; never float weights, which lose fen past 2**53).

    Raises ``ArgumentTypeError`` when ``result`` is not a ``BatchResult``,
    ``InvalidArgumentError`` when the lines' order ids are not the result's (an order either
    side lacks, named) or their amounts add up past 2**63 − 1 fen, and what ``read_lines``
    raises on invalid lines.

    Sales, not commission: o1 paid 10,000 fen less a 1,000 fen coupon, its pool and the
    commission paid out of it are much smaller; o2 has no seller.

    >>> from tuishou import InviteTree
    >>> from tuishou.engine import settle_batch
    >>> from tuishou.examples import example_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> lines = {"order_id": ["o1", "o1", "o2"], "sharer_id": ["A", "A", None],
    ...          "sku": ["s", "t", "s"], "group": ["g"] * 3, "amount": [6000, 4000, 999],
    ...          "coupon": [1000, 1000, None]}
    >>> result = settle_batch(example_policy(), tree, lines)
    >>> result.orders.rows()  # (order, seller, pool, paid, retained)
    [('o1', 'A', 900, 450, 450), ('o2', None, 100, 0, 100)]
    >>> personal_volumes(result, lines)
    {'A': 9000}
    """
    if not isinstance(result, BatchResult):
        raise ArgumentTypeError(
            f"personal_volumes(result, orders) takes settle_batch's BatchResult, not a "
            f"{type(result).__name__}"
        )
    lines = read_lines(orders)
    table = result.orders
    seller = _sellers_by_code(table, lines)[lines.order.codes]
    paid = paid_amounts(lines.amount, lines.order.codes, lines.coupon, lines.coupon_eligible)
    total = exact_sum(paid)
    if total > _MAX_SUM:  # settle_batch refuses such a batch; a crafted LineColumns is not
        raise InvalidArgumentError(
            f"the {lines.size} order lines paid {total} fen together, above the {_MAX_SUM} "
            "fen an int64 sum holds; compute the volumes of smaller batches and add them"
        )
    credited = seller >= 0
    totals = np.zeros(len(table.member_ids), dtype=np.int64)
    np.add.at(totals, seller[credited], paid[credited])
    selling = np.flatnonzero(totals).tolist()
    members = table.member_ids
    return dict(zip([members[i] for i in selling], totals[selling].tolist(), strict=True))


def _sellers_by_code(table: OrderTable, lines: LineColumns) -> IntArray:
    """Each order's seller (tree index, -1: none) by the lines' order codes.

    The usual case, the same input read again, encodes the orders as the result did: the
    codes are used as they are. Otherwise the lines' orders are found by id."""
    seller = np.full(len(table.order_ids), -1, dtype=np.int64)
    seller[table.order] = table.seller
    if _same_ids(table.order_ids, lines.order.values):
        return seller
    return seller[_result_codes(table.order_ids, lines.order.values)]


def _same_ids(
    ids: Sequence[Any] | npt.NDArray[Any], given: Sequence[Any] | npt.NDArray[Any]
) -> bool:
    if ids is given:
        return True
    if len(ids) != len(given):
        return False
    if isinstance(ids, np.ndarray) and isinstance(given, np.ndarray):
        return bool(np.array_equal(ids, given))
    if isinstance(ids, np.ndarray) or isinstance(given, np.ndarray):
        return False  # int order ids on one side only (ids as text on the other)
    return list(ids) == list(given)


def _result_codes(
    ids: Sequence[Any] | npt.NDArray[Any], given: Sequence[Any] | npt.NDArray[Any]
) -> IntArray:
    """The result's code of each of the lines' order ids (``given``); refused unless both
    name the same orders."""
    position = {plain(value): code for code, value in enumerate(ids)}
    codes = np.array([position.get(plain(value), -1) for value in given], dtype=np.int64)
    unknown = [plain(given[i]) for i in np.flatnonzero(codes < 0)[:_SHOWN].tolist()]
    if unknown:
        raise InvalidArgumentError(
            f"orders hold order ids the batch result does not, e.g. {unknown}; {_AGAIN}"
        )
    if len(codes) != len(ids):  # every given id found, each once: the result has more
        found = np.zeros(len(ids), dtype=bool)
        found[codes] = True
        missing = [plain(ids[i]) for i in np.flatnonzero(~found)[:_SHOWN].tolist()]
        raise InvalidArgumentError(
            f"orders lack orders of the batch result, e.g. {missing}; {_AGAIN}"
        )
    return codes
