"""Customer binding when settling: the precedence of docs/domain.md §6, and Example H of §15
(each mode: the expiry boundary, a rebind, a customer who later joins as a member)."""

from __future__ import annotations

from dataclasses import replace as swap
from datetime import UTC, datetime, timedelta

import pytest

from tuishou import (
    ArgumentTypeError,
    InvalidOrderError,
    Order,
    OrderLine,
    PolicyVersions,
    UnknownMemberError,
    replace,
    resettle,
    settle,
    settle_many,
)
from tuishou.bindings import BindingEvent, BindingRule, Bindings, bind, share_events
from tuishou.errors import InvalidBindingError, InvariantError
from tuishou.invariants import check_settlement

from helpers import CN, paid, policy, tree_from_text

T0 = datetime(2026, 11, 3, 8, tzinfo=CN)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)

# Example H: A invited B and C; C invited M. c-1 is a guest customer.
TREE = tree_from_text("A>B A>C>M")
POLICY = policy(
    group_rates={"g": "0.1"},
    max_generation=1,
    rules=[
        {"kind": "seller", "rates": {"member": "0.5"}},
        {"kind": "layers", "rates": {"member": ["0.2"]}},
    ],
)


def buy(order_id, at, *, sharer=None, buyer="c-1", amount=10000):
    return Order(
        order_id=order_id,
        buyer_id=buyer,
        sharer_id=sharer,
        paid_at=at,
        lines=[OrderLine(sku="s", group="g", amount=amount)],
    )


# c-1 buys through B's link at T0, registers under C a day later, buys through C's link two
# days after T0; the bindings each mode makes from these (docs/domain.md §15, Example H):
SHARED = [buy("h1", T0, sharer="B"), buy("h2", T0 + 2 * DAY, sharer="C")]
REGISTERED = BindingEvent(customer_id="c-1", member_id="C", at=T0 + DAY, how="register")
# mode: (who holds c-1 from T0 + 3 days on, when that binding expires)
EXAMPLE_H = {"first": ("B", T0 + 7 * DAY), "override": ("C", T0 + 9 * DAY)}
EXAMPLE_H["register"] = ("C", T0 + 8 * DAY)


def example_h_bindings(mode: str) -> Bindings:
    events = [*share_events(SHARED), REGISTERED]
    return bind(events, BindingRule(mode=mode, days=7))


@pytest.mark.parametrize("mode", ["first", "override", "register"])
def test_example_h_each_mode_one_second_before_and_at_expiry(mode):
    bindings = example_h_bindings(mode)
    holder, expires = EXAMPLE_H[mode]
    before = settle(POLICY, TREE, buy("q1", expires - SECOND), bindings=bindings)
    assert (before.seller_id, before.attribution) == (holder, "binding")
    assert paid(before) == {holder: 500, "A": 200}
    assert before.retained == 300
    assert before.binding == bindings.at("c-1", expires - SECOND)
    at = settle(POLICY, TREE, buy("q2", expires), bindings=bindings)
    assert (at.seller_id, at.attribution, at.binding) == (None, "none", None)
    assert at.retained == 1000


def test_example_h_the_bindings_each_mode_makes():
    made = {
        m: [(b.member_id, b.since, b.until, b.how) for b in example_h_bindings(m)]
        for m in EXAMPLE_H
    }
    assert made == {
        "first": [("B", T0, T0 + 7 * DAY, "first_share")],
        "override": [
            ("B", T0, T0 + DAY, "first_share"),
            ("C", T0 + DAY, T0 + 2 * DAY, "register"),
            ("C", T0 + 2 * DAY, T0 + 9 * DAY, "rebind"),
        ],
        "register": [("C", T0 + DAY, T0 + 8 * DAY, "register")],
    }


def test_example_h_a_rebind_moves_the_next_order():
    """Under override, C's link at T0 + 2 days takes c-1 from B: an order a day later credits
    C; under first it still credits B."""
    order = buy("q", T0 + 3 * DAY)
    assert settle(POLICY, TREE, order, bindings=example_h_bindings("override")).seller_id == "C"
    assert settle(POLICY, TREE, order, bindings=example_h_bindings("first")).seller_id == "B"


def test_a_share_link_beats_the_binding():
    bindings = example_h_bindings("first")
    result = settle(POLICY, TREE, buy("q", T0 + DAY, sharer="C"), bindings=bindings)
    assert (result.seller_id, result.attribution, result.binding) == ("C", "sharer", None)


def test_own_link_of_a_bound_member_buyer_falls_to_the_binding():
    """M (a member) is bound to B; M buying through M's own link counts as no link."""
    bindings = Bindings.from_records([{"customer_id": "M", "member_id": "B", "since": T0}])
    on = replace(POLICY, bind_members=True)
    result = settle(on, TREE, buy("q", T0 + DAY, sharer="M", buyer="M"), bindings=bindings)
    assert (result.seller_id, result.attribution, result.own_link) == ("B", "binding", "M")


@pytest.mark.parametrize(
    ("changes", "seller", "attribution"),
    [
        ({}, "A", "buyer_inviter"),  # a member now: its inviter, binding not consulted
        ({"bind_members": True}, "B", "binding"),
        ({"self_purchase": True}, "c-1", "self_purchase"),
        ({"self_purchase": True, "bind_members": True}, "c-1", "self_purchase"),
    ],
)
def test_a_customer_who_later_joins_as_a_member(changes, seller, attribution):
    """c-1 was bound to B as a guest, then joined, invited by A: rule 2 of §6 applies."""
    joined = tree_from_text("A>B A>C>M A>c-1")
    bindings = example_h_bindings("first")
    result = settle(replace(POLICY, **changes), joined, buy("q", T0 + DAY), bindings=bindings)
    assert (result.seller_id, result.attribution) == (seller, attribution)
    check_settlement(
        replace(POLICY, **changes), joined, buy("q", T0 + DAY), result, bindings=bindings
    )


