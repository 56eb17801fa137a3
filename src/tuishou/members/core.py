"""The invite tree's storage: a ``member → inviter`` mapping and a few plain dicts beside it.

:class:`tuishou.InviteTree` checks its arguments and keeps its state in a ``MemberCore``
(package-internal): member → inviter, member → tier, the suspended set, sparse extras
(``joined_at``, origin, probation), the invite codes, and caches built when first needed (the
children of each member, the columns of :class:`~tuishou.members.arrays.TreeArrays`). Upline
walks are the hot path of settlement and a dict lookup is several times faster than asking a
graph; the networkx view is built from this core on request (:meth:`MemberCore.graph`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import networkx as nx

from tuishou.members.arrays import CheckedColumns, TreeArrays
from tuishou.members.codes import CodeBook
from tuishou.members.records import EXTRA_KEYS, NODE_KEYS

__all__ = ["MemberCore", "cycle_message"]


class MemberCore:
    """The dicts behind an ``InviteTree``; every change keeps its caches in step.

    ``inviter`` keeps the order members were added in (the tree's iteration order).

    >>> core = MemberCore()
    >>> core.store({"member_id": "A", "inviter_id": None, "tier": "m", "status": "active"})
    >>> core.store({"member_id": "B", "inviter_id": "A", "tier": "m", "status": "suspended"})
    >>> core.children()["A"], list(core.top_down()), core.arrays().active.tolist()
    (['B'], ['A', 'B'], [True, False])
    """

    __slots__ = ("_arrays", "_children", "codes", "extra", "inviter", "suspended", "tier")

    def __init__(self) -> None:
        self.inviter: dict[str, str | None] = {}
        self.tier: dict[str, str] = {}
        self.suspended: set[str] = set()
        self.extra: dict[str, dict[str, Any]] = {}  # joined_at, origin, probation when set
        self.codes = CodeBook()
        self._children: dict[str, list[str]] | None = None  # built when first needed
        self._arrays: TreeArrays | None = None  # the columnar form, until the tree changes

    @classmethod
    def from_columns(cls, checked: CheckedColumns) -> MemberCore:
        """A core from columns that passed ``check_arrays`` (their arrays are kept)."""
        core = cls()
        core.inviter = dict(zip(checked.ids, checked.inviters, strict=True))
        core.tier = dict(zip(checked.ids, checked.tier_column, strict=True))
        core.suspended = {
            m
            for m, active in zip(checked.ids, checked.arrays.active.tolist(), strict=True)
            if not active
        }
        core._arrays = checked.arrays
        return core

    # ------------------------------------------------------------------ changes

    def store(self, row: Mapping[str, Any]) -> None:
        """Add a checked record (see ``tuishou.members.records``)."""
        member, inviter = row["member_id"], row["inviter_id"]
        self.inviter[member] = inviter
        self.tier[member] = row["tier"]
        if row["status"] == "suspended":
            self.suspended.add(member)
        extra = {key: row[key] for key in EXTRA_KEYS if row.get(key) is not None}
        if extra:
            self.extra[member] = extra
        if self._children is not None and inviter is not None:
            self._children.setdefault(inviter, []).append(member)
        self.codes.add(member, row.get("invite_code"))
        self._arrays = None

    def discard(self, members: Iterable[str]) -> None:
        """Remove members (the caller makes sure none leaves invitees behind)."""
        for member in members:
            inviter = self.inviter.pop(member)
            del self.tier[member]
            self.suspended.discard(member)
            self.extra.pop(member, None)
            self.codes.discard(member)
            if self._children is not None and inviter is not None:
                self._children[inviter].remove(member)
        self._arrays = None

    def set_tier(self, member: str, tier: str) -> None:
        """Change a member's tier."""
        self.tier[member] = tier
        self._arrays = None

    def set_suspended(self, member: str, suspended: bool) -> None:
        """Suspend or reactivate a member."""
        if suspended:
            self.suspended.add(member)
        else:
            self.suspended.discard(member)
        self._arrays = None

    def set_extra(self, member: str, key: str, value: Any) -> None:
        """Set (or, with None, clear) one of a member's extra fields."""
        extra = self.extra.setdefault(member, {})
        if value is None:
            extra.pop(key, None)
        else:
            extra[key] = value

    def move(self, member: str, new_inviter: str | None) -> None:
        """Re-link a member (the caller has ruled out a cycle)."""
        old = self.inviter[member]
        if self._children is not None:
            if old is not None:
                self._children[old].remove(member)
            if new_inviter is not None:
                self._children.setdefault(new_inviter, []).append(member)
        self.inviter[member] = new_inviter
        self._arrays = None

    # ------------------------------------------------------------------ views

    def status(self, member: str) -> str:
        """``"suspended"`` or ``"active"``."""
        return "suspended" if member in self.suspended else "active"

    def attributes(self, member: str) -> dict[str, Any]:
        """The member's record fields except ids and code (the graph's node attributes)."""
        extra = self.extra.get(member, {})
        values = {"tier": self.tier[member], "status": self.status(member)}
        return {key: values[key] if key in values else extra.get(key) for key in NODE_KEYS}

    def children(self) -> dict[str, list[str]]:
        """Each inviter's invitees, in the order they were added (built when first needed)."""
        if self._children is None:
            children: dict[str, list[str]] = {}
            for member, inviter in self.inviter.items():
                if inviter is not None:
                    children.setdefault(inviter, []).append(member)
            self._children = children
        return self._children

    def roots(self) -> list[str]:
        """The members without an inviter, sorted."""
        return sorted(m for m, inviter in self.inviter.items() if inviter is None)

    def top_down(self) -> Iterator[str]:
        """Members breadth-first from the sorted roots, children sorted: parents first."""
        children = self.children()
        level = self.roots()
        while level:
            yield from level
            level = [child for member in level for child in sorted(children.get(member, ()))]

    def arrays(self) -> TreeArrays:
        """The columnar form, cached until the next change."""
        if self._arrays is None:
            self._arrays = TreeArrays.build(self.inviter, self.tier, self.suspended)
        return self._arrays

    def graph(self) -> nx.DiGraph[str]:
        """A frozen networkx graph built now: edges inviter → invitee, node attributes."""
        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from((m, self.attributes(m)) for m in self.inviter)
        graph.add_edges_from((i, m) for m, i in self.inviter.items() if i is not None)
        frozen: nx.DiGraph[str] = nx.freeze(graph)
        return frozen


def cycle_message(member: str, new_inviter: str, upline: list[str]) -> str | None:
    """Why moving ``member`` under ``new_inviter`` (whose upline is given) would make a
    cycle, or None when it would not; a long loop is shortened.

    >>> cycle_message("A", "C", ["B", "A"])
    "moving 'A' under 'C' would create a cycle: A → B → C → A"
    >>> cycle_message("A", "C", []) is None
    True
    """
    path = [new_inviter, *upline]
    if member not in path:
        return None
    loop = [*reversed(path[: path.index(member) + 1]), member]
    shown = " → ".join(
        loop if len(loop) <= 12 else [*loop[:10], f"... ({len(loop) - 11} more)", member]
    )
    return f"moving {member!r} under {new_inviter!r} would create a cycle: {shown}"
