"""Customer binding (锁粉), the core: the three modes, expiry boundaries, rebinds, refusals
(docs/domain.md §16; the hand-worked cases of issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import ArgumentTypeError, Order, OrderLine
from tuishou.bindings import (
    Binding,
    BindingEvent,
    BindingRule,
    Bindings,
    apply_event,
    bind,
    share_events,
)
from tuishou.errors import InvalidBindingError

from helpers import CN, examples

T0 = datetime(2026, 11, 3, 8, tzinfo=CN)
SECOND = timedelta(seconds=1)
WEEK = timedelta(days=7)


def event(member: str, at: datetime, how: str = "share", customer: str = "c-1") -> BindingEvent:
    return BindingEvent(customer_id=customer, member_id=member, at=at, how=how)


def holder(bindings: Bindings, when: datetime, customer: str = "c-1") -> str | None:
    found = bindings.at(customer, when)
    return None if found is None else found.member_id


# ------------------------------------------------------------------ the modes, hand-worked


@pytest.mark.parametrize("mode", ["first", "override", "register"])
def test_expiry_is_half_open_one_second_before_and_at_expiry(mode):
    """A 7-day binding made at T0 holds at T0 + 7 days - 1 s and is over at T0 + 7 days."""
    bindings = bind([event("B", T0, how="register")], BindingRule(mode=mode, days=7))
    assert holder(bindings, T0 - SECOND) is None
    assert holder(bindings, T0) == "B"
    assert holder(bindings, T0 + WEEK - SECOND) == "B"
    assert holder(bindings, T0 + WEEK) is None


@pytest.mark.parametrize("mode", ["first", "register"])
def test_first_wins_until_expiry_and_the_next_event_binds_again(mode):
    how = "register"
    rule = BindingRule(mode=mode, days=7)
    events = [
        event("B", T0, how),
        event("C", T0 + WEEK - SECOND, how),  # B still in force: nothing happens
        event("D", T0 + WEEK, how),  # B's binding is over at this very instant: D binds
    ]
    bindings = bind(events, rule)
    assert [(b.member_id, b.since, b.until) for b in bindings] == [
        ("B", T0, T0 + WEEK),
        ("D", T0 + WEEK, T0 + 2 * WEEK),
    ]
    assert holder(bindings, T0 + WEEK - SECOND) == "B"
    assert holder(bindings, T0 + WEEK) == "D"


def test_first_share_how_and_a_permanent_binding():
    bindings = bind([event("B", T0), event("C", T0 + 1000 * WEEK)], BindingRule(mode="first"))
    assert [(b.member_id, b.until, b.how) for b in bindings] == [("B", None, "first_share")]
    assert holder(bindings, datetime(9999, 1, 1, tzinfo=UTC)) == "B"


def test_override_rebinds_on_every_share_and_renews_the_same_member():
    rule = BindingRule(mode="override", days=7)
    bindings = bind([event("B", T0), event("C", T0 + 3 * SECOND), event("C", T0 + WEEK)], rule)
    assert [(b.member_id, b.since, b.until, b.how) for b in bindings] == [
        ("B", T0, T0 + 3 * SECOND, "first_share"),
        ("C", T0 + 3 * SECOND, T0 + WEEK, "rebind"),
        ("C", T0 + WEEK, T0 + 2 * WEEK, "rebind"),  # renewed: protected a week from now
    ]
    assert holder(bindings, T0 + 3 * SECOND - SECOND) == "B"
    assert holder(bindings, T0 + 3 * SECOND) == "C"
    assert holder(bindings, T0 + 2 * WEEK - SECOND) == "C"
    assert holder(bindings, T0 + 2 * WEEK) is None


def test_override_after_expiry_is_a_first_share_again():
    rule = BindingRule(mode="override", days=7)
    bindings = bind([event("B", T0), event("C", T0 + WEEK)], rule)
    assert [(b.member_id, b.until, b.how) for b in bindings] == [
        ("B", T0 + WEEK, "first_share"),
        ("C", T0 + 2 * WEEK, "first_share"),
    ]


def test_register_mode_ignores_shares_and_binds_on_registration():
    rule = BindingRule(mode="register")
    bindings = bind([event("B", T0), event("C", T0 + SECOND, "register")], rule)
    assert [(b.member_id, b.since, b.how) for b in bindings] == [("C", T0 + SECOND, "register")]
    assert holder(bindings, T0) is None
    assert len(bind([event("B", T0)], rule)) == 0


@pytest.mark.parametrize(("mode", "expected"), [("first", "B"), ("override", "C")])
def test_a_registration_counts_as_a_share_under_first_and_override(mode, expected):
    bindings = bind([event("B", T0), event("C", T0 + SECOND, "register")], BindingRule(mode=mode))
    assert holder(bindings, T0 + SECOND) == expected
    assert {b.how for b in bindings} == (
        {"first_share"} if mode == "first" else {"first_share", "register"}
    )


def test_ties_keep_input_order():
    """Two shares at one instant: under first the first one listed binds; under override the
    last one listed holds and the one it replaced, never in force, is not kept."""
    events = [event("B", T0), event("C", T0)]
    assert [b.member_id for b in bind(events, BindingRule(mode="first"))] == ["B"]
    overridden = bind(events, BindingRule(mode="override"))
    assert [(b.member_id, b.how) for b in overridden] == [("C", "first_share")]


def test_events_are_replayed_in_time_order_whatever_the_input_order():
    rule = BindingRule(mode="first", days=7)
    events = [event("D", T0 + WEEK), event("B", T0), event("C", T0 + SECOND)]
    assert [b.member_id for b in bind(events, rule)] == ["B", "D"]


def test_times_compare_in_utc_and_keep_their_offset():
    utc_event = event("C", (T0 + SECOND).astimezone(UTC))
    bindings = bind([event("B", T0), utc_event], BindingRule(mode="override"))
    assert bindings.for_customer("c-1")[1].since.utcoffset() == timedelta(0)
    assert bindings.for_customer("c-1")[0].until == T0 + SECOND


def test_customers_are_bound_independently():
    events = [event("B", T0), event("C", T0, customer="c-2")]
    bindings = bind(events, BindingRule(mode="first"))
    assert (holder(bindings, T0), holder(bindings, T0, "c-2")) == ("B", "C")
    assert bindings.customers == ("c-1", "c-2")


# ------------------------------------------------------------------ apply_event, one step


def test_apply_event_returns_existing_unchanged_when_nothing_binds():
    rule = BindingRule(mode="first")
    one = apply_event((), event("B", T0), rule)
    assert apply_event(one, event("C", T0 + SECOND), rule) is one


@pytest.mark.parametrize("mode", ["first", "override", "register"])
def test_apply_event_repeated_is_idempotent(mode):
    rule = BindingRule(mode=mode, days=3)
    once = apply_event((), event("B", T0, "register"), rule)
    assert apply_event(once, event("B", T0, "register"), rule) == once


def test_apply_event_refuses_an_event_before_the_latest_binding():
    one = apply_event((), event("B", T0), BindingRule(mode="override"))
    with pytest.raises(InvalidBindingError, match="apply events in time order"):
        apply_event(one, event("C", T0 - SECOND), BindingRule(mode="override"))


def test_apply_event_refuses_another_customers_bindings():
    one = apply_event((), event("B", T0, customer="c-2"), BindingRule(mode="first"))
    with pytest.raises(InvalidBindingError, match="for_customer"):
        apply_event(one, event("C", T0), BindingRule(mode="first"))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: apply_event((), {"customer_id": "c"}, BindingRule(mode="first")), "event"),
        (lambda: apply_event((), event("B", T0), "first"), "rule"),
        (lambda: bind([event("B", T0)], {"mode": "first"}), "rule"),
        (lambda: bind([{"customer_id": "c"}], BindingRule(mode="first")), "event"),
        (lambda: share_events([{"order_id": "o"}]), "order"),
    ],
)
def test_wrong_types_are_refused(call, name):
    with pytest.raises(ArgumentTypeError, match=f"^{name} is a"):
        call()


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "build",
    [
        lambda: BindingEvent(customer_id="B", member_id="B", at=T0),
        lambda: Binding(customer_id="B", member_id="B", since=T0),
        lambda: Bindings.from_records([{"customer_id": "B", "member_id": "B", "since": T0}]),
    ],
)
def test_a_member_bound_to_itself_is_refused(build):
    with pytest.raises(InvalidBindingError, match="never be bound to itself"):
        build()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"mode": "first", "days": 0}, "greater than or equal to 1"),
        ({"mode": "first", "days": True}, "is a bool"),
        ({"mode": "first", "days": "7"}, "valid integer"),
        ({"mode": "always"}, "mode"),
        ({"mode": "first", "hours": 3}, "hours"),
    ],
)
def test_bad_rules_are_refused(fields, expected):
    with pytest.raises(InvalidBindingError, match=expected):
        BindingRule.model_validate(fields)


def test_bad_records_and_overlaps_are_all_named_at_once():
    records = [
        {"customer_id": "c-1", "member_id": "B", "since": T0},
        {"customer_id": "c-1", "member_id": "C", "since": T0 + WEEK},  # B never ends
        {"customer_id": "c-2", "member_id": "B", "since": T0, "until": T0},  # empty interval
        {"customer_id": "c-3", "member_id": "B", "since": datetime(2026, 11, 3)},  # naive
        {"customer_id": "c-4", "member_id": " B", "since": T0},  # not a normal id
        {"customer_id": "c-5", "member_id": "B", "since": T0, "how": "guess"},
    ]
    with pytest.raises(InvalidBindingError) as caught:
        Bindings.from_records(records)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "record 2",
        "record 3",
        "record 4",
        "record 5",
        "customer 'c-1'",  # the good records' overlap, with the bad records
    ]
    assert "is not after since" in problems[0]
    assert "has no time zone" in problems[1]
    assert "normal form 'B'" in problems[2]
    assert "starts while the binding to 'B'" in problems[4]
    records = records[:2]
    with pytest.raises(InvalidBindingError, match="starts while the binding to 'B'") as caught:
        Bindings.from_records(records)
    assert len(caught.value.problems) == 1


def test_touching_bindings_are_not_an_overlap():
    records = [
        {"customer_id": "c-1", "member_id": "C", "since": T0 + WEEK},
        {"customer_id": "c-1", "member_id": "B", "since": T0, "until": T0 + WEEK},
    ]
    bindings = Bindings.from_records(records)
    assert [b.member_id for b in bindings.for_customer("c-1")] == ["B", "C"]
    assert holder(bindings, T0 + WEEK - SECOND) == "B"
    assert holder(bindings, T0 + WEEK) == "C"


def test_records_round_trip_and_equality():
    bindings = bind(
        [event("B", T0), event("C", T0 + SECOND, customer="c-2")], BindingRule(mode="first")
    )
    again = Bindings.from_records(bindings.records())
    assert again == bindings
    assert again is not bindings
    assert Bindings.from_records(list(bindings)) == bindings
    assert bindings != Bindings.empty()
    assert len(Bindings.empty()) == 0
    assert repr(bindings) == "Bindings(2 binding(s) of 2 customer(s))"
    assert bindings.records()[0] == {
        "customer_id": "c-1",
        "member_id": "B",
        "since": T0,
        "until": None,
        "how": "first_share",
    }


# ------------------------------------------------------------------ share events from orders


def _order(order_id, buyer, sharer, paid_at=T0):
    line = OrderLine(sku="s", group="g", amount=100)
    return Order(order_id=order_id, buyer_id=buyer, sharer_id=sharer, paid_at=paid_at, lines=[line])


def test_share_events_one_per_shared_order_of_another_buyer():
    orders = [
        _order("o1", "c-1", "B"),
        _order("o2", "B", "B"),  # own link: no event
        _order("o3", None, "B"),  # no buyer: nobody to bind
        _order("o4", "c-1", None),  # no share link
        _order("o5", "c-2", "C", T0 + SECOND),
    ]
    assert [(e.customer_id, e.member_id, e.at, e.how) for e in share_events(orders)] == [
        ("c-1", "B", T0, "share"),
        ("c-2", "C", T0 + SECOND, "share"),
    ]


def test_share_events_refuse_every_shared_order_without_paid_at():
    orders = [_order("o1", "c-1", "B", None), _order("o2", "B", "B", None)]
    orders.append(_order("o3", "c-2", "B", None))
    with pytest.raises(InvalidBindingError) as caught:
        share_events(orders)
    assert [p.split(" (")[0] for p in caught.value.problems] == ["order 'o1'", "order 'o3'"]
    assert "give paid_at" in caught.value.problems[0]


# ------------------------------------------------------------------ properties

instants = st.integers(0, 40).map(lambda hours: T0 + timedelta(hours=hours))
event_lists = st.lists(
    st.builds(
        event,
        member=st.sampled_from(["B", "C", "D"]),
        at=instants,
        how=st.sampled_from(["share", "register"]),
        customer=st.sampled_from(["c-1", "c-2"]),
    ),
    max_size=12,
)
rules = st.builds(
    BindingRule,
    mode=st.sampled_from(["first", "override", "register"]),
    days=st.none() | st.integers(1, 2),
)


def _reference(events, rule, customer, when):
    """Who holds ``customer`` at ``when``, straight from the mode's words (no intervals)."""
    holder_, since = None, None
    for e in sorted(events, key=lambda e: e.at):
        if e.customer_id != customer or e.at > when:
            continue
        if rule.mode == "register" and e.how != "register":
            continue
        in_force = holder_ is not None and (
            rule.days is None or e.at < since + timedelta(days=rule.days)
        )
        if in_force and rule.mode != "override":
            continue
        holder_, since = e.member_id, e.at
    if holder_ is None or (rule.days is not None and when >= since + timedelta(days=rule.days)):
        return None
    return holder_


