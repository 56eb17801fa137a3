"""Personal volumes from a batch result: each seller's total of the orders table's ``paid``.

For analysts who settle a month with ``settle_batch`` and want per-member figures to feed
``tuishou.bonuses.team_bonus`` without the ledger (the ledger's volume journal is the
reference for posted months, docs/domain.md §20).
"""

from __future__ import annotations

import numpy as np

from tuishou.engine.tables import BatchResult

__all__ = ["personal_volumes"]


def personal_volumes(result: BatchResult) -> dict[str, int]:
    """Seller id → the sum (fen) of ``result.orders.paid`` over the orders credited to it;
    orders without a seller are left out, and so are sellers whose sum is 0.

    ``orders.paid`` is what the batch engine records per order: the part of the order's pool
    paid out (``pool == paid + retained``). The sums are exact int64 additions
    (``np.add.at``; never float weights, which lose fen past 2**53).

    >>> from tuishou.examples import example_result
    >>> example_result().orders.rows()  # (order, seller, pool, paid, retained)
    [('o1', 'A', 1000, 500, 500)]
    >>> personal_volumes(example_result())
    {'A': 500}
    """
    orders = result.orders
    members = orders.member_ids
    credited = orders.seller >= 0
    totals = np.zeros(len(members), dtype=np.int64)
    np.add.at(totals, orders.seller[credited], orders.paid[credited].astype(np.int64))
    selling = np.flatnonzero(totals).tolist()
    return dict(zip([members[i] for i in selling], totals[selling].tolist(), strict=True))
