"""Policy versions in the batch engine: orders grouped by the version in force when paid.

With :class:`tuishou.PolicyVersions`, every order is settled under the version in force at
its ``paid_at`` (the latest ``effective_from`` at or before it). :func:`split` finds each
order's version with one ``numpy.searchsorted`` on UTC microseconds and cuts the checked
lines into one group per version used; the caller settles each group with its policy and
:func:`merge` puts the results back together, in input order, with each order's version.

Refused, every order named at once (``InvalidOrderError``): an order without ``paid_at``
(column missing or cell empty) when there are two versions or more, and one paid before the
first version. With a single version, an order without ``paid_at`` takes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from tuishou.engine.bulk import first_rows
from tuishou.engine.columns import Encoded, LineColumns
from tuishou.engine.line_checks import plain, rows_where
from tuishou.engine.paid_at import NO_TIME, micros, per_order
from tuishou.engine.tables import BatchResult, OrderTable, PayoutTable
from tuishou.errors import InvalidOrderError, UnknownGroupError, did_you_mean
from tuishou.policy_versions import PolicyVersion, PolicyVersions
from tuishou.rules import Policy

__all__ = ["Group", "merge", "split"]

IntArray = npt.NDArray[np.int64]
_SHOWN = 20  # refused orders spelled out
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class Group:
    """The lines of the orders settled under one version: ``orders[i]`` is the input's code
    of the group's order ``i`` (None: the group is the whole input, codes unchanged)."""

    version: int
    policy: Policy
    lines: LineColumns
    orders: IntArray | None


def split(
    versions: PolicyVersions,
    lines: LineColumns,
    check: Callable[[LineColumns, Policy], None] = lambda lines, policy: None,
) -> list[Group]:
    """One group per version some order falls in, by version; every refusal at once.

    When the orders fall in several versions, ``check(lines, policy)`` runs the engine's
    checks on the whole input first, and every group's SKU groups are checked against its
    version's policy here: a problem found while settling one group would name that group's
    rows, not the input's.

    >>> from tuishou.engine.columns import read_lines
    >>> from tuishou.examples import example_policy
    >>> policy = example_policy()
    >>> versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), policy),
    ...                              (datetime(2026, 12, 1, tzinfo=UTC), policy))
    >>> lines = read_lines({"order_id": ["o1", "o2"], "sku": ["s", "s"], "group": ["g", "g"],
    ...     "amount": [1, 2], "paid_at": [datetime(2026, 12, 5, tzinfo=UTC),
    ...                                   datetime(2026, 11, 5, tzinfo=UTC)]})
    >>> [(g.version, g.orders.tolist()) for g in split(versions, lines)]
    [(0, [1]), (1, [0])]
    """
    index = _version_index(versions, lines)
    used = np.unique(index)
    if len(used) <= 1:  # the usual batch: every order in one version, nothing to cut
        version = int(used[0]) if len(used) else 0
        return [Group(version, versions.versions[version].policy, lines, None)]
    check(lines, versions.versions[0].policy)
    groups = []
    for version in used.tolist():
        in_group = index == version
        rows = np.flatnonzero(in_group[lines.order.codes])
        _check_groups(versions.versions[version], lines, rows)
        groups.append(
            Group(
                version,
                versions.versions[version].policy,
                _take(lines, rows),
                np.flatnonzero(in_group),
            )
        )
    return groups


def _check_groups(version: PolicyVersion, lines: LineColumns, rows: IntArray) -> None:
    """Every SKU group of these ``rows`` has a pool rate in the version's policy."""
    rates = version.policy.group_rates
    used = np.unique(lines.group.codes[rows])
    unknown = [int(code) for code in used.tolist() if lines.group.values[code] not in rates]
    if not unknown:
        return
    name = lines.group.values[unknown[0]]
    where = np.zeros(lines.size, dtype=bool)
    where[rows] = True
    where &= lines.group.codes == unknown[0]
    raise UnknownGroupError(
        f"column 'group' holds {name!r} in {rows_where(where)}, which has no pool rate in "
        f"policy {version.policy.name!r} ({version.describe()}, in force when those orders "
        f"were paid); {did_you_mean(name, rates)}"
    )


