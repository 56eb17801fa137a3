"""The ledger's tables, as SQLAlchemy Core metadata: schema version 6.

The same tables serve SQLite and PostgreSQL and avoid what MySQL lacks (no partial indexes,
arrays or upserts). Every name starts with ``tuishou_``, so the ledger can live in a
platform's own database beside its ``orders`` table and its own Alembic history: the
ledger's migrations are recorded in ``tuishou_alembic_version``. See ``docs/ledger.md``.

- ``tuishou_clock(clock_id, writes, at, what)``: one row. Every write transaction starts by
  updating it: that is the ledger's write lock (a row lock on PostgreSQL, the database lock
  on SQLite), and ``at`` and ``what`` are the latest time the ledger recorded an operation
  and what it was (``ledger.clock``).
- ``tuishou_ledger_policy(change_id, at, policy_json, note)``: the ``LedgerPolicy`` the
  ledger was created with (it applies from the start) and every recorded change (each from
  its ``at`` on).
- ``tuishou_policies(policy_id, policy_json)``: every commission policy an order was posted
  under, keyed by the SHA-256 of its JSON.
- ``tuishou_orders(order_id PRIMARY KEY, ...)``: one row per posted order: its fingerprint,
  the order and the settlement snapshot (seller, attribution, chain), the quantities refunded
  so far, the freeze clock (``freeze_start``, ``due_at``, ``released_at``) and the name of the
  policy version the order was settled under (``policy_version``; None for a plain policy).
  The primary key makes posting an order twice impossible, even from two processes.
- ``tuishou_payouts(order_id, member_id, rule, kind, amount)``: what each order pays each
  member under each rule now, after refunds.
- ``tuishou_entries(entry_id, ...)``: the immutable history every balance is summed from.
  Entry ids are given by the ledger under its write lock, in the order of recording.
- ``tuishou_requests(request_id, kind, fingerprint, at)``: every refund id carried out (and
  the withdrawal ids of ledgers before version 4).
- ``tuishou_withdrawals(withdrawal_id PRIMARY KEY, ...)``: every withdrawal (提现), reviewed or
  one-step, and its state: requested, approved, paid (with the transfer reference) or rejected
  (with the reason); the fee fixed at request.
- ``tuishou_periods(period_id PRIMARY KEY, start, end, timezone, closed_at, totals_json)``:
  every closed period (月结) and its totals.
- ``tuishou_bindings(customer_id, since, member_id, until, how)``, keyed by
  ``(customer_id, since)``: the customer bindings (锁粉) the ledger keeps, each in force on
  ``[since, until)`` (``until`` NULL: permanent), ``how`` it was made (``first_share``,
  ``rebind``, ``register``, ``import``); a customer's intervals never overlap
  (``Ledger.bind``, ``Ledger.record_bindings``).
- ``tuishou_volumes(volume_id, member_id, at, amount, order_id, request_id, sold_at)``: the
  volume journal (业绩): one row per posted order with a seller (+ what the buyer paid, dated
  when it was posted) and one per refund that lowered it (- what the refund took off, dated
  when it was recorded, ``request_id`` the refund id, ``sold_at`` when the order was posted).
  A member's personal volume in a period is the sum of its rows dated in it.
- ``tuishou_bonus_runs(plan, period_id, start, end, timezone, at, fingerprint,
  summary_json)``: every period plan run (once per plan and period), keyed by both.
- ``tuishou_bonus_lines(plan, period_id, member_id, kind, source_id, amount, text)``: every
  amount a run paid (``team_bonus``, ``mentor_share``, ``promotion_reward``) with its
  explanation, and the team rows a gate clamped (amount 0).
- ``tuishou_tier_reviews(plan, period_id, member_id, old, new, qualified, misses, at,
  reason)``: the tier reviews (保级) with a miss or a change: the dated history of tier
  changes, and the miss counts the next review reads.

Times are ``UtcTime``: ``timestamp with time zone`` on PostgreSQL; elsewhere ISO 8601 text in
UTC (``2026-11-01T04:00:00+00:00``), which sorts in time order as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    TIMESTAMP,  # the generic type: no dialect module imported at start-up
    BigInteger,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from tuishou.times import utc

__all__ = [
    "HEAD",
    "LEDGER_TABLES",
    "SCHEMA_VERSION",
    "VERSION_TABLE",
    "UtcTime",
    "bindings",
    "bonus_lines",
    "bonus_runs",
    "clock",
    "entries",
    "ledger_policy",
    "metadata",
    "orders",
    "payouts",
    "periods",
    "policies",
    "requests",
    "tier_reviews",
    "volumes",
    "withdrawals",
]

SCHEMA_VERSION = 6
"""The schema this tuishou writes; an older one is upgraded when it is opened."""
HEAD = "0006"
"""The Alembic revision of ``SCHEMA_VERSION`` (revisions are named after the versions)."""
VERSION_TABLE = "tuishou_alembic_version"
"""Where Alembic records the ledger's revision: not ``alembic_version``, the platform's own."""

# Ids (at most tuishou.ids.MAX_ID_LENGTH characters) compare and sort by code point on every
# database: PostgreSQL's "C" collation, as SQLite's BINARY, whatever the server's locale.
Id = String(200).with_variant(String(200, collation="C"), "postgresql")


class UtcTime(TypeDecorator[datetime]):
    """An aware time: ``timestamptz`` on PostgreSQL, ISO 8601 text in UTC elsewhere.

    Values are bound in UTC; they are read back raw and checked by ``ledger.stored``, so a
    value altered outside tuishou is reported, not guessed at.
    """

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, datetime):
            return value
        moment = utc(value)  # a plain datetime (a pandas Timestamp would keep nanoseconds)
        return moment if dialect.name == "postgresql" else moment.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return value  # decoded and checked by ledger.stored

    @property
    def python_type(self) -> type[datetime]:
        return datetime


metadata = MetaData()

clock = Table(
    "tuishou_clock",
    metadata,
    Column("clock_id", Integer, primary_key=True, autoincrement=False),
    Column("writes", BigInteger, nullable=False),
    Column("at", UtcTime),
    Column("what", Text),
)

ledger_policy = Table(
    "tuishou_ledger_policy",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcTime, nullable=False),
    Column("policy_json", Text, nullable=False),
    Column("note", Text, nullable=False),
    sqlite_autoincrement=True,
)

policies = Table(
    "tuishou_policies",
    metadata,
    Column("policy_id", String(64), primary_key=True),
    Column("policy_json", Text, nullable=False),
)

orders = Table(
    "tuishou_orders",
    metadata,
    Column("order_id", Id, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("policy_id", String(64), ForeignKey("tuishou_policies.policy_id"), nullable=False),
    Column("order_json", Text, nullable=False),
    Column("snapshot_json", Text, nullable=False),
    Column("refunded_json", Text, nullable=False),
    Column("posted_at", UtcTime, nullable=False),
    Column("freeze_start", UtcTime),
    Column("due_at", UtcTime),
    Column("released_at", UtcTime),
    Column("policy_version", Id),  # the PolicyVersion's name; None for a plain Policy
    Index("tuishou_orders_by_due", "released_at", "due_at"),  # release(): unreleased, due by as_of
)

payouts = Table(
    "tuishou_payouts",
    metadata,
    Column("order_id", Id, ForeignKey("tuishou_orders.order_id"), primary_key=True),
    Column("member_id", Id, primary_key=True),
    Column("rule", Id, primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("amount", BigInteger, nullable=False),
)

entries = Table(
    "tuishou_entries",
    metadata,
    # INTEGER on SQLite: the rowid itself; ids are given by the ledger under its write lock
    Column(
        "entry_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("member_id", Id, nullable=False),
    Column("bucket", String(20), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", UtcTime, nullable=False),
    Column("order_id", Id),
    Column("rule", Id),
    Column("kind", String(40)),
    Column("request_id", Id),
    Index("tuishou_entries_by_member_time", "member_id", "at"),  # balances as of, a member's pages
    Index("tuishou_entries_by_order", "order_id"),
    Index("tuishou_entries_by_time", "at"),
)

requests = Table(
    "tuishou_requests",
    metadata,
    Column("request_id", Id, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("at", UtcTime, nullable=False),
)

withdrawals = Table(
    "tuishou_withdrawals",
    metadata,
    Column("withdrawal_id", Id, primary_key=True),
    Column("member_id", Id, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("state", String(20), nullable=False),
    Column("requested_at", UtcTime, nullable=False),
    Column("approved_at", UtcTime),
    Column("finished_at", UtcTime),  # paid or rejected
    Column("transfer_reference", Id),
    Column("reason", Text),
    Index("tuishou_withdrawals_by_member", "member_id", "requested_at"),
    Index("tuishou_withdrawals_by_state", "state", "requested_at"),
)

periods = Table(
    "tuishou_periods",
    metadata,
    Column("period_id", Id, primary_key=True),
    Column("start", UtcTime, nullable=False),
    Column("end", UtcTime, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("closed_at", UtcTime, nullable=False),
    Column("totals_json", Text, nullable=False),
    Index("tuishou_periods_by_end", "end"),
)

bindings = Table(
    "tuishou_bindings",
    metadata,
    Column("customer_id", Id, primary_key=True),
    Column("since", UtcTime, primary_key=True),
    Column("member_id", Id, nullable=False),
    Column("until", UtcTime),
    Column("how", String(20), nullable=False),
)

volumes = Table(
    "tuishou_volumes",
    metadata,
    Column(
        "volume_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("member_id", Id, nullable=False),
    Column("at", UtcTime, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("order_id", Id, nullable=False),
    Column("request_id", Id),
    Column("sold_at", UtcTime, nullable=False),
    Index("tuishou_volumes_by_time", "at"),
    Index("tuishou_volumes_by_member_time", "member_id", "at"),
)

bonus_runs = Table(
    "tuishou_bonus_runs",
    metadata,
    Column("plan", Id, primary_key=True),
    Column("period_id", Id, primary_key=True),
    Column("start", UtcTime, nullable=False),
    Column("end", UtcTime, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("at", UtcTime, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("summary_json", Text, nullable=False),
)

bonus_lines = Table(
    "tuishou_bonus_lines",
    metadata,
    Column("plan", Id, primary_key=True),
    Column("period_id", Id, primary_key=True),
    Column("member_id", Id, primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("source_id", String(420), primary_key=True),  # "", a mentee, or "invitee:tier"
    Column("amount", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Index("tuishou_bonus_lines_by_member", "member_id"),
)

tier_reviews = Table(
    "tuishou_tier_reviews",
    metadata,
    Column("plan", Id, primary_key=True),
    Column("period_id", Id, primary_key=True),
    Column("member_id", Id, primary_key=True),
    Column("old", Id, nullable=False),
    Column("new", Id, nullable=False),
    Column("qualified", Id, nullable=False),
    Column("misses", Integer, nullable=False),
    Column("at", UtcTime, nullable=False),
    Column("reason", Text, nullable=False),
    Index("tuishou_tier_reviews_by_member", "member_id", "at"),
)

LEDGER_TABLES = frozenset(metadata.tables)
"""Every table of the current schema (and ``VERSION_TABLE`` besides)."""
