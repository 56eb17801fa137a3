"""Fixed-amount commissions (固定佣金), docs/domain.md §17: fen per unit instead of a share.

A policy's ``fixed`` maps a SKU to a **schedule** (or to quantity brackets of schedules,
:mod:`tuishou.rulebook.brackets`). A schedule names rules of the policy and gives, for each, its
amounts per unit in int fen, in the shape of that rule's rates:

- seller rule: ``{"amounts": {tier: fen}}``;
- layers rule: ``{"amounts": {tier: [fen for generation 1, 2, ...]}}``;
- differential rule: ``{"amounts": {tier: fen}, "peer_amount": fen}`` (the peer bonus, paid at
  most the rule's ``peer_max`` times, starting where the rule starts).

On a fixed line each named rule walks the chain exactly as it does for rates, with the same
code (each rule kind's ``shares`` / ``slots`` in :mod:`tuishou.rulebook`, run on tables of fen
instead of basis points), and each member gets walk amount × quantity fen. Rules the schedule
does not name pay nothing on the line. A fixed line takes no share of the pool: its part of
the pool is exactly what the walk gives (a suspended member's part included: it is retained).
Fixed amounts are whole fen and never rounded.

The **fixed budget** of a schedule is the most it can pay per unit (each rule's largest walk,
the fen analogue of ``max_share``); settling refuses a line whose fixed budget × quantity is
above its paid amount unless the policy sets ``allow_fixed_above_amount``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, PlainSerializer, PlainValidator, SerializationInfo

from tuishou.errors import InvalidPolicyError, did_you_mean
from tuishou.models import FrozenMap
from tuishou.money import FloatValueError, fen_example
from tuishou.rulebook.base import IntArray, PayoutKind, PolicyPart, Slot
from tuishou.rulebook.brackets import (
    BracketStart,
    Located,
    bracket_of,
    bracket_problems,
    dump_brackets,
    validate_brackets,
)
from tuishou.rulebook.differential import DifferentialRule, DifferentialUnits
from tuishou.rulebook.layers import LayersRule, LayersUnits
from tuishou.rulebook.seller import SellerRule, SellerUnits

if TYPE_CHECKING:
    from tuishou.rules import Policy, Rule

__all__ = [
    "FixedAmounts",
    "FixedBracket",
    "FixedEntry",
    "FixedShareUnits",
    "FixedTable",
    "FixedUnits",
    "fixed_problems",
    "fixed_table",
    "schedule_or_brackets",
    "schedules_of",
]

FenUnits = SellerUnits | LayersUnits | DifferentialUnits
FixedShareUnits = tuple[int, int, PayoutKind, int]
"""A fixed share of one chain member per unit: (rule position, generation, kind, fen)."""


def _fen(value: Any) -> int:
    """An amount per unit: an int number of fen >= 0 (never a float, bool or text)."""
    if isinstance(value, float):
        example = fen_example(value)
        raise FloatValueError(
            f"amount {value!r} is a float; write an int number of fen"
            + (f", {example}" if example else "")
        )
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"amount {value!r} is a {type(value).__name__}; write an int number of fen, "
            "e.g. 500 for ¥5.00"
        )
    if value < 0:
        raise ValueError(f"amount {value} is negative; a fixed amount is 0 fen or more")
    return value


def _amount_or_list(value: Any) -> int | tuple[int, ...]:
    if not isinstance(value, list | tuple):
        return _fen(value)
    located: list[tuple[str, str, bool]] = []
    amounts: list[int] = []
    for index, item in enumerate(value):
        try:
            amounts.append(_fen(item))
        except ValueError as exc:
            located.append((str(index), str(exc), isinstance(exc, FloatValueError)))
    if located:
        raise Located(located)
    return tuple(amounts)


FenAmount = Annotated[int, PlainValidator(_fen)]
Amounts = Annotated[
    int | tuple[int, ...],
    PlainValidator(_amount_or_list),
    PlainSerializer(lambda value: list(value) if isinstance(value, tuple) else value),
]


class FixedAmounts(PolicyPart):
    """One rule's fixed amounts per unit, in fen, shaped like its rates (module docs).

    >>> FixedAmounts.model_validate({"amounts": {"member": 500}}).amounts["member"]
    500
    """

    amounts: FrozenMap[Amounts]
    peer_amount: FenAmount = 0


Schedule = Mapping[str, FixedAmounts]
"""A fixed schedule: rule name -> that rule's amounts per unit."""


