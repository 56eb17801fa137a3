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

``InviteTree`` wraps a ``networkx.DiGraph`` (edges inviter → invitee, node attributes
``tier``, ``status`` and ``joined_at``); callers get a frozen copy from ``tree.graph``.
Beside the graph it keeps a plain ``member → inviter`` dict, because upline walks are
the hot path of settlement and a dict lookup is several times faster than asking the
graph for predecessors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import networkx as nx

from .codes import candidate_codes, check_code
from .errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    InvalidInviteCodeError,
    InvalidTreeError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
)
from .records import (
    STATUSES,
    SUGGEST_LIMIT,
    Origin,
    Status,
    check_records,
    code_problems,
    cycle_problems,
    field_problems,
    node_attributes,
    parents_first,
    text_problems,
)

__all__ = ["STATUSES", "InviteTree", "Status"]



class InviteTree:
    """The invite forest, with invite codes, tiers and statuses.

    ``tiers`` (optional, lowest first) lets the tree check tier names and gives
    :meth:`join` its default tier; pass ``policy.tiers`` or ``ladder.names``.

    >>> tree = InviteTree(tiers=["member", "pusher"])
    >>> tree.add_member("A", tier="pusher")
    >>> tree.join("B", invite_code=tree.invite_code("A"))
    >>> tree.inviter("B"), tree.tier("B"), len(tree)
    ('A', 'member', 2)
    """

    __slots__ = ("_code_of", "_graph", "_inviter", "_owner_of", "_tiers")

    def __init__(self, *, tiers: Sequence[str] | None = None) -> None:
        self._graph: nx.DiGraph[str] = nx.DiGraph()
        self._inviter: dict[str, str | None] = {}
        self._code_of: dict[str, str] = {}
        self._owner_of: dict[str, str] = {}
        self._tiers: tuple[str, ...] | None = tuple(tiers) if tiers is not None else None

    # ----------------------------------------------------------------- building

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], *, tiers: Sequence[str] | None = None
    ) -> InviteTree:
        """Build a tree from records in any order, or report every problem at once.

        Each record has ``member_id``, ``inviter_id`` (None for roots), ``tier`` and
        optionally ``status`` (default ``"active"``), ``joined_at`` (a datetime or ISO
        text) and ``invite_code`` (an existing code to keep). Duplicate ids, unknown
        inviters, self-invites, cycles, empty ids and bad fields are all collected into
        one ``InvalidTreeError``; nothing is built.

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
        rows, links, problems = check_records(list(records), tree._tiers)
        problems += cycle_problems(links)
        problems += code_problems(rows)
        if problems:
            raise InvalidTreeError.from_problems("invalid tree", problems)
        ordered = parents_first(rows)
        tree._graph.add_nodes_from((row["member_id"], node_attributes(row)) for row in ordered)
        tree._inviter.update((row["member_id"], row["inviter_id"]) for row in ordered)
        tree._graph.add_edges_from(
            (inviter, member) for member, inviter in tree._inviter.items() if inviter is not None
        )
        tree._assign_codes(rows)
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
        ``origin`` and ``probation_until`` record a member migrated from a rival platform.

        >>> tree = InviteTree()
        >>> tree.add_member("A", tier="member")
        >>> tree.add_member("A", tier="member")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidTreeError: member_id='A' is already in the tree
        """
        if origin is not None and not isinstance(origin, Origin):
            raise ArgumentTypeError(f"origin={origin!r} must be an Origin or None")
        row = {"member_id": member_id, "inviter_id": inviter_id, "tier": tier,
               "status": status, "joined_at": joined_at, "invite_code": invite_code,
               "probation_until": probation_until, **_origin_fields(origin)}
        problems = field_problems(row)
        if problems:
            raise InvalidTreeError("; ".join(problems), problems)
        if member_id in self._inviter:
            raise InvalidTreeError(f"member_id={member_id!r} is already in the tree")
        if inviter_id is not None:
            self._require(inviter_id)
        self._check_tier(tier)
        if invite_code is not None:
            self._check_free_code(invite_code)
        self._graph.add_node(member_id, **node_attributes(row))
        self._inviter[member_id] = inviter_id
        if inviter_id is not None:
            self._graph.add_edge(inviter_id, member_id)
        self._give_code(member_id, invite_code)

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

    # ------------------------------------------------------------------ queries

    def __len__(self) -> int:
        return len(self._inviter)

    def __contains__(self, member_id: object) -> bool:
        return member_id in self._inviter

    def __iter__(self) -> Iterator[str]:
        """Member ids: from_records' members breadth-first from the roots, then later additions."""
        return iter(self._inviter)

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
        """A frozen copy of the graph (edges inviter → invitee, node attributes tier, status,
        joined_at); changing its structure raises, and nothing done to it reaches the tree.

        Each access copies the graph (O(members)): keep it in a variable while you use it.

        >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
        >>> tree.graph.nodes["A"]["tier"]
        'm'
        """
        frozen: nx.DiGraph[str] = nx.freeze(self._graph.copy())
        return frozen

    def inviter(self, member_id: str) -> str | None:
        """The member's inviter, or None for a root.

        >>> _demo().inviter("C")
        'B'
        """
        self._require(member_id)
        return self._inviter[member_id]

    def upline(self, member_id: str, *, max_generation: int | None = None) -> list[str]:
        """The member's uplines, nearest first, not including the member itself.

        >>> _demo().upline("C"), _demo().upline("C", max_generation=1)
        (['B', 'A'], ['B'])
        """
        self._require(member_id)
        if max_generation is not None and max_generation < 0:
            raise InvalidArgumentError(
                f"max_generation={max_generation} is negative; use 0 or more, or None"
            )
        chain: list[str] = []
        inviter = self._inviter[member_id]
        while inviter is not None and (max_generation is None or len(chain) < max_generation):
            chain.append(inviter)
            inviter = self._inviter[inviter]
        return chain

    def direct_invites(self, member_id: str) -> list[str]:
        """The members who joined with this member's code, sorted.

        >>> _demo().direct_invites("A")
        ['B', 'D']
        """
        self._require(member_id)
        return sorted(self._graph.successors(member_id))

    def team_size(self, member_id: str) -> int:
        """How many members are below this one, at any depth.

        >>> _demo().team_size("A")
        3
        """
        self._require(member_id)
        return len(nx.descendants(self._graph, member_id))

    def depth(self, member_id: str) -> int:
        """How many uplines the member has (roots are 0).

        >>> _demo().depth("C")
        2
        """
        return len(self.upline(member_id))

    def roots(self) -> list[str]:
        """The members without an inviter, sorted.

        >>> _demo().roots()
        ['A']
        """
        return sorted(m for m, inviter in self._inviter.items() if inviter is None)

    def tier(self, member_id: str) -> str:
        """The member's tier.

        >>> _demo().tier("A")
        'mentor'
        """
        self._require(member_id)
        tier: str = self._graph.nodes[member_id]["tier"]
        return tier

    def status(self, member_id: str) -> Status:
        """The member's status, ``"active"`` or ``"suspended"``.

        >>> _demo().status("D")
        'suspended'
        """
        self._require(member_id)
        status: Status = self._graph.nodes[member_id]["status"]
        return status

    def joined_at(self, member_id: str) -> datetime | None:
        """When the member joined, if known.

        >>> _demo().joined_at("A") is None
        True
        """
        self._require(member_id)
        joined: datetime | None = self._graph.nodes[member_id]["joined_at"]
        return joined

    def origin(self, member_id: str) -> Origin | None:
        """Where a migrated member came from, or None for a member who joined here.

        >>> _demo().origin("A") is None
        True
        """
        self._require(member_id)
        node = self._graph.nodes[member_id]
        if node["origin_platform"] is None:
            return None
        return Origin(node["origin_platform"], node["origin_tier"], node["origin_member_id"])

    def probation_until(self, member_id: str) -> datetime | None:
        """When a migrated member's probation ends (its tier cannot be demoted before), or None.

        >>> _demo().probation_until("A") is None
        True
        """
        self._require(member_id)
        until: datetime | None = self._graph.nodes[member_id]["probation_until"]
        return until

    def invite_code(self, member_id: str) -> str:
        """The member's invite code (邀请码): 7 characters, the last one a check character.

        >>> code = _demo().invite_code("A")
        >>> len(code), _demo().code_owner(code.lower())
        (7, 'A')
        """
        self._require(member_id)
        return self._code_of[member_id]

    def code_owner(self, invite_code: str) -> str:
        """The member who holds ``invite_code``, or ``InvalidInviteCodeError`` saying why not.

        >>> _demo().code_owner("2222222")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidInviteCodeError: invite code '2222222' is well formed but nobody ...
        """
        code = check_code(invite_code, self._owner_of.__contains__)
        owner = self._owner_of.get(code)
        if owner is None:
            raise InvalidInviteCodeError(
                f"invite code {invite_code!r} is well formed but nobody holds it; "
                "ask the inviter to copy their code again",
                reason="unknown",
            )
        return owner

    def to_records(self) -> list[dict[str, Any]]:
        """Every member as a record, inviters before invitees; round-trips through from_records.

        >>> tree = _demo()
        >>> InviteTree.from_records(tree.to_records()) == tree
        True
        """
        records = []
        for member in self._top_down():
            records.append({
                "member_id": member, "inviter_id": self._inviter[member],
                **self._graph.nodes[member], "invite_code": self._code_of[member],
            })
        return records

    # ------------------------------------------------------------------ changes

    def set_tier(self, member_id: str, tier: str) -> None:
        """Change a member's tier.

        >>> tree = _demo(); tree.set_tier("C", "mentor"); tree.tier("C")
        'mentor'
        """
        self._require(member_id)
        problems = text_problems({"tier": tier}, "tier")
        if problems:
            raise InvalidTreeError(problems[0])
        self._check_tier(tier)
        self._graph.nodes[member_id]["tier"] = tier

    def set_probation(self, member_id: str, until: datetime | None) -> None:
        """Start, move or (with None) end a member's probation.

        >>> from datetime import datetime
        >>> tree = _demo(); tree.set_probation("B", datetime(2027, 3, 1))
        >>> tree.probation_until("B")
        datetime.datetime(2027, 3, 1, 0, 0)
        """
        self._require(member_id)
        if until is not None and not isinstance(until, datetime):
            raise ArgumentTypeError(f"until={until!r} must be a datetime or None")
        self._graph.nodes[member_id]["probation_until"] = until

    def set_status(self, member_id: str, status: Status) -> None:
        """Suspend or reactivate a member.

        >>> tree = _demo(); tree.set_status("D", "active"); tree.status("D")
        'active'
        """
        self._require(member_id)
        if status not in STATUSES:
            raise InvalidTreeError(f"status={status!r} is not one of {STATUSES}")
        self._graph.nodes[member_id]["status"] = status

    def move(self, member_id: str, *, new_inviter_id: str | None) -> None:
        """Move a member (and its team) under another inviter, or make it a root.

        A move under the member's own team would make a cycle and is refused.

        >>> tree = _demo()
        >>> tree.move("A", new_inviter_id="C")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidTreeError: moving 'A' under 'C' would create a cycle: A → B → C → A
        """
        self._require(member_id)
        if new_inviter_id is not None:
            self._require(new_inviter_id)
            if new_inviter_id == member_id or nx.has_path(self._graph, member_id, new_inviter_id):
                path = nx.shortest_path(self._graph, member_id, new_inviter_id)
                loop = " → ".join([*path, member_id])
                raise InvalidTreeError(
                    f"moving {member_id!r} under {new_inviter_id!r} would create a cycle: {loop}"
                )
        old = self._inviter[member_id]
        if old is not None:
            self._graph.remove_edge(old, member_id)
        if new_inviter_id is not None:
            self._graph.add_edge(new_inviter_id, member_id)
        self._inviter[member_id] = new_inviter_id

    # ----------------------------------------------------------------- internals

    def _require(self, member_id: str) -> None:
        if member_id not in self._inviter:
            hint = self._hint(member_id)
            raise UnknownMemberError(f"member_id={member_id!r} is not in the tree; {hint}")

    def _hint(self, member_id: object) -> str:
        if not isinstance(member_id, str) or len(self) > SUGGEST_LIMIT:
            return "check the id"
        return did_you_mean(member_id, self._inviter)

    def _check_tier(self, tier: str) -> None:
        if self._tiers is not None and tier not in self._tiers:
            hint = did_you_mean(tier, self._tiers)
            raise UnknownTierError(f"tier={tier!r} is not in this tree's ladder; {hint}")

    def _check_free_code(self, invite_code: str) -> None:
        code = check_code(invite_code)
        if code in self._owner_of:
            holder = self._owner_of[code]
            raise InvalidTreeError(f"invite_code={invite_code!r} is already held by {holder!r}")

    def _give_code(self, member_id: str, supplied: str | None) -> None:
        code = check_code(supplied) if supplied is not None else next(
            c for c in candidate_codes(member_id) if c not in self._owner_of
        )
        self._code_of[member_id] = code
        self._owner_of[code] = member_id

    def _assign_codes(self, rows: list[dict[str, Any]]) -> None:
        # Supplied codes first, then generated ones in id order: the result does not
        # depend on the order of the records.
        supplied = {row["member_id"]: row["invite_code"] for row in rows if row["invite_code"]}
        for member, code in supplied.items():
            self._give_code(member, code)
        for member in sorted(m for m in self._inviter if m not in supplied):
            self._give_code(member, None)

    def _discard(self, members: Iterable[str]) -> None:
        """Remove members that were just added (rolls back a bulk addition that failed)."""
        for member in members:
            if member in self._inviter:
                self._graph.remove_node(member)
                del self._inviter[member]
                del self._owner_of[self._code_of.pop(member)]

    def _top_down(self) -> Iterator[str]:
        """Members breadth-first from the sorted roots, children sorted: parents first."""
        level = self.roots()
        while level:
            yield from level
            level = [child for member in level for child in sorted(self._graph.successors(member))]


def _origin_fields(origin: Origin | None) -> dict[str, str | None]:
    if origin is None:
        return {"origin_platform": None, "origin_tier": None, "origin_member_id": None}
    return {"origin_platform": origin.platform, "origin_tier": origin.source_tier,
            "origin_member_id": origin.source_member_id}


def _demo() -> InviteTree:
    """A → B → C, A → D (suspended): the small tree the doctests use."""
    return InviteTree.from_records([
        {"member_id": "A", "inviter_id": None, "tier": "mentor"},
        {"member_id": "B", "inviter_id": "A", "tier": "pusher"},
        {"member_id": "C", "inviter_id": "B", "tier": "member"},
        {"member_id": "D", "inviter_id": "A", "tier": "member", "status": "suspended"},
    ])
