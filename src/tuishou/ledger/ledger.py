"""The commission ledger (佣金账本): post, freeze, release, refund, claw back, withdraw.

A ``Ledger`` records settlements as immutable entries and answers balances. Each operation
is one transaction and is idempotent where a retry can happen: posting an identical
settlement again, or repeating a refund or withdrawal id, changes nothing. Refunds
re-settle what remains of the order with the chain and the policy recorded when it was
posted, never with today's tree, and post only the difference. See ``ledger_models`` for the
vocabulary and ``docs/ledger.md`` for the full lifecycle.

Times are aware datetimes only (stored in UTC), and the ledger's clock never runs backwards
(``ledger.clock``): every operation is dated at or after the latest time it has recorded. The
ledger's own settings (``LedgerPolicy``) are stored in its database and change only through
``change_policy``, recorded with the time from which they apply; each operation uses the
policy in force at its own time. Every stored value is read back through ``ledger.stored``.

>>> from datetime import UTC, datetime
>>> from tuishou.examples import example_order, example_settlement
>>> ledger = Ledger(LedgerPolicy(freeze_days=7))
>>> settlement = example_settlement()  # A shared an order of ¥100.00 and earns 500 fen
>>> order = example_order()
>>> _ = ledger.post(order, settlement, at=datetime(2026, 11, 1, tzinfo=UTC))
>>> ledger.balance("A")
Balance(pending=500, available=0, written_off=0, withdrawn=0, fees=0, held=0, payable=0)
>>> _ = ledger.release(datetime(2026, 11, 8, tzinfo=UTC))
>>> ledger.refund("o1", lines={"s": 1}, at=datetime(2026, 11, 9, tzinfo=UTC)).remaining
{}
>>> ledger.balance("A").available
0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tuishou.bindings import Bindings
from tuishou.errors import ArgumentTypeError, InvalidArgumentError, LedgerError
from tuishou.ledger import queries
from tuishou.ledger.bulk import BatchPosting, Progress, post_batch
from tuishou.ledger.checks import check_ids, check_time
from tuishou.ledger.clock import change_policy, in_force
from tuishou.ledger.ledger_bindings import BindingMethods
from tuishou.ledger.ledger_bonuses import BonusMethods
from tuishou.ledger.ledger_periods import PeriodMethods
from tuishou.ledger.ledger_volumes import VolumeMethods
from tuishou.ledger.ledger_withdrawals import WithdrawalMethods
from tuishou.ledger.models import Balance, Entry, LedgerPolicy, PolicyChange, RefundResult
from tuishou.ledger.posting import mark_received, post_order, release_due
from tuishou.ledger.refunds import Key, refund
from tuishou.ledger.store import Store
from tuishou.orders import Order
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.settlement import Settlement
from tuishou.tree import InviteTree

__all__ = ["Ledger"]


class Ledger(WithdrawalMethods, PeriodMethods, BindingMethods, VolumeMethods, BonusMethods):
    """Commission balances from immutable entries, in memory, in SQLite or in PostgreSQL.

    ``Ledger()`` keeps everything in memory; ``Ledger.open(database)`` uses a SQLite file, a
    SQLAlchemy URL (``postgresql+psycopg://...``), an ``Engine`` or the backend's own
    ``Connection`` (created if missing, upgraded if older), safe for several processes and
    for crashes. The ``policy`` is stored in the database: reopening without one uses the
    stored one, a different one is refused (change it with ``change_policy``).
    ``read_only=True`` opens a ledger for reports.
    """

    def __init__(
        self,
        policy: LedgerPolicy | None = None,
        *,
        database: object = ":memory:",
        read_only: bool = False,
    ):
        if policy is not None and not isinstance(policy, LedgerPolicy):
            raise ArgumentTypeError(f"policy is a {type(policy).__name__}, expected LedgerPolicy")
        self._store = Store(
            database, policy_json=(policy or LedgerPolicy()).model_dump_json(), read_only=read_only
        )
        try:
            current = self.policy  # reads (and checks) every recorded policy
        except BaseException:
            self.close()
            raise
        if policy is not None and policy != current:
            differences = _policy_differences(self.policy, policy)
            self.close()
            raise LedgerError.from_problems(
                f"the ledger {self._store.path} keeps a different LedgerPolicy than the one "
                "given (nothing changed); open it without policy= to use its own, or record "
                "the change with ledger.change_policy(policy, at=...)",
                differences,
            )

    @classmethod
    def open(
        cls, database: object, *, policy: LedgerPolicy | None = None, read_only: bool = False
    ) -> Ledger:
        """Open (or create) a ledger in a database; ``read_only=True`` for reports.

        ``database`` is a path (a SQLite file), a SQLAlchemy URL
        (``"postgresql+psycopg://user@host/db"``, ``"sqlite:///ledger.db"``), a SQLAlchemy
        ``Engine``, or a ``Connection``: then every operation runs inside that connection's
        transaction (in a savepoint of it), and the backend commits it with its own writes.
        A new database gets the ledger's tables (all named ``tuishou_*``); an older schema
        is upgraded (``ledger.versions``), a newer one refused with a ``LedgerError``.

        >>> import tempfile, pathlib
        >>> with Ledger.open(pathlib.Path(tempfile.mkdtemp()) / "ledger.db") as ledger:
        ...     ledger.balance("nobody").available
        0
        """
        return cls(policy, database=database, read_only=read_only)

    @staticmethod
    def upgrade(
        path: str | Path, *, policy: LedgerPolicy, naive_times: tzinfo | None = None
    ) -> None:
        """Upgrade a schema-1 ledger file in place (one transaction): see ``ledger_upgrade``."""
        from tuishou.ledger.upgrade import (
            upgrade,  # used once per file; kept out of the import path
        )

        upgrade(str(path), policy, naive_times)

    def close(self) -> None:
        """Close the database connection."""
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------ policy

    @property
    def policy(self) -> LedgerPolicy:
        """The ledger's policy in force now (``policy_at(datetime.now(UTC))``)."""
        return self.policy_at(datetime.now(UTC))

    def policy_at(self, at: datetime) -> LedgerPolicy:
        """The policy in force at ``at``: the latest change dated at or before it, else the
        policy the ledger was created with (it applies from the start).

        >>> ledger = Ledger(LedgerPolicy(min_withdrawal=100))
        >>> _ = ledger.change_policy(LedgerPolicy(), at=datetime(2099, 1, 1, tzinfo=UTC))
        >>> ledger.policy_at(datetime(2098, 12, 31, tzinfo=UTC)).min_withdrawal
        100
        >>> ledger.policy_at(datetime(2099, 1, 1, tzinfo=UTC)).min_withdrawal
        0
        """
        check_time(at)
        return in_force(self._store.policy_rows(), at)

    def change_policy(self, policy: LedgerPolicy, *, at: datetime, note: str = "") -> bool:
        """Record ``policy`` as the ledger's policy from ``at`` on; False if it is already.

        Each operation uses the policy in force at its own time, so a change dated in the
        future applies from then, not now; orders already posted keep their due dates.
        Changes are dated in time order: at or after the ledger's clock (``ledger.clock``)
        and its creation (whose policy applies from the start).

        >>> from datetime import UTC
        >>> ledger = Ledger(LedgerPolicy(min_withdrawal=100))
        >>> ledger.change_policy(LedgerPolicy(), at=datetime(2099, 12, 1, tzinfo=UTC),
        ...                      note="campaign: no minimum")
        True
        >>> [(change.note, change.policy.min_withdrawal) for change in ledger.policy_history()]
        [('created', 100), ('campaign: no minimum', 0)]
        """
        check_time(at)
        if not isinstance(policy, LedgerPolicy) or not isinstance(note, str):
            raise ArgumentTypeError(
                "change_policy(policy, at=..., note='') takes a LedgerPolicy and a str note"
            )
        return change_policy(self._store, policy, at, note)

    def policy_history(self) -> list[PolicyChange]:
        """Every policy the ledger recorded, oldest first (the first one at its creation)."""
        return [PolicyChange(*row) for row in self._store.policy_rows()]

    # ----------------------------------------------------------------------- posting

    def post(self, order: Order, settlement: Settlement, *, at: datetime) -> list[Entry]:
        """Record an order's payouts as pending entries; returns them.

        ``settlement`` must be the settlement of ``order`` (same lines, pool and payouts under
        its own policy and chain). Idempotent by order id: the identical settlement again is a
        no-op (returns ``[]``); a different one raises ``DuplicateOrderError``.
        """
        return post_order(self._store, order, settlement, at)

    def post_batch(
        self,
        policy: Policy | PolicyVersions,
        tree: InviteTree,
        orders: Any,
        *,
        at: datetime,
        chunk_orders: int = 5_000,
        progress: Progress | None = None,
        bindings: Bindings | None = None,
    ) -> BatchPosting:
        """Settle order-line columns with ``settle_batch`` and post every order, in chunks.

        ``orders`` is what ``settle_batch`` takes (a dict of arrays, a pandas DataFrame or a
        pyarrow Table, one row per order line; lines sharing an order id are one order, with
        text order ids). Each order is recorded exactly as ``post(order, settle(policy, tree,
        order), at=at)`` records it, so refunds, releases and later posts treat it like any
        other order. Without a ``paid_at`` column the orders have ``paid_at=None`` (the freeze
        starts at ``at``) and the batch is written at the database's speed (``ledger.bulk``);
        with one, or under ``PolicyVersions`` (each order settled by the version in force at
        its ``paid_at``, the version's name recorded), each order is settled and posted one
        by one (``ledger.bulk_orders``: thousands a second), its ``paid_at`` kept in UTC and
        its freeze starting then. An order paid after ``at`` is refused.

        The whole batch is checked first, nothing written on refusal: the engine's checks
        (``InvalidOrderError``, ``UnknownMemberError``, ...), order ids already posted with a
        different settlement (``DuplicateOrderError`` naming them), ``at`` before the
        ledger's clock (``LedgerError``). Then each ``chunk_orders`` orders are one
        transaction, every order in it whole or not at all; orders already posted
        identically are skipped, so after a crash the same call resumes. ``progress(done,
        total)`` is called after each chunk, with counts of orders to post.

        ``bindings`` (customer bindings: ``Bindings``, e.g. ``ledger.bindings()``) settle each
        order as ``settle(..., bindings=bindings)`` does: an order without a share link whose
        buyer is bound at its ``paid_at`` credits the bound member, and the posted snapshot
        records the binding (``explain`` tells it; refunds keep that seller). With bindings
        the orders are posted one by one, as with a ``paid_at`` column.

        >>> from tuishou.examples import example_policy
        >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
        >>> ledger = Ledger()
        >>> columns = {"order_id": ["o1", "o2"], "sharer_id": ["A", "A"], "sku": ["s", "s"],
        ...            "group": ["g", "g"], "amount": [10000, 2000]}
        >>> day = datetime(2026, 11, 1, tzinfo=UTC)
        >>> ledger.post_batch(example_policy(), tree, columns, at=day)
        BatchPosting(orders_posted=2, orders_skipped=0, payout_rows=2, entries_added=2, chunks=1)
        >>> ledger.balance("A").pending
        600
        >>> ledger.post_batch(example_policy(), tree, columns, at=day).orders_skipped  # resumed
        2
        """
        return post_batch(self._store, policy, tree, orders, at, chunk_orders, progress, bindings)

    def mark_received(self, order_id: str, at: datetime) -> None:
        """Say the buyer received the goods: for an order posted under
        ``freeze_from="received"`` the freeze starts (``freeze_days`` of the policy in force
        at ``at``).

        Marking again keeps the first time; for an order posted under ``freeze_from="paid"``
        nothing changes. A time before the order was posted is refused.
        """
        mark_received(self._store, order_id, at)

    def release(self, as_of: datetime) -> list[Entry]:
        """Move every pending payout whose freeze has ended by ``as_of`` to available.

        Returns the new available entries (what moved); running it again moves nothing.
        """
        return release_due(self._store, as_of)

    # ----------------------------------------------------------------------- refunds

    def refund(
        self,
        order_id: str,
        *,
        lines: Mapping[str, int] | None = None,
        amounts: Mapping[str, int] | None = None,
        at: datetime,
        refund_id: str | None = None,
    ) -> RefundResult:
        """Refund some quantity of some SKUs (``lines``: SKU → units), some money on some SKUs
        (``amounts``: SKU → int fen >= 1, 部分退款 / 退差价), or everything left (neither).

        A refund by amount keeps the line's units and leaves it exactly that many fen
        smaller; units or fen of a SKU on several lines come from its first line first. The
        remaining order is re-settled with the chain and policy recorded at posting; no payout
        goes up (a fen re-rounding would move to a member stays with the platform) and the
        difference is posted: pending payouts are reduced or cancelled; released ones get a
        negative clawback entry (capped at the balance, the rest written off, under
        ``clawback="cap_at_balance"``). Refused, changing nothing: ``lines`` and ``amounts``
        together (``InvalidArgumentError``), an order never posted (``UnknownOrderError``),
        and, as a ``LedgerError`` naming every problem, unknown SKUs, empty refunds, bad
        amounts (0, negative, float, bool, text), more than is left, an amount on a SKU with a
        fixed commission per unit, and a refund dated before the order was posted. With
        ``refund_id`` a retry of the same request is a no-op; a different request under the
        same id is a ``DuplicateRequestError``.

        >>> from datetime import UTC, datetime
        >>> from tuishou.examples import example_order, example_settlement
        >>> ledger = Ledger()  # A shared an order of 10,000 fen (SKU s) and earns 500 fen
        >>> _ = ledger.post(example_order(), example_settlement(),
        ...                 at=datetime(2026, 11, 1, tzinfo=UTC))
        >>> result = ledger.refund("o1", amounts={"s": 3333}, at=datetime(2026, 11, 2, tzinfo=UTC))
        >>> result.pool, result.remaining  # a pool of 10% of the 6,667 fen left, half to A
        (667, {('A', 'seller', 'seller'): 333})
        """
        check_time(at)
        check_ids(order_id=order_id, refund_id=refund_id, optional=("refund_id",))
        for name, given in (("lines", lines), ("amounts", amounts)):
            if given is not None and not isinstance(given, Mapping):
                raise ArgumentTypeError(
                    f"{name} is a {type(given).__name__}; pass a dict of SKU to "
                    f"{'quantity' if name == 'lines' else 'fen'}, or None to refund everything left"
                )
        if lines is not None and amounts is not None:
            raise InvalidArgumentError(
                f"lines={dict(lines)!r} and amounts={dict(amounts)!r} were both given; refund "
                "units (lines) and money (amounts) in two refunds, each with its own refund_id"
            )
        with self._store.transaction():
            policy = in_force(self._store.policy_rows(), at)
            return refund(self._store, policy, order_id, lines, at, refund_id, amounts)

    # ----------------------------------------------------------------------- queries

    def balance(self, member_id: str, *, as_of: datetime | None = None) -> Balance:
        """A member's balance from its entries (those at or before ``as_of``, if given)."""
        if as_of is not None:
            check_time(as_of, name="as_of")
        check_ids(member_id=member_id)
        with self._store.reading():
            return self._store.balance(member_id, as_of)

    def balances(self, *, as_of: datetime | None = None) -> Iterator[tuple[str, Balance]]:
        """Every member with entries (at or before ``as_of``) and its balance, ordered by
        member id: summed by the database, read ``MEMBERS_PER_PAGE`` members at a time
        (``ledger.queries``). A damaged entry raises the ``LedgerError`` naming its row."""
        return queries.balances(self._store, as_of)

    def balances_frame(self, *, as_of: datetime | None = None) -> Any:
        """``balances`` as a pandas DataFrame: member_id, pending, available, written_off,
        withdrawn, fees (int64 fen). Needs ``pip install 'tuishou[columnar]'``."""
        return queries.balances_frame(self._store, as_of)

    def balances_arrow(self, *, as_of: datetime | None = None) -> Any:
        """``balances`` as a pyarrow Table, the columns of ``balances_frame``, built a record
        batch at a time. Needs ``pip install 'tuishou[columnar]'``."""
        return queries.balances_arrow(self._store, as_of)

    def entries(
        self,
        member_id: str | None = None,
        order_id: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """The history of one member, one order, both, or everything, oldest first (by entry
        id, which is time order): dated ``since <= at < until``, ids above ``after``, at most
        ``limit`` entries. For long histories use ``entry_pages``."""
        conditions = queries.entry_conditions(member_id, order_id, since, until, after)
        if limit is not None:
            queries.check_count(limit, name="limit")
        return queries.read_entries(self._store, conditions, limit)

    def entry_pages(
        self,
        member_id: str | None = None,
        order_id: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 1000,
    ) -> Iterator[list[Entry]]:
        """``entries`` in lists of at most ``page_size``, one indexed query per page (keyset
        paging by entry id): memory stays one page, however long the history.

        >>> from tuishou.examples import example_order, example_settlement
        >>> ledger = Ledger()
        >>> at = datetime(2026, 11, 1, tzinfo=UTC)
        >>> _ = ledger.post(example_order(), example_settlement(), at=at)
        >>> [len(page) for page in ledger.entry_pages("A", page_size=1)]
        [1]
        """
        conditions = queries.entry_conditions(member_id, order_id, since, until)
        return queries.entry_pages(self._store, conditions, page_size)

    def payouts(self, order_id: str) -> dict[Key, int]:
        """What the order pays now, per (member, rule, kind), after refunds."""
        check_ids(order_id=order_id)
        with self._store.reading():
            self._store.order_row(order_id, "order_id")
            return self._store.payouts(order_id)


def _policy_differences(stored: LedgerPolicy, given: LedgerPolicy) -> list[str]:
    mine, theirs = stored.model_dump(), given.model_dump()
    return [
        f"{name}: the ledger keeps {mine[name]!r}, given {theirs[name]!r}"
        for name in mine
        if mine[name] != theirs[name]
    ]
