"""The commission ledger (佣金账本): post, freeze, release, refund, claw back, withdraw.

A ``Ledger`` records settlements as immutable entries and answers balances. Each operation
is one transaction and is idempotent where a retry can happen: posting an identical
settlement again, or repeating a refund or withdrawal id, changes nothing. Refunds
re-settle what remains of the order with the chain and the policy recorded when it was
posted, never with today's tree, and post only the difference. See ``ledger_models`` for the
vocabulary and ``docs/ledger.md`` for the full lifecycle.

>>> from datetime import datetime
>>> from tuishou.settlement import _demo_settlement
>>> ledger = Ledger(LedgerPolicy(freeze_days=7))
>>> settlement = _demo_settlement()  # A shared an order of ¥100.00 and earns 500 fen
>>> order = _demo_order()
>>> _ = ledger.post(order, settlement, at=datetime(2026, 11, 1))
>>> ledger.balance("A")
Balance(pending=500, available=0, written_off=0, withdrawn=0, fees=0)
>>> _ = ledger.release(datetime(2026, 11, 8))
>>> ledger.refund("o1", lines={"s": 1}, at=datetime(2026, 11, 9)).remaining
{}
>>> ledger.balance("A").available
0
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .errors import (
    ArgumentTypeError,
    DuplicateOrderError,
    DuplicateRequestError,
    InsufficientBalanceError,
    LedgerError,
    UnknownOrderError,
    did_you_mean,
)
from .ledger_models import Balance, Entry, LedgerPolicy, RefundResult
from .ledger_store import Store
from .money import RATE_SCALE, check_fen, rate_units
from .orders import Order, OrderLine
from .rules import Policy
from .settlement import ChainLink, Settlement, settle_chain

__all__ = ["Ledger"]

_Key = tuple[str, str, str]  # (member_id, rule, kind)


class Ledger:
    """Commission balances from immutable entries, in memory or in a SQLite file.

    ``Ledger()`` keeps everything in memory; ``Ledger.open(path)`` uses a SQLite database
    (created if missing), safe for several processes and for crashes.
    """

    def __init__(self, policy: LedgerPolicy | None = None, *, path: str | Path = ":memory:"):
        if policy is not None and not isinstance(policy, LedgerPolicy):
            raise ArgumentTypeError(f"policy is a {type(policy).__name__}, expected LedgerPolicy")
        self.policy = policy or LedgerPolicy()
        self._store = Store(path)

    @classmethod
    def open(cls, path: str | Path, *, policy: LedgerPolicy | None = None) -> Ledger:
        """Open (or create) a ledger in a SQLite file.

        >>> import tempfile, pathlib
        >>> with Ledger.open(pathlib.Path(tempfile.mkdtemp()) / "ledger.db") as ledger:
        ...     ledger.balance("nobody").available
        0
        """
        return cls(policy, path=path)

    def close(self) -> None:
        """Close the database connection."""
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # ----------------------------------------------------------------------- posting

    def post(self, order: Order, settlement: Settlement, *, at: datetime) -> list[Entry]:
        """Record an order's payouts as pending entries; returns them.

        Idempotent by order id: the identical settlement again is a no-op (returns ``[]``);
        a different one raises ``DuplicateOrderError``.
        """
        _check_time(at)
        if not isinstance(order, Order) or not isinstance(settlement, Settlement):
            raise ArgumentTypeError("post(order, settlement, at=...) takes an Order and the "
                                    "Settlement that settle() returned for it")
        if settlement.order_id != order.order_id:
            raise LedgerError(f"the settlement is for order {settlement.order_id!r}, "
                              f"not {order.order_id!r}")
        policy_json = settlement.policy.model_dump_json()
        policy_id = _digest(policy_json)
        snapshot = _snapshot(settlement)
        order_json = order.model_dump_json()
        fingerprint = _digest(json.dumps([order_json, policy_id, snapshot,
                                          _payout_rows(settlement)], sort_keys=True))
        with self._store.transaction() as db:
            found = db.execute("SELECT fingerprint FROM orders WHERE order_id = ?",
                               (order.order_id,)).fetchone()
            if found is not None:
                if found[0] == fingerprint:
                    return []
                raise DuplicateOrderError(
                    f"order {order.order_id!r} was already posted with a different settlement; "
                    "refund it, or post the change under a new order id")
            start = (order.paid_at or at) if self.policy.freeze_from == "paid" else None
            due = start + timedelta(days=self.policy.freeze_days) if start else None
            db.execute("INSERT OR IGNORE INTO policies VALUES (?, ?)", (policy_id, policy_json))
            db.execute(
                "INSERT INTO orders (order_id, fingerprint, policy_id, order_json, snapshot_json, "
                "refunded_json, posted_at, freeze_start, due_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (order.order_id, fingerprint, policy_id, order_json,
                 json.dumps(snapshot), json.dumps([0] * len(order.lines)), at.isoformat(),
                 _iso(start), _iso(due)))
            totals = _totals(settlement)
            db.executemany("INSERT INTO payouts VALUES (?, ?, ?, ?, ?)",
                           [(order.order_id, *key, amount) for key, amount in totals.items()])
            return self._store.add_entries([
                _row(key, "pending", "post", amount, at, order.order_id)
                for key, amount in totals.items()])

    def mark_received(self, order_id: str, at: datetime) -> None:
        """Say the buyer received the goods: with ``freeze_from="received"`` the freeze starts.

        Marking again keeps the first time; with ``freeze_from="paid"`` nothing changes.
        """
        _check_time(at)
        with self._store.transaction() as db:
            row = self._order_row(order_id, "freeze_start")
            if self.policy.freeze_from == "received" and row[0] is None:
                due = at + timedelta(days=self.policy.freeze_days)
                db.execute("UPDATE orders SET freeze_start = ?, due_at = ? WHERE order_id = ?",
                           (at.isoformat(), due.isoformat(), order_id))

    def release(self, as_of: datetime) -> list[Entry]:
        """Move every pending payout whose freeze has ended by ``as_of`` to available.

        Returns the new available entries (what moved); running it again moves nothing.
        """
        _check_time(as_of)
        with self._store.transaction() as db:
            waiting = db.execute("SELECT order_id, due_at FROM orders "
                                 "WHERE released_at IS NULL AND due_at IS NOT NULL").fetchall()
            moved: list[Entry] = []
            for order_id, due_at in sorted(waiting):
                if datetime.fromisoformat(due_at) > as_of:
                    continue
                pending = db.execute(
                    "SELECT member_id, rule, kind, SUM(amount) FROM entries WHERE order_id = ? "
                    "AND bucket = 'pending' GROUP BY member_id, rule, kind "
                    "ORDER BY member_id, rule, kind", (order_id,)).fetchall()
                rows = []
                for member, rule, kind, amount in pending:
                    if amount:
                        rows.append(_row((member, rule, kind), "pending", "release", -amount,
                                         as_of, order_id))
                        rows.append(_row((member, rule, kind), "available", "release", amount,
                                         as_of, order_id))
                moved += [e for e in self._store.add_entries(rows) if e.bucket == "available"]
                db.execute("UPDATE orders SET released_at = ? WHERE order_id = ?",
                           (as_of.isoformat(), order_id))
            return moved

    # ----------------------------------------------------------------------- refunds

    def refund(self, order_id: str, *, lines: Mapping[str, int] | None = None, at: datetime,
               refund_id: str | None = None) -> RefundResult:
        """Refund some quantity of some SKUs (``lines``), or everything left (None).

        The remaining order is re-settled with the chain and policy recorded at posting and
        the difference is posted: pending payouts are reduced or cancelled; released ones
        get a negative clawback entry (capped at the balance, the rest written off, under
        ``clawback="cap_at_balance"``). Unknown orders or SKUs and refunds of more than is
        left are refused, changing nothing. With ``refund_id`` a retry is a no-op.
        """
        _check_time(at)
        request = _digest(json.dumps([order_id, sorted((lines or {}).items())]))
        with self._store.transaction() as db:
            if refund_id is not None and self._seen(refund_id, "refund", request):
                return RefundResult(order_id, self._payouts(order_id), (), repeated=True)
            order_json, snapshot_json, refunded_json, policy_json, released = self._order_row(
                order_id, "order_json, snapshot_json, refunded_json, policy_json, released_at",
                join=True)
            order = Order.model_validate_json(order_json)
            refunded = _refund_quantities(order, json.loads(refunded_json), lines)
            target = _remaining_payouts(Policy.model_validate_json(policy_json),
                                        json.loads(snapshot_json), order, refunded)
            entries = self._post_differences(order_id, target, released is not None, at,
                                             refund_id)
            db.execute("UPDATE orders SET refunded_json = ? WHERE order_id = ?",
                       (json.dumps(refunded), order_id))
            if refund_id is not None:
                db.execute("INSERT INTO requests VALUES (?, 'refund', ?, ?)",
                           (refund_id, request, at.isoformat()))
            return RefundResult(order_id, target, tuple(entries))

    def _post_differences(self, order_id: str, target: dict[_Key, int], released: bool,
                          at: datetime, refund_id: str | None) -> list[Entry]:
        current = self._payouts(order_id)
        entries: list[Entry] = []
        for key in sorted(set(current) | set(target)):
            delta = target.get(key, 0) - current.get(key, 0)
            if not delta:
                continue
            if not released or delta > 0:
                bucket = "available" if released else "pending"
                rows = [_row(key, bucket, "refund", delta, at, order_id, refund_id)]
            else:
                rows = self._clawback(key, -delta, at, order_id, refund_id)
            entries += self._store.add_entries(rows)
            self._store.db.execute(
                "INSERT INTO payouts VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id, member_id, "
                "rule, kind) DO UPDATE SET amount = excluded.amount", (order_id, *key,
                                                                       target.get(key, 0)))
        return entries

    def _clawback(self, key: _Key, amount: int, at: datetime, order_id: str,
                  refund_id: str | None) -> list[dict[str, Any]]:
        rows = [_row(key, "available", "clawback", -amount, at, order_id, refund_id)]
        if self.policy.clawback == "cap_at_balance":
            balance = self._sum("bucket = 'available' AND member_id = ?", (key[0],))
            short = amount - max(balance, 0)
            if short > 0:  # the balance cannot cover it: record what is not taken
                rows.append(_row(key, "available", "write_off", short, at, order_id, refund_id))
        return rows

    # ------------------------------------------------------------------- withdrawals

    def withdraw(self, member_id: str, amount: int, *, at: datetime,
                 withdrawal_id: str) -> list[Entry]:
        """Take ``amount`` out of the available balance (提现), less the withdrawal fee.

        Refused, changing nothing, above the available balance or below
        ``min_withdrawal``. The fee (``withdrawal_fee_rate``, rounded half up to the fen) is
        its own entry. A repeated ``withdrawal_id`` is a no-op (returns ``[]``).
        """
        _check_time(at)
        check_fen(amount)
        request = _digest(json.dumps([member_id, amount]))
        with self._store.transaction():
            if self._seen(withdrawal_id, "withdrawal", request):
                return []
            available = self._sum("bucket = 'available' AND member_id = ?", (member_id,))
            if amount < max(self.policy.min_withdrawal, 1):
                raise InsufficientBalanceError(
                    f"withdrawal of {amount} fen is below the minimum of "
                    f"{max(self.policy.min_withdrawal, 1)} fen")
            if amount > available:
                raise InsufficientBalanceError(
                    f"member {member_id!r} asked to withdraw {amount} fen but has {available} "
                    "fen available")
            fee = _half_up(amount * rate_units(self.policy.withdrawal_fee_rate), RATE_SCALE)
            key = (member_id, "", "")
            rows = [_row(key, "available", "withdrawal", -amount, at, None, withdrawal_id),
                    _row(key, "withdrawn", "withdrawal", amount - fee, at, None, withdrawal_id)]
            if fee:
                rows.append(_row(key, "fees", "fee", fee, at, None, withdrawal_id))
            self._store.db.execute("INSERT INTO requests VALUES (?, 'withdrawal', ?, ?)",
                                   (withdrawal_id, request, at.isoformat()))
            return self._store.add_entries(rows)

    # ----------------------------------------------------------------------- queries

    def balance(self, member_id: str, *, as_of: datetime | None = None) -> Balance:
        """A member's balance from its entries (those at or before ``as_of``, if given)."""
        if as_of is not None:
            _check_time(as_of)
        totals = {"pending": 0, "available": 0, "withdrawn": 0, "fees": 0, "write_off": 0}
        for entry in self._store.entries("member_id = ?", (member_id,)):
            if as_of is None or entry.at <= as_of:
                totals[entry.bucket] += entry.amount
                totals["write_off"] += entry.amount if entry.reason == "write_off" else 0
        return Balance(pending=totals["pending"], available=totals["available"],
                       written_off=totals["write_off"], withdrawn=totals["withdrawn"],
                       fees=totals["fees"])

    def entries(self, member_id: str | None = None, order_id: str | None = None) -> list[Entry]:
        """The history, oldest first, of one member, one order, both, or everything."""
        conditions = [(column, value) for column, value in
                      (("member_id", member_id), ("order_id", order_id)) if value is not None]
        where = " AND ".join(f"{column} = ?" for column, _ in conditions) or "1"
        return self._store.entries(where, [value for _, value in conditions])

    def payouts(self, order_id: str) -> dict[_Key, int]:
        """What the order pays now, per (member, rule, kind), after refunds."""
        with self._store.transaction():
            self._order_row(order_id, "order_id")
            return self._payouts(order_id)

    # --------------------------------------------------------------------- internals

    def _payouts(self, order_id: str) -> dict[_Key, int]:
        rows = self._store.db.execute("SELECT member_id, rule, kind, amount FROM payouts "
                                      "WHERE order_id = ? AND amount != 0", (order_id,))
        return {(m, r, k): amount for m, r, k, amount in rows}

    def _sum(self, where: str, parameters: tuple[Any, ...]) -> int:
        row = self._store.one(f"SELECT COALESCE(SUM(amount), 0) FROM entries WHERE {where}",
                              parameters)
        return int(row[0])

    def _order_row(self, order_id: str, columns: str, *, join: bool = False) -> Any:
        source = "orders JOIN policies USING (policy_id)" if join else "orders"
        row = self._store.one(f"SELECT {columns} FROM {source} WHERE order_id = ?", (order_id,))
        if row is None:
            raise UnknownOrderError(f"order {order_id!r} was never posted to this ledger")
        return row

    def _seen(self, request_id: str, kind: str, fingerprint: str) -> bool:
        if not isinstance(request_id, str) or not request_id:
            raise ArgumentTypeError(f"{kind} id {request_id!r} must be a non-empty string")
        row = self._store.one("SELECT kind, fingerprint FROM requests WHERE request_id = ?",
                              (request_id,))
        if row is None:
            return False
        if tuple(row) != (kind, fingerprint):
            raise DuplicateRequestError(f"{kind} id {request_id!r} was already used for a "
                                        "different request; use a new id")
        return True