@settings(max_examples=examples(200))
@given(event_lists, rules, instants, st.sampled_from(["c-1", "c-2"]))
def test_bind_agrees_with_the_words_of_each_mode(events, rule, when, customer):
    bindings = bind(events, rule)
    assert holder(bindings, when, customer) == _reference(events, rule, customer, when)
    assert Bindings.from_records(bindings.records()) == bindings  # valid: never overlapping


@settings(max_examples=examples(100))
@given(event_lists, rules)
def test_bind_is_apply_event_step_by_step(events, rule):
    found: dict[str, tuple[Binding, ...]] = {}
    for e in sorted(events, key=lambda e: e.at):
        found[e.customer_id] = apply_event(found.get(e.customer_id, ()), e, rule)
    assert list(bind(events, rule)) == [b for made in found.values() for b in made]


def test_override_an_identical_repeat_of_a_rebind_changes_nothing():
    """Found in review: the repeat of a rebind made the same instant a first share."""
    rule = BindingRule(mode="override")
    twice = bind([event("B", T0), event("B", T0 + SECOND), event("B", T0 + SECOND)], rule)
    once = bind([event("B", T0), event("B", T0 + SECOND)], rule)
    assert twice == once
    assert [b.how for b in twice] == ["first_share", "rebind"]


def test_override_two_members_at_one_instant_the_later_replaces_with_the_same_label():
    rule = BindingRule(mode="override", days=1)
    made = bind([event("B", T0), event("C", T0 + SECOND), event("D", T0 + SECOND)], rule)
    assert [(b.member_id, b.how) for b in made] == [("B", "first_share"), ("D", "rebind")]
    expired = bind([event("B", T0), event("C", T0 + 2 * WEEK), event("D", T0 + 2 * WEEK)], rule)
    assert [(b.member_id, b.how) for b in expired] == [("B", "first_share"), ("D", "first_share")]


@settings(max_examples=examples(100))
@given(event_lists, rules)
def test_every_event_sent_twice_in_a_row_changes_nothing(events, rule):
    """An identical repeat (a retried request) is a no-op in every mode."""
    doubled = [e for e in sorted(events, key=lambda e: e.at) for _ in range(2)]
    assert bind(doubled, rule) == bind(events, rule)
