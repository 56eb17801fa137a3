"""The batch engine: ``settle_batch`` settles millions of order lines with numpy, exactly.

It computes what :func:`tuishou.settle` computes, order for order and fen for fen, in four
vectorised steps:

1. **sellers**: every order's seller, from the sharer and buyer columns (domain.md §3);
2. **schedules**: for every distinct seller, its chain (generation by generation, with
   compression's jump to the next active upline) and each rule's share per *slot*, a
   (generation, rule, kind) in the payout order of domain.md §6. Work here depends on the
   number of sellers, not of orders, and never on the depth of the tree;
3. **pools**: each line's pool in units of 1/10 000 fen (int64);
4. **allocation**: every (order or line) × slot amount split into whole fen and a remainder
   without overflow (see ``_split``), then largest remainder or floor, in chunks.

Orders whose amounts could overflow 64-bit arithmetic (more than ``SAFE_ORDER_AMOUNT`` fen in
one order) are settled by the reference path instead: detected, never wrapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from .arrays import TreeArrays
from .batch import KINDS, BatchResult, OrderTable, PayoutTable
from .columns import LineColumns, read_lines, rows_where
from .errors import (
    ArgumentTypeError,
    InvalidOrderError,
    UnknownGroupError,
    UnknownMemberError,
    UnknownTierError,
    did_you_mean,
)
from .money import RATE_SCALE
from .orders import Order, OrderLine
from .rules import DifferentialRule, LayersRule, Policy, SellerRule
from .settlement import settle
from .tree import InviteTree

__all__ = ["SAFE_ORDER_AMOUNT", "settle_batch"]

IntArray = npt.NDArray[np.int64]
SAFE_ORDER_AMOUNT = 9 * 10**14  # fen per order; beyond it, pool × share could pass 2**63
_CHUNK = 1 << 20  # allocation rows at a time: bounds the temporary arrays



def settle_batch(policy: Policy, tree: InviteTree, orders: Any) -> BatchResult:
    """Settle order lines given as columns; the result equals :func:`settle`, row for row.

    ``orders`` is a dict of arrays, a pandas DataFrame or a pyarrow Table with one row per
    order line (``order_id``, ``buyer_id``, ``sharer_id``, ``sku``, ``group``, ``amount``,
    ``quantity``); lines of one order share its buyer and sharer.

    >>> from tuishou.settlement import _demo_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> result = settle_batch(_demo_policy(), tree, {
    ...     "order_id": ["o1", "o2"], "sharer_id": ["A", None], "sku": ["s", "s"],
    ...     "group": ["g", "g"], "amount": [10000, 999]})
    >>> result.payouts.rows()
    [('o1', 'A', 'seller', 'seller', 0, 500)]
    >>> result.orders.rows()
    [('o1', 'A', 1000, 500, 500), ('o2', None, 100, 0, 100)]
    """
    if not isinstance(policy, Policy) or not isinstance(tree, InviteTree):
        raise ArgumentTypeError("settle_batch(policy, tree, orders) takes a Policy and an "
                                "InviteTree")
    lines = read_lines(orders)
    arrays = tree.arrays()
    book = _Orders(lines, arrays, policy)
    rate = _line_rates(policy, lines)
    pool4 = lines.amount * rate  # per line, in 1/10 000 fen; amounts were checked below
    too_big = book.too_big(lines)
    schedule = _Schedule(policy, arrays, book.seller)
    payouts, pools = _allocate(policy, book, schedule, lines, pool4, too_big)
    fallback = _reference(policy, tree, lines, book, too_big)
    return _assemble(book, arrays, policy, schedule, payouts, pools, fallback)


class _Orders:
    """Per-order facts: the order of first appearance, the lines' order codes, the seller."""

    def __init__(self, lines: LineColumns, arrays: TreeArrays, policy: Policy) -> None:
        count = len(lines.order.values)
        self.count = count
        self.tree_size = arrays.size  # a seller of tree_size means "no seller"
        codes = lines.order.codes
        # Lines grouped by order with codes counting up (files sorted by order id, the
        # usual case) allow linear-time reductions instead of scattered ones.
        self.grouped = bool(count and codes[0] == 0 and (np.diff(codes) >= 0).all()
                            and codes[-1] == count - 1)
        if self.grouped:
            first = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
        else:
            first = np.full(count, lines.size, dtype=np.int64)
            np.minimum.at(first, codes, np.arange(lines.size))
        self.first_row = first
        self.position = np.argsort(first, kind="stable")  # output order: first appearance
        # Codes already numbered by first appearance need no reordering of the output.
        self.in_input_order = bool((self.position == np.arange(count)).all())
        self.ids = lines.order.values
        buyer = _per_order(lines.buyer.codes, lines, first, "buyer_id")
        sharer = _per_order(lines.sharer.codes, lines, first, "sharer_id")
        self.seller = _sellers(policy, arrays, lines, buyer, sharer, first)

    def too_big(self, lines: LineColumns) -> npt.NDArray[np.bool_]:
        """Orders whose amounts could overflow int64 arithmetic (settled by the reference)."""
        totals = np.bincount(lines.order.codes, weights=lines.amount.astype(np.float64),
                             minlength=self.count)  # float is fine: only compared to a bound
        too_big: npt.NDArray[np.bool_] = totals > SAFE_ORDER_AMOUNT
        return too_big

    def sum_lines(self, lines: LineColumns, values: IntArray) -> IntArray:
        """Exact int64 sums of a line column per order."""
        if self.grouped:
            return np.add.reduceat(values, self.first_row) if len(values) else values
        sums = np.zeros(self.count, dtype=np.int64)
        np.add.at(sums, lines.order.codes, values)
        return sums


