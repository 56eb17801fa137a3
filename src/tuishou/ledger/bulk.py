"""Bulk posting: a whole ``settle_batch`` input posted to the ledger, in chunks, resumable.

``post_batch`` settles order-line columns with the batch engine (``settle_batch``) and records
every order exactly as ``Ledger.post`` records it, with ``paid_at=None`` (the freeze starts at
``at``): the same ``tuishou_orders`` row (order JSON byte for byte ``Order.model_dump_json()``,
the chain snapshot ``settle`` records, the same fingerprint), the same payouts and the same
pending entries with the same ids. So a later ``post`` of a batch-posted order is a no-op, a
different settlement is a ``DuplicateOrderError``, and refunds work as for any other order.

The whole batch is checked before anything is written (the engine's validation, order ids
posted before with a different settlement, the clock); then each chunk of ``chunk_orders``
orders is one transaction under the ledger's write lock, and each order in it is recorded
whole or not at all. Orders already posted identically are skipped, so a run that crashed is
simply run again. Lines that share an order id are one order (``settle_batch`` groups them),
its lines in input order. A batch under policy versions, with payment times or with coupons
is posted order by order instead (``ledger.bulk_orders``).

The per-order Python is kept small (this is the hot path): the chain snapshot is made once
per distinct (seller, attribution), JSON fragments once per distinct id, and the rows are
written by ``ledger.bulk_rows`` without SQLAlchemy's per-row processing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.bindings import Bindings
from tuishou.engine.batch import settle_batch, text_member_ids
from tuishou.engine.columns import LineColumns, read_lines
from tuishou.engine.coupons import coupon_amounts
from tuishou.engine.paid_at import NO_TIME, read_paid_at
from tuishou.engine.tables import KINDS, BatchResult
from tuishou.errors import ArgumentTypeError, DuplicateOrderError
from tuishou.ledger.bulk_orders import post_each
from tuishou.ledger.bulk_rows import Chunk, bulk_cache, posted_fingerprints, write_chunk
from tuishou.ledger.checks import check_time
from tuishou.ledger.clock import check_clock, due_date, in_force
from tuishou.ledger.refunds import digest
from tuishou.ledger.store import Store
from tuishou.ledger.volumes import order_amounts, volume_rows
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.settlement import ChainLink, seller_chain
from tuishou.tree import InviteTree

__all__ = ["BatchPosting", "Prepared", "Progress", "post_batch", "prepare"]

Progress = Callable[[int, int], None]
_LOOKUP = 10_000  # order ids per query when looking for orders already posted
_ATTRIBUTIONS = ("none", "sharer", "self_purchase", "buyer_inviter")
_SHOWN = 20  # conflicting order ids spelled out in a DuplicateOrderError


@dataclass(frozen=True)
class BatchPosting:
    """What ``Ledger.post_batch`` did: orders posted now, orders skipped (already posted
    identically), ``tuishou_payouts`` rows and entries added, transactions (chunks) run."""

    orders_posted: int
    orders_skipped: int
    payout_rows: int
    entries_added: int
    chunks: int


@dataclass(frozen=True, eq=False)
class Prepared:
    """Every order of a batch as the ledger stores it, in order of first appearance."""

    ids: list[str]
    fingerprints: list[str]
    order_json: list[str]
    snapshot_json: list[str]
    refunded_json: list[str]
    starts: list[int]  # order i's payouts are payouts[starts[i]:starts[i + 1]]
    payouts: list[tuple[str, str, str, int]]  # (member, rule, kind, amount), summed per key
    policy_id: str
    policy_json: str
    sellers: npt.NDArray[np.int64]  # order i's seller: a code into member_ids, -1 for none
    paid: npt.NDArray[np.int64]  # what order i's buyer paid, fen (its volume)
    member_ids: Sequence[str]


def _column(orders: Any, name: str) -> Any:
    """Column ``name`` of a batch (a dict of columns, a pandas DataFrame or a pyarrow Table),
    or None when the batch has none."""
    if isinstance(orders, Mapping):
        names = [str(found) for found in orders]
    else:
        names = [
            str(found) for found in getattr(orders, "column_names", getattr(orders, "columns", []))
        ]
    if name not in names:
        return None
    return orders.column(name) if hasattr(orders, "column_names") else orders[name]


def _has_payment_times(orders: Any) -> bool:
    """Whether the batch has a ``paid_at`` column with a time in it; a column of nothing but
    empty cells has none."""
    column = _column(orders, "paid_at")
    return column is not None and bool((read_paid_at(column) != NO_TIME).any())


def _has_coupons(orders: Any) -> bool:
    """Whether the batch has a ``coupon`` column with a coupon in it: such orders are stored
    with their coupon, order by order (``post_each``), not from the fast path's fragments."""
    column = _column(orders, "coupon")
    return column is not None and bool(coupon_amounts(column).any())


