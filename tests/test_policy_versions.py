"""Policy versions: the version in force at a time, for an order, and what is refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tuishou import (
    ArgumentTypeError,
    InvalidArgumentError,
    InvalidOrderError,
    InvalidPolicyError,
    Order,
    OrderLine,
    PolicyVersion,
    PolicyVersions,
    load_policy,
    replace,
    resettle,
    settle,
    settle_many,
)
from tuishou.examples import example_policy

from helpers import CN, tree_from_text

PLUS8 = timezone(timedelta(hours=8))
V1_FROM = datetime(2026, 11, 1, tzinfo=PLUS8)
V2_FROM = datetime(2026, 12, 1, tzinfo=PLUS8)


def youpin(ecosystem: str = "0.20"):
    from importlib.resources import files

    base = load_policy(files("tuishou") / "data" / "youpin.toml")
    return replace(base, group_rates={**base.group_rates, "ecosystem": ecosystem})


def two_versions() -> PolicyVersions:
    return PolicyVersions(
        versions=[
            PolicyVersion(effective_from=V1_FROM, policy=youpin("0.20"), label="v1"),
            PolicyVersion(effective_from=V2_FROM, policy=youpin("0.25"), label="v2"),
        ]
    )


def paid(at: datetime | None, order_id: str = "o1") -> Order:
    return Order(
        order_id=order_id,
        buyer_id="D",
        paid_at=at,
        lines=[OrderLine(sku="ear", group="ecosystem", amount=19999)],
    )


@pytest.mark.parametrize(
    ("when", "name"),
    [
        (V1_FROM, "v1"),  # inclusive
        (datetime(2026, 11, 30, 23, 59, 59, tzinfo=PLUS8), "v1"),
        (datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=PLUS8), "v1"),
        (V2_FROM, "v2"),
        (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), "v2"),  # the same instant in UTC
        (datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), "v1"),
        (datetime(2030, 1, 1, tzinfo=CN), "v2"),
    ],
)
def test_version_in_force_is_the_latest_started_compared_in_utc(when, name):
    versions = two_versions()
    assert versions.version_at(when).name == name
    assert versions.policy_at(when) is versions.version_at(when).policy
    assert versions.version_for(paid(when)).name == name


def test_before_the_first_version_is_refused_naming_both_times():
    early = datetime(2026, 10, 31, 23, 59, 59, tzinfo=PLUS8)
    with pytest.raises(InvalidArgumentError, match=r"when=2026-10-31 23:59:59\+08:00 .*'v1'"):
        two_versions().version_at(early)
    with pytest.raises(InvalidOrderError, match=r"order 'o1': paid_at=.* before the first"):
        two_versions().version_for(paid(early))


def test_a_naive_time_is_refused():
    with pytest.raises(InvalidArgumentError, match="has no time zone"):
        two_versions().version_at(datetime(2026, 11, 5))


def test_an_order_without_paid_at_needs_a_single_version():
    single = PolicyVersions.of((V1_FROM, youpin()))
    assert single.version_for(paid(None)) is single.versions[0]
    with pytest.raises(InvalidOrderError, match=r"order 'o1' has no paid_at; with 2 policy vers"):
        two_versions().version_for(paid(None))


def test_versions_for_names_every_refused_order_at_once():
    orders = [paid(None, "a"), paid(V2_FROM, "b"), paid(datetime(2020, 1, 1, tzinfo=UTC), "c")]
    with pytest.raises(InvalidOrderError) as caught:
        two_versions().versions_for(orders)
    assert [p.split(" ")[1] for p in caught.value.problems] == ["'a'", "'c':"]
    assert [v.name for v in two_versions().versions_for(orders[1:2])] == ["v2"]


def test_default_name_is_effective_from_iso_text():
    versions = PolicyVersions.of((V1_FROM, youpin()), (V2_FROM, youpin("0.25")))
    assert versions.names == ("2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00")
    assert (
        versions.version_named("2026-12-01T00:00:00+08:00").policy.group_rates["ecosystem"]
        == youpin("0.25").group_rates["ecosystem"]
    )


def test_every_problem_is_reported_at_once():
    renamed = replace(
        youpin(),
        tiers=["member", "pusher", "mentor", "advisor"],
        rules=[{"kind": "differential", "rates": {"pusher": "0.5"}}],
    )
    with pytest.raises(InvalidPolicyError) as caught:
        PolicyVersions(
            versions=[
                PolicyVersion(effective_from=V2_FROM, policy=youpin(), label="v1"),
                PolicyVersion(effective_from=V1_FROM, policy=youpin(), label="v1"),
                PolicyVersion(effective_from=V2_FROM + timedelta(days=1), policy=renamed),
            ]
        )
    problems = caught.value.problems
    assert len(problems) == 3
    assert "versions.1 (v1): effective_from=2026-11-01 00:00:00+08:00 is not after" in problems[0]
    assert "the name 'v1' is also versions.0's" in problems[1]
    assert "missing ['senior_advisor'], extra ['advisor']" in problems[2]
    assert "apply_tier_changes" in problems[2]


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"versions": []}, r"versions: .*at least 1"),
        (
            {"versions": [{"effective_from": datetime(2026, 11, 1), "policy": example_policy()}]},
            "no time zone",
        ),
        (
            {"versions": [{"effective_from": V1_FROM, "policy": example_policy(), "label": " v"}]},
            "normal id",
        ),
    ],
)
def test_invalid_versions_name_the_field(fields, match):
    with pytest.raises(InvalidPolicyError, match=match):
        PolicyVersions.model_validate(fields)


def test_tiers_in_another_order_are_refused():
    policy = youpin()
    swapped = replace(policy, tiers=["pusher", "member", "mentor", "senior_advisor"])
    with pytest.raises(InvalidPolicyError, match="the same tiers in another order"):
        PolicyVersions.of((V1_FROM, policy), (V2_FROM, swapped))


def test_versions_are_frozen():
    versions = two_versions()
    with pytest.raises(Exception, match="frozen"):
        versions.versions = ()  # type: ignore[misc]


# ----------------------------------------------------------------------------- settling


def tree():
    return tree_from_text("A>B>C>D", tiers="A:senior_advisor B:mentor C:pusher D:member")


def ecosystem_order(at: datetime | None, order_id: str = "o1", amount: int = 10000) -> Order:
    return Order(
        order_id=order_id,
        buyer_id="D",
        paid_at=at,
        lines=[OrderLine(sku="ear", group="ecosystem", amount=amount)],
    )


# The issue's example: v1 pays ecosystem goods 20%, v2 25%. An order of ¥100.00 bought by D
# (self-purchase: D is the seller, a member without a differential rate): the pool is 20% or
# 25% of 10000 fen; pusher C gets 50% of it, mentor B 65% - 50% = 15%, senior advisor A
# 75% - 65% = 10%.
@pytest.mark.parametrize(
    ("paid_at", "version", "pool", "paid"),
    [
        (
            datetime(2026, 11, 30, 23, 59, 59, tzinfo=PLUS8),
            "v1",
            2000,
            {"C": 1000, "B": 300, "A": 200},
        ),
        (datetime(2026, 12, 1, 0, 0, 0, tzinfo=PLUS8), "v2", 2500, {"C": 1250, "B": 375, "A": 250}),
    ],
)
def test_the_issue_example_settles_under_the_version_in_force(paid_at, version, pool, paid):
    result = settle(two_versions(), tree(), ecosystem_order(paid_at))
    assert (result.version, result.pool) == (version, pool)
    assert {p.member_id: p.amount for p in result.payouts} == paid
    assert result.version_from == {"v1": V1_FROM, "v2": V2_FROM}[version]
    assert result.policy == two_versions().version_named(version).policy
    plain = settle(two_versions().policy_at(paid_at), tree(), ecosystem_order(paid_at))
    assert dataclasses.replace(result, version=None, version_from=None) == plain


def test_explain_names_the_version_and_when_it_took_effect():
    result = settle(two_versions(), tree(), ecosystem_order(V2_FROM))
    first = result.explain().splitlines()[0]
    assert first == (
        "Order o1 under policy 'youpin-tuishou' (version v2, in force from "
        "2026-12-01 00:00+08:00; largest remainder, once per order)"
    )
    plain = settle(youpin(), tree(), ecosystem_order(V2_FROM)).explain().splitlines()[0]
    assert plain == "Order o1 under policy 'youpin-tuishou' (largest remainder, once per order)"


def test_a_plain_policy_accepts_paid_at_and_records_no_version():
    early = datetime(2020, 1, 1, tzinfo=UTC)
    with_time = settle(youpin(), tree(), ecosystem_order(early))
    without = settle(youpin(), tree(), ecosystem_order(None))
    assert with_time == without
    assert (with_time.version, with_time.version_from) == (None, None)


def test_resettle_keeps_the_version_of_the_first_settlement():
    november = settle(two_versions(), tree(), ecosystem_order(datetime(2026, 11, 20, tzinfo=CN)))
    half = ecosystem_order(datetime(2026, 12, 5, tzinfo=CN), amount=5000)  # a December refund
    again = resettle(november, half)
    assert (again.version, again.version_from, again.pool) == ("v1", V1_FROM, 1000)


@pytest.mark.parametrize(
    ("orders", "refused"),
    [([None], ["o0"]), ([V1_FROM, None, datetime(2026, 10, 1, tzinfo=CN), V2_FROM], ["o1", "o2"])],
)
def test_settle_many_names_every_order_without_a_version(orders, refused):
    given = [ecosystem_order(at, f"o{i}") for i, at in enumerate(orders)]
    with pytest.raises(InvalidOrderError) as caught:
        settle_many(two_versions(), tree(), given)
    assert [p.split("'")[1] for p in caught.value.problems] == refused
    with pytest.raises(InvalidOrderError, match="has no paid_at"):
        settle(two_versions(), tree(), ecosystem_order(None))
    with pytest.raises(InvalidOrderError, match="before the first policy version 'v1'"):
        settle(two_versions(), tree(), ecosystem_order(datetime(2026, 10, 1, tzinfo=CN)))


def test_settle_many_settles_each_order_under_its_version_in_input_order():
    times = [V2_FROM, V1_FROM, V2_FROM - timedelta(microseconds=1)]
    results = settle_many(
        two_versions(), tree(), [ecosystem_order(at, str(i)) for i, at in enumerate(times)]
    )
    assert [(r.order_id, r.version, r.pool) for r in results] == [
        ("0", "v2", 2500),
        ("1", "v1", 2000),
        ("2", "v1", 2000),
    ]


def test_a_single_version_settles_orders_without_paid_at():
    single = PolicyVersions(
        versions=[PolicyVersion(effective_from=V1_FROM, policy=youpin(), label="only")]
    )
    assert [r.version for r in settle_many(single, tree(), [ecosystem_order(None)])] == ["only"]


def test_settle_refuses_other_policy_types():
    with pytest.raises(ArgumentTypeError, match="expected Policy or PolicyVersions"):
        settle_many([youpin()], tree(), [ecosystem_order(None)])  # type: ignore[arg-type]
