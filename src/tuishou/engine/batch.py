"""The batch engine: ``settle_batch`` settles millions of order lines with numpy, exactly.

It computes what :func:`tuishou.settle` computes, order for order and fen for fen, in four
vectorised steps:

1. **sellers**: every order's seller, from the sharer and buyer columns (docs/domain.md §6),
   and the customer bindings when given (``tuishou.engine.bindings``: a columnar lookup);
2. **schedules** (``schedule.py``): for every distinct seller, its chain (generation by
   generation, with compression's jump to the next active upline) and each rule's share per
   *slot*, a (generation, rule, kind) in the payout order of docs/domain.md §10. Work here depends
   on the number of sellers, not of orders, and on how deep their chains really go (at most
   ``max_generation``), never on ``max_generation`` itself;
3. **pools**: each line's pool in units of 1/10 000 fen (int64), on what the line paid after
   its order's coupon (spread vectorised: :mod:`tuishou.engine.coupons`);
4. **allocation**: every (order or line) × slot amount rounded to fen as
   :mod:`tuishou.rounding` says (largest remainder or floor, per order or per line), laid
   out in chunks (``bulk``, ``per_line``).

Every value fits int64 exactly: an order is at most ``MAX_ORDER_FEN`` (refused above it when
the columns are read), so a pool × share is at most 10^18 fen·10^-8; and a batch whose
amounts add up to 2^63 fen or more is refused, so no sum across orders (per member, per
order, the batch's totals) can wrap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from tuishou.bindings import Bindings
from tuishou.engine import fixed, versions
from tuishou.engine.bulk import Entries, allocate, chunks, exact_sum
from tuishou.engine.columns import LineColumns, read_lines, rows_where
from tuishou.engine.coupons import paid_amounts
from tuishou.engine.per_line import LineBook, layout, per_line
from tuishou.engine.schedule import Schedule
from tuishou.engine.sellers import OrderBook
from tuishou.engine.tables import BatchResult, MemberTotals, OrderTable, PayoutTable
from tuishou.errors import ArgumentTypeError, InvalidOrderError, UnknownGroupError, did_you_mean
from tuishou.members.arrays import TreeArrays
from tuishou.policy_versions import PolicyVersions
from tuishou.rounding import scope_items, scope_pools
from tuishou.rulebook import pool_rates
from tuishou.rules import Policy
from tuishou.tree import InviteTree

__all__ = ["check_batch", "member_totals", "settle_batch", "text_member_ids"]

IntArray = npt.NDArray[np.int64]
MAX_BATCH_FEN = 2**63 - 1  # the amounts of one batch together: what an int64 total holds


def settle_batch(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    orders: Any,
    *,
    bindings: Bindings | None = None,
) -> BatchResult:
    """Settle order lines given as columns; the result equals :func:`settle`, row for row
    (with ``bindings``, as ``settle(..., bindings=bindings)``).

    ``orders`` is a dict of arrays, a pandas DataFrame or a pyarrow Table with one row per
    order line (``order_id``, ``buyer_id``, ``sharer_id``, ``sku``, ``group``, ``amount``,
    ``quantity``, ``paid_at``, ``coupon``, ``coupon_eligible``); lines of one order share
    its buyer, sharer, paid_at and coupon. Text id columns need not be categoricals: any text
    column is hashed by Arrow compute. ``buyer_id`` and ``sharer_id`` may be int columns: a
    member whose id is ``str(n)`` is found by n, and with a tree built from ints the result's
    member ids are int64 too (docs/concepts.md, "Ids as ints").
    With ``PolicyVersions`` each order is settled under the version in force at its
    ``paid_at`` (:mod:`tuishou.engine.versions`) and ``result.orders`` names it
    (``policy_version``).

    >>> from tuishou.examples import example_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> result = settle_batch(example_policy(), tree, {
    ...     "order_id": ["o1", "o2"], "sharer_id": ["A", None], "sku": ["s", "s"],
    ...     "group": ["g", "g"], "amount": [10000, 999]})
    >>> result.payouts.rows()
    [('o1', 'A', 'seller', 'seller', 0, 500)]
    >>> result.orders.rows()
    [('o1', 'A', 1000, 500, 500), ('o2', None, 100, 0, 100)]
    """
    if isinstance(policy, PolicyVersions):
        _check_types(policy, tree)
        lines = read_lines(orders)
        groups = versions.split(policy, lines, partial(_check_whole, tree, bindings=bindings))
        parts = [(group, _settle(group.policy, tree, group.lines, bindings)) for group in groups]
        return _int_ids_out(versions.merge(policy, lines, parts), lines, tree)
    lines = read_lines(orders)
    return _int_ids_out(_settle(policy, tree, lines, bindings), lines, tree)


def _int_ids_out(result: BatchResult, lines: LineColumns, tree: InviteTree) -> BatchResult:
    """Int buyer / sharer ids in, int64 member ids out, when every member's id is an int's
    canonical text (docs/concepts.md, "Ids as ints"); else the text ids."""
    keys = _member_ints(lines, tree)
    if keys is None:
        return result
    return BatchResult(
        replace(result.payouts, member_ids=keys), replace(result.orders, member_ids=keys)
    )


def text_member_ids(result: BatchResult, tree: InviteTree) -> BatchResult:
    """``result`` with the members' text ids even where int ids came in (e.g. for the ledger,
    which keys members by text: member ``'10086'`` for int 10086)."""
    if not isinstance(result.orders.member_ids, np.ndarray):
        return result
    ids = tree.arrays().ids
    return BatchResult(
        replace(result.payouts, member_ids=ids), replace(result.orders, member_ids=ids)
    )


def _member_ints(lines: LineColumns, tree: InviteTree) -> IntArray | None:
    """The tree's int member ids when the lines' member columns are int, else None."""
    if not any(isinstance(c.values, np.ndarray) for c in (lines.buyer, lines.sharer)):
        return None
    return tree.arrays().member_ints


def _settle(
    policy: Policy, tree: InviteTree, orders: Any, bindings: Bindings | None = None
) -> BatchResult:
    work = _Work(policy, tree, orders, bindings)
    payouts, pools = _allocate(policy, work.book, work.schedule, work.lines, work.pool4)
    slots: Schedule | fixed.SlotTable = work.schedule
    if policy.units.fixed:  # fixed lines (docs/domain.md §17): their rows and pools
        rows = work.fixed_rows()
        merged, slots = fixed.merge(
            (payouts.order, payouts.member, payouts.slot, payouts.amount),
            slots,
            rows,
            len(policy.rules),
        )
        payouts, pools = _Rows(*merged), pools + rows.pools(work.book.count)
    return _assemble(work.book, work.arrays, policy, slots, payouts, pools)


def member_totals(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    orders: Any,
    *,
    bindings: Bindings | None = None,
) -> MemberTotals:
    """What each member earns from all the orders together: ``settle_batch``'s payouts summed
    per member, without building a row per payout (for what-if analysis at scale). With
    ``PolicyVersions``, each order under the version in force at its ``paid_at``; with
    ``bindings``, as ``settle_batch`` takes them.

    >>> from tuishou.examples import example_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> member_totals(example_policy(), tree, {"order_id": ["o1", "o2"], "sharer_id": ["A", "A"],
    ...     "sku": ["s", "s"], "group": ["g", "g"], "amount": [10000, 999]}).rows()
    [('A', 550)]
    """
    if isinstance(policy, PolicyVersions):
        _check_types(policy, tree)
        lines = read_lines(orders)
        totals = np.zeros(tree.arrays().size, dtype=np.int64)  # at most the batch's amounts
        for group in versions.split(policy, lines, partial(_check_whole, tree, bindings=bindings)):
            totals += _totals(group.policy, tree, group.lines, bindings)
    else:
        lines = read_lines(orders)
        totals = _totals(policy, tree, lines, bindings)
    earners = np.flatnonzero(totals)
    keys = _member_ints(lines, tree)
    ids = tree.arrays().ids if keys is None else keys
    return MemberTotals(earners, totals[earners], ids)


def _totals(
    policy: Policy, tree: InviteTree, orders: Any, bindings: Bindings | None = None
) -> IntArray:
    """Fen earned per member (by tree index) under one policy."""
    work = _Work(policy, tree, orders, bindings)
    entries, rounding = work.schedule.entries, policy.rounding
    totals = np.zeros(work.arrays.size, dtype=np.int64)  # each at most the batch's amounts
    scope = policy.rounding_scope
    pool4 = scope_items(work.pool4, partial(work.book.sum_lines, work.lines), scope)
    line_book = _line_book(work.book, work.schedule, work.lines) if scope == "line" else None
    if line_book is not None and layout(line_book, entries, rounding) != "sparse":
        # Per-line floor: the payout rows' layouts (one run per payout, no per-line
        # scatter) then one scatter per row, measured faster than a scatter per line.
        _, member, _, amount = per_line(line_book, entries, pool4, rounding)
        np.add.at(totals, member, amount)
        return _add_fixed(work, totals)
    # Per line, a member's total is the sum over lines: no need to gather lines per order.
    seller = work.book.seller if scope == "order" else work.book.seller[work.lines.order.codes]

    def allocate_part(part: slice) -> tuple[IntArray, IntArray, IntArray]:
        return allocate(pool4[part], work.schedule.rows_for(seller[part]), entries, rounding)

    for _, entry, amount in _in_chunks(allocate_part, len(pool4)):
        np.add.at(totals, entries.member[entry], amount)
    return _add_fixed(work, totals)


def _add_fixed(work: _Work, totals: IntArray) -> IntArray:
    """``totals`` plus what the fixed lines pay each member (docs/domain.md §17)."""
    if work.policy.units.fixed:
        rows = work.fixed_rows()
        np.add.at(totals, rows.member[rows.paid], rows.amount[rows.paid])
    return totals


def _check_whole(
    tree: InviteTree, lines: LineColumns, policy: Policy, bindings: Bindings | None = None
) -> None:
    """The checks that do not depend on the policy's rates (batch total, one buyer and sharer
    per order, sharers and bound members who are members), on all the lines."""
    _check_batch_total(exact_sum(lines.amount), lines.size)
    OrderBook(lines, tree.arrays(), policy, bindings)


def _check_types(policy: object, tree: object) -> None:
    if not isinstance(policy, Policy | PolicyVersions) or not isinstance(tree, InviteTree):
        raise ArgumentTypeError(
            "settle_batch(policy, tree, orders) takes a Policy (or PolicyVersions) and an "
            f"InviteTree, not a {type(policy).__name__} and a {type(tree).__name__}"
        )


class _Work:
    """The inputs every batch computation starts from: checked lines, sellers, schedules."""

    def __init__(
        self, policy: Policy, tree: InviteTree, orders: Any, bindings: Bindings | None = None
    ) -> None:
        _check_types(policy, tree)
        self.lines = read_lines(orders)
        _check_batch_total(exact_sum(self.lines.amount), self.lines.size)
        self.arrays = tree.arrays()
        self.book = OrderBook(self.lines, self.arrays, policy, bindings)
        lines = self.lines  # pools are on what was paid, after each order's coupon (§18)
        paid = paid_amounts(lines.amount, lines.order.codes, lines.coupon, lines.coupon_eligible)
        fixed.check_fixed_amounts(policy, self.lines, paid)
        rates = fixed.line_rates(policy, self.lines, _line_rates(policy, self.lines))
        self.pool4 = paid * rates  # in 1/10 000 fen
        self.schedule = Schedule(policy, self.arrays, self.book.seller)
        self.policy = policy

    def fixed_rows(self) -> fixed.FixedRows:
        """Every fixed share of the fixed lines (docs/domain.md §17)."""
        rows = self.schedule.rows_for(self.book.seller)
        return fixed.fixed_rows(self.policy, self.lines, rows, self.schedule, self.arrays.size)


def _check_batch_total(total: int, size: int) -> None:
    """Refuse a batch whose amounts (``total`` fen over ``size`` lines) pass what an int64
    total holds: every sum the engine makes is at most this one, so none can wrap.

    >>> _check_batch_total(2**63, 10**9)
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidOrderError: the 1000000000 order lines total 9223372036854775808 fen, ...
    """
    if total > MAX_BATCH_FEN:
        raise InvalidOrderError(
            f"the {size} order lines total {total} fen, above the {MAX_BATCH_FEN} fen one "
            "batch can add up exactly; settle them in smaller batches and add the results in "
            "Python"
        )


def _line_rates(policy: Policy, lines: LineColumns) -> IntArray:
    """Each line's pool rate in 1/10 000 (``rulebook.pool_rates``); unknown groups refused."""
    units = policy.units
    groups = list(lines.group.values)
    unknown = [g for g in groups if g not in units.group]
    if unknown:
        code = groups.index(unknown[0])
        raise UnknownGroupError(
            f"column 'group' holds {unknown[0]!r} in {rows_where(lines.group.codes == code)}, "
            f"which has no pool rate in policy {policy.name!r}; "
            f"{did_you_mean(unknown[0], units.group)}"
        )
    return pool_rates(
        units.sku, units.group, lines.sku.values, lines.sku.codes, groups, lines.group.codes
    )