def post_batch(
    store: Store,
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    orders: Any,
    at: datetime,
    chunk_orders: int = 5_000,
    progress: Progress | None = None,
    bindings: Bindings | None = None,
) -> BatchPosting:
    """Settle and post a batch: the rules are ``Ledger.post_batch``'s."""
    check_time(at)
    if bindings is not None and not isinstance(bindings, Bindings):
        raise ArgumentTypeError(
            f"bindings is a {type(bindings).__name__}, expected Bindings or None; build them "
            "with Bindings.from_records(records), or pass ledger.bindings()"
        )
    if isinstance(chunk_orders, bool) or not isinstance(chunk_orders, int) or chunk_orders < 1:
        raise ArgumentTypeError(
            f"chunk_orders={chunk_orders!r}; pass a whole number of orders per transaction, "
            "at least 1 (default 5000)"
        )
    bound = bindings is not None and len(bindings) > 0  # settled order by order (settle's rule)
    order_by_order = _has_payment_times(orders) or _has_coupons(orders) or bound
    if isinstance(policy, PolicyVersions) or order_by_order:
        posted, skipped, rows, chunks = post_each(
            store, policy, tree, orders, at, chunk_orders, progress, bindings if bound else None
        )
        return BatchPosting(posted, skipped, rows, rows, chunks)
    ready = prepare(policy, tree, orders)
    with store.reading():
        new = _new_orders(store, ready, range(len(ready.ids)))
        if new:
            check_clock(store, at, doing="post")
    posted = rows = chunks = 0
    with bulk_cache(store):
        for part in range(0, len(new), chunk_orders):
            with store.transaction():
                chosen = _new_orders(store, ready, new[part : part + chunk_orders], posted)
                if chosen:
                    rows += _post_chunk(store, ready, chosen, at)
                    posted += len(chosen)
                    chunks += 1
            if progress is not None:
                progress(min(part + chunk_orders, len(new)), len(new))
    return BatchPosting(posted, len(ready.ids) - posted, rows, rows, chunks)


def _post_chunk(store: Store, ready: Prepared, chosen: list[int], at: datetime) -> int:
    """Write the chosen orders inside the caller's transaction; the payout rows written."""
    check_clock(store, at, doing="post")
    ledger_policy = in_force(store.policy_rows(), at)
    start = at if ledger_policy.freeze_from == "paid" else None
    store.add_policy(ready.policy_id, ready.policy_json)
    payouts = [
        (ready.ids[i], *ready.payouts[j])
        for i in chosen
        for j in range(ready.starts[i], ready.starts[i + 1])
    ]
    volumes = volume_rows(ready.ids, ready.sellers, ready.paid, ready.member_ids, chosen)
    chunk = Chunk(
        orders=[
            (
                ready.ids[i],
                ready.fingerprints[i],
                ready.policy_id,
                ready.order_json[i],
                ready.snapshot_json[i],
                ready.refunded_json[i],
            )
            for i in chosen
        ],
        payouts=payouts,
        at=at,
        freeze_start=start,
        due_at=due_date(start, ledger_policy.freeze_days) if start else None,
        first_entry=store.claim_entries(len(payouts)),
        volumes=volumes,
        first_volume=store.claim_volumes(len(volumes)),
    )
    write_chunk(store, chunk)
    store.advance(at, f"order {ready.ids[chosen[-1]]!r} posted")
    return len(chunk.payouts)