def test_a_member_whose_binding_is_over_goes_to_its_inviter():
    joined = tree_from_text("A>B A>C>M A>c-1")
    on = replace(POLICY, bind_members=True)
    result = settle(on, joined, buy("q", T0 + 7 * DAY), bindings=example_h_bindings("first"))
    assert (result.seller_id, result.attribution) == ("A", "buyer_inviter")


def test_a_member_bound_to_itself_is_refused():
    with pytest.raises(InvalidBindingError, match="never be bound to itself"):
        BindingEvent(customer_id="B", member_id="B", at=T0)
    assert share_events([buy("o", T0, sharer="B", buyer="B")]) == []


def test_without_bindings_nothing_changes():
    order = buy("q", T0 + DAY)
    assert settle(POLICY, TREE, order) == settle(POLICY, TREE, order, bindings=Bindings.empty())
    assert settle(POLICY, TREE, order).attribution == "none"


def test_an_unknown_bound_member_is_refused_like_a_sharer():
    bindings = Bindings.from_records([{"customer_id": "c-1", "member_id": "Bee", "since": T0}])
    with pytest.raises(UnknownMemberError, match="member_id='Bee', who is not a member"):
        settle(POLICY, TREE, buy("q", T0), bindings=bindings)


def test_no_paid_at_is_refused_when_the_binding_decides():
    bindings = example_h_bindings("first")
    with pytest.raises(InvalidOrderError, match="give paid_at"):
        settle(POLICY, TREE, buy("q", None), bindings=bindings)
    # A share link decides without the binding; a customer without bindings needs no time.
    assert settle(POLICY, TREE, buy("q", None, sharer="C"), bindings=bindings).seller_id == "C"
    assert settle(POLICY, TREE, buy("q", None, buyer="c-2"), bindings=bindings).seller_id is None


def test_bindings_of_the_wrong_type_are_refused():
    with pytest.raises(ArgumentTypeError, match="bindings is a list"):
        settle(POLICY, TREE, buy("q", T0), bindings=[])
    with pytest.raises(ArgumentTypeError, match="bindings is a list"):
        check_settlement(
            POLICY, TREE, buy("q", T0), settle(POLICY, TREE, buy("q", T0)), bindings=[]
        )


def test_settle_many_and_versions_take_bindings():
    bindings = example_h_bindings("first")
    orders = [buy("q1", T0 + DAY), buy("q2", T0 + 8 * DAY)]
    assert [s.seller_id for s in settle_many(POLICY, TREE, orders, bindings=bindings)] == [
        "B",
        None,
    ]
    versions = PolicyVersions.of((T0 - DAY, POLICY), (T0 + 5 * DAY, replace(POLICY, name="v2")))
    found = settle_many(versions, TREE, orders, bindings=bindings)
    assert [(s.seller_id, s.policy_name) for s in found] == [("B", "test"), (None, "v2")]
    assert settle(versions, TREE, orders[0], bindings=bindings).binding is not None


def test_resettle_keeps_the_recorded_binding():
    bindings = example_h_bindings("first")
    first = settle(POLICY, TREE, buy("q", T0 + DAY, amount=10000), bindings=bindings)
    again = resettle(first, buy("q", T0 + DAY, amount=5000))
    assert (again.seller_id, again.attribution, again.binding) == ("B", "binding", first.binding)
    assert paid(again) == {"B": 250, "A": 100}


def test_explain_tells_the_binding_in_its_own_offset():
    bindings = example_h_bindings("first")
    text = settle(POLICY, TREE, buy("q", T0 + DAY), bindings=bindings).explain()
    assert (
        "Seller: B: no share link; customer c-1 bound to B since 2026-11-03 08:00 +08:00 until "
        "2026-11-10 08:00 +08:00 (first share), who is credited with the sale"
    ) in text
    in_utc = Bindings.from_records(
        [{"customer_id": "c-1", "member_id": "C", "since": T0.astimezone(UTC)}]
    )
    text = settle(POLICY, TREE, buy("q", T0 + DAY), bindings=in_utc).explain()
    assert "bound to C since 2026-11-03 00:00 UTC (imported)" in text


def test_check_settlement_states_the_binding_rule_independently():
    bindings = example_h_bindings("override")
    order = buy("q", T0 + 3 * DAY)
    result = settle(POLICY, TREE, order, bindings=bindings)
    check_settlement(POLICY, TREE, order, result, bindings=bindings)
    with pytest.raises(InvariantError, match=r"chain: .* docs/domain.md §6 gives 'C'"):
        check_settlement(
            POLICY,
            TREE,
            order,
            settle(POLICY, TREE, order, bindings=example_h_bindings("first")),
            bindings=bindings,
        )
    wrong = bindings.for_customer("c-1")[0]
    with pytest.raises(InvariantError, match="the binding in force at paid_at is"):
        check_settlement(POLICY, TREE, order, swap(result, binding=wrong), bindings=bindings)
    with pytest.raises(InvariantError, match="chain"):
        check_settlement(POLICY, TREE, order, result)  # checked without the bindings
