"""The rule book: each rule kind's semantics, written once (docs/domain.md §7-§10).

One module per rule kind holds, side by side, its pydantic model (what a policy file says,
its budget and its largest share per tier) and its integer form, with the per-chain shares
:func:`tuishou.settle` uses and the vectorised slots the batch engine uses. Changing a
rule's semantics means editing its one module:

- :mod:`~tuishou.rulebook.seller`: 分享赚 / 自购省, the seller's share;
- :mod:`~tuishou.rulebook.layers`: 一级/二级分销, a share per generation above the seller;
- :mod:`~tuishou.rulebook.differential`: 级差 and its 平级 peer bonus;
- :mod:`~tuishou.rulebook.pools`: the pool-rate lookup of a line, scalar and vectorised;
- :mod:`~tuishou.rulebook.brackets`: quantity brackets (阶梯佣金) of a rate or a fixed schedule;
- :mod:`~tuishou.rulebook.fixed`: fixed amounts per unit (固定佣金), walked by the rule kinds'
  own walks on tables of fen;
- :mod:`~tuishou.rulebook.base`: the payout kinds, the payout order and the tier-rank tables
  (with their one "no member" sentinel) every kind shares.

``tuishou.rules`` re-exports the rule models beside ``Policy``.

>>> from tuishou.rulebook import PAYOUT_KINDS
>>> PAYOUT_KINDS
('seller', 'layer', 'differential', 'peer')
"""

from tuishou.rulebook.base import PAYOUT_KINDS, PayoutKind, payout_order
from tuishou.rulebook.differential import DifferentialRule, DifferentialUnits
from tuishou.rulebook.layers import LayersRule, LayersUnits
from tuishou.rulebook.pools import NO_RATE, RateFrom, pool_rate, pool_rates
from tuishou.rulebook.seller import SellerRule, SellerUnits

RuleUnits = SellerUnits | LayersUnits | DifferentialUnits
"""A rule in integer units: what settlement and the batch engine run on."""

__all__ = [
    "NO_RATE",
    "PAYOUT_KINDS",
    "DifferentialRule",
    "DifferentialUnits",
    "LayersRule",
    "LayersUnits",
    "PayoutKind",
    "RateFrom",
    "RuleUnits",
    "SellerRule",
    "SellerUnits",
    "payout_order",
    "pool_rate",
    "pool_rates",
]
