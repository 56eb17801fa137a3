"""The commission ledger (佣金账本): payouts frozen, released, refunded and withdrawn.

- :mod:`~tuishou.ledger.ledger`: ``Ledger`` (post, release, refund, withdraw, balances);
- :mod:`~tuishou.ledger.models`: ``LedgerPolicy``, ``Entry``, ``Balance``, ``RefundResult``;
- :mod:`~tuishou.ledger.checks`: what the ledger checks at its door;
- :mod:`~tuishou.ledger.clock`: the clock that never runs backwards, the policy in force;
- :mod:`~tuishou.ledger.bulk`: ``post_batch``, a whole batch posted in chunks (``BatchPosting``);
- :mod:`~tuishou.ledger.refunds`: refunds re-settled, never raising a payout;
- :mod:`~tuishou.ledger.refund_lines`: each line's refund state (by units and by amount);
- :mod:`~tuishou.ledger.ledger_bindings`: customer bindings kept in the ledger (``bind``,
  ``record_bindings``, ``bindings``), their rows in :mod:`~tuishou.ledger.binding_store`;
- :mod:`~tuishou.ledger.withdrawals`: the checks of every withdrawal, one-step ``withdraw``;
  :mod:`~tuishou.ledger.review`: withdrawal review (提现审核: request, approve, pay, reject);
  :mod:`~tuishou.ledger.withdrawal_models`: ``Withdrawal`` and its states;
  :mod:`~tuishou.ledger.fees`: the withdrawal fee rule and its fee period;
- :mod:`~tuishou.ledger.periods`: closing a period (月结); :mod:`~tuishou.ledger.statements`:
  members' statements (对账单) summed in SQL; :mod:`~tuishou.ledger.statement_models`:
  ``Period``, ``Statement``, ``PeriodClose``; ``statement_text``: statements as text and HTML;
- :mod:`~tuishou.ledger.volumes`: the volume journal (业绩) and a period's personal volumes
  (``PeriodVolumes``, ``VolumeAdjustment``);
- :mod:`~tuishou.ledger.bonus_runs`: a period plan's result posted (its run, lines, bonus
  entries, tier reviews), ``Ledger.record_plan`` in :mod:`~tuishou.ledger.ledger_bonuses`,
  ``PlanRun``, ``BonusLine``, ``TierEvent`` in :mod:`~tuishou.ledger.bonus_models`;
- :mod:`~tuishou.ledger.queries`: balances of all members and entries paged, in SQL;
- :mod:`~tuishou.ledger.database`: where a ledger lives (a path, a URL, an Engine, a
  Connection); :mod:`~tuishou.ledger.schema`: its tables (SQLAlchemy Core);
  :mod:`~tuishou.ledger.versions` and ``migrations``: creating and upgrading the schema
  (Alembic); :mod:`~tuishou.ledger.store`: rows read and written under the write lock;
  :mod:`~tuishou.ledger.sums`: balances summed by the database;
  :mod:`~tuishou.ledger.stored`: every stored value read back, checked;
  :mod:`~tuishou.ledger.upgrade`: the explicit upgrade of a schema-1 file.

>>> from tuishou.ledger import Ledger, LedgerPolicy
"""

from tuishou.ledger.bonus_models import BonusLine, PlanRun, TierEvent
from tuishou.ledger.bulk import BatchPosting
from tuishou.ledger.database import sqlite_engine
from tuishou.ledger.ledger import Ledger
from tuishou.ledger.models import Balance, Entry, LedgerPolicy, PolicyChange, RefundResult
from tuishou.ledger.statement_models import Period, PeriodClose, Statement, StatementLine
from tuishou.ledger.volumes import PeriodVolumes, VolumeAdjustment
from tuishou.ledger.withdrawal_models import Withdrawal, WithdrawalState

__all__ = [
    "Balance",
    "BatchPosting",
    "BonusLine",
    "Entry",
    "Ledger",
    "LedgerPolicy",
    "Period",
    "PeriodClose",
    "PeriodVolumes",
    "PlanRun",
    "PolicyChange",
    "RefundResult",
    "Statement",
    "StatementLine",
    "TierEvent",
    "VolumeAdjustment",
    "Withdrawal",
    "WithdrawalState",
    "sqlite_engine",
]