class FixedBracket(PolicyPart):
    """A fixed schedule from ``start`` units on (written ``from``)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )
    start: BracketStart
    schedule: FrozenMap[FixedAmounts]


def _schedule(value: Any) -> Schedule:
    if not isinstance(value, Mapping):
        raise ValueError(
            f"schedule {value!r}: give a table of rule name -> {{amounts = {{tier = fen}}}}, "
            "or a list of brackets"
        )
    located: list[tuple[str, str, bool]] = []
    found: dict[str, FixedAmounts] = {}
    for name, amounts in value.items():
        try:
            found[name] = FixedAmounts.model_validate(amounts)
        except InvalidPolicyError as exc:
            inner = getattr(exc, "located", [("", str(exc), False)])
            located += [(".".join(p for p in (str(name), w) if p), m, f) for w, m, f in inner]
    if located:
        raise Located(located)
    return MappingProxyType(found)


def schedule_or_brackets(value: Any) -> Schedule | tuple[FixedBracket, ...]:
    """A ``fixed`` value: a schedule, or a list of brackets ``{"from": n, "schedule": ...}``."""
    if isinstance(value, list | tuple):
        return validate_brackets(FixedBracket, value)
    return _schedule(value)


def _dump_entry(value: Any, info: SerializationInfo) -> Any:
    if isinstance(value, Mapping):
        return {name: amounts.model_dump(mode=info.mode) for name, amounts in value.items()}
    return dump_brackets(value, info)


FixedEntry = Annotated[
    Schedule | tuple[FixedBracket, ...],
    PlainValidator(schedule_or_brackets),
    PlainSerializer(_dump_entry),
]
"""A pydantic field type for a ``fixed`` value: a schedule or quantity brackets of them."""


# ------------------------------------------------------------------------ policy checks


def schedules_of(entry: Schedule | tuple[FixedBracket, ...]) -> list[tuple[str, Schedule]]:
    """Each schedule of a ``fixed`` entry with its path below the SKU ("" or "0.schedule")."""
    if isinstance(entry, tuple):
        return [(f"{index}.schedule", b.schedule) for index, b in enumerate(entry)]
    return [("", entry)]


def fixed_problems(policy: Policy) -> list[str]:
    """What is wrong with ``policy.fixed`` against the policy's rules, tiers and SKUs."""
    rules = {rule.name: rule for rule in policy.rules}
    problems = []
    for sku, rate in policy.sku_rates.items():
        if isinstance(rate, tuple):
            problems += [f"sku_rates.{sku}: {p}" for p in bracket_problems([b.start for b in rate])]
    for sku, entry in policy.fixed.items():
        if isinstance(entry, tuple):
            problems += [f"fixed.{sku}: {p}" for p in bracket_problems([b.start for b in entry])]
        if sku in policy.sku_rates:
            problems.append(
                f"fixed.{sku}: sku {sku!r} also has a pool rate in sku_rates; a fixed line "
                "takes no pool share, so give it one or the other"
            )
        for below, schedule in schedules_of(entry):
            for name, amounts in schedule.items():
                where = ".".join(p for p in ("fixed", sku, below, name) if p)
                rule = rules.get(name)
                if rule is None:
                    problems.append(
                        f"{where}: policy has no rule {name!r}; {did_you_mean(name, rules)}"
                    )
                    continue
                problems += [f"{where}: {p}" for p in _amount_problems(policy, rule, amounts)]
    return problems


def _amount_problems(policy: Policy, rule: Rule, fixed: FixedAmounts) -> list[str]:
    problems = []
    listed = rule.kind == "layers"
    for tier, amount in fixed.amounts.items():
        if tier not in policy.tiers:
            problems.append(
                f"amounts: tier {tier!r} is not in tiers; {did_you_mean(tier, policy.tiers)}"
            )
        if listed and not isinstance(amount, tuple):
            problems.append(
                f"amounts.{tier}: a layers rule pays per generation; write a list, "
                f"e.g. [{amount}] for generation 1"
            )
        elif not listed and isinstance(amount, tuple):
            problems.append(
                f"amounts.{tier}: a {rule.kind} rule pays one amount per tier; write one "
                "int number of fen, not a list"
            )
        elif isinstance(amount, tuple) and len(amount) > policy.max_generation:
            problems.append(
                f"amounts.{tier} lists {len(amount)} generations but max_generation="
                f"{policy.max_generation}; shorten the list or raise max_generation"
            )
    if fixed.peer_amount and rule.kind != "differential":
        problems.append(
            f"peer_amount: only a differential rule pays a peer bonus; {rule.name!r} is a "
            f"{rule.kind} rule"
        )
    return problems


# ------------------------------------------------------------------------- integer form


