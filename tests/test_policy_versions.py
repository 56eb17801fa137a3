"""Policy versions: the version in force at a time, for an order, and what is refused."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import (
    ArgumentTypeError,
    InvalidArgumentError,
    InvalidOrderError,
    InvalidPolicyError,
    InviteTree,
    Order,
    OrderLine,
    PolicyVersion,
    PolicyVersions,
    Settlement,
    TuishouError,
    UnknownGroupError,
    load_policy,
    load_policy_or_versions,
    load_policy_versions,
    replace,
    resettle,
    settle,
    settle_many,
)
from tuishou.examples import example_policy
from tuishou.testing import invite_trees, orders, policies

from helpers import CN, examples, ladders, tree_from_text

PLUS8 = timezone(timedelta(hours=8))
V1_FROM = datetime(2026, 11, 1, tzinfo=PLUS8)
V2_FROM = datetime(2026, 12, 1, tzinfo=PLUS8)


def youpin(ecosystem: str = "0.20"):
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
    ("times", "refused"),
    [([None], ["o0"]), ([V1_FROM, None, datetime(2026, 10, 1, tzinfo=CN), V2_FROM], ["o1", "o2"])],
)
def test_settle_many_names_every_order_without_a_version(times, refused):
    batch = [ecosystem_order(at, f"o{i}") for i, at in enumerate(times)]
    with pytest.raises(InvalidOrderError) as caught:
        settle_many(two_versions(), tree(), batch)
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


def test_a_group_a_version_lacks_is_refused_naming_the_version():
    v2 = replace(youpin(), group_rates={"xiaomi": "0.05"})
    versions = PolicyVersions(
        versions=[
            PolicyVersion(effective_from=V1_FROM, policy=youpin(), label="v1"),
            PolicyVersion(effective_from=V2_FROM, policy=v2, label="v2"),
        ]
    )
    assert settle(versions, tree(), ecosystem_order(V1_FROM)).version == "v1"
    with pytest.raises(
        UnknownGroupError,
        match=r"group='ecosystem' .* \(under policy version v2, in force from 2026-12-01 00:00",
    ):
        settle(versions, tree(), ecosystem_order(V2_FROM))


def test_settle_refuses_other_policy_types():
    with pytest.raises(ArgumentTypeError, match="expected Policy or PolicyVersions"):
        settle_many([youpin()], tree(), [ecosystem_order(None)])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- files

POLICY_TOML = """
name = "p"
tiers = ["member", "pusher"]
group_rates = { ecosystem = "RATE" }
rules = [{ kind = "seller", rates = { pusher = "0.5" } }]
"""


def version_toml(effective_from: str, rate: str = "0.20", extra: str = "") -> str:
    return f"effective_from = {effective_from}\n{extra}\n" + POLICY_TOML.replace("RATE", rate)


def version_json(effective_from: object, rate: str = "0.20") -> str:
    return json.dumps(
        {
            "effective_from": effective_from,
            "name": "p",
            "tiers": ["member", "pusher"],
            "group_rates": {"ecosystem": rate},
            "rules": [{"kind": "seller", "rates": {"pusher": "0.5"}}],
        }
    )


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_folder_is_read_in_effective_from_order_not_by_name(tmp_path):
    path = folder(
        tmp_path,
        {
            "a-later.toml": version_toml("2026-12-01T00:00:00+08:00", "0.25"),
            "b-earlier.json": version_json("2026-11-01T00:00:00+08:00"),
            "c.toml": version_toml("2027-01-01T00:00:00Z", "0.3", extra='label = "jan"'),
            ".hidden": "ignored",
        },
    )
    versions = load_policy_versions(path)
    assert versions.names == ("b-earlier", "a-later", "jan")
    assert versions.versions[0].effective_from == V1_FROM
    assert [str(v.policy.group_rates["ecosystem"]) for v in versions.versions] == [
        "0.2",
        "0.25",
        "0.3",
    ]
    assert load_policy_or_versions(path) == versions
    (path / "plain.toml").write_text(POLICY_TOML.replace("RATE", "0.3"), encoding="utf-8")
    assert load_policy_or_versions(path / "plain.toml") == versions.versions[2].policy


def test_the_shipped_example_folder_is_the_issue_example():
    versions = load_policy_versions(files("tuishou") / "data" / "versions")
    assert versions.names == ("v1", "v2")
    assert [v.effective_from for v in versions.versions] == [V1_FROM, V2_FROM]
    assert versions.versions[0].policy == youpin("0.20")
    assert versions.versions[1].policy == youpin("0.25")


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    path = folder(
        tmp_path,
        {
            "01-bad.toml": "name = [",
            "02-missing.toml": POLICY_TOML.replace("RATE", "0.2"),
            "03-naive.toml": version_toml("2026-11-01T00:00:00"),
            "04-date.toml": version_toml("2026-11-01"),
            "05-naive.json": version_json("2026-11-01T00:00:00"),
            "06-number.json": version_json(20261101),
            "07-rate.toml": version_toml("2026-10-01T00:00:00+08:00", "1.5"),
            "08-first.toml": version_toml("2026-11-01T00:00:00+08:00"),
            "09-same.json": version_json("2026-10-31T16:00:00+00:00"),  # the same instant
            "10-tiers.toml": version_toml("2026-12-01T00:00:00+08:00").replace(
                '"pusher"]', '"pusher", "mentor"]'
            ),
            "11-name.toml": version_toml("2027-01-01T00:00:00+08:00", extra='label = "08-first"'),
            "notes.txt": "not a policy",
        },
    )
    with pytest.raises(InvalidPolicyError, match=f"invalid policy versions in {path}") as caught:
        load_policy_versions(path)
    problems = caught.value.problems
    expected = [
        ("01-bad.toml", "not valid TOML"),
        ("02-missing.toml", "effective_from is missing; write it with its offset, e.g."),
        ("03-naive.toml", "effective_from=2026-11-01T00:00:00 has no offset"),
        ("04-date.toml", "effective_from=datetime.date(2026, 11, 1) is a date without a time"),
        ("05-naive.json", "effective_from=2026-11-01T00:00:00 has no offset"),
        ("06-number.json", "effective_from=20261101 is a int"),
        ("07-rate.toml", "group_rates.ecosystem: rate='1.5' is outside [0, 1]"),
        ("09-same.json", "is the time of"),
        ("10-tiers.toml", "missing [], extra ['mentor']"),
        ("11-name.toml", "the name '08-first' is also"),
        ("notes.txt", "is not a policy file"),
    ]
    assert len(problems) == len(expected), problems
    for file, text in expected:
        assert any(p.startswith(f"{path / file}") and text in p for p in problems), (file, problems)


@pytest.mark.parametrize(
    ("files_given", "match"),
    [
        ({}, "holds no policy file"),
        (
            {"v1.toml": version_toml("2026-11-01T00:00:00+08:00", extra='label = " x"')},
            "label: label=' x' is not a normal id",
        ),
    ],
)
def test_an_empty_folder_or_a_bad_label_is_refused(tmp_path, files_given, match):
    with pytest.raises(InvalidPolicyError, match=match):
        load_policy_versions(folder(tmp_path, files_given))


def test_load_policy_points_a_version_file_to_its_folder():
    with pytest.raises(InvalidPolicyError, match="one version of a policy versions folder"):
        load_policy(files("tuishou") / "data" / "versions" / "v1.toml")


def test_a_file_is_not_a_folder(tmp_path):
    path = folder(tmp_path, {"p.toml": version_toml("2026-11-01T00:00:00+08:00")})
    with pytest.raises(InvalidPolicyError, match="is not a folder"):
        load_policy_versions(path / "p.toml")


# ----------------------------------------------------------------------------- properties

ZONES = [UTC, CN, timezone(timedelta(hours=-5))]


@st.composite
def versioned_orders(draw: st.DrawFn) -> tuple[PolicyVersions, InviteTree, list[Order]]:
    """1-4 versions over one ladder (seconds apart or months apart), a tree and orders paid
    around, exactly at and between the switches, in any zone."""
    tiers = draw(ladders())
    count = draw(st.integers(1, 4))
    gaps = draw(st.lists(st.integers(1, 90 * 86400), min_size=count, max_size=count))
    starts = [V1_FROM + timedelta(seconds=sum(gaps[:i])) for i in range(count)]
    chosen = [draw(policies(tiers=tiers, max_rules=2)) for _ in starts]
    versions = PolicyVersions.of(*zip(starts, chosen, strict=True))
    tree = draw(invite_trees(max_size=8, tiers=tiers))
    batch = []
    for i in range(draw(st.integers(1, 4))):
        moment = draw(
            st.sampled_from(starts)
            | st.integers(0, sum(gaps)).map(lambda s: V1_FROM + timedelta(seconds=s))
        ).astimezone(draw(st.sampled_from(ZONES)))
        drawn = draw(orders(tree, order_id=f"o{i}", max_lines=2))
        batch.append(Order.model_validate({**drawn.model_dump(), "paid_at": moment}))
    return versions, tree, batch


def outcome(run: Callable[[], Settlement]) -> Settlement | tuple[type, str]:
    """The result, or the error's type and the start of its message (without the version a
    settlement under versions adds)."""
    try:
        return run()
    except TuishouError as exc:
        return type(exc), str(exc).split(" (under policy version ")[0]


@settings(max_examples=examples(150), deadline=None)
@given(versioned_orders())
def test_settling_under_versions_is_settling_under_the_policy_in_force(case):
    versions, tree, batch = case
    for order in batch:
        assert order.paid_at is not None
        version = versions.version_at(order.paid_at)
        expected = outcome(lambda o=order, v=version: settle(v.policy, tree, o))
        if isinstance(expected, Settlement):
            expected = dataclasses.replace(
                expected, version=version.name, version_from=version.effective_from
            )
        assert outcome(lambda o=order: settle(versions, tree, o)) == expected
        assert version.effective_from <= order.paid_at
        later = [v for v in versions.versions if v.effective_from > version.effective_from]
        assert all(order.paid_at < v.effective_from for v in later)


@settings(max_examples=examples(50), deadline=None)
@given(versioned_orders())
def test_settling_under_versions_is_deterministic_and_order_independent(case):
    versions, tree, batch = case
    once = outcome(lambda: settle_many(versions, tree, batch))
    assert outcome(lambda: settle_many(versions, tree, batch)) == once
    if isinstance(once, list):
        backwards = settle_many(versions, tree, batch[::-1])
        assert backwards[::-1] == once
        assert [s.explain() for s in once] == [settle(versions, tree, o).explain() for o in batch]


def test_the_docs_example_runs():
    text = (Path(__file__).resolve().parents[1] / "docs" / "concepts.md").read_text("utf-8")
    section = text.split("## Policy versions")[1].split("\n## ")[0]
    code = section.split("```python\n")[1].split("```")[0]
    exec(compile(code, "docs/concepts.md (Policy versions)", "exec"), {})


def test_check_settlement_takes_versions_and_checks_the_version_in_force():
    from dataclasses import replace

    from test_worked_month import TREE, cn, order, versions
    from tuishou.errors import InvariantError
    from tuishou.invariants import check_settlement

    plans, tree = versions(), InviteTree.from_records(TREE)
    late_november = order("o-b", cn(11, 30, 23, 59, 59), 10000)
    settled = settle(plans, tree, late_november)
    check_settlement(plans, tree, late_november, settled)
    with pytest.raises(InvariantError, match="settled under version 'v2', but 'v1' is in force"):
        check_settlement(plans, tree, late_november, replace(settled, version="v2"))
    with pytest.raises(InvariantError, match="conservation"):
        check_settlement(plans, tree, late_november, replace(settled, retained=0))
