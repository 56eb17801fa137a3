"""What an invite tree answers about its members: ``MemberQueries``, the base of ``InviteTree``.

:class:`tuishou.InviteTree` (``tuishou/tree.py``) builds and changes the tree; the read-only
questions about members (their inviters, uplines, teams, tiers, statuses, migration details
and invite codes, and the records of all) are answered here, from the tree's
:class:`~tuishou.members.core.MemberCore`. Users call them on an ``InviteTree``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from tuishou.errors import InvalidArgumentError, UnknownMemberError
from tuishou.members.core import MemberCore
from tuishou.members.records import Origin, Status, member_hint

__all__ = ["MemberQueries"]


class MemberQueries:
    """The read-only queries of an invite tree over its ``MemberCore`` (kept in ``_core``,
    which the subclass ``InviteTree`` builds and changes); an unknown id raises
    ``UnknownMemberError`` with a hint.
    """

    __slots__ = ("_core",)

    def __init__(self) -> None:
        self._core = MemberCore()  # the member → inviter mapping and the dicts beside it

    def __len__(self) -> int:
        return len(self._core.inviter)

    def __contains__(self, member_id: object) -> bool:
        return member_id in self._core.inviter

    def __iter__(self) -> Iterator[str]:
        """Member ids: from_records' members breadth-first from the roots, then later additions."""
        return iter(self._core.inviter)

    @property
    def inviters(self) -> Mapping[str, str | None]:
        """The tree's core, read-only: member → inviter (None for a root), in iteration order.

        For passes over the whole tree (tier evaluation walks it in O(members) with it).

        >>> from tuishou.examples import example_tree
        >>> dict(example_tree().inviters)
        {'A': None, 'B': 'A', 'D': 'A', 'C': 'B'}
        """
        return MappingProxyType(self._core.inviter)

    def inviter(self, member_id: str) -> str | None:
        """The member's inviter, or None for a root.

        >>> from tuishou.examples import example_tree

        >>> example_tree().inviter("C")
        'B'
        """
        self._require(member_id)
        return self._core.inviter[member_id]

    def upline(self, member_id: str, *, max_generation: int | None = None) -> list[str]:
        """The member's uplines, nearest first, not including the member itself.

        >>> from tuishou.examples import example_tree

        >>> example_tree().upline("C"), example_tree().upline("C", max_generation=1)
        (['B', 'A'], ['B'])
        """
        self._require(member_id)
        if max_generation is not None and max_generation < 0:
            raise InvalidArgumentError(
                f"max_generation={max_generation} is negative; use 0 or more, or None"
            )
        inviter_of = self._core.inviter
        chain: list[str] = []
        inviter = inviter_of[member_id]
        while inviter is not None and (max_generation is None or len(chain) < max_generation):
            chain.append(inviter)
            inviter = inviter_of[inviter]
        return chain

    def direct_invites(self, member_id: str) -> list[str]:
        """The members who joined with this member's code, sorted.

        >>> from tuishou.examples import example_tree

        >>> example_tree().direct_invites("A")
        ['B', 'D']
        """
        self._require(member_id)
        return sorted(self._core.children().get(member_id, ()))

    def team_size(self, member_id: str) -> int:
        """How many members are below this one, at any depth.

        >>> from tuishou.examples import example_tree

        >>> example_tree().team_size("A")
        3
        """
        self._require(member_id)
        children = self._core.children()
        count, level = 0, children.get(member_id, [])
        while level:
            count += len(level)
            level = [child for m in level for child in children.get(m, ())]
        return count

    def depth(self, member_id: str) -> int:
        """How many uplines the member has (roots are 0).

        >>> from tuishou.examples import example_tree

        >>> example_tree().depth("C")
        2
        """
        return len(self.upline(member_id))

    def roots(self) -> list[str]:
        """The members without an inviter, sorted.

        >>> from tuishou.examples import example_tree

        >>> example_tree().roots()
        ['A']
        """
        return self._core.roots()

    def tier(self, member_id: str) -> str:
        """The member's tier.

        >>> from tuishou.examples import example_tree

        >>> example_tree().tier("A")
        'mentor'
        """
        self._require(member_id)
        return self._core.tier[member_id]

    def status(self, member_id: str) -> Status:
        """The member's status, ``"active"`` or ``"suspended"``.

        >>> from tuishou.examples import example_tree

        >>> example_tree().status("D")
        'suspended'
        """
        self._require(member_id)
        return "suspended" if member_id in self._core.suspended else "active"

    def joined_at(self, member_id: str) -> datetime | None:
        """When the member joined, if known.

        >>> from tuishou.examples import example_tree

        >>> example_tree().joined_at("A") is None
        True
        """
        self._require(member_id)
        joined: datetime | None = self._core.extra.get(member_id, {}).get("joined_at")
        return joined

    def origin(self, member_id: str) -> Origin | None:
        """Where a migrated member came from, or None for a member who joined here.

        >>> from tuishou.examples import example_tree

        >>> example_tree().origin("A") is None
        True
        """
        self._require(member_id)
        extra = self._core.extra.get(member_id, {})
        if extra.get("origin_platform") is None:
            return None
        return Origin(extra["origin_platform"], extra["origin_tier"], extra.get("origin_member_id"))

    def probation_until(self, member_id: str) -> datetime | None:
        """When a migrated member's probation ends (its tier cannot be demoted before), or None.

        >>> from tuishou.examples import example_tree

        >>> example_tree().probation_until("A") is None
        True
        """
        self._require(member_id)
        until: datetime | None = self._core.extra.get(member_id, {}).get("probation_until")
        return until

    def probations(self) -> dict[str, datetime]:
        """Every member with a probation end set, and when it ends.

        >>> from tuishou.examples import example_tree

        >>> from datetime import UTC, datetime
        >>> tree = example_tree(); tree.set_probation("B", datetime(2027, 3, 1, tzinfo=UTC))
        >>> tree.probations()
        {'B': datetime.datetime(2027, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)}
        """
        return {
            member: extra["probation_until"]
            for member, extra in self._core.extra.items()
            if extra.get("probation_until") is not None
        }

    def invite_code(self, member_id: str) -> str:
        """The member's invite code (邀请码): 7 characters, the last one a check character.

        >>> from tuishou.examples import example_tree

        >>> code = example_tree().invite_code("A")
        >>> len(code), example_tree().code_owner(code.lower())
        (7, 'A')
        """
        self._require(member_id)
        return self._core.codes.codes(self._core.inviter)[member_id]

    def code_owner(self, invite_code: str) -> str:
        """The member who holds ``invite_code``, or ``InvalidInviteCodeError`` saying why not.

        >>> from tuishou.examples import example_tree

        >>> example_tree().code_owner("2222222")
        Traceback (most recent call last):
        ...
        tuishou.errors.InvalidInviteCodeError: invite code '2222222' is well formed but nobody ...
        """
        return self._core.codes.owner(invite_code, self._core.inviter)

    def to_records(self) -> list[dict[str, Any]]:
        """Every member as a record, inviters before invitees; round-trips through from_records.

        >>> from tuishou.examples import example_tree

        >>> tree = example_tree()
        >>> type(tree).from_records(tree.to_records()) == tree
        True
        """
        core = self._core
        codes = core.codes.codes(core.inviter)
        return [
            {
                "member_id": member,
                "inviter_id": core.inviter[member],
                **core.attributes(member),
                "invite_code": codes[member],
            }
            for member in core.top_down()
        ]

    def _require(self, member_id: str) -> None:
        if member_id not in self._core.inviter:
            hint = member_hint(member_id, self._core.inviter)
            raise UnknownMemberError(f"member_id={member_id!r} is not in the tree; {hint}")
