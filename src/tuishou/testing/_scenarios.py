"""Scenarios: a policy, a tree and an order drawn together, for tests of settlement itself.

A user testing *their* policy draws trees and orders (``invite_trees``, ``orders``) and settles
them under it; a scenario draws the policy as well, for code that must work under any policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from hypothesis import strategies as st

from tuishou.orders import Order
from tuishou.rules import Policy
from tuishou.testing._arguments import (
    DEFAULT_GROUPS,
    DEFAULT_SKUS,
    DEFAULT_TIERS,
    check_count,
    check_names,
    check_ratio,
)
from tuishou.testing._orders import orders
from tuishou.testing._policies import policies
from tuishou.testing._trees import invite_trees
from tuishou.tree import InviteTree

__all__ = ["Scenario", "scenarios"]


class Scenario(NamedTuple):
    """A policy, a tree and an order over them: ``settle(*scenario)`` settles it."""

    policy: Policy
    tree: InviteTree
    order: Order


def scenarios(
    *,
    tiers: Sequence[str] = DEFAULT_TIERS,
    groups: Sequence[str] = DEFAULT_GROUPS,
    skus: Sequence[str] = DEFAULT_SKUS,
    max_size: int = 12,
    max_lines: int = 4,
    suspended_ratio: float = 0.25,
) -> st.SearchStrategy[Scenario]:
    """Scenarios from :func:`policies`, :func:`invite_trees` (1 to ``max_size`` members) and
    :func:`orders`, all over the same ``tiers``, ``groups`` and ``skus``.

    >>> from hypothesis import given
    >>> from tuishou import settle
    >>> @given(scenarios(tiers=("member", "pusher")))
    ... def test_the_platform_never_retains_less_than_nothing(scenario):
    ...     assert settle(*scenario).retained >= 0
    >>> test_the_platform_never_retains_less_than_nothing()
    """
    names = check_names("tiers", tiers)
    group_names, sku_names = check_names("groups", groups), check_names("skus", skus)
    options = {
        "groups": group_names,
        "skus": sku_names,
        "max_lines": check_count("max_lines", max_lines, least=1),
    }
    trees = invite_trees(
        max_size=check_count("max_size", max_size, least=1),
        tiers=names,
        suspended_ratio=check_ratio("suspended_ratio", suspended_ratio),
    )
    return _scenarios(policies(tiers=names, groups=group_names, skus=sku_names), trees, options)


@st.composite
def _scenarios(
    draw: st.DrawFn,
    drawn_policies: st.SearchStrategy[Policy],
    drawn_trees: st.SearchStrategy[InviteTree],
    options: dict[str, Any],
) -> Scenario:
    tree = draw(drawn_trees)
    return Scenario(draw(drawn_policies), tree, draw(orders(tree, **options)))
