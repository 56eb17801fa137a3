"""Settlement rule by rule: attribution, pool, seller, layers, differential, suspension, errors."""

from __future__ import annotations

import pytest

from tuishou import (
    InvalidOrderError,
    Order,
    OrderLine,
    UnknownGroupError,
    UnknownMemberError,
    UnknownTierError,
    settle,
)

from helpers import order, paid, policy, tree_from_text

TIERS = ["member", "pusher", "mentor", "senior_advisor"]


def diff_policy(**fields):
    rule = {
        "kind": "differential",
        "rates": {"pusher": "0.3", "mentor": "0.4", "senior_advisor": "0.5"},
        **fields.pop("rule", {}),
    }
    return policy(
        tiers=TIERS,
        group_rates={"g": "1"},
        max_generation=fields.pop("max_generation", 4),
        self_purchase=True,
        rules=[rule],
        **fields,
    )


# --------------------------------------------------------------------------- attribution

SELLER_POLICY = {
    "group_rates": {"g": "1"},
    "rules": [{"kind": "seller", "rates": {"member": "0.1"}}],
}


@pytest.mark.parametrize(
    ("self_purchase", "buyer", "sharer", "seller", "attribution"),
    [
        (True, "C", None, "C", "self_purchase"),
        (False, "C", None, "B", "buyer_inviter"),
        (False, "A", None, None, "none"),  # a root buyer without self-purchase
        (True, "guest-1", None, None, "none"),
        (True, None, None, None, "none"),
        (True, "guest-1", "B", "B", "sharer"),
        (True, "C", "A", "A", "sharer"),  # the share link wins over self-purchase
        # A buyer's own share link counts as no link: self_purchase=false still holds.
        (False, "C", "C", "B", "buyer_inviter"),
        (True, "C", "C", "C", "self_purchase"),
        (False, "A", "A", None, "none"),
    ],
)
def test_attribution(self_purchase, buyer, sharer, seller, attribution):
    result = settle(
        policy(self_purchase=self_purchase, **SELLER_POLICY),
        tree_from_text("A>B>C"),
        order(("g", 1000), buyer=buyer, sharer=sharer),
    )
    assert (result.seller_id, result.attribution) == (seller, attribution)
    assert paid(result) == ({seller: 100} if seller else {})
    assert result.pool == 1000
    assert result.retained == (900 if seller else 1000)


def test_sharer_must_be_a_member():
    with pytest.raises(
        UnknownMemberError, match=r"sharer_id='Bb' is not a member; did you mean 'B'\?"
    ):
        settle(policy(**SELLER_POLICY), tree_from_text("A>B"), order(("g", 1), sharer="Bb"))


# --------------------------------------------------------------------------------- pool


def test_pool_uses_sku_rate_before_group_rate_and_checks_the_group():
    chosen = policy(group_rates={"eco": "0.2", "mi": "0.05"}, sku_rates={"gift": "0.5"})
    result = settle(
        chosen,
        tree_from_text("A"),
        Order(
            order_id="o",
            lines=[
                OrderLine(sku="gift", group="eco", amount=1000),
                OrderLine(sku="band", group="mi", amount=1000),
            ],
        ),
    )
    assert [(line.rate_from, str(line.exact)) for line in result.lines] == [
        ("sku", "500"),
        ("group", "50"),
    ]
    assert result.pool == 550


def test_unknown_group_names_it_and_the_known_ones():
    with pytest.raises(UnknownGroupError, match=r"group='ecosytem' .* did you mean 'ecosystem'\?"):
        settle(
            policy(group_rates={"ecosystem": "0.2"}), tree_from_text("A"), order(("ecosytem", 1))
        )


def test_an_order_needs_lines():
    with pytest.raises(InvalidOrderError, match="lines"):
        Order(order_id="o", lines=[])


def test_zero_amount_line_pays_nothing():
    result = settle(
        policy(self_purchase=True, **SELLER_POLICY), tree_from_text("A"), order(("g", 0), buyer="A")
    )
    assert (result.pool, result.payouts, result.retained) == (0, (), 0)


# ------------------------------------------------------------------------- seller/layers


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("member", 50), ("pusher", 100), ("mentor", 0)],  # mentor: no rate
)
def test_seller_rule_pays_by_the_sellers_tier(tier, expected):
    chosen = policy(
        tiers=TIERS,
        group_rates={"g": "1"},
        rules=[{"kind": "seller", "rates": {"member": "0.05", "pusher": "0.1"}}],
    )
    result = settle(chosen, tree_from_text("A", default_tier=tier), order(("g", 1000), sharer="A"))
    assert paid(result) == ({"A": expected} if expected else {})


