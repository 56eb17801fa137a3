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

``InviteTree`` keeps a compact core of plain dicts (member → inviter, member → tier, the
suspended set, sparse extras) because upline walks are the hot path of settlement and a
dict lookup is several times faster than asking a graph; a tree of a million members loads
in seconds. The networkx view (``tree.graph``: edges inviter → invitee, node attributes
``tier``, ``status``, ``joined_at``, ...) is built from the core when asked for. Invite codes
are assigned when first needed, and the columnar form the batch engine uses
(``tree.arrays()``) is cached until the tree changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import networkx as nx

from tuishou.errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    InvalidInviteCodeError,
    InvalidTreeError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
)
from tuishou.members.arrays import TreeArrays, check_arrays
from tuishou.members.codes import candidate_codes, check_code
from tuishou.members.records import (
    NODE_KEYS,
    STATUSES,
    SUGGEST_LIMIT,
    Origin,
    Status,
    check_records,
    code_problems,
    cycle_problems,
    field_problems,
    id_field_problems,
    parents_first,
)

__all__ = ["STATUSES", "InviteTree", "Status"]

Column = Sequence[Any]  # a list, numpy array, pandas Series or pyarrow array of values



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

    __slots__ = ("_arrays", "_children", "_code_of", "_extra", "_inviter", "_owner_of",
                 "_supplied", "_suspended", "_tier", "_tiers")

    def __init__(self, *, tiers: Sequence[str] | None = None) -> None:
        self._inviter: dict[str, str | None] = {}
        self._tier: dict[str, str] = {}
        self._suspended: set[str] = set()
        self._extra: dict[str, dict[str, Any]] = {}  # joined_at, origin, probation when set
        self._supplied: dict[str, str] = {}  # codes given on import, kept as they are
        self._code_of: dict[str, str] | None = None  # all codes, assigned when first needed
        self._owner_of: dict[str, str] = {}
        self._children: dict[str, list[str]] | None = None  # built when first needed
        self._arrays: TreeArrays | None = None  # the columnar form, until the tree changes
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
        for row in parents_first(rows):
            tree._store(row)
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
        checked = check_arrays(member_ids, inviter_ids, tier, status, tiers)
        tree = cls(tiers=tiers)
        tree._inviter = dict(zip(checked.ids, checked.inviters, strict=True))
        tree._tier = dict(zip(checked.ids, checked.tier_column, strict=True))
        tree._suspended = {m for m, active in zip(checked.ids, checked.arrays.active.tolist(),
                                                  strict=True) if not active}
        tree._arrays = checked.arrays
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
        self._store(row)

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
        """A frozen networkx view (edges inviter → invitee, node attributes tier, status,
        joined_at, ...); changing its structure raises, and nothing done to it reaches the tree.

        Each access builds the graph (O(members)): keep it in a variable while you use it.

        >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
        >>> tree.graph.nodes["A"]["tier"]
        'm'
        """
        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from((m, self._attributes(m)) for m in self._inviter)
        graph.add_edges_from((i, m) for m, i in self._inviter.items() if i is not None)
        frozen: nx.DiGraph[str] = nx.freeze(graph)
        return frozen

    def arrays(self) -> TreeArrays:
        """The tree as numpy columns (parent index, tier code, active flag), for batch work.

        Built once and cached until the tree changes.

        >>> tree = _demo()  # A → B → C and A → D, stored breadth-first: A, B, D, C
        >>> tree.arrays().ids, tree.arrays().parent.tolist()  # 4 marks "no inviter"
        (['A', 'B', 'D', 'C'], [4, 0, 0, 1])
        """
        if self._arrays is None:
            self._arrays = TreeArrays.build(self._inviter, self._tier, self._suspended)
        return self._arrays

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
        return sorted(self._children_of().get(member_id, ()))

    def team_size(self, member_id: str) -> int:
        """How many members are below this one, at any depth.

        >>> _demo().team_size("A")
        3
        """
        self._require(member_id)
        children = self._children_of()
        count, level = 0, children.get(member_id, [])
        while level:
            count += len(level)
            level = [child for m in level for child in children.get(m, ())]
        return count

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
        return self._tier[member_id]

    def status(self, member_id: str) -> Status:
        """The member's status, ``"active"`` or ``"suspended"``.

        >>> _demo().status("D")
        'suspended'
        """
        self._require(member_id)
        return "suspended" if member_id in self._suspended else "active"

    def joined_at(self, member_id: str) -> datetime | None:
        """When the member joined, if known.

        >>> _demo().joined_at("A") is None
        True
        """
        self._require(member_id)
        joined: datetime | None = self._extra.get(member_id, {}).get("joined_at")
        return joined

    def origin(self, member_id: str) -> Origin | None:
        """Where a migrated member came from, or None for a member who joined here.

        >>> _demo().origin("A") is None
        True
        """
        self._require(member_id)
        extra = self._extra.get(member_id, {})
        if extra.get("origin_platform") is None:
            return None
        return Origin(extra["origin_platform"], extra["origin_tier"],
                      extra.get("origin_member_id"))

    def probation_until(self, member_id: str) -> datetime | None:
        """When a migrated member's probation ends (its tier cannot be demoted before), or None.

        >>> _demo().probation_until("A") is None
        True
        """
        self._require(member_id)
        until: datetime | None = self._extra.get(member_id, {}).get("probation_until")
        return until

    def invite_code(self, member_id: str) -> str:
        """The member's invite code (邀请码): 7 characters, the last one a check character.

        >>> code = _demo().invite_code("A")
        >>> len(code), _demo().code_owner(code.lower())
        (7, 'A')
        """
        self._require(member_id)
        return self._codes()[member_id]

    def code_owner(self, invite_code: str) -> str:
        """The member who holds ``invite_code``, or ``InvalidInviteCodeError`` saying why not.

        >>> _demo().code_owner("2222222")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidInviteCodeError: invite code '2222222' is well formed but nobody ...
        """
        self._codes()
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
        codes = self._codes()
        return [{"member_id": member, "inviter_id": self._inviter[member],
                 **self._attributes(member), "invite_code": codes[member]}
                for member in self._top_down()]

    # ------------------------------------------------------------------ changes

    def set_tier(self, member_id: str, tier: str) -> None:
        """Change a member's tier.

        >>> tree = _demo(); tree.set_tier("C", "mentor"); tree.tier("C")
        'mentor'
        """
        self._require(member_id)
        problems = id_field_problems({"tier": tier}, "tier")
        if problems:
            raise InvalidTreeError(problems[0])
        self._check_tier(tier)
        self._tier[member_id] = tier
        self._arrays = None

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
        self._set_extra(member_id, "probation_until", until)

    def set_status(self, member_id: str, status: Status) -> None:
        """Suspend or reactivate a member.

        >>> tree = _demo(); tree.set_status("D", "active"); tree.status("D")
        'active'
        """
        self._require(member_id)
        if status not in STATUSES:
            raise InvalidTreeError(f"status={status!r} is not one of {STATUSES}")
        if status == "suspended":
            self._suspended.add(member_id)
        else:
            self._suspended.discard(member_id)
        self._arrays = None

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
            path = [new_inviter_id, *self.upline(new_inviter_id)]
            if member_id in path:
                loop = [*reversed(path[: path.index(member_id) + 1]), member_id]
                shown = " → ".join(loop if len(loop) <= 12 else
                                   [*loop[:10], f"... ({len(loop) - 11} more)", member_id])
                raise InvalidTreeError(
                    f"moving {member_id!r} under {new_inviter_id!r} would create a cycle: "
                    f"{shown}")
        old = self._inviter[member_id]
        if self._children is not None:
            if old is not None:
                self._children[old].remove(member_id)
            if new_inviter_id is not None:
                self._children.setdefault(new_inviter_id, []).append(member_id)
        self._inviter[member_id] = new_inviter_id
        self._arrays = None

    # ----------------------------------------------------------------- internals

    def _store(self, row: Mapping[str, Any]) -> None:
        """Add a checked record to the core (and to the caches that exist)."""
        member, inviter = row["member_id"], row["inviter_id"]
        self._inviter[member] = inviter
        self._tier[member] = row["tier"]
        if row["status"] == "suspended":
            self._suspended.add(member)
        extra = {key: row[key] for key in _EXTRA_KEYS if row.get(key) is not None}
        if extra:
            self._extra[member] = extra
        if self._children is not None and inviter is not None:
            self._children.setdefault(inviter, []).append(member)
        code = row.get("invite_code")
        if code is not None:
            self._supplied[member] = check_code(code)
        if self._code_of is not None:
            self._give_code(self._code_of, member, self._supplied.get(member))
        self._arrays = None

    def _attributes(self, member: str) -> dict[str, Any]:
        """The member's record fields except ids and code (the graph's node attributes)."""
        extra = self._extra.get(member, {})
        values = {"tier": self._tier[member],
                  "status": "suspended" if member in self._suspended else "active"}
        return {key: values[key] if key in values else extra.get(key) for key in NODE_KEYS}

    def _set_extra(self, member: str, key: str, value: Any) -> None:
        extra = self._extra.setdefault(member, {})
        if value is None:
            extra.pop(key, None)
        else:
            extra[key] = value

    def _children_of(self) -> dict[str, list[str]]:
        if self._children is None:
            children: dict[str, list[str]] = {}
            for member, inviter in self._inviter.items():
                if inviter is not None:
                    children.setdefault(inviter, []).append(member)
            self._children = children
        return self._children

    def _codes(self) -> dict[str, str]:
        """Every member's code. Assigned on first use: supplied codes first, then generated
        ones in id order, so the result does not depend on the order members arrived in."""
        if self._code_of is None:
            book: dict[str, str] = {}
            for member, code in self._supplied.items():
                self._give_code(book, member, code)
            for member in sorted(m for m in self._inviter if m not in self._supplied):
                self._give_code(book, member, None)
            self._code_of = book
        return self._code_of

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
        self._codes()
        if code in self._owner_of:
            holder = self._owner_of[code]
            raise InvalidTreeError(f"invite_code={invite_code!r} is already held by {holder!r}")

    def _give_code(self, book: dict[str, str], member_id: str, supplied: str | None) -> None:
        code = check_code(supplied) if supplied is not None else next(
            c for c in candidate_codes(member_id) if c not in self._owner_of
        )
        book[member_id] = code
        self._owner_of[code] = member_id

    def _discard(self, members: Iterable[str]) -> None:
        """Remove members that were just added (rolls back a bulk addition that failed)."""
        for member in members:
            if member not in self._inviter:
                continue
            inviter = self._inviter.pop(member)
            del self._tier[member]
            self._suspended.discard(member)
            self._extra.pop(member, None)
            self._supplied.pop(member, None)
            if self._children is not None and inviter is not None:
                self._children[inviter].remove(member)
            if self._code_of is not None:
                del self._owner_of[self._code_of.pop(member)]
        self._arrays = None

    def _top_down(self) -> Iterator[str]:
        """Members breadth-first from the sorted roots, children sorted: parents first."""
        children = self._children_of()
        level = self.roots()
        while level:
            yield from level
            level = [child for member in level for child in sorted(children.get(member, ()))]


_EXTRA_KEYS = tuple(key for key in NODE_KEYS if key not in ("tier", "status"))


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
