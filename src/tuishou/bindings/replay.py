"""Replaying binding events (docs/domain.md §16): ``apply_event`` is one step under a
``BindingRule``, ``bind`` replays many in time order, ``share_events`` reads share arrivals
from orders. Pure: the same events always give the same bindings.
"""

from __future__ import annotations

from collections.abc import Iterable

from tuishou.bindings.models import Binding, BindingEvent, BindingHow, BindingRule, Bindings
from tuishou.errors import ArgumentTypeError, InvalidBindingError
from tuishou.orders import Order
from tuishou.times import utc

__all__ = ["apply_event", "bind", "share_events"]


def apply_event(
    existing: tuple[Binding, ...], event: BindingEvent, rule: BindingRule
) -> tuple[Binding, ...]:
    """The customer's bindings after one event (the one step ``bind`` repeats; the ledger
    applies single events with it). ``existing`` are that customer's bindings, oldest first;
    the event may not be earlier than the latest ``since`` (``InvalidBindingError``: apply
    events in time order). Returns ``existing`` itself when the event binds nothing.

    Under ``override`` an event at the very instant the latest binding was made replaces it
    (a binding in force for no time at all is not kept).

    >>> from datetime import UTC, datetime
    >>> rule = BindingRule(mode="override")
    >>> one = apply_event((), BindingEvent(customer_id="c", member_id="B",
    ...                   at=datetime(2026, 11, 3, tzinfo=UTC)), rule)
    >>> two = apply_event(one, BindingEvent(customer_id="c", member_id="C",
    ...                   at=datetime(2026, 11, 4, tzinfo=UTC)), rule)
    >>> [(b.member_id, b.until is not None, b.how) for b in two]
    [('B', True, 'first_share'), ('C', False, 'rebind')]
    """
    _check_step(existing, event, rule)
    latest = existing[-1] if existing else None
    current = latest if latest is not None and latest.in_force(event.at) else None
    if rule.mode == "register" and event.how != "register":
        return existing
    if current is not None and rule.mode != "override":
        return existing
    if current is not None and utc(current.since) == utc(event.at):
        return (*existing[:-1], _replaced(existing, event, rule))
    how: BindingHow = "register" if event.how == "register" else "first_share"
    kept = existing
    if current is not None:  # override: the binding in force ends now
        how = "register" if event.how == "register" else "rebind"
        kept = (*existing[:-1], current.model_copy(update={"until": event.at}))
    made = Binding(
        customer_id=event.customer_id,
        member_id=event.member_id,
        since=event.at,
        until=rule.expiry(event.at),
        how=how,
    )
    return (*kept, made)


def _replaced(existing: tuple[Binding, ...], event: BindingEvent, rule: BindingRule) -> Binding:
    """Under ``override``, the binding made at this very instant, made again by ``event``: same
    times, the event's member. It was a rebind if it cut the binding before it short (that
    one's ``until`` is this instant and not its natural expiry), so an identical repeat of an
    event changes nothing."""
    current, before = existing[-1], existing[-2] if len(existing) > 1 else None
    cut = (
        before is not None
        and before.until is not None
        and utc(before.until) == utc(event.at)
        and before.until != rule.expiry(before.since)
    )
    how: BindingHow = "register" if event.how == "register" else "rebind" if cut else "first_share"
    return current.model_copy(update={"member_id": event.member_id, "how": how})


def _check_step(existing: tuple[Binding, ...], event: BindingEvent, rule: BindingRule) -> None:
    for name, value, kind in (("event", event, BindingEvent), ("rule", rule, BindingRule)):
        if not isinstance(value, kind):
            raise ArgumentTypeError(
                f"{name} is a {type(value).__name__}, expected {kind.__name__}; build one with "
                f"{kind.__name__}.model_validate(dict)"
            )
    others = sorted({b.customer_id for b in existing} - {event.customer_id})
    if others:
        raise InvalidBindingError(
            f"existing bindings of customers {others} given for an event of customer "
            f"{event.customer_id!r}; pass only that customer's bindings (for_customer)"
        )
    if existing and utc(event.at) < utc(existing[-1].since):
        raise InvalidBindingError(
            f"event at={event.at} for customer {event.customer_id!r} is before its latest "
            f"binding since={existing[-1].since}; apply events in time order (bind() sorts them)"
        )


def bind(events: Iterable[BindingEvent], rule: BindingRule) -> Bindings:
    """Replay ``events`` under ``rule`` in time order (ties: input order): the bindings they
    make. Pure: the same events always give the same bindings.

    >>> from datetime import UTC, datetime
    >>> events = [BindingEvent(customer_id="c", member_id=m, at=datetime(2026, 11, d, tzinfo=UTC),
    ...                        how=h) for m, d, h in [("B", 3, "share"), ("C", 4, "register")]]
    >>> [(b.member_id, b.how) for b in bind(events, BindingRule(mode="register"))]
    [('C', 'register')]
    """
    if not isinstance(rule, BindingRule):
        raise ArgumentTypeError(
            f"rule is a {type(rule).__name__}, expected BindingRule; build one with "
            "BindingRule(mode=..., days=...)"
        )
    events = list(events)
    for event in events:
        if not isinstance(event, BindingEvent):
            raise ArgumentTypeError(
                f"event is a {type(event).__name__}, expected BindingEvent; build one with "
                "BindingEvent.model_validate(dict), or share_events(orders)"
            )
    found: dict[str, tuple[Binding, ...]] = {}
    for event in sorted(events, key=lambda e: utc(e.at)):  # stable: ties keep input order
        found[event.customer_id] = apply_event(found.get(event.customer_id, ()), event, rule)
    return Bindings({c: made for c, made in found.items() if made})


def share_events(orders: Iterable[Order]) -> list[BindingEvent]:
    """One share event per order that has a sharer, a buyer other than the sharer and a
    ``paid_at`` (in the orders' order). A sharer and another buyer without ``paid_at`` is
    refused (``InvalidBindingError`` naming every such order): bindings are by time.

    >>> from datetime import UTC, datetime
    >>> from tuishou.orders import Order, OrderLine
    >>> line = OrderLine(sku="s", group="g", amount=100)
    >>> share_events([Order(order_id="o1", buyer_id="c-1", sharer_id="B", lines=[line],
    ...                     paid_at=datetime(2026, 11, 3, tzinfo=UTC)),
    ...               Order(order_id="o2", buyer_id="B", sharer_id="B", lines=[line])])
    ... # doctest: +ELLIPSIS
    [BindingEvent(customer_id='c-1', member_id='B', at=datetime.datetime(2026, 11, 3, ...
    """
    events: list[BindingEvent] = []
    problems: list[str] = []
    for order in orders:
        if not isinstance(order, Order):
            raise ArgumentTypeError(
                f"order is a {type(order).__name__}, expected Order; build one with "
                "Order.model_validate(dict)"
            )
        buyer, sharer = order.buyer_id, order.sharer_id
        if buyer is None or sharer is None or buyer == sharer:
            continue
        if order.paid_at is None:
            problems.append(
                f"order {order.order_id!r} (buyer {buyer!r}, shared by {sharer!r}) has no "
                "paid_at; a binding starts when the share is used: give paid_at (an aware time)"
            )
            continue
        events.append(BindingEvent(customer_id=buyer, member_id=sharer, at=order.paid_at))
    if problems:
        raise InvalidBindingError.from_problems("orders without a binding time", problems)
    return events