def _refund_quantities(order: Order, refunded: list[int],
                       lines: Mapping[str, int] | None) -> list[int]:
    """The quantities refunded per line after this refund; refuses what cannot be refunded."""
    left = [line.quantity - done for line, done in zip(order.lines, refunded, strict=True)]
    if lines is None:
        if not any(left):
            raise LedgerError(f"order {order.order_id!r} is already fully refunded")
        return [line.quantity for line in order.lines]
    skus = [line.sku for line in order.lines]
    problems = []
    after = list(refunded)
    for sku, quantity in sorted(lines.items()):
        if type(quantity) is not int or quantity < 1:
            problems.append(f"{sku!r}: quantity {quantity!r} must be an int >= 1")
        elif sku not in skus:
            problems.append(f"{sku!r} is not in order {order.order_id!r}; "
                            f"{did_you_mean(sku, skus)}")
        elif quantity > sum(n for s, n in zip(skus, left, strict=True) if s == sku):
            remaining = sum(n for s, n in zip(skus, left, strict=True) if s == sku)
            problems.append(f"{sku!r}: refund of {quantity} but only {remaining} left")
        else:  # lines of the same SKU are refunded in order
            for i, s in enumerate(skus):
                take = min(quantity, left[i]) if s == sku else 0
                after[i] += take
                quantity -= take
    if problems:
        raise LedgerError.from_problems("refund refused, nothing changed", problems)
    return after


