"""Orders (订单) and their lines, as the platform reports them.

- **buyer**: a member, a guest customer (an id the tree does not know) or None.
- **sharer**: the member whose share link was used (分享), if any; it must be a member.
- **line**: one SKU of a product group, with what the buyer paid for the whole line
  (all units) in fen, and the quantity (kept for partial refunds).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field

from .errors import InvalidOrderError
from .models import FrozenModel
from .money import Fen

__all__ = ["LINE_COLUMNS", "Order", "OrderLine", "order_columns"]

LINE_COLUMNS = ("order_id", "buyer_id", "sharer_id", "sku", "group", "amount", "quantity")

_Text = Annotated[str, Field(min_length=1, strict=True)]


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

    sku: _Text
    group: _Text
    amount: Fen = Field(ge=0, strict=True)
    quantity: int = Field(default=1, ge=1, strict=True)


class Order(_OrderPart):
    """An order: who bought, who shared, and the lines.

    >>> order = Order(order_id="o-1", buyer_id="D",
    ...               lines=[OrderLine(sku="ear", group="ecosystem", amount=19999)])
    >>> order.amount
    19999
    """

    order_id: _Text
    buyer_id: _Text | None = None
    sharer_id: _Text | None = None
    paid_at: datetime | None = None
    lines: tuple[OrderLine, ...] = Field(min_length=1)

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
            row = (order.order_id, order.buyer_id, order.sharer_id, line.sku, line.group,
                   line.amount, line.quantity)
            for name, value in zip(LINE_COLUMNS, row, strict=True):
                table[name].append(value)
    return table
