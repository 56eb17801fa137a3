"""A buyer's own share link counts as no share link, on every path (issue 10, item 6).

Z invites A; one tier m, group g at rate 1, a seller rule of 20%. A buys 10 000 fen through
A's own share link. With self_purchase = false, Z is the seller (A gets 0); with it, A is.
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd
import pytest

from cli_support import run
from tuishou import InviteTree, Order, OrderLine, settle
from tuishou.analysis.compare import compare
from tuishou.engine.batch import member_totals, settle_batch
from tuishou.invariants import check_settlement
from tuishou.orders import order_columns

from helpers import policy

TREE = InviteTree.from_records(
    [
        {"member_id": "Z", "inviter_id": None, "tier": "m"},
        {"member_id": "A", "inviter_id": "Z", "tier": "m"},
    ]
)
ORDER = Order(
    order_id="o1", buyer_id="A", sharer_id="A", lines=[OrderLine(sku="s", group="g", amount=10_000)]
)


def chosen(self_purchase: bool) -> Any:
    return policy(
        tiers=["m"],
        group_rates={"g": "1"},
        self_purchase=self_purchase,
        rules=[{"kind": "seller", "rates": {"m": "0.2"}}],
    )


def by_settle(p: Any, tree: InviteTree) -> dict[str, int]:
    result = settle(p, tree, ORDER)
    check_settlement(p, tree, ORDER, result)
    return {x.member_id: x.amount for x in result.payouts}


def by_settle_batch(p: Any, tree: InviteTree) -> dict[str, int]:
    return {row[1]: row[5] for row in settle_batch(p, tree, order_columns([ORDER])).payouts.rows()}


def by_member_totals(p: Any, tree: InviteTree) -> dict[str, int]:
    return dict(member_totals(p, tree, order_columns([ORDER])).rows())


def by_compare(p: Any, tree: InviteTree) -> dict[str, int]:
    table = compare({"p": p}, tree, [ORDER]).by_member
    return {m: int(a) for m, a in zip(table["member_id"], table["p"], strict=True) if a}


def by_dask(p: Any, tree: InviteTree) -> dict[str, int]:
    dd = pytest.importorskip("dask.dataframe")
    from tuishou.engine.dask import settle_dask

    frame = dd.from_pandas(pd.DataFrame(order_columns([ORDER])), npartitions=1)
    payouts = settle_dask(p, tree, frame).payouts.compute()
    return dict(zip(payouts["member_id"], payouts["amount"].tolist(), strict=True))


@pytest.mark.parametrize(
    "path", [by_settle, by_settle_batch, by_member_totals, by_compare, by_dask]
)
@pytest.mark.parametrize(("self_purchase", "expected"), [(False, {"Z": 2000}), (True, {"A": 2000})])
def test_a_self_share_is_settled_as_if_there_were_no_share_link(path, self_purchase, expected):
    assert path(chosen(self_purchase), TREE) == expected


def test_the_command_line_applies_it_too(tmp_path, capsys):
    (tmp_path / "policy.toml").write_text(
        'name = "p"\ntiers = ["m"]\n[group_rates]\ng = "1"\n'
        '[[rules]]\nkind = "seller"\nrates = { m = "0.2" }\n',
        encoding="utf-8",
    )
    (tmp_path / "members.csv").write_text(
        "member_id,inviter_id,tier\nZ,,m\nA,Z,m\n", encoding="utf-8"
    )
    (tmp_path / "orders.csv").write_text(
        "order_id,buyer_id,sharer_id,sku,group,amount\no1,A,A,s,g,10000\n", encoding="utf-8"
    )
    out = tmp_path / "payouts.csv"
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        str(tmp_path / "policy.toml"),
        "--members",
        str(tmp_path / "members.csv"),
        "--orders",
        str(tmp_path / "orders.csv"),
        "--out",
        str(out),
    )
    assert code == 0, err
    with out.open(encoding="utf-8", newline="") as file:
        assert [(r["member_id"], r["amount"]) for r in csv.DictReader(file)] == [("Z", "2000")]


@pytest.mark.parametrize(
    ("self_purchase", "says"),
    [
        (
            False,
            "Seller: Z: A bought through their own share link, which counts as no share link; "
            "the buyer is a member invited by Z, who is credited with the sale",
        ),
        (
            True,
            "Seller: A: A bought through their own share link, which counts as no share link; "
            "A bought for themselves (self-purchase pays the buyer)",
        ),
    ],
)
def test_explain_says_the_own_link_was_ignored(self_purchase, says):
    assert settle(chosen(self_purchase), TREE, ORDER).explain().splitlines()[1] == says


def test_a_root_sharing_to_itself_without_self_purchase_pays_nobody():
    order = Order(
        order_id="o2",
        buyer_id="Z",
        sharer_id="Z",
        lines=[OrderLine(sku="s", group="g", amount=10_000)],
    )
    result = settle(chosen(False), TREE, order)
    assert (result.seller_id, result.attribution, result.paid) == (None, "none", 0)
    assert settle_batch(chosen(False), TREE, order_columns([order])).payouts.rows() == []
