"""Every worked example of docs/domain.md §15, with the numbers written there.

One test (or parametrised group) per claim of the page: if a number in §15 changes, a test
here must change with it. Example C's tree, ladder and sales are the ones test_tiers.py builds.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ledger_support import BACKENDS, bal, day, ledgers
from test_tiers import EXAMPLE_C_SALES, example_c_ladder, example_c_tree
from tuishou import LedgerPolicy, Order, OrderLine, settle
from tuishou.errors import InvalidIdentifierError
from tuishou.ids import check_id
from tuishou.tiers import evaluate_tiers

from helpers import order, paid, policy, tree_from_text

TIERS = ["member", "pusher", "mentor", "senior_advisor"]


def example_a_tree():  # D (pusher, buyer) → C (pusher) → B (mentor) → A (senior) → Z (senior)
    return tree_from_text(
        "Z>A>B>C>D", tiers="Z:senior_advisor A:senior_advisor B:mentor C:pusher D:pusher"
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
        (
            {"rounding": "floor", "rounding_scope": "line"},
            {"D": 4496, "C": 448, "B": 1348, "A": 898},
            8994,
            1804,
        ),
    ],
    ids=["largest-remainder", "floor", "per-line", "floor-per-line"],
)
def test_example_a(changes, expected, pool, retained):
    """docs/domain.md §15, Example A: the table of variants."""
    result = settle(example_a_policy(**changes), example_a_tree(), EXAMPLE_A_ORDER)
    assert paid(result) == expected
    assert (result.pool, result.retained) == (pool, retained)
    assert "Z" not in paid(result)  # generation 4, beyond max_generation 3


def test_example_a_shares_and_kinds():
    """docs/domain.md §15, Example A: the seller, the chain, the walk and the exact amounts."""
    result = settle(example_a_policy(), example_a_tree(), EXAMPLE_A_ORDER)
    assert [(link.member_id, link.generation) for link in result.chain] == [
        ("D", 0),
        ("C", 1),
        ("B", 2),
        ("A", 3),
    ]  # Z (generation 4) is not in the chain
    assert [line.exact for line in result.lines] == [Decimal("3999.8"), Decimal("4995")]
    assert sum(p.exact for p in result.payouts) == Decimal("7195.84")
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
    """docs/domain.md §15, Example B: floor per line, and largest remainder per order."""
    result = settle(
        yudao_policy(**changes), yudao_tree(), order(("all", 19999), ("all", 4999), buyer="X")
    )
    assert result.seller_id == "C"  # X's inviter: no self-purchase
    assert result.attribution == "buyer_inviter"
    assert paid(result) == expected
    assert (result.pool, result.retained) == (24998, retained)


def test_example_b_line_detail():
    """docs/domain.md §15, Example B: line 19999: C 999.95 → 999, B 399.98 → 399; line 4999:
    C 249.95 → 249, B 99.98 → 99; per order: C 1249.9, B 499.96."""
    exact = settle(yudao_policy(), yudao_tree(), order(("all", 19999), ("all", 4999), buyer="X"))
    assert [str(p.exact) for p in exact.payouts] == ["1249.9", "499.96"]
    assert "A" not in paid(exact)  # beyond max_generation 1
    policy_b = yudao_policy()
    tree = yudao_tree()
    first = settle(policy_b, tree, order(("all", 19999), buyer="X"))
    second = settle(policy_b, tree, order(("all", 4999), buyer="X"))
    assert paid(first) == {"C": 999, "B": 399}
    assert paid(second) == {"C": 249, "B": 99}


def test_example_b_guest_order_shared_by_b():
    """docs/domain.md §15, Example B: a guest order shared by B."""
    result = settle(yudao_policy(), yudao_tree(), order(("all", 10000), sharer="B"))
    assert (result.seller_id, result.retained) == ("B", 9300)
    assert [(p.member_id, p.kind, p.amount) for p in result.payouts] == [
        ("B", "seller", 500),
        ("A", "layer", 200),
    ]


@pytest.mark.parametrize(
    ("rounding", "lines"),
    [
        (
            "largest_remainder",
            [
                (("ecosystem", 19999), 4000, {"D": 2000, "C": 200, "B": 600, "A": 400}),
                (("xiaomi", 99900), 4995, {"D": 2498, "C": 250, "B": 749, "A": 499}),
            ],
        ),
        (
            "floor",
            [
                (("ecosystem", 19999), 3999, {"D": 1999, "C": 199, "B": 599, "A": 399}),
                (("xiaomi", 99900), 4995, {"D": 2497, "C": 249, "B": 749, "A": 499}),
            ],
        ),
    ],
)
def test_example_a_per_line_detail(rounding, lines):
    """docs/domain.md §15, Example A: each line rounded on its own, then summed."""
    chosen = example_a_policy(rounding=rounding, rounding_scope="line")
    whole = settle(chosen, example_a_tree(), EXAMPLE_A_ORDER)
    assert [line.rounded for line in whole.lines] == [pool for _, pool, _ in lines]
    for line, pool, expected in lines:
        alone = settle(chosen, example_a_tree(), order(line, buyer="D"))
        assert (alone.pool, paid(alone)) == (pool, expected)
    summed = {m: sum(expected[m] for _, _, expected in lines) for m in "DCBA"}
    assert paid(whole) == summed


# ----------------------------------------------------------------------------- Example C


@pytest.mark.parametrize(
    ("demote", "u_tier"), [(False, "mentor"), (True, "member")], ids=["kept", "demoted"]
)
def test_example_c(demote, u_tier):
    """docs/domain.md §15, Example C: the tiers after one evaluation, and the figures."""
    tree = example_c_tree()
    changes = {
        c.member_id: c
        for c in evaluate_tiers(example_c_ladder(), tree, EXAMPLE_C_SALES, demote=demote)
    }
    after = {m: changes[m].new if m in changes else tree.tier(m) for m in tree}
    assert after == {
        "R": "senior_advisor",
        "S": "mentor",
        "T": "mentor",
        "U": u_tier,
        "S1": "pusher",
        "S2": "pusher",
        "S3": "pusher",
        "T1": "pusher",
        "T2": "member",
        "T3": "pusher",
    }
    assert "team sales 500000 >= 500000" in changes["S"].reason
    assert "team sales 510000 >= 500000" in changes["T"].reason
    assert changes["R"].reason == (
        "qualifies for senior_advisor: 2 active directs at mentor or higher >= 2, team size 8 >= 8"
    )


# ----------------------------------------------------------------------------- Example D

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)

EXAMPLE_D_POLICY = policy(
    tiers=["m"],
    max_generation=2,
    group_rates={"eco": "0.20", "mi": "0.05"},
    rules=[
        {"kind": "seller", "rates": {"m": "0.50"}},
        {"kind": "layers", "rates": {"m": ["0.05", "0.15"]}},
    ],
)
EXAMPLE_D_TREE = tree_from_text("A>B>C", default_tier="m")
EXAMPLE_D_ORDER = Order(
    order_id="o1",
    sharer_id="C",
    lines=[
        OrderLine(sku="x", group="eco", amount=38633),
        OrderLine(sku="y", group="mi", amount=108),
    ],
)
SELLER, LAYER = ("seller", "seller"), ("layers", "layer")


def test_example_d_settlement_and_the_re_settlement_that_would_raise_b():
    """docs/domain.md §15, Example D: the first settlement, and what re-rounding x alone gives."""
    first = settle(EXAMPLE_D_POLICY, EXAMPLE_D_TREE, EXAMPLE_D_ORDER)
    assert (paid(first), first.pool, first.retained) == (
        {"C": 3866, "B": 386, "A": 1160},
        7732,
        2320,
    )
    assert [str(p.exact) for p in first.payouts] == ["3866", "386.6", "1159.8"]
    rest = EXAMPLE_D_ORDER.model_copy(update={"lines": EXAMPLE_D_ORDER.lines[:1]})
    again = settle(EXAMPLE_D_POLICY, EXAMPLE_D_TREE, rest)
    assert [str(p.exact) for p in again.payouts] == ["3863.3", "386.33", "1158.99"]
    assert (paid(again), again.pool, again.retained) == (
        {"C": 3863, "B": 387, "A": 1159},
        7727,
        2318,
    )


@pytest.mark.parametrize("released", [False, True], ids=["pending", "released"])
def test_example_d_refund_never_raises_b(make_ledger, released):
    """docs/domain.md §15, Example D: refunding y posts A −1 and C −3; B keeps 386."""
    ledger = make_ledger(freeze_days=7)
    ledger.post(
        EXAMPLE_D_ORDER, settle(EXAMPLE_D_POLICY, EXAMPLE_D_TREE, EXAMPLE_D_ORDER), at=day(0)
    )
    if released:
        ledger.release(day(7))
    result = ledger.refund("o1", lines={"y": 1}, at=day(8), refund_id="r1")
    reason, bucket = ("clawback", "available") if released else ("refund", "pending")
    assert [(e.member_id, e.bucket, e.reason, e.amount) for e in result.entries] == [
        ("A", bucket, reason, -1),
        ("C", bucket, reason, -3),
    ]
    assert result.remaining == {("C", *SELLER): 3863, ("B", *LAYER): 386, ("A", *LAYER): 1159}
    assert (result.pool, result.retained) == (7727, 2319)
    held = {"A": 1159, "B": 386, "C": 3863}
    for member, amount in held.items():
        assert ledger.balance(member) == (
            bal(available=amount) if released else bal(pending=amount)
        )
    full = ledger.refund("o1", lines=None, at=day(9), refund_id="r2")
    assert sorted((e.member_id, e.amount) for e in full.entries) == [
        ("A", -1159),
        ("B", -386),
        ("C", -3863),
    ]
    assert (full.remaining, full.pool, full.retained) == ({}, 0, 0)


# ----------------------------------------------------------------------------- Example E

EXAMPLE_E_TREE = tree_from_text("Z>A", default_tier="m")
EXAMPLE_E_ORDER = order(("g", 10000), buyer="A", sharer="A")


def example_e_policy(self_purchase):
    return policy(
        tiers=["m"],
        group_rates={"g": "1"},
        self_purchase=self_purchase,
        rules=[{"kind": "seller", "rates": {"m": "0.20"}}],
    )


def test_example_e_own_link_is_no_link():
    """docs/domain.md §15, Example E: with self-purchase off, Z is paid and A is not."""
    result = settle(example_e_policy(False), EXAMPLE_E_TREE, EXAMPLE_E_ORDER)
    assert (result.seller_id, result.attribution) == ("Z", "buyer_inviter")
    assert (paid(result), result.pool, result.retained) == ({"Z": 2000}, 10000, 8000)


@pytest.mark.parametrize(("self_purchase", "expected"), [(False, {"Z": 2000}), (True, {"A": 2000})])
def test_example_e_the_same_order_without_a_link(self_purchase, expected):
    """docs/domain.md §15, Example E: what the order pays without a link (and so with one)."""
    no_link = settle(
        example_e_policy(self_purchase), EXAMPLE_E_TREE, order(("g", 10000), buyer="A")
    )
    assert (paid(no_link), no_link.retained) == (expected, 8000)
    if self_purchase:  # true before and after the self-share rule
        own_link = settle(example_e_policy(True), EXAMPLE_E_TREE, EXAMPLE_E_ORDER)
        assert (paid(own_link), own_link.retained) == (expected, 8000)


# ----------------------------------------------------------------------------- Example F

EXAMPLE_F_TREE = tree_from_text(
    "U3>U2>U1>S", tiers="S:pusher U1:mentor U2:mentor U3:mentor", suspended="U1"
)
EXAMPLE_F_RULES = {
    "F1": [
        {"kind": "seller", "rates": {"pusher": "0.20"}},
        {"kind": "layers", "rates": {"mentor": ["0.10", "0.05"]}},
    ],
    "F2": [
        {
            "kind": "differential",
            "rates": {"pusher": "0.30", "mentor": "0.50"},
            "peer_rate": "0.05",
            "peer_max": 1,
        }
    ],
}


@pytest.mark.parametrize(
    ("rules", "compression", "chain", "expected", "forfeited", "retained"),
    [
        (
            "F1",
            False,
            [("S", 0), ("U1", 1), ("U2", 2)],
            {"S": 2000, "U2": 500},
            [("U1", "layer", 1000)],
            7500,
        ),
        (
            "F1",
            True,
            [("S", 0), ("U1", None), ("U2", 1), ("U3", 2)],
            {"S": 2000, "U2": 1000, "U3": 500},
            [],
            6500,
        ),
        (
            "F2",
            False,
            [("S", 0), ("U1", 1), ("U2", 2)],
            {"S": 3000, "U2": 500},
            [("U1", "differential", 2000)],
            6500,
        ),
        (
            "F2",
            True,
            [("S", 0), ("U1", None), ("U2", 1), ("U3", 2)],
            {"S": 3000, "U2": 2000, "U3": 500},
            [],
            4500,
        ),
    ],
)
def test_example_f(rules, compression, chain, expected, forfeited, retained):
    """docs/domain.md §15, Example F: a suspended upline, with and without compression."""
    chosen = policy(
        tiers=["pusher", "mentor"],
        group_rates={"g": "1"},
        max_generation=2,
        compression=compression,
        rules=EXAMPLE_F_RULES[rules],
    )
    result = settle(chosen, EXAMPLE_F_TREE, order(("g", 10000), sharer="S"))
    assert [(link.member_id, link.generation) for link in result.chain] == chain
    assert (paid(result), result.retained) == (expected, retained)
    assert [
        (s.member_id, s.kind, result.pool * s.units // 10**4) for s in result.shares if not s.paid
    ] == forfeited
    if rules == "F2" and not compression:
        assert [p.kind for p in result.payouts] == ["differential", "peer"]


# ----------------------------------------------------------------------------- Example G


@pytest.mark.parametrize(("rounding", "small", "large"), [("up", 1, 60), ("half_up", 0, 60)])
def test_example_g(rounding, small, large):
    """docs/domain.md §15, Example G: 270 withdrawals of 37 fen against one of 9,990 at 0.6%."""
    fees = LedgerPolicy(withdrawal_fee_rate="0.006", fee_rounding=rounding)
    assert (fees.fee(37), fees.fee(9990)) == (small, large)
    # 270 in one month pay the rate on the cumulative amount: together what one of 9,990 pays
    assert sum(fees.fee(37, before=37 * n) for n in range(270)) == large


def test_example_g_default_is_up():
    """docs/domain.md §12: the default fee rounding is up to the fen."""
    assert LedgerPolicy(withdrawal_fee_rate="0.006").fee(37) == 1


# -------------------------------------------------------------------- §4's illustrations


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (" D", "buyer_id=' D' is not a normal id; use its normal form 'D' (NFKC, trimmed)"),
        (
            "\uff24",
            "buyer_id='\uff24' is not a normal id; use its normal form 'D' (NFKC, "
            "trimmed); escaped: '\\uff24' -> 'D'",
        ),
        ("", "buyer_id='' is empty; ids are non-empty text"),
        ("A\u200bB", "buyer_id='A\\u200bB' holds a control character; ids are printable text"),
    ],
    ids=["padded", "full-width", "empty", "zero-width-space"],
)
def test_ids_are_refused_with_their_normal_form_named(value, message):
    """docs/domain.md §4: an id that is not normal is refused (a ValueError), never repaired."""
    with pytest.raises(InvalidIdentifierError, match=f"^{re.escape(message)}$"):
        check_id(value, name="buyer_id")
    assert issubclass(InvalidIdentifierError, ValueError)
    assert check_id("D", name="buyer_id") == "D"
