"""Settling one order (结算): ``settle`` and its result, the ``Settlement``.

The computation (attribution, pool, chain, shares, rounding; docs/domain.md §6-§10) is in
``tuishou.settlement.compute``; the result types are in ``tuishou.settlement.results``. Both
are re-exported here, the import path to use.
"""

from tuishou.settlement.compute import resettle, seller_chain, settle, settle_chain, settle_many
from tuishou.settlement.coupons import paid_order
from tuishou.settlement.results import (
    Attribution,
    ChainLink,
    FixedShare,
    LinePool,
    Payout,
    Settlement,
    Share,
)

__all__ = [
    "Attribution",
    "ChainLink",
    "FixedShare",
    "LinePool",
    "Payout",
    "Settlement",
    "Share",
    "paid_order",
    "resettle",
    "seller_chain",
    "settle",
    "settle_chain",
    "settle_many",
]
