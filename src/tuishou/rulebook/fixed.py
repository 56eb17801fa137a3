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

from pydantic import PlainSerializer, PlainValidator, SerializationInfo, ValidationInfo

from tuishou.errors import InvalidPolicyError, did_you_mean
from tuishou.models import BRACKET_CONFIG, FrozenMap
from tuishou.money import MAX_ORDER_FEN, FloatValueError, fen_example, yuan
from tuishou.rulebook.base import IntArray, PayoutKind, PolicyPart, Slot
from tuishou.rulebook.brackets import (
    BracketStart,
    Located,
    bracket_of,
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
    if value > MAX_ORDER_FEN:
        raise ValueError(
            f"amount {value} fen is above the supported maximum of {MAX_ORDER_FEN} fen "
            f"({yuan(MAX_ORDER_FEN)}) per order; check the unit (amounts are int fen)"
        )
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

    model_config = BRACKET_CONFIG
    start: BracketStart
    schedule: FrozenMap[FixedAmounts]


def _schedule(value: Any, policy: Mapping[str, Any]) -> Schedule:
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
    located += _against_policy(value, policy)
    if located:
        raise Located(located)
    return MappingProxyType(found)


def schedule_or_brackets(value: Any, info: ValidationInfo) -> Schedule | tuple[FixedBracket, ...]:
    """A ``fixed`` value: a schedule, or a list of brackets ``{"from": n, "schedule": ...}``.

    Checked against the policy's fields validated before it (``info.data``: tiers,
    ``max_generation``, rules), so that every problem of a schedule, of type (a float amount)
    or of meaning (an unknown rule or tier), is reported at once."""
    if not isinstance(value, list | tuple):
        return _schedule(value, info.data)
    located: list[tuple[str, str, bool]] = []
    try:
        brackets = validate_brackets(FixedBracket, value)
    except Located as exc:
        located += exc.located
    for index, item in enumerate(value):
        if isinstance(item, Mapping) and isinstance(item.get("schedule"), Mapping):
            located += [
                (f"{index}.schedule.{where}", message, is_float)
                for where, message, is_float in _against_policy(item["schedule"], info.data)
            ]
    if located:
        raise Located(sorted(set(located), key=located.index))
    return brackets


def _against_policy(schedule: Mapping[str, Any], policy: Mapping[str, Any]) -> list[Any]:
    """(path, problem, False) for each rule or tier of a raw ``schedule`` that the policy's
    fields (validated so far; a field that failed is not checked against) do not allow."""
    rules = {rule.name: rule for rule in policy.get("rules", ())}
    if "rules" not in policy:
        return []
    found = []
    for name, raw in schedule.items():
        rule = rules.get(name)
        if rule is None:
            found.append((str(name), f"policy has no rule {name!r}; {did_you_mean(name, rules)}"))
        elif isinstance(raw, Mapping):
            found += [(f"{name}.{where}", p) for where, p in _amount_problems(policy, rule, raw)]
    return [(where, problem, False) for where, problem in found]


def _amount_problems(
    policy: Mapping[str, Any], rule: Rule, raw: Mapping[str, Any]
) -> list[tuple[str, str]]:
    problems = []
    tiers = policy.get("tiers")
    listed = rule.kind == "layers"
    amounts = raw.get("amounts")
    for tier, amount in amounts.items() if isinstance(amounts, Mapping) else ():
        if tiers is not None and tier not in tiers:
            problems.append(
                ("amounts", f"tier {tier!r} is not in tiers; {did_you_mean(tier, tiers)}")
            )
        many = isinstance(amount, list | tuple)
        if listed and not many:
            problems.append(
                (
                    f"amounts.{tier}",
                    f"a layers rule pays per generation; write a list, e.g. [{amount}] for "
                    "generation 1",
                )
            )
        elif not listed and many:
            problems.append(
                (
                    f"amounts.{tier}",
                    f"a {rule.kind} rule pays one amount per tier; write one int number of "
                    "fen, not a list",
                )
            )
        elif many and len(amount) > policy.get("max_generation", len(amount)):
            problems.append(
                (
                    f"amounts.{tier}",
                    f"lists {len(amount)} generations but max_generation="
                    f"{policy['max_generation']}; shorten the list or raise max_generation",
                )
            )
    if raw.get("peer_amount") and rule.kind != "differential":
        problems.append(
            (
                "peer_amount",
                f"only a differential rule pays a peer bonus; {rule.name!r} is a {rule.kind} rule",
            )
        )
    return problems


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


def fixed_problems(policy: Policy) -> list[str]:
    """What is wrong with ``policy.fixed`` that only the whole policy shows: a SKU with both a
    rate and a fixed schedule (each schedule is checked against the rules and tiers when it
    is read, ``schedule_or_brackets``)."""
    return [
        f"fixed.{sku}: sku {sku!r} also has a pool rate in sku_rates; a fixed line takes no "
        "pool share, so give it one or the other"
        for sku in policy.fixed
        if sku in policy.sku_rates
    ]


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
