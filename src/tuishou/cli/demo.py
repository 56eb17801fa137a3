"""Example data shipped with the package, and the report behind ``tuishou demo``.

- **example tree**: members joining by preferential attachment (a few members invite
  many), plus a few long invite chains, tens of levels deep. Tiers follow team building:
  most members are ``member`` or ``pusher``, hubs are ``mentor``, the biggest hubs
  ``senior_advisor``; about 2% are suspended.
- **example orders**: 1-3 lines over the groups ``xiaomi``, ``ecosystem`` and
  ``third_party`` (and rarely the ``gift-pack-398`` sku, which has its own sku rate),
  bought by members or by guests (ids such as ``guest-17`` that the tree does not know),
  some through a member's share link.

Everything comes from ``random.Random(seed)``: the same arguments give the same data.
"""

from __future__ import annotations

import importlib.resources
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal

from tuishou.errors import InvalidTreeError
from tuishou.io.policy_file import load_policy
from tuishou.money import yuan
from tuishou.orders import Order, OrderLine
from tuishou.rulebook import PAYOUT_KINDS
from tuishou.rules import Policy
from tuishou.settlement import Settlement, settle_many
from tuishou.tree import InviteTree

__all__ = ["example_orders", "example_policy", "example_tree", "summary"]

_CATALOG: dict[str, tuple[tuple[str, int], ...]] = {  # group -> (sku, unit price in fen)
    "xiaomi": (
        ("redmi-13c", 69900),
        ("redmi-note-13-pro", 149900),
        ("xiaomi-14", 399900),
        ("xiaomi-14-ultra", 649900),
        ("xiaomi-tv-s85", 899900),
        ("xiaomi-pad-6", 199900),
        ("mi-band-9", 24900),
        ("redmi-buds-5", 12900),
        ("usb-c-cable", 1990),
    ),
    "ecosystem": (
        ("mijia-rice-cooker", 39900),
        ("mijia-air-purifier-4", 89900),
        ("roborock-s8", 379900),
        ("mijia-toothbrush-t300", 9900),
        ("mijia-kettle", 9900),
        ("90fun-suitcase", 29900),
        ("smartmi-fan", 39900),
    ),
    "third_party": (
        ("toothpaste-3pack", 990),
        ("wool-socks", 2990),
        ("tissue-12pack", 3990),
        ("towel-set", 4990),
        ("rice-5kg", 5990),
        ("coffee-beans-500g", 6900),
    ),
}
_GROUP_WEIGHTS = (40, 35, 25)  # xiaomi, ecosystem, third_party
_GIFT_PACK = ("gift-pack-398", 39800)  # the membership gift package (its own sku rate)
_SUSPENDED = 0.02  # the share of members suspended (a probability, not money)


def example_policy() -> Policy:
    """The 有品推手-style policy in ``tuishou/data/youpin.toml`` (three-generation 级差).

    >>> policy = example_policy()
    >>> policy.name, policy.tiers[-1], policy.max_generation
    ('youpin-tuishou', 'senior_advisor', 3)
    """
    return load_policy(str(importlib.resources.files("tuishou") / "data" / "youpin.toml"))


def example_tree(size: int = 3000, seed: int = 7) -> InviteTree:
    """A generated invite tree of ``size`` members, ids ``m00000``, ``m00001``, ...

    >>> tree = example_tree(size=40)
    >>> len(tree), tree.roots()[0], tree.tier("m00000") in example_policy().tiers
    (40, 'm00000', True)
    >>> example_tree(size=40) == tree
    True
    """
    if size < 1:
        raise InvalidTreeError(f"size={size}: an example tree needs at least 1 member")
    rng = random.Random(seed)
    inviters = _inviter_indices(size, rng)
    directs = Counter(i for i in inviters if i is not None)
    width = max(5, len(str(size - 1)))
    ids = [f"m{i:0{width}d}" for i in range(size)]
    records = [
        {
            "member_id": ids[i],
            "inviter_id": None if up is None else ids[up],
            "tier": _tier_for(directs[i], rng),
            "status": "suspended" if rng.random() < _SUSPENDED else "active",
        }
        for i, up in enumerate(inviters)
    ]
    return InviteTree.from_records(records, tiers=example_policy().tiers)


def _inviter_indices(size: int, rng: random.Random) -> list[int | None]:
    """Each member's inviter index: preferential attachment, a few roots, a few long runs."""
    inviters: list[int | None] = [None]
    targets = [0]  # each member once, plus once per invitee: popular inviters get picked more
    run = 0  # members left in a run where each joins under the previous one
    for i in range(1, size):
        roll = rng.random()
        if run:
            run -= 1
            up: int | None = i - 1
        elif roll < 0.002:
            up = None
        else:
            up = targets[int(rng.random() * len(targets))]
            if roll < 0.006:
                run = rng.randint(10, 40)
        inviters.append(up)
        targets.append(i)
        if up is not None:
            targets.append(up)
    return inviters


