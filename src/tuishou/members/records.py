"""Member records, checked before a tree is built from them: every problem, collected.

A record is a mapping with ``member_id``, ``inviter_id`` (None for a root), ``tier`` and
optionally ``status``, ``joined_at`` and ``invite_code``. Checks run over all records so that
one ``InvalidTreeError`` can list every problem (bad fields, duplicates, unknown inviters,
self-invites and cycles) and nothing is built from a bad batch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from tuishou.errors import ArgumentTypeError, InvalidInviteCodeError, InvalidTreeError, did_you_mean
from tuishou.ids import id_problem, is_missing
from tuishou.members.codes import check_code
from tuishou.times import time_problem

__all__ = [
    "EXTRA_KEYS",
    "NODE_KEYS",
    "NO_ORIGIN",
    "RECORD_KEYS",
    "STATUSES",
    "SUGGEST_LIMIT",
    "Origin",
    "Status",
    "check_records",
    "checked_rows",
    "code_problems",
    "cycle_problems",
    "datetime_problems",
    "duplicate_problem",
    "field_problems",
    "id_field_problems",
    "location",
    "member_hint",
    "member_problems",
    "node_attributes",
    "parents_first",
    "text_problems",
    "unknown_inviter",
]

Status = Literal[
    "active",  # earns commissions and counts towards others' qualification
    "suspended",  # keeps its place in the tree but earns nothing (see docs/domain.md §9)
]
STATUSES: tuple[str, ...] = get_args(Status)
# The attributes every member node carries (see InviteTree), then the record-only fields.
NODE_KEYS = (
    "tier",
    "status",
    "joined_at",
    "origin_platform",
    "origin_tier",
    "origin_member_id",  # set for members migrated in
    "probation_until",  # a migrated member's tier cannot be demoted before this time
)
RECORD_KEYS = ("member_id", "inviter_id", *NODE_KEYS, "invite_code")
EXTRA_KEYS = NODE_KEYS[2:]  # the node attributes kept only when set (all but tier and status)
_OPTIONAL_TEXT = ("origin_platform", "origin_tier", "origin_member_id")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a migrated member came from: the rival platform, its tier there, its id there."""

    platform: str
    source_tier: str
    source_member_id: str | None = None

    def fields(self) -> dict[str, str | None]:
        """The record fields of this origin.

        >>> Origin("每日一淘", "顾问").fields()["origin_tier"]
        '顾问'
        """
        return {
            "origin_platform": self.platform,
            "origin_tier": self.source_tier,
            "origin_member_id": self.source_member_id,
        }


NO_ORIGIN: dict[str, str | None] = dict.fromkeys(_OPTIONAL_TEXT)  # a member who joined here
SUGGEST_LIMIT = 50_000  # above this many members, skip "did you mean" (it scans them all)


def member_hint(member_id: object, members: Collection[str]) -> str:
    """The hint that follows "is not in the tree": a close id, or "check the id" (also for
    trees above ``SUGGEST_LIMIT`` members, where suggesting would scan them all).

    >>> member_hint("Alise", ["Alice", "Bob"]), member_hint(7, ["Alice"])
    ("did you mean 'Alice'?", 'check the id')
    """
    if not isinstance(member_id, str) or len(members) > SUGGEST_LIMIT:
        return "check the id"
    return did_you_mean(member_id, members)


def checked_rows(records: Iterable[Any], tiers: Sequence[str] | None) -> list[dict[str, Any]]:
    """The rows of ``records``, checked and ordered parents first, or one ``InvalidTreeError``
    listing every problem (bad fields, duplicates, unknown inviters, cycles, shared codes)."""
    rows, links, problems = check_records(list(records), tiers)
    problems += cycle_problems(links)
    problems += code_problems(rows)
    if problems:
        raise InvalidTreeError.from_problems("invalid tree", problems)
    return parents_first(rows)