def _version_index(versions: PolicyVersions, lines: LineColumns) -> IntArray:
    """Each order's version (by order code); orders without one refused, named."""
    codes, ids = lines.order.codes, lines.order.values
    count = len(ids)
    first, _ = first_rows(codes, count)
    if lines.paid_at is None:
        paid = np.full(count, NO_TIME, dtype=np.int64)
    else:
        paid = per_order(lines.paid_at, codes, first, ids)
    starts = np.array([micros(start) for start in versions.starts], dtype=np.int64)
    index: IntArray = np.searchsorted(starts, paid, side="right") - 1
    missing = paid == NO_TIME
    if len(starts) == 1:
        index[missing] = 0
    refused = np.flatnonzero(index < 0)  # before the first version, or no paid_at
    if len(refused):
        refused = refused[np.argsort(first[refused], kind="stable")]  # in input order
        problems = [
            versions.order_problem(plain(ids[code]), _time(int(paid[code]))) or ""
            for code in refused[:_SHOWN].tolist()
        ]
        if len(refused) > _SHOWN:
            problems.append(f"... and {len(refused) - _SHOWN} more order(s) like these")
        raise InvalidOrderError.from_problems("orders without a policy version", problems)
    return index


def _time(value: int) -> datetime | None:
    return None if value == NO_TIME else _EPOCH + timedelta(microseconds=value)


def _take(lines: LineColumns, rows: IntArray) -> LineColumns:
    """The lines at ``rows``, each text column keeping only the values they use."""
    return LineColumns(
        _used(lines.order, rows),
        _used(lines.buyer, rows),
        _used(lines.sharer, rows),
        _used(lines.sku, rows),
        _used(lines.group, rows),
        lines.amount[rows],
        lines.quantity[rows],
        None if lines.paid_at is None else lines.paid_at[rows],
        coupon=None if lines.coupon is None else lines.coupon[rows],
        coupon_eligible=None if lines.coupon_eligible is None else lines.coupon_eligible[rows],
    )


def _used(column: Encoded, rows: IntArray) -> Encoded:
    """``column`` at ``rows``, renumbered to the values used there (in their old order): a
    group's unused group or SKU must not be checked against its policy."""
    codes = column.codes[rows]
    size = len(column.values)
    used = np.zeros(size + 1, dtype=bool)
    used[codes] = True  # code -1 marks the extra last slot, dropped below
    used = used[:size]
    renumber = np.append(np.where(used, np.cumsum(used) - 1, -1), -1).astype(np.int32)
    kept = np.flatnonzero(used)
    values = column.values
    if isinstance(values, np.ndarray):
        return Encoded(renumber[codes], values[kept])
    return Encoded(renumber[codes], [values[i] for i in kept.tolist()])


def merge(
    versions: PolicyVersions, lines: LineColumns, parts: list[tuple[Group, BatchResult]]
) -> BatchResult:
    """The groups' results as one, in input order, with each order's version.

    Payout rows come order by order as ``settle_batch`` gives them (first appearance), each
    order's rows in its own group's payout order; rules of every version are named.
    """
    names = tuple(versions.names)
    if len(parts) == 1 and parts[0][0].orders is None:
        group, result = parts[0]
        version = np.full(len(result.orders), group.version, dtype=np.int64)
        return BatchResult(result.payouts, replace(result.orders, version=version, versions=names))
    rules = tuple(dict.fromkeys(name for _, r in parts for name in r.payouts.rules))
    first, _ = first_rows(lines.order.codes, len(lines.order.values))
    payouts = [_payouts(group, result, rules) for group, result in parts]
    orders = [_orders(group, result) for group, result in parts]
    payout_columns = [np.concatenate(c) for c in zip(*payouts, strict=True)]
    order_columns = [np.concatenate(c) for c in zip(*orders, strict=True)]
    by_payout = np.argsort(first[payout_columns[0]], kind="stable")
    by_order = np.argsort(first[order_columns[0]], kind="stable")
    order, member, rule, kind, generation, amount = (c[by_payout] for c in payout_columns)
    template = parts[0][1]
    member_ids = template.payouts.member_ids
    payout_table = PayoutTable(
        order, member, rule, kind, generation, amount, lines.order.values, member_ids, rules
    )
    code, seller, pool, paid, retained, version = (c[by_order] for c in order_columns)
    order_table = OrderTable(
        code, seller, pool, paid, retained, lines.order.values, member_ids, version, names
    )
    return BatchResult(payout_table, order_table)


def _payouts(group: Group, result: BatchResult, rules: tuple[str, ...]) -> list[IntArray]:
    table = result.payouts
    assert group.orders is not None  # several groups: each a part of the input
    rule_map = np.array([rules.index(name) for name in table.rules], dtype=np.int64)
    return [
        group.orders[table.order],
        table.member,
        rule_map[table.rule] if len(rule_map) else table.rule,
        table.kind,
        table.generation,
        table.amount,
    ]


def _orders(group: Group, result: BatchResult) -> list[IntArray]:
    table = result.orders
    assert group.orders is not None
    version = np.full(len(table), group.version, dtype=np.int64)
    return [
        group.orders[table.order],
        table.seller,
        table.pool,
        table.paid,
        table.retained,
        version,
    ]
