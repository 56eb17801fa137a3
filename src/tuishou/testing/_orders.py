"""Orders for property tests: member, guest and anonymous buyers, share links, huge amounts.

Three orders in four are bought by a member of the tree (self-purchase, or as its inviter's
customer) or come through a member's share link: only those pay anybody. The others are
bought by a guest the tree does not know, or by nobody. Orders go up to the supported
maximum (``MAX_ORDER_FEN``, ¥100 000 000 per order: each of 4 lines up to a quarter of it),
where exact integer arithmetic matters. Shrinking moves towards one line of 0 fen, bought by
the newest member.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tuishou.errors import ArgumentTypeError, InvalidArgumentError
from tuishou.money import MAX_ORDER_FEN
from tuishou.orders import Coupon, Order, OrderLine
from tuishou.testing._arguments import (
    DEFAULT_GROUPS,
    DEFAULT_SKUS,
    check_count,
    check_names,
    check_sizes,
    check_text,
    sample,
)
from tuishou.tree import InviteTree

__all__ = ["coupons_for", "order_batches", "orders"]

_MAX_QUANTITY = 3


def orders(
    tree: InviteTree,
    *,
    groups: Sequence[str] = DEFAULT_GROUPS,
    skus: Sequence[str] = DEFAULT_SKUS,
    max_lines: int = 4,
    max_amount: int | None = None,
    order_id: str = "o1",
    coupons: bool = False,
) -> st.SearchStrategy[Order]:
    """Orders called ``order_id`` by buyers and sharers from ``tree`` (as it is now).

    Lines (1 to ``max_lines``) are of a product group in ``groups`` (your policy's
    ``group_rates`` keys) and a sku in ``skus`` (include some of ``policy.sku_rates`` to
    reach them), each paid 0 to ``max_amount`` fen (default: ``MAX_ORDER_FEN // max_lines``,
    so that every order is within the supported maximum). With ``coupons``, about half the
    orders carry a coupon (:func:`coupons_for`) of up to what its lines cost.

    >>> from hypothesis import find
    >>> from tuishou import InviteTree
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "member"}])
    >>> order = find(orders(tree), lambda o: o.sharer_id == "A")
    >>> order.order_id, order.buyer_id, order.lines
    ('o1', 'A', (OrderLine(sku='sku-0', group='xiaomi', amount=0, quantity=1),))
    """
    fields = _fields(_parts(tree, groups, skus, max_lines, max_amount), _flag(coupons))
    return fields.map(functools.partial(_order, check_text("order_id", order_id)))


def order_batches(
    tree: InviteTree,
    *,
    min_size: int = 1,
    max_size: int = 8,
    groups: Sequence[str] = DEFAULT_GROUPS,
    skus: Sequence[str] = DEFAULT_SKUS,
    max_lines: int = 4,
    max_amount: int | None = None,
    coupons: bool = False,
) -> st.SearchStrategy[list[Order]]:
    """Lists of ``min_size`` to ``max_size`` orders with distinct ids ``o0``, ``o1``, ...

    Each order is drawn as by :func:`orders`; use a batch for what concerns several orders
    together (a ledger, ``settle_batch``, totals per member). ``coupons`` as for
    :func:`orders`.

    >>> from hypothesis import find
    >>> from tuishou import InviteTree
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "member"}])
    >>> [order.order_id for order in find(order_batches(tree), lambda b: len(b) == 3)]
    ['o0', 'o1', 'o2']
    """
    low, high = check_sizes(min_size, max_size, least=0)
    fields = _fields(_parts(tree, groups, skus, max_lines, max_amount), _flag(coupons))
    return st.lists(fields, min_size=low, max_size=high).map(_numbered)


def coupons_for(lines: Sequence[OrderLine]) -> st.SearchStrategy[Coupon | None]:
    """No coupon, or a coupon for these lines: on every line, or restricted to some of their
    SKUs or groups, of 1 fen up to what the lines it applies to cost (none if they cost 0).

    >>> from hypothesis import find
    >>> lines = [OrderLine(sku="a", group="g", amount=300), OrderLine(sku="b", group="h",
    ...                                                               amount=100)]
    >>> find(coupons_for(lines), lambda c: c is not None and c.groups != ()).groups
    ('g',)
    """
    skus = tuple(sorted({line.sku for line in lines}))
    groups = tuple(sorted({line.group for line in lines}))
    return st.none() | st.tuples(
        st.lists(sample(skus), max_size=2, unique=True),
        st.lists(sample(groups), max_size=2, unique=True),
        st.integers(1, MAX_ORDER_FEN),
    ).map(functools.partial(_coupon, lines))


def _coupon(lines: Sequence[OrderLine], drawn: tuple[list[str], list[str], int]) -> Coupon | None:
    skus, groups, amount = drawn
    eligible = [
        line for line in lines if not (skus or groups) or (line.sku in skus or line.group in groups)
    ]
    most = sum(line.amount for line in eligible)
    if not most:
        return None
    return Coupon(coupon_id="coupon", amount=1 + (amount - 1) % most, skus=skus, groups=groups)


def _flag(coupons: object) -> bool:
    if not isinstance(coupons, bool):
        raise ArgumentTypeError(f"coupons={coupons!r}; pass True or False")
    return coupons


# Who bought and who shared. A member buying or a member's share link is how an order pays
# anybody, so these are six in eight; shrinking moves to the first, a member's own purchase.
_HOW = ("member", "shared", "member", "shared", "member", "shared", "guest", "nobody")


@dataclass(frozen=True)
class _Parts:
    """The strategies an order is drawn from, made once per ``orders(...)`` call."""

    how: st.SearchStrategy[str]
    buyers: Mapping[str, st.SearchStrategy[str | None]]
    sharers: st.SearchStrategy[str]
    lines: st.SearchStrategy[list[OrderLine]]


def _parts(
    tree: InviteTree,
    groups: Sequence[str],
    skus: Sequence[str],
    max_lines: int,
    max_amount: int | None,
) -> _Parts:
    """Check the arguments; take the members now, so that every draw sees the same."""
    if not isinstance(tree, InviteTree):
        raise ArgumentTypeError(
            f"tree is a {type(tree).__name__}, expected InviteTree; draw "
            "one with invite_trees() or build one with "
            "InviteTree.from_records(records)"
        )
    max_lines = check_count("max_lines", max_lines, least=1)
    lines = st.lists(
        _lines(
            check_names("groups", groups),
            check_names("skus", skus),
            _line_bound(max_amount, max_lines),
        ),
        min_size=1,
        max_size=max_lines,
    )
    # Newest members first: hypothesis favours the first of a sample, and members that joined
    # last (deepest, in a tree built from records) have the longest chains above them.
    members = tuple(tree)[::-1]
    guest = st.just(_guest(members))
    if not members:
        return _Parts(
            sample(("guest", "nobody")), {"guest": guest, "nobody": st.none()}, st.nothing(), lines
        )
    member = sample(members)
    buyers = {
        "member": member,
        "guest": guest,
        "nobody": st.none(),
        "shared": member | guest | st.none(),
    }
    return _Parts(sample(_HOW), buyers, member, lines)


@st.composite
def _fields(draw: st.DrawFn, parts: _Parts, coupons: bool = False) -> dict[str, Any]:
    """An order but its id: drawn alike for one order or a list of them."""
    lines = draw(parts.lines)
    how = draw(parts.how)
    fields: dict[str, Any] = {
        "buyer_id": draw(parts.buyers[how]),
        "sharer_id": draw(parts.sharers) if how == "shared" else None,
        "lines": lines,
    }
    if coupons:
        fields["coupon"] = draw(coupons_for(lines))
    return fields


def _order(order_id: str, fields: dict[str, Any]) -> Order:
    return Order(order_id=order_id, **fields)


def _numbered(drawn: list[dict[str, Any]]) -> list[Order]:
    return [Order(order_id=f"o{i}", **fields) for i, fields in enumerate(drawn)]


def _lines(
    groups: tuple[str, ...], skus: tuple[str, ...], max_amount: int
) -> st.SearchStrategy[OrderLine]:
    # Hypothesis draws most amounts below ¥10 000 and a tenth above ¥10 000 000, and the bound
    # itself now and then: no mixture of ranges needed, which would shrink worse.
    amounts = st.integers(0, max_amount)
    return st.builds(
        OrderLine,
        sku=sample(skus),
        group=sample(groups),
        amount=amounts,
        quantity=st.integers(1, _MAX_QUANTITY),
    )


def _line_bound(max_amount: int | None, max_lines: int) -> int:
    """The most one line may be paid: orders stay within ``MAX_ORDER_FEN``."""
    if max_amount is None:
        return MAX_ORDER_FEN // max_lines
    bound = check_count("max_amount", max_amount, least=0)
    if bound * max_lines > MAX_ORDER_FEN:
        raise InvalidArgumentError(
            f"max_amount={bound} x max_lines={max_lines} is above the supported order amount "
            f"MAX_ORDER_FEN={MAX_ORDER_FEN}; use max_amount <= {MAX_ORDER_FEN // max_lines}"
        )
    return bound


def _guest(members: tuple[str, ...]) -> str:
    """A buyer id the tree does not know: "guest", or "guest-1", ... if a member has it."""
    taken = set(members)
    return next(
        g for g in ("guest", *(f"guest-{n}" for n in range(1, len(taken) + 2))) if g not in taken
    )
