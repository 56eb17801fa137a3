"""Policy versions (规则版本): which commission policy is in force at a given time.

Glossary:

- **version**: a policy with the time it takes effect (``effective_from``, an aware datetime,
  inclusive) and a name (its ``label``, else ``effective_from`` as ISO text).
- **in force at** ``when``: the version with the latest ``effective_from`` at or before
  ``when`` (compared in UTC). Before the first version no policy is in force: refused.
- **version of an order**: the version in force at the order's ``paid_at``. An order without
  ``paid_at`` is settled under the only version when there is one, and refused when there
  are several (guessing would pay it under the wrong rates).
- **compatible**: every version lists the same tiers in the same order. Members carry tiers,
  so a tier rename changes the tree (``apply_tier_changes``) and then starts a new version;
  versions that disagree on tiers are refused with the differing tiers named. Rates, groups,
  rules and rounding may all change from one version to the next.

>>> from datetime import datetime, timedelta, timezone
>>> from tuishou.examples import example_policy
>>> from tuishou.rules import replace
>>> cst = timezone(timedelta(hours=8))
>>> v1 = example_policy()
>>> v2 = replace(v1, group_rates={"g": "0.2"})
>>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=cst), v1),
...                              (datetime(2026, 12, 1, tzinfo=cst), v2))
>>> versions.policy_at(datetime(2026, 11, 30, 23, 59, 59, tzinfo=cst)).group_rates["g"]
Decimal('0.1')
>>> versions.version_at(datetime(2026, 12, 1, tzinfo=cst)).name
'2026-12-01T00:00:00+08:00'
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime
from functools import cached_property
from typing import ClassVar

from pydantic import Field, model_validator

from tuishou.errors import InvalidArgumentError, InvalidOrderError, InvalidPolicyError
from tuishou.models import AwareTime, FrozenModel, Id, Problems
from tuishou.orders import Order
from tuishou.rules import Policy
from tuishou.times import check_time, utc

__all__ = ["PolicyVersion", "PolicyVersions", "describe_version"]

# Said with every refusal of incompatible tiers: how to change tiers between versions.
TIER_CHANGE_WAY = (
    "every version must list the same tiers in the same order; to rename or add a tier, "
    "change the members' tiers (apply_tier_changes) and give every version the new tiers"
)


class _PolicyPart(FrozenModel):
    error_class: ClassVar = InvalidPolicyError
    what: ClassVar[str] = "invalid policy versions"


class PolicyVersion(_PolicyPart):
    """A policy and the time it takes effect (inclusive, aware); ``name`` identifies it.

    >>> from datetime import UTC, datetime
    >>> from tuishou.examples import example_policy
    >>> version = PolicyVersion(effective_from=datetime(2026, 11, 1, tzinfo=UTC),
    ...                         policy=example_policy(), label="v1")
    >>> version.name, PolicyVersion(effective_from=version.effective_from,
    ...                             policy=version.policy).name
    ('v1', '2026-11-01T00:00:00+00:00')
    >>> PolicyVersion(effective_from=datetime(2026, 11, 1), policy=example_policy())
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidPolicyError: invalid policy versions: 1 problem(s)
      1. effective_from: effective_from=2026-11-01 00:00:00 has no time zone; tuishou ...
    """

    effective_from: AwareTime
    policy: Policy
    label: Id | None = None

    @property
    def name(self) -> str:
        """The label, else ``effective_from`` as ISO text: what a settlement records."""
        return self.label if self.label is not None else self.effective_from.isoformat()

    def describe(self) -> str:
        """The version in words, e.g. "version v1, in force from 2026-11-01 00:00+08:00".

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_policy
        >>> PolicyVersion(effective_from=datetime(2026, 11, 1, tzinfo=UTC),
        ...               policy=example_policy(), label="v1").describe()
        'version v1, in force from 2026-11-01 00:00+00:00'
        """
        return describe_version(self.name, self.effective_from)


def describe_version(name: str, effective_from: datetime | None) -> str:
    """'version NAME, in force from TIME' (to the minute, with the offset); the time when known.

    >>> describe_version("v2", None)
    'version v2'
    """
    if effective_from is None:
        return f"version {name}"
    return f"version {name}, in force from {effective_from.isoformat(' ', 'minutes')}"


class PolicyVersions(_PolicyPart):
    """Policy versions by date: at least one, ``effective_from`` strictly increasing, names
    unique, every version with the same tiers (see the module docs). Every problem is
    reported at once (``InvalidPolicyError``, ``.problems``).

    >>> from datetime import UTC, datetime
    >>> from tuishou.examples import example_policy
    >>> from tuishou.rules import replace
    >>> policy = example_policy()
    >>> PolicyVersions.of((datetime(2026, 12, 1, tzinfo=UTC), policy),
    ...                   (datetime(2026, 11, 1, tzinfo=UTC), replace(policy, tiers=["x"],
    ...                    rules=[{"kind": "seller", "rates": {"x": "0.5"}}])))
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidPolicyError: invalid policy versions: 2 problem(s)
      1. versions.1 (2026-11-01T00:00:00+00:00): effective_from=2026-11-01 00:00:00+00:00 is ...
      2. versions.1 (2026-11-01T00:00:00+00:00): tiers ['x'] differ from versions.0 ...
    """

    versions: tuple[PolicyVersion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> PolicyVersions:
        problems = _order_problems(self.versions) + _tier_problems(self.versions)
        if problems:
            raise Problems(problems)
        return self

    @classmethod
    def of(cls, *pairs: tuple[datetime, Policy]) -> PolicyVersions:
        """Versions from ``(effective_from, policy)`` pairs, named by their times.

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_policy
        >>> len(PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), example_policy())).versions)
        1
        """
        return cls(
            versions=tuple(PolicyVersion(effective_from=when, policy=p) for when, p in pairs)
        )

    @cached_property
    def starts(self) -> tuple[datetime, ...]:
        """Each version's ``effective_from`` in UTC, in order (for searchsorted on instants)."""
        return tuple(utc(version.effective_from) for version in self.versions)

    @property
    def names(self) -> tuple[str, ...]:
        """Each version's name, in order."""
        return tuple(version.name for version in self.versions)

    def version_at(self, when: datetime) -> PolicyVersion:
        """The version in force at ``when`` (aware): the latest ``effective_from <= when``.

        Raises ``InvalidArgumentError`` before the first version (naming both times) and for
        a naive ``when``; ``ArgumentTypeError`` for a non-datetime.

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_policy
        >>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), example_policy()))
        >>> versions.version_at(datetime(2026, 10, 31, tzinfo=UTC))
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidArgumentError: when=2026-10-31 00:00:00+00:00 is before the ...
        """
        problem = self.time_problem(check_time(when, name="when"), name="when")
        if problem is not None:
            raise InvalidArgumentError(problem)
        return self.versions[bisect.bisect_right(self.starts, utc(when)) - 1]

    def policy_at(self, when: datetime) -> Policy:
        """The policy in force at ``when`` (see ``version_at``, which raises the same errors).

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_policy
        >>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), example_policy()))
        >>> versions.policy_at(datetime(2027, 1, 1, tzinfo=UTC)).name
        'demo'
        """
        return self.version_at(when).policy

    def version_for(self, order: Order) -> PolicyVersion:
        """The version ``order`` is settled under: the one in force at its ``paid_at``.

        Without ``paid_at``: the only version when there is one, else ``InvalidOrderError``
        (as for a ``paid_at`` before the first version); ``order_problem`` says why.

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_order, example_policy
        >>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), example_policy()))
        >>> versions.version_for(example_order()).name
        '2026-11-01T00:00:00+00:00'
        """
        problem = self.order_problem(order.order_id, order.paid_at)
        if problem is not None:
            raise InvalidOrderError(problem)
        if order.paid_at is None:
            return self.versions[0]
        return self.versions[bisect.bisect_right(self.starts, utc(order.paid_at)) - 1]

    def versions_for(self, orders: Iterable[Order]) -> list[PolicyVersion]:
        """Each order's version (``version_for``); every refused order named at once
        (``InvalidOrderError`` with ``.problems``).

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_order, example_policy
        >>> policy = example_policy()
        >>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), policy),
        ...                              (datetime(2026, 12, 1, tzinfo=UTC), policy))
        >>> versions.versions_for([example_order()])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidOrderError: orders without a policy version: 1 problem(s)
          1. order 'o1' has no paid_at; with 2 policy versions ...
        """
        found: list[PolicyVersion] = []
        problems: list[str] = []
        for order in orders:
            problem = self.order_problem(order.order_id, order.paid_at)
            if problem is not None:
                problems.append(problem)
            elif not problems:
                found.append(self.version_for(order))
        if problems:
            raise InvalidOrderError.from_problems("orders without a policy version", problems)
        return found

    def order_problem(self, order_id: str, paid_at: datetime | None) -> str | None:
        """Why an order paid at ``paid_at`` (aware or None) has no version, or None.

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_policy
        >>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), example_policy()))
        >>> versions.order_problem("o1", None) is None
        True
        >>> print(versions.order_problem("o1", datetime(2026, 10, 1, tzinfo=UTC)))
        ... # doctest: +ELLIPSIS
        order 'o1': paid_at=2026-10-01 00:00:00+00:00 is before the first policy version ...
        """
        if paid_at is None:
            if len(self.versions) == 1:
                return None
            return (
                f"order {order_id!r} has no paid_at; with {len(self.versions)} policy versions "
                f"({', '.join(self.names)}) the version in force when it was paid decides its "
                "commission: give paid_at (an aware time) for every order"
            )
        problem = self.time_problem(paid_at, name="paid_at")
        return None if problem is None else f"order {order_id!r}: {problem}"

    def time_problem(self, when: datetime, *, name: str) -> str | None:
        """Why no version is in force at ``when`` (aware), or None: before the first one."""
        if utc(when) >= self.starts[0]:
            return None
        first = self.versions[0]
        return (
            f"{name}={when} is before the first policy version {first.name!r} "
            f"(in force from {first.effective_from}); no policy applies then: add a version "
            "in force by that time, or check the time and its zone"
        )

    def version_named(self, name: str) -> PolicyVersion:
        """The version called ``name``; ``InvalidArgumentError`` naming the versions otherwise.

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_policy
        >>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), example_policy()))
        >>> versions.version_named("2026-11-01T00:00:00+00:00").policy.name
        'demo'
        """
        for version in self.versions:
            if version.name == name:
                return version
        raise InvalidArgumentError(
            f"no policy version named {name!r}; the versions are {', '.join(self.names)}"
        )


