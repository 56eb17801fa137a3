"""What every rule kind shares: the payout kinds, the payout order, rank tables, the model base.

A rule kind states its semantics once, in its own module, on *tier ranks*: a chain is the
list of its members' tier ranks, generation by generation (``ranks[g]``), where a rank is a
tier's position in ``Policy.tiers``. The per-order path gives one int per generation, the
batch engine one numpy array per generation (one entry per seller). Every rate table of a
rule is indexed by rank and ends with one more entry, 0, for "nobody".

**The sentinel of a tier-rank array is ``nobody(tiers)``, len(tiers)**, never -1 (a negative index
silently wraps around in numpy): it stands for "no member at this generation" (the chain
ended at its root) and, in the differential walk, for "no tier has raised the rate yet".
Every rate table pays 0 to it, so a walk needs no special case for a short chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from tuishou.errors import InvalidPolicyError
from tuishou.models import FrozenModel, Id
from tuishou.money import rate_units

__all__ = [
    "MAX_GENERATION",
    "PAYOUT_KINDS",
    "GenerationCount",
    "IntArray",
    "PayoutKind",
    "PolicyPart",
    "RuleBase",
    "Share",
    "Slot",
    "check_generations",
    "nobody",
    "payout_order",
    "rank_table",
]

MAX_GENERATION = 1000
"""The largest ``max_generation`` a policy may have: a chain of the seller and 1,000 uplines.

Far beyond any real plan (two or three levels are the norm; a chain that pays a thousand
levels up is a typo, or a pyramid), yet small enough that settling an order walks at most
1,001 links and a rule has at most 2,001 payout slots, well inside the batch engine's integer
widths. A larger value is refused with the limit named, rather than hanging the engine."""


def check_generations(value: int, info: ValidationInfo) -> int:
    """Refuse a count of generations (``max_generation``, ``peer_max``) above the limit.

    No order has more uplines than ``MAX_GENERATION``, so no plan pays more generations or
    more peer bonuses; the bound keeps every count the batch engine holds within its widths.
    """
    if value > MAX_GENERATION:
        raise ValueError(
            f"{info.field_name}={value} is above the limit of {MAX_GENERATION} generations; a "
            f"chain has at most {MAX_GENERATION} uplines (real plans pay two or three)"
        )
    return value


GenerationCount = Annotated[int, Field(ge=0, strict=True), AfterValidator(check_generations)]
"""A pydantic field type for a count of generations, from 0 to ``MAX_GENERATION``."""


PayoutKind = Literal[
    "seller",  # a seller rule's share (分享赚 / 自购省)
    "layer",  # a layers rule's share (一级/二级分销)
    "differential",  # the difference a member's tier rate adds in the 级差 walk
    "peer",  # the 平级 peer bonus of a differential rule
]
PAYOUT_KINDS: tuple[PayoutKind, ...] = ("seller", "layer", "differential", "peer")
"""Every payout kind, in the order of their codes in the batch engine's tables."""

IntArray = npt.NDArray[np.int64]
Share = tuple[int, PayoutKind, int]
"""A share a rule gives one chain member: (generation, kind, share in 1/10 000 of the pool)."""
Slot = tuple[int, PayoutKind, IntArray]
"""The vectorised share: (generation, kind, share in 1/10 000 per seller)."""


def nobody(tiers: Sequence[str]) -> int:
    """The tier rank that stands for "no member" (see the module docs).

    >>> nobody(("member", "mentor"))
    2
    """
    return len(tiers)


def rank_table(rates: Mapping[str, Decimal], tiers: Sequence[str]) -> tuple[int, ...]:
    """Rates by tier rank in 1/10 000, with 0 appended for "nobody" (rank ``len(tiers)``).

    >>> rank_table({"mentor": Decimal("0.65")}, ("member", "mentor"))
    (0, 6500, 0)
    """
    return (*(rate_units(rates[t]) if t in rates else 0 for t in tiers), 0)


def payout_order(generation: int, position: int, kind: PayoutKind) -> tuple[int, int, bool]:
    """The sort key of docs/domain.md §10: by generation, then the rule's position in the
    policy, a peer bonus after its rule's differential share.

    >>> sorted([(1, 0, "peer"), (1, 0, "differential"), (0, 1, "seller")],
    ...        key=lambda s: payout_order(*s))
    [(0, 1, 'seller'), (1, 0, 'differential'), (1, 0, 'peer')]
    """
    return generation, position, kind == "peer"


class PolicyPart(FrozenModel):
    """A part of a policy: invalid input raises ``InvalidPolicyError``."""

    error_class: ClassVar = InvalidPolicyError
    what: ClassVar[str] = "invalid policy"


class RuleBase(PolicyPart):
    """What every rule model has: a name (its kind unless given) and rates by tier."""

    name: Id  # defaults to the rule's kind, filled in before validation
    pays: ClassVar[tuple[PayoutKind, ...]]
    """The payout kinds the rule can pay."""

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("name") is None:
            return {**data, "name": data.get("kind")}
        return data

    def problems(self, max_generation: int) -> list[str]:
        """What is wrong with this rule in a policy paying up to ``max_generation``."""
        return []

    def tier_names(self) -> set[str]:
        """The tiers this rule names."""
        rates: Mapping[str, Any] = getattr(self, "rates")  # noqa: B009  (every rule has rates)
        return set(rates)
