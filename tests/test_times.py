"""One rule for every time tuishou takes: aware only (any zone, compared in UTC), on every path.

Each path below takes one time ``when``. A naive ``when`` is refused with a message naming the
field, the value and how to make it aware; two aware ``when`` in different zones that denote
the same instant give the same result. Files and the command line read a time written without
an offset in ``--timezone`` (Beijing time by default).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_support import run, scenario, write_rows
from test_cli_migrate import MAPPING, MAPPING_COLUMNS, ROSTER, ROSTER_COLUMNS
from test_migration import LADDER, host_tree, migrate
from tuishou import InviteTree, Order, OrderLine, evaluate_tiers, review_probation
from tuishou.errors import TuishouError
from tuishou.io.files import Problems
from tuishou.io.inputs import read_members
from tuishou.times import check_time, time_problem

from helpers import CN, examples

NAIVE = datetime(2026, 11, 24, 9, 0)
SAME_INSTANT = [datetime(2026, 11, 24, 9, 0, tzinfo=CN), datetime(2026, 11, 24, 1, 0, tzinfo=UTC)]


def rec(member: str, inviter: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"member_id": member, "inviter_id": inviter, "tier": "member", **fields}


def on_probation(until: datetime) -> InviteTree:
    tree = host_tree()
    tree.set_probation("A", until)
    return tree


def _add_member(field: str) -> Callable[[datetime], Any]:
    def call(when: datetime) -> Any:
        tree = InviteTree()
        tree.add_member("A", tier="member", **{field: when})
        return tree.to_records()

    return call


def _join(when: datetime) -> Any:
    tree = InviteTree(tiers=["member"])
    tree.add_member("A", tier="member")
    tree.join("B", invite_code=tree.invite_code("A"), joined_at=when)
    return tree.joined_at("B")


def _migrate(when: datetime) -> Any:
    tree = host_tree()
    report = migrate(tree, as_of=when)
    return report.probation_until, {m: tree.tier(m) for m in report.added}


def _evaluate(when: datetime) -> Any:  # the probation ends at the same instant: over
    until = datetime(2026, 11, 24, 9, 0, tzinfo=CN)
    return evaluate_tiers(LADDER, on_probation(until), {}, demote=True, as_of=when)


def _review(when: datetime) -> Any:
    tree = on_probation(datetime(2026, 11, 24, 9, 0, tzinfo=CN))
    return review_probation(LADDER, tree, {}, as_of=when), tree.to_records()


def _order(when: datetime) -> Any:
    return Order(
        order_id="o1", buyer_id="D", paid_at=when, lines=[OrderLine(sku="s", group="g", amount=100)]
    )


# Every path that takes a time, with the field its refusal names.
PATHS = {
    "from_records joined_at": (
        "joined_at",
        lambda when: InviteTree.from_records([rec("A", joined_at=when)]).to_records(),
    ),
    "from_records probation_until": (
        "probation_until",
        lambda when: InviteTree.from_records([rec("A", probation_until=when)]).to_records(),
    ),
    "add_member joined_at": ("joined_at", _add_member("joined_at")),
    "add_member probation_until": ("probation_until", _add_member("probation_until")),
    "join joined_at": ("joined_at", _join),
    "set_probation": ("probation_until", lambda when: on_probation(when).probations()),
    "evaluate_tiers as_of": ("as_of", _evaluate),
    "review_probation as_of": ("as_of", _review),
    "migrate_team as_of": ("as_of", _migrate),
    "Order paid_at": ("paid_at", _order),
}


@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_a_naive_time_naming_the_field_and_the_way_out(path):
    field, call = PATHS[path]
    message = (
        rf"{field}=2026-11-24 09:00:00 has no time zone; tuishou takes aware datetimes "
        r"only \(any zone; compared in UTC\), e.g. datetime\(2026, 11, 24, "
        r"tzinfo=ZoneInfo\('Asia/Shanghai'\)\)"
    )
    with pytest.raises(TuishouError, match=message) as caught:
        call(NAIVE)
    assert isinstance(caught.value, ValueError)


UNKEPT = {  # aware times tuishou cannot keep: refused on every path, never changed
    "nanoseconds": (
        lambda: __import__("pandas").Timestamp("2026-11-24 09:00:00.000000001", tz="UTC"),
        r"has nanoseconds; tuishou keeps times to the microsecond",
    ),
    "beyond 9999 in UTC": (
        lambda: datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("America/New_York")),
        r"is beyond the years 1 to 9999 in UTC",
    ),
}


@pytest.mark.parametrize("kind", UNKEPT)
@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_a_time_it_cannot_keep(path, kind):
    pytest.importorskip("pandas")
    field, call = PATHS[path]
    when, message = UNKEPT[kind]
    with pytest.raises(TuishouError, match=rf"{field}=.* {message}"):
        call(when())


@pytest.mark.parametrize("path", PATHS)
def test_every_path_gives_one_result_for_one_instant_in_any_zone(path):
    _, call = PATHS[path]
    assert SAME_INSTANT[0] == SAME_INSTANT[1]
    assert SAME_INSTANT[0].tzinfo != SAME_INSTANT[1].tzinfo
    assert call(SAME_INSTANT[0]) == call(SAME_INSTANT[1])


def _models() -> dict[str, tuple[str, Callable[[Any], Any]]]:
    """Every model with an ``AwareTime`` field, built with ``when`` in that field."""
    from tuishou.bindings import Binding, BindingEvent
    from tuishou.examples import example_policy
    from tuishou.ledger.statement_models import Period
    from tuishou.policy_versions import PolicyVersion

    start = datetime(2026, 11, 1, tzinfo=UTC)
    return {
        "BindingEvent at": (
            "at",
            lambda when: BindingEvent(customer_id="c", member_id="B", at=when),
        ),
        "Binding since": (
            "since",
            lambda when: Binding(customer_id="c", member_id="B", since=when),
        ),
        "Binding until": (
            "until",
            lambda when: Binding(customer_id="c", member_id="B", since=start, until=when),
        ),
        "PolicyVersion effective_from": (
            "effective_from",
            lambda when: PolicyVersion(effective_from=when, policy=example_policy()),
        ),
        "Period start": ("start", lambda when: Period(label="p", start=when, end=SAME_INSTANT[0])),
        "Period end": ("end", lambda when: Period(label="p", start=start, end=when)),
    }


NOT_TIMES = [1700000000, 1.7e9, "1700000000", True]


@pytest.mark.parametrize("value", NOT_TIMES, ids=repr)
@pytest.mark.parametrize("path", [*PATHS, *_models()])
def test_every_path_refuses_a_number_never_reading_unix_seconds(path, value):
    """A number (or numeric text) is not a time: pydantic's lax mode would read it as Unix
    seconds; every model and every path refuses it, naming the field and the value."""
    field, call = {**PATHS, **_models()}[path]
    with pytest.raises(TuishouError, match=rf"{field}={value!r} (is not|must be)") as caught:
        call(value)
    assert isinstance(caught.value, ValueError | TypeError)


def test_the_instant_decides_probation_not_the_wall_clock():
    # 09:00 in Beijing is 01:00 UTC: a probation ending then is over at 01:00 UTC, not before.
    until = datetime(2026, 11, 24, 9, 0, tzinfo=CN)
    just_before = datetime(2026, 11, 24, 0, 59, tzinfo=UTC)
    assert review_probation(LADDER, on_probation(until), {}, as_of=just_before) == []
    assert review_probation(LADDER, on_probation(until), {}, as_of=SAME_INSTANT[1]) != []


def test_a_tree_mixing_naive_and_aware_times_is_refused_with_every_problem():
    with pytest.raises(TuishouError, match=r"2 problem\(s\)") as caught:
        InviteTree.from_records(
            [
                rec("A", joined_at=SAME_INSTANT[0]),
                rec("B", "A", joined_at=NAIVE),
                rec("C", "A", probation_until="2027-02-01T00:00:00"),
            ]
        )
    problems = caught.value.problems  # type: ignore[attr-defined]
    assert [p.split(" has no time zone")[0].rsplit(": ", 1)[-1] for p in problems] == [
        "joined_at=2026-11-24 09:00:00",
        "probation_until=2027-02-01 00:00:00",
    ]


def test_the_rule_is_written_once():
    assert time_problem(SAME_INSTANT[1], name="at") is None
    assert check_time(SAME_INSTANT[0], name="at") is SAME_INSTANT[0]
    with pytest.raises(TypeError, match=r"as_of='2026-11-24' must be a datetime with a time zone"):
        check_time("2026-11-24", name="as_of")


ZONES = [CN, UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]


@settings(max_examples=examples(25))
@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2028, 1, 1),
        timezones=st.sampled_from(ZONES),
    ),
    st.timedeltas(min_value=timedelta(hours=-30), max_value=timedelta(hours=30)),
    st.sampled_from(ZONES),
)
def test_probation_reviews_compare_instants_whatever_the_zones(until, shift, zone):
    as_of = (until + shift).astimezone(zone)
    changes = review_probation(LADDER, on_probation(until), {}, as_of=as_of)
    assert (changes != []) == (as_of.astimezone(UTC) >= until.astimezone(UTC))


# ----------------------------------------------------------------------- files and the CLI


def members_with(tmp_path, *times: str):
    rows = [{"member_id": "A", "inviter_id": None, "tier": "member", "joined_at": times[0]}]
    rows += [
        {"member_id": f"B{i}", "inviter_id": "A", "tier": "member", "joined_at": t}
        for i, t in enumerate(times[1:])
    ]
    return write_rows(tmp_path / "m.csv", rows, ("member_id", "inviter_id", "tier", "joined_at"))


@pytest.mark.parametrize("zone", [CN, ZoneInfo("UTC"), ZoneInfo("America/New_York")])
def test_a_file_time_without_an_offset_is_read_in_the_platform_zone(tmp_path, zone):
    path = members_with(
        tmp_path, "2026-11-24T09:00:00", "2026-11-24T09:00:00+08:00", "2026-11-24T01:00:00Z"
    )
    tree, _ = read_members(path, tiers=None, problems=Problems(), zone=zone)
    assert tree is not None
    assert tree.joined_at("A") == datetime(2026, 11, 24, 9, 0, tzinfo=zone)
    assert tree.joined_at("B0") == tree.joined_at("B1") == SAME_INSTANT[0]  # offsets as given


def _migrate_cli(tmp_path, capsys, *options: str) -> tuple[Any, str]:
    paths = scenario(tmp_path)
    write_rows(tmp_path / "roster.csv", ROSTER, ROSTER_COLUMNS)
    write_rows(tmp_path / "mapping.csv", MAPPING, MAPPING_COLUMNS)
    out = tmp_path / "new.csv"
    out.unlink(missing_ok=True)
    code, stdout, _ = run(
        capsys,
        "migrate",
        "--members",
        str(paths["members"]),
        "--policy",
        str(paths["policy"]),
        "--roster",
        str(tmp_path / "roster.csv"),
        "--mapping",
        str(tmp_path / "mapping.csv"),
        "--attach-to",
        "A",
        "--out",
        str(out),
        *options,
    )
    tree, _ = read_members(out, tiers=None, problems=Problems())
    assert code == 0
    assert tree is not None
    return tree.probation_until("T0"), stdout


def test_the_cli_reads_as_of_in_its_timezone_or_by_its_offset(tmp_path, capsys):
    beijing = _migrate_cli(tmp_path, capsys, "--as-of", "2026-11-24T09:00:00")
    offset = _migrate_cli(tmp_path, capsys, "--as-of", "2026-11-24T01:00:00+00:00")
    utc = _migrate_cli(tmp_path, capsys, "--as-of", "2026-11-24T01:00:00", "--timezone", "UTC")
    assert beijing[0] == offset[0] == utc[0] == SAME_INSTANT[0] + timedelta(days=90)
    new_york = _migrate_cli(
        tmp_path, capsys, "--as-of", "2026-11-24T09:00:00", "--timezone", "America/New_York"
    )
    assert new_york[0] - beijing[0] == timedelta(hours=13)


def test_the_cli_default_as_of_is_today_at_midnight_in_its_timezone(tmp_path, capsys):
    until, _ = _migrate_cli(tmp_path, capsys, "--timezone", "Asia/Shanghai")
    today = datetime.now(CN).date()
    assert until.astimezone(CN) == datetime.combine(
        today + timedelta(days=90), datetime.min.time(), CN
    )


def test_the_cli_refuses_an_unknown_timezone(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        str(paths["policy"]),
        "--members",
        str(paths["members"]),
        "--orders",
        str(paths["orders"]),
        "--out",
        str(tmp_path / "p.csv"),
        "--timezone",
        "Beijing",
    )
    assert code == 2
    assert "'Beijing' is not a time zone name; use an IANA name such as Asia/Shanghai" in err
