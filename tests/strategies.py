"""Hypothesis strategies for trees, policies and orders that shrink to tiny cases.

Trees are built from parent indices (member i's inviter is None or one of 0..i-1), so every
draw is a valid tree and nothing is filtered. Policies are built within budget by giving
each rule a slice of what is left of 10 000 basis points.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tuishou import InviteTree, Order, OrderLine, Policy

GROUPS = ("xiaomi", "ecosystem", "third_party")
SCALE = 10_000


NICE_UNITS = (0, 100, 500, 1000, 2500, 5000, 7500, 10_000)  # round rates make rounding ties


def rate(units: int) -> str:
    return str(Decimal(units).scaleb(-4))


def units_upto(cap: int) -> st.SearchStrategy[int]:
    """Basis points in [0, cap], often round ones so that rounding ties really happen."""
    return st.sampled_from([u for u in NICE_UNITS if u <= cap]) | st.integers(0, cap)


@st.composite
def trees(draw: st.DrawFn, *, tiers: tuple[str, ...], max_size: int = 12) -> InviteTree:
    size = draw(st.integers(1, max_size))
    records = []
    for i in range(size):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        records.append(
            {
                "member_id": f"m{i}",
                "inviter_id": None if parent is None else f"m{parent}",
                "tier": draw(st.sampled_from(tiers)),
                "status": draw(st.sampled_from(["active", "active", "active", "suspended"])),
            }
        )
    return InviteTree.from_records(records, tiers=tiers)


@st.composite
def policies(draw: st.DrawFn, *, tiers: tuple[str, ...]) -> Policy:
    max_generation = draw(st.integers(0, 4))
    left = SCALE
    rules: list[dict[str, Any]] = []
    for kind in draw(st.lists(st.sampled_from(["seller", "layers", "differential"]), max_size=3)):
        cap = draw(st.integers(0, left))
        left -= cap
        rules.append(_rule(draw, kind, cap, tiers, max_generation, len(rules)))
    return Policy.model_validate(
        {
            "name": "drawn",
            "tiers": list(tiers),
            "group_rates": {g: rate(draw(units_upto(SCALE))) for g in GROUPS},
            "sku_rates": draw(
                st.dictionaries(
                    st.sampled_from(["sku-0", "sku-1"]), units_upto(SCALE).map(rate), max_size=2
                )
            ),
            "self_purchase": draw(st.booleans()),
            "max_generation": max_generation,
            "compression": draw(st.booleans()),
            "rounding": draw(st.sampled_from(["largest_remainder", "floor"])),
            "rounding_scope": draw(st.sampled_from(["order", "line"])),
            "rules": rules,
        }
    )


def _rule(
    draw: st.DrawFn, kind: str, cap: int, tiers: tuple[str, ...], max_generation: int, index: int
) -> dict[str, Any]:
    some_tiers = draw(st.lists(st.sampled_from(tiers), unique=True))
    rule: dict[str, Any] = {"kind": kind, "name": f"{kind}-{index}"}
    if kind == "seller":
        rule["rates"] = {t: rate(draw(units_upto(cap))) for t in some_tiers}
    elif kind == "layers":
        caps = _split(draw, cap, max_generation)
        rule["rates"] = {
            t: [rate(draw(units_upto(c))) for c in caps[: draw(st.integers(0, len(caps)))]]
            for t in some_tiers
        }
    else:
        peer_max = draw(st.integers(0, 3))
        peer_rate = draw(units_upto(cap // peer_max)) if peer_max else 0
        top = cap - peer_rate * peer_max
        rule.update(
            rates={t: rate(draw(units_upto(top))) for t in some_tiers},
            include_seller=draw(st.booleans()),
            peer_rate=rate(peer_rate),
            peer_max=peer_max,
        )
    return rule


def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    caps = []
    for _ in range(parts):
        cap = draw(st.integers(0, total))
        caps.append(cap)
        total -= cap
    return caps


@st.composite
def orders(draw: st.DrawFn, tree: InviteTree, *, max_lines: int = 4) -> Order:
    members = sorted(tree)
    who = st.sampled_from(members) | st.just("guest") | st.none()
    amounts = st.integers(0, 100) | st.integers(0, 10**6) | st.integers(0, 10**11)
    lines = draw(
        st.lists(
            st.builds(
                OrderLine,
                sku=st.sampled_from(["sku-0", "sku-1", "sku-2"]),
                group=st.sampled_from(GROUPS),
                amount=amounts,
                quantity=st.integers(1, 3),
            ),
            min_size=1,
            max_size=max_lines,
        )
    )
    sharer = draw(st.none() | st.sampled_from(members))
    return Order(order_id="o", buyer_id=draw(who), sharer_id=sharer, lines=lines)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Policy, InviteTree, Order]:
    tiers = tuple(f"t{i}" for i in range(draw(st.integers(1, 4))))
    tree = draw(trees(tiers=tiers))
    return draw(policies(tiers=tiers)), tree, draw(orders(tree))