def test_layers_pay_by_generation_and_tier_with_missing_entries_zero():
    chosen = policy(
        tiers=TIERS,
        group_rates={"g": "1"},
        max_generation=3,
        rules=[{"kind": "layers", "rates": {"member": ["0.1", "0.05", "0.01"], "pusher": ["0.2"]}}],
    )
    tree = tree_from_text("Z>A>B>C>D", tiers="B:pusher A:pusher")
    result = settle(chosen, tree, order(("g", 1000), sharer="D"))
    # C gen 1 member 10%; B gen 2 pusher (no 2nd entry) 0; A gen 3 pusher 0; Z gen 4 beyond.
    assert [(p.member_id, p.generation, p.amount) for p in result.payouts] == [("C", 1, 100)]
    from_c = settle(chosen, tree, order(("g", 1000), sharer="C"))
    # B gen 1 pusher 20%; A gen 2 pusher (no 2nd entry) 0; Z gen 3 member 1%.
    assert [(p.member_id, p.generation, p.amount) for p in from_c.payouts] == [
        ("B", 1, 200),
        ("Z", 3, 10),
    ]


def test_max_generation_zero_pays_only_the_seller():
    chosen = policy(
        tiers=TIERS,
        group_rates={"g": "1"},
        max_generation=0,
        self_purchase=True,
        rules=[
            {"kind": "seller", "rates": {"member": "0.1"}},
            {"kind": "differential", "rates": {"member": "0.2"}},
        ],
    )
    result = settle(chosen, tree_from_text("A>B"), order(("g", 1000), buyer="B"))
    assert paid(result) == {"B": 300}
    assert [link.member_id for link in result.chain] == ["B"]


# --------------------------------------------------------------------------- differential

CHAIN = "Z>A>B>C>D"


@pytest.mark.parametrize(
    ("tiers", "rule", "expected"),
    [
        # plain 级差: each higher tier gets the difference
        ("D:pusher C:pusher B:mentor A:senior_advisor", {}, {"D": 300, "B": 100, "A": 100}),
        # a lower tier above a higher one gets nothing
        ("D:mentor C:pusher B:mentor A:senior_advisor", {}, {"D": 400, "A": 100}),
        # peer bonus: same tier as the last raiser, at most peer_max times
        (
            "D:pusher C:pusher B:pusher A:pusher",
            {"peer_rate": "0.02", "peer_max": 2},
            {"D": 300, "C": 20, "B": 20},
        ),
        # peer bonus follows the top tier after a raise
        (
            "D:pusher C:mentor B:mentor A:senior_advisor",
            {"peer_rate": "0.02", "peer_max": 1},
            {"D": 300, "C": 100, "B": 20, "A": 100},
        ),
        # no peer for a tier that never raised paid
        ("D:mentor C:pusher B:pusher A:member", {"peer_rate": "0.02", "peer_max": 3}, {"D": 400}),
        # include_seller false: the walk starts at generation 1
        (
            "D:senior_advisor C:pusher B:mentor A:senior_advisor",
            {"include_seller": False},
            {"C": 300, "B": 100, "A": 100},
        ),
    ],
)
def test_differential_table(tiers, rule, expected):
    result = settle(
        diff_policy(rule=rule), tree_from_text(CHAIN, tiers=tiers), order(("g", 1000), buyer="D")
    )
    assert paid(result) == expected


def test_peer_bonus_is_never_paid_to_the_seller():
    result = settle(
        diff_policy(rule={"peer_rate": "0.02", "peer_max": 1}),
        tree_from_text("C>D", tiers="D:pusher C:pusher"),
        order(("g", 1000), buyer="D"),
    )
    assert [(p.member_id, p.kind) for p in result.payouts] == [("D", "differential"), ("C", "peer")]


# ------------------------------------------------------------------------------ suspension

SUSPEND_TIERS = "D:pusher C:mentor B:mentor A:senior_advisor Z:senior_advisor"


