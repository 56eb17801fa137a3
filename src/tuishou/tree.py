"""The invite tree (邀请关系): who joined with whose invite code.

Glossary:

- **member** (会员): a node, identified by a non-empty string ``member_id``.
- **inviter** (上级): the member whose code a member joined with; **roots** have none.
- **invite tree**: the directed forest inviter → invitee. Every member has at most one
  inviter and there are no cycles: in networkx terms the graph is a *branching*.
- **upline**: a member's inviter, the inviter's inviter, and so on, nearest first.
  The inviter is generation 1, its inviter generation 2.
- **team** (团队): everyone below a member, at any depth.
- **status**: ``"active"`` or ``"suspended"`` (suspended members earn nothing).

``InviteTree`` checks every argument and keeps its state in a compact core of plain dicts
(:class:`tuishou.members.core.MemberCore`: a ``member → inviter`` mapping, member → tier,
the suspended set, sparse extras), because upline walks are the hot path of settlement and a
dict lookup is several times faster than asking a graph; a tree of a million members loads
in seconds. It does not keep a networkx graph: ``tree.graph`` builds one from the core each
time it is asked for (edges inviter → invitee, node attributes ``tier``, ``status``,
``joined_at``, ...). Invite codes are assigned when first needed
(:class:`tuishou.members.codes.CodeBook`), and the columnar form the batch engine uses
(``tree.arrays()``) is cached until the tree changes.

This module builds and changes the tree; the rest is in :mod:`tuishou.members`: the checks of
records (:mod:`~tuishou.members.records`) and columns (:mod:`~tuishou.members.arrays`), the
core and its cycle check (:mod:`~tuishou.members.core`), and the read-only queries
(``inviter``, ``upline``, ``team_size``, ``invite_code``, ``to_records``, ...), which
``InviteTree`` inherits from :class:`~tuishou.members.queries.MemberQueries`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import networkx as nx

from tuishou.errors import ArgumentTypeError, InvalidTreeError, UnknownTierError, did_you_mean
from tuishou.members.arrays import TreeArrays, check_arrays
from tuishou.members.core import MemberCore, cycle_message
from tuishou.members.queries import MemberQueries
from tuishou.members.records import (
    NO_ORIGIN,
    STATUSES,
    Origin,
    Status,
    checked_rows,
    field_problems,
    id_field_problems,
)
from tuishou.times import check_time

__all__ = ["STATUSES", "InviteTree", "Status", "example_tree"]

Column = Sequence[Any]  # a list, numpy array, pandas Series or pyarrow array of values


class InviteTree(MemberQueries):
    """The invite forest, with invite codes, tiers and statuses (queries: ``MemberQueries``).

    ``tiers`` (optional, lowest first) lets the tree check tier names and gives
    :meth:`join` its default tier; pass ``policy.tiers`` or ``ladder.names``.

    >>> tree = InviteTree(tiers=["member", "pusher"])
    >>> tree.add_member("A", tier="pusher")
    >>> tree.join("B", invite_code=tree.invite_code("A"))
    >>> tree.inviter("B"), tree.tier("B"), len(tree)
    ('A', 'member', 2)
    """

    __slots__ = ("_tiers",)

    def __init__(self, *, tiers: Sequence[str] | None = None) -> None:
        super().__init__()
        self._tiers: tuple[str, ...] | None = tuple(tiers) if tiers is not None else None

    # ----------------------------------------------------------------- building

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], *, tiers: Sequence[str] | None = None
    ) -> InviteTree:
        """Build a tree from records in any order, or report every problem at once.

        Each record has ``member_id``, ``inviter_id`` (None for roots), ``tier`` and
        optionally ``status`` (default ``"active"``), ``joined_at`` and ``probation_until``
        (aware datetimes or ISO text with an offset; a naive time is refused, see
        ``tuishou.times.check_time``) and ``invite_code`` (an existing code to keep).
        Duplicate ids, unknown inviters, self-invites, cycles, empty ids and bad fields are
        all collected into one ``InvalidTreeError``; nothing is built.

        >>> tree = InviteTree.from_records([
        ...     {"member_id": "B", "inviter_id": "A", "tier": "member"},
        ...     {"member_id": "A", "inviter_id": None, "tier": "pusher"},
        ... ])
        >>> tree.upline("B")
        ['A']
        >>> InviteTree.from_records([{"member_id": "A", "inviter_id": "A", "tier": "x"}])
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidTreeError: invalid tree: 1 problem(s)
          1. record 0 (member_id='A'): invites itself (inviter_id='A')
        """
        tree = cls(tiers=tiers)
        for row in checked_rows(records, tree.tiers):
            tree._core.store(row)
        return tree

    @classmethod
    def from_arrays(
        cls,
        member_ids: Column,
        inviter_ids: Column,
        tier: Column,
        *,
        status: Column | None = None,
        tiers: Sequence[str] | None = None,
    ) -> InviteTree:
        """Build a large tree from columns (lists, numpy arrays, pandas or pyarrow columns).

        The same checks as :meth:`from_records` run vectorised (a million members load in a
        few seconds), and every problem is reported in one ``InvalidTreeError``. Iteration
        follows the order of the columns.

        >>> tree = InviteTree.from_arrays(["A", "B", "C"], [None, "A", "B"],
        ...                               ["mentor", "pusher", "member"])
        >>> tree.upline("C"), tree.arrays().parent.tolist()
        (['B', 'A'], [3, 0, 1])
        """
        tree = cls(tiers=tiers)
        tree._core = MemberCore.from_columns(
            check_arrays(member_ids, inviter_ids, tier, status, tiers)
        )
        return tree

    def add_member(
        self,
        member_id: str,
        *,
        inviter_id: str | None = None,
        tier: str,
        status: Status = "active",
        joined_at: datetime | None = None,
        invite_code: str | None = None,
        origin: Origin | None = None,
        probation_until: datetime | None = None,
    ) -> None:
        """Add one member under ``inviter_id`` (or as a root); fails fast, changing nothing.

        ``invite_code`` keeps a code the member already has (e.g. from an export);
        ``origin`` and ``probation_until`` record a member migrated from a rival platform;
        ``joined_at`` and ``probation_until`` are aware datetimes (``tuishou.ids``).

        >>> tree = InviteTree()
        >>> tree.add_member("A", tier="member")
        >>> tree.add_member("A", tier="member")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidTreeError: member_id='A' is already in the tree
        """
        if origin is not None and not isinstance(origin, Origin):
            raise ArgumentTypeError(f"origin={origin!r} must be an Origin or None")
        row = {
            "member_id": member_id,
            "inviter_id": inviter_id,
            "tier": tier,
            "status": status,
            "joined_at": joined_at,
            "invite_code": invite_code,
            "probation_until": probation_until,
            **(origin.fields() if origin is not None else NO_ORIGIN),
        }
        problems = field_problems(row)
        if problems:
            raise InvalidTreeError("; ".join(problems), problems)
        if member_id in self:
            raise InvalidTreeError(f"member_id={member_id!r} is already in the tree")
        if inviter_id is not None:
            self._require(inviter_id)
        self._check_tier(tier)
        if invite_code is not None:
            self._core.codes.check_free(invite_code, self._core.inviter)
        self._core.store(row)

    def join(
        self,
        member_id: str,
        *,
        invite_code: str,
        tier: str | None = None,
        joined_at: datetime | None = None,
    ) -> None:
        """Add a member under the owner of ``invite_code``; the tier defaults to the lowest.

        A code with a mistyped character or two swapped neighbours is reported as a typo
        (with the intended code when exactly one existing code is a slip away).

        >>> tree = InviteTree(tiers=["member"])
        >>> tree.add_member("A", tier="member")
        >>> tree.join("B", invite_code="2222223")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidInviteCodeError: invite code '2222223' looks mistyped: ...
        """
        owner = self.code_owner(invite_code)
        if tier is None:
            if not self._tiers:
                raise UnknownTierError(
                    "join() needs tier= because this tree has no tier ladder; "
                    "build it with InviteTree(tiers=...) to default to the lowest tier"
                )
            tier = self._tiers[0]
        self.add_member(member_id, inviter_id=owner, tier=tier, joined_at=joined_at)

    # ------------------------------------------------------------------ views

    def __repr__(self) -> str:
        return f"<InviteTree members={len(self)} roots={len(self.roots())}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InviteTree):
            return NotImplemented
        return self.to_records() == other.to_records()

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    @property
    def tiers(self) -> tuple[str, ...] | None:
        """The tier names this tree checks against, lowest first, or None."""
        return self._tiers

    @property
    def graph(self) -> nx.DiGraph[str]:
        """A networkx graph of the tree, built from its core on each access (the tree does not
        keep one): edges inviter → invitee, node attributes tier, status, joined_at, ...
        It is frozen: changing its structure raises, and nothing done to it reaches the tree.

        Each access builds the graph (O(members)): keep it in a variable while you use it.

        >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
        >>> tree.graph.nodes["A"]["tier"]
        'm'
        """
        return self._core.graph()

    def arrays(self) -> TreeArrays:
        """The tree as numpy columns (parent index, tier code, active flag), for batch work.

        Built once and cached until the tree changes.

        >>> tree = example_tree()  # A → B → C and A → D, stored breadth-first: A, B, D, C
        >>> tree.arrays().ids, tree.arrays().parent.tolist()  # 4 marks "no inviter"
        (['A', 'B', 'D', 'C'], [4, 0, 0, 1])
        """
        return self._core.arrays()

    # ------------------------------------------------------------------ changes

    def set_tier(self, member_id: str, tier: str) -> None:
        """Change a member's tier.

        >>> tree = example_tree(); tree.set_tier("C", "mentor"); tree.tier("C")
        'mentor'
        """
        self._require(member_id)
        problems = id_field_problems({"tier": tier}, "tier")
        if problems:
            raise InvalidTreeError(problems[0])
        self._check_tier(tier)
        self._core.set_tier(member_id, tier)

    def set_probation(self, member_id: str, until: datetime | None) -> None:
        """Start, move or (with None) end a member's probation.

        ``until`` is an aware datetime (``tuishou.times.check_time``) or None.

        >>> from datetime import UTC, datetime
        >>> tree = example_tree(); tree.set_probation("B", datetime(2027, 3, 1, tzinfo=UTC))
        >>> tree.probation_until("B")
        datetime.datetime(2027, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
        """
        self._require(member_id)
        if until is not None:
            check_time(until, name="probation_until", error=InvalidTreeError)
        self._core.set_extra(member_id, "probation_until", until)

    def set_status(self, member_id: str, status: Status) -> None:
        """Suspend or reactivate a member.

        >>> tree = example_tree(); tree.set_status("D", "active"); tree.status("D")
        'active'
        """
        self._require(member_id)
        if status not in STATUSES:
            raise InvalidTreeError(f"status={status!r} is not one of {STATUSES}")
        self._core.set_suspended(member_id, status == "suspended")

    def move(self, member_id: str, *, new_inviter_id: str | None) -> None:
        """Move a member (and its team) under another inviter, or make it a root.

        A move under the member's own team would make a cycle and is refused.

        >>> tree = example_tree()
        >>> tree.move("A", new_inviter_id="C")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidTreeError: moving 'A' under 'C' would create a cycle: A → B → C → A
        """
        self._require(member_id)
        if new_inviter_id is not None:
            self._require(new_inviter_id)
            cycle = cycle_message(member_id, new_inviter_id, self.upline(new_inviter_id))
            if cycle is not None:
                raise InvalidTreeError(cycle)
        self._core.move(member_id, new_inviter_id)

    def remove_members(self, member_ids: Iterable[str]) -> None:
        """Remove members that leave no invitee behind, all or nothing: undoes additions
        (a bulk addition that failed rolls back with it). Their codes become free.

        >>> tree = example_tree()
        >>> tree.remove_members(["B"])
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidTreeError: cannot remove 'B': its invitees ['C'] would stay behind
        >>> tree.remove_members(["C", "B"]); sorted(tree)
        ['A', 'D']
        """
        members = list(dict.fromkeys(member_ids))
        for member in members:
            self._require(member)
        leaving = set(members)
        children = self._core.children()
        for member in members:
            staying = sorted(c for c in children.get(member, ()) if c not in leaving)
            if staying:
                raise InvalidTreeError(
                    f"cannot remove {member!r}: its invitees {staying} would stay behind"
                )
        self._core.discard(members)

    # ----------------------------------------------------------------- checks

    def _check_tier(self, tier: str) -> None:
        if self._tiers is not None and tier not in self._tiers:
            hint = did_you_mean(tier, self._tiers)
            raise UnknownTierError(f"tier={tier!r} is not in this tree's ladder; {hint}")


def example_tree() -> InviteTree:
    """A → B → C, A → D (suspended): the small tree of the doctests (``tuishou.examples``).

    >>> example_tree()
    <InviteTree members=4 roots=1>
    """
    return InviteTree.from_records(
        [
            {"member_id": "A", "inviter_id": None, "tier": "mentor"},
            {"member_id": "B", "inviter_id": "A", "tier": "pusher"},
            {"member_id": "C", "inviter_id": "B", "tier": "member"},
            {"member_id": "D", "inviter_id": "A", "tier": "member", "status": "suspended"},
        ]
    )
