"""Bulk posting order by order: a batch under policy versions, with a ``paid_at`` column or
with coupons.

``ledger.bulk`` writes a plain batch (one policy, no payment times) at the speed of the
database. A batch whose orders carry ``paid_at``, or that is settled under
``PolicyVersions``, is recorded here instead, each order exactly as ``Ledger.post`` records
it: the order with its ``paid_at`` (kept as UTC), the settlement of its version, the version's
name, the freeze from its payment. The rules are ``Ledger.post_batch``'s: the whole batch is
checked first (the engine's checks by ``check_batch``, then every order posted before with a
different settlement named), nothing written on refusal; each chunk of orders is one
transaction; orders already posted identically are skipped, so a crashed run is run again.

Each step is done once: the engine checks the whole batch (every problem at once) without
settling it; each order is settled once with ``settle`` (a few thousand orders a second: the
fast writer would need a second copy of the posting rules); the settlements are made here from
these very orders, so ``post``'s check that a settlement belongs to its order is not repeated,
and each order's fingerprint is computed once, for finding it posted and for writing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from tuishou.bindings import Bindings
from tuishou.engine.batch import check_batch
from tuishou.engine.columns import LineColumns
from tuishou.engine.paid_at import NO_TIME
from tuishou.errors import DuplicateOrderError, LedgerError
from tuishou.ledger.bulk_rows import posted_fingerprints
from tuishou.ledger.clock import check_clock
from tuishou.ledger.posting import Posting, posting_of, write_posting
from tuishou.ledger.store import Store
from tuishou.orders import Order, OrderLine
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.settlement import Settlement, settle_many
from tuishou.settlement.coupons import coupon_from_lines
from tuishou.tree import InviteTree

__all__ = ["orders_of", "post_each"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SHOWN = 20  # conflicting order ids spelled out in a DuplicateOrderError


def post_each(
    store: Store,
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    orders: Any,
    at: datetime,
    chunk_orders: int,
    progress: Any,
    bindings: Bindings | None = None,
) -> tuple[int, int, int, int]:
    """Post a batch order by order; (orders posted, skipped, payout rows, chunks), settled
    with ``bindings`` when given (``settle``'s rule: a bound buyer credits its member)."""
    # every check of the engine, on the whole batch (bound members who are not members too)
    lines = check_batch(policy, tree, orders, bindings=bindings)
    built = orders_of(lines)
    settlements = settle_many(policy, tree, built, bindings=bindings)  # checked by making
    late = [o.order_id for o in built if o.paid_at is not None and o.paid_at > at]
    if late:
        shown = ", ".join(map(repr, late[:_SHOWN])) + (" ..." if len(late) > _SHOWN else "")
        raise LedgerError(
            f"{len(late)} orders of the batch were paid after at={at.isoformat()}: {shown}; "
            "an order is posted once it is paid: post the batch at or after its last payment "
            "time (check the time zones); nothing was posted"
        )
    postings = _postings(built, settlements)
    prints = [p.fingerprint for p in postings]
    with store.reading():
        new = _new(store, built, prints)
        if new:
            check_clock(store, at, doing="post")
    posted = rows = chunks = 0
    for part in range(0, len(new), chunk_orders):
        with store.transaction():  # orders another writer posted since are skipped
            chosen = _new(store, built, prints, new[part : part + chunk_orders], posted)
            for i in chosen:
                rows += len(write_posting(store, postings[i], at))
            posted += len(chosen)
        chunks += bool(chosen)
        if progress is not None:
            progress(min(part + chunk_orders, len(new)), len(new))
    return posted, len(built) - posted, rows, chunks


def _postings(built: list[Order], settlements: list[Settlement]) -> list[Posting]:
    """Each order's ``Posting``; a policy's JSON made once for all the orders it settled."""
    policy_json: dict[int, str] = {}
    postings = []
    for order, settlement in zip(built, settlements, strict=True):
        known = policy_json.get(id(settlement.policy))
        if known is None:
            known = policy_json[id(settlement.policy)] = settlement.policy.model_dump_json()
        postings.append(posting_of(order, settlement, known))
    return postings


def orders_of(lines: LineColumns) -> list[Order]:
    """The checked order lines as ``Order`` models, in order of first appearance, each
    order's lines in input order, ``paid_at`` as an aware UTC datetime."""
    codes = lines.order.codes
    first = np.unique(codes, return_index=True)[1]
    order_codes = codes[np.sort(first)].tolist()
    rows_of: dict[int, list[int]] = {code: [] for code in order_codes}
    for row, code in enumerate(codes.tolist()):
        rows_of[code].append(row)
    return [_order(lines, code, rows_of[code]) for code in order_codes]


def _order(lines: LineColumns, code: int, rows: Sequence[int]) -> Order:
    head = rows[0]
    paid = None if lines.paid_at is None else int(lines.paid_at[head])
    order_lines = [
        OrderLine(
            sku=str(_text(lines.sku, row)),
            group=str(_text(lines.group, row)),
            amount=int(lines.amount[row]),
            quantity=int(lines.quantity[row]),
        )
        for row in rows
    ]
    order_id = str(lines.order.values[code])
    return Order(
        order_id=order_id,
        buyer_id=_text(lines.buyer, head),
        sharer_id=_text(lines.sharer, head),
        paid_at=None if paid in (None, NO_TIME) else _EPOCH + timedelta(microseconds=paid),
        lines=order_lines,
        coupon=coupon_from_lines(  # the order is stored as given, with its coupon
            order_id,
            0 if lines.coupon is None else int(lines.coupon[head]),
            order_lines,
            [True] * len(rows)
            if lines.coupon_eligible is None
            else [bool(lines.coupon_eligible[row]) for row in rows],
        ),
    )


def _text(column: Any, row: int) -> str | None:
    code = int(column.codes[row])
    return None if code < 0 else str(column.values[code])


def _new(
    store: Store,
    built: list[Order],
    prints: list[str],
    chosen: Sequence[int] | None = None,
    posted: int = 0,
) -> list[int]:
    """The chosen orders (all by default) not yet posted; refuses those posted differently."""
    wanted = range(len(built)) if chosen is None else chosen
    ids = {i: built[i].order_id for i in wanted}
    found = posted_fingerprints(store, list(ids.values())) if ids else {}
    differ = [i for i, order_id in ids.items() if found.get(order_id, prints[i]) != prints[i]]
    if differ:
        shown = ", ".join(repr(ids[i]) for i in differ[:_SHOWN])
        more = f" and {len(differ) - _SHOWN} more" if len(differ) > _SHOWN else ""
        raise DuplicateOrderError(
            f"{len(differ)} orders of the batch were already posted with a different "
            f"settlement: {shown}{more}; refund them, or post the changes under new order "
            f"ids; {_done(posted)}"
        )
    return [i for i, order_id in ids.items() if order_id not in found]


def _done(posted: int) -> str:
    if not posted:
        return "nothing of the batch was posted"
    return (
        f"the {posted} orders of the chunks before were posted and stand: run the same call "
        "again once these are dealt with, it skips what was posted"
    )
