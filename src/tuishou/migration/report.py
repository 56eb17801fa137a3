"""What a migration did, for the operator and for the team leader: ``MigrationReport``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

__all__ = ["MigratedMember", "MigrationReport"]


@dataclass(frozen=True, slots=True)
class MigratedMember:
    """One migrated member: where it came from, what the mapping said, what it was granted.

    ``mapped_tier`` is None when the (platform, source tier) had no mapping and the policy
    gave the lowest tier; ``capped`` is True when the cap lowered the mapped tier.
    """

    member_id: str
    inviter_id: str | None
    platform: str
    source_tier: str
    source_member_id: str | None
    mapped_tier: str | None
    granted_tier: str
    capped: bool
    evidence: str | None
    invite_code: str | None

    @property
    def note(self) -> str:
        """Why the granted tier differs from the mapping, if it does."""
        if self.mapped_tier is None:
            return "unmapped: lowest tier"
        return f"capped from {self.mapped_tier}" if self.capped else ""

    def with_code(self, code: str) -> MigratedMember:
        """The same member with its new invite code."""
        return replace(self, invite_code=code)


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """Who was added, each source tier → granted tier, the attach point, probation, a summary.

    ``str(report)`` is a readable account; ``to_records()`` gives one dict per member.
    """

    members: tuple[MigratedMember, ...]
    attach_to: str | None
    as_of: datetime
    probation_until: datetime
    tiers: tuple[str, ...]

    @property
    def added(self) -> list[str]:
        """The ids of the members added, leaders first."""
        return [member.member_id for member in self.members]

    @property
    def leaders(self) -> list[str]:
        """The roster's leaders: attached under ``attach_to``, or new roots."""
        return [member.member_id for member in self.members if member.inviter_id is None]

    @property
    def by_tier(self) -> dict[str, int]:
        """How many members were granted each tier, in ladder order (tiers granted only)."""
        counts = dict.fromkeys(self.tiers, 0)
        for member in self.members:
            counts[member.granted_tier] += 1
        return {tier: count for tier, count in counts.items() if count}

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per member (for a DataFrame or a CSV), with the probation end."""
        return [
            {
                "member_id": m.member_id,
                "inviter_id": m.inviter_id or self.attach_to,
                "platform": m.platform,
                "source_tier": m.source_tier,
                "source_member_id": m.source_member_id,
                "mapped_tier": m.mapped_tier,
                "granted_tier": m.granted_tier,
                "capped": m.capped,
                "unmapped": m.mapped_tier is None,
                "invite_code": m.invite_code,
                "probation_until": self.probation_until,
                "evidence": m.evidence,
            }
            for m in self.members
        ]

    def __str__(self) -> str:
        where = f"under {self.attach_to}" if self.attach_to else "as new roots"
        lines = [
            f"Migrated {len(self.members)} member(s) on {self.as_of:%Y-%m-%d}, "
            f"on probation until {self.probation_until:%Y-%m-%d}",
            f"Leaders ({where}): " + ", ".join(self.leaders),
            "Granted tiers: " + ", ".join(f"{t} {n}" for t, n in self.by_tier.items()),
        ]
        rows = [("member", "inviter", "platform", "source tier", "granted", "note", "code")]
        rows += [
            (
                m.member_id,
                m.inviter_id or self.attach_to or "-",
                m.platform,
                m.source_tier,
                m.granted_tier,
                m.note,
                m.invite_code or "",
            )
            for m in self.members
        ]
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines += [
            "  "
            + "  ".join(
                cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)
            ).rstrip()
            for row in rows
        ]
        return "\n".join(lines)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