def _tier_for(directs: int, rng: random.Random) -> str:
    """A tier that roughly follows how many members this one invited."""
    roll = rng.random()
    if directs >= 15:
        return "senior_advisor" if roll < 0.7 else "mentor"
    if directs >= 5:
        return "mentor" if roll < 0.5 else "pusher"
    if directs >= 1:
        return "pusher" if roll < 0.55 else "member"
    return "pusher" if roll < 0.2 else "member"


def example_orders(tree: InviteTree, count: int = 30000, seed: int = 7) -> list[Order]:
    """``count`` generated orders over ``tree``, ids ``o000000``, ``o000001``, ...

    >>> orders = example_orders(example_tree(size=40), count=5)
    >>> len(orders), orders[0].order_id, all(1 <= len(o.lines) <= 3 for o in orders)
    (5, 'o000000', True)
    """
    rng = random.Random(seed)
    members = sorted(tree)  # not iteration order; example_tree's sorted ids are join order
    width = max(6, len(str(count - 1)))
    return [_order(f"o{i:0{width}d}", rng, members, count) for i in range(count)]


def _order(order_id: str, rng: random.Random, members: Sequence[str], count: int) -> Order:
    """One order: a member (early members buy more) or a guest, maybe via a share link."""
    if rng.random() < 0.75:
        buyer, shared = members[int(len(members) * rng.random() ** 2)], rng.random() < 0.15
    else:
        buyer, shared = f"guest-{rng.randrange(count // 4 + 1)}", rng.random() < 0.7
    sharer = members[int(len(members) * rng.random() ** 2)] if shared else None
    lines = [_line(rng) for _ in range(rng.choices((1, 2, 3), weights=(70, 22, 8))[0])]
    return Order(order_id=order_id, buyer_id=buyer, sharer_id=sharer, lines=lines)


def _line(rng: random.Random) -> OrderLine:
    if rng.random() < 0.01:
        return OrderLine(sku=_GIFT_PACK[0], group="third_party", amount=_GIFT_PACK[1])
    group = rng.choices(tuple(_CATALOG), weights=_GROUP_WEIGHTS)[0]
    sku, price = rng.choice(_CATALOG[group])
    quantity = 1 if rng.random() < 0.85 else rng.randint(2, 3)
    return OrderLine(sku=sku, group=group, amount=price * quantity, quantity=quantity)


# ------------------------------------------------------------------------- summary


def summary(policy: Policy, tree: InviteTree, orders: Sequence[Order]) -> str:
    """Settle every order and report totals, payouts by tier and rule, and the top earners.

    >>> tree = example_tree(size=60)
    >>> report = summary(example_policy(), tree, example_orders(tree, count=40))
    >>> print(report.splitlines()[0])
    Policy 'youpin-tuishou': 60 members, 40 orders
    >>> "Σ payouts + retained = pool, checked on each of the 40 orders" in report
    True
    """
    settlements = settle_many(policy, tree, orders)
    _check_conservation(settlements)
    sections = [
        [f"Policy {policy.name!r}: {len(tree):,} members, {len(orders):,} orders", ""],
        _overview(tree, orders, settlements),
        _by_tier(policy, tree, settlements),
        _by_rule(policy, settlements),
        _top_earners(tree, settlements),
        _example_order(settlements),
    ]
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"


def _check_conservation(settlements: Sequence[Settlement]) -> None:
    """Σ payouts + retained = pool, every payout > 0, retained ≥ 0; raise on any breach."""
    for s in settlements:
        paid = sum(p.amount for p in s.payouts)
        if paid + s.retained != s.pool or s.retained < 0 or any(p.amount <= 0 for p in s.payouts):
            raise RuntimeError(
                f"conservation broken on order {s.order_id!r}: paid={paid} + "
                f"retained={s.retained} != pool={s.pool} (or a payout <= 0); "
                "this is a bug in tuishou, please report it"
            )


def _overview(
    tree: InviteTree, orders: Sequence[Order], settlements: Sequence[Settlement]
) -> list[str]:
    gmv = sum(order.amount for order in orders)
    pool = sum(s.pool for s in settlements)
    paid = sum(s.paid for s in settlements)
    suspended = sum(1 for m in tree if tree.status(m) == "suspended")
    guests = sum(1 for o in orders if o.buyer_id not in tree)
    how = Counter(s.attribution for s in settlements)
    earners = {p.member_id for s in settlements for p in s.payouts}
    rows = [
        (
            "members",
            f"{len(tree):,}",
            f"{suspended:,} suspended, {len(tree.roots()):,} root(s), "
            f"deepest chain {max(tree.depth(m) for m in tree)} levels",
        ),
        (
            "orders",
            f"{len(orders):,}",
            f"{guests:,} by guests, {how['sharer']:,} via share links, "
            f"{how['none']:,} credit nobody",
        ),
        ("GMV", yuan(gmv), ""),
        ("pool", yuan(pool), f"{_pct(pool, gmv)} of GMV"),
        (
            "paid",
            yuan(paid),
            f"{_pct(paid, pool)} of pool, {_pct(paid, gmv)} of GMV, to {len(earners):,} members",
        ),
        ("retained", yuan(pool - paid), f"{_pct(pool - paid, pool)} of pool"),
    ]
    check = f"  Σ payouts + retained = pool, checked on each of the {len(settlements):,} orders."
    return ["Overview", *_table(None, rows, right=(1,)), check, ""]


