"""What-if analysis: settle the same orders under several policies and compare who gets what.

``compare({"current": a, "proposal": b}, tree, orders)`` settles every order under each
policy with the batch engine (no Python object per payout) and returns a ``Comparison``
of pandas DataFrames: ``totals``, ``by_member``, ``by_tier``, ``by_rule`` and
``distribution``. Money columns are int fen, exact; ``in_yuan`` formats them for people.
The first policy is the baseline: every ``delta_<label>`` column is that policy minus it.

Needs the ``notebook`` extra (pandas, matplotlib): ``pip install 'tuishou[notebook]'``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tuishou.bindings import Bindings
from tuishou.engine.batch import settle_batch
from tuishou.engine.bulk import exact_sum
from tuishou.engine.columns import LineColumns, read_lines
from tuishou.errors import ArgumentTypeError, InvalidArgumentError
from tuishou.members.arrays import TreeArrays
from tuishou.money import yuan
from tuishou.orders import Order, order_columns
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy, replace
from tuishou.tree import InviteTree

__all__ = ["Comparison", "compare", "in_yuan", "replace"]

IntArray = npt.NDArray[np.int64]
FEN_COLUMNS = "fen_columns"  # DataFrame.attrs key naming the int-fen columns of a table
MEMBER_COLUMNS = ("member_id", "tier", "depth", "team_size")
TOP_SHARES = {"top_1pct_share": 0.01, "top_10pct_share": 0.10}


@dataclass(frozen=True, eq=False)
class Comparison:
    """What each policy pays out for the same orders; every attribute is a pandas DataFrame.

    - ``totals``: per policy GMV, pool, paid, retained (fen), payout_ratio (paid / GMV) and
      members_paid;
    - ``by_member``: one row per member of the tree (id, tier, depth, team size), the fen
      paid under each policy and ``delta_<label>`` against the baseline;
    - ``by_tier`` / ``by_rule``: paid under each policy (by the member's current tier, by
      rule name) and the deltas;
    - ``distribution``: per policy the share of all payouts earned by the top 1% and 10% of
      members, and the Gini coefficient of member income (0: equal, 1: one member gets all),
      over every member of the tree, earners or not.

    Ratios are floats (NaN when nothing was sold or paid); money stays int fen.
    """

    labels: tuple[str, ...]
    totals: Any
    by_member: Any
    by_tier: Any
    by_rule: Any
    distribution: Any

    @property
    def baseline(self) -> str:
        """The label every delta is measured from: the first policy given."""
        return self.labels[0]

    def plot(self) -> Any:
        """A matplotlib Figure: how payouts spread over members, and paid by tier, per policy."""
        from tuishou.analysis.report import plot_comparison

        return plot_comparison(self)

    def to_html(self) -> str:
        """A self-contained HTML report: the tables in yuan and the figure as an inline image."""
        from tuishou.analysis.report import html_report

        return html_report(self)


def compare(
    policies: Mapping[str, Policy | PolicyVersions],
    tree: InviteTree,
    orders: Any,
    *,
    bindings: Bindings | None = None,
) -> Comparison:
    """Settle ``orders`` under each policy of ``policies`` (label → Policy) and compare
    (every policy with the same customer ``bindings``, when given).

    A side may be ``PolicyVersions``: each order is then settled under the version in force
    at its ``paid_at`` (the orders need ``paid_at`` when it has two versions or more).

    ``orders`` is what ``settle_batch`` reads (a dict of columns, a pandas DataFrame or a
    pyarrow Table, one row per line) or a list of ``Order``.

    >>> from tuishou import InviteTree, Order, OrderLine
    >>> from tuishou.examples import example_policy
    >>> tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    >>> orders = [Order(order_id="o1", sharer_id="A",
    ...                 lines=[OrderLine(sku="s", group="g", amount=10000)])]
    >>> current = example_policy()
    >>> richer = replace(current, rules=[{"kind": "seller", "rates": {"m": "0.6"}}])
    >>> result = compare({"current": current, "richer": richer}, tree, orders)
    >>> result.totals[["gmv", "pool", "paid", "retained"]].to_dict("index")["richer"]
    {'gmv': 10000, 'pool': 1000, 'paid': 600, 'retained': 400}
    >>> result.by_member[["member_id", "current", "richer", "delta_richer"]].values.tolist()
    [['A', 500, 600, 100]]
    """
    labels = _check_arguments(policies, tree)
    pd = _pandas()
    lines = read_lines(_columns(orders))
    arrays = tree.arrays()
    tiers = _tier_order(arrays, _latest(policies[labels[0]]))
    gmv = exact_sum(lines.amount)
    outcomes = {
        label: _Outcome.of(policies[label], tree, lines, arrays, bindings) for label in labels
    }
    return Comparison(
        labels=labels,
        totals=_totals(pd, outcomes, gmv),
        by_member=_by_member(pd, outcomes, arrays, tiers),
        by_tier=_by_tier(pd, outcomes, arrays, tiers),
        by_rule=_by_rule(pd, outcomes),
        distribution=_distribution(pd, outcomes),
    )


def in_yuan(frame: Any, columns: list[str] | None = None) -> Any:
    """A copy of a ``Comparison`` table with its fen columns shown as yuan text (for people).

    ``columns`` defaults to the table's own fen columns (``frame.attrs["fen_columns"]``).

    >>> import pandas as pd
    >>> in_yuan(pd.DataFrame({"paid": [123456], "members": [3]}), ["paid"]).values.tolist()
    [['¥1,234.56', 3]]
    """
    chosen = columns if columns is not None else frame.attrs.get(FEN_COLUMNS)
    if chosen is None:
        raise InvalidArgumentError(
            "in_yuan(): this table does not say which columns are fen; pass columns=[...]"
        )
    shown = frame.copy()
    for name in chosen:
        if name not in shown.columns:
            raise InvalidArgumentError(
                f"in_yuan(): no column {name!r}; the columns are {list(shown.columns)}"
            )
        shown[name] = [yuan(int(value)) for value in shown[name]]
    return shown


@dataclass(frozen=True)
class _Outcome:
    """One policy's settlement boiled down: what the comparison tables are built from."""

    pool: int
    paid: int
    income: IntArray  # fen per member, in tree.arrays() order
    by_rule: dict[str, int]

    @classmethod
    def of(
        cls,
        policy: Policy | PolicyVersions,
        tree: InviteTree,
        lines: LineColumns,
        arrays: TreeArrays,
        bindings: Bindings | None = None,
    ) -> _Outcome:
        result = settle_batch(policy, tree, lines, bindings=bindings)
        payouts = result.payouts
        per_rule = _sum_by(payouts.rule, payouts.amount, len(payouts.rules))
        return cls(
            pool=exact_sum(result.orders.pool),
            paid=exact_sum(payouts.amount),
            income=_sum_by(payouts.member, payouts.amount, arrays.size),
            by_rule=dict(zip(payouts.rules, per_rule.tolist(), strict=True)),
        )


