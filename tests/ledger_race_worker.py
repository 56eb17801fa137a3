"""A worker process for the ledger's concurrency tests (tests/test_ledger_concurrency.py).

    python tests/ledger_race_worker.py DATABASE SEED --steps N --start FILE
    python tests/ledger_race_worker.py DATABASE SEED --open-only --start FILE

``DATABASE`` is a ledger shared with other workers: a SQLAlchemy URL (a PostgreSQL schema)
or a SQLite path. The worker opens it, writes ``FILE.ready.SEED`` and waits for ``FILE`` to
exist (the barrier that makes the workers overlap), then does ``N`` steps, a mix drawn from
``random.Random(SEED)``:

- **post** an order from a small set shared by every worker (``order(k)``: the same order id
  always has the same order and settlement, so a second post is a no-op);
- **release** what is due (every order is due at once: ``freeze_days=0``);
- **refund** part of an order or all of it, under a refund id shared with the other workers
  (``r-o<k>-<j>``: the same id always means the same request) or one of this worker's own;
- **withdraw** under a shared id (``w-<member>-<j>``: the same member and amount), under one
  of this worker's own, or a **competing** withdrawal of 60% of what the member has
  available as read just before (without the lock): two of those from different workers
  together exceed the balance, so the ledger must refuse the later one.

Times are aware (UTC) and never go backwards in one worker: each attempt is dated
``datetime.now(UTC)``, or a microsecond after this worker's last time if the clock reads
earlier. The ledger's clock is shared: while this worker waits for the write lock, another one
may record a later time, and the ledger then refuses the older one ("clock never runs
backwards", nothing changed). The worker retries that operation with a fresh, later time: what
a real caller does (docs/ledger.md, "Concurrency"). A refund dated before its order was posted
is refused with its own message ("a refund cannot precede its order": the refund checks that
before the clock); here that means another worker posted the order meanwhile, at a later
time, so the worker retries that refusal the same way.

It prints one JSON object: ``counts`` (per step kind: ``done``, ``no-op``, and
``refused: <error>`` for the refusals the mix expects), ``clock_retries``, ``unexpected``
(any other error: the test wants none), and what this worker carried out itself: ``posted``
(order ids), ``refunded`` (refund ids) and ``withdrew`` (withdrawal id: amount).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tuishou import InviteTree, Ledger, LedgerError, Order, OrderLine, Policy, settle
from tuishou.errors import InsufficientBalanceError, UnknownOrderError

ORDERS = 24  # order ids o00..o23, shared by every worker
MEMBERS = [f"m{i}" for i in range(7)]
PAID = datetime(2026, 11, 1, tzinfo=UTC)  # every order's payment time: before any worker's
POLICY = Policy.model_validate(
    {
        "name": "race",
        "tiers": ["member"],
        "group_rates": {"g": "0.5"},
        "max_generation": 2,
        "rules": [
            {"kind": "seller", "rates": {"member": "0.3"}},
            {"kind": "layers", "rates": {"member": ["0.1", "0.05"]}},
        ],
    }
)
TREE = InviteTree.from_records(
    {"member_id": m, "inviter_id": f"m{(i - 1) // 2}" if i else None, "tier": "member"}
    for i, m in enumerate(MEMBERS)
)
CLOCK = "clock never runs backwards"
LATE_ORDER = "a refund cannot precede its order"  # the order was posted meanwhile, later


def order(k: int) -> Order:
    """Order ``o<k>``: the same for every worker."""
    return Order(
        order_id=f"o{k:02d}",
        sharer_id=MEMBERS[k % len(MEMBERS)],
        paid_at=PAID,
        lines=[
            OrderLine(sku=f"s{n}", group="g", amount=3000 + 97 * k + 11 * n, quantity=1 + n)
            for n in range(1 + k % 3)
        ],
    )


def shared_refund(k: int, j: int) -> tuple[str, dict[str, int] | None]:
    """Refund id ``r-o<k>-<j>`` and what it refunds (all of it for j == 2): the same request
    from every worker that sends it."""
    lines = None if j == 2 else {f"s{j % (1 + k % 3)}": 1}
    return f"r-o{k:02d}-{j}", lines


def shared_withdrawal(member: str, j: int) -> tuple[str, int]:
    """Withdrawal id ``w-<member>-<j>`` and its amount: the same from every worker."""
    return f"w-{member}-{j}", 40 + 37 * j + 13 * int(member[1:])


class Worker:
    def __init__(self, ledger: Ledger, seed: int) -> None:
        self.ledger = ledger
        self.seed = seed
        self.rng = random.Random(seed)
        self.last = datetime.min.replace(tzinfo=UTC)
        self.counts: Counter[str] = Counter()
        self.clock_retries = 0
        self.unexpected: list[str] = []
        self.posted: list[str] = []
        self.refunded: list[str] = []
        self.withdrew: dict[str, int] = {}

    def now(self) -> datetime:
        """A fresh aware time, never before this worker's last one."""
        self.last = max(datetime.now(UTC), self.last + timedelta(microseconds=1))
        return self.last

    def attempt(self, kind: str, operation: Callable[[datetime], str]) -> None:
        """Run ``operation(at)``, retrying with a later time while the shared clock refuses."""
        for _ in range(1000):
            try:
                outcome = operation(self.now())
            except LedgerError as exc:
                if CLOCK in str(exc) or LATE_ORDER in str(exc):
                    self.clock_retries += 1
                    continue
                outcome = self.refusal(exc)
            except UnknownOrderError:
                outcome = "refused: UnknownOrderError"
            self.counts[f"{kind} {outcome}"] += 1
            return
        self.unexpected.append(f"{kind}: the clock refused 1000 fresh times")

    def refusal(self, exc: LedgerError) -> str:
        text = str(exc)
        expected = (
            isinstance(exc, InsufficientBalanceError)
            or "already fully refunded" in text
            or ("refund refused" in text and " left" in text)  # more units than are left
        )
        if not expected:
            self.unexpected.append(f"{type(exc).__name__}: {text[:400]}")
        return f"refused: {type(exc).__name__}"

    def step(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            k = rng.randrange(ORDERS)
            self.attempt("post", lambda at: self.post(k, at))
        elif roll < 0.45:
            self.attempt("release", self.release)
        elif roll < 0.65:
            k = rng.randrange(ORDERS)
            if rng.random() < 0.7:
                refund_id, lines = shared_refund(k, rng.randrange(3))
            else:
                sku = f"s{rng.randrange(1 + k % 3)}"
                refund_id, lines = f"r{self.seed}-{rng.randrange(10**9)}", {sku: 1}
            self.attempt("refund", lambda at: self.refund(k, lines, refund_id, at))
        else:
            member = rng.choice(MEMBERS)
            choice = rng.random()
            if choice < 0.4:
                withdrawal_id, amount = shared_withdrawal(member, rng.randrange(6))
            elif choice < 0.6:
                withdrawal_id = f"w{self.seed}-{rng.randrange(10**9)}"
                amount = rng.randint(1, 300)
            else:  # competing: most of what is available now, read without the lock
                withdrawal_id = f"w{self.seed}-c{rng.randrange(10**9)}"
                amount = max(1, self.ledger.balance(member).available * 6 // 10)
            self.attempt("withdraw", lambda at: self.withdraw(member, amount, withdrawal_id, at))

    def post(self, k: int, at: datetime) -> str:
        chosen = order(k)
        made = self.ledger.post(chosen, settle(POLICY, TREE, chosen), at=at)
        if not made:
            return "no-op"
        self.posted.append(chosen.order_id)
        return "done"

    def release(self, at: datetime) -> str:
        return "done" if self.ledger.release(at) else "no-op"

    def refund(self, k: int, lines: dict[str, int] | None, refund_id: str, at: datetime) -> str:
        result = self.ledger.refund(f"o{k:02d}", lines=lines, at=at, refund_id=refund_id)
        if result.repeated:
            return "no-op"
        self.refunded.append(refund_id)
        return "done"

    def withdraw(self, member: str, amount: int, withdrawal_id: str, at: datetime) -> str:
        if not self.ledger.withdraw(member, amount, at=at, withdrawal_id=withdrawal_id):
            return "no-op"
        self.withdrew[withdrawal_id] = amount
        return "done"

    def report(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "clock_retries": self.clock_retries,
            "unexpected": self.unexpected,
            "posted": self.posted,
            "refunded": self.refunded,
            "withdrew": self.withdrew,
        }


def wait_for(start: Path, seed: int) -> None:
    """The barrier: say this worker is ready, then wait for the start file."""
    Path(f"{start}.ready.{seed}").touch()
    deadline = time.monotonic() + 120
    while not start.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"worker {seed}: {start} never appeared")
        time.sleep(0.002)


def main(argv: list[str]) -> None:
    database, seed = argv[0], int(argv[1])
    start = Path(argv[argv.index("--start") + 1])
    if "--open-only" in argv:  # every worker opens the same new database at once
        wait_for(start, seed)
        with Ledger.open(database) as ledger:
            print(json.dumps({"policies": len(ledger.policy_history())}))
        return
    steps = int(argv[argv.index("--steps") + 1])
    with Ledger.open(database) as ledger:
        worker = Worker(ledger, seed)
        wait_for(start, seed)
        for _ in range(steps):
            worker.step()
        print(json.dumps(worker.report()))


if __name__ == "__main__":
    main(sys.argv[1:])
