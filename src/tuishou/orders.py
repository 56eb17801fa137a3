"""Orders (订单) and their lines, as the platform reports them.

- **buyer**: a member, a guest customer (an id the tree does not know) or None.
- **sharer**: the member whose share link was used (分享), if any; it must be a member.
- **line**: one SKU of a product group, with what the buyer paid for the whole line
  (all units) in fen, and the quantity (kept for partial refunds).

Orders arrive as these models or as columns (:mod:`tuishou.engine.columns`, files); both follow one
contract, written here once: the fields are ``LINE_COLUMNS`` and nothing else, ids follow
:mod:`tuishou.ids`, amounts are int fen (never bool or float) and an order (the sum of its
lines) is at most ``MAX_ORDER_FEN``. ``paid_at`` (optional) is an aware time, the same on
every line of an order: it picks the policy version the order is settled with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from tuishou.errors import InvalidOrderError
from tuishou.models import AwareTime, FrozenModel, Id, Problems
from tuishou.money import MAX_ORDER_FEN, Fen, yuan

__all__ = [
    "LINE_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Order",
    "OrderLine",
    "amount_problem",
    "order_columns",
]

LINE_COLUMNS = (
    "order_id",
    "buyer_id",
    "sharer_id",
    "sku",
    "group",
    "amount",
    "quantity",
    "paid_at",
)
REQUIRED_COLUMNS = ("order_id", "sku", "group", "amount")
OPTIONAL_COLUMNS = tuple(name for name in LINE_COLUMNS if name not in REQUIRED_COLUMNS)
ID_COLUMNS = ("order_id", "buyer_id", "sharer_id", "sku", "group")
# What an empty cell (None, a null) means in an optional id column; '' is refused, as in the model.
EMPTY_MEANS = {"buyer_id": "no buyer", "sharer_id": "no share link"}


def amount_problem(amount: int, *, order_id: object = None, lines: int = 1) -> str | None:
    """Why a line or order of ``amount`` fen is refused (above ``MAX_ORDER_FEN``), or None.

    >>> amount_problem(10**10) is None
    True
    >>> amount_problem(2 * 10**10 + 2, order_id="o-1", lines=2)  # doctest: +ELLIPSIS
    "order_id='o-1': amount=20000000002 fen (2 lines) is above the supported maximum ..."
    """
    if amount <= MAX_ORDER_FEN:
        return None
    where = "" if order_id is None else f"order_id={order_id!r}: "
    over = f" ({lines} lines)" if lines > 1 else ""
    return (
        f"{where}amount={amount} fen{over} is above the supported maximum of "
        f"{MAX_ORDER_FEN} fen ({yuan(MAX_ORDER_FEN)}) per order; check the unit "
        "(amounts are int fen)"
    )


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"quantity={value!r} is a bool; pass an int number of units")
    return value


def _line_amount(amount: int) -> int:
    problem = amount_problem(amount)
    if problem is not None:
        raise ValueError(problem)
    return amount


class _OrderPart(FrozenModel):
    error_class: ClassVar = InvalidOrderError
    what: ClassVar[str] = "invalid order"


class OrderLine(_OrderPart):
    """One line of an order: ``amount`` is what was paid for the whole line, in int fen.

    >>> OrderLine(sku="mi-band-9", group="xiaomi", amount=24900).quantity
    1
    >>> OrderLine(sku="mi-band-9", group="xiaomi", amount=249.0)
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: invalid order: 1 problem(s)
      1. amount: amount=249.0 is a float; pass an int number of fen, e.g. 24900 for ¥249.00
    """

    sku: Id
    group: Id
    amount: Annotated[Fen, AfterValidator(_line_amount)] = Field(ge=0, strict=True)
    quantity: Annotated[int, BeforeValidator(_no_bool)] = Field(default=1, ge=1, strict=True)


class Order(_OrderPart):
    """An order: who bought, who shared, and the lines.

    >>> order = Order(order_id="o-1", buyer_id="D",
    ...               lines=[OrderLine(sku="ear", group="ecosystem", amount=19999)])
    >>> order.amount
    19999
    """

    order_id: Id
    buyer_id: Id | None = None
    sharer_id: Id | None = None
    paid_at: AwareTime | None = None
    lines: tuple[OrderLine, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_range(self) -> Order:
        problem = amount_problem(self.amount, order_id=self.order_id, lines=len(self.lines))
        if problem is not None:
            raise Problems([problem])
        return self

    @property
    def amount(self) -> int:
        """What the buyer paid for the whole order, in fen (GMV)."""
        return sum(line.amount for line in self.lines)


def order_columns(orders: Iterable[Order]) -> dict[str, list[Any]]:
    """Orders as columns, one row per line: what ``settle_batch`` and ``compare`` read.

    >>> order = Order(order_id="o-1", buyer_id="D", lines=[
    ...     OrderLine(sku="ear", group="ecosystem", amount=19999),
    ...     OrderLine(sku="band", group="xiaomi", amount=24900, quantity=2)])
    >>> order_columns([order])["amount"], order_columns([order])["buyer_id"]
    ([19999, 24900], ['D', 'D'])
    """
    table: dict[str, list[Any]] = {name: [] for name in LINE_COLUMNS}
    for order in orders:
        for line in order.lines:
            row = (
                order.order_id,
                order.buyer_id,
                order.sharer_id,
                line.sku,
                line.group,
                line.amount,
                line.quantity,
                order.paid_at,
            )
            for name, value in zip(LINE_COLUMNS, row, strict=True):
                table[name].append(value)
    return table
