"""What settling an order gives (结算结果): the ``Settlement`` and the parts it is made of.

A ``Settlement`` holds the seller and how it was credited (``Attribution``), each line's part
of the pool (``LinePool``), the chain (``ChainLink``), every rule's share of the pool
(``Share``) and the payouts rounded to the fen (``Payout``). ``tuishou.settlement.compute``
builds them; ``exact_fen`` writes an exact int amount as a Decimal, digit for digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from tuishou.bindings import Binding
from tuishou.explain import explain
from tuishou.money import RATE_PLACES
from tuishou.rulebook import PayoutKind, RateFrom
from tuishou.rules import Policy
from tuishou.tree import Status

__all__ = [
    "Attribution",
    "ChainLink",
    "FixedShare",
    "LinePool",
    "Payout",
    "Settlement",
    "Share",
    "exact_fen",
]

Attribution = Literal[
    "sharer",  # the order came through the seller's share link
    "self_purchase",  # a member bought for itself and the policy pays self-purchases
    "buyer_inviter",  # a member bought; its inviter is credited with the sale
    "none",  # a guest or root buyer without a sharer: nobody is paid
    "binding",  # no share link; the buyer is bound to the seller (锁粉, docs/domain.md §16)
]


@dataclass(frozen=True, slots=True)
class Payout:
    """What one rule pays one member for one order: ``amount`` in fen, ``exact`` before rounding.

    ``share`` is the member's share of the pool under that rule; ``fixed`` the part of
    ``amount`` that fixed amounts pay (docs/domain.md §17: whole fen, never rounded).
    """

    member_id: str
    rule: str
    kind: PayoutKind
    generation: int
    amount: int
    exact: Decimal
    share: Decimal
    fixed: int = 0


@dataclass(frozen=True, slots=True)
class FixedShare:
    """What a rule's fixed schedule gives a chain member on one line (docs/domain.md §17):
    ``per_unit`` fen × ``units``; ``paid`` is False when it was forfeited (suspended).
    ``line`` is the line's position in the order (0-based)."""

    line: int
    member_id: str
    rule: str
    kind: PayoutKind
    generation: int
    per_unit: int
    units: int
    paid: bool

    @property
    def amount(self) -> int:
        """The amount in fen: ``per_unit × units``."""
        return self.per_unit * self.units


@dataclass(frozen=True, slots=True)
class Share:
    """A share of the pool a rule gave a chain member; ``paid`` is False when it was forfeited.

    ``units`` is the share in 1/10 000 of the pool; ``share`` the same as a Decimal.
    """

    member_id: str
    rule: str
    kind: PayoutKind
    generation: int
    units: int
    paid: bool

    @property
    def share(self) -> Decimal:
        """The share of the pool, e.g. Decimal('0.15')."""
        return exact_fen(self.units, RATE_PLACES)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """A member on the seller's upline; ``generation`` is None when compression skipped it."""

    member_id: str
    tier: str
    status: Status
    generation: int | None


@dataclass(frozen=True, slots=True)
class LinePool:
    """One order line's part of the pool: ``exact`` in fen; ``rounded`` when rounding per line.

    ``quantity`` units are settled, of ``bought`` bought (the quantity that chose the
    bracket ``bracket``, the ``from`` of the bracket used, None without brackets). A fixed
    line (``rate_from == "fixed"``, rate 0) has ``fixed``: the fixed amounts its chain earns,
    forfeited ones included, which are its part of the pool (docs/domain.md §17).
    ``amount`` is what the line paid after its share of the order's coupon, ``discount``
    that share (fen; the listed amount is their sum).
    """

    sku: str
    group: str
    amount: int
    rate: Decimal
    rate_from: RateFrom
    exact: Decimal
    rounded: int | None
    # What was bought is told, not compared: two settlements that pay the same are equal
    # (the ledger checks a posted settlement against its order this way). Quantities that
    # change the money change ``fixed``, ``bracket`` or ``rate``, which are compared.
    quantity: int = field(default=1, compare=False)
    bought: int = field(default=1, compare=False)
    fixed: int = 0
    bracket: int | None = None
    discount: int = 0


@dataclass(frozen=True, slots=True)
class Settlement:
    """The result of settling one order: who gets what, and what the platform keeps.

    ``pool == sum(p.amount for p in payouts) + retained`` always holds. ``own_link`` names
    the buyer when the order came through the buyer's own share link (treated as no link).
    ``version`` names the policy version used when settling under ``PolicyVersions`` (None
    under a plain ``Policy``), ``version_from`` the time that version took effect.
    ``binding`` is the customer binding that credited the seller (attribution ``binding``).
    """

    order_id: str
    seller_id: str | None
    pool: int
    payouts: tuple[Payout, ...]
    retained: int
    attribution: Attribution
    policy: Policy
    lines: tuple[LinePool, ...]
    chain: tuple[ChainLink, ...]
    shares: tuple[Share, ...]
    own_link: str | None = None
    version: str | None = None
    version_from: datetime | None = None
    binding: Binding | None = None
    fixed_shares: tuple[FixedShare, ...] = ()

    @property
    def policy_name(self) -> str:
        """The name of the policy the order was settled under."""
        return self.policy.name

    @property
    def paid(self) -> int:
        """The total paid to members, in fen."""
        return sum(payout.amount for payout in self.payouts)

    def amount_for(self, member_id: str) -> int:
        """What this order pays ``member_id`` under every rule together, in fen."""
        return sum(p.amount for p in self.payouts if p.member_id == member_id)

    def explain(self) -> str:
        """A readable account of the order, for support staff to paste to a member."""
        return explain(self)


def exact_fen(units: int, places: int) -> Decimal:
    """``units / 10**places`` as a Decimal without trailing zeros (4497.4, not 4497.40000000),
    exact however many digits: built from the digits, not computed in a Decimal context.

    >>> exact_fen(44974000, 4), exact_fen(12000, 0), exact_fen(10**40 + 5, 8)
    (Decimal('4497.4'), Decimal('12000'), Decimal('100000000000000000000000000000000.00000005'))
    """
    while places > 0 and units % 10 == 0:
        units, places = units // 10, places - 1
    return Decimal(units) if places == 0 else Decimal(f"{units}E-{places}")