def _by_tier(policy: Policy, tree: InviteTree, settlements: Sequence[Settlement]) -> list[str]:
    paid = sum(s.paid for s in settlements)
    count: Counter[str] = Counter()
    amount: Counter[str] = Counter()
    earners: defaultdict[str, set[str]] = defaultdict(set)
    for s in settlements:
        tier_of = {link.member_id: link.tier for link in s.chain}  # as it was at settlement
        for p in s.payouts:
            tier = tier_of[p.member_id]
            count[tier] += 1
            amount[tier] += p.amount
            earners[tier].add(p.member_id)
    holders = Counter(tree.tier(m) for m in tree)
    rows = [
        (
            t,
            f"{holders[t]:,}",
            f"{len(earners[t]):,}",
            f"{count[t]:,}",
            yuan(amount[t]),
            _pct(amount[t], paid),
        )
        for t in policy.tiers
    ]
    head = ("tier", "members", "earners", "payouts", "amount", "of paid")
    return ["Payouts by tier (the payee's tier at settlement)", *_table(head, rows), ""]


def _by_rule(policy: Policy, settlements: Sequence[Settlement]) -> list[str]:
    paid = sum(s.paid for s in settlements)
    count: Counter[tuple[str, str]] = Counter()
    amount: Counter[tuple[str, str]] = Counter()
    for p in (p for s in settlements for p in s.payouts):
        count[p.rule, p.kind] += 1
        amount[p.rule, p.kind] += p.amount
    position = {rule.name: i for i, rule in enumerate(policy.rules)}
    keys = sorted(count, key=lambda k: (position[k[0]], PAYOUT_KINDS.index(k[1])))
    rows = [
        (
            f"{rule} / {kind}",
            f"{count[rule, kind]:,}",
            yuan(amount[rule, kind]),
            _pct(amount[rule, kind], paid),
        )
        for rule, kind in keys
    ]
    head = ("rule / kind", "payouts", "amount", "of paid")
    return ["Payouts by rule / kind", *_table(head, rows), ""]


def _top_earners(tree: InviteTree, settlements: Sequence[Settlement]) -> list[str]:
    amount: Counter[str] = Counter()
    orders: defaultdict[str, set[str]] = defaultdict(set)
    for s in settlements:
        for p in s.payouts:
            amount[p.member_id] += p.amount
            orders[p.member_id].add(s.order_id)
    top = sorted(amount, key=lambda m: (-amount[m], m))[:10]
    rows = [
        (str(rank), m, tree.tier(m), f"{len(orders[m]):,}", yuan(amount[m]))
        for rank, m in enumerate(top, 1)
    ]
    head = ("#", "member", "tier", "orders", "amount")
    table = _table(head, rows, right=(0, 3, 4)) if rows else ["  nobody was paid"]
    return ["Top 10 earners", *table, ""]


def _example_order(settlements: Sequence[Settlement]) -> list[str]:
    """The order with a peer payout and the most payouts and lines (ties: lowest id)."""
    peers = [s for s in settlements if any(p.kind == "peer" for p in s.payouts)]
    if not peers:
        return ["Example order: no order paid a peer bonus"]
    best = min(peers, key=lambda s: (-len(s.payouts), -len(s.lines), s.order_id))
    body = ["  " + line for line in best.explain().splitlines()]
    return [f"Example order with a peer (平级) bonus: {best.order_id}", *body]


def _pct(part: int, whole: int) -> str:
    """``part / whole`` as a percentage with two places, computed exactly (no floats)."""
    if whole == 0:
        return "-"
    return f"{(Decimal(100 * part) / whole).quantize(Decimal('0.01'))}%"


def _table(
    head: Sequence[str] | None, rows: Sequence[Sequence[str]], *, right: Sequence[int] | None = None
) -> list[str]:
    """Aligned rows indented two spaces, under ``head`` and a rule when given.

    Columns in ``right`` (default: all but the first) are right-aligned.
    """
    every = [*([head] if head else []), *rows]
    widths = [max(len(r[c]) for r in every) for c in range(len(every[0]))] if every else []
    right = range(1, len(widths)) if right is None else right

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return ("  " + "  ".join(parts)).rstrip()

    if head is None:
        return [line(row) for row in rows]
    return [line(head), "  " + "  ".join("-" * w for w in widths), *map(line, rows)]