def _where(index: int, version: PolicyVersion) -> str:
    return f"versions.{index} ({version.name})"


def _order_problems(versions: tuple[PolicyVersion, ...]) -> list[str]:
    """Times not strictly increasing (compared in UTC) and names used twice."""
    problems = []
    seen: dict[str, int] = {}
    for index, version in enumerate(versions):
        if index > 0 and utc(version.effective_from) <= utc(versions[index - 1].effective_from):
            before = versions[index - 1]
            problems.append(
                f"{_where(index, version)}: effective_from={version.effective_from} is not "
                f"after {_where(index - 1, before)}'s {before.effective_from}; list the versions "
                "oldest first, each in force strictly after the one before"
            )
        if version.name in seen:
            problems.append(
                f"{_where(index, version)}: the name {version.name!r} is also versions."
                f"{seen[version.name]}'s; give each version its own label"
            )
        seen.setdefault(version.name, index)
    return problems


def _tier_problems(versions: tuple[PolicyVersion, ...]) -> list[str]:
    """Versions whose tiers differ from the first version's (names and order)."""
    first = versions[0]
    problems = []
    for index, version in enumerate(versions[1:], 1):
        tiers = version.policy.tiers
        if tiers == first.policy.tiers:
            continue
        missing = [t for t in first.policy.tiers if t not in tiers]
        extra = [t for t in tiers if t not in first.policy.tiers]
        detail = (
            f"missing {missing}, extra {extra}"
            if missing or extra
            else "the same tiers in another order"
        )
        problems.append(
            f"{_where(index, version)}: tiers {list(tiers)} differ from {_where(0, first)}'s "
            f"{list(first.policy.tiers)} ({detail}); {TIER_CHANGE_WAY}"
        )
    return problems