def _per_order(codes: npt.NDArray[Any], lines: LineColumns, first: IntArray,
               name: str) -> npt.NDArray[Any]:
    """A column that must be the same on every line of an order, per order."""
    per_order = codes[first]
    differs = per_order[lines.order.codes] != codes
    if differs.any():
        raise InvalidOrderError(f"column {name!r} differs between lines of one order in "
                                f"{rows_where(differs)}; an order has one {name}")
    return per_order


def _member_index(values: Any, codes: npt.NDArray[Any], arrays: TreeArrays) -> IntArray:
    """Tree indices of an encoded member column; -1 for guests and missing values."""
    lookup = np.append(arrays.lookup(values), -1)
    found: IntArray = lookup[codes]  # code -1 takes the appended -1
    return found


def _sellers(policy: Policy, arrays: TreeArrays, lines: LineColumns,
             buyer_codes: npt.NDArray[Any], sharer_codes: npt.NDArray[Any],
             first: IntArray) -> IntArray:
    """domain.md §3 per order; the tree size N means "no seller"."""
    size = arrays.size
    sharer = _member_index(lines.sharer.values, sharer_codes, arrays)
    strangers = (sharer_codes >= 0) & (sharer < 0)
    if strangers.any():
        value = lines.sharer.values[int(sharer_codes[np.flatnonzero(strangers)[0]])]
        hint = did_you_mean(str(value), arrays.index) if size <= 50_000 else "check the id"
        raise UnknownMemberError(
            f"column 'sharer_id' names non-members in {rows_where(strangers[lines.order.codes])}, "
            f"e.g. {value!r}; {hint}")
    buyer = _member_index(lines.buyer.values, buyer_codes, arrays)
    parent = np.append(arrays.parent, size)
    credited = buyer if policy.self_purchase else parent[np.where(buyer >= 0, buyer, size)]
    by_buyer = np.where(buyer >= 0, credited, size)
    return np.where(sharer >= 0, sharer, by_buyer)


def _line_rates(policy: Policy, lines: LineColumns) -> IntArray:
    units = policy.units
    groups = list(lines.group.values)
    unknown = [g for g in groups if g not in units.group]
    if unknown:
        code = groups.index(unknown[0])
        raise UnknownGroupError(
            f"column 'group' holds {unknown[0]!r} in {rows_where(lines.group.codes == code)}, "
            f"which has no pool rate in policy {policy.name!r}; "
            f"{did_you_mean(unknown[0], units.group)}")
    group_rate = np.array([units.group[g] for g in groups], dtype=np.int64)[lines.group.codes]
    if not units.sku:
        return group_rate
    sku_rate = np.array([units.sku.get(s, -1) for s in lines.sku.values] + [-1],
                        dtype=np.int64)[lines.sku.codes]
    return np.where(sku_rate >= 0, sku_rate, group_rate)