def test_suspended_upline_keeps_its_place_and_its_share_is_retained():
    result = settle(
        diff_policy(rule={"peer_rate": "0.02", "peer_max": 1}, max_generation=3),
        tree_from_text(CHAIN, tiers=SUSPEND_TIERS, suspended="C"),
        order(("g", 1000), buyer="D"),
    )
    # C still raises paid to mentor (its 10% is forfeited) and takes the one peer slot's place:
    # B (mentor, peer of C) gets the peer bonus; A gets 10%. Z is generation 4: beyond.
    assert paid(result) == {"D": 300, "B": 20, "A": 100}
    assert result.retained == 1000 - 420
    forfeited = [(s.member_id, s.kind) for s in result.shares if not s.paid]
    assert forfeited == [("C", "differential")]


def test_suspended_peer_uses_up_the_peer_slot():
    result = settle(
        diff_policy(rule={"peer_rate": "0.02", "peer_max": 1}),
        tree_from_text("A>B>C>D", tiers="D:pusher C:pusher B:pusher A:pusher", suspended="C"),
        order(("g", 1000), buyer="D"),
    )
    assert paid(result) == {"D": 300}


def test_compression_skips_suspended_uplines_and_moves_the_next_one_down():
    tree = tree_from_text(CHAIN, tiers=SUSPEND_TIERS, suspended="C B")
    result = settle(
        diff_policy(compression=True, max_generation=2), tree, order(("g", 1000), buyer="D")
    )
    assert [(link.member_id, link.generation) for link in result.chain] == [
        ("D", 0),
        ("C", None),
        ("B", None),
        ("A", 1),
        ("Z", 2),
    ]
    assert paid(result) == {"D": 300, "A": 200}
    assert all(p.generation <= 2 for p in result.payouts)


def test_a_suspended_seller_is_not_compressed_away_and_earns_nothing():
    tree = tree_from_text("A>B>C", tiers="C:pusher B:mentor A:senior_advisor", suspended="C")
    result = settle(diff_policy(compression=True), tree, order(("g", 1000), buyer="C"))
    assert result.chain[0].member_id == "C"
    assert paid(result) == {"B": 100, "A": 100}
    assert result.retained == 800


# ---------------------------------------------------------------------------------- errors


def test_member_with_a_tier_the_policy_does_not_list():
    with pytest.raises(
        UnknownTierError, match=r"member 'D' has tier 'pushr'.*did you mean 'pusher'\?"
    ):
        settle(diff_policy(), tree_from_text("C>D", tiers="D:pushr"), order(("g", 1), buyer="D"))


def test_tiers_beyond_the_chain_are_not_checked():
    tree = tree_from_text("Z>A>B", tiers="Z:legacy")
    result = settle(diff_policy(max_generation=1), tree, order(("g", 1000), buyer="B"))
    assert result.pool == 1000


# ----------------------------------------------------------------------------- rounding


def test_payouts_that_round_to_zero_are_left_out():
    result = settle(
        diff_policy(),
        tree_from_text("B>C>D", tiers="D:pusher B:mentor"),
        order(("g", 3), buyer="D"),
    )
    # exact: D 0.9 -> 1, B 0.3 -> 0 (total 1.2 -> 1)
    assert paid(result) == {"D": 1}
    assert [s.member_id for s in result.shares] == ["D", "B"]


def test_explain_tells_the_whole_story():
    tree = tree_from_text(CHAIN, tiers=SUSPEND_TIERS, suspended="C")
    text = settle(
        diff_policy(rule={"peer_rate": "0.02", "peer_max": 1}, max_generation=3),
        tree,
        order(("g", 12345), buyer="D"),
    ).explain()
    for expected in [
        "Order o1 under policy 'test'",
        "Seller: D",
        "self-purchase",
        "g-0 (g) paid ¥123.45 x 100% g rate = 12345 fen",
        "forfeited: C is suspended",
        "B  differential/peer  2%",
        "the platform retains",
    ]:
        assert expected in text, expected


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ((None, "tree", "order"), r"policy is a NoneType, expected Policy"),
        (("policy", {"A": None}, "order"), r"tree is a dict, expected InviteTree"),
        (("policy", "tree", {"order_id": "o"}), r"order is a dict, expected Order; build one"),
    ],
)
def test_settle_refuses_the_wrong_types_clearly(arguments, match):
    real = {
        "policy": policy(**SELLER_POLICY),
        "tree": tree_from_text("A"),
        "order": order(("g", 1)),
    }
    values = [real.get(a, a) if isinstance(a, str) else a for a in arguments]
    with pytest.raises(TypeError, match=match):
        settle(*values)
