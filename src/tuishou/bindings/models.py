"""Customer bindings as data (docs/domain.md §16): the rule, an event, a binding, and
``Bindings``, a customer's bindings in time order that never overlap.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from tuishou.errors import InvalidBindingError
from tuishou.models import AwareTime, FrozenModel, Id, Problems
from tuishou.times import check_time, utc

__all__ = [
    "MAX_DAYS",
    "Binding",
    "BindingEvent",
    "BindingHow",
    "BindingMode",
    "BindingRule",
    "Bindings",
    "EventHow",
]

BindingMode = Literal["first", "override", "register"]
EventHow = Literal["share", "register"]
BindingHow = Literal["first_share", "rebind", "register", "import"]
SELF_BINDING_WAY = (
    "a member can never be bound to itself; drop the record (a member's own share link "
    "is no share link)"
)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"days={value!r} is a bool; give an int number of days, or None")
    return value


MAX_DAYS = 36_500
"""The longest a binding may last, in days (100 years); longer is a data error (None: for ever)."""


def _at_most_a_century(value: int | None) -> int | None:
    if value is not None and value > MAX_DAYS:
        raise ValueError(
            f"days={value} is more than {MAX_DAYS} (100 years); give days=None for a binding "
            "that never expires"
        )
    return value


class _BindingPart(FrozenModel):
    error_class: ClassVar = InvalidBindingError
    what: ClassVar[str] = "invalid binding"


class BindingRule(_BindingPart):
    """How share links and registrations bind customers: the mode and the days a binding
    lasts (None = permanent, else an int >= 1). See the module docs.

    >>> BindingRule(mode="override", days=30).days
    30
    >>> BindingRule(mode="first", days=0)
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidBindingError: invalid binding rule: 1 problem(s)
      1. days: Input should be greater than or equal to 1 (got 0)
    """

    what: ClassVar[str] = "invalid binding rule"
    mode: BindingMode
    days: Annotated[int | None, BeforeValidator(_no_bool), AfterValidator(_at_most_a_century)] = (
        Field(default=None, ge=1, strict=True)
    )

    def expiry(self, since: datetime) -> datetime | None:
        """When a binding made at ``since`` stops being in force (None: never).

        >>> from datetime import UTC, datetime
        >>> BindingRule(mode="first", days=1).expiry(datetime(2026, 11, 3, tzinfo=UTC))
        datetime.datetime(2026, 11, 4, 0, 0, tzinfo=datetime.timezone.utc)
        """
        if self.days is None:
            return None
        try:  # exactly days × 24 hours from the instant, whatever the zone (no DST shift)
            return (utc(since) + timedelta(days=self.days)).astimezone(since.tzinfo)
        except OverflowError:
            raise InvalidBindingError(
                f"a binding made at {since.isoformat()} for days={self.days} would end after "
                "the year 9999; give fewer days, or days=None for a binding that never expires"
            ) from None


def _not_self(customer_id: str, member_id: str) -> None:
    if customer_id == member_id:
        raise Problems([f"customer_id={customer_id!r} is member_id: {SELF_BINDING_WAY}"])


class BindingEvent(_BindingPart):
    """A customer arrived through ``member_id``'s share link (``how="share"``) or registered
    under it (``how="register"``) at ``at`` (aware).

    >>> from datetime import UTC, datetime
    >>> BindingEvent(customer_id="B", member_id="B", at=datetime(2026, 11, 3, tzinfo=UTC))
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidBindingError: invalid binding event: 1 problem(s)
      1. customer_id='B' is member_id: a member can never be bound to itself; drop the ...
    """

    what: ClassVar[str] = "invalid binding event"
    customer_id: Id
    member_id: Id
    at: AwareTime
    how: EventHow = "share"

    @model_validator(mode="after")
    def _check(self) -> BindingEvent:
        _not_self(self.customer_id, self.member_id)
        return self


class Binding(_BindingPart):
    """``customer_id`` is bound to ``member_id`` on ``[since, until)`` (``until`` None =
    permanent; else after ``since``); ``how`` says how the binding was made.

    >>> from datetime import UTC, datetime
    >>> b = Binding(customer_id="c-1", member_id="B", since=datetime(2026, 11, 3, tzinfo=UTC),
    ...             until=None, how="first_share")
    >>> b.in_force(datetime(2030, 1, 1, tzinfo=UTC))
    True
    """

    customer_id: Id
    member_id: Id
    since: AwareTime
    until: AwareTime | None = None
    how: BindingHow = "import"

    @model_validator(mode="after")
    def _check(self) -> Binding:
        _not_self(self.customer_id, self.member_id)
        if self.until is not None and utc(self.until) <= utc(self.since):
            raise Problems(
                [
                    f"until={self.until} is not after since={self.since}; a binding is in "
                    "force on [since, until): give an until after since, or none (permanent)"
                ]
            )
        return self

    def in_force(self, when: datetime) -> bool:
        """Whether the binding holds at ``when`` (aware): ``since <= when < until``."""
        moment = utc(when)
        return utc(self.since) <= moment and (self.until is None or moment < utc(self.until))

    def describe(self) -> str:
        """The binding in words, times to the minute in the offset they were given in.

        >>> from datetime import datetime, timedelta, timezone
        >>> cst = timezone(timedelta(hours=8))
        >>> Binding(customer_id="c-1", member_id="B", since=datetime(2026, 11, 3, 8, tzinfo=cst),
        ...         how="first_share").describe()
        'customer c-1 bound to B since 2026-11-03 08:00 +08:00 (first share)'
        """
        until = "" if self.until is None else f" until {_minute(self.until)}"
        return (
            f"customer {self.customer_id} bound to {self.member_id} since "
            f"{_minute(self.since)}{until} ({_HOW_WORDS[self.how]})"
        )

    def record(self) -> dict[str, Any]:
        """The binding as a plain dict (the columns of a bindings file)."""
        return self.model_dump()


_HOW_WORDS = {
    "first_share": "first share",
    "rebind": "rebound by a later share",
    "register": "registration",
    "import": "imported",
}


def _minute(moment: datetime) -> str:
    """``2026-11-03 08:00 +08:00`` (``UTC`` for a zero offset)."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    sign, seconds = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, rest = divmod(int(seconds.total_seconds()), 3600)
    zone = f"{sign}{hours:02d}:{rest // 60:02d}" + (f":{rest % 60:02d}" if rest % 60 else "")
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


