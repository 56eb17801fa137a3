"""Ledger queries in SQL: balances of all members, and entries paged by member and date.

Nothing here loads a whole history into memory. Every query is answered by the database
through the indexes of ``ledger.schema`` and read a page at a time, each page in its own
short read (so a loop may call the ledger's write methods between pages):

- ``balances`` streams every member's ``Balance``, ordered by member id: a page of member ids
  (``SELECT DISTINCT`` over the ``(member_id, at)`` index, after the last id of the page
  before), then their sums (``GROUP BY member_id`` with the sums of ``ledger.sums``) over
  that range of the index. ``balances_arrow`` and ``balances_frame`` build a pyarrow Table or
  a pandas DataFrame from that stream, batch by batch (the ``columnar`` extra).
- ``entry_conditions`` turns the filters of ``Ledger.entries`` (member, order, the half-open
  date range ``since <= at < until``, ``after`` an entry id) into SQL conditions;
  ``entry_pages`` pages them by entry id (keyset paging: one indexed query per page, however
  deep the page).

Entry ids are given in the order of recording, which is time order (the ledger's clock never
runs backwards), so entries ordered by id are ordered by time, also within a date range.

Pages read at different moments: a write between two pages shows in the later ones only.
For a fixed picture, pass ``as_of`` (``until``) strictly before the latest time the ledger
has recorded (``ledger.clock``): no operation can be dated before that any more.

>>> from datetime import UTC, datetime
>>> from tuishou.examples import example_order, example_settlement
>>> from tuishou.ledger import Ledger
>>> ledger = Ledger()
>>> _ = ledger.post(example_order(), example_settlement(), at=datetime(2026, 11, 1, tzinfo=UTC))
>>> list(ledger.balances())
[('A', Balance(pending=500, available=0, written_off=0, withdrawn=0, fees=0, held=0, payable=0))]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from tuishou.errors import ArgumentTypeError, InvalidArgumentError, LedgerError
from tuishou.ledger import schema as t
from tuishou.ledger.checks import check_ids, check_time
from tuishou.ledger.models import Balance, Entry
from tuishou.ledger.store import Store
from tuishou.ledger.sums import balance_columns, odd_entries, whole_sums

__all__ = [
    "BALANCE_COLUMNS",
    "balances",
    "balances_arrow",
    "balances_frame",
    "check_count",
    "entry_conditions",
    "entry_pages",
    "read_entries",
]

BALANCE_COLUMNS = (
    "member_id",
    "pending",
    "available",
    "written_off",
    "withdrawn",
    "fees",
    "held",
    "payable",
)
"""The columns of ``balances_frame`` and ``balances_arrow`` (all but member_id int64 fen)."""
MEMBERS_PER_PAGE = 1000
"""How many members ``balances`` sums per query: what it holds in memory at most."""
_BATCH = 10_000  # members per Arrow record batch
_LARGEST = 2**63 - 1  # the largest count or id a database's 64-bit integers hold


def check_count(value: object, *, name: str) -> int:
    """Return ``value`` if it is a positive int (a page size, a limit), else refuse it.

    >>> check_count(10, name="page_size")
    10
    >>> check_count(0, name="limit")
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidArgumentError: limit=0 is not positive; pass an int >= 1 ...
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name}={value!r} is a {type(value).__name__}; pass an int >= 1")
    if value < 1:
        raise InvalidArgumentError(
            f"{name}={value} is not positive; pass an int >= 1 (or None for no limit)"
        )
    if value > _LARGEST:
        raise InvalidArgumentError(
            f"{name}={value} is beyond what a database counts (64 bits: at most {_LARGEST}); "
            "pass a smaller int, or None for no limit"
        )
    return value


# ---------------------------------------------------------------------- balances


def balances(store: Store, as_of: datetime | None) -> Iterator[tuple[str, Balance]]:
    """Every member with entries (at or before ``as_of``) and its balance, by member id.

    Arguments are checked at once; the sums are read lazily, ``MEMBERS_PER_PAGE`` members
    per page. A member whose stored entries the ledger would not have written raises the
    ``LedgerError`` naming the damaged row when its page is read.
    """
    if as_of is not None:
        check_time(as_of, name="as_of")
    return _balance_pages(store, as_of)


def _balance_pages(store: Store, as_of: datetime | None) -> Iterator[tuple[str, Balance]]:
    after: str | None = None
    while page := _balance_page(store, after, as_of):
        yield from page
        after = page[-1][0]


def _balance_page(
    store: Store, after: str | None, as_of: datetime | None
) -> list[tuple[str, Balance]]:
    """The balances of the next ``MEMBERS_PER_PAGE`` members after ``after``, in one read."""
    e = t.entries.c
    in_time = [e.at <= as_of] if as_of is not None else []
    later = [e.member_id > after] if after is not None else []
    with store.reading() as connection:
        members = list(
            connection.execute(
                select(e.member_id)
                .where(*later, *in_time)
                .distinct()
                .order_by(e.member_id)
                .limit(MEMBERS_PER_PAGE)
            ).scalars()
        )
        if not members:
            return []
        for member in members:  # decoded: a damaged id is named by its entry
            if type(member) is not str or not member:
                store.entries(e.member_id == member)
        rows = connection.execute(
            select(e.member_id, *balance_columns(), odd_entries())
            .where(e.member_id >= members[0], e.member_id <= members[-1], *in_time)
            .group_by(e.member_id)
            .order_by(e.member_id)
        ).all()
        return [(row[0], _sums(store, row, as_of)) for row in rows]