def _allocate(
    policy: Policy, book: OrderBook, schedule: Schedule, lines: LineColumns, pool4: IntArray
) -> tuple[_Rows, IntArray]:
    """Every payout as rows, and every order's pool, rounded as :mod:`tuishou.rounding` says."""
    rounding, scope = policy.rounding, policy.rounding_scope
    entries = schedule.entries
    per_order = partial(book.sum_lines, lines)
    items = scope_items(pool4, per_order, scope)  # each order's pool, or each line's
    pools = scope_pools(items, per_order, rounding, scope)
    if scope == "line":
        line_book = _line_book(book, schedule, lines)
        return _Rows(*per_line(line_book, entries, items, rounding)), pools

    def allocate_part(part: slice) -> tuple[IntArray, IntArray, IntArray]:
        item, entry, amount = allocate(
            items[part], schedule.rows_for(book.seller[part]), entries, rounding
        )
        return item + part.start, entry, amount

    return _Rows.build(entries, _in_chunks(allocate_part, book.count)), pools


def _line_book(book: OrderBook, schedule: Schedule, lines: LineColumns) -> LineBook:
    """What rounding per line needs: each order's schedule row, the lines' order codes, and
    each order's first line when the lines are grouped by order."""
    first = book.first_row if book.grouped else None
    return LineBook(schedule.rows_for(book.seller), lines.order.codes, first)


