"""The customer-binding part of ``Ledger`` (绑定关系, 锁粉): bind, import, read bindings.

``Ledger`` takes these methods from ``BindingMethods``: a part of one facade, kept in its own
module so that each module stays one concept. The semantics of a binding (modes, expiry, a
rebind) are ``tuishou.bindings``' alone: ``Ledger.bind`` applies one event with
``apply_event`` to the customer's recorded bindings, under the ledger's write lock, and
writes what changed (``ledger.binding_store``). The rules are in ``docs/ledger.md``,
Customer bindings.

- **Clock order**: an event that changes the bindings is dated at or after the ledger's clock
  (``ledger.clock``) and moves it; a binding made late would change which member earlier
  orders credited.
- **Idempotent**: an exact repeat of an event that made a binding (the same customer,
  member, time and kind) is a no-op at any time, as is an event that binds nothing (a
  binding is in force under ``first``, a share under ``register``). Under ``override`` two
  events of one customer at the very same instant leave the later one's binding (as
  ``bind``); the earlier one sent again once the clock has moved on is a no-op when it names
  the same member, refused when it names another (it would change what was recorded).
- **Imports** (``record_bindings``) are history, as a new ledger takes a history that began
  before it: not on the clock; identical bindings already recorded are skipped, anything
  overlapping a recorded binding is refused, every problem at once, nothing changed.
"""

from __future__ import annotations

from tuishou.bindings import Binding, BindingEvent, BindingRule, Bindings, apply_event
from tuishou.errors import ArgumentTypeError, InvalidBindingError
from tuishou.ledger import schema as t
from tuishou.ledger.binding_store import change_bindings, read_bindings
from tuishou.ledger.checks import check_ids
from tuishou.ledger.clock import check_clock
from tuishou.ledger.store import Store
from tuishou.times import utc

__all__ = ["BindingMethods", "bind_event", "record_bindings"]


class BindingMethods:
    """``Ledger``'s binding methods; see ``docs/ledger.md``, Customer bindings."""

    _store: Store

    def bind(self, event: BindingEvent, rule: BindingRule) -> Binding | None:
        """Apply one binding event (a share arrival or a registration) under ``rule``, as
        ``tuishou.bindings.apply_event`` does, and record what changed; return the
        customer's binding in force at ``event.at`` afterwards (None: none).

        The event is dated at or after the ledger's clock when it changes anything
        (``LedgerError`` otherwise; it moves the clock); an exact repeat, or an event that
        binds nothing, is a no-op at any time. ``InvalidBindingError`` for an event before
        the customer's latest binding that would change it.

        >>> from datetime import UTC, datetime
        >>> from tuishou.ledger import Ledger
        >>> ledger, rule = Ledger(), BindingRule(mode="first", days=7)
        >>> event = BindingEvent(customer_id="c-1", member_id="B",
        ...                      at=datetime(2026, 11, 3, tzinfo=UTC))
        >>> ledger.bind(event, rule).member_id
        'B'
        >>> ledger.bind(event, rule).how  # the same event again: nothing changes
        'first_share'
        >>> len(ledger.bindings())
        1
        """
        return bind_event(self._store, event, rule)

    def record_bindings(self, bindings: Bindings) -> int:
        """Record bindings made elsewhere (an import: any ``how``, ``import`` included);
        return how many were added. Bindings already recorded identically are skipped; one
        that overlaps a recorded binding of its customer is refused
        (``InvalidBindingError``, every problem at once, nothing recorded). Not on the
        clock: bindings are history, as the orders a new ledger takes.

        >>> from datetime import UTC, datetime
        >>> from tuishou.ledger import Ledger
        >>> bindings = Bindings.from_records([{"customer_id": "c-1", "member_id": "B",
        ...     "since": datetime(2026, 11, 3, tzinfo=UTC), "how": "import"}])
        >>> ledger = Ledger()
        >>> ledger.record_bindings(bindings), ledger.record_bindings(bindings)
        (1, 0)
        """
        return record_bindings(self._store, bindings)

    def bindings(self, customer_id: str | None = None) -> Bindings:
        """The bindings the ledger keeps (of one customer, if given), times in UTC: pass them
        to ``settle``, ``post_batch(..., bindings=)``, the batch engine.

        >>> from tuishou.ledger import Ledger
        >>> len(Ledger().bindings("c-1"))
        0
        """
        if customer_id is not None:
            check_ids(customer_id=customer_id)
            return Bindings.from_records(
                read_bindings(self._store, t.bindings.c.customer_id == customer_id)
            )
        return Bindings.from_records(read_bindings(self._store))


