"""What is left of each line of a posted order after its refunds (退款 by units, 退差价 by amount).

Each line of a posted order has a **refund state** ``(base_amount, base_quantity,
units_refunded)``: ``base_amount`` fen paid for ``base_quantity`` units, of which
``units_refunded`` were refunded since. What is left of the line is

- ``units_left = base_quantity − units_refunded`` units, for
- ``prorate(base_amount, units_left, base_quantity)`` fen (``amount × left ÷ quantity``,
  rounded down: ``tuishou.rounding.prorate``).

A posted line starts as ``(paid amount, quantity, 0)``. A refund of ``k`` units adds ``k`` to
``units_refunded``. A refund of ``x`` fen on a line with ``a`` fen left makes it
``(a − x, units_left, 0)``: the units stay (a price adjustment or a shipping refund returns
money, not goods), the money left is exact, and later refunds of units prorate from there.
While no amount was refunded this is exactly the units rule the ledger always had.

The state is stored in ``tuishou_orders.refunded_json``, one item per line: the int
``units_refunded`` while the line's base is still the paid line (what every earlier schema
wrote, and still read the same), else the list ``[base_amount, base_quantity,
units_refunded]``. No schema change.

>>> line = LineState(1000, 3, 0)
>>> line.amount_left, refund_amount(line, 1).amount_left, refund_units(line, 1).amount_left
(1000, 999, 666)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from tuishou.errors import LedgerError, did_you_mean
from tuishou.ids import id_problem
from tuishou.orders import Order, OrderLine
from tuishou.rounding import prorate

__all__ = [
    "LineState",
    "after_amounts",
    "after_everything",
    "after_units",
    "encode",
    "is_stored_line",
    "left_order",
    "refund_amount",
    "refund_units",
    "states",
]

StoredLine = int | list[int]  # units refunded, or [base_amount, base_quantity, units_refunded]


class LineState(NamedTuple):
    """One line's refund state: ``base_amount`` fen for ``base_quantity`` units, of which
    ``units_refunded`` were refunded (module docs)."""

    base_amount: int
    base_quantity: int
    units_refunded: int

    @property
    def units_left(self) -> int:
        """Units of the line not refunded."""
        return self.base_quantity - self.units_refunded

    @property
    def amount_left(self) -> int:
        """Fen of the line not refunded (rounded down when units were refunded)."""
        if not self.base_quantity:
            return 0
        return prorate(self.base_amount, self.units_left, self.base_quantity)


def refund_units(line: LineState, units: int) -> LineState:
    """The line after ``units`` more of its units were refunded (caller checks the count)."""
    return line._replace(units_refunded=line.units_refunded + units)


def refund_amount(line: LineState, fen: int) -> LineState:
    """The line after ``fen`` of what is left of it was refunded (caller checks the sum)."""
    return LineState(line.amount_left - fen, line.units_left, 0)


def is_stored_line(value: object) -> bool:
    """Whether ``value`` is one line's stored state (an int >= 0, or three ints >= 0 with
    ``units_refunded <= base_quantity``): what the ledger's decoder accepts.

    >>> [is_stored_line(v) for v in (2, [999, 3, 1], [5, 1, 2], True)]
    [True, True, False, False]
    """
    if type(value) is int:
        return value >= 0
    return (
        type(value) is list
        and len(value) == 3
        and all(type(n) is int and n >= 0 for n in value)
        and value[2] <= value[1]
    )


def states(order: Order, stored: Sequence[StoredLine]) -> list[LineState] | None:
    """The refund state of each line of ``order`` (its paid lines) from what was stored, or
    None if it does not fit the order (a damaged row: the caller names it)."""
    if len(stored) != len(order.lines):
        return None
    result = []
    for line, item in zip(order.lines, stored, strict=True):
        if isinstance(item, int):  # the decoder refused bools
            state = LineState(line.amount, line.quantity, item)
        elif len(item) == 3 and item[1] >= 1:
            state = LineState(item[0], item[1], item[2])
        else:
            return None
        if (
            state.base_quantity > line.quantity
            or state.base_amount > line.amount
            or state.units_refunded > state.base_quantity
        ):
            return None
        result.append(state)
    return result


def encode(order: Order, lines: Sequence[LineState]) -> str:
    """What ``refunded_json`` stores for ``lines`` (module docs: an int while a line's base is
    its paid line, so ledgers refunded only by units look as they always did).

    >>> from tuishou import OrderLine
    >>> line = OrderLine(sku="a", group="g", amount=10, quantity=2)
    >>> order = Order(order_id="o", lines=[line, line])
    >>> encode(order, [LineState(10, 2, 1), LineState(7, 2, 0)])
    '[1, [7, 2, 0]]'
    """
    stored: list[StoredLine] = [
        state.units_refunded
        if (state.base_amount, state.base_quantity) == (line.amount, line.quantity)
        else list(state)
        for line, state in zip(order.lines, lines, strict=True)
    ]
    return json.dumps(stored)


def after_everything(order: Order, lines: Sequence[LineState]) -> list[LineState]:
    """Every unit of every line refunded (a full refund); refused if nothing is left."""
    if not any(state.units_left for state in lines):
        raise LedgerError(f"order {order.order_id!r} is already fully refunded")
    return [state._replace(units_refunded=state.base_quantity) for state in lines]


def after_units(
    order: Order, lines: Sequence[LineState], asked: Mapping[str, int]
) -> list[LineState]:
    """The states after refunding ``asked`` (SKU → units); every problem at once."""
    return _spread(
        order, lines, asked, "units", _unit_problem, lambda s: s.units_left, refund_units
    )


def after_amounts(
    order: Order,
    lines: Sequence[LineState],
    asked: Mapping[str, int],
    *,
    fixed: Callable[[str], bool] | None = None,
) -> list[LineState]:
    """The states after refunding ``asked`` (SKU → fen); every problem at once. SKUs with a
    fixed commission per unit (``fixed(sku)``) are refused: those refund whole units."""

    def problem(sku: str, fen: object) -> str | None:
        if (found := _amount_problem(sku, fen)) is not None:
            return found
        if fixed is not None and fixed(sku):
            return (
                f"{sku!r} pays a fixed commission per unit, so it cannot be refunded by "
                f"amount (asked {fen} fen); refund whole units instead (lines={{{sku!r}: n}})"
            )
        return None

    return _spread(order, lines, asked, "fen", problem, lambda s: s.amount_left, refund_amount)


def _spread(
    order: Order,
    lines: Sequence[LineState],
    asked: Mapping[str, int],
    unit: str,
    problem_of: Callable[[str, object], str | None],
    left_of: Callable[[LineState], int],
    take: Callable[[LineState, int], LineState],
) -> list[LineState]:
    """Take each SKU's request from its lines in order (the first line first), or refuse."""
    name = "lines" if unit == "units" else "amounts"
    if not asked:
        raise LedgerError(
            f"{name}={{}} refunds nothing in order {order.order_id!r}; pass the SKUs and "
            f"{'quantities' if unit == 'units' else 'amounts in fen'} to refund, "
            "or lines=None for everything left"
        )
    skus = [line.sku for line in order.lines]
    after, problems = list(lines), []
    for sku, wanted in sorted(asked.items(), key=lambda item: str(item[0])):
        found = id_problem(sku, name="sku") or problem_of(sku, wanted)
        left = sum(left_of(s) for s, k in zip(after, skus, strict=True) if k == sku)
        if found is None and sku not in skus:
            known = list(dict.fromkeys(skus))
            found = f"{sku!r} is not in order {order.order_id!r}; {did_you_mean(sku, known)}"
        elif found is None and wanted > left:
            shown = "" if unit == "units" else f" {unit}"
            found = f"{sku!r}: refund of {wanted}{shown} but only {left}{shown} left"
        if found is not None:
            problems.append(found)
            continue
        for i, state in enumerate(after):  # the SKU's lines in order, the first line first
            part = min(wanted, left_of(state)) if skus[i] == sku else 0
            if part:
                after[i], wanted = take(state, part), wanted - part
    if problems:
        raise LedgerError.from_problems("refund refused, nothing changed", problems)
    return after


def _unit_problem(sku: str, quantity: object) -> str | None:
    if type(quantity) is not int or quantity < 1:
        return f"{sku!r}: quantity {quantity!r} must be an int >= 1"
    return None


def _amount_problem(sku: str, fen: object) -> str | None:
    if type(fen) is int and fen >= 1:
        return None
    if type(fen) is int:
        why = "is not positive"
    elif isinstance(fen, float):
        why = "is a float"
    else:
        why = f"is a {type(fen).__name__}"
    return f"{sku!r}: amount {fen!r} {why}; pass an int number of fen >= 1 (e.g. 2000 for ¥20.00)"


def left_order(order: Order, lines: Sequence[LineState]) -> tuple[Order, list[int]] | None:
    """What is left of ``order`` (its lines with units left, at the amounts left) and, for
    each of those lines, the quantity bought; None when nothing is left."""
    kept = [
        (
            OrderLine(sku=line.sku, group=line.group, quantity=s.units_left, amount=s.amount_left),
            line.quantity,
        )
        for line, s in zip(order.lines, lines, strict=True)
        if s.units_left
    ]
    if not kept:
        return None
    rest = order.model_copy(update={"lines": tuple(line for line, _ in kept)})
    return rest, [bought for _, bought in kept]
