"""A separate process that posts generated orders to a ledger file (for crash and race tests).

    python tests/ledger_worker.py DB FIRST COUNT [--slow] [--at ISO-TIME]

With ``--at`` every order is posted at that time, and a post the ledger's clock refuses (the
other worker recorded a later time) is counted, not fatal: it prints ``posted: n`` and
``refused: n``.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from tuishou import InviteTree, Ledger, LedgerError, Order, OrderLine, Policy, settle

POLICY = Policy.model_validate(
    {
        "name": "worker",
        "tiers": ["member"],
        "group_rates": {"g": "0.2"},
        "max_generation": 2,
        "rules": [
            {"kind": "seller", "rates": {"member": "0.3"}},
            {"kind": "layers", "rates": {"member": ["0.1", "0.05"]}},
        ],
    }
)
TREE = InviteTree.from_records(
    {"member_id": f"m{i}", "inviter_id": f"m{(i - 1) // 3}" if i else None, "tier": "member"}
    for i in range(40)
)


def make_order(number: int) -> Order:
    return Order(
        order_id=f"o{number:05d}",
        sharer_id=f"m{number % 40}",
        lines=[
            OrderLine(sku=f"s{k}", group="g", amount=1000 + 37 * number + k, quantity=1 + k)
            for k in range(1 + number % 3)
        ],
    )


def main(path: str, first: int, count: int, slow: bool, at: str | None) -> None:
    when = datetime.fromisoformat(at) if at else datetime(2026, 11, 1, tzinfo=UTC)
    done = {"posted": 0, "refused": 0}
    with Ledger.open(path) as ledger:
        for number in range(first, first + count):
            order = make_order(number)
            try:
                ledger.post(order, settle(POLICY, TREE, order), at=when)
                done["posted"] += 1
            except LedgerError as exc:
                if at is None or "clock never runs backwards" not in str(exc):
                    raise
                done["refused"] += 1
            if slow:
                time.sleep(0.002)
    if at:
        print("\n".join(f"{name}: {n}" for name, n in done.items()))


if __name__ == "__main__":
    given_at = sys.argv[sys.argv.index("--at") + 1] if "--at" in sys.argv else None
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), "--slow" in sys.argv, given_at)
