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

An order may carry one ``Coupon`` (优惠券, an order-level discount): ``coupon`` is its amount
in fen, the same on every line of the order (empty or 0: none), and ``coupon_eligible`` says
per line whether the coupon applies to it (empty: it does). ``Order.amount`` stays the
listed total; ``Order.paid`` is what the buyer paid after the coupon. How the coupon is
spread over the lines is :mod:`tuishou.settlement.coupons` (docs/domain.md §18).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from tuishou.errors import InvalidOrderError
from tuishou.models import AwareTime, FrozenModel, Id, Problems
from tuishou.money import MAX_ORDER_FEN, Fen, yuan

__all__ = [
    "LINE_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Coupon",
    "Order",
    "OrderLine",
    "amount_problem",
    "coupon_problem",
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
    "coupon",
    "coupon_eligible",
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


class Coupon(_OrderPart):
    """An order-level coupon (优惠券): ``amount`` fen off the lines it applies to.

    It applies to the lines whose SKU is in ``skus`` or whose group is in ``groups``; both
    empty: to every line. One coupon per order (as yudao and CRMEB orders have).

    >>> coupon = Coupon(coupon_id="c-30", amount=3000, groups=["xiaomi"])
    >>> coupon.applies_to(OrderLine(sku="band", group="xiaomi", amount=100))
    True
    """

    coupon_id: Id
    amount: Annotated[Fen, AfterValidator(_line_amount)] = Field(ge=1, strict=True)
    skus: tuple[Id, ...] = ()
    groups: tuple[Id, ...] = ()

    def applies_to(self, line: OrderLine) -> bool:
        """Whether the coupon is spread over ``line``."""
        if not self.skus and not self.groups:
            return True
        return line.sku in self.skus or line.group in self.groups


class Order(_OrderPart):
    """An order: who bought, who shared, the lines, and an optional coupon.

    A coupon larger than the lines it applies to, or applying to no line, is refused.

    >>> order = Order(order_id="o-1", buyer_id="D",
    ...               lines=[OrderLine(sku="ear", group="ecosystem", amount=19999)],
    ...               coupon=Coupon(coupon_id="c-1", amount=1999))
    >>> order.amount, order.paid
    (19999, 18000)
    """

    order_id: Id
    buyer_id: Id | None = None
    sharer_id: Id | None = None
    paid_at: AwareTime | None = None
    lines: tuple[OrderLine, ...] = Field(min_length=1)
    coupon: Coupon | None = None

    @model_validator(mode="after")
    def _in_range(self) -> Order:
        problem = amount_problem(self.amount, order_id=self.order_id, lines=len(self.lines))
        if problem is not None:
            raise Problems([problem])
        problem = coupon_problem(self)
        if problem is not None:
            raise Problems([problem])
        return self

    @model_serializer(mode="wrap")
    def _without_no_coupon(self, handler: SerializerFunctionWrapHandler) -> Any:
        """An order without a coupon dumps as before coupons existed (its JSON is part of a
        posted order's fingerprint in the ledger)."""
        dumped = handler(self)
        if isinstance(dumped, dict) and dumped.get("coupon", 0) is None:
            del dumped["coupon"]
        return dumped

    @property
    def amount(self) -> int:
        """The listed total of the whole order (the lines' amounts), in fen (GMV)."""
        return sum(line.amount for line in self.lines)

    @property
    def paid(self) -> int:
        """What the buyer paid for the whole order after its coupon, in fen."""
        return self.amount - (self.coupon.amount if self.coupon is not None else 0)


def coupon_problem(order: Order) -> str | None:
    """Why ``order``'s coupon is refused (no line it applies to, or larger than those
    lines together), or None.

    >>> line = OrderLine(sku="band", group="xiaomi", amount=100)
    >>> coupon_problem(Order.model_construct(order_id="o-1", lines=(line,),
    ...     coupon=Coupon(coupon_id="c", amount=101)))  # doctest: +ELLIPSIS
    "order_id='o-1': coupon 'c' of 101 fen is larger than the 100 fen of the lines it ..."
    """
    coupon = order.coupon
    if coupon is None:
        return None
    eligible = [line.amount for line in order.lines if coupon.applies_to(line)]
    where = f"order_id={order.order_id!r}: coupon {coupon.coupon_id!r} of {coupon.amount} fen"
    if not eligible:
        return (
            f"{where} applies to no line (skus {list(coupon.skus)}, groups "
            f"{list(coupon.groups)}); name a SKU or group of the order, or leave both empty "
            "for every line"
        )
    if coupon.amount > sum(eligible):
        return (
            f"{where} is larger than the {sum(eligible)} fen of the lines it applies to; "
            "a coupon takes at most what those lines cost: check the amount and its SKUs "
            "and groups"
        )
    return None


def order_columns(orders: Iterable[Order]) -> dict[str, list[Any]]:
    """Orders as columns, one row per line: what ``settle_batch`` and ``compare`` read.

    >>> order = Order(order_id="o-1", buyer_id="D", lines=[
    ...     OrderLine(sku="ear", group="ecosystem", amount=19999),
    ...     OrderLine(sku="band", group="xiaomi", amount=24900, quantity=2)])
    >>> order_columns([order])["amount"], order_columns([order])["buyer_id"]
    ([19999, 24900], ['D', 'D'])

    When some order has a coupon, two more columns: ``coupon``, the order's coupon amount on
    every line of it (0: none), and ``coupon_eligible``, whether it applies to the line
    (from the coupon's SKUs and groups).
    """
    orders = list(orders)
    table: dict[str, list[Any]] = {name: [] for name in LINE_COLUMNS}
    for order in orders:
        coupon = order.coupon
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
                coupon.amount if coupon is not None else 0,
                coupon is None or coupon.applies_to(line),
            )
            for name, value in zip(LINE_COLUMNS, row, strict=True):
                table[name].append(value)
    if all(order.coupon is None for order in orders):
        del table["coupon"], table["coupon_eligible"]
    return table