class Bindings:
    """Bindings of many customers: per customer sorted by ``since``, intervals that never
    overlap, no self-binding. Build with ``from_records`` (every problem at once:
    ``InvalidBindingError`` with ``.problems``), ``bind`` or ``Bindings.empty()``; never
    changes afterwards.

    >>> from datetime import UTC, datetime
    >>> day = lambda d: datetime(2026, 11, d, tzinfo=UTC)
    >>> bindings = Bindings.from_records([
    ...     {"customer_id": "c-1", "member_id": "B", "since": day(3), "until": day(5)},
    ...     {"customer_id": "c-1", "member_id": "C", "since": day(5)}])
    >>> len(bindings), bindings.at("c-1", day(5)).member_id, bindings.at("c-2", day(5))
    (2, 'C', None)
    >>> Bindings.from_records([
    ...     {"customer_id": "c-1", "member_id": "B", "since": day(3)},
    ...     {"customer_id": "c-1", "member_id": "C", "since": day(5)}])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidBindingError: invalid bindings: 1 problem(s)
      1. customer 'c-1': the binding to 'C' since 2026-11-05 00:00:00+00:00 starts while ...
    """

    __slots__ = ("_by_customer", "_starts")

    def __init__(self, by_customer: Mapping[str, tuple[Binding, ...]]) -> None:
        problems = [p for found in by_customer.values() for p in _overlap_problems(found)]
        if problems:
            raise InvalidBindingError.from_problems("invalid bindings", problems)
        self._by_customer = dict(by_customer)
        self._starts = {c: [utc(b.since) for b in found] for c, found in by_customer.items()}

    @classmethod
    def empty(cls) -> Bindings:
        """No bindings at all.

        >>> len(Bindings.empty())
        0
        """
        return cls({})

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any] | Binding]) -> Bindings:
        """Bindings from dicts (the fields of ``Binding``; ``how`` defaults to ``import``) or
        ``Binding`` objects, in any order; every bad record and every overlap reported at once.
        """
        problems: list[str] = []
        by_customer: dict[str, list[Binding]] = {}
        for index, record in enumerate(records):
            try:
                binding = record if isinstance(record, Binding) else Binding.model_validate(record)
            except InvalidBindingError as exc:
                problems += [f"record {index}: {problem}" for problem in exc.problems]
                continue
            by_customer.setdefault(binding.customer_id, []).append(binding)
        if problems:  # the good records' overlaps too: every problem at once
            sorted_ = [_sorted(found) for found in by_customer.values()]
            problems += [p for found in sorted_ for p in _overlap_problems(found)]
            raise InvalidBindingError.from_problems("invalid bindings", problems)
        return cls({c: _sorted(found) for c, found in by_customer.items()})

    def records(self) -> list[dict[str, Any]]:
        """Every binding as a dict, by customer (first seen) then ``since``."""
        return [binding.record() for binding in self]

    def for_customer(self, customer_id: str) -> tuple[Binding, ...]:
        """``customer_id``'s bindings, oldest first (empty when it has none)."""
        return self._by_customer.get(customer_id, ())

    def at(self, customer_id: str, when: datetime) -> Binding | None:
        """The binding of ``customer_id`` in force at ``when`` (aware), or None.

        >>> from datetime import UTC, datetime
        >>> Bindings.empty().at("c-1", datetime(2026, 11, 3, tzinfo=UTC)) is None
        True
        """
        check_time(when, name="when")  # aware only: a naive time means nothing here
        starts = self._starts.get(customer_id)
        if not starts:
            return None
        index = bisect.bisect_right(starts, utc(when)) - 1
        if index < 0:
            return None
        found = self._by_customer[customer_id][index]
        return found if found.in_force(when) else None

    @property
    def customers(self) -> tuple[str, ...]:
        """The customers that have a binding."""
        return tuple(self._by_customer)

    def __len__(self) -> int:
        return sum(len(found) for found in self._by_customer.values())

    def __iter__(self) -> Iterator[Binding]:
        for found in self._by_customer.values():
            yield from found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bindings):
            return NotImplemented
        return self._by_customer == other._by_customer

    __hash__ = None  # type: ignore[assignment]  # equal by content, like a dict

    def __repr__(self) -> str:
        return f"Bindings({len(self)} binding(s) of {len(self._by_customer)} customer(s))"


def _sorted(found: Sequence[Binding]) -> tuple[Binding, ...]:
    return tuple(sorted(found, key=lambda b: utc(b.since)))


def _overlap_problems(found: Sequence[Binding]) -> list[str]:
    problems = []
    for before, after in itertools.pairwise(found):
        if before.until is None or utc(before.until) > utc(after.since):
            ends = "never ends" if before.until is None else f"ends at {before.until}"
            problems.append(
                f"customer {after.customer_id!r}: the binding to {after.member_id!r} since "
                f"{after.since} starts while the binding to {before.member_id!r} since "
                f"{before.since} is in force (it {ends}); a customer has one binding at a "
                "time: end the earlier one (until) at or before the later one's since"
            )
    return problems
