"""tuishou (推手): exact, explainable commissions over a referral (invite) tree.

The library a membership social e-commerce platform (会员制社交电商) settles orders with:
the invite tree (``InviteTree``), commission policies (``Policy``) and their versions by
date (``PolicyVersions``), customer bindings (``Bindings``, ``bind``), per-order settlement
(``settle``) and tier ladders (``TierLadder``, ``evaluate_tiers``). Money is int fen, rates
are exact decimals, and every fen of a settlement has a reason (``explain()``).

Many orders at once: ``settle_batch`` and ``member_totals`` (the batch engine), and
``compare`` for what-if studies; these three are imported on first use, so ``import tuishou``
stays light. The subpackages group the rest by concept: ``engine``, ``ledger``,
``migration``, ``analysis``, ``io``, ``cli`` and ``testing`` (see docs/architecture.md).

>>> import tuishou
>>> tuishou.yuan(19999)
'¥199.99'
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from tuishou.bindings import Binding, BindingEvent, BindingRule, Bindings, bind, share_events
from tuishou.errors import (
    ArgumentTypeError,
    DuplicateOrderError,
    DuplicateRequestError,
    FloatRefusedError,
    InsufficientBalanceError,
    InvalidArgumentError,
    InvalidBindingError,
    InvalidFileError,
    InvalidIdentifierError,
    InvalidInviteCodeError,
    InvalidLadderError,
    InvalidOrderError,
    InvalidPolicyError,
    InvalidTreeError,
    LedgerError,
    MigrationError,
    ProblemsError,
    TuishouError,
    UnknownGroupError,
    UnknownMemberError,
    UnknownOrderError,
    UnknownTierError,
)
from tuishou.ids import check_id
from tuishou.io.policy_file import load_policy
from tuishou.io.policy_versions_file import load_policy_or_versions, load_policy_versions
from tuishou.ledger.bulk import BatchPosting
from tuishou.ledger.ledger import Ledger
from tuishou.ledger.models import Balance, Entry, LedgerPolicy, RefundResult
from tuishou.ledger.statement_models import Period, Statement
from tuishou.ledger.withdrawal_models import Withdrawal
from tuishou.members.records import Origin
from tuishou.migration.report import MigratedMember, MigrationReport
from tuishou.migration.team import MigrationPolicy, RosterEntry, TierMapping, migrate_team
from tuishou.money import yuan
from tuishou.orders import Coupon, Order, OrderLine, order_columns
from tuishou.policy_versions import PolicyVersion, PolicyVersions
from tuishou.rules import DifferentialRule, LayersRule, Policy, SellerRule, replace
from tuishou.settlement import (
    ChainLink,
    LinePool,
    Payout,
    Settlement,
    Share,
    resettle,
    settle,
    settle_many,
)
from tuishou.settlement.coupons import paid_order
from tuishou.tiers import (
    Requirements,
    Tier,
    TierChange,
    TierLadder,
    apply_tier_changes,
    evaluate_tiers,
    review_probation,
)
from tuishou.tree import InviteTree

if _TYPE_CHECKING:
    from tuishou.analysis.compare import compare
    from tuishou.engine.batch import member_totals, settle_batch

# Imported on first use (PEP 562): the batch engine and the analysis are larger than the core.
_LAZY = {
    "compare": "tuishou.analysis.compare",
    "member_totals": "tuishou.engine.batch",
    "settle_batch": "tuishou.engine.batch",
}

__all__ = [
    "ArgumentTypeError",
    "Balance",
    "BatchPosting",
    "Binding",
    "BindingEvent",
    "BindingRule",
    "Bindings",
    "ChainLink",
    "Coupon",
    "DifferentialRule",
    "DuplicateOrderError",
    "DuplicateRequestError",
    "Entry",
    "FloatRefusedError",
    "InsufficientBalanceError",
    "InvalidArgumentError",
    "InvalidBindingError",
    "InvalidFileError",
    "InvalidIdentifierError",
    "InvalidInviteCodeError",
    "InvalidLadderError",
    "InvalidOrderError",
    "InvalidPolicyError",
    "InvalidTreeError",
    "InviteTree",
    "LayersRule",
    "Ledger",
    "LedgerError",
    "LedgerPolicy",
    "LinePool",
    "MigratedMember",
    "MigrationError",
    "MigrationPolicy",
    "MigrationReport",
    "Order",
    "OrderLine",
    "Origin",
    "Payout",
    "Period",
    "Policy",
    "PolicyVersion",
    "PolicyVersions",
    "ProblemsError",
    "RefundResult",
    "Requirements",
    "RosterEntry",
    "SellerRule",
    "Settlement",
    "Share",
    "Statement",
    "Tier",
    "TierChange",
    "TierLadder",
    "TierMapping",
    "TuishouError",
    "UnknownGroupError",
    "UnknownMemberError",
    "UnknownOrderError",
    "UnknownTierError",
    "Withdrawal",
    "apply_tier_changes",
    "bind",
    "check_id",
    "compare",
    "evaluate_tiers",
    "load_policy",
    "load_policy_or_versions",
    "load_policy_versions",
    "member_totals",
    "migrate_team",
    "order_columns",
    "paid_order",
    "replace",
    "resettle",
    "review_probation",
    "settle",
    "settle_batch",
    "settle_many",
    "share_events",
    "yuan",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # the next lookup is an ordinary one
        return value
    raise AttributeError(f"module 'tuishou' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
