"""Customer binding (绑定关系, 锁粉): which member a customer is bound to, and since when.

Glossary (docs/domain.md §16):

- **event**: a customer arrived through a member's share link (``how="share"``) or
  registered under a member (``how="register"``), at an aware time ``at``.
- **binding**: customer → member on the half-open interval ``[since, until)`` (``until``
  None = permanent). ``how`` says how it was made: ``first_share``, ``rebind``,
  ``register`` or ``import`` (loaded from elsewhere).
- **rule** (``BindingRule``): the mode and how many days a binding lasts (None = for ever):

  - ``first`` (首次绑定): an event binds the customer when no binding of it is in force
    at that time; the binding holds until it expires;
  - ``override`` (覆盖绑定): every event rebinds: the binding in force ends at that instant
    and a new one starts (also for the same member: the protection is renewed);
  - ``register`` (注册绑定): only registration events bind (first wins); shares never do.

  Under ``first`` and ``override`` a registration counts as a share arrival.
- **expiry**: a binding made at ``since`` with ``days=d`` is in force until just before
  ``since + d days``; at that instant it is over and the next event binds again.

A member can never be bound to itself (refused). Times are compared in UTC and kept in the
offset they were given in (``explain`` shows them so).

>>> from datetime import datetime, timedelta, timezone
>>> cst = timezone(timedelta(hours=8))
>>> events = [BindingEvent(customer_id="c-1", member_id=m, at=datetime(2026, 11, d, 8, tzinfo=cst))
...           for m, d in [("B", 3), ("C", 5)]]
>>> bindings = bind(events, BindingRule(mode="first", days=7))
>>> bindings.at("c-1", datetime(2026, 11, 9, tzinfo=cst)).member_id
'B'
>>> bindings.at("c-1", datetime(2026, 11, 10, 8, tzinfo=cst)) is None  # 7 days later: expired
True

Modules: :mod:`~tuishou.bindings.models` the data (``BindingRule``, ``BindingEvent``,
``Binding``, ``Bindings``), :mod:`~tuishou.bindings.replay` how events make bindings
(``apply_event``, ``bind``, ``share_events``).
"""

from tuishou.bindings.models import (
    Binding,
    BindingEvent,
    BindingHow,
    BindingMode,
    BindingRule,
    Bindings,
    EventHow,
)
from tuishou.bindings.replay import apply_event, bind, share_events

__all__ = [
    "Binding",
    "BindingEvent",
    "BindingHow",
    "BindingMode",
    "BindingRule",
    "Bindings",
    "EventHow",
    "apply_event",
    "bind",
    "share_events",
]
