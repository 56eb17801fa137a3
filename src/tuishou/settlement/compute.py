"""Settling one order (结算): the seller, the chain, each member's share, rounded to the fen.

``settle(policy, tree, order)`` follows docs/domain.md §6-§10 step by step:

1. **attribution**: the seller is the sharer, else the buyer (自购省, with
   ``self_purchase``) or the buyer's inviter, else nobody (a guest order pays nothing);
   with ``bindings``, a buyer bound to a member at ``paid_at`` credits that member before
   the inviter (members only with ``bind_members``; docs/domain.md §6, §16).
   A buyer who shared to themselves (sharer = buyer) is treated as having no share link,
   so a self-share cannot get around ``self_purchase = false``;
2. **pool**: each line's paid amount (its amount less its share of the order's coupon,
   ``tuishou.settlement.coupons``) × its pool rate (``rulebook.pool_rate``), exact;
3. **chain**: the seller (generation 0) and its uplines up to ``max_generation``; with
   ``compression`` suspended uplines are skipped and the next one moves down;
4. **shares**: every rule, in policy order, gives chain members a share of the pool (each
   rule kind's walk is in ``tuishou.rulebook``, shared with the batch engine); shares of
   suspended members are computed (they still raise the differential) and then forfeited
   to the platform;
5. **allocation**: exact amounts are rounded once (``tuishou.rounding``), per order or per
   line.

Under ``PolicyVersions`` step 0 picks the policy: the version in force at the order's
``paid_at`` (``PolicyVersions.version_for``); the settlement records its name (``version``).

Every intermediate value is an exact int: amounts in fen times rates in 1/10 000. The
``Decimal`` values a person reads (``exact``, ``share``) are built from those ints digit for
digit, never through a Decimal context that could round them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from tuishou.bindings import Binding, Bindings
from tuishou.errors import (
    ArgumentTypeError,
    InvalidOrderError,
    UnknownGroupError,
    UnknownTierError,
    did_you_mean,
)
from tuishou.money import RATE_PLACES, rate_units
from tuishou.orders import Order
from tuishou.policy_versions import PolicyVersion, PolicyVersions
from tuishou.rounding import round_order
from tuishou.rulebook import payout_order
from tuishou.rulebook.pools import line_rate
from tuishou.rules import Policy
from tuishou.settlement.attribution import attribute
from tuishou.settlement.coupons import line_discounts, paid_order
from tuishou.settlement.fixed_lines import bought_of, check_fixed_amounts, fixed_shares, with_fixed
from tuishou.settlement.results import (
    Attribution,
    ChainLink,
    LinePool,
    Payout,
    Settlement,
    Share,
    exact_fen,
)
from tuishou.tree import InviteTree

__all__ = ["resettle", "seller_chain", "settle", "settle_chain", "settle_many"]


def settle(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    order: Order,
    *,
    bindings: Bindings | None = None,
) -> Settlement:
    """Settle one order under ``policy`` on ``tree``: exact, rounded once, conserved.

    ``bindings`` (customer bindings, 锁粉) credit a bound member when the order has no share
    link (docs/domain.md §6); an order whose binding decides must have ``paid_at``
    (``InvalidOrderError``) and the bound member must be in the tree (``UnknownMemberError``).

    ``policy`` may be ``PolicyVersions``: the order is settled under the version in force at
    its ``paid_at`` and the result names it (``version``); an order without ``paid_at``
    under several versions, or paid before the first, raises ``InvalidOrderError``.

    Example B of docs/domain.md §15 (two-level, floor per line):

    >>> from tuishou import InviteTree, Order, OrderLine, Policy
    >>> tree = InviteTree.from_records([
    ...     {"member_id": m, "inviter_id": i, "tier": "member"}
    ...     for m, i in [("A", None), ("B", "A"), ("C", "B"), ("X", "C")]])
    >>> policy = Policy.model_validate({
    ...     "name": "yudao", "tiers": ["member"], "group_rates": {"all": "1"},
    ...     "rounding": "floor", "rounding_scope": "line",
    ...     "rules": [{"kind": "seller", "rates": {"member": "0.05"}},
    ...               {"kind": "layers", "rates": {"member": ["0.02"]}}]})
    >>> order = Order(order_id="o1", buyer_id="X", lines=[
    ...     OrderLine(sku="a", group="all", amount=19999),
    ...     OrderLine(sku="b", group="all", amount=4999)])
    >>> result = settle(policy, tree, order)
    >>> [(p.member_id, p.amount) for p in result.payouts], result.retained
    ([('C', 1248), ('B', 498)], 23252)
    """
    _check_types(policy, tree, order, bindings)
    if isinstance(policy, PolicyVersions):
        return _settle_version(policy.version_for(order), tree, order, bindings)
    seller, attribution, binding = attribute(policy, tree, order, bindings)
    chain = _chain(policy, tree, seller) if seller is not None else ()
    return settle_chain(policy, order, seller, attribution, chain, binding=binding)


def _settle_version(
    version: PolicyVersion, tree: InviteTree, order: Order, bindings: Bindings | None = None
) -> Settlement:
    """``settle`` under one version; a group or tier the version lacks names the version
    (another version may have it, so the policy's name alone would mislead)."""
    policy = version.policy
    try:
        seller, attribution, binding = attribute(policy, tree, order, bindings)
        chain = _chain(policy, tree, seller) if seller is not None else ()
        return settle_chain(
            policy,
            order,
            seller,
            attribution,
            chain,
            version=version.name,
            version_from=version.effective_from,
            binding=binding,
        )
    except (UnknownGroupError, UnknownTierError) as exc:
        raise type(exc)(f"{exc} (under policy {version.describe()})") from None


def resettle(
    previous: Settlement, order: Order, *, bought: Sequence[int] | None = None
) -> Settlement:
    """Settle ``order`` again under the policy, seller and chain recorded in ``previous``
    (and its policy version and binding: the result names the same ``version``). ``bought``
    gives the quantity bought on each line, which picks quantity brackets (default: the
    lines' own).

    The chain (members, tiers, statuses, generations) is taken as it was when ``previous``
    was settled, never from today's tree: this is how a refund re-settles what remains of an
    order (see :class:`tuishou.ledger.ledger.Ledger`). ``order`` must have ``previous``'s order id.

    >>> from tuishou import Order, OrderLine
    >>> from tuishou.examples import example_settlement
    >>> first = example_settlement()  # A shared an order of 10000 fen: A gets 500
    >>> half = Order(order_id="o1", sharer_id="A", lines=[
    ...     OrderLine(sku="s", group="g", amount=5000)])
    >>> resettle(first, half).amount_for("A")
    250
    """
    if not isinstance(previous, Settlement):
        raise ArgumentTypeError(f"previous is a {type(previous).__name__}, expected Settlement")
    if not isinstance(order, Order):
        raise ArgumentTypeError(f"order is a {type(order).__name__}, expected Order")
    policy = previous.policy
    if order.order_id != previous.order_id:
        raise InvalidOrderError(
            f"order_id={order.order_id!r} is not the settled order {previous.order_id!r}"
        )
    return settle_chain(
        policy,
        order,
        previous.seller_id,
        previous.attribution,
        previous.chain,
        version=previous.version,
        version_from=previous.version_from,
        binding=previous.binding,
        bought=bought,
    )


def settle_chain(
    policy: Policy,
    order: Order,
    seller: str | None,
    attribution: Attribution,
    chain: tuple[ChainLink, ...],
    *,
    version: str | None = None,
    version_from: datetime | None = None,
    binding: Binding | None = None,
    bought: Sequence[int] | None = None,
) -> Settlement:
    """Settle ``order`` on a given chain (steps 2, 4 and 5 of the module docs); ``version``
    and ``version_from`` name the policy version ``policy`` is, ``binding`` the binding that
    credited the seller (recorded, not checked).
    ``bought``, aligned with the lines, is the quantity bought on each (default: the lines'
    own): it picks quantity brackets, so a refund keeps the bracket units were sold in."""
    bought = bought_of(order, bought)
    check_fixed_amounts(policy, paid_order(order), bought)  # on what was paid (§18)
    lines = _line_pools(policy, order, bought)
    shares = _shares(policy, chain) if chain else ()
    paying = [share for share in shares if share.paid]
    pool, amounts, lines = _allocate(policy, lines, [share.units for share in paying])
    exact_pool = sum(_units(line) for line in lines)
    payouts = tuple(
        Payout(
            s.member_id,
            s.rule,
            s.kind,
            s.generation,
            amount,
            exact_fen(exact_pool * s.units, 2 * RATE_PLACES),
            s.share,
        )
        for s, amount in zip(paying, amounts, strict=True)
        if amount > 0
    )
    fixed = fixed_shares(policy, order, chain, bought)
    lines, payouts, fixed_total = with_fixed(policy, lines, payouts, fixed)
    pool += fixed_total
    return Settlement(
        order_id=order.order_id,
        seller_id=seller,
        pool=pool,
        payouts=payouts,
        retained=pool - sum(p.amount for p in payouts),
        attribution=attribution,
        policy=policy,
        lines=lines,
        chain=chain,
        shares=shares,
        own_link=order.sharer_id if order.sharer_id == order.buyer_id else None,
        version=version,
        version_from=version_from,
        binding=binding,
        fixed_shares=fixed,
    )


def settle_many(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    orders: Iterable[Order],
    *,
    bindings: Bindings | None = None,
) -> list[Settlement]:
    """Settle each order in turn (the readable reference path; one result per order), with
    ``bindings`` as ``settle`` takes them.

    Under ``PolicyVersions`` every order's version is found first, so the orders that have
    none (no ``paid_at`` under several versions, paid before the first) are all named in one
    ``InvalidOrderError`` before anything is settled.

    >>> from tuishou import InviteTree, Order, OrderLine, Policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> policy = Policy.model_validate({"name": "p", "tiers": ["m"], "self_purchase": True,
    ...     "group_rates": {"g": "0.1"}, "rules": [{"kind": "seller", "rates": {"m": "0.5"}}]})
    >>> orders = [Order(order_id=str(i), buyer_id="A",
    ...                 lines=[OrderLine(sku="s", group="g", amount=1000 * i)]) for i in (1, 2)]
    >>> [s.amount_for("A") for s in settle_many(policy, tree, orders)]
    [50, 100]
    """
    if isinstance(policy, PolicyVersions):
        _check_types(policy, tree, None, bindings)
        orders = list(orders)
        for order in orders:
            _check_types(policy, tree, order)
        chosen = policy.versions_for(orders)
        return [_settle_version(v, tree, o, bindings) for v, o in zip(chosen, orders, strict=True)]
    return [settle(policy, tree, order, bindings=bindings) for order in orders]


def seller_chain(policy: Policy, tree: InviteTree, seller_id: str) -> tuple[ChainLink, ...]:
    """The chain ``settle`` records for an order sold by ``seller_id``: the seller (generation
    0) and its uplines as step 3 of the module docs finds them (for bulk posting, once per
    seller). Raises ``UnknownMemberError`` for a non-member, ``UnknownTierError`` for a tier
    the policy does not list.

    >>> from tuishou.examples import example_policy
    >>> from tuishou import InviteTree
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> seller_chain(example_policy(), tree, "A")
    (ChainLink(member_id='A', tier='m', status='active', generation=0),)
    """
    return _chain(policy, tree, seller_id)


# ----------------------------------------------------------------------------- steps


def _check_types(policy: object, tree: object, order: object, bindings: object = None) -> None:
    """Refuse arguments of the wrong type (``order`` None: not checked)."""
    checks: list[tuple[str, object, tuple[type, ...], str]] = [
        (
            "policy",
            policy,
            (Policy, PolicyVersions),
            "load_policy(path) or Policy.model_validate(dict)",
        ),
        ("tree", tree, (InviteTree,), "InviteTree.from_records(records)"),
    ]
    if order is not None:
        checks.append(("order", order, (Order,), "Order.model_validate(dict)"))
    if bindings is not None:
        checks.append(("bindings", bindings, (Bindings,), "Bindings.from_records(records)"))
    for name, value, expected, how in checks:
        if not isinstance(value, expected):
            names = " or ".join(kind.__name__ for kind in expected)
            raise ArgumentTypeError(
                f"{name} is a {type(value).__name__}, expected {names}; build one with {how}"
            )


def _line_pools(policy: Policy, order: Order, bought: list[int]) -> tuple[LinePool, ...]:
    lines = []
    discounts = line_discounts(order)  # each line's share of the coupon (§18)
    paid = paid_order(order).lines
    for line, quantity, discount in zip(paid, bought, discounts, strict=True):
        if line.group not in policy.group_rates:
            raise UnknownGroupError(
                f"order {order.order_id!r}: group={line.group!r} (sku {line.sku!r}) has no pool "
                f"rate in policy {policy.name!r}; {did_you_mean(line.group, policy.group_rates)}"
            )
        found = line_rate(policy.sku_rates, policy.group_rates, line.sku, line.group, quantity)
        assert found is not None  # the group has a rate
        rate, rate_from = found
        if policy.is_fixed(line.sku):  # docs/domain.md §17: no pool share
            rate, rate_from = Decimal(0), "fixed"
        lines.append(
            LinePool(
                line.sku,
                line.group,
                line.amount,
                rate,
                rate_from,
                exact_fen(line.amount * rate_units(rate), RATE_PLACES),
                None,
                line.quantity,
                quantity,
                bracket=_bracket(policy, line.sku, quantity),
                discount=discount,
            )
        )
    return tuple(lines)


def _chain(policy: Policy, tree: InviteTree, seller: str) -> tuple[ChainLink, ...]:
    links = [_link(policy, tree, seller, 0)]
    generation = 0
    member = tree.inviter(seller)
    while member is not None and generation < policy.max_generation:
        skip = policy.compression and tree.status(member) == "suspended"
        generation += 0 if skip else 1
        links.append(_link(policy, tree, member, None if skip else generation))
        member = tree.inviter(member)
    return tuple(links)


def _link(policy: Policy, tree: InviteTree, member: str, generation: int | None) -> ChainLink:
    tier = tree.tier(member)  # tier first: it also checks that the member exists
    if generation is not None and tier not in policy.units.tier_rank:
        raise UnknownTierError(
            f"member {member!r} has tier {tier!r}, which policy {policy.name!r} does not list; "
            f"{did_you_mean(tier, policy.tiers)}"
        )
    return ChainLink(member, tier, tree.status(member), generation)


def _shares(policy: Policy, chain: tuple[ChainLink, ...]) -> tuple[Share, ...]:
    """Every rule's shares on the chain (each rule kind's walk is in tuishou.rulebook)."""
    counted = [link for link in chain if link.generation is not None]  # generations 0, 1, ...
    ranks = [policy.units.tier_rank[link.tier] for link in counted]
    found: list[tuple[tuple[int, int, bool], Share]] = []
    for position, (rule, units) in enumerate(zip(policy.rules, policy.units.rules, strict=True)):
        for generation, kind, share in units.shares(ranks):
            if share > 0:
                link = counted[generation]
                found.append(
                    (
                        payout_order(generation, position, kind),
                        Share(
                            link.member_id,
                            rule.name,
                            kind,
                            generation,
                            share,
                            link.status == "active",
                        ),
                    )
                )
    return tuple(share for _, share in sorted(found, key=lambda item: item[0]))


def _allocate(
    policy: Policy, lines: tuple[LinePool, ...], units: list[int]
) -> tuple[int, list[int], tuple[LinePool, ...]]:
    """Round the pool and every paying share (``rounding.round_order``); return (pool,
    amounts, lines), the lines with their rounded pools when rounding per line."""
    rounded = round_order(
        [_units(line) for line in lines], units, policy.rounding, policy.rounding_scope
    )
    if rounded.lines is not None:
        lines = tuple(
            replace(line, rounded=pool) for line, pool in zip(lines, rounded.lines, strict=True)
        )
    return rounded.pool, rounded.amounts, lines


def _units(line: LinePool) -> int:
    """A line's exact pool in units of 1/10 000 fen (ints only: exact at any size)."""
    return line.amount * rate_units(line.rate)


def _bracket(policy: Policy, sku: str, bought: int) -> int | None:
    """The ``from`` of the quantity bracket a line of ``sku`` with ``bought`` units uses."""
    starts = policy.units.brackets.get(sku, ((),))[0] or (
        policy.units.fixed[sku].starts if sku in policy.units.fixed else ()
    )
    if len(starts) < 2:
        return None
    return max(start for start in starts if start <= bought)
