"""A worker process for the withdrawal-review race (tests/test_ledger_withdrawals.py).

    python tests/ledger_review_worker.py DATABASE REFERENCE START

Opens the ledger at ``DATABASE`` (a SQLAlchemy URL or a SQLite path), writes
``START.ready.REFERENCE``, waits for ``START`` to exist (the barrier), then approves the
withdrawal ``w1`` and pays it with the transfer ``REFERENCE``, each dated
``datetime.now(UTC)`` and retried with a later time when another worker moved the ledger's
clock meanwhile. Prints ``paid`` if its payment was recorded, ``refused`` if the withdrawal
was paid already with the other worker's reference (never paid twice).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tuishou import Ledger, LedgerError
from tuishou.errors import DuplicateRequestError


def retried(step: Callable[[datetime], object]) -> None:
    """Run ``step(now)``; again with a later time if the clock had moved past it."""
    for _ in range(1000):
        try:
            step(datetime.now(UTC))
            return
        except DuplicateRequestError:
            raise
        except LedgerError as error:
            if "clock never runs backwards" not in str(error):
                raise
            time.sleep(0.001)
    raise RuntimeError("the clock kept moving")


def main(database: str, reference: str, start: str) -> None:
    with Ledger.open(database) as ledger:
        Path(f"{start}.ready.{reference}").touch()
        while not Path(start).exists():
            time.sleep(0.001)
        try:
            retried(lambda at: ledger.approve_withdrawal("w1", at=at))
        except LedgerError as error:  # the other worker approved and paid it meanwhile
            if "is paid" not in str(error):
                raise
        try:
            retried(lambda at: ledger.pay_withdrawal("w1", at=at, transfer_reference=reference))
        except DuplicateRequestError:
            print("refused")
            return
        print("paid")


if __name__ == "__main__":
    main(*sys.argv[1:4])
