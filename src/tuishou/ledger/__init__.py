"""The commission ledger (佣金账本): payouts frozen, released, refunded and withdrawn.

- :mod:`~tuishou.ledger.ledger`: ``Ledger`` (post, release, refund, withdraw, balances);
- :mod:`~tuishou.ledger.models`: ``LedgerPolicy``, ``Entry``, ``Balance``, ``RefundResult``;
- :mod:`~tuishou.ledger.checks`: what the ledger checks at its door;
- :mod:`~tuishou.ledger.clock`: the clock that never runs backwards, the policy in force;
- :mod:`~tuishou.ledger.bulk`: ``post_batch``, a whole batch posted in chunks (``BatchPosting``);
- :mod:`~tuishou.ledger.refunds`: refunds re-settled, never raising a payout;
- :mod:`~tuishou.ledger.store`, :mod:`~tuishou.ledger.upgrade`: the SQLite schema and its
  explicit upgrade; :mod:`~tuishou.ledger.stored`: every stored value read back, checked.

>>> from tuishou.ledger import Ledger, LedgerPolicy
"""

from tuishou.ledger.bulk import BatchPosting
from tuishou.ledger.ledger import Ledger
from tuishou.ledger.models import Balance, Entry, LedgerPolicy, PolicyChange, RefundResult

__all__ = [
    "Balance",
    "BatchPosting",
    "Entry",
    "Ledger",
    "LedgerPolicy",
    "PolicyChange",
    "RefundResult",
]