def _sums(store: Store, row: Any, as_of: datetime | None) -> Balance:
    sums = whole_sums(row[1:])
    if sums is None:  # a value the ledger never writes: Store.balance reads and names it
        store.balance(row[0], as_of)
        raise LedgerError(
            f"the ledger {store.path} holds entries of member {row[0]!r} that do not add "
            f"up (sums {list(row[1:])!r}); the database was altered outside tuishou: "
            "restore it from a backup"
        )
    return Balance(*sums)


def balances_arrow(store: Store, as_of: datetime | None) -> Any:
    """``balances`` as a pyarrow Table (``BALANCE_COLUMNS``), built a record batch of
    ``_BATCH`` members at a time: what is held besides the table is one batch.

    >>> from tuishou.ledger import Ledger
    >>> Ledger().balances_arrow().column_names
    ['member_id', 'pending', 'available', 'written_off', 'withdrawn', 'fees', 'held', 'payable']
    """
    rows = balances(store, as_of)
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - the columnar extra is installed in the tests
        raise ImportError(_MISSING.format(what="balances_arrow needs pyarrow")) from None
    schema = pa.schema(
        [("member_id", pa.string())] + [(name, pa.int64()) for name in BALANCE_COLUMNS[1:]]
    )
    batches = []
    while chunk := list(islice(rows, _BATCH)):
        columns = zip(*((member, *_fields(b)) for member, b in chunk), strict=True)
        batches.append(pa.RecordBatch.from_arrays(list(columns), schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def balances_frame(store: Store, as_of: datetime | None) -> Any:
    """``balances`` as a pandas DataFrame (``BALANCE_COLUMNS``; the sums int64), converted
    from ``balances_arrow``'s table.

    >>> from tuishou.ledger import Ledger
    >>> Ledger().balances_frame().dtypes["available"]
    dtype('int64')
    """
    try:
        import pandas  # noqa: F401  (to_pandas below needs it)
    except ImportError:  # pragma: no cover - the columnar extra is installed in the tests
        raise ImportError(_MISSING.format(what="balances_frame needs pandas")) from None
    return balances_arrow(store, as_of).to_pandas()


_MISSING = "Ledger.{what}, which is not installed: pip install 'tuishou[columnar]'"


def _fields(balance: Balance) -> tuple[int, ...]:
    return tuple(getattr(balance, name) for name in BALANCE_COLUMNS[1:])


# ----------------------------------------------------------------------- entries


def entry_conditions(
    member_id: str | None,
    order_id: str | None,
    since: datetime | None,
    until: datetime | None,
    after: int | None = None,
) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``Ledger.entries``' filters, every argument checked first.

    ``since <= at < until`` (half-open: consecutive ranges never share an entry);
    ``after`` keeps entries with a larger id. Each is served by an index: ``(member_id,
    at)``, ``order_id``, ``at``, or the primary key.
    """
    check_ids(member_id=member_id, order_id=order_id, optional=("member_id", "order_id"))
    for name, moment in (("since", since), ("until", until)):
        if moment is not None:
            check_time(moment, name=name)
    if since is not None and until is not None and since > until:
        raise InvalidArgumentError(
            f"since={since.isoformat()} is after until={until.isoformat()}: the range "
            "since <= at < until is empty; swap them"
        )
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise ArgumentTypeError(
            f"after={after!r} is a {type(after).__name__}; pass an entry id (int) or None"
        )
    if after is not None and not -_LARGEST <= after <= _LARGEST:
        raise InvalidArgumentError(
            f"after={after} is beyond what a database counts (64 bits): pass an entry id"
        )
    e = t.entries.c
    chosen: list[tuple[Any, Callable[[Any], ColumnElement[bool]]]] = [
        (member_id, lambda value: e.member_id == value),
        (order_id, lambda value: e.order_id == value),
        (since, lambda value: e.at >= value),
        (until, lambda value: e.at < value),
        (after, lambda value: e.entry_id > value),
    ]
    return [condition(value) for value, condition in chosen if value is not None]


def read_entries(
    store: Store, conditions: list[ColumnElement[bool]], limit: int | None
) -> list[Entry]:
    """Entries matching ``conditions``, by id, at most ``limit`` of them (one query)."""
    statement = select(t.entries).where(*conditions).order_by(t.entries.c.entry_id)
    rows = store.read("entries", statement if limit is None else statement.limit(limit))
    return [Entry(**row) for row in rows]


def entry_pages(
    store: Store, conditions: list[ColumnElement[bool]], page_size: int
) -> Iterator[list[Entry]]:
    """Entries matching ``conditions`` (``entry_conditions``), ``page_size`` at a time, by id.

    Keyset paging: each page is one query for ids after the last one read, so a deep page
    costs what the first one does and nothing is read twice or skipped.
    """
    check_count(page_size, name="page_size")
    return _pages(store, conditions, page_size)


def _pages(
    store: Store, conditions: list[ColumnElement[bool]], page_size: int
) -> Iterator[list[Entry]]:
    e = t.entries.c
    last: int | None = None
    while True:
        after = [e.entry_id > last] if last is not None else []
        page = read_entries(store, [*conditions, *after], page_size)
        if not page:
            return
        yield page
        if len(page) < page_size:
            return
        last = page[-1].entry_id