class _Schedule:
    """Per distinct seller: the member and the share (1/10 000) of every slot."""

    def __init__(self, policy: Policy, arrays: TreeArrays, seller: IntArray) -> None:
        size = arrays.size
        present = np.zeros(size + 1, dtype=bool)
        present[seller] = True  # a mark per member: O(members + orders), no sorting
        self.sellers = np.flatnonzero(present[:size])
        # Row len(sellers) is all zeros: what anyone who is not a seller (and "no seller",
        # index N) maps to, so orders without a seller need no special case.
        self.row_of = np.full(size + 1, len(self.sellers), dtype=np.int64)
        self.row_of[self.sellers] = np.arange(len(self.sellers))
        chain = _chains(policy, arrays, self.sellers)
        rank = _policy_ranks(policy, arrays, chain)
        active = np.append(arrays.active, False)
        slots: list[tuple[tuple[int, int, int], IntArray, IntArray]] = []
        for position, rule in enumerate(policy.rules):
            for generation, kind, share in _rule_slots(rule, policy, chain, rank):
                paid = np.where(active[chain[generation]], share, 0)
                if paid.any():
                    key = (generation, position, kind == "peer")
                    slots.append((key, chain[generation], paid))
        slots.sort(key=lambda slot: slot[0])
        keys = [key for key, _, _ in slots]
        self.generation_of = np.array([k[0] for k in keys], dtype=np.int32)
        self.rule_of = np.array([k[1] for k in keys], dtype=np.int16)
        self.kind_of = np.array([_kind(policy.rules[k[1]], bool(k[2])) for k in keys],
                                dtype=np.int8)
        rows = len(self.sellers) + 1
        self.member = np.zeros((rows, len(slots)), dtype=np.int32)
        self.share = np.zeros((rows, len(slots)), dtype=np.int64)
        for column, (_, member, share) in enumerate(slots):
            self.member[:-1, column] = member
            self.share[:-1, column] = share

    def rows_for(self, seller: IntArray) -> IntArray:
        """The schedule row of each seller (all of them must be in the schedule)."""
        rows: IntArray = self.row_of[seller]
        return rows


def _kind(rule: SellerRule | LayersRule | DifferentialRule, peer: bool) -> int:
    if isinstance(rule, SellerRule):
        return KINDS.index("seller")
    if isinstance(rule, LayersRule):
        return KINDS.index("layer")
    return KINDS.index("peer" if peer else "differential")


def _chains(policy: Policy, arrays: TreeArrays, sellers: IntArray) -> list[IntArray]:
    """chain[g][i]: the member at generation g above seller i, or N (none)."""
    size = arrays.size
    parent = np.append(arrays.parent, size)
    step = parent
    if policy.compression:  # the next active upline: jump over suspended ones
        nearest = np.where(np.append(arrays.active, True), np.arange(size + 1), parent)
        while True:
            jumped = nearest[nearest]
            if np.array_equal(jumped, nearest):
                break
            nearest = jumped
        step = nearest[parent]
    chain = [sellers]
    for _ in range(policy.max_generation):
        chain.append(step[chain[-1]])
    return chain


def _policy_ranks(policy: Policy, arrays: TreeArrays, chain: list[IntArray]) -> list[IntArray]:
    """Each chain member's rank in the policy's tiers (len(tiers) for "nobody")."""
    ranks = policy.units.tier_rank
    none = len(policy.tiers)
    by_code = np.array([ranks.get(name, -1) for name in arrays.tier_names] + [none],
                       dtype=np.int64)
    tier = np.append(arrays.tier, len(arrays.tier_names))
    result = []
    for links in chain:
        rank = by_code[tier[links]]
        if (rank < 0).any():
            member = int(links[np.flatnonzero(rank < 0)[0]])
            name = arrays.tier_names[int(arrays.tier[member])]
            raise UnknownTierError(
                f"member {arrays.ids[member]!r} has tier {name!r}, which policy "
                f"{policy.name!r} does not list; {did_you_mean(name, policy.tiers)}")
        result.append(rank)
    return result


