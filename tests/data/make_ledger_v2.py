"""Writes ``ledger_v2.db``: a ledger file as tuishou wrote it before the ledger moved to
SQLAlchemy (schema version 2, made by the release at commit 36d9b9f). Kept to show how the
fixture was made; ``test_ledger_migrations.py`` opens the committed file, never a new one.

    python tests/data/make_ledger_v2.py tests/data/ledger_v2.db
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from tuishou import InviteTree, Ledger, LedgerPolicy, Order, OrderLine, Policy, settle

POLICY = Policy.model_validate(
    {
        "name": "v2-fixture",
        "tiers": ["member"],
        "group_rates": {"g": "1"},
        "rules": [
            {"kind": "seller", "rates": {"member": "0.1"}},
            {"kind": "layers", "rates": {"member": ["0.05"]}},
        ],
    }
)
TREE = InviteTree.from_records(
    [
        {"member_id": "A", "inviter_id": None, "tier": "member"},
        {"member_id": "B", "inviter_id": "A", "tier": "member"},
        {"member_id": "C", "inviter_id": "B", "tier": "member"},
    ]
)
DAY0 = datetime(2026, 11, 1, 4, tzinfo=UTC)


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


def order(order_id: str, sharer: str, paid: datetime) -> Order:
    return Order(
        order_id=order_id,
        sharer_id=sharer,
        paid_at=paid,
        lines=[
            OrderLine(sku="x", group="g", amount=10000, quantity=2),
            OrderLine(sku="y", group="g", amount=5000),
        ],
    )


def main(path: str) -> None:
    policy = LedgerPolicy(freeze_days=7, min_withdrawal=100, withdrawal_fee_rate="0.006")
    with Ledger.open(path, policy=policy) as ledger:
        for n, (order_id, sharer) in enumerate([("o1", "C"), ("o2", "C"), ("o3", "B")]):
            o = order(order_id, sharer, day(n))
            ledger.post(o, settle(POLICY, TREE, o), at=day(n))
        ledger.refund("o2", lines={"x": 1}, at=day(3), refund_id="r1")  # before its release
        ledger.release(day(9))  # o1 (due day 7) and o2 (due day 8); o3 is due on day 9 too
        ledger.withdraw("C", 1000, at=day(10), withdrawal_id="w1")
        ledger.refund("o1", at=day(11), refund_id="r2")  # released: a clawback
        ledger.change_policy(
            LedgerPolicy(freeze_days=3, min_withdrawal=100, withdrawal_fee_rate="0.006"),
            at=datetime(2027, 1, 1, tzinfo=UTC),  # after the creation: scheduled
            note="shorter freeze from 2027",
        )
    for member in "ABC":
        with Ledger.open(path, read_only=True) as ledger:
            print(member, ledger.balance(member))


if __name__ == "__main__":
    main(sys.argv[1])
