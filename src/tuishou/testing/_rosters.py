"""Rosters for property tests of a migration (等级平移), with a mapping that accepts them.

A drawn ``Roster`` is a team from rival platforms, as ``migrate_team`` takes it, and the
``MigrationPolicy`` that maps every (platform, source tier) it uses onto our tiers (or sends
unmapped ones to the lowest tier, which ``on_unmapped="lowest"`` allows). Entries are built
from parent indices like invite trees (entry ``i``'s inviter is none, for a leader, or one of
entries ``0..i-1``, recent ones likelier), then shuffled, since ``migrate_team`` takes a
roster in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from hypothesis import strategies as st

from tuishou.errors import MigrationError
from tuishou.migration.team import MigrationPolicy, RosterEntry, TierMapping
from tuishou.models import FrozenModel
from tuishou.testing._arguments import (
    DEFAULT_PLATFORMS,
    DEFAULT_SOURCE_TIERS,
    DEFAULT_TIERS,
    check_names,
    check_sizes,
    check_text,
    sample,
)

__all__ = ["Roster", "rosters"]

_PROBATION_DAYS = (90, 0, 30, 180)  # shrinks to the default, 90


class Roster(FrozenModel):
    """A drawn roster: ``entries`` for ``migrate_team``, and the ``policy`` that accepts them.

    >>> roster = Roster(entries=[RosterEntry(member_id="r0", platform="云集", source_tier="店主")],
    ...                 policy=MigrationPolicy(mappings=[], on_unmapped="lowest"))
    >>> roster.member_ids, roster.leaders
    (('r0',), ('r0',))
    """

    error_class: ClassVar = MigrationError
    what: ClassVar[str] = "invalid roster"

    entries: tuple[RosterEntry, ...]
    policy: MigrationPolicy

    @property
    def member_ids(self) -> tuple[str, ...]:
        """The incoming members' ids, in roster order."""
        return tuple(entry.member_id for entry in self.entries)

    @property
    def leaders(self) -> tuple[str, ...]:
        """The ids of the entries without an inviter: they attach under ``attach_to``."""
        return tuple(entry.member_id for entry in self.entries if entry.inviter_id is None)


def rosters(
    *,
    tiers: Sequence[str] = DEFAULT_TIERS,
    min_size: int = 1,
    max_size: int = 15,
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    source_tiers: Sequence[str] = DEFAULT_SOURCE_TIERS,
    id_prefix: str = "r",
) -> st.SearchStrategy[Roster]:
    """Rosters of ``min_size`` to ``max_size`` entries ``r0``, ``r1``, ... that migrate.

    Each entry comes from one of ``platforms`` with one of ``source_tiers``; the policy maps
    them onto ``tiers`` (pass ``ladder.names``), with or without a cap, rejecting or lowering
    unmapped tiers, over a probation of 0 to 180 days. Give ``migrate_team`` a ladder with
    these tiers and a tree without the roster's ids (``invite_trees`` uses ``m0``, ...).

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from hypothesis import find
    >>> from tuishou import InviteTree, Tier, TierLadder, migrate_team
    >>> roster = find(rosters(), lambda r: len(r.leaders) < len(r.entries) == 2)
    >>> [(e.member_id, e.inviter_id) for e in roster.entries]
    [('r0', None), ('r1', 'r0')]
    >>> ladder = TierLadder(tiers=[Tier(name=name) for name in DEFAULT_TIERS])
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "member"}])
    >>> report = migrate_team(tree, roster.entries, ladder=ladder, policy=roster.policy,
    ...                       attach_to="A",
    ...                       as_of=datetime(2026, 11, 24, tzinfo=ZoneInfo("Asia/Shanghai")))
    >>> tree.upline("r1"), len(report.members)
    (['r0', 'A'], 2)
    """
    low, high = check_sizes(min_size, max_size, least=1)
    return _rosters(
        low,
        high,
        check_names("tiers", tiers),
        check_names("platforms", platforms),
        check_names("source_tiers", source_tiers),
        check_text("id_prefix", id_prefix),
    )


@st.composite
def _rosters(
    draw: st.DrawFn,
    min_size: int,
    max_size: int,
    tiers: tuple[str, ...],
    platforms: tuple[str, ...],
    source_tiers: tuple[str, ...],
    prefix: str,
) -> Roster:
    # The policy maps every (platform, source tier), used or not: the draws do not depend on
    # the entries, so that shrinking can delete entries without disturbing the policy.
    policy = draw(_policies(platforms, source_tiers, tiers))
    # Each entry is drawn on its own, so that shrinking deletes entries like list items:
    # (has an inviter?, which earlier entry, platform, source tier, has a source id?). Three
    # in four have an inviter; shrinking moves to leaders, as trees shrink to roots.
    drawn = draw(
        st.lists(
            st.tuples(
                sample((False, True, True, True)),
                st.integers(0, max_size),
                sample(platforms),
                sample(source_tiers),
                st.booleans(),
            ),
            min_size=min_size,
            max_size=max_size,
        )
    )
    entries = [
        RosterEntry(
            member_id=f"{prefix}{i}",
            inviter_id=f"{prefix}{i - 1 - earlier % i}" if i and invited else None,
            platform=platform,
            source_tier=source,
            source_member_id=f"src-{i}" if with_id else None,
        )
        for i, (invited, earlier, platform, source, with_id) in enumerate(drawn)
    ]
    return Roster(entries=draw(st.permutations(entries)), policy=policy)


@st.composite
def _policies(
    draw: st.DrawFn,
    platforms: tuple[str, ...],
    source_tiers: tuple[str, ...],
    tiers: tuple[str, ...],
) -> MigrationPolicy:
    """A row for every (platform, source tier); under "lowest", some rows are left out."""
    on_unmapped = draw(sample(("reject", "lowest")))
    rows = []
    for platform in platforms:
        for source in source_tiers:
            tier = draw(sample(tiers))
            if on_unmapped == "reject" or not draw(st.booleans()):  # shrinks to mapped
                rows.append(TierMapping(platform=platform, source_tier=source, tier=tier))
    return MigrationPolicy(
        mappings=rows,
        cap=draw(st.none() | sample(tiers)),
        probation_days=draw(sample(_PROBATION_DAYS)),
        on_unmapped=on_unmapped,
    )