def _new_orders(store: Store, ready: Prepared, chosen: Sequence[int], posted: int = 0) -> list[int]:
    """The chosen orders not yet posted; refuses (``DuplicateOrderError``) ids posted with a
    different settlement, naming them (``posted``: orders this call posted already)."""
    found: dict[str, str] = {}
    for part in range(0, len(chosen), _LOOKUP):
        found.update(
            posted_fingerprints(store, [ready.ids[i] for i in chosen[part : part + _LOOKUP]])
        )
    if not found:
        return list(chosen)
    differ = [
        ready.ids[i]
        for i in chosen
        if found.get(ready.ids[i], ready.fingerprints[i]) != ready.fingerprints[i]
    ]
    if differ:
        shown = ", ".join(repr(order_id) for order_id in differ[:_SHOWN])
        more = f" and {len(differ) - _SHOWN} more" if len(differ) > _SHOWN else ""
        done = (
            "nothing of the batch was posted"
            if not posted
            else f"the {posted} orders of the chunks before were posted and stand: run the "
            "same call again once these are dealt with, it skips what was posted"
        )
        raise DuplicateOrderError(
            f"{len(differ)} orders of the batch were already posted with a different "
            f"settlement: {shown}{more}{_paid_at_hint(store, differ[:_SHOWN])}; refund "
            f"them, or post the changes under new order ids; {done}"
        )
    return [i for i in chosen if ready.ids[i] not in found]


def _paid_at_hint(store: Store, order_ids: Sequence[str]) -> str:
    """Why an order posted by ``post`` differs from the same order in a batch: its paid_at."""
    paid = [
        order_id
        for order_id in order_ids
        if store.order_row(order_id, "order_json")["order_json"].paid_at is not None
    ]
    if not paid:
        return ""
    return (
        f" ({', '.join(map(repr, paid))} were posted with their paid_at, which this batch "
        "has no column for, so the same order in it is another settlement record: give the "
        "batch a paid_at column, or leave orders posted one by one out of it)"
    )


# ---------------------------------------------------------------------- preparing


def prepare(policy: Policy, tree: InviteTree, orders: Any) -> Prepared:
    """Settle the batch and build each order's stored JSON, fingerprint and payouts."""
    lines = read_lines(orders)  # read once: each order's own lines, in input order
    result = text_member_ids(settle_batch(policy, tree, lines), tree)  # int ids in: as text
    ids = _order_ids(lines)
    policy_json = policy.model_dump_json()
    policy_id = digest(policy_json)
    position = result.orders.order  # order codes, in order of first appearance
    order_json = _order_json(lines, position, ids)
    snapshot_json, sorted_json = _snapshots(policy, tree, result, lines)
    fingerprint_rows, payouts, starts = _payouts(result, len(position))
    quoted_id = json.dumps(policy_id)
    sha = hashlib.sha256
    dumps = encode_basestring_ascii  # what json.dumps does with a str, without its overhead
    fingerprints = [
        sha(
            (
                f"[{dumps(text)}, {quoted_id}, {snapshot}, "
                f"[{', '.join(fingerprint_rows[starts[i] : starts[i + 1]])}]]"
            ).encode()
        ).hexdigest()
        for i, (text, snapshot) in enumerate(zip(order_json, sorted_json, strict=True))
    ]
    counts = np.bincount(lines.order.codes, minlength=len(position))[position].tolist()
    return Prepared(
        ids=[ids[c] for c in position.tolist()],
        fingerprints=fingerprints,
        order_json=order_json,
        snapshot_json=snapshot_json,
        refunded_json=[_refunded(n) for n in counts],
        starts=starts,
        payouts=payouts,
        policy_id=policy_id,
        policy_json=policy_json,
        sellers=result.orders.seller,
        paid=order_amounts(lines.order.codes, lines.amount, position),
        member_ids=tree.arrays().ids,  # the orders' member ids, as text
    )