def _rule_slots(rule: SellerRule | LayersRule | DifferentialRule, policy: Policy,
                chain: list[IntArray], rank: list[IntArray]) -> list[tuple[int, str, IntArray]]:
    """(generation, kind, share per seller) for every slot the rule can pay."""
    tiers = policy.tiers
    if isinstance(rule, SellerRule):
        table = _table([rule.rates.get(t, 0) for t in tiers])
        return [(0, "seller", table[rank[0]])]
    if isinstance(rule, LayersRule):
        slots = []
        for generation in range(1, len(chain)):
            rates = [r[generation - 1] if generation <= len(r) else 0
                     for r in (rule.rates.get(t, ()) for t in tiers)]
            slots.append((generation, "layer", _table(rates)[rank[generation]]))
        return slots
    return _differential(rule, policy, rank)


def _differential(rule: DifferentialRule, policy: Policy,
                  rank: list[IntArray]) -> list[tuple[int, str, IntArray]]:
    table = _table([rule.rates.get(t, 0) for t in policy.tiers])
    peer_rate = int(rule.peer_rate.scaleb(4))
    sellers = len(rank[0])
    paid = np.zeros(sellers, dtype=np.int64)
    top = np.full(sellers, -1, dtype=np.int64)
    peers = np.zeros(sellers, dtype=np.int64)
    nobody = len(policy.tiers)
    slots = []
    for generation in range(0 if rule.include_seller else 1, len(rank)):
        tier = rank[generation]
        rate = table[tier]
        raise_ = rate > paid
        peer = (~raise_ & (generation >= 1) & (tier == top) & (tier != nobody)
                & (peers < rule.peer_max))
        slots.append((generation, "differential", np.where(raise_, rate - paid, 0)))
        slots.append((generation, "peer", np.where(peer, peer_rate, 0)))
        peers += peer
        paid = np.where(raise_, rate, paid)
        top = np.where(raise_, tier, top)
    return slots


def _table(rates: list[Any]) -> IntArray:
    """Rates by policy tier rank as basis points, with 0 appended for "nobody"."""
    return np.array([int(r * RATE_SCALE) for r in rates] + [0], dtype=np.int64)


def _allocate(policy: Policy, book: _Orders, schedule: _Schedule, lines: LineColumns,
              pool4: IntArray, too_big: npt.NDArray[np.bool_]) -> tuple[_Rows, IntArray]:
    """Every payout of the safe orders as rows, and every order's pool."""
    mode = policy.rounding
    safe_pool4 = np.where(too_big[lines.order.codes], 0, pool4)
    del pool4
    if policy.rounding_scope == "order":
        order_pool4 = book.sum_lines(lines, safe_pool4)
        pools = _round(*_split(order_pool4, np.int64(1)), mode)
        owners = np.flatnonzero(book.seller < book.tree_size)
        rows = _Rows.collect(schedule, (
            (owners[part], book.seller[owners[part]],
             _split_and_round(order_pool4[owners[part]], schedule, book.seller[owners[part]],
                              mode))
            for part in _chunks(len(owners))))
        return rows, pools
    pools = book.sum_lines(lines, _round(*_split(safe_pool4, np.int64(1)), mode))
    return _Rows.collect(schedule, _per_line(book, schedule, lines, safe_pool4, mode)), pools


