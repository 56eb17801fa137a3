"""tuishou (推手): exact, explainable commissions over a referral (invite) tree.

The library a membership social e-commerce platform (会员制社交电商) settles orders with:
the invite tree (``InviteTree``), commission policies (``Policy``), per-order settlement
(``settle``) and tier ladders (``TierLadder``, ``evaluate_tiers``). Money is int fen,
rates are exact decimals, and every fen of a settlement has a reason (``explain()``).

>>> import tuishou
>>> tuishou.yuan(19999)
'¥199.99'
"""

from tuishou.errors import (
    ArgumentTypeError,
    DuplicateOrderError,
    DuplicateRequestError,
    FloatRefusedError,
    InsufficientBalanceError,
    InvalidArgumentError,
    InvalidFileError,
    InvalidIdentifierError,
    InvalidInviteCodeError,
    InvalidLadderError,
    InvalidOrderError,
    InvalidPolicyError,
    InvalidTreeError,
    LedgerError,
    MigrationError,
    TuishouError,
    UnknownGroupError,
    UnknownMemberError,
    UnknownOrderError,
    UnknownTierError,
)
from tuishou.ids import check_id
from tuishou.io.policy_file import load_policy
from tuishou.ledger.ledger import Ledger
from tuishou.ledger.models import Balance, Entry, LedgerPolicy, RefundResult
from tuishou.members.records import Origin
from tuishou.migration.report import MigratedMember, MigrationReport
from tuishou.migration.team import MigrationPolicy, RosterEntry, TierMapping, migrate_team
from tuishou.money import yuan
from tuishou.orders import Order, OrderLine, order_columns
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

__all__ = [
    "ArgumentTypeError",
    "Balance",
    "ChainLink",
    "DifferentialRule",
    "DuplicateOrderError",
    "DuplicateRequestError",
    "Entry",
    "FloatRefusedError",
    "InsufficientBalanceError",
    "InvalidArgumentError",
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
    "Policy",
    "RefundResult",
    "Requirements",
    "RosterEntry",
    "SellerRule",
    "Settlement",
    "Share",
    "Tier",
    "TierChange",
    "TierLadder",
    "TierMapping",
    "TuishouError",
    "UnknownGroupError",
    "UnknownMemberError",
    "UnknownOrderError",
    "UnknownTierError",
    "apply_tier_changes",
    "check_id",
    "evaluate_tiers",
    "load_policy",
    "migrate_team",
    "order_columns",
    "replace",
    "resettle",
    "review_probation",
    "settle",
    "settle_many",
    "yuan",
]

__version__ = "0.1.0"
