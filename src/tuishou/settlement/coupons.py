"""Order coupons (优惠券分摊): what each line of an order paid once its coupon is spread.

An order's ``Coupon`` (:mod:`tuishou.orders`) is spread over the lines it applies to, in
proportion to their amounts, by largest remainder with ties to the earlier line
(``tuishou.rounding.spread``): the shares add up to the coupon exactly, so the lines' paid
amounts add up to ``Order.paid``. Pools, fixed-amount checks and refunds start from the paid
amounts (``paid_order``); the order is stored and reported as given, with its coupon.

Orders read from columns carry the coupon as two columns (``coupon``, ``coupon_eligible``);
``coupon_from_lines`` turns one order's cells back into a ``Coupon``.
"""

from __future__ import annotations

from collections.abc import Sequence

from tuishou.errors import InvalidOrderError
from tuishou.orders import Coupon, Order, OrderLine, coupon_problem
from tuishou.rounding import spread

__all__ = ["COLUMN_COUPON_ID", "coupon_from_lines", "line_discounts", "paid_order"]

COLUMN_COUPON_ID = "coupon"
"""The ``coupon_id`` of a coupon read from columns, which carry its amount, not its id."""


def line_discounts(order: Order) -> tuple[int, ...]:
    """Each line's share of the order's coupon, in fen (0 on lines it does not apply to).
    A coupon the order cannot carry (an order copied with fewer lines without validation)
    raises ``InvalidOrderError``.

    Example J of docs/domain.md §15: a coupon of 1000 fen over lines of 333, 333 and 334.

    >>> lines = [OrderLine(sku=s, group="g", amount=a) for s, a in [("a", 333), ("b", 333),
    ...                                                             ("c", 334)]]
    >>> line_discounts(Order(order_id="o", lines=lines,
    ...                      coupon=Coupon(coupon_id="c", amount=1000)))
    (333, 333, 334)
    >>> line_discounts(Order(order_id="o", lines=lines,
    ...                      coupon=Coupon(coupon_id="c", amount=100, skus=["a", "c"])))
    (50, 0, 50)
    """
    coupon = order.coupon
    if coupon is None:
        return (0,) * len(order.lines)
    problem = coupon_problem(order)  # an order copied without validation (model_copy)
    if problem is not None:
        raise InvalidOrderError(problem)
    eligible = [i for i, line in enumerate(order.lines) if coupon.applies_to(line)]
    parts = spread([order.lines[i].amount for i in eligible], coupon.amount)
    shares = [0] * len(order.lines)
    for i, part in zip(eligible, parts, strict=True):
        shares[i] = part
    return tuple(shares)


def paid_order(order: Order) -> Order:
    """The same order with each line's paid amount (its amount less its share of the coupon)
    and no coupon: what pools, fixed-amount checks and refunds are computed on. An order
    without a coupon is returned as it is.

    >>> order = Order(order_id="o", lines=[OrderLine(sku="a", group="g", amount=300),
    ...     OrderLine(sku="b", group="g", amount=100)], coupon=Coupon(coupon_id="c", amount=101))
    >>> [line.amount for line in paid_order(order).lines], paid_order(order).coupon
    ([224, 75], None)
    """
    if order.coupon is None:
        return order
    lines = tuple(
        line.model_copy(update={"amount": line.amount - share})  # lower: still valid
        for line, share in zip(order.lines, line_discounts(order), strict=True)
    )
    return order.model_copy(update={"lines": lines, "coupon": None})


def coupon_from_lines(
    order_id: str, amount: int, lines: Sequence[OrderLine], eligible: Sequence[bool]
) -> Coupon | None:
    """The coupon of an order read from columns: ``amount`` fen (0: none), applying to the
    lines flagged ``eligible`` (their SKUs become the coupon's ``skus``; all flagged: every
    line). A SKU on both an eligible and an ineligible line is said by its group when every
    line of that group is flagged; else no coupon says the flags and it is refused
    (``InvalidOrderError``), as the batch engine refuses it.

    >>> lines = [OrderLine(sku=s, group="g", amount=100) for s in ("a", "b")]
    >>> coupon_from_lines("o-1", 50, lines, [True, False]).skus
    ('a',)
    >>> coupon_from_lines("o-1", 50, lines, [True, True]).skus, coupon_from_lines(
    ...     "o-1", 0, lines, [True, True])
    ((), None)
    """
    if not amount:
        return None
    pairs = list(zip(lines, eligible, strict=True))
    flagged = {line.sku for line, on in pairs if on}
    left_out = {line.sku for line, on in pairs if not on}
    if not left_out:
        return Coupon(coupon_id=COLUMN_COUPON_ID, amount=amount)
    skus = flagged - left_out
    groups = {line.group for line, on in pairs if on} - {line.group for line, on in pairs if not on}
    unsaid = sorted(line.sku for line, on in pairs if on and line.sku not in skus)
    if any(line.group not in groups for line, on in pairs if on and line.sku not in skus):
        raise InvalidOrderError(
            f"order_id={order_id!r}: SKU {unsaid[0]!r} is on a line the coupon applies to and "
            "on one it does not (coupon_eligible), and so is its group; a coupon applies by "
            "SKU or group: give every line of that SKU (or of that group) the same "
            "coupon_eligible"
        )
    by_group = tuple(sorted({line.group for line, on in pairs if on and line.sku not in skus}))
    return Coupon(
        coupon_id=COLUMN_COUPON_ID, amount=amount, skus=tuple(sorted(skus)), groups=by_group
    )