def _per_line(book: _Orders, schedule: _Schedule, lines: LineColumns, pool4: IntArray,
              mode: str) -> Iterable[tuple[IntArray, IntArray, IntArray]]:
    """Round each line, then sum per order: chunks of whole orders, lines sorted by order."""
    codes = lines.order.codes
    by_order = None if book.grouped else np.argsort(codes, kind="stable")
    sorted_codes = codes if by_order is None else codes[by_order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_codes[1:] != sorted_codes[:-1]]))
    bounds = np.append(starts, len(codes))
    for part in _chunks(book.count):
        first, last = part.start, min(part.stop, book.count)
        span = np.arange(bounds[first], bounds[last])
        line_ids = span if by_order is None else by_order[span]
        owner = codes[line_ids]
        amounts = _split_and_round(pool4[line_ids], schedule, book.seller[owner], mode)
        per_order = np.add.reduceat(amounts, bounds[first:last] - bounds[first], axis=0)
        yield np.arange(first, last), book.seller[first:last], per_order


def _chunks(size: int) -> list[slice]:
    return [slice(start, start + _CHUNK) for start in range(0, size, _CHUNK)]


def _split_and_round(pool4: IntArray, schedule: _Schedule, seller: IntArray,
                     mode: str) -> IntArray:
    """Amounts (rows × slots) for pools ``pool4`` split by each row's seller schedule."""
    share = schedule.share[schedule.rows_for(seller)]
    if mode == "floor":
        return _floor_share(pool4, share)
    whole, rest = _split(pool4[:, None], share)
    missing = _round(*_split(pool4, share.sum(axis=1)), mode) - whole.sum(axis=1)
    order = np.argsort(-rest, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(share.shape[1])[None, :], axis=1)
    amounts: IntArray = whole + (ranks < missing[:, None])
    return amounts


def _split(pool4: IntArray, share: IntArray | np.int64) -> tuple[IntArray, IntArray]:
    """``pool4 × share`` (1/10^8 fen) as (whole fen, remainder in 1/10^8 fen), exactly.

    ``share`` 1 splits a pool in 1/10 000 fen the same way. The product fits int64 while
    pool4 ≤ 9.2·10^14 (an order of 920 million yuan); above that, pool4 = q·10^4 + r and
    pool4·share = (q·share)·10^4 + r·share keeps every step in range for orders up to
    SAFE_ORDER_AMOUNT fen.
    """
    scale = np.int64(RATE_SCALE * RATE_SCALE)
    if share is np.int64(1) or (isinstance(share, np.integer) and share == 1):
        whole, rest = np.divmod(pool4, RATE_SCALE)
        return whole, rest * RATE_SCALE
    if not len(pool4) or int(pool4.max()) <= _DIRECT_LIMIT:
        return np.divmod(pool4 * share, scale)
    q, r = np.divmod(pool4, RATE_SCALE)
    a_high, a_low = np.divmod(q * share, RATE_SCALE)
    carry, rest = np.divmod(a_low * RATE_SCALE + r * share, scale)  # the sum is < 2·10^8
    return a_high + carry, rest


def _floor_share(pool4: IntArray, share: IntArray) -> IntArray:
    """Whole fen of ``pool4 × share / 10^8`` per row and slot (floor rounding's only need)."""
    if len(pool4) and int(pool4.max()) > _DIRECT_LIMIT:
        return _split(pool4[:, None], share)[0]
    floors: IntArray = (pool4[:, None] * share) // (RATE_SCALE * RATE_SCALE)
    return floors


_DIRECT_LIMIT = (2**63 - 1) // RATE_SCALE  # pool4 × share (≤ 10^4) cannot overflow below it


def _round(whole: IntArray, rest: IntArray, mode: str) -> IntArray:
    """Round (whole + rest/10^8) by the policy's mode: half to even, or down."""
    if mode == "floor":
        return whole
    half = RATE_SCALE * RATE_SCALE // 2
    up = (rest > half) | ((rest == half) & (whole % 2 == 1))
    rounded: IntArray = whole + up
    return rounded


class _Rows:
    """Payout rows as (order code, member, slot, amount) columns, gathered chunk by chunk."""

    def __init__(self, order: IntArray, member: npt.NDArray[np.int32],
                 slot: npt.NDArray[np.int8], amount: IntArray) -> None:
        self.order, self.member, self.slot, self.amount = order, member, slot, amount

    @classmethod
    def collect(cls, schedule: _Schedule,
                chunks: Iterable[tuple[IntArray, IntArray, IntArray]]) -> _Rows:
        """Rows from (orders, sellers, amounts per slot) chunks: non-zero amounts, slot order."""
        parts = []
        for owners, sellers, amounts in chunks:
            row, slot = np.nonzero(amounts)
            members = schedule.member[schedule.rows_for(sellers[row]), slot]
            parts.append((owners[row], members, slot.astype(np.int8), amounts[row, slot]))
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int8),
                       np.zeros(0, np.int64))
        order, member, slot8, amount = (np.concatenate(c) for c in zip(*parts, strict=True))
        return cls(order, member, slot8, amount)


