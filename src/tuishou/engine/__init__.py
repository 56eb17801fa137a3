"""The batch engine: many orders settled at once with numpy, to the fen of ``settle``.

- :mod:`~tuishou.engine.batch`: ``settle_batch`` and ``member_totals``;
- :mod:`~tuishou.engine.columns`, :mod:`~tuishou.engine.line_checks`: order lines as checked,
  encoded columns (dict of lists, pandas, Arrow); :mod:`~tuishou.engine.paid_at`: the
  optional ``paid_at`` column as UTC microseconds;
- :mod:`~tuishou.engine.versions`: orders grouped by the policy version in force when paid
  (``PolicyVersions``), and the groups' results merged in input order;
- :mod:`~tuishou.engine.schedule`: each distinct seller's payout slots, from the rule kinds;
- :mod:`~tuishou.engine.bulk`, :mod:`~tuishou.engine.per_line`: exact splits and rounding of
  many pools at once;
- :mod:`~tuishou.engine.tables`: the result tables (``BatchResult``, ``MemberTotals``);
- :mod:`~tuishou.engine.volumes`: ``personal_volumes``, each seller's sales (paid after the
  coupon) in a batch;
- :mod:`~tuishou.engine.dask`: ``settle_dask`` over a Dask DataFrame (extra ``dask``).

>>> from tuishou.engine import settle_batch, member_totals
"""

from tuishou.engine.batch import member_totals, settle_batch
from tuishou.engine.tables import BatchResult, MemberTotals, OrderTable, PayoutTable
from tuishou.engine.volumes import personal_volumes

__all__ = [
    "BatchResult",
    "MemberTotals",
    "OrderTable",
    "PayoutTable",
    "member_totals",
    "personal_volumes",
    "settle_batch",
]
