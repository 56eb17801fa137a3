"""Every money path agrees to the fen with ``settle``, on random cases (issue 10, "Tests").

The paths: ``settle`` order by order (each settlement checked by ``check_settlement``:
conservation and every other invariant), ``settle_batch`` (payout rows and order rows),
``member_totals``, ``compare`` (paid per member, per rule and in all, per policy),
``settle_dask`` (two partitions, synchronous scheduler) and ``tuishou settle`` in process
(click's CliRunner over CSV, JSON Lines or Parquet files, reading the payouts it writes).

The cases come from ``tuishou.testing``: trees built from parent indices (so failures shrink
to a few members), about a quarter of the members suspended, policies of every rule kind,
with and without compression, under every rounding mode and scope (each case is settled under
all six), and half the time a chain of up to ``DEEPEST`` members with a ``max_generation``
as deep. Run ``HYPOTHESIS_PROFILE=thorough`` for ten times the examples (see conftest.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tuishou import InviteTree, Order, Policy, Settlement, settle
from tuishou.analysis import compare
from tuishou.engine import member_totals, settle_batch
from tuishou.money import MAX_ORDER_FEN
from tuishou.orders import order_columns
from tuishou.policy_versions import PolicyVersion, PolicyVersions
from tuishou.rules import replace
from tuishou.testing import check_settlement, invite_trees, order_batches, policies

from helpers import examples, ladders, rows_of

pd = pytest.importorskip("pandas")
dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
click_testing = pytest.importorskip("click.testing")

from cli_support import MEMBER_COLUMNS, ORDER_COLUMNS, read_payouts, write_rows  # noqa: E402
from tuishou.cli.app import app  # noqa: E402
from tuishou.engine.dask import settle_dask  # noqa: E402

# Deep enough that three rules pay far more than 2^8 slots per order (the engine once went wrong
# past 128 paying slots: issue 10, item 1), shallow enough to draw and shrink quickly.
DEEPEST = 400
MAX_LINES = 3
LINE_AMOUNT = MAX_ORDER_FEN // MAX_LINES  # every order within the supported amount
MODES = list(itertools.product(("largest_remainder", "floor", "half_up"), ("order", "line")))
Rows = list[tuple[Any, ...]]


class Case(NamedTuple):
    """A policy, a tree and orders over it, with the reference: ``settle`` on each order."""

    policy: Policy
    tree: InviteTree
    orders: list[Order]


@st.composite
def cases(draw: st.DrawFn, *, max_orders: int, deepest: int = 0) -> Case:
    """A case over a tree of up to 10 members and a policy of ``max_generation`` 0 to 4; with
    ``deepest``, half the time the tree starts with a chain of up to ``deepest + 1`` members
    and ``max_generation`` is then as deep as the tree (or anything up to ``deepest``)."""
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=10, max_chain=deepest and deepest + 1))
    depth = min(int(tree.arrays().depth().max()), deepest)
    generations = (
        None if depth <= 4 else st.sampled_from((depth, deepest)) | st.integers(0, deepest)
    )
    policy = draw(policies(tiers=tiers, max_generation=generations))
    batch = draw(
        order_batches(tree, max_size=max_orders, max_lines=MAX_LINES, max_amount=LINE_AMOUNT)
    )
    note(f"tree: {described(tree)}")
    return Case(policy, tree, batch)


def described(tree: InviteTree) -> str:
    """The tree in a line, for a failing example: ``None <- m0 <- ... <- m130`` is a chain."""
    chains: list[list[str]] = []  # runs of members, each invited by the one before
    for member in tree:
        inviter = tree.inviter(member)
        if chains and chains[-1][-1] == inviter:
            chains[-1].append(member)
        else:
            chains.append([str(inviter), member])
    links = [
        " <- ".join(chain if len(chain) <= 4 else [*chain[:2], "...", chain[-1]])
        for chain in chains
    ]
    suspended = [member for member in tree if tree.status(member) == "suspended"]
    return f"{'; '.join(links)}; tiers { ({m: tree.tier(m) for m in tree}) }; suspended {suspended}"


def settled(policy: Policy, tree: InviteTree, order_list: list[Order]) -> tuple[Rows, Rows]:
    """``settle`` on every order, each checked for every invariant, as batch rows."""
    settlements: list[Settlement] = []
    for order in order_list:
        settlements.append(settle(policy, tree, order))
        check_settlement(policy, tree, order, settlements[-1])
    return rows_of(order_list, settlements)


def per_member(payouts: Rows) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in payouts:
        totals[row[1]] = totals.get(row[1], 0) + row[5]
    return totals


def per_rule(payouts: Rows) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in payouts:
        totals[row[2]] = totals.get(row[2], 0) + row[5]
    return totals


def variants(policy: Policy) -> dict[str, Policy]:
    """The policy under every rounding mode and scope, labelled ``mode/scope``."""
    return {
        f"{mode}/{scope}": replace(policy, rounding=mode, rounding_scope=scope)
        for mode, scope in MODES
    }


# ------------------------------------------------------------------ the library's paths


SLOW = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@settings(SLOW, max_examples=examples(120))
@given(cases(max_orders=6))
def test_the_library_agrees_with_settle_under_every_rounding_mode_and_scope(case):
    expected = {
        label: assert_library_agrees(variant, case.tree, case.orders)
        for label, variant in variants(case.policy).items()
    }
    assert_compare_agrees(compare(variants(case.policy), case.tree, case.orders), expected)


@settings(SLOW, max_examples=examples(60))
@given(cases(max_orders=3, deepest=DEEPEST))
def test_the_library_agrees_with_settle_on_deep_chains(case):
    expected = assert_library_agrees(*case)
    assert_compare_agrees(
        compare({"alone": case.policy}, case.tree, case.orders), {"alone": expected}
    )


def assert_library_agrees(
    policy: Policy, tree: InviteTree, order_list: list[Order]
) -> tuple[Rows, Rows]:
    """``settle_batch`` and ``member_totals`` give what ``settle`` gives; returns its rows."""
    columns = order_columns(order_list)
    payouts, per_order = settled(policy, tree, order_list)
    batch = settle_batch(policy, tree, columns)
    assert batch.payouts.rows() == payouts
    assert batch.orders.rows() == per_order
    assert dict(member_totals(policy, tree, columns).rows()) == per_member(payouts)
    return payouts, per_order


def assert_compare_agrees(comparison: Any, expected: dict[str, tuple[Rows, Rows]]) -> None:
    """Each policy's column of ``compare`` gives what ``settle`` paid."""
    for label, (payouts, per_order) in expected.items():
        paid = comparison.by_member.set_index("member_id")[label]
        assert {m: int(v) for m, v in paid.items() if v} == per_member(payouts), label
        rules = comparison.by_rule[label]
        assert {r: int(v) for r, v in rules.items() if v} == {
            r: v for r, v in per_rule(payouts).items() if v
        }, label
        totals = comparison.totals.loc[label]
        assert [int(totals[c]) for c in ("pool", "paid", "retained")] == [
            sum(row[i] for row in per_order) for i in (2, 3, 4)
        ], label


