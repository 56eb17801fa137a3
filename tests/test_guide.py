"""docs/testing.md runs: its example tests pass, and what it says fails does fail.

The guide's python blocks are the file a user copies into their project; they are executed
here as written, and every test they define is run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import Phase, find, settings

from tuishou import InviteTree, Order, OrderLine, settle

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
FIND = settings(database=None, max_examples=2000, phases=[Phase.generate])  # any will do


@pytest.fixture(scope="module")
def guide() -> dict[str, object]:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 3, "the guide's python examples moved: update this test"
    namespace: dict[str, object] = {"__name__": "guide"}
    for block in blocks:  # the other blocks go on in the same file
        exec(compile(block, str(GUIDE), "exec"), namespace)
    return namespace


def test_the_guide_defines_the_tests_it_describes(guide):
    assert sorted(name for name in guide if name.startswith("test_")) == [
        "test_a_migration_never_loses_a_member",
        "test_a_senior_advisor_never_earns_less_than_a_mentor_in_the_same_place",
        "test_deep_chains_keep_the_invariants",
        "test_every_settlement_keeps_the_invariants",
        "test_no_member_is_ever_paid_more_than_20_percent_of_an_order",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "test_a_migration_never_loses_a_member",
        "test_a_senior_advisor_never_earns_less_than_a_mentor_in_the_same_place",
        "test_deep_chains_keep_the_invariants",
        "test_every_settlement_keeps_the_invariants",
        "test_no_member_is_ever_paid_more_than_20_percent_of_an_order",
    ],
)
def test_the_guides_tests_pass(guide, name):
    guide[name]()


def test_with_the_gift_pack_a_member_can_be_paid_more_than_20_percent(guide):
    def over_20_percent(case):
        tree, order = case
        result = settle(guide["POLICY"], tree, order)
        return any(result.amount_for(p.member_id) > (order.amount + 4) // 5 for p in result.payouts)

    _, order = find(guide["trees_and_orders"](), over_20_percent, settings=FIND)
    assert "gift-pack-398" in {line.sku for line in order.lines}


def test_a_senior_advisor_can_earn_less_than_a_mentor_on_the_same_order(guide):
    def senior_below_mentor(case):
        tree, order = case
        result = settle(guide["POLICY"], tree, order)
        earned = {tree.tier(p.member_id): result.amount_for(p.member_id) for p in result.payouts}
        return earned.get("senior_advisor", 10**15) < earned.get("mentor", -1)

    assert find(guide["trees_and_orders"](), senior_below_mentor, settings=FIND)


@pytest.mark.parametrize(
    ("chain", "buyer", "line", "expected"),
    [
        ("A:senior_advisor", "A", ("kettle", "ecosystem", 4), {"A": 1}),  # 25% of 4 fen
        ("A:senior_advisor B:mentor", "B", ("phone", "xiaomi", 94), {"B": 3, "A": 1}),
    ],
)
def test_the_numbers_the_guide_quotes(guide, chain, buyer, line, expected):
    members = [pair.split(":") for pair in chain.split()]
    tree = InviteTree.from_records(
        {"member_id": m, "inviter_id": members[i - 1][0] if i else None, "tier": tier}
        for i, (m, tier) in enumerate(members)
    )
    sku, group, amount = line
    order = Order(
        order_id="o", buyer_id=buyer, lines=[OrderLine(sku=sku, group=group, amount=amount)]
    )
    result = settle(guide["POLICY"], tree, order)
    assert {p.member_id: p.amount for p in result.payouts} == expected
