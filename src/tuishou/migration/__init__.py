"""Team migration from a rival platform (等级平移): tiers mapped, structure kept, probation.

- :mod:`~tuishou.migration.team`: ``migrate_team`` and its ``MigrationPolicy``;
- :mod:`~tuishou.migration.report`: the ``MigrationReport`` of who came in at which tier.

>>> from tuishou.migration import migrate_team, MigrationPolicy
"""

from tuishou.migration.report import MigratedMember, MigrationReport
from tuishou.migration.team import MigrationPolicy, RosterEntry, TierMapping, migrate_team

__all__ = [
    "MigratedMember",
    "MigrationPolicy",
    "MigrationReport",
    "RosterEntry",
    "TierMapping",
    "migrate_team",
]