def _reference(policy: Policy, tree: InviteTree, lines: LineColumns, book: _Orders,
               too_big: npt.NDArray[np.bool_]) -> list[tuple[int, Any]]:
    """Orders too large for int64 arithmetic, settled one by one by the reference path."""
    settled = []
    for code in np.flatnonzero(too_big).tolist():
        rows = np.flatnonzero(lines.order.codes == code)
        first = int(rows[0])
        order = Order(
            order_id=str(book.ids[code]),
            buyer_id=_value(lines.buyer.values, lines.buyer.codes[first]),
            sharer_id=_value(lines.sharer.values, lines.sharer.codes[first]),
            lines=[OrderLine(sku=lines.sku.values[int(lines.sku.codes[r])],
                             group=lines.group.values[int(lines.group.codes[r])],
                             amount=int(lines.amount[r]), quantity=int(lines.quantity[r]))
                   for r in rows.tolist()])
        settled.append((code, settle(policy, tree, order)))
    return settled


def _value(values: Any, code: Any) -> Any:
    return None if int(code) < 0 else values[int(code)]


def _assemble(book: _Orders, arrays: TreeArrays, policy: Policy, schedule: _Schedule,
              rows: _Rows, pools: IntArray, fallback: list[tuple[int, Any]]) -> BatchResult:
    """The engine's rows and the reference's, in order of first appearance, then slot."""
    slot = rows.slot
    columns: list[npt.NDArray[Any]] = [
        rows.order, rows.member, schedule.rule_of[slot], schedule.kind_of[slot],
        schedule.generation_of[slot], rows.amount]
    del rows
    rule_names = tuple(rule.name for rule in policy.rules)
    for code, settled in fallback:
        pools[code] = settled.pool
        extra = [(code, arrays.index[p.member_id], rule_names.index(p.rule), KINDS.index(p.kind),
                  p.generation, p.amount) for p in settled.payouts]
        if extra:
            columns = [np.concatenate([old, np.array(new, dtype=old.dtype)])
                       for old, new in zip(columns, zip(*extra, strict=True), strict=True)]
    if fallback or not book.in_input_order:
        rank = np.empty(book.count, dtype=np.int64)
        rank[book.position] = np.arange(book.count)
        by_order = np.argsort(rank[columns[0]], kind="stable")
        columns = [column[by_order] for column in columns]
    order, member, rule, kind, generation, amount = columns
    payout_table = PayoutTable(
        order=order, member=member, rule=rule, kind=kind, generation=generation, amount=amount,
        order_ids=book.ids, member_ids=arrays.ids, rules=rule_names)
    # Per-order sums stay below 2**53 (SAFE_ORDER_AMOUNT), so a float bincount is exact.
    paid = np.bincount(order, weights=amount.astype(np.float64),
                       minlength=book.count).astype(np.int64)
    for code, settled in fallback:  # their sums may pass 2**53: take them from the reference
        paid[code] = settled.paid
    seller = np.where(book.seller < book.tree_size, book.seller, -1)
    out = book.position
    order_table = OrderTable(order=out, seller=seller[out], pool=pools[out], paid=paid[out],
                             retained=pools[out] - paid[out], order_ids=book.ids,
                             member_ids=arrays.ids)
    return BatchResult(payout_table, order_table)


def _demo_result() -> BatchResult:
    """A one-order batch for doctests."""
    from .settlement import _demo_policy

    tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    return settle_batch(_demo_policy(), tree, {"order_id": ["o1"], "sharer_id": ["A"],
                                               "sku": ["s"], "group": ["g"], "amount": [10000]})
