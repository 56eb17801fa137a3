"""A separate process that bulk-posts generated orders to a ledger (for the kill -9 test).

    python tests/ledger_bulk_worker.py TARGET COUNT CHUNK

TARGET is a SQLite path or a SQLAlchemy URL; orders ``o00000`` ... are those of
``ledger_worker.make_order``, posted with ``Ledger.post_batch`` in chunks of CHUNK orders, all
at the same time (so a second run resumes where a killed one stopped).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from ledger_worker import POLICY, TREE, make_order
from tuishou import Ledger
from tuishou.orders import order_columns

AT = datetime(2026, 11, 1, tzinfo=UTC)


def main(target: str, count: int, chunk: int) -> None:
    columns = order_columns(make_order(number) for number in range(count))
    with Ledger.open(target) as ledger:
        print(ledger.post_batch(POLICY, TREE, columns, at=AT, chunk_orders=chunk))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
