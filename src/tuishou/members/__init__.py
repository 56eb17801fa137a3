"""The members under the invite tree: invite codes, member records and the tree as columns.

- :mod:`tuishou.members.codes`: invite codes (邀请码), their check character and typo detection;
- :mod:`tuishou.members.records`: a member record's fields and checks, the ``Origin`` of a
  migrated member, cycle detection;
- :mod:`tuishou.members.arrays`: ``TreeArrays``, the tree as numpy columns for the engine.

:class:`tuishou.InviteTree` (``tuishou/tree.py``) builds on these; users rarely need them.
"""
