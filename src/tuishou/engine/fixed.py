"""Fixed lines and quantity brackets in the batch engine (docs/domain.md §17), vectorised.

What ``settle`` does for one order, for all lines at once, with the same rule walks
(:mod:`tuishou.rulebook.fixed` runs each rule kind's ``slots`` on tables of fen):

- ``line_rates``: the pool rate of each line with its SKU's rate bracket for the quantity on
  the line (one ``searchsorted`` per bracketed SKU), and 0 on fixed lines (no pool share);
- ``check_fixed_amounts``: every line whose fixed budget × quantity is above its amount, all
  named at once, unless the policy sets ``allow_fixed_above_amount``;
- ``FixedRows``: every fixed share (order, member, generation, rule, kind, fen), walked per
  (SKU, bracket) over all its lines' chains at once; forfeited shares stay in the pool;
- ``merge``: rate payout rows and fixed rows as one table, a payout per (order, slot) in the
  payout order of docs/domain.md §10, like ``Payout.amount`` = rate part + fixed part.

Work is proportional to the fixed lines (times the slots of their walks), and nothing here
runs when the policy has no brackets or fixed SKUs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.engine.columns import LineColumns
from tuishou.engine.line_checks import rows_where
from tuishou.errors import InvalidOrderError
from tuishou.money import MAX_ORDER_FEN, yuan
from tuishou.rulebook import PAYOUT_KINDS
from tuishou.rulebook.brackets import brackets_of, lines_of
from tuishou.rulebook.pools import bracket_rates
from tuishou.rules import Policy

__all__ = [
    "FixedRows",
    "SlotTable",
    "check_fixed_amounts",
    "fixed_codes",
    "fixed_rows",
    "line_rates",
    "merge",
]

IntArray = npt.NDArray[np.int64]


def fixed_codes(policy: Policy, lines: LineColumns) -> npt.NDArray[np.bool_]:
    """Which lines are fixed (their SKU has a fixed schedule)."""
    fixed = policy.units.fixed
    by_code = np.array([s in fixed for s in lines.sku.values] + [False], dtype=bool)
    found: npt.NDArray[np.bool_] = by_code[lines.sku.codes]
    return found


def line_rates(policy: Policy, lines: LineColumns, rates: IntArray) -> IntArray:
    """``rates`` (``rulebook.pool_rates``) with rate brackets by quantity, 0 on fixed lines."""
    units = policy.units
    rates = bracket_rates(rates, units.brackets, lines.sku.values, lines.sku.codes, lines.quantity)
    if units.fixed:
        rates[fixed_codes(policy, lines)] = 0
    return rates


def _by_bracket(policy: Policy, lines: LineColumns) -> list[tuple[int, Any, IntArray]]:
    """(SKU position in ``fixed``, its bracket's ``FixedUnits``, the lines) for every fixed SKU
    and bracket that has lines (the lines grouped by fixed SKU in one pass)."""
    found = []
    tables = policy.units.fixed
    for (code, table), at in zip(
        enumerate(tables.values()),
        lines_of(list(tables), lines.sku.values, lines.sku.codes),
        strict=True,
    ):
        if not len(at):
            continue
        bracket = brackets_of(table.starts, lines.quantity[at])
        for index, units in enumerate(table.units):
            chosen = at[bracket == index]
            if len(chosen):
                found.append((code, units, chosen))
    return found


def check_fixed_amounts(policy: Policy, lines: LineColumns, paid: IntArray) -> None:
    """Refuse every line whose fixed budget × quantity is above its ``paid`` amount (after the
    order's coupon, docs/domain.md §18), all at once."""
    if not policy.units.fixed:
        return
    most = np.zeros(lines.size, dtype=np.int64)
    too_much = np.zeros(lines.size, dtype=bool)
    for _, units, at in _by_bracket(policy, lines):
        # budget × quantity without an int64 product that could wrap: compared by division
        quantity = lines.quantity[at]
        too_much[at] = units.budget > MAX_ORDER_FEN // quantity
        most[at] = np.where(too_much[at], MAX_ORDER_FEN + 1, units.budget * quantity)
    per_order = np.zeros(len(lines.order.values), dtype=np.int64)
    np.add.at(per_order, lines.order.codes, most)  # each at most 10^10 + 1: no wrap
    too_much |= (per_order > MAX_ORDER_FEN)[lines.order.codes]
    if too_much.any():
        first = int(np.flatnonzero(too_much)[0])
        order = lines.order.values[int(lines.order.codes[first])]
        raise InvalidOrderError(
            f"fixed amounts above the supported maximum of {MAX_ORDER_FEN} fen "
            f"({yuan(MAX_ORDER_FEN)}) per order in {rows_where(too_much)}, e.g. order "
            f"{order!r}; check the quantities and the fixed amounts (int fen per unit)"
        )
    if policy.allow_fixed_above_amount:
        return
    over = most > paid
    if over.any():
        first = int(np.flatnonzero(over)[0])
        sku = lines.sku.values[int(lines.sku.codes[first])]
        order = lines.order.values[int(lines.order.codes[first])]
        raise InvalidOrderError(
            f"fixed amounts above the line's amount in {rows_where(over)}, e.g. order "
            f"{order!r} sku {sku!r}: up to {int(most[first])} fen for "
            f"{int(lines.quantity[first])} unit(s), paid {int(paid[first])} fen; "
            "lower the fixed amounts, or set allow_fixed_above_amount = true in the policy "
            "to pay them anyway (a free gift)"
        )


class FixedRows:
    """Every fixed share of the batch's fixed lines: order code, member (tree index),
    generation, rule position, kind code and amount in fen (fen per unit × quantity); ``paid``
    marks those paid (the rest are forfeited by suspended members and retained)."""

    def __init__(
        self,
        policy: Policy,
        lines: LineColumns,
        line_rows: IntArray,
        chain: list[IntArray],
        rank: list[IntArray],
        active: npt.NDArray[np.bool_],
    ) -> None:
        """``line_rows``: each line's schedule row; ``chain[g]``/``rank[g]``: the member and
        tier rank at generation g of each schedule row (the last row: nobody)."""
        parts: list[tuple[IntArray, ...]] = []
        for _, units, at in _by_bracket(policy, lines):
            rows = line_rows[at]
            members = [c[rows] for c in chain]
            ranks = [r[rows] for r in rank]
            quantity = lines.quantity[at]
            order = lines.order.codes[at].astype(np.int64)
            for position, (generation, kind, fen) in units.slots(ranks):
                pays = fen > 0
                if pays.any():
                    size = int(pays.sum())
                    parts.append(
                        (
                            order[pays],
                            members[generation][pays],
                            np.full(size, generation, dtype=np.int64),
                            np.full(size, position, dtype=np.int64),
                            np.full(size, PAYOUT_KINDS.index(kind), dtype=np.int64),
                            fen[pays] * quantity[pays],
                        )
                    )
        empty = np.zeros(0, dtype=np.int64)
        columns: list[IntArray] = (
            [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else [empty] * 6
        )
        self.order: IntArray = columns[0]
        self.member: IntArray = columns[1]
        self.generation: IntArray = columns[2]
        self.rule: IntArray = columns[3]
        self.kind: IntArray = columns[4]
        self.amount: IntArray = columns[5]
        self.paid = active[self.member]

    def pools(self, orders: int) -> IntArray:
        """Each order's fixed part of the pool: every fixed share, forfeited ones included."""
        pool = np.zeros(orders, dtype=np.int64)
        np.add.at(pool, self.order, self.amount)
        return pool


def fixed_rows(
    policy: Policy, lines: LineColumns, order_rows: IntArray, schedule: Any, size: int
) -> FixedRows:
    """``FixedRows`` from the schedule's chains (``schedule.chain``/``rank``/``active``, one
    row per seller) and each order's schedule row; ``size`` (the tree's) means "no member"."""
    chain = [np.append(c, size) for c in schedule.chain]  # the extra row: no seller
    rank = [np.append(r, len(policy.tiers)) for r in schedule.rank]
    line_rows = order_rows[lines.order.codes]
    return FixedRows(policy, lines, line_rows, chain, rank, schedule.active)


class SlotTable:
    """What a payout slot is: its generation, rule position and kind code (like ``Schedule``)."""

    def __init__(self, generation_of: Any, rule_of: Any, kind_of: Any) -> None:
        self.generation_of, self.rule_of, self.kind_of = generation_of, rule_of, kind_of


def merge(
    rate: tuple[IntArray, Any, Any, IntArray], slots: Any, fixed: FixedRows, rules: int
) -> tuple[tuple[IntArray, Any, Any, IntArray], SlotTable]:
    """Rate payout rows (order, member, slot, amount; ``slots`` says what a slot is) and the
    paid fixed rows as one table: one row per (order, slot), each order's rows in the payout
    order of docs/domain.md §10, and the new table of slots."""
    order, member, slot, amount = rate
    kinds, rules = len(PAYOUT_KINDS), max(rules, 1)
    slot_key = (
        slots.generation_of.astype(np.int64) * rules + slots.rule_of
    ) * kinds + slots.kind_of
    paid = fixed.paid
    fixed_key = (fixed.generation[paid] * rules + fixed.rule[paid]) * kinds + fixed.kind[paid]
    # Sorted keys are the payout order: generation, then rule, then a peer after its rule's
    # differential (the kinds' codes are in that order). Few keys: one per slot.
    keys = np.unique(np.concatenate([slot_key, fixed_key]))
    fixed_slot = np.searchsorted(keys, fixed_key)
    fixed_order = fixed.order[paid]
    first = np.lexsort((fixed_slot, fixed_order))  # the fixed rows alone: few
    # The rate rows come sorted by (order, slot) and keep that order under the new slot
    # numbers (both follow the payout order): a stable sort of two sorted runs is a merge.
    width = len(keys) + 1
    new_slot = np.concatenate([np.searchsorted(keys, slot_key)[slot], fixed_slot[first]])
    order = np.concatenate([order.astype(np.int64), fixed_order[first]])
    by = np.argsort(order * width + new_slot, kind="stable")
    order, new_slot = order[by], new_slot[by]
    member = np.concatenate([member.astype(np.int64), fixed.member[paid][first]])[by]
    amount = np.concatenate([amount, fixed.amount[paid][first]])[by]
    changes = (order[1:] != order[:-1]) | (new_slot[1:] != new_slot[:-1])
    starts = np.flatnonzero(np.concatenate([[len(order) > 0], changes]))
    summed = np.add.reduceat(amount, starts) if len(amount) else amount
    table = SlotTable(
        (keys // kinds // rules).astype(np.int32),
        (keys // kinds % rules).astype(np.int32),
        (keys % kinds).astype(np.int8),
    )
    return (
        order[starts],
        member[starts].astype(np.int32),
        new_slot[starts].astype(np.int32),
        summed,
    ), table
