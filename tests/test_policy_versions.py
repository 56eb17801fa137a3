"""Policy versions: the version in force at a time, for an order, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tuishou import (
    InvalidArgumentError,
    InvalidOrderError,
    InvalidPolicyError,
    Order,
    OrderLine,
    PolicyVersion,
    PolicyVersions,
    load_policy,
    replace,
)
from tuishou.examples import example_policy

from helpers import CN

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