@dataclass(frozen=True, slots=True)
class FixedUnits:
    """One schedule as rule walks over tables of fen: (rule position, walk) per named rule,
    and ``budget``, the most it pays per unit."""

    rules: tuple[tuple[int, FenUnits], ...]
    budget: int

    def shares(self, ranks: Sequence[int]) -> Iterator[FixedShareUnits]:
        """Each paying (rule position, generation, kind, fen per unit) of one chain.

        >>> units = FixedUnits(((0, SellerUnits({}, (500, 0))),), 500)
        >>> list(units.shares([0]))
        [(0, 0, 'seller', 500)]
        """
        for position, walk in self.rules:
            for generation, kind, fen in walk.shares(ranks):  # the rule kind's own walk
                if fen > 0:
                    yield position, generation, kind, fen

    def most(self, rank: int, max_generation: int) -> tuple[int, int, int]:
        """For a member of tier rank ``rank``, the most this schedule pays it per unit as the
        seller and as an upline (at its best generation), and the deepest generation above
        the seller it pays: the fen analogue of each rule's ``seller_share`` and
        ``upline_shares`` (``tuishou.analysis.compliance``).

        >>> units = FixedUnits(((0, SellerUnits({}, (500, 0))),
        ...                     (1, LayersUnits({}, ((200, 0), (100, 0))))), 800)
        >>> units.most(0, 2)
        (500, 200, 2)
        """
        seller, by_generation, deepest = 0, [0] * max_generation, 0
        for _, walk in self.rules:
            if isinstance(walk, LayersUnits):
                for g, table in enumerate(walk.tables[:max_generation]):
                    by_generation[g] += table[rank]
                deepest = max(deepest, min(len(walk.tables), max_generation))
                continue
            rate = walk.table[rank]
            if isinstance(walk, SellerUnits):
                seller += rate
                continue
            seller += rate if walk.include_seller else 0
            peer = walk.peer_rate if walk.peer_max and rate > 0 else 0
            by_generation = [most + max(rate, peer) for most in by_generation]
            deepest = max_generation if any(walk.table) or walk.peer_rate else deepest
        return seller, max(by_generation, default=0), deepest

    def slots(self, ranks: Sequence[IntArray]) -> Iterator[tuple[int, Slot]]:
        """``shares`` for many chains at once: (rule position, (generation, kind, fen each))."""
        for position, walk in self.rules:
            for slot in walk.slots(ranks):
                yield position, slot


@dataclass(frozen=True, slots=True)
class FixedTable:
    """A SKU's fixed schedules by bracket: ``starts[i]`` units on, ``units[i]`` applies."""

    starts: tuple[int, ...]
    units: tuple[FixedUnits, ...]

    def for_quantity(self, bought: int) -> FixedUnits:
        """The schedule of a line on which ``bought`` units were bought."""
        return self.units[bracket_of(self.starts, bought)]


def fixed_table(
    entry: Schedule | tuple[FixedBracket, ...], rules: Sequence[Rule], tiers: Sequence[str]
) -> FixedTable:
    """A ``fixed`` entry in integer form over ``tiers``' ranks (``Policy.units`` builds it)."""
    if isinstance(entry, tuple):
        return FixedTable(
            tuple(b.start for b in entry),
            tuple(_fixed_units(b.schedule, rules, tiers) for b in entry),
        )
    return FixedTable((1,), (_fixed_units(entry, rules, tiers),))


def _fixed_units(schedule: Schedule, rules: Sequence[Rule], tiers: Sequence[str]) -> FixedUnits:
    walks = []
    for position, rule in enumerate(rules):
        if rule.name in schedule:
            walks.append((position, _walk(rule, schedule[rule.name], tiers)))
    return FixedUnits(tuple(walks), sum(_largest(walk) for _, walk in walks))


def _fen_table(amounts: Mapping[str, int], tiers: Sequence[str]) -> tuple[int, ...]:
    """Amounts by tier rank with 0 for "nobody", like ``rulebook.base.rank_table``."""
    return (*(amounts.get(t, 0) for t in tiers), 0)


def _walk(rule: Rule, fixed: FixedAmounts, tiers: Sequence[str]) -> FenUnits:
    """The rule's own integer form, with fen per unit where its rates would be."""
    amounts = fixed.amounts
    if isinstance(rule, LayersRule):
        lists = {t: a for t, a in amounts.items() if isinstance(a, tuple)}
        depth = max((len(a) for a in lists.values()), default=0)
        return LayersUnits(
            lists,
            tuple(
                _fen_table({t: a[g] for t, a in lists.items() if g < len(a)}, tiers)
                for g in range(depth)
            ),
        )
    flat = {t: a for t, a in amounts.items() if isinstance(a, int)}
    if isinstance(rule, SellerRule):
        return SellerUnits(flat, _fen_table(flat, tiers))
    assert isinstance(rule, DifferentialRule)
    return DifferentialUnits(
        flat, _fen_table(flat, tiers), fixed.peer_amount, rule.peer_max, rule.include_seller
    )


def _largest(walk: FenUnits) -> int:
    """The most one walk pays per unit (the fen analogue of each rule's ``max_share``)."""
    if isinstance(walk, SellerUnits):
        return max(walk.table)
    if isinstance(walk, LayersUnits):
        return sum(max(table) for table in walk.tables)
    return max(walk.table) + walk.peer_rate * walk.peer_max