def bind_event(store: Store, event: BindingEvent, rule: BindingRule) -> Binding | None:
    """``Ledger.bind``: one event applied to the customer's recorded bindings, in one
    transaction under the write lock."""
    _check_types(event, rule)
    customer = event.customer_id
    with store.transaction():
        existing = tuple(read_bindings(store, t.bindings.c.customer_id == customer))
        earlier = tuple(b for b in existing if utc(b.since) <= utc(event.at))
        latest = store.latest()
        late = latest is not None and event.at < latest[0]
        if any(_made_by(binding, event, late) for binding in earlier):
            return Bindings({customer: existing}).at(customer, event.at)  # a repeat
        if apply_event(earlier, event, rule) == earlier:  # binds nothing, then or now
            return Bindings({customer: existing}).at(customer, event.at)
        after = apply_event(existing, event, rule)  # refuses an event before the latest
        check_clock(store, event.at, name="event.at", doing="binding")
        change_bindings(store, existing, after)
        store.advance(event.at, f"customer {customer!r} bound to {event.member_id!r}")
        return Bindings({customer: after}).at(customer, event.at)


def _made_by(binding: Binding, event: BindingEvent, late: bool) -> bool:
    """Whether ``binding`` is what ``event`` made: the same member since the same instant,
    made the same way (a registration or a share). A ``late`` event (before the clock) of
    that member at that instant is a repeat whatever its kind: it can only say again what
    was recorded (under ``override`` a registration replaces a share of the same instant)."""
    same = utc(binding.since) == utc(event.at) and binding.member_id == event.member_id
    return same and (late or (binding.how == "register") == (event.how == "register"))


def record_bindings(store: Store, bindings: Bindings) -> int:
    """``Ledger.record_bindings``: add what is not recorded yet, all or nothing."""
    if not isinstance(bindings, Bindings):
        raise ArgumentTypeError(
            f"bindings is a {type(bindings).__name__}, expected Bindings; build them with "
            "Bindings.from_records(records) (or tuishou.io.load_bindings(path))"
        )
    added = 0
    with store.transaction():
        recorded = Bindings.from_records(read_bindings(store))
        merged: dict[str, tuple[Binding, ...]] = {}
        for customer in bindings.customers:
            known = recorded.for_customer(customer)
            new = [b for b in bindings.for_customer(customer) if b not in known]
            if new:
                merged[customer] = (*known, *new)
        try:
            together = Bindings.from_records(b for found in merged.values() for b in found)
        except InvalidBindingError as exc:
            raise InvalidBindingError.from_problems(
                "the bindings overlap bindings the ledger keeps (nothing was recorded; "
                "end the earlier binding at or before the later one's since, or leave the "
                "recorded one out)",
                exc.problems,
            ) from None
        for customer in merged:
            known = recorded.for_customer(customer)
            added += change_bindings(store, known, together.for_customer(customer))[2]
    return added


def _check_types(event: object, rule: object) -> None:
    for name, value, kind in (("event", event, BindingEvent), ("rule", rule, BindingRule)):
        if not isinstance(value, kind):
            raise ArgumentTypeError(
                f"{name} is a {type(value).__name__}, expected {kind.__name__}; build one with "
                f"{kind.__name__}(...)"
            )
