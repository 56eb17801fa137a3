"""Tier ladders (等级): the tiers, lowest first, and what each one requires.

Glossary (docs/domain.md §11):

- **tier ladder**: the tiers, lowest first (member 会员 < pusher 推手 < mentor 导师 < ...).
  The lowest tier has no requirements: everyone holds at least it.
- **requirements**: thresholds for a higher tier, combined with ``all`` (default) or ``any``;
  every threshold is inclusive (exactly at the threshold qualifies).

  - ``min_direct``: active direct invitees (直推);
  - ``min_direct_at``: ``{tier: n}``, active direct invitees at that tier or higher;
  - ``min_team_size``: active members anywhere below (the member itself not counted);
  - ``min_personal_sales``: the member's own sales, in fen;
  - ``min_team_sales``: sales of the member and everyone below, whatever their status.

- **hand-granted tier**: a tier above the lowest with ``requires=None``. Qualification never
  reaches it; only an operator or a migration (等级平移) puts a member there.

Qualification against a ladder lives in :mod:`tuishou.tiers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from tuishou.errors import InvalidLadderError, UnknownTierError, did_you_mean
from tuishou.models import FrozenMap, FrozenModel, Problems, normal_id_field
from tuishou.money import Fen

__all__ = ["Requirements", "RequirementsMode", "Tier", "TierLadder", "example_ladder"]

RequirementsMode = Literal[
    "all",  # every threshold that is set must hold
    "any",  # at least one threshold that is set must hold
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(f"must not be empty or blank (got {value!r})")
    return value


_Name = Annotated[str, Field(strict=True), AfterValidator(_not_blank)]
_Id = Annotated[_Name, AfterValidator(normal_id_field)]  # a tier name: an id (tuishou.ids)
_Count = Annotated[int, Field(strict=True, ge=0)]


class _LadderPart(FrozenModel):
    error_class: ClassVar = InvalidLadderError
    what: ClassVar[str] = "invalid tier ladder"


class Requirements(_LadderPart):
    """What a member needs for a tier: the thresholds set, combined by ``mode``.

    Counts are ints, sales are int fen (a float is refused); at least one threshold must be
    set. ``min_direct_at={"mentor": 2}`` counts active directs whose tier is mentor or higher.

    >>> Requirements(min_direct=3, min_team_sales=500_000).mode
    'all'
    >>> try:
    ...     Requirements(min_personal_sales=396.0)
    ... except TypeError as err:  # an InvalidLadderError, and a TypeError: floats are refused
    ...     print(err.problems[0])
    min_personal_sales: amount=396.0 is a float; pass an int number of fen, e.g. 39600 for ¥396.00
    """

    what: ClassVar[str] = "invalid tier requirements"

    min_direct: _Count | None = None
    min_direct_at: FrozenMap[_Count] | None = None
    min_team_size: _Count | None = None
    min_personal_sales: Fen | None = Field(default=None, strict=True, ge=0)
    min_team_sales: Fen | None = Field(default=None, strict=True, ge=0)
    mode: RequirementsMode = "all"

    @model_validator(mode="after")
    def _some_threshold(self) -> Requirements:
        thresholds = (
            self.min_direct,
            self.min_direct_at,
            self.min_team_size,
            self.min_personal_sales,
            self.min_team_sales,
        )
        if all(value is None for value in thresholds):
            raise Problems(
                ["set at least one threshold, or use requires=None for a tier granted only by hand"]
            )
        if self.min_direct_at is not None and not self.min_direct_at:
            raise Problems(["min_direct_at is empty; name at least one tier, or leave it out"])
        return self


class Tier(_LadderPart):
    """One rung of a ladder: a ``name``, an optional display ``label`` and its requirements.

    ``requires=None`` means two things, by position. On the lowest tier: everyone holds it.
    On a higher tier: qualification never reaches it; it is granted only by an operator
    (``tree.set_tier``) or by a migration from a rival platform. This is deliberate: some
    ranks are appointed, not earned. Without demotion a member keeps such a tier; with
    ``demote=True`` it drops to the tier it qualifies for, like everyone else.

    >>> Tier(name="mentor", label="导师", requires=Requirements(min_direct=3)).label
    '导师'
    """

    what: ClassVar[str] = "invalid tier"

    name: _Id
    label: _Name | None = None
    requires: Requirements | None = None


class TierLadder(_LadderPart):
    """The tiers, lowest first, checked together: every problem is reported at once.

    >>> ladder = example_ladder()
    >>> ladder.names
    ('member', 'pusher', 'mentor', 'senior_advisor')
    >>> ladder.rank("mentor"), ladder.lowest.name, ladder.tier("pusher").label
    (2, 'member', '推手')
    >>> member, vip = Tier(name="member"), Tier(name="vip", requires={"min_direct_at": {"vp": 1}})
    >>> TierLadder(tiers=[member, member, vip])
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidLadderError: invalid tier ladder: 2 problem(s)
      1. tiers: 'member' is listed 2 times; tier names must be unique
      2. tiers.2 (vip): min_direct_at names 'vp', not in the ladder; did you mean 'vip'?
    """

    tiers: tuple[Tier, ...]

    @model_validator(mode="after")
    def _check(self) -> TierLadder:
        problems = _ladder_problems(self.tiers)
        if problems:
            raise Problems(problems)
        return self

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The tier names, lowest first."""
        return tuple(tier.name for tier in self.tiers)

    @cached_property
    def ranks(self) -> Mapping[str, int]:
        """Each tier name's rank, 0 for the lowest (read-only).

        >>> example_ladder().ranks["mentor"]
        2
        """
        return MappingProxyType({name: rank for rank, name in enumerate(self.names)})

    @property
    def lowest(self) -> Tier:
        """The lowest tier, the one everyone holds."""
        return self.tiers[0]

    def rank(self, name: str) -> int:
        """The tier's position, 0 for the lowest; ``UnknownTierError`` for a name not listed.

        >>> example_ladder().rank("mentr")
        Traceback (most recent call last):
        ...
        tuishou.errors.UnknownTierError: tier='mentr' is not in the ladder; did you mean 'mentor'?
        """
        rank = self.ranks.get(name)
        if rank is None:
            raise UnknownTierError(
                f"tier={name!r} is not in the ladder; {did_you_mean(name, self.names)}"
            )
        return rank

    def tier(self, name: str) -> Tier:
        """The tier called ``name``.

        >>> example_ladder().tier("senior_advisor").requires.min_team_size
        8
        """
        return self.tiers[self.rank(name)]


