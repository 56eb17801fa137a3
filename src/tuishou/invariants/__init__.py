"""The invariants of a settlement (docs/domain.md §14) as code: what tuishou promises of an order.

``check_settlement(policy, tree, order, settlement)`` checks them in the order below and raises
an ``InvariantError`` (an ``AssertionError``) for the first that fails, naming the invariant,
the order and the numbers:

- ``inputs``: the settlement is of this order (its id) under this policy;
- ``amounts``: every payout is a whole number of fen above 0 (payouts of 0 are left out);
- ``pool``: the pool is Σ line amount × pool rate, rounded once the policy's way (docs/domain.md §7,
  §10);
- ``conservation``: Σ payouts + retained = pool, to the fen;
- ``retained``: retained ≥ 0;
- ``max_generation``: nobody beyond ``max_generation`` is paid;
- ``suspended``: suspended members are never paid;
- ``chain``: the seller is the one §3 credits (with ``bindings``: the member bound at
  ``paid_at``, and the settlement names that binding), and every payee is the chain member
  at its generation (the seller, then its uplines, suspended ones skipped under
  ``compression``);
- ``rules``: every payout names a rule of the policy and a kind that rule pays;
- ``peer_max``: a differential rule pays at most ``peer_max`` peer bonuses (平级) per order;
- ``budget``: each rule pays at most its largest share of the pool, and all rules together
  at most the policy's budget (≤ 1);
- ``rounding``: each payout is its exact share of the pool rounded once: ``floor`` never
  rounds up and is short by less than a fen per rounding (one per order, or one per line with
  ``rounding_scope = "line"``); ``largest_remainder`` pays the exact total rounded
  half-to-even; ``half_up`` pays each share rounded half up, trimmed to the rounded pool;
- ``deterministic``: settling the same input again gives the same settlement, bit for bit;
- ``line_order``: listing the lines (as paid, after the coupon) the other way round changes
  nothing;
- ``refund``: re-settling what remains after a refund of the last line, on the recorded chain
  (``resettle``), gives the settlement of the remaining order.

The tree must be the one the order was settled on: the checks read the chain from it. Each
check settles the order a few more times, so it costs a handful of ``settle`` calls.
"""

from tuishou.invariants.checks import INVARIANTS, check_settlement

__all__ = ["INVARIANTS", "check_settlement"]