def _latest(policy: Policy | PolicyVersions) -> Policy:
    """The policy whose tiers order the tables: the latest version's (all list the same)."""
    return policy.versions[-1].policy if isinstance(policy, PolicyVersions) else policy


def _check_arguments(
    policies: Mapping[str, Policy | PolicyVersions], tree: InviteTree
) -> tuple[str, ...]:
    if not isinstance(policies, Mapping):
        raise ArgumentTypeError(
            "compare(policies, tree, orders): policies maps a label to a Policy, e.g. "
            '{"current": policy, "proposal": replace(policy, ...)}'
        )
    if not policies:
        raise InvalidArgumentError("compare(): give at least one policy")
    if not isinstance(tree, InviteTree):
        raise ArgumentTypeError(f"compare(): tree is a {type(tree).__name__}, not an InviteTree")
    for label, policy in policies.items():
        if not isinstance(label, str) or not label:
            raise ArgumentTypeError(f"compare(): label {label!r} must be a non-empty str")
        if not isinstance(policy, Policy | PolicyVersions):
            raise ArgumentTypeError(
                f"compare(): policies[{label!r}] is a {type(policy).__name__}, not a Policy "
                "(or PolicyVersions)"
            )
        if label in MEMBER_COLUMNS or label.startswith("delta_"):
            raise InvalidArgumentError(
                f"compare(): label {label!r} would clash with a by_member column; rename it"
            )
    return tuple(policies)


def _columns(orders: Any) -> Any:
    """Order objects become line columns; columnar input passes through to ``read_lines``."""
    if not isinstance(orders, list | tuple):
        return orders
    strays = [type(o).__name__ for o in orders if not isinstance(o, Order)]
    if strays:
        raise ArgumentTypeError(
            f"compare(): orders is a list holding {strays[0]} items; pass Order objects or "
            "columns (a dict of lists, a pandas DataFrame or a pyarrow Table)"
        )
    return order_columns(orders)


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - the notebook extra is installed in the tests
        raise ImportError(
            "tuishou.analysis.compare needs pandas: pip install 'tuishou[notebook]'"
        ) from None
    return pd


