"""``--bindings FILE`` (customer bindings, 锁粉) for ``settle``, ``explain``, ``compare`` and
``validate``: the option, and the file read and checked against the members' tree.

The file's format is :mod:`tuishou.io.binding_files`'; every problem is reported at once
with its file and line (exit status 2), a bound member who is not in the tree among them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any, TypeVar

import click

from tuishou.bindings import Bindings
from tuishou.cli.files import FileArg
from tuishou.io.files import DataFile, Problems
from tuishou.io.inputs import read_members
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.tree import InviteTree

__all__ = ["bindings_from", "bindings_option", "checked_bindings", "members_for"]

_F = TypeVar("_F", bound=Callable[..., Any])


def bindings_option(command: _F) -> _F:
    """``--bindings FILE``: customer bindings, one row per binding (optional).

    >>> [p.name for p in bindings_option(click.command()(lambda bindings: None)).params]
    ['bindings']
    """
    return click.option(
        "--bindings",
        type=FileArg(output=False, data=True),
        default=None,
        metavar="FILE",
        help="Customer bindings: customer_id, member_id, since[, until, how]; an order "
        "without a share link credits the member its buyer is bound to when it was paid.",
    )(command)


def bindings_from(path: DataFile | None, tree: InviteTree | None, zone: tzinfo) -> Bindings | None:
    """The bindings file (None: no file), checked against ``tree`` when given; raises
    ``InvalidFileError`` listing every problem. Times without an offset are read in ``zone``."""
    if path is None:
        return None
    from tuishou.io.binding_files import read_bindings

    problems = Problems()
    found = read_bindings(path, problems, zone=zone, tree=tree)
    problems.check()
    assert found is not None  # None only with problems
    return found


def members_for(members: DataFile, policy: Policy | PolicyVersions, zone: tzinfo) -> InviteTree:
    """The members file as a tree with the (latest) policy's tiers; ``InvalidFileError``
    listing every problem otherwise."""
    latest = policy.versions[-1].policy if isinstance(policy, PolicyVersions) else policy
    problems = Problems()
    tree, _ = read_members(members, tiers=latest.tiers, problems=problems, zone=zone)
    problems.check()
    assert tree is not None  # None only with problems
    return tree


def checked_bindings(
    path: DataFile, members: DataFile | None, policy: Policy | PolicyVersions, zone: tzinfo
) -> str:
    """What ``validate --bindings`` prints: how many bindings the file holds, checked against
    the members file when given (``InvalidFileError`` listing every problem otherwise)."""
    tree = None if members is None else members_for(members, policy, zone)
    found = bindings_from(path, tree, zone)
    assert found is not None  # a file was given
    against = ", every bound member a member" if tree is not None else ""
    return f"{path}: {len(found)} binding(s), {len(found.customers)} customer(s){against}."
