"""The members under the invite tree: invite codes, member records and the tree as columns.

- :mod:`tuishou.members.codes`: invite codes (邀请码), their check character and typo detection,
  and the ``CodeBook`` assigning them;
- :mod:`tuishou.members.records`: a member record's fields and checks, the ``Origin`` of a
  migrated member, cycle detection;
- :mod:`tuishou.members.arrays`: ``TreeArrays``, the tree as numpy columns for the engine,
  and the check of member columns;
- :mod:`tuishou.members.core`: ``MemberCore``, the tree's storage (a ``member → inviter``
  mapping and the dicts beside it, networkx graph built on request), and the move check;
- :mod:`tuishou.members.queries`: ``MemberQueries``, the read-only questions a tree answers.

:class:`tuishou.InviteTree` (``tuishou/tree.py``) builds on these; users rarely need them.
"""
