"""Rounding exact amounts to whole fen: every rounding rule of tuishou, stated once.

The rules are those of docs/domain.md §10 (settling an order) and §12 (refunds, withdrawal
fees). Each is written here once, in scalar form (Python ints: ``settle`` and the ledger) and,
beside it, in vectorised form (int64 numpy arrays: the batch engine). The engine keeps only
*layouts* (how its arrays are expanded, chunked and summed); what is rounded, and how, comes
from here.

Nothing here is inexact: an exact pool is an int in 1/10 000 fen (``POOL_SCALE``: an amount
in fen times a rate in basis points), an exact payout an int in 1/10^8 fen (``SHARE_SCALE``:
a pool times a share in basis points).

The closed sets, used end to end (``Policy``, the engine, the ledger):

- ``Rounding``, the policy's ``rounding``:

  - ``largest_remainder``: the total (a pool, or what an order pays) is rounded
    half-to-even; every amount gets its floor, and the fen still missing go one each to the
    largest fractional parts, ties to the earlier amount in payout order. The rounded
    amounts always add up to the rounded total (``allocate`` / ``allocate_items``);
  - ``floor``: every amount, and the pool, is rounded down on its own;
  - ``half_up`` (dub): the pool is rounded half up, and so is every amount on its own; when
    the rounded amounts add up to more than the rounded pool, one fen at a time is taken back
    from the amount whose rounding gained most (rounded − exact largest), ties to the later
    amount in payout order, until they add up to the pool (``allocate``, ``trim_half_up``).

- ``RoundingScope``, the policy's ``rounding_scope``: ``order`` rounds each order's pool and
  payouts once; ``line`` rounds each line's, and an order's pool and a member's payout are
  the sums of the rounded lines (``round_order`` / ``scope_items`` and ``scope_pools``).
- ``FeeRounding``, the ledger's ``fee_rounding``: a withdrawal fee rounded ``up`` or
  ``half_up`` (``round_fee``).

An order coupon is spread over its eligible lines in proportion to their amounts by largest
remainder, ties to the earlier line (``spread`` / ``spread_items``): the lines' shares add up
to the coupon exactly.

A refund keeps ``amount × left ÷ quantity`` fen of a partly refunded line, rounded down
(``prorate``); what is left is then settled again, rounded as above.
"""

from tuishou.rounding.amounts import FeeRounding, prorate, round_fee, spread, spread_items
from tuishou.rounding.settling import (
    MAX_ITEMS,
    POOL_SCALE,
    SHARE_SCALE,
    Rounded,
    Rounding,
    RoundingScope,
    allocate,
    allocate_items,
    each_alone,
    floor_split,
    half_up,
    round_half_even,
    round_order,
    round_pools,
    round_split,
    round_total,
    scope_items,
    scope_pools,
    split,
    trim_half_up,
)

__all__ = [
    "MAX_ITEMS",
    "POOL_SCALE",
    "SHARE_SCALE",
    "FeeRounding",
    "Rounded",
    "Rounding",
    "RoundingScope",
    "allocate",
    "allocate_items",
    "each_alone",
    "floor_split",
    "half_up",
    "prorate",
    "round_fee",
    "round_half_even",
    "round_order",
    "round_pools",
    "round_split",
    "round_total",
    "scope_items",
    "scope_pools",
    "split",
    "spread",
    "spread_items",
    "trim_half_up",
]