def check_records(
    records: list[Any], tiers: Sequence[str] | None
) -> tuple[list[dict[str, Any]], dict[str, str | None], list[str]]:
    """Check every record; return the good rows, every usable inviter link, and the problems."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    checked: list[tuple[str, dict[str, Any]]] = []
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            problems.append(f"record {index}: is a {type(record).__name__}, expected a mapping")
            continue
        # An empty cell however it was read (None, NaN, pandas' NA) is None, as in from_arrays.
        row = {key: None if is_missing(value := record.get(key)) else value for key in RECORD_KEYS}
        row["status"] = "active" if row["status"] is None else row["status"]
        where = location("record", index, row["member_id"])
        row_problems = [f"{where}: {p}" for p in field_problems(row, record, tiers)]
        problems += row_problems
        checked.append((where, row))
        member = row["member_id"]
        if isinstance(member, str) and member in seen:
            problems.append(f"{where}: {duplicate_problem(f'record {seen[member]}')}")
            continue
        if isinstance(member, str) and member.strip():
            seen[member] = index  # known even if the record is bad: no knock-on problems
        if not row_problems:
            rows.append(row)
    links: dict[str, str | None] = {}  # every usable inviter link, even of bad records
    for where, row in checked:
        member, inviter = row["member_id"], row["inviter_id"]
        if isinstance(inviter, str) and (problem := unknown_inviter(inviter, seen)):
            problems.append(f"{where}: {problem}")
        if isinstance(member, str) and member in seen and member != inviter:
            links.setdefault(member, inviter if isinstance(inviter, str) else None)
    return rows, links, problems


def member_problems(row: Mapping[str, Any], ladder: Sequence[str] | None = None) -> list[str]:
    """What is wrong with a member's own fields (``member_id``, ``inviter_id``, ``tier``,
    ``status``): the one check of records (``from_records``, ``add_member``) and of columns
    (``from_arrays``), so the same problem reads the same. ``ladder``: the tiers allowed.

    >>> for problem in member_problems(
    ...         {"member_id": "A", "inviter_id": "A", "tier": "x", "status": "on"}, ["m"]):
    ...     print(problem)
    invites itself (inviter_id='A')
    status='on' is not one of ('active', 'suspended')
    tier='x' is not in the ladder; known: 'm'
    """
    tier_problems = id_field_problems(row, "tier")
    problems = id_field_problems(row, "member_id") + tier_problems
    inviter = row["inviter_id"]
    if inviter is not None:
        problems += id_field_problems(row, "inviter_id")
        if inviter == row["member_id"]:
            problems.append(f"invites itself (inviter_id={inviter!r})")
    if row["status"] not in STATUSES:
        problems.append(f"status={row['status']!r} is not one of {STATUSES}")
    tier = row["tier"]
    if not tier_problems and ladder is not None and tier not in ladder:
        problems.append(f"tier={tier!r} is not in the ladder; {did_you_mean(tier, ladder)}")
    return problems


def location(kind: str, index: int, member_id: object) -> str:
    """Where a problem is: ``record 3 (member_id='A')``, ``row 3`` for an unusable id.

    >>> location("row", 3, "A"), location("record", 0, "")
    ("row 3 (member_id='A')", 'record 0')
    """
    named = isinstance(member_id, str) and member_id
    return f"{kind} {index}" + (f" (member_id={member_id!r})" if named else "")


def duplicate_problem(first: str) -> str:
    """A member id given again; ``first``: where it was first seen (``record 0``, ``row 0``)."""
    return f"duplicate member_id, first seen in {first}"


def unknown_inviter(inviter: str, members: Collection[str]) -> str | None:
    """The problem of an inviter that is not among ``members``, or None; an inviter that is
    not a valid id is reported by :func:`member_problems`, not again here.

    >>> unknown_inviter("Q", ["A"]), unknown_inviter("A", ["A"]), unknown_inviter(" A", [])
    ("inviter_id='Q' is not a member; known: 'A'", None, None)
    """
    if inviter in members or id_problem(inviter, name="inviter_id") is not None:
        return None
    return f"inviter_id={inviter!r} is not a member; {member_hint(inviter, members)}"


def field_problems(
    row: dict[str, Any],
    record: Mapping[str, Any] | None = None,
    ladder: Sequence[str] | None = None,
) -> list[str]:
    """What is wrong with one record's fields (normalises its code and joined_at in place):
    :func:`member_problems`, then the fields only records have."""
    problems = member_problems(row, ladder)
    problems += datetime_problems(row, "joined_at") + datetime_problems(row, "probation_until")
    for key in _OPTIONAL_TEXT:
        problems += text_problems(row, key) if row[key] is not None else []
    if (row["origin_platform"] is None) != (row["origin_tier"] is None):
        problems.append("origin_platform and origin_tier go together: give both or neither")
    if row["invite_code"] is not None:
        try:
            row["invite_code"] = check_code(row["invite_code"])
        except (InvalidInviteCodeError, ArgumentTypeError) as exc:
            problems.append(f"invite_code: {exc}")
    if record is not None:
        extra = sorted(set(record) - set(RECORD_KEYS), key=str)
        known = ", ".join(RECORD_KEYS)
        problems += [f"unknown field {key!r}; fields are {known}" for key in extra]
    return problems


def code_problems(rows: list[dict[str, Any]]) -> list[str]:
    """Supplied invite codes given to two members."""
    holder: dict[str, str] = {}
    problems = []
    for row in rows:
        code = row["invite_code"]
        if code is None:
            continue
        if code in holder:
            both = f"{holder[code]!r} and {row['member_id']!r}"
            problems.append(f"invite_code={code!r} is given to both {both}")
        holder[code] = row["member_id"]
    return problems


def parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows breadth-first from the roots, ids sorted: the order no longer depends on input."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda row: row["member_id"]):
        children.setdefault(row["inviter_id"], []).append(row)
    ordered = list(children.get(None, []))
    for row in ordered:  # grows while iterating: a breadth-first walk
        ordered += children.get(row["member_id"], [])
    return ordered


def text_problems(row: Mapping[str, Any], key: str) -> list[str]:
    """A problem if ``row[key]`` is not a non-empty string."""
    value = row[key]
    if not isinstance(value, str):
        return [f"{key}={value!r} must be a non-empty string"]
    if not value.strip():
        return [f"{key}={value!r} is empty"]
    return []


def id_field_problems(row: Mapping[str, Any], key: str) -> list[str]:
    """A problem if ``row[key]`` is not a non-empty string in the normal form of an id.

    >>> id_field_problems({"member_id": "\uff24"}, "member_id")  # doctest: +ELLIPSIS
    ["member_id='Ｄ' is not a normal id; use its normal form 'D' (NFKC, trimmed); escaped: ..."]
    """
    problems = text_problems(row, key)
    problem = None if problems else id_problem(row[key], name=key)
    return problems + ([problem] if problem else [])


def datetime_problems(row: dict[str, Any], key: str) -> list[str]:
    """A problem if ``row[key]`` is not an aware datetime, ISO text with an offset or None
    (parses text in place); times follow ``tuishou.times.time_problem``.

    >>> print(datetime_problems({"joined_at": "2026-01-31T09:00:00"}, "joined_at")[0])
    joined_at=2026-01-31 09:00:00 has no time zone; tuishou takes aware datetimes only ...
    >>> datetime_problems({"joined_at": "2026-01-31T09:00:00+08:00"}, "joined_at")
    []
    """
    value = row[key]
    if isinstance(value, str):
        try:
            row[key] = value = datetime.fromisoformat(value)
        except ValueError:
            return [
                f"{key}={value!r} is not an ISO date-time with an offset "
                "(e.g. '2026-01-31T09:00:00+08:00')"
            ]
    problem = None if value is None else time_problem(value, name=key)
    return [] if problem is None else [problem]


def node_attributes(row: Mapping[str, Any]) -> dict[str, Any]:
    """The graph node attributes of a checked record."""
    return {key: row[key] for key in NODE_KEYS}


def cycle_problems(inviter_of: Mapping[str, str | None]) -> list[str]:
    """Every cycle among the inviter links, each named once by all its members in order
    (a long one says how many first: an error's message shortens it, ``.problems`` keeps it).

    >>> cycle_problems({"B": "A", "A": "B", "C": None})
    ['cycle: A → B → A (X → Y: X invited Y); a tree has no cycles']
    >>> ring = {f"m{i:02}": f"m{(i + 1) % 12:02}" for i in range(12)}
    >>> cycle_problems(ring)[0]  # doctest: +ELLIPSIS
    'cycle of 12 members: m00 → m11 → m10 → ... → m01 → m00 (X → Y: X invited Y); ...'
    """
    state: dict[str, int] = {}  # 1: on the current walk, 2: known to reach a root
    problems = []
    for start in sorted(inviter_of):
        walk: list[str] = []
        member: str | None = start
        while member is not None and member in inviter_of and member not in state:
            state[member] = 1
            walk.append(member)
            member = inviter_of[member]
        if member is not None and state.get(member) == 1:
            invites = walk[walk.index(member) :][::-1]  # X before Y when X invited Y
            # Start at the smallest id so the message does not depend on input order.
            first = invites.index(min(invites))
            invites = invites[first:] + invites[:first]
            problems.append(_cycle(invites))
        for walked in walk:
            state[walked] = 2
    return problems


def _cycle(invites: list[str]) -> str:
    size = "" if len(invites) <= 10 else f" of {len(invites)} members"
    return (
        f"cycle{size}: {' → '.join([*invites, invites[0]])} "
        "(X → Y: X invited Y); a tree has no cycles"
    )