def _ladder_problems(tiers: tuple[Tier, ...]) -> list[str]:
    if not tiers:
        return ["tiers: a ladder needs at least one tier, lowest first"]
    names = [tier.name for tier in tiers]
    unique = list(dict.fromkeys(names))
    problems = [
        f"tiers: {name!r} is listed {names.count(name)} times; tier names must be unique"
        for name in unique
        if names.count(name) > 1
    ]
    if tiers[0].requires is not None:
        problems.append(
            f"tiers.0 ({names[0]}): the lowest tier has requirements, but everyone "
            "holds it; drop them, or add a lower tier below it"
        )
    for index, tier in enumerate(tiers):
        direct_at = tier.requires.min_direct_at if tier.requires is not None else None
        for key in direct_at or {}:
            if key not in names:
                problems.append(
                    f"tiers.{index} ({tier.name}): min_direct_at names {key!r}, "
                    f"not in the ladder; {did_you_mean(key, unique)}"
                )
    return problems


def example_ladder() -> TierLadder:
    """The ladder of docs/domain.md §15 Example C, used by the doctests (``tuishou.examples``)."""
    return TierLadder(
        tiers=[
            Tier(name="member", label="会员"),
            Tier(name="pusher", label="推手", requires=Requirements(min_personal_sales=39_600)),
            Tier(
                name="mentor",
                label="导师",
                requires=Requirements(min_direct=3, min_team_sales=500_000),
            ),
            Tier(
                name="senior_advisor",
                label="高级顾问",
                requires=Requirements(min_direct_at={"mentor": 2}, min_team_size=8),
            ),
        ]
    )