def _remaining_payouts(policy: Policy, snapshot: dict[str, Any], order: Order,
                       refunded: list[int]) -> dict[_Key, int]:
    """Re-settle what is left of ``order`` on the recorded chain."""
    kept = [OrderLine(sku=line.sku, group=line.group, quantity=line.quantity - done,
                      amount=line.amount * (line.quantity - done) // line.quantity)
            for line, done in zip(order.lines, refunded, strict=True) if done < line.quantity]
    if not kept:
        return {}
    chain = tuple(ChainLink(*link) for link in snapshot["chain"])
    remaining = order.model_copy(update={"lines": tuple(kept)})
    settled = settle_chain(policy, remaining, snapshot["seller_id"], snapshot["attribution"],
                           chain)
    return _totals(settled)


def _totals(settlement: Settlement) -> dict[_Key, int]:
    totals: dict[_Key, int] = {}
    for p in settlement.payouts:
        key = (p.member_id, p.rule, p.kind)
        totals[key] = totals.get(key, 0) + p.amount
    return totals


def _snapshot(settlement: Settlement) -> dict[str, Any]:
    return {"seller_id": settlement.seller_id, "attribution": settlement.attribution,
            "chain": [[c.member_id, c.tier, c.status, c.generation] for c in settlement.chain]}


def _payout_rows(settlement: Settlement) -> list[list[Any]]:
    return [[p.member_id, p.rule, p.kind, p.generation, p.amount] for p in settlement.payouts]


def _row(key: _Key, bucket: str, reason: str, amount: int, at: datetime, order_id: str | None,
         request_id: str | None = None) -> dict[str, Any]:
    member, rule, kind = key
    return {"member_id": member, "bucket": bucket, "reason": reason, "amount": amount, "at": at,
            "order_id": order_id, "rule": rule or None, "kind": kind or None,
            "request_id": request_id}


def _half_up(numerator: int, scale: int) -> int:
    return (2 * numerator + scale) // (2 * scale)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _check_time(moment: object) -> None:
    if not isinstance(moment, datetime):
        raise ArgumentTypeError(f"{moment!r} must be a datetime, e.g. datetime(2026, 11, 24)")


def _demo_order() -> Order:
    return Order(order_id="o1", sharer_id="A", lines=[
        OrderLine(sku="s", group="g", amount=10000)])
