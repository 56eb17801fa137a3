"""Customer bindings and paid times for property tests (docs/domain.md §16).

Times are drawn on a grid of whole hours from ``start``, and binding rules last 1 or 2 days
or for ever, so that orders paid on the same grid land exactly on a binding's start and
expiry: the boundaries are where a half-open interval can go wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from tuishou.bindings import BindingEvent, BindingRule, Bindings, bind
from tuishou.errors import ArgumentTypeError
from tuishou.orders import Order
from tuishou.testing._arguments import check_count, check_flag, check_names, sample
from tuishou.tree import InviteTree

__all__ = ["binding_rules", "bindings", "paid_times"]

DEFAULT_START = datetime(2026, 11, 1, tzinfo=UTC)


def binding_rules() -> st.SearchStrategy[BindingRule]:
    """Every mode, lasting 1 or 2 days or for ever.

    >>> from hypothesis import find
    >>> find(binding_rules(), lambda rule: rule.days == 2).mode
    'first'
    """
    return st.builds(
        BindingRule,
        mode=sample(("first", "override", "register")),
        days=st.none() | st.integers(1, 2),
    )


def bindings(
    tree: InviteTree,
    *,
    customers: Sequence[str] = ("guest",),
    start: datetime = DEFAULT_START,
    hours: int = 72,
    max_events: int = 8,
    members_too: bool = True,
) -> st.SearchStrategy[Bindings]:
    """The bindings that up to ``max_events`` share and registration events make under a
    drawn rule (:func:`binding_rules`): customers from ``customers`` (and the tree's members,
    with ``members_too``), bound to members of ``tree``, at whole hours from ``start`` up to
    ``start + hours``.

    The default customer ``"guest"`` is the guest buyer of :func:`tuishou.testing.orders`.

    >>> from hypothesis import find
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> [b.member_id for b in find(bindings(tree), lambda found: len(found) > 0)]
    ['A']
    """
    if not isinstance(tree, InviteTree):
        raise ArgumentTypeError(f"tree is a {type(tree).__name__}, expected InviteTree")
    members = tuple(tree)[::-1]
    if not members:
        return st.just(Bindings.empty())
    who = check_names("customers", customers) + (
        members if check_flag("members_too", members_too) else ()
    )
    times = _grid(start, check_count("hours", hours, least=0))
    pairs = st.tuples(sample(who), sample(members)).filter(lambda pair: pair[0] != pair[1])
    events = st.builds(
        lambda pair, at, how: BindingEvent(customer_id=pair[0], member_id=pair[1], at=at, how=how),
        pairs,
        times,
        sample(("share", "register")),
    )
    drawn = st.lists(events, max_size=check_count("max_events", max_events, least=0))
    return st.builds(bind, drawn, binding_rules())


def paid_times(
    orders: list[Order],
    *,
    start: datetime = DEFAULT_START,
    hours: int = 72,
    near: Bindings | None = None,
) -> st.SearchStrategy[list[Order]]:
    """``orders`` each paid at a whole hour from ``start`` up to ``start + hours`` (the grid
    :func:`bindings` draws on), or now and then at a time between two hours; with ``near``,
    often exactly when one of its bindings starts or ends, or a second before.

    >>> from hypothesis import find
    >>> from tuishou.orders import OrderLine
    >>> order = Order(order_id="o1", lines=[OrderLine(sku="s", group="g", amount=1)])
    >>> find(paid_times([order]), lambda found: True)[0].paid_at
    datetime.datetime(2026, 11, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    times = _grid(start, check_count("hours", hours, least=0))
    anywhere = times | times.map(lambda moment: moment + timedelta(seconds=1))
    stamps = st.tuples(*(_near(order, near, anywhere) for order in orders))
    return stamps.map(
        lambda found: [
            order.model_copy(update={"paid_at": moment})
            for order, moment in zip(orders, found, strict=True)
        ]
    )


def _near(
    order: Order, near: Bindings | None, anywhere: st.SearchStrategy[datetime]
) -> st.SearchStrategy[datetime]:
    """A time for ``order``: often an edge of its buyer's bindings (or a second before)."""
    found = () if near is None or order.buyer_id is None else near.for_customer(order.buyer_id)
    edges = {b.since for b in found} | {b.until for b in found if b.until is not None}
    if not edges:
        return anywhere
    second = timedelta(seconds=1)
    return (
        sample(tuple(sorted(edges))).flatmap(lambda edge: st.sampled_from((edge, edge - second)))
        | anywhere
    )


def _grid(start: datetime, hours: int) -> st.SearchStrategy[datetime]:
    if not isinstance(start, datetime) or start.utcoffset() is None:
        raise ArgumentTypeError(f"start={start!r} must be an aware datetime")
    return st.integers(0, hours).map(lambda hour: start + timedelta(hours=hour))
