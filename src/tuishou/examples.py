"""Small ready-made objects for examples: the fixtures of the docstrings, public and documented.

Each function builds a fresh object, so an example may change what it gets. The tree and the
ladder are defined beside their classes (``tuishou.tree``, ``tuishou.ladder``: their own
docstrings use them) and re-exported here; the others are defined here, above the modules
they combine (see the layers in ``docs/architecture.md``). Nothing in the library calls them.

>>> from tuishou.examples import example_policy, example_settlement
>>> example_policy().name, [p.amount for p in example_settlement().payouts]
('demo', [500])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuishou.ladder import example_ladder
from tuishou.orders import Order, OrderLine
from tuishou.rules import Policy
from tuishou.settlement import Settlement, settle
from tuishou.tree import InviteTree, example_tree

if TYPE_CHECKING:
    from tuishou.analysis.compare import Comparison
    from tuishou.engine.tables import BatchResult

__all__ = [
    "example_comparison",
    "example_ladder",
    "example_order",
    "example_policy",
    "example_rates_policy",
    "example_result",
    "example_settlement",
    "example_tree",
]


def example_policy() -> Policy:
    """Tier ``m``, group ``g`` with a pool rate of 10%, and a seller rule paying half the pool.

    >>> example_policy().pool_rate("s", "g"), example_policy().tiers
    (Decimal('0.1'), ('m',))
    """
    return Policy.model_validate(
        {
            "name": "demo",
            "tiers": ["m"],
            "group_rates": {"g": "0.1"},
            "rules": [{"kind": "seller", "rates": {"m": "0.5"}}],
        }
    )


def example_rates_policy() -> Policy:
    """Tier ``member`` and a pool rate of 5% for the group ``xiaomi``, with no rules.

    >>> dict(example_rates_policy().group_rates)
    {'xiaomi': Decimal('0.05')}
    """
    return Policy.model_validate(
        {"name": "demo", "tiers": ["member"], "group_rates": {"xiaomi": "0.05"}, "rules": []}
    )


def example_order() -> Order:
    """Order ``o1``, shared by ``A``: one line of sku ``s`` in group ``g`` for 10000 fen.

    >>> example_order().lines[0].amount
    10000
    """
    return Order(order_id="o1", sharer_id="A", lines=[OrderLine(sku="s", group="g", amount=10000)])


def example_settlement() -> Settlement:
    """:func:`example_order` settled under :func:`example_policy` in a tree of ``A`` alone:
    a pool of 1000 fen, of which the seller A gets 500.

    >>> example_settlement().seller_id
    'A'
    """
    tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    return settle(example_policy(), tree, example_order())


def example_result() -> BatchResult:
    """The same order as :func:`example_settlement`, settled by ``settle_batch``.

    >>> example_result().payouts.rows()
    [('o1', 'A', 'seller', 'seller', 0, 500)]
    """
    from tuishou.engine.batch import settle_batch

    tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    return settle_batch(
        example_policy(),
        tree,
        {"order_id": ["o1"], "sharer_id": ["A"], "sku": ["s"], "group": ["g"], "amount": [10000]},
    )


def example_comparison() -> Comparison:
    """:func:`example_policy` (``current``) against a richer seller rate (``richer``), on one
    order of 10000 fen shared by ``B``, invited by ``A`` (needs the ``notebook`` extra).

    >>> example_comparison().labels
    ('current', 'richer')
    """
    from tuishou.analysis.compare import compare, replace

    tree = InviteTree.from_records(
        [
            {"member_id": "A", "inviter_id": None, "tier": "m"},
            {"member_id": "B", "inviter_id": "A", "tier": "m"},
        ]
    )
    orders = [
        Order(order_id="o1", sharer_id="B", lines=[OrderLine(sku="s", group="g", amount=10000)])
    ]
    current = example_policy()
    richer = replace(current, rules=[{"kind": "seller", "rates": {"m": "0.6"}}])
    return compare({"current": current, "richer": richer}, tree, orders)
