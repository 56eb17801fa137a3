"""Small builders that keep test scenarios readable as text."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import settings
from hypothesis import strategies as st

from tuishou import InviteTree, Order, OrderLine, Policy, Settlement, settle
from tuishou.engine.batch import member_totals, settle_batch
from tuishou.orders import order_columns
from tuishou.testing import DEFAULT_TIERS, Scenario, scenarios

# The platform's time zone (Beijing time): tuishou takes aware datetimes only.
CN = ZoneInfo("Asia/Shanghai")


def tree_from_text(
    text: str, *, tiers: str = "", default_tier: str = "member", suspended: str = ""
) -> InviteTree:
    """``"Z>A>B C>D"``: each ``X>Y`` means X invited Y; ``tiers="A:mentor B:pusher"``."""
    inviter: dict[str, str | None] = {}
    for chain in text.split():
        names = chain.split(">")
        for up, down in zip([None, *names], names, strict=False):
            inviter.setdefault(down, None)
            if up is not None:
                inviter[down] = up
    tier_of = dict(pair.split(":") for pair in tiers.split())
    off = set(suspended.split())
    return InviteTree.from_records(
        {
            "member_id": m,
            "inviter_id": i,
            "tier": tier_of.get(m, default_tier),
            "status": "suspended" if m in off else "active",
        }
        for m, i in inviter.items()
    )


def order(
    *lines: tuple[str, int],
    buyer: str | None = None,
    sharer: str | None = None,
    order_id: str = "o1",
) -> Order:
    """``order(("ecosystem", 19999), ("xiaomi", 99900), buyer="D")``; the sku is ``group-i``."""
    return Order(
        order_id=order_id,
        buyer_id=buyer,
        sharer_id=sharer,
        lines=[
            OrderLine(sku=f"{group}-{i}", group=group, amount=amount)
            for i, (group, amount) in enumerate(lines)
        ],
    )


def policy(**fields: Any) -> Policy:
    """A policy from keyword fields, with a name and one tier unless given."""
    return Policy.model_validate({"name": "test", "tiers": ["member"], **fields})


def paid(settlement: Any) -> dict[str, int]:
    """Member id → total fen paid, for compact assertions."""
    totals: dict[str, int] = {}
    for payout in settlement.payouts:
        totals[payout.member_id] = totals.get(payout.member_id, 0) + payout.amount
    return totals


def ladders() -> st.SearchStrategy[tuple[str, ...]]:
    """The lowest 1 to 4 of the default tiers: a policy of one tier is a case of its own."""
    return st.sampled_from(range(1, len(DEFAULT_TIERS) + 1)).map(lambda n: DEFAULT_TIERS[:n])


def any_scenarios() -> st.SearchStrategy[Scenario]:
    """``tuishou.testing.scenarios`` over a ladder of 1 to 4 tiers."""
    return ladders().flatmap(lambda tiers: scenarios(tiers=tiers))


def examples(count: int) -> int:
    """``count`` examples under the default hypothesis profile, more under a larger one
    (``HYPOTHESIS_PROFILE=thorough``: ten times as many; see conftest.py)."""
    scale = settings.default.max_examples / settings.get_profile("default").max_examples
    return max(1, round(count * scale))


def reference_rows(
    chosen: Policy, tree: InviteTree, order_list: list[Order]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What ``settle`` gives, as ``settle_batch``'s payout rows and per-order rows."""
    return rows_of(order_list, [settle(chosen, tree, order) for order in order_list])


def rows_of(
    order_list: list[Order], settlements: list[Settlement]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Settlements of ``order_list`` as ``settle_batch``'s payout rows and per-order rows."""
    payouts: list[tuple[Any, ...]] = []
    per_order: list[tuple[Any, ...]] = []
    for order, result in zip(order_list, settlements, strict=True):
        payouts += [
            (order.order_id, p.member_id, p.rule, p.kind, p.generation, p.amount)
            for p in result.payouts
        ]
        per_order.append(
            (order.order_id, result.seller_id, result.pool, result.paid, result.retained)
        )
    return payouts, per_order


def assert_same(chosen: Policy, tree: InviteTree, order_list: list[Order]) -> None:
    """``settle_batch`` equals ``settle`` row for row, and ``member_totals`` the summed payouts."""
    batch = settle_batch(chosen, tree, order_columns(order_list))
    payouts, per_order = reference_rows(chosen, tree, order_list)
    assert batch.payouts.rows() == payouts
    assert batch.orders.rows() == per_order
    totals: dict[str, int] = {}
    for row in payouts:
        totals[row[1]] = totals.get(row[1], 0) + row[5]
    found = dict(member_totals(chosen, tree, order_columns(order_list)).rows())
    assert found == totals