def _sum_by(codes: IntArray, values: IntArray, size: int) -> IntArray:
    """Exact per-code sums of non-negative fen. Payouts total less than 2**63 fen (settle_batch
    refuses a batch whose amounts reach it), so int64 sums never wrap."""
    if exact_sum(values) < 2**53:  # every partial sum is an exactly representable float
        return np.bincount(codes, weights=values.astype(np.float64), minlength=size).astype(
            np.int64
        )
    sums = np.zeros(size, dtype=np.int64)
    np.add.at(sums, codes, values)
    return sums


def _with_deltas(columns: dict[str, Any], outcomes: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``delta_<label>`` = label − baseline for every label after the first."""
    labels = list(outcomes)
    base = columns[labels[0]]
    return {**columns, **{f"delta_{label}": columns[label] - base for label in labels[1:]}}


def _fen_columns(labels: Mapping[str, Any]) -> list[str]:
    names = list(labels)
    return names + [f"delta_{label}" for label in names[1:]]


def _totals(pd: Any, outcomes: Mapping[str, _Outcome], gmv: int) -> Any:
    rows = {
        label: {
            "gmv": gmv,
            "pool": o.pool,
            "paid": o.paid,
            "retained": o.pool - o.paid,
            "payout_ratio": o.paid / gmv if gmv else math.nan,
            "members_paid": int(np.count_nonzero(o.income)),
        }
        for label, o in outcomes.items()
    }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "policy"
    frame.attrs[FEN_COLUMNS] = ["gmv", "pool", "paid", "retained"]
    return frame


def _tier_order(arrays: TreeArrays, baseline: Policy) -> list[str]:
    """The tree's tiers, lowest first as the baseline policy lists them (else as the tree)."""
    names = arrays.tier_names
    if set(names) <= set(baseline.tiers):
        return [tier for tier in baseline.tiers if tier in names]
    return list(names)


def _by_member(
    pd: Any, outcomes: Mapping[str, _Outcome], arrays: TreeArrays, tiers: list[str]
) -> Any:
    columns = {
        "member_id": arrays.ids,
        "tier": pd.Categorical.from_codes(
            arrays.tier, categories=list(arrays.tier_names)
        ).reorder_categories(tiers, ordered=True),
        "depth": arrays.depth(),
        "team_size": arrays.team_sizes(),
    }
    paid = _with_deltas({label: o.income for label, o in outcomes.items()}, outcomes)
    frame = pd.DataFrame({**columns, **paid})
    frame.attrs[FEN_COLUMNS] = _fen_columns(outcomes)
    return frame


def _by_tier(
    pd: Any, outcomes: Mapping[str, _Outcome], arrays: TreeArrays, tiers: list[str]
) -> Any:
    count = len(arrays.tier_names)
    paid = {label: _sum_by(arrays.tier, o.income, count) for label, o in outcomes.items()}
    members = np.bincount(arrays.tier, minlength=count)
    frame = pd.DataFrame(
        {"members": members, **_with_deltas(paid, outcomes)},
        index=pd.Index(list(arrays.tier_names), name="tier"),
    ).loc[tiers]
    frame.attrs[FEN_COLUMNS] = _fen_columns(outcomes)
    return frame


def _by_rule(pd: Any, outcomes: Mapping[str, _Outcome]) -> Any:
    rules = list(dict.fromkeys(name for o in outcomes.values() for name in o.by_rule))
    paid = {
        label: np.array([o.by_rule.get(rule, 0) for rule in rules], dtype=np.int64)
        for label, o in outcomes.items()
    }
    frame = pd.DataFrame(_with_deltas(paid, outcomes), index=pd.Index(rules, name="rule"))
    frame.attrs[FEN_COLUMNS] = _fen_columns(outcomes)
    return frame


def _distribution(pd: Any, outcomes: Mapping[str, _Outcome]) -> Any:
    rows = {label: _inequality(o.income) for label, o in outcomes.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "policy"
    return frame


def _inequality(income: IntArray) -> dict[str, float]:
    """Top-share and Gini statistics of member income (floats: ratios, not money)."""
    count, total = len(income), exact_sum(income)
    if not count or not total:
        return dict.fromkeys([*TOP_SHARES, "gini"], math.nan)
    ascending = np.sort(income)
    stats = {
        name: exact_sum(ascending[count - max(1, math.ceil(count * share)) :]) / total
        for name, share in TOP_SHARES.items()
    }
    # Gini = 2·Σ i·x_i / (n·Σx) − (n + 1)/n over incomes sorted ascending, i = 1..n.
    weighted = float(
        np.dot(np.arange(1, count + 1, dtype=np.float64), ascending.astype(np.float64))
    )
    stats["gini"] = 2 * weighted / (count * total) - (count + 1) / count
    return stats
