"""Commission policies (佣金规则): what share of an order's pool each member in the chain gets.

Glossary (docs/domain.md §7-§10):

- **pool** (佣金池): each line's paid amount × its pool rate (``sku_rates`` before
  ``group_rates``), summed over the order.
- **chain**: the seller (generation 0), its inviter (generation 1), ... up to
  ``max_generation``.
- **rule**: gives chain members a *share of the pool*. Three kinds, each with its semantics
  in one module of :mod:`tuishou.rulebook` (re-exported here):

  - ``seller`` (分享赚 / 自购省): the seller gets ``rates[tier]``;
  - ``layers`` (一级/二级分销): generation g ≥ 1 gets ``rates[tier][g - 1]``;
  - ``differential`` (级差, with the optional 平级 peer bonus): walking up the chain,
    a member whose tier rate beats what was paid so far gets the difference; a member
    of the same tier as the last one who raised it gets ``peer_rate``, at most
    ``peer_max`` times per order.

- **budget**: the largest share a policy could pay for one order; it must be ≤ 1.

A policy is validated when it is built and never changes afterwards. To try a variant,
use ``replace(policy, field=value, ...)``, which validates the copy like a new policy
(``model_copy(update=...)`` would skip validation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, ModelWrapValidatorHandler, ValidationError, model_validator

from tuishou.bonuses.models import PeriodPlan, plan_problems
from tuishou.errors import ArgumentTypeError, InvalidPolicyError, did_you_mean
from tuishou.ids import id_problems
from tuishou.models import FrozenMap, Problems, located_problems
from tuishou.money import Rate, rate_units
from tuishou.rounding import Rounding, RoundingScope
from tuishou.rulebook import DifferentialRule, LayersRule, RuleUnits, SellerRule
from tuishou.rulebook.base import MAX_GENERATION, GenerationCount, PolicyPart
from tuishou.rulebook.brackets import Located, RateOrBrackets
from tuishou.rulebook.fixed import FixedEntry, FixedTable, fixed_problems, fixed_table
from tuishou.rulebook.pools import SkuBrackets, line_rate, sku_brackets

__all__ = [
    "MAX_GENERATION",
    "DifferentialRule",
    "LayersRule",
    "Policy",
    "PolicyUnits",
    "Rule",
    "SellerRule",
    "replace",
]

Name = Annotated[str, Field(min_length=1, strict=True)]


Rule = Annotated[SellerRule | LayersRule | DifferentialRule, Field(discriminator="kind")]


class Policy(PolicyPart):
    """A commission policy: tiers, pool rates, rules and how to round.

    >>> policy = Policy.model_validate({
    ...     "name": "two-level", "tiers": ["member"], "group_rates": {"all": "1"},
    ...     "rules": [{"kind": "seller", "rates": {"member": "0.05"}},
    ...               {"kind": "layers", "rates": {"member": ["0.02"]}}],
    ... })
    >>> policy.budget(), [rule.name for rule in policy.rules]
    (Decimal('0.07'), ['seller', 'layers'])
    >>> Policy.model_validate({**policy.model_dump(), "group_rates": {"all": 0.5}})
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidPolicyError: invalid policy: 1 problem(s)
      1. group_rates.all: rate 0.5 is a float; write rates as strings, e.g. "0.5"
    """

    name: Name
    tiers: tuple[Name, ...] = Field(min_length=1)
    group_rates: FrozenMap[Rate]
    sku_rates: FrozenMap[RateOrBrackets] = Field(default_factory=lambda: MappingProxyType({}))
    self_purchase: bool = Field(default=False, strict=True)
    # docs/domain.md §6, §16; left out of dumps when off, so the JSON (and the ledger's
    # fingerprints) of policies written before binding existed stay the same
    bind_members: bool = Field(default=False, strict=True, exclude_if=lambda value: value is False)
    max_generation: GenerationCount = 1
    compression: bool = Field(default=False, strict=True)
    rounding: Rounding = "largest_remainder"  # the closed sets and their rules: tuishou.rounding
    rounding_scope: RoundingScope = "order"
    rules: tuple[Rule, ...] = ()
    # docs/domain.md §17. Left out of dumps when unset, so that a policy without fixed amounts
    # dumps (and is fingerprinted by the ledger) exactly as before they existed.
    fixed: FrozenMap[FixedEntry] = Field(
        default_factory=lambda: MappingProxyType({}), exclude_if=lambda value: not value
    )
    allow_fixed_above_amount: bool = Field(
        default=False, strict=True, exclude_if=lambda value: value is False
    )
    # docs/domain.md §20-§22: a period's team bonus, mentor bonus and tier keeping; left out
    # of dumps when unset, so policies without one dump (and fingerprint) as before
    period_plan: PeriodPlan | None = Field(default=None, exclude_if=lambda value: value is None)

    @model_validator(mode="wrap")
    @classmethod
    def _every_plan_problem(cls, data: Any, handler: ModelWrapValidatorHandler[Policy]) -> Policy:
        """The tiers a period plan names are checked even when the plan fails its own
        checks (which stop the policy's): every problem is reported at once."""
        try:
            return handler(data)
        except ValidationError as exc:
            plan = data.get("period_plan") if isinstance(data, Mapping) else None
            tiers = data.get("tiers") if isinstance(data, Mapping) else None
            if not isinstance(plan, Mapping) or not isinstance(tiers, list | tuple):
                raise
            found = located_problems(cls, exc)
            known = {message for _, message, _ in found}
            names = [tier for tier in tiers if isinstance(tier, str)]
            extra = [p for p in plan_problems(plan, names) if p not in known]
            if not extra:
                raise
            raise Located([*found, *(("", problem, False) for problem in extra)]) from None

    @model_validator(mode="after")
    def _check(self) -> Policy:
        problems = _name_problems(self) + _tier_problems(self) + _rule_problems(self)
        problems += fixed_problems(self)
        if self.period_plan is not None:
            problems += plan_problems(self.period_plan, self.tiers)
        if not problems and self.budget() > 1:
            parts = ", ".join(f"{rule.name} {rule.max_share()}" for rule in self.rules)
            problems.append(
                f"budget: the rules could pay {self.budget()} of the pool for one order "
                f"({parts}); the total must be at most 1"
            )
        if problems:
            raise Problems(problems)
        return self

    def budget(self) -> Decimal:
        """The largest share of the pool this policy could pay for one order (docs/domain.md §8)."""
        return sum((rule.max_share() for rule in self.rules), Decimal(0))

    def pool_rate(self, sku: str, group: str, quantity: int = 1) -> Decimal | None:
        """The pool rate of a line: ``sku_rates[sku]`` (its bracket for ``quantity`` units
        bought, when it has brackets), else ``group_rates[group]``, else None. A fixed SKU
        (``is_fixed``) takes no pool share: its rate is 0.

        >>> from tuishou.examples import example_rates_policy
        >>> policy = example_rates_policy()
        >>> policy.pool_rate("redmi", "xiaomi"), policy.pool_rate("x", "toys")
        (Decimal('0.05'), None)
        """
        found = line_rate(self.sku_rates, self.group_rates, sku, group, quantity)
        if found is not None and self.is_fixed(sku):
            return Decimal(0)
        return None if found is None else found[0]

    def is_fixed(self, sku: str) -> bool:
        """Whether lines of ``sku`` pay fixed amounts (``fixed``) instead of a pool share.

        >>> from tuishou.examples import example_rates_policy
        >>> example_rates_policy().is_fixed("redmi")
        False
        """
        return sku in self.fixed

    def fixed_budget(self, sku: str, quantity: int = 1) -> int:
        """The most the fixed schedule of ``sku`` pays per unit on a line of ``quantity``
        units bought, in fen (0 for a SKU without one), docs/domain.md §17."""
        table = self.units.fixed.get(sku)
        return 0 if table is None else table.for_quantity(quantity).budget

    @cached_property
    def units(self) -> PolicyUnits:
        """The policy's rates as int basis points, computed once: what settlement runs on."""
        return PolicyUnits.of(self)


@dataclass(frozen=True, slots=True)
class PolicyUnits:
    """A policy's rates as int units of 1/10 000, keyed for fast lookups during settlement:
    ``tier_rank`` (a tier's position in ``tiers``), the pool rates by ``group`` and ``sku``,
    and each rule in its integer form (see :mod:`tuishou.rulebook`).

    >>> from tuishou.examples import example_rates_policy
    >>> units = example_rates_policy().units
    >>> units.group, units.tier_rank, units.rules
    ({'xiaomi': 500}, {'member': 0}, ())
    """

    tier_rank: Mapping[str, int]
    group: Mapping[str, int]
    sku: Mapping[str, int]
    rules: tuple[RuleUnits, ...]
    brackets: Mapping[str, SkuBrackets] = field(default_factory=dict)  # rate brackets by SKU
    fixed: Mapping[str, FixedTable] = field(default_factory=dict)  # fixed schedules by SKU

    @classmethod
    def of(cls, policy: Policy) -> PolicyUnits:
        """The units of ``policy`` (``Policy.units`` computes them once)."""
        return cls(
            {tier: rank for rank, tier in enumerate(policy.tiers)},
            {g: rate_units(r) for g, r in policy.group_rates.items()},
            {s: rate_units(r) for s, r in policy.sku_rates.items() if isinstance(r, Decimal)},
            tuple(rule.units(policy.tiers) for rule in policy.rules),
            sku_brackets(policy.sku_rates),
            {
                s: fixed_table(entry, policy.rules, policy.tiers)
                for s, entry in policy.fixed.items()
            },
        )


def _name_problems(policy: Policy) -> list[str]:
    """Tier, group and SKU names that are not ids in normal form (``tuishou.ids``)."""
    return (
        [f"tiers: {p}" for p in id_problems(policy.tiers, name="tier")]
        + [f"group_rates: {p}" for p in id_problems(policy.group_rates, name="group")]
        + [f"sku_rates: {p}" for p in id_problems(policy.sku_rates, name="sku")]
        + [f"fixed: {p}" for p in id_problems(policy.fixed, name="sku")]
    )


def _tier_problems(policy: Policy) -> list[str]:
    problems = []
    seen: set[str] = set()
    for tier in policy.tiers:
        if tier in seen:
            problems.append(f"tiers: {tier!r} is listed twice")
        seen.add(tier)
    for index, rule in enumerate(policy.rules):
        for tier in sorted(rule.tier_names() - seen):
            problems.append(
                f"rules.{index} ({rule.name}): tier {tier!r} is not in tiers; "
                f"{did_you_mean(tier, policy.tiers)}"
            )
    return problems


def _rule_problems(policy: Policy) -> list[str]:
    problems = []
    names: set[str] = set()
    for index, rule in enumerate(policy.rules):
        where = f"rules.{index} ({rule.name})"
        if rule.name in names:
            problems.append(f"{where}: the name {rule.name!r} is used twice; name each rule")
        names.add(rule.name)
        problems += [f"{where}: {problem}" for problem in rule.problems(policy.max_generation)]
    return problems


def replace(policy: Policy, /, **changes: Any) -> Policy:
    """A copy of ``policy`` with ``changes``, validated like a new policy (budget included).

    Only top-level fields can be changed; pass a whole new mapping to change one rate.

    >>> from tuishou.examples import example_rates_policy
    >>> policy = example_rates_policy()
    >>> richer = replace(policy, group_rates={**policy.group_rates, "xiaomi": "0.08"})
    >>> richer.group_rates["xiaomi"], policy.group_rates["xiaomi"]
    (Decimal('0.08'), Decimal('0.05'))
    >>> replace(policy, max_generations=2)
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidPolicyError: replace(): Policy has no field 'max_generations'; ...
    """
    if not isinstance(policy, Policy):
        raise ArgumentTypeError(
            f"replace() takes a Policy, got {type(policy).__name__}; load one with load_policy()"
        )
    fields = list(Policy.model_fields)
    for name in changes:
        if name not in fields:
            raise InvalidPolicyError(
                f"replace(): Policy has no field {name!r}; {did_you_mean(name, fields)}"
            )
    return Policy.model_validate({**policy.model_dump(), **changes})
