"""Orders (订单) and their lines, as the platform reports them.

- **buyer**: a member, a guest customer (an id the tree does not know) or None.
- **sharer**: the member whose share link was used (分享), if any; it must be a member.
- **line**: one SKU of a product group, with what the buyer paid for the whole line
  (all units) in fen, and the quantity (kept for partial refunds).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import Field

from .errors import InvalidOrderError
from .models import FrozenModel
from .money import Fen

__all__ = ["Order", "OrderLine"]

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