# ----------------------------------------------------- Dask and the command line (slower)


@pytest.mark.parametrize(("mode", "scope"), MODES)
@settings(SLOW, max_examples=examples(8))
@given(
    case=cases(max_orders=24, deepest=DEEPEST),
    suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]),
)
def test_dask_and_the_command_line_agree_with_settle(tmp_path_factory, mode, scope, case, suffix):
    policy = replace(case.policy, rounding=mode, rounding_scope=scope)
    payouts, per_order = settled(policy, case.tree, case.orders)
    assert dask_rows(policy, case.tree, case.orders) == (payouts, per_order)
    folder = tmp_path_factory.mktemp("cli")
    assert command_line_rows(folder, suffix, policy, case.tree, case.orders) == payouts
    assert_compare_agrees(
        compare({"alone": policy}, case.tree, case.orders), {"alone": (payouts, per_order)}
    )


def dask_rows(
    policy: Policy | PolicyVersions, tree: InviteTree, order_list: list[Order]
) -> tuple[Rows, Rows]:
    """``settle_dask`` over two partitions (the first half of the orders, the rest)."""
    lines = pd.DataFrame(order_columns(order_list))
    half = sum(len(order.lines) for order in order_list[: len(order_list) // 2])
    parts = [dd.from_pandas(part, npartitions=1) for part in (lines[:half], lines[half:])]
    with dask.config.set(scheduler="synchronous"):
        result = settle_dask(policy, tree, dd.concat(parts))
        payouts, orders = result.payouts.compute(), result.orders.compute()
    orders = orders.astype(object).where(orders.notna(), None)  # dask's strings use NA
    return (
        list(payouts.itertuples(index=False, name=None)),
        list(orders.itertuples(index=False, name=None)),
    )


def command_line_rows(
    folder: Path,
    suffix: str,
    policy: Policy | Path,
    tree: InviteTree,
    order_list: list[Order],
    *,
    paid_at: bool = False,
) -> Rows:
    """``tuishou settle`` on files in ``folder``; the payout rows it writes. ``policy`` is a
    Policy (written to a file) or a folder of policy versions; with ``paid_at``, the column
    is written as ISO text in Beijing time without its offset (read in --timezone)."""
    if isinstance(policy, Path):
        policy_file = policy
    else:
        policy_file = folder / "policy.json"
        policy_file.write_text(policy.model_dump_json(), encoding="utf-8")
    members = write_rows(
        folder / f"members{suffix}",
        [{c: r[c] for c in MEMBER_COLUMNS} for r in tree.to_records()],
        MEMBER_COLUMNS,
    )
    columns = order_columns(order_list)
    if paid_at:  # local text, read in --timezone's zone
        columns["paid_at"] = [
            t.astimezone(BEIJING).replace(tzinfo=None).isoformat() for t in columns["paid_at"]
        ]
    names = (*ORDER_COLUMNS, "paid_at") if isinstance(policy, Path) else ORDER_COLUMNS
    orders = write_rows(
        folder / f"orders{suffix}",
        [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)],
        names,
    )
    out = folder / f"payouts{suffix}"
    result = click_testing.CliRunner().invoke(
        app,
        [
            "settle",
            "--policy",
            str(policy_file),
            "--members",
            str(members),
            "--orders",
            str(orders),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    return read_payouts(out)


# ------------------------------------------------------------------ policy versions

BEIJING = ZoneInfo("Asia/Shanghai")
FIRST = datetime(2026, 11, 1, tzinfo=BEIJING)
SWITCH = datetime(2026, 12, 1, tzinfo=BEIJING)
# Paid times on both sides of the switch: the first instant, just before, at, after; in
# several zones (the version is chosen on the UTC instant).
PAID = (
    FIRST,
    SWITCH - timedelta(microseconds=1),
    SWITCH.astimezone(UTC),
    SWITCH,
    SWITCH + timedelta(days=3),
)


class VersionCase(NamedTuple):
    """Two versions of a policy (same tiers, any other change) and orders paid around the
    switch between them."""

    versions: PolicyVersions
    tree: InviteTree
    orders: list[Order]


@st.composite
def version_cases(draw: st.DrawFn, *, max_orders: int) -> VersionCase:
    case = draw(cases(max_orders=max_orders))
    later = draw(policies(tiers=list(case.policy.tiers)))
    versions = PolicyVersions(
        versions=(
            PolicyVersion(effective_from=FIRST, policy=case.policy, label="v1"),
            PolicyVersion(effective_from=SWITCH, policy=later, label="v2"),
        )
    )
    paid = [draw(st.sampled_from(PAID)) for _ in case.orders]
    orders = [o.model_copy(update={"paid_at": t}) for o, t in zip(case.orders, paid, strict=True)]
    return VersionCase(versions, case.tree, orders)


def settled_versions(versions: PolicyVersions, tree: InviteTree, orders: list[Order]) -> Any:
    """``settle`` under the versions, order by order; per-order rows name the version."""
    settlements = [settle(versions, tree, order) for order in orders]
    for order, result in zip(orders, settlements, strict=True):
        assert order.paid_at is not None
        version = versions.version_at(order.paid_at)
        assert result.version == version.name
        # check_settlement takes a Policy: the version's, on the result without its name.
        plain = dataclasses.replace(result, version=None, version_from=None)
        check_settlement(version.policy, tree, order, plain)
    payouts, per_order = rows_of(orders, settlements)
    names = [result.version for result in settlements]
    return payouts, [(*row, name) for row, name in zip(per_order, names, strict=True)]


@settings(SLOW, max_examples=examples(100))
@given(version_cases(max_orders=8))
def test_every_path_agrees_with_settle_under_policy_versions(case):
    payouts, per_order = settled_versions(*case)
    columns = order_columns(case.orders)
    for form in (columns, pd.DataFrame(columns)):
        batch = settle_batch(case.versions, case.tree, form)
        assert batch.payouts.rows() == payouts
        assert batch.orders.rows() == per_order
        assert dict(member_totals(case.versions, case.tree, form).rows()) == per_member(payouts)
    assert_compare_agrees(
        compare({"versions": case.versions}, case.tree, case.orders),
        {"versions": (payouts, [row[:5] for row in per_order])},
    )


@settings(SLOW, max_examples=examples(10))
@given(case=version_cases(max_orders=12), suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]))
def test_dask_and_the_command_line_agree_with_settle_under_policy_versions(
    tmp_path_factory, case, suffix
):
    payouts, per_order = settled_versions(*case)
    assert dask_rows(case.versions, case.tree, case.orders) == (payouts, per_order)
    folder = tmp_path_factory.mktemp("cli")
    versions_folder = folder / "versions"
    versions_folder.mkdir()
    for version in case.versions.versions:
        data = json.loads(version.policy.model_dump_json())
        data["effective_from"] = version.effective_from.isoformat()
        (versions_folder / f"{version.name}.json").write_text(json.dumps(data), encoding="utf-8")
    rows = command_line_rows(
        folder, suffix, versions_folder, case.tree, case.orders, paid_at=suffix != ".parquet"
    )
    assert rows == payouts
