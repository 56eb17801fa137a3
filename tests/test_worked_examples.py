"""domain.md §8's worked examples A and B, with the exact numbers given there.

(Example C, tier qualification, lives in test_tiers.py.)
"""

from __future__ import annotations

import pytest

from tuishou import settle

from helpers import order, paid, policy, tree_from_text

TIERS = ["member", "pusher", "mentor", "senior_advisor"]


def example_a_tree():  # D (pusher, buyer) → C (pusher) → B (mentor) → A (senior) → Z (senior)
    return tree_from_text(
        "Z>A>B>C>D",
        tiers="Z:senior_advisor A:senior_advisor B:mentor C:pusher D:pusher",
    )


def example_a_policy(**changes):
    return policy(
        tiers=TIERS,
        group_rates={"xiaomi": "0.05", "ecosystem": "0.20", "third_party": "0.10"},
        self_purchase=True,
        max_generation=3,
        rules=[
            {
                "kind": "differential",
                "rates": {"pusher": "0.50", "mentor": "0.65", "senior_advisor": "0.75"},
                "peer_rate": "0.05",
                "peer_max": 1,
            }
        ],
        **changes,
    )


EXAMPLE_A_ORDER = order(("ecosystem", 19999), ("xiaomi", 99900), buyer="D")


@pytest.mark.parametrize(
    ("changes", "expected", "pool", "retained"),
    [
        ({}, {"D": 4497, "C": 450, "B": 1349, "A": 900}, 8995, 1799),
        ({"rounding": "floor"}, {"D": 4497, "C": 449, "B": 1349, "A": 899}, 8994, 1800),
        ({"rounding_scope": "line"}, {"D": 4498, "C": 450, "B": 1349, "A": 899}, 8995, 1799),
    ],
    ids=["largest-remainder", "floor", "per-line"],
)
def test_example_a(changes, expected, pool, retained):
    result = settle(example_a_policy(**changes), example_a_tree(), EXAMPLE_A_ORDER)
    assert paid(result) == expected
    assert (result.pool, result.retained) == (pool, retained)
    assert "Z" not in paid(result)  # generation 4, beyond max_generation 3


def test_example_a_shares_and_kinds():
    result = settle(example_a_policy(), example_a_tree(), EXAMPLE_A_ORDER)
    rows = [(p.member_id, p.kind, p.generation, str(p.share), str(p.exact)) for p in result.payouts]
    assert rows == [
        ("D", "differential", 0, "0.5", "4497.4"),
        ("C", "peer", 1, "0.05", "449.74"),
        ("B", "differential", 2, "0.15", "1349.22"),
        ("A", "differential", 3, "0.1", "899.48"),
    ]
    assert result.seller_id == "D"
    assert result.attribution == "self_purchase"


def yudao_tree():
    return tree_from_text("A>B>C>X")


def yudao_policy(**changes):
    fields = {
        "group_rates": {"all": "1"},
        "self_purchase": False,
        "max_generation": 1,
        "rules": [
            {"kind": "seller", "rates": {"member": "0.05"}},
            {"kind": "layers", "rates": {"member": ["0.02"]}},
        ],
        "rounding": "floor",
        "rounding_scope": "line",
    }
    return policy(**{**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "expected", "retained"),
    [
        ({}, {"C": 1248, "B": 498}, 23252),
        (
            {"rounding": "largest_remainder", "rounding_scope": "order"},
            {"C": 1250, "B": 500},
            23248,
        ),
    ],
    ids=["floor-per-line", "largest-remainder-per-order"],
)
def test_example_b(changes, expected, retained):
    result = settle(
        yudao_policy(**changes), yudao_tree(), order(("all", 19999), ("all", 4999), buyer="X")
    )
    assert result.seller_id == "C"  # X's inviter: no self-purchase
    assert result.attribution == "buyer_inviter"
    assert paid(result) == expected
    assert (result.pool, result.retained) == (24998, retained)


def test_example_b_line_detail():
    """Line 19999: C 999.95 → 999, B 399.98 → 399; line 4999: C 249.95 → 249, B 99.98 → 99."""
    policy_b = yudao_policy()
    tree = yudao_tree()
    first = settle(policy_b, tree, order(("all", 19999), buyer="X"))
    second = settle(policy_b, tree, order(("all", 4999), buyer="X"))
    assert paid(first) == {"C": 999, "B": 399}
    assert paid(second) == {"C": 249, "B": 99}


def test_example_b_guest_order_shared_by_b():
    result = settle(yudao_policy(), yudao_tree(), order(("all", 10000), sharer="B"))
    assert [(p.member_id, p.kind, p.amount) for p in result.payouts] == [
        ("B", "seller", 500),
        ("A", "layer", 200),
    ]
