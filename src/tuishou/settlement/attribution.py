"""Attribution (成交归属): who is credited with an order, and why (docs/domain.md §6, §16).

One rule, used by ``settle`` (``tuishou.settlement.compute``); the batch engine states the
same rule over columns (``tuishou.engine.sellers``) and the differential property checks that
the two agree order for order.
"""

from __future__ import annotations

from tuishou.bindings import Binding, Bindings
from tuishou.errors import InvalidOrderError, UnknownMemberError
from tuishou.members.records import member_hint
from tuishou.orders import Order
from tuishou.rules import Policy
from tuishou.settlement.results import Attribution
from tuishou.tree import InviteTree

__all__ = ["attribute"]


def attribute(
    policy: Policy, tree: InviteTree, order: Order, bindings: Bindings | None = None
) -> tuple[str | None, Attribution, Binding | None]:
    """The seller of ``order``, how it was credited, and the binding that credited it (if one
    did): docs/domain.md §6, in order: a share link from someone other than the buyer; a
    member buyer's own purchase (``self_purchase``), else its binding (``bind_members``),
    else its inviter; a guest's binding; else nobody. A sharer who is the buyer counts as no
    share link (a self-share cannot get around ``self_purchase = false``). Raises
    ``UnknownMemberError`` for a sharer or bound member who is not a member,
    ``InvalidOrderError`` when a binding would decide and the order has no ``paid_at``.

    >>> from tuishou import InviteTree, Order, OrderLine
    >>> from tuishou.examples import example_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> line = OrderLine(sku="s", group="g", amount=100)
    >>> attribute(example_policy(), tree, Order(order_id="o", sharer_id="A", lines=[line]))
    ('A', 'sharer', None)
    """
    if order.sharer_id is not None:
        if order.sharer_id not in tree:
            raise UnknownMemberError(
                f"order {order.order_id!r}: sharer_id={order.sharer_id!r} is not a member; "
                f"{member_hint(order.sharer_id, tree)}"
            )
        if order.sharer_id != order.buyer_id:
            return order.sharer_id, "sharer", None
    buyer = order.buyer_id
    if buyer is not None and buyer in tree:
        if policy.self_purchase:
            return buyer, "self_purchase", None
        binding = _binding(tree, order, bindings) if policy.bind_members else None
        if binding is not None:
            return binding.member_id, "binding", binding
        inviter = tree.inviter(buyer)
        return inviter, "buyer_inviter" if inviter is not None else "none", None
    binding = _binding(tree, order, bindings)
    if binding is not None:
        return binding.member_id, "binding", binding
    return None, "none", None


def _binding(tree: InviteTree, order: Order, bindings: Bindings | None) -> Binding | None:
    """The buyer's binding in force at ``paid_at`` (docs/domain.md §16), if any."""
    buyer = order.buyer_id
    if bindings is None or buyer is None or not bindings.for_customer(buyer):
        return None
    if order.paid_at is None:
        raise InvalidOrderError(
            f"order {order.order_id!r} has no paid_at and its buyer {buyer!r} has bindings; "
            "the binding in force when it was paid decides its seller: give paid_at"
        )
    binding = bindings.at(buyer, order.paid_at)
    if binding is not None and binding.member_id not in tree:
        raise UnknownMemberError(
            f"order {order.order_id!r}: buyer {buyer!r} is bound to "
            f"member_id={binding.member_id!r}, who is not a member; "
            f"{member_hint(binding.member_id, tree)}"
        )
    return binding
