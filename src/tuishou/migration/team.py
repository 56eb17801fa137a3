"""Tier migration (等级平移): bring a whole team over from a rival platform.

Glossary (docs/domain.md §13):

- **roster**: the incoming team, one ``RosterEntry`` per member: its new ``member_id``, its
  ``inviter_id`` inside the roster (None for the team's **leaders**), and where it comes
  from (``platform``, ``source_tier``, optionally its id there and some evidence).
- **mapping**: (platform, source tier) → one of our tiers, e.g. (每日一淘, 高级顾问) →
  ``senior_advisor``. The rival's names are labels, not ids: they are compared after Unicode
  NFKC normalisation and trimming, so full-width text from a rival's export matches;
  otherwise case-sensitively.
- **ids**: our side's ids (``member_id``, ``inviter_id``, ``attach_to``, the mapped ``tier``
  and the ``cap``) follow :mod:`tuishou.ids`: one that is not normal is refused, naming its
  normal form, and reported with every other problem; it is never normalised silently.
- **cap**: the highest tier a migration may grant.
- **probation**: migrated members hold their granted tier for ``probation_days``; until then
  it is never demoted, and :func:`tuishou.tiers.review_probation` re-qualifies them after.

:func:`migrate_team` is all or nothing: every problem is collected and reported in one
``MigrationError``, and then not one member is added.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from tuishou.errors import InvalidPolicyError, MigrationError, TuishouError, did_you_mean
from tuishou.ids import id_problem, normal_id
from tuishou.members.records import Origin, cycle_problems, member_hint
from tuishou.migration.report import MigratedMember, MigrationReport
from tuishou.models import FrozenModel, Id, Problems
from tuishou.tiers import TierLadder
from tuishou.times import check_time
from tuishou.tree import InviteTree

__all__ = ["MigrationPolicy", "RosterEntry", "TierMapping", "migrate_team", "normalise_name"]


def normalise_name(text: str) -> str:
    """A platform or tier name as compared: NFKC-normalised (full-width → ASCII) and trimmed.

    >>> normalise_name("　ＶＩＰ会员 ")
    'VIP会员'
    """
    return unicodedata.normalize("NFKC", text).strip()


def _not_blank(text: str) -> str:
    # The rival's own text (names, its member id) may be any text but never blank: the member
    # record that keeps it refuses a blank one (members/records.py).
    if not text.strip():
        raise ValueError("must not be empty or blank")
    return text


_Name = Annotated[
    str, Field(strict=True), AfterValidator(normalise_name), AfterValidator(_not_blank)
]

_Text = Annotated[str, Field(strict=True), AfterValidator(_not_blank)]


class TierMapping(FrozenModel):
    """One row of the mapping table: (platform, source_tier) on the rival → our ``tier``.

    The rival's names are matched after NFKC and trimming; ``tier`` is our id, so it must be
    normal already.

    >>> TierMapping(platform=" 每日一淘", source_tier="高级顾问", tier="senior_advisor").platform
    '每日一淘'
    >>> TierMapping(platform="每日一淘", source_tier="高级顾问", tier="senior_advisor ")
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidPolicyError: invalid migration policy: 1 problem(s)
      1. tier: tier='senior_advisor ' is not a normal id; use its normal form 'senior_advisor' ...
    """

    error_class: ClassVar = InvalidPolicyError
    what: ClassVar[str] = "invalid migration policy"

    platform: _Name
    source_tier: _Name
    tier: Id


class MigrationPolicy(FrozenModel):
    """How a rival team's tiers become ours: the mapping table, a cap, probation, fallbacks.

    ``on_unmapped`` is ``"reject"`` (a (platform, source tier) without a row is a problem)
    or ``"lowest"`` (it maps to our lowest tier, and the report says so).

    >>> policy = MigrationPolicy(mappings=[
    ...     TierMapping(platform="云集", source_tier="店主", tier="pusher")], cap="mentor")
    >>> policy.probation_days, policy.on_unmapped
    (90, 'reject')
    """

    error_class: ClassVar = InvalidPolicyError
    what: ClassVar[str] = "invalid migration policy"

    mappings: tuple[TierMapping, ...]
    cap: Id | None = None
    probation_days: int = Field(default=90, ge=0, strict=True)
    on_unmapped: Literal[
        "reject",  # an unmapped (platform, source tier) stops the migration
        "lowest",  # an unmapped one gets our lowest tier, flagged in the report
    ] = "reject"

    @model_validator(mode="after")
    def _unique_rows(self) -> MigrationPolicy:
        seen: dict[tuple[str, str], int] = {}
        problems = []
        for index, row in enumerate(self.mappings):
            key = (row.platform, row.source_tier)
            if key in seen:
                problems.append(
                    f"mappings.{index}: ({row.platform}, {row.source_tier}) is "
                    f"already mapped by mappings.{seen[key]}; keep one row"
                )
            seen.setdefault(key, index)
        if problems:
            raise Problems(problems)
        return self

    def tier_for(self, platform: str, source_tier: str) -> str | None:
        """Our tier for a rival's (platform, source tier), before the cap; None if unmapped.

        >>> MigrationPolicy(mappings=[TierMapping(platform="云集", source_tier="店主",
        ...                                       tier="pusher")]).tier_for("云集 ", "店主")
        'pusher'
        """
        key = (normalise_name(platform), normalise_name(source_tier))
        return next(
            (row.tier for row in self.mappings if (row.platform, row.source_tier) == key), None
        )

    def check(self, ladder: TierLadder) -> None:
        """Refuse, with every problem, mapped tiers or a cap that ``ladder`` does not list."""
        problems = [
            f"mappings.{i} ({row.platform}, {row.source_tier}): tier {row.tier!r} is not in "
            f"the ladder; {did_you_mean(row.tier, ladder.names)}"
            for i, row in enumerate(self.mappings)
            if row.tier not in ladder.names
        ]
        if self.cap is not None and self.cap not in ladder.names:
            problems.append(
                f"cap: {self.cap!r} is not in the ladder; {did_you_mean(self.cap, ladder.names)}"
            )
        if problems:
            raise InvalidPolicyError.from_problems(
                "migration policy does not fit the ladder", problems
            )


class RosterEntry(FrozenModel):
    """One incoming member: its new id, its inviter inside the roster, where it comes from.

    ``member_id`` and ``inviter_id`` are our ids (normal, or refused); ``platform`` and
    ``source_tier`` are the rival's labels, matched after NFKC and trimming.

    >>> RosterEntry(member_id="L1", platform="每日一淘", source_tier="高级顾问").inviter_id is None
    True
    """

    error_class: ClassVar = MigrationError
    what: ClassVar[str] = "invalid roster entry"

    member_id: Id
    inviter_id: Id | None = None
    platform: _Name
    source_tier: _Name
    source_member_id: _Text | None = None
    evidence: str | None = Field(default=None, strict=True)


def migrate_team(
    tree: InviteTree,
    roster: Iterable[RosterEntry | Mapping[str, Any]],
    *,
    ladder: TierLadder,
    policy: MigrationPolicy,
    attach_to: str | None = None,
    as_of: datetime,
) -> MigrationReport:
    """Add a rival platform's team to ``tree``, keeping its structure; all or nothing.

    Leaders attach under ``attach_to`` (or become roots); everyone else keeps its inviter.
    Each member gets ``min(mapped tier, cap)``, status active, ``joined_at = as_of``, a fresh
    invite code, its origin, and probation until ``as_of + probation_days``. Every problem
    (ids that are not normal, duplicate ids, ids already in the tree, inviters outside the
    roster, cycles, an unknown ``attach_to``, unmapped tiers under ``"reject"``) is raised
    together in one ``MigrationError``, and then the tree is unchanged.

    >>> from datetime import UTC
    >>> from tuishou.examples import example_ladder
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "member"}])
    >>> policy = MigrationPolicy(mappings=[
    ...     TierMapping(platform="每日一淘", source_tier="高级顾问", tier="senior_advisor"),
    ...     TierMapping(platform="每日一淘", source_tier="顾问", tier="mentor")])
    >>> report = migrate_team(tree, [
    ...     {"member_id": "L", "platform": "每日一淘", "source_tier": "高级顾问"},
    ...     {"member_id": "M", "inviter_id": "L", "platform": "每日一淘", "source_tier": "顾问"},
    ... ], ladder=example_ladder(), policy=policy, attach_to="A",
    ...   as_of=datetime(2026, 11, 24, tzinfo=UTC))
    >>> tree.upline("M"), tree.tier("L"), tree.probation_until("L").isoformat()
    (['L', 'A'], 'senior_advisor', '2027-02-22T00:00:00+00:00')
    >>> report.by_tier
    {'mentor': 1, 'senior_advisor': 1}
    """
    check_time(as_of, name="as_of", error=MigrationError)
    policy.check(ladder)
    entries, refused, problems = _parse(roster)
    problems += _roster_problems(tree, entries, refused, attach_to)
    members = _grant(entries, ladder, policy, tree, problems)
    if problems:
        raise MigrationError.from_problems("migration refused, nothing was added", problems)
    until = as_of + timedelta(days=policy.probation_days)
    _add(tree, members, attach_to, as_of, until)
    return MigrationReport(
        members=tuple(m.with_code(tree.invite_code(m.member_id)) for m in members),
        attach_to=attach_to,
        as_of=as_of,
        probation_until=until,
        tiers=ladder.names,
    )


def _parse(roster: Iterable[Any]) -> tuple[dict[int, RosterEntry], set[str], list[str]]:
    """The valid entries by their index in the roster; what the refused entries' member ids
    stand for (so that their team is not also told its inviter is missing); every problem."""
    entries: dict[int, RosterEntry] = {}
    refused: set[str] = set()
    problems: list[str] = []
    for index, item in enumerate(roster):
        try:
            entries[index] = (
                item if isinstance(item, RosterEntry) else RosterEntry.model_validate(item)
            )
        except TuishouError as exc:
            found = getattr(exc, "problems", (str(exc),))
            problems += [f"entry {index}: {problem}" for problem in found]
            member_id = item.get("member_id") if isinstance(item, Mapping) else None
            if isinstance(member_id, str):
                refused |= _meant(member_id)
    if not entries and not problems:
        problems.append("the roster is empty: nothing to migrate")
    return entries, refused, problems


def _meant(member_id: str) -> set[str]:
    """What a refused member id may stand for: as given, normal, without control characters.

    >>> sorted(_meant("Ｔ1\\x07 "))
    ['T1', 'T1\\x07', 'Ｔ1\\x07 ']
    """
    normal = normal_id(member_id)
    return {member_id, normal, "".join(char for char in normal if char.isprintable())}


def _roster_problems(
    tree: InviteTree, entries: dict[int, RosterEntry], refused: set[str], attach_to: str | None
) -> list[str]:
    problems: list[str] = []
    first: dict[str, int] = {}
    roster_ids = {entry.member_id for entry in entries.values()}
    known = roster_ids | refused  # an inviter refused already is not reported missing too
    for index, entry in entries.items():
        where = f"entry {index} (member_id={entry.member_id!r})"
        earlier = first.setdefault(entry.member_id, index)
        if earlier != index:
            problems.append(f"{where}: duplicate member_id, first in entry {earlier}")
        if entry.member_id in tree:
            problems.append(f"{where}: is already a member of the tree; give it a new id")
        if entry.inviter_id == entry.member_id:
            problems.append(f"{where}: invites itself (inviter_id={entry.inviter_id!r})")
        elif entry.inviter_id is not None and entry.inviter_id not in known:
            where_inviter = (
                "a member of the tree, not of the roster"
                if entry.inviter_id in tree
                else "not in the roster"
            )
            problems.append(
                f"{where}: inviter_id={entry.inviter_id!r} is {where_inviter}; "
                "inviters must be roster entries (leaders have none)"
            )
    links = {e.member_id: e.inviter_id for e in entries.values() if e.inviter_id != e.member_id}
    problems += cycle_problems(links)
    if attach_to is not None:
        problems += _attach_problems(tree, attach_to)
    return problems


def _attach_problems(tree: InviteTree, attach_to: object) -> list[str]:
    """Why ``attach_to`` cannot take the leaders: not an id in normal form, or not a member."""
    problem = id_problem(attach_to, name="attach_to")
    if problem is not None:
        return [problem]
    if attach_to not in tree:
        return [
            f"attach_to={attach_to!r} is not a member of the tree; {member_hint(attach_to, tree)}"
        ]
    return []


def _grant(
    entries: dict[int, RosterEntry],
    ladder: TierLadder,
    policy: MigrationPolicy,
    tree: InviteTree,
    problems: list[str],
) -> list[MigratedMember]:
    cap = ladder.rank(policy.cap) if policy.cap is not None else len(ladder.names) - 1
    members = []
    for index, entry in entries.items():
        mapped = policy.tier_for(entry.platform, entry.source_tier)
        if mapped is None and policy.on_unmapped == "reject":
            known = [r.source_tier for r in policy.mappings if r.platform == entry.platform]
            hint = (
                did_you_mean(entry.source_tier, known)
                if known
                else f"no mapping for platform {entry.platform!r} at all"
            )
            problems.append(
                f"entry {index} (member_id={entry.member_id!r}): ({entry.platform}, "
                f"{entry.source_tier}) has no mapping; {hint}"
            )
            continue
        rank = ladder.rank(mapped) if mapped is not None else 0
        granted = ladder.names[min(rank, cap)]
        if tree.tiers is not None and granted not in tree.tiers:
            problems.append(f"entry {index}: tier {granted!r} is not one the tree accepts")
        members.append(
            MigratedMember(
                member_id=entry.member_id,
                inviter_id=entry.inviter_id,
                platform=entry.platform,
                source_tier=entry.source_tier,
                source_member_id=entry.source_member_id,
                mapped_tier=mapped,
                granted_tier=granted,
                capped=rank > cap,
                evidence=entry.evidence,
                invite_code=None,
            )
        )
    return members


def _add(
    tree: InviteTree,
    members: list[MigratedMember],
    attach_to: str | None,
    as_of: datetime,
    until: datetime,
) -> None:
    """Add leaders first, then each generation; undo everything if anything fails."""
    by_inviter: dict[str | None, list[MigratedMember]] = {}
    for member in members:
        by_inviter.setdefault(member.inviter_id, []).append(member)
    ordered = list(by_inviter.get(None, []))
    for member in ordered:  # grows while walking: breadth-first from the leaders
        ordered += by_inviter.get(member.member_id, [])
    added: list[str] = []
    try:
        for m in ordered:
            tree.add_member(
                m.member_id,
                inviter_id=m.inviter_id or attach_to,
                tier=m.granted_tier,
                joined_at=as_of,
                probation_until=until,
                origin=Origin(m.platform, m.source_tier, m.source_member_id),
            )
            added.append(m.member_id)
    except BaseException:
        tree.remove_members(added)
        raise