def _order_ids(lines: LineColumns) -> list[str]:
    values = lines.order.values
    if isinstance(values, np.ndarray) or not all(isinstance(v, str) for v in values):
        raise ArgumentTypeError(
            "column 'order_id' holds numbers; the ledger keys orders by text ids (as Order "
            "does): convert the column to text (e.g. df['order_id'].astype(str))"
        )
    return list(values)


def _quoted(values: Sequence[Any] | npt.NDArray[Any]) -> list[str]:
    """Each distinct value as pydantic writes it in JSON (non-ASCII kept), and ``null``."""
    return [encode_basestring(str(v)) for v in values] + ["null"]


@lru_cache(maxsize=64)
def _refunded(lines: int) -> str:
    return json.dumps([0] * lines)


def _order_json(lines: LineColumns, position: npt.NDArray[Any], ids: list[str]) -> list[str]:
    """``Order.model_dump_json()`` of every order (``paid_at`` null), built from fragments."""
    order_codes = lines.order.codes
    by_order = np.argsort(order_codes, kind="stable")  # each order's lines, in input order
    bounds = np.concatenate([[0], np.cumsum(np.bincount(order_codes, minlength=len(ids)))])
    skus, groups = _quoted(lines.sku.values), _quoted(lines.group.values)
    fragments = [
        f'{{"sku":{skus[s]},"group":{groups[g]},"amount":{a},"quantity":{q}}}'
        for s, g, a, q in zip(
            lines.sku.codes[by_order].tolist(),
            lines.group.codes[by_order].tolist(),
            lines.amount[by_order].tolist(),
            lines.quantity[by_order].tolist(),
            strict=True,
        )
    ]
    first = by_order[bounds[:-1]]
    quoted_ids = _quoted(ids)
    buyers, sharers = _quoted(lines.buyer.values), _quoted(lines.sharer.values)
    bound = bounds.tolist()
    buyer_codes, sharer_codes = (
        lines.buyer.codes[first].tolist(),
        lines.sharer.codes[first].tolist(),
    )
    return [
        f'{{"order_id":{quoted_ids[c]},"buyer_id":{buyers[buyer_codes[c]]},'
        f'"sharer_id":{sharers[sharer_codes[c]]},"paid_at":null,'
        f'"lines":[{",".join(fragments[bound[c] : bound[c + 1]])}]}}'
        for c in position.tolist()
    ]


def _snapshots(
    policy: Policy, tree: InviteTree, result: BatchResult, lines: LineColumns
) -> tuple[list[str], list[str]]:
    """Each order's snapshot JSON as ``post`` stores it and as its fingerprint has it (keys
    sorted), made once per distinct (seller, attribution)."""
    first = np.full(len(result.orders), lines.size, dtype=np.int64)
    np.minimum.at(first, lines.order.codes, np.arange(lines.size))
    first = first[result.orders.order]
    buyer, sharer = (
        np.array([*column.values, None], dtype=object)[column.codes[first]]
        for column in (lines.buyer, lines.sharer)
    )
    seller = result.orders.seller
    # settle's step 1, told apart from the seller the engine found: a sharer who is not the
    # buyer sold it, else the buyer (self-purchase) or its inviter did.
    shared = (lines.sharer.codes[first] >= 0) & (sharer != buyer)
    otherwise = _ATTRIBUTIONS.index("self_purchase" if policy.self_purchase else "buyer_inviter")
    attribution = np.where(seller < 0, 0, np.where(shared, 1, otherwise))
    distinct, inverse = np.unique(
        (seller + 1) * len(_ATTRIBUTIONS) + attribution, return_inverse=True
    )
    made, made_sorted = [], []
    links: dict[tuple[str, int | None], str] = {}  # each link's JSON, made once
    for key in distinct.tolist():
        code, chosen = divmod(key, len(_ATTRIBUTIONS))
        seller_id = result.orders.member_ids[code - 1] if code else None
        chain = seller_chain(policy, tree, seller_id) if seller_id is not None else ()
        # json.dumps(snapshot) and json.dumps(snapshot, sort_keys=True) of
        # {"seller_id": ..., "attribution": ..., "chain": [[member, tier, status, generation]]},
        # written out: the same text at a fraction of the cost
        parts = (
            "null" if seller_id is None else encode_basestring_ascii(seller_id),
            f'"{_ATTRIBUTIONS[chosen]}"',
            f"[{', '.join([_link_json(links, c) for c in chain])}]",
        )
        made.append('{{"seller_id": {}, "attribution": {}, "chain": {}}}'.format(*parts))
        made_sorted.append('{{"attribution": {1}, "chain": {2}, "seller_id": {0}}}'.format(*parts))
    order = inverse.reshape(-1).tolist()
    return [made[i] for i in order], [made_sorted[i] for i in order]