_T = TypeVar("_T")


def _in_chunks(work: Callable[[slice], _T], size: int) -> list[_T]:
    """``work`` over chunks of ``range(size)``: bounded temporaries. (Threads were measured
    and did not help: the steps are memory-bound.)"""
    return [work(chunk) for chunk in chunks(size)]


class _Rows:
    """Payout rows as (order code, member, slot, amount) columns."""

    def __init__(
        self,
        order: IntArray,
        member: npt.NDArray[np.int32],
        slot: npt.NDArray[np.int32],
        amount: IntArray,
    ) -> None:
        self.order, self.member, self.slot, self.amount = order, member, slot, amount

    @classmethod
    def build(cls, entries: Entries, parts: list[tuple[IntArray, IntArray, IntArray]]) -> _Rows:
        """Rows from (order, entry, amount) parts, keeping the non-zero amounts."""
        if parts:
            order, entry, amount = (np.concatenate(c) for c in zip(*parts, strict=True))
        else:
            order = entry = amount = np.zeros(0, dtype=np.int64)
        paying = amount > 0
        order, entry, amount = order[paying], entry[paying], amount[paying]
        return cls(order, entries.member[entry], entries.slot[entry], amount)


def _assemble(
    book: OrderBook,
    arrays: TreeArrays,
    policy: Policy,
    schedule: Schedule | fixed.SlotTable,
    rows: _Rows,
    pools: IntArray,
) -> BatchResult:
    """The rows in order of first appearance, then slot; the per-order table."""
    slot = rows.slot
    columns: list[npt.NDArray[Any]] = [
        rows.order,
        rows.member,
        schedule.rule_of[slot],
        schedule.kind_of[slot],
        schedule.generation_of[slot],
        rows.amount,
    ]
    del rows
    rule_names = tuple(rule.name for rule in policy.rules)
    if not book.in_input_order:
        rank = np.empty(book.count, dtype=np.int64)
        rank[book.position] = np.arange(book.count)
        by_order = np.argsort(rank[columns[0]], kind="stable")
        columns = [column[by_order] for column in columns]
    order, member, rule, kind, generation, amount = columns
    payout_table = PayoutTable(
        order=order,
        member=member,
        rule=rule,
        kind=kind,
        generation=generation,
        amount=amount,
        order_ids=book.ids,
        member_ids=arrays.ids,
        rules=rule_names,
    )
    # An order pays at most its pool, at most MAX_ORDER_FEN < 2**53: a float bincount is exact.
    paid = np.bincount(order, weights=amount.astype(np.float64), minlength=book.count).astype(
        np.int64
    )
    seller = np.where(book.seller < book.tree_size, book.seller, -1)
    out = book.position
    if not book.in_input_order:  # codes in input order (the usual case) need no reordering
        seller, pools, paid = seller[out], pools[out], paid[out]
    order_table = OrderTable(
        order=out,
        seller=seller,
        pool=pools,
        paid=paid,
        retained=pools - paid,
        order_ids=book.ids,
        member_ids=arrays.ids,
    )
    return BatchResult(payout_table, order_table)


def check_batch(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    orders: Any,
    *,
    bindings: Bindings | None = None,
) -> LineColumns:
    """Every refusal of :func:`settle_batch` on the same input, without settling: the checked
    lines (``engine.columns.LineColumns``). For callers that settle the orders another way
    (``Ledger.post_batch`` order by order) and want the engine's checks, on the whole batch,
    first. Raises what ``settle_batch`` raises (``InvalidOrderError``, ``UnknownMemberError``,
    ``UnknownGroupError``, ``UnknownTierError``, ...).

    >>> from tuishou.examples import example_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> check_batch(example_policy(), tree, {"order_id": ["o1"], "sharer_id": ["A"],
    ...     "sku": ["s"], "group": ["g"], "amount": [10000]}).size
    1
    """
    if isinstance(policy, PolicyVersions):
        _check_types(policy, tree)
        lines = read_lines(orders)
        check = partial(_check_whole, tree, bindings=bindings)
        for group in versions.split(policy, lines, check):
            _Work(group.policy, tree, group.lines, bindings)  # what settle_batch checks per version
        return lines
    return _Work(policy, tree, orders, bindings).lines
