"""Random ledger histories over three months, for the period and statement tests.

A history is a list of steps (kind, hours since the step before, a number to pick with);
``run`` plays it on a ledger: posts, releases, receipts, refunds (partial and full, also of
orders from a closed period), one-step withdrawals and, with ``close=True``, a close at each
month end the history passes.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import strategies as st

from ledger_support import DAY0, POLICY
from tuishou import LedgerPolicy, Order, OrderLine, settle
from tuishou.ledger.statement_models import Period

from helpers import tree_from_text

MONTHS = [Period.month(month) for month in ("2026-11", "2026-12", "2027-01")]
TREE = tree_from_text("A>B>C>D")
KINDS = ["post", "post", "release", "receive", "refund", "refund_all", "withdraw"]
MEMBERS = ["A", "B", "C", "D"]

steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 24 * 12), st.integers(0, 10**6)),
    min_size=1,
    max_size=14,
)
ledger_policies = st.builds(
    LedgerPolicy,
    freeze_days=st.integers(0, 12),
    freeze_from=st.sampled_from(["paid", "received"]),
    clawback=st.sampled_from(["allow_negative", "cap_at_balance"]),
    withdrawal_fee_rate=st.sampled_from(["0", "0.006", "0.1"]),
)


class History:
    """A history played on a ledger: where it is, what it posted."""

    def __init__(self, ledger, *, close: bool = True):
        self.ledger = ledger
        self.close = close
        self.at = DAY0
        self.orders: list[Order] = []
        self.closed: list[Period] = []
        self.count = 0
        self.left: dict[str, dict[str, int]] = {}  # units left per order and SKU

    def run(self, plan) -> History:
        for kind, hours, number in plan:
            self.step(kind, hours, number)
        return self

    def step(self, kind: str, hours: int, number: int) -> None:
        moment = self.at + timedelta(hours=hours)
        if moment >= MONTHS[-1].end:
            return
        for month in MONTHS:
            if self.close and month not in self.closed and month.end <= moment:
                self.ledger.close_period(month, at=month.end)
                self.closed.append(month)
        self.at = moment
        getattr(self, kind)(number)

    def post(self, number: int) -> None:
        self.count += 1
        order = Order(
            order_id=f"o{self.count}",
            sharer_id=MEMBERS[1 + number % 3],
            paid_at=self.at,
            lines=[
                OrderLine(sku="x", group="g", amount=100 + number % 20_000, quantity=2),
                OrderLine(sku="y", group="g", amount=50 + number % 7_000),
            ],
        )
        self.ledger.post(order, settle(POLICY, TREE, order), at=self.at)
        self.orders.append(order)

    def release(self, number: int) -> None:
        self.ledger.release(self.at)

    def receive(self, number: int) -> None:
        if self.orders:
            self.ledger.mark_received(self.orders[number % len(self.orders)].order_id, self.at)

    def refund(self, number: int) -> None:
        self._refund(number, {"x": 1})

    def refund_all(self, number: int) -> None:
        self._refund(number, None)

    def _refund(self, number: int, lines) -> None:
        if not self.orders:
            return
        order = self.orders[number % len(self.orders)]
        left = self.left.setdefault(order.order_id, {"x": 2, "y": 1})
        if (lines is None and any(left.values())) or (lines and left["x"] >= lines["x"]):
            self.ledger.refund(order.order_id, lines=lines, at=self.at)
            for sku, quantity in (lines or left).items():
                left[sku] -= quantity

    def withdraw(self, number: int) -> None:
        member = MEMBERS[number % 4]
        available = self.ledger.balance(member).available
        if available > 0:
            amount = max(1, available * (number % 100) // 100)
            self.count += 1
            self.ledger.withdraw(member, amount, at=self.at, withdrawal_id=f"w{self.count}")
