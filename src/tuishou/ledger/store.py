"""The ledger's storage: its rows read and written through SQLAlchemy Core.

A ``Store`` is an open ledger database (``ledger.database`` opens it, ``ledger.versions``
creates or upgrades its schema, ``ledger.schema`` defines it) with the ledger's row reads and
writes. Every value read back is decoded by ``ledger.stored``.

Every write runs in one transaction that starts by updating the single ``tuishou_clock`` row:
the ledger's write lock. On PostgreSQL that is a row lock, held to the commit, so writers
queue and each sees what the one before it committed (READ COMMITTED reads afresh per
statement); on SQLite it takes the database's write lock. Reads never wait for it. A crash
leaves each operation either fully recorded or not at all, and every database error comes out
as a ``LedgerError`` that says what to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from tuishou.errors import DuplicateRequestError, LedgerError, UnknownOrderError
from tuishou.ledger import schema as t
from tuishou.ledger.compiled import run
from tuishou.ledger.database import connect, database_errors, use_wal
from tuishou.ledger.lock import WriteState, lock, lock_free_clock
from tuishou.ledger.models import Balance, Entry, LedgerPolicy, RequestKind
from tuishou.ledger.stored import decode
from tuishou.ledger.sums import balance_columns, odd_entries, whole_sums
from tuishou.ledger.versions import prepare

__all__ = ["Store"]

Key = tuple[str, str, str]  # (member_id, rule, kind)
_INSERTS = {name: insert(table) for name, table in t.metadata.tables.items()}
_ADVANCE = (
    update(t.clock)
    .where(t.clock.c.clock_id == 1)
    .values(at=bindparam("new_at", type_=t.UtcTime()), what=bindparam("new_what"))
)


class Store:
    """One ledger database: its connection, transactions and row reads and writes.

    ``policy_json`` is recorded as the ledger's policy when the database is new.
    """

    def __init__(self, target: object, *, policy_json: str, read_only: bool = False) -> None:
        self.read_only = read_only
        self._depth = 0  # how deep inside the ledger's own transactions we are
        self._state: WriteState | None = None  # what a writer knows, under the write lock
        self._settings: list[tuple[datetime, LedgerPolicy, str]] = []  # read under the lock
        self._known_policies: set[str] = set()  # commission policies stored (committed)
        self._added_policies: set[str] = set()  # stored in this transaction
        self._db = connect(target, read_only)
        self.path = self._db.name
        self.dialect = self._db.connection.dialect.name
        try:
            # On SQLite, the write lock first: processes creating a new file at once would
            # otherwise each read it, then deadlock upgrading to write (SQLITE_BUSY at once)
            immediate = self.dialect == "sqlite" and not (read_only or self._db.shared)
            self._db.connection.execution_options(tuishou_immediate=immediate)
            with self._transaction() as connection:
                prepare(connection, self.path, policy_json, read_only, self._refuse_others)
            self._db.connection.execution_options(tuishou_immediate=False)
            if not read_only:
                with database_errors(self.path):
                    use_wal(self._db.connection)
        except BaseException:
            self.close()
            raise

    @property
    def _refuse_others(self) -> bool:
        """A SQLite file the ledger opened itself must be a ledger's or new; a server's
        database (or a backend's engine) may hold the platform's own tables too."""
        return self._db.owned and self.dialect == "sqlite"

    @property
    def connection(self) -> Connection:
        """The SQLAlchemy connection (inside ``transaction`` or ``reading``)."""
        return self._db.connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction, holding the ledger's write lock: all of it, or none of it."""
        if self.read_only:
            raise LedgerError(
                f"the ledger {self.path} was opened read-only (for reports); "
                "open it without read_only=True to change it"
            )
        with self._transaction() as connection:
            if self._state is not None:  # a write inside a write: the lock is held already
                yield connection
                return
            self._state = lock(connection, self.path)
            try:
                yield connection
            finally:
                self._state, added, self._added_policies = None, self._added_policies, set()
        if not self._db.shared:  # committed: known from now on (not so inside the backend's
            self._known_policies |= added  # transaction: the backend may still roll it back)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read transaction: every query inside it sees the same state (on SQLite; on
        PostgreSQL each statement sees what was committed before it)."""
        with self._transaction() as connection:
            yield connection

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        connection = self._db.connection
        if self._depth:  # inside one of the ledger's own transactions already
            yield connection
            return
        with database_errors(self.path):
            nested = self._db.shared and connection.in_transaction()
            with connection.begin_nested() if nested else connection.begin():
                self._depth += 1
                try:
                    yield connection
                finally:
                    self._depth -= 1

    def close(self) -> None:
        """Close the connection (and the engine) if the ledger opened them."""
        if self._db.owned:
            engine = self._db.connection.engine
            self._db.connection.close()
            engine.dispose()
        elif not self._db.shared:
            self._db.connection.close()

    # ------------------------------------------------------------------ reading rows

    def scalar(self, statement: Select[Any]) -> Any:
        """The first column of the first row of a query (aggregates), or None."""
        with self._transaction():
            return self._db.connection.execute(statement).scalar()

    def read(
        self, table: str, statement: Select[Any], parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a query on ``table`` (its logical name, as ``stored.COLUMNS``), each
        value decoded: a value the ledger would not have written is a ``LedgerError``.

        With ``parameters``, ``statement`` is a module-level one with bound parameters, run
        as its compiled text (``ledger.compiled``: the hot paths)."""
        with self._transaction():
            connection = self._db.connection
            rows = (
                connection.execute(statement).mappings().all()
                if parameters is None
                else run(connection, statement, parameters).mappings()
            )
        return [decode(self.path, table, dict(row)) for row in rows]

    # -------------------------------------------------------------------- the policy

    def record_policy(self, policy_json: str, at: datetime, note: str) -> None:
        """Record ``policy_json`` as the ledger's policy from ``at`` on."""
        self._settings = []
        with database_errors(self.path):
            self._db.connection.execute(
                insert(t.ledger_policy).values(at=at, policy_json=policy_json, note=note)
            )

    def policy_rows(self) -> list[tuple[datetime, LedgerPolicy, str]]:
        """Every recorded policy, oldest first: (at, policy, note); the first is the creation.

        Under the write lock, the settings read before stay valid while their count does.
        """
        if self._state is not None and len(self._settings) == self._state.settings:
            return self._settings
        p = t.ledger_policy
        rows = self.read(
            "ledger_policy",
            select(p.c.change_id, p.c.at, p.c.policy_json, p.c.note).order_by(p.c.change_id),
        )
        if not rows:
            raise LedgerError(
                f"the ledger {self.path} has an empty tuishou_ledger_policy table (a ledger "
                "records the policy it was created with); the database was altered outside "
                "tuishou: restore it from a backup"
            )
        settings = [(row["at"], row["policy_json"], row["note"]) for row in rows]
        if self._state is not None:
            self._settings = settings
        return settings

    # ---------------------------------------------------------------------- entries

    def claim_entries(self, count: int) -> int:
        """The id of the first of ``count`` new entries (in a write transaction: nobody else
        adds one, and ids follow the order of recording)."""
        if self._state is None:
            raise LedgerError("entries are added inside a write transaction (Store.transaction)")
        first = self._state.next_entry
        self._state.next_entry += count
        return first

    def claim_volumes(self, count: int) -> int:
        """The id of the first of ``count`` new volume journal rows (in a write transaction,
        as ``claim_entries``)."""
        if self._state is None:
            raise LedgerError("volumes are added inside a write transaction (Store.transaction)")
        first = self._state.next_volume
        self._state.next_volume += count
        return first

    def add_entries(self, rows: Sequence[dict[str, Any]]) -> list[Entry]:
        """Insert entries (dicts with Entry's fields but the id) and return them with ids."""
        if not rows:
            return []
        first = self.claim_entries(len(rows))
        stored = [{**row, "entry_id": first + n} for n, row in enumerate(rows)]
        self.insert(t.entries, stored)
        return [Entry(**{**row, "at": row["at"].astimezone(UTC)}) for row in stored]

    def entries(self, *where: ColumnElement[bool]) -> list[Entry]:
        """Entries matching the conditions, oldest first."""
        rows = self.read("entries", select(t.entries).where(*where).order_by(t.entries.c.entry_id))
        return [Entry(**row) for row in rows]

    def balance(self, member_id: str, as_of: datetime | None) -> Balance:
        """A member's balance, summed by the database (entries at or before ``as_of``)."""
        e = t.entries.c
        conditions = [e.member_id == member_id] + ([e.at <= as_of] if as_of is not None else [])
        statement = select(*balance_columns(), odd_entries()).where(*conditions)
        with self._transaction():
            row = self._db.connection.execute(statement).one()
            sums = whole_sums(row)
            if sums is None:  # a value the ledger never writes: name it (reads every row)
                self.entries(*conditions)
                raise LedgerError(
                    f"the ledger {self.path} holds entries of member {member_id!r} that do "
                    f"not add up (sums {list(row)!r}); the database was altered outside "
                    "tuishou: restore it from a backup"
                )
        return Balance(*sums)

    def available(self, member_id: str) -> int:
        """A member's available balance, summed by the database."""
        return self.balance(member_id, None).available

    # ----------------------------------------------------------------------- orders

    def payouts(self, order_id: str) -> dict[Key, int]:
        """What an order pays now, per (member, rule, kind)."""
        p = t.payouts.c
        rows = self.read(
            "payouts",
            select(p.order_id, p.member_id, p.rule, p.kind, p.amount).where(
                p.order_id == order_id, p.amount != 0
            ),
        )
        return {(row["member_id"], row["rule"], row["kind"]): row["amount"] for row in rows}

    def set_payout(self, order_id: str, key: Key, amount: int, *, exists: bool) -> None:
        """Record what an order pays one (member, rule, kind) now (``exists``: it had a row)."""
        p = t.payouts.c
        member, rule, kind = key
        with database_errors(self.path):
            if exists:
                self._db.connection.execute(
                    update(t.payouts)
                    .where(
                        p.order_id == order_id,
                        p.member_id == member,
                        p.rule == rule,
                        p.kind == kind,
                    )
                    .values(amount=amount)
                )
            else:
                self._db.connection.execute(
                    insert(t.payouts).values(
                        order_id=order_id, member_id=member, rule=rule, kind=kind, amount=amount
                    )
                )

    def order_row(self, order_id: str, *columns: str) -> dict[str, Any]:
        """Columns of a posted order, decoded (``policy_json``: its commission policy);
        refuses an order never posted."""
        o = t.orders
        chosen = [o.c.order_id] + [
            t.policies.c.policy_json if name == "policy_json" else o.c[name]
            for name in columns
            if name != "order_id"
        ]
        source = o.join(t.policies) if "policy_json" in columns else o
        rows = self.read(
            "orders", select(*chosen).select_from(source).where(o.c.order_id == order_id)
        )
        if not rows:
            raise UnknownOrderError(f"order {order_id!r} was never posted to this ledger")
        return rows[0]

    def add_policy(self, policy_id: str, policy_json: str) -> None:
        """Record a commission policy orders are posted under, once (keyed by its digest;
        a stored one is remembered, so the next post does not ask again)."""
        if policy_id in self._known_policies | self._added_policies:
            return
        known = self.scalar(
            select(func.count()).where(t.policies.c.policy_id == policy_id)  # under the lock
        )
        if not known:
            self.insert(t.policies, [{"policy_id": policy_id, "policy_json": policy_json}])
            self._added_policies.add(policy_id)
        elif not self._db.shared:  # the backend's transaction may still be rolled back
            self._known_policies.add(policy_id)

    def add_orders(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows of ``tuishou_orders``."""
        self.insert(t.orders, rows)

    def add_payouts(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows of ``tuishou_payouts``."""
        self.insert(t.payouts, rows)

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows (one executemany; every row has the same columns) into a ledger table."""
        if rows:
            with database_errors(self.path):
                run(self._db.connection, _INSERTS[table.name], rows)

    def release_orders(self, order_ids: Sequence[str], at: datetime) -> None:
        """Mark orders released at ``at``."""
        with database_errors(self.path):
            self._db.connection.execute(
                update(t.orders).where(t.orders.c.order_id.in_(order_ids)).values(released_at=at)
            )

    def update_order(self, order_id: str, **values: Any) -> None:
        """Set columns of a posted order."""
        with database_errors(self.path):
            self._db.connection.execute(
                update(t.orders).where(t.orders.c.order_id == order_id).values(**values)
            )

    # --------------------------------------------------------------------- requests

    def seen(self, request_id: str, kind: RequestKind, fingerprint: str) -> bool:
        """Whether this refund or withdrawal was carried out; refuses an id used otherwise."""
        r = t.requests.c
        rows = self.read(
            "requests",
            select(r.request_id, r.kind, r.fingerprint, r.at).where(r.request_id == request_id),
        )
        if not rows:
            return False
        if (rows[0]["kind"], rows[0]["fingerprint"]) != (kind, fingerprint):
            raise DuplicateRequestError(
                f"{kind} id {request_id!r} was already used for a different request; use a new id"
            )
        return True

    def record_request(
        self, request_id: str, kind: RequestKind, fingerprint: str, at: datetime
    ) -> None:
        """Remember that a refund or withdrawal id was carried out."""
        with database_errors(self.path):
            self._db.connection.execute(
                insert(t.requests).values(
                    request_id=request_id, kind=kind, fingerprint=fingerprint, at=at
                )
            )

    # ------------------------------------------------------------------------ clock

    def latest(self) -> tuple[datetime, str] | None:
        """The latest time the ledger recorded an operation, and what it was; None if none."""
        if self._state is not None:
            return self._state.latest
        with self._transaction() as connection:
            return lock_free_clock(connection, self.path)

    def advance(self, at: datetime, what: str) -> None:
        """Record that an operation dated ``at`` was recorded (the clock never goes back)."""
        last = self.latest()
        if last is None or at >= last[0]:
            with database_errors(self.path):
                run(self._db.connection, _ADVANCE, {"new_at": at, "new_what": what})
            if self._state is not None:
                self._state.latest = (at, what)