def _link_json(made: dict[tuple[str, int | None], str], link: ChainLink) -> str:
    """``json.dumps([member, tier, status, generation])`` of a chain link, once per link."""
    key = (link.member_id, link.generation)
    found = made.get(key)
    if found is None:
        generation = "null" if link.generation is None else str(link.generation)
        quoted = (encode_basestring_ascii(v) for v in (link.member_id, link.tier, link.status))
        found = made[key] = f"[{', '.join(quoted)}, {generation}]"
    return found


def _payouts(
    result: BatchResult, count: int
) -> tuple[list[str], list[tuple[str, str, str, int]], list[int]]:
    """Per payout row its fingerprint JSON; the payouts summed per (member, rule, kind) (as
    ``refunds.totals``) with each order's start among them."""
    table = result.payouts
    members = {m: table.member_ids[m] for m in np.unique(table.member).tolist()}
    quoted = {m: encode_basestring_ascii(v) for m, v in members.items()}
    rules = [encode_basestring_ascii(rule) for rule in table.rules]
    kinds = [encode_basestring_ascii(kind) for kind in KINDS]
    columns = [c.tolist() for c in (table.member, table.rule, table.kind, table.generation)]
    amounts = table.amount.tolist()
    rows = [
        f"[{quoted[m]}, {rules[r]}, {kinds[k]}, {g}, {a}]"
        for m, r, k, g, a in zip(*columns, amounts, strict=True)
    ]
    per_order = np.bincount(table.order, minlength=count)[result.orders.order]
    starts = np.concatenate([[0], np.cumsum(per_order)]).tolist()
    summed = [
        (members[m], table.rules[r], KINDS[k], a)
        for m, r, k, a in zip(columns[0], columns[1], columns[2], amounts, strict=True)
    ]
    if _has_repeats(table):
        return rows, *_summed(summed, starts)
    return rows, summed, starts


def _has_repeats(table: Any) -> bool:
    """Whether some order pays one (member, rule, kind) in two rows (rare: then summed)."""
    if len(table) < 2:
        return False
    keys = np.stack([table.order, table.member, table.rule, table.kind])
    ordered = keys[:, np.lexsort(keys[::-1])]
    return bool((ordered[:, 1:] == ordered[:, :-1]).all(axis=0).any())


def _summed(
    rows: list[tuple[str, str, str, int]], starts: list[int]
) -> tuple[list[tuple[str, str, str, int]], list[int]]:
    summed: list[tuple[str, str, str, int]] = []
    new_starts = [0]
    for i in range(len(starts) - 1):
        paid: dict[tuple[str, str, str], int] = {}
        for member, rule, kind, amount in rows[starts[i] : starts[i + 1]]:
            paid[(member, rule, kind)] = paid.get((member, rule, kind), 0) + amount
        summed += [(*key, amount) for key, amount in paid.items()]
        new_starts.append(len(summed))
    return summed, new_starts
