"""Tier migration (等级平移): a worked scenario, every problem kind, properties, probation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_identifiers import spoiled
from tuishou import (
    ArgumentTypeError,
    InvalidPolicyError,
    MigrationError,
    MigrationPolicy,
    Origin,
    Requirements,
    RosterEntry,
    Tier,
    TierLadder,
    TierMapping,
    evaluate_tiers,
    migrate_team,
    review_probation,
    settle,
)

from helpers import CN, order, paid, policy, tree_from_text

AS_OF = datetime(2026, 11, 24, 10, 0, tzinfo=CN)
LADDER = TierLadder(
    tiers=[
        Tier(name="member", label="会员"),
        Tier(name="pusher", label="推手", requires=Requirements(min_personal_sales=39_600)),
        Tier(
            name="mentor", label="导师", requires=Requirements(min_direct=3, min_team_sales=500_000)
        ),
        Tier(
            name="senior_advisor",
            label="高级顾问",
            requires=Requirements(min_direct_at={"mentor": 2}, min_team_size=8),
        ),
        Tier(name="director", label="董事"),  # granted by hand only
    ]
)
MAPPINGS = [
    ("每日一淘", "高级顾问", "senior_advisor"),
    ("每日一淘", "顾问", "mentor"),
    ("每日一淘", "会员", "member"),
    ("云集", "合伙人", "director"),  # above the cap: granted senior_advisor
    ("云集", "店主", "pusher"),
]


def migration_policy(**fields):
    rows = [TierMapping(platform=p, source_tier=s, tier=t) for p, s, t in MAPPINGS]
    return MigrationPolicy(**{"mappings": rows, "cap": "senior_advisor", **fields})


def entry(member_id, inviter_id=None, platform="每日一淘", source_tier="会员", **extra):
    return {
        "member_id": member_id,
        "inviter_id": inviter_id,
        "platform": platform,
        "source_tier": source_tier,
        **extra,
    }


# 每日一淘: leader T0 (高级顾问), two 顾问 T1 and T2, members under them.
# 云集: leader Y0 (合伙人, full-width platform name in the export), 店主 Y1 under it.
ROSTER = [
    entry("T0", source_tier="高级顾问", source_member_id="mryt-88", evidence="screenshot-1.png"),
    entry("T1", "T0", source_tier="顾问"),
    entry("T2", "T0", source_tier="顾问"),
    entry("T3", "T1"),
    entry("T4", "T1"),
    entry("T5", "T2"),
    entry("Y0", platform="　云集 ", source_tier="合伙人"),
    entry("Y1", "Y0", platform="云集", source_tier="店主"),
]


def host_tree():
    return tree_from_text("R>A>B", tiers="R:senior_advisor A:mentor B:pusher")


def youpin_policy():
    return policy(
        tiers=list(LADDER.names),
        group_rates={"ecosystem": "0.20"},
        self_purchase=True,
        max_generation=3,
        rules=[
            {
                "kind": "differential",
                "rates": {
                    "pusher": "0.50",
                    "mentor": "0.65",
                    "senior_advisor": "0.75",
                    "director": "0.75",
                },
                "peer_rate": "0.05",
                "peer_max": 1,
            }
        ],
    )


def migrate(tree, roster=ROSTER, **kwargs):
    arguments = {
        "ladder": LADDER,
        "policy": migration_policy(),
        "attach_to": "A",
        "as_of": AS_OF,
        **kwargs,
    }
    return migrate_team(tree, roster, **arguments)


def test_worked_scenario_structure_tiers_and_origin():
    tree = host_tree()
    report = migrate(tree)
    assert len(tree) == 3 + 8
    assert {m: tree.inviter(m) for m in report.added} == {
        "T0": "A",
        "T1": "T0",
        "T2": "T0",
        "T3": "T1",
        "T4": "T1",
        "T5": "T2",
        "Y0": "A",
        "Y1": "Y0",
    }
    assert {m: tree.tier(m) for m in report.added} == {
        "T0": "senior_advisor",
        "T1": "mentor",
        "T2": "mentor",
        "T3": "member",
        "T4": "member",
        "T5": "member",
        "Y0": "senior_advisor",
        "Y1": "pusher",
    }
    assert tree.origin("T0") == Origin("每日一淘", "高级顾问", "mryt-88")
    assert tree.origin("Y0") == Origin("云集", "合伙人", None)  # NFKC-normalised and trimmed
    for member in report.added:
        assert tree.status(member) == "active"
        assert tree.joined_at(member) == AS_OF
        assert tree.probation_until(member) == AS_OF + timedelta(days=90)
        assert tree.code_owner(tree.invite_code(member)) == member


def test_worked_scenario_report():
    report = migrate(host_tree())
    assert report.leaders == ["T0", "Y0"]
    assert report.by_tier == {"member": 3, "pusher": 1, "mentor": 2, "senior_advisor": 2}
    y0 = next(m for m in report.members if m.member_id == "Y0")
    assert (y0.mapped_tier, y0.granted_tier, y0.capped, y0.note) == (
        "director",
        "senior_advisor",
        True,
        "capped from director",
    )
    text = str(report)
    for expected in [
        "Migrated 8 member(s) on 2026-11-24, on probation until 2027-02-22",
        "Leaders (under A): T0, Y0",
        "senior_advisor 2",
        "capped from director",
    ]:
        assert expected in text
    records = report.to_records()
    assert (records[0]["member_id"], records[0]["inviter_id"]) == ("T0", "A")
    assert records[0]["evidence"] == "screenshot-1.png"
    assert {r["member_id"] for r in records} == set(report.added)


def test_an_order_by_a_migrated_member_pays_the_migrated_leader_by_the_differential():
    tree = host_tree()
    migrate(tree)
    result = settle(youpin_policy(), tree, order(("ecosystem", 10000), buyer="T3"))
    # T3 member (no rate) → T1 mentor 65% → T0 senior_advisor 10% → A (mentor): nothing.
    assert paid(result) == {"T1": 1300, "T0": 200}
    assert [(p.member_id, p.kind, p.generation) for p in result.payouts] == [
        ("T1", "differential", 1),
        ("T0", "differential", 2),
    ]


def test_unmapped_tiers_can_fall_back_to_the_lowest_tier_and_say_so():
    tree = host_tree()
    report = migrate(
        tree, [entry("N0", source_tier="钻石会员")], policy=migration_policy(on_unmapped="lowest")
    )
    assert tree.tier("N0") == "member"
    assert report.members[0].note == "unmapped: lowest tier"
    assert report.to_records()[0]["unmapped"] is True


def test_leaders_become_roots_without_attach_to():
    tree = host_tree()
    migrate(tree, attach_to=None)
    assert (tree.inviter("T0"), tree.inviter("Y0")) == (None, None)


# ------------------------------------------------------------------------------ problems

PROBLEMS = [
    ([*ROSTER, entry("T3")], r"entry 8 \(member_id='T3'\): duplicate member_id, first in entry 3"),
    ([entry("B")], r"entry 0 \(member_id='B'\): is already a member of the tree"),
    ([entry("Q", "nobody")], r"inviter_id='nobody' is not in the roster"),
    ([entry("Q", "A")], r"inviter_id='A' is a member of the tree, not of the roster"),
    ([entry("Q", "Q")], r"invites itself"),
    ([entry("P", "Q"), entry("Q", "P")], r"cycle: P → Q → P"),
    ([entry("Q", source_tier="钻石")], r"\(每日一淘, 钻石\) has no mapping"),
    ([entry("Q", platform="斑马会员")], r"no mapping for platform '斑马会员' at all"),
    ([entry("")], r"entry 0: member_id: "),
    ([{"member_id": "Q", "platform": "云集"}], r"entry 0: source_tier: is required"),
    ([{**entry("Q"), "colour": "red"}], r"entry 0: colour: "),
    ([], r"the roster is empty"),
]


@pytest.mark.parametrize(("roster", "match"), PROBLEMS)
def test_each_problem_alone_is_reported_and_changes_nothing(roster, match):
    tree = host_tree()
    before = tree.to_records()
    with pytest.raises(MigrationError, match=match) as caught:
        migrate(tree, roster)
    assert len(caught.value.problems) >= 1
    assert tree.to_records() == before


def test_attach_to_must_be_a_member():
    tree = host_tree()
    with pytest.raises(MigrationError, match=r"attach_to='Aa' is not a member of the tree; did "):
        migrate(tree, attach_to="Aa")
    assert len(tree) == 3


def test_several_problems_are_all_reported_together():
    tree = host_tree()
    before = tree.to_records()
    roster = [
        *ROSTER,
        entry("T3"),
        entry("B"),
        entry("Q", "nobody"),
        entry("Z", source_tier="?"),
        entry("P", "P"),
    ]
    with pytest.raises(MigrationError) as caught:
        migrate(tree, roster, attach_to="nobody-either")
    problems = caught.value.problems
    assert len(problems) == 6, problems
    assert str(caught.value).startswith("migration refused, nothing was added: 6 problem(s)")
    assert tree.to_records() == before


# ------------------------------------------------------------------------------ our ids


def spoilt(form, good, name):
    """``good`` spoilt in ``form``, and the refusal of it (a regex): naming its normal form."""

    def named(bad):
        return re.escape(
            f"{name}={bad!r} is not a normal id; use its normal form {good!r} (NFKC, trimmed)"
        )

    wide = spoiled("full width", good)
    return {
        "leading space": (f" {good}", named(f" {good}")),
        "trailing space": (f"{good} ", named(f"{good} ")),
        "full width": (wide, named(wide)),
        "no-break space": (f"{good}\u00a0", named(f"{good}\u00a0")),
        "control character": (
            f"{good}\x07",
            re.escape(f"{name}={good + chr(7)!r} holds a control character; ids are printable"),
        ),
        "not text": (
            7,
            re.escape(f"{name}=7 is a int; ids are text (str)")
            if name == "attach_to"
            else r"Input should be a valid string \(got 7\)",
        ),
    }[form]


ID_FORMS = [
    "leading space",
    "trailing space",
    "full width",
    "no-break space",
    "control character",
    "not text",
]
STRING_FORMS = ID_FORMS[:-1]
# (field, the entry whose field is spoilt or None for the attach_to argument, its good value)
ROSTER_IDS = [("member_id", 5, "T5"), ("inviter_id", 1, "T0"), ("attach_to", None, "A")]


@pytest.mark.parametrize("form", ID_FORMS)
@pytest.mark.parametrize(("field", "index", "good"), ROSTER_IDS)
def test_an_id_of_ours_not_normal_is_refused_with_every_other_problem(field, index, good, form):
    bad, says = spoilt(form, good, field)
    roster = [dict(item) for item in ROSTER] + [entry("B"), entry("Q", source_tier="钻石")]
    arguments = {"attach_to": bad} if index is None else {}
    if index is not None:
        roster[index][field] = bad
    tree = host_tree()
    before = tree.to_records()
    with pytest.raises(MigrationError) as caught:
        migrate(tree, roster, **arguments)
    problems = caught.value.problems
    where = "" if index is None else f"entry {index}: {field}: "
    assert [p for p in problems if re.match(where + says, p)] != [], problems
    assert len(problems) == 3, problems  # and entries 8 (B) and 9 (钻石): no knock-on
    assert any("entry 8 (member_id='B'): is already" in p for p in problems)
    assert any("entry 9 (member_id='Q'): (每日一淘, 钻石) has no mapping" in p for p in problems)
    assert tree.to_records() == before


@pytest.mark.parametrize("form", STRING_FORMS)
def test_a_refused_leader_is_not_also_reported_missing_by_its_team(form):
    bad, says = spoilt(form, "T1", "member_id")
    roster = [dict(item) for item in ROSTER]
    roster[1]["member_id"] = bad  # T1 invites T3 and T4
    with pytest.raises(MigrationError, match=r"entry 1: member_id: " + says) as caught:
        migrate(host_tree(), roster)
    assert len(caught.value.problems) == 1, caught.value.problems


def test_an_entry_after_a_refused_one_is_named_by_its_own_index():
    roster = [entry(" T0"), entry("T1"), entry("T1")]
    with pytest.raises(MigrationError) as caught:
        migrate(host_tree(), roster)
    assert caught.value.problems[1] == (
        "entry 2 (member_id='T1'): duplicate member_id, first in entry 1"
    )


@pytest.mark.parametrize("form", ID_FORMS)
@pytest.mark.parametrize("field", ["tier", "cap"])
def test_a_mapped_tier_or_a_cap_not_normal_is_refused_with_every_other_problem(field, form):
    good = "pusher" if field == "tier" else "senior_advisor"
    bad, says = spoilt(form, good, field)
    rows = [{"platform": p, "source_tier": s, "tier": t} for p, s, t in MAPPINGS]
    cap = "senior_advisor"
    if field == "tier":
        rows[4]["tier"] = bad
    else:
        cap = bad
    says = ("mappings.4.tier: " if field == "tier" else "cap: ") + says
    with pytest.raises(InvalidPolicyError, match=says) as caught:
        MigrationPolicy.model_validate({"mappings": rows, "cap": cap, "probation_days": -1})
    assert len(caught.value.problems) == 2  # and probation_days
    if isinstance(bad, str):
        with pytest.raises(InvalidPolicyError, match=says.removeprefix("mappings.4.")):
            TierMapping(
                platform="云集", source_tier="店主", tier=bad
            ) if field == "tier" else MigrationPolicy(mappings=(), cap=bad)


def test_only_the_rival_names_are_matched_after_nfkc_and_trimming():
    row = TierMapping(platform=" Ｙｕｎｊｉ", source_tier="ＶＩＰ\u00a0", tier="pusher")
    assert (row.platform, row.source_tier, row.tier) == ("Yunji", "VIP", "pusher")
    member = RosterEntry(member_id="Q", platform="Ｙｕｎｊｉ ", source_tier=" VIP")
    assert (member.platform, member.source_tier) == ("Yunji", "VIP")


def test_a_failure_while_adding_rolls_everything_back(monkeypatch):
    tree = host_tree()
    before = tree.to_records()
    real_add = type(tree).add_member
    calls = []

    def failing_add(self, member_id, **kwargs):
        calls.append(member_id)
        if len(calls) == 4:
            raise RuntimeError("disk full")
        real_add(self, member_id, **kwargs)

    monkeypatch.setattr(type(tree), "add_member", failing_add)
    with pytest.raises(RuntimeError, match="disk full"):
        migrate(tree)
    monkeypatch.undo()
    assert tree.to_records() == before
    migrate(tree)  # and the codes of the rolled-back members are free again
    assert len(tree) == 11


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"cap": "boss"}, r"cap: 'boss' is not in the ladder"),
        (
            {"mappings": [TierMapping(platform="云集", source_tier="店主", tier="pushr")]},
            r"tier 'pushr' is not in the ladder; did you mean 'pusher'\?",
        ),
    ],
)
def test_a_migration_policy_must_fit_the_ladder(fields, match):
    tree = host_tree()
    with pytest.raises(InvalidPolicyError, match=match):
        migrate(tree, policy=migration_policy(**fields))
    assert len(tree) == 3


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (
            {
                "mappings": [
                    TierMapping(platform="云集", source_tier="店主", tier="pusher"),
                    TierMapping(platform="云集 ", source_tier="店主", tier="mentor"),
                ]
            },
            r"mappings.1: \(云集, 店主\) is already mapped by mappings.0",
        ),
        ({"probation_days": -1}, r"probation_days: "),
        ({"probation_days": 1.5}, r"probation_days: "),
        ({"on_unmapped": "skip"}, r"on_unmapped: "),
    ],
)
def test_migration_policy_validation(fields, match):
    with pytest.raises(InvalidPolicyError, match=match):
        MigrationPolicy(**{"mappings": [], **fields})


def test_names_match_after_nfkc_and_trimming_but_case_sensitively():
    rows = [TierMapping(platform="Yunji", source_tier="VIP", tier="pusher")]
    chosen = MigrationPolicy(mappings=rows)
    assert chosen.tier_for("Ｙｕｎｊｉ", " ＶＩＰ ") == "pusher"
    assert chosen.tier_for("yunji", "VIP") is None


def test_as_of_must_be_a_datetime():
    with pytest.raises(ArgumentTypeError, match=r"as_of='2026-11-24' must be a datetime"):
        migrate(host_tree(), as_of="2026-11-24")


def test_roster_entries_may_be_models_or_mappings():
    tree = host_tree()
    migrate(tree, [RosterEntry(member_id="Q", platform="云集", source_tier="店主")])
    assert tree.tier("Q") == "pusher"


# ---------------------------------------------------------------------------- properties


@st.composite
def rosters(draw, *, valid: bool):
    size = draw(st.integers(1, 15))
    entries = []
    for i in range(size):
        inviter = draw(st.none() | st.integers(0, i - 1)) if i else None
        platform, source, _ = draw(st.sampled_from(MAPPINGS))
        entries.append(
            entry(
                f"n{i}",
                None if inviter is None else f"n{inviter}",
                platform=platform,
                source_tier=source,
            )
        )
    if not valid:
        breakers = [
            lambda e: [*e, dict(e[0])],  # a duplicate id
            lambda e: [*e, entry("A")],  # an id already in the tree
            lambda e: [*e, entry("x", "ghost")],  # an inviter outside the roster
            lambda e: [*e, entry("c1", "c2"), entry("c2", "c1")],  # a cycle
            lambda e: [*e, entry("u", source_tier="unknown")],  # an unmapped tier
        ]
        for breaker in draw(st.lists(st.sampled_from(breakers), min_size=1, max_size=3)):
            entries = breaker(entries)
    order_seed = draw(st.randoms(use_true_random=False))
    order_seed.shuffle(entries)
    return entries


@settings(max_examples=60, deadline=None)
@given(rosters(valid=True))
def test_a_valid_roster_keeps_its_parent_relation_exactly(roster):
    tree = host_tree()
    report = migrate(tree, roster)
    assert len(tree) == 3 + len(roster)
    assert sorted(report.added) == sorted(e["member_id"] for e in roster)
    for e in roster:
        assert tree.inviter(e["member_id"]) == (e["inviter_id"] or "A")


@settings(max_examples=60, deadline=None)
@given(rosters(valid=False))
def test_an_invalid_roster_leaves_the_tree_unchanged(roster):
    tree = host_tree()
    before = tree.to_records()
    with pytest.raises(MigrationError):
        migrate(tree, roster)
    assert tree.to_records() == before


# ----------------------------------------------------------------------------- probation


def test_no_demotion_on_probation_but_promotion_is_allowed():
    tree = host_tree()
    migrate(tree)
    before_end = AS_OF + timedelta(days=89)
    changes = evaluate_tiers(LADDER, tree, {"T3": 40_000}, demote=True, as_of=before_end)
    moved = {c.member_id: (c.old, c.new) for c in changes}
    for member in ["T0", "T1", "T2", "Y0", "Y1"]:
        assert member not in moved  # migrated tiers hold during probation
    assert moved["T3"] == ("member", "pusher")  # promotion is allowed
    assert moved["B"] == ("pusher", "member")  # a member without probation is demoted
    after_end = AS_OF + timedelta(days=90)
    demoted = {c.member_id for c in evaluate_tiers(LADDER, tree, {}, demote=True, as_of=after_end)}
    assert {"T0", "T1", "Y0", "Y1"} <= demoted


def test_review_keeps_those_who_qualify_and_drops_the_others():
    tree = host_tree()
    migrate(tree)
    # T1 qualifies as mentor: 3 active directs and team sales 500000.
    tree.add_member("T6", inviter_id="T1", tier="member")
    sales = {"T1": 200_000, "T3": 100_000, "T4": 100_000, "T6": 100_000, "Y1": 39_600}
    assert review_probation(LADDER, tree, sales, as_of=AS_OF + timedelta(days=89)) == []
    changes = review_probation(LADDER, tree, sales, as_of=AS_OF + timedelta(days=90))
    outcome = {c.member_id: (c.old, c.new) for c in changes}
    assert outcome["T1"] == ("mentor", "mentor")  # keeps: qualifies
    assert outcome["Y1"] == ("pusher", "pusher")  # keeps: personal sales 39600
    assert outcome["T0"] == ("senior_advisor", "member")  # one mentor direct: drops
    assert outcome["T2"] == ("mentor", "member")
    assert outcome["T3"] == ("member", "pusher")  # the review also promotes
    assert not {"T6", "A"} & set(outcome)  # never on probation: untouched
    assert all(c.reason.startswith("probation review") for c in changes)
    assert (tree.tier("T0"), tree.tier("T1")) == ("member", "mentor")
    assert all(tree.probation_until(m) is None for m in outcome)
    assert review_probation(LADDER, tree, sales, as_of=AS_OF + timedelta(days=400)) == []


@pytest.mark.parametrize("value", ["", " ", "\r", "\u3000"])
def test_a_blank_rival_member_id_is_refused_with_the_roster(value):
    """The rival's member id may be any text, but never blank: the member record keeping it
    refuses a blank one, so the roster does, with its other problems."""
    with pytest.raises(MigrationError, match=r"source_member_id: .*must not be empty or blank"):
        RosterEntry(member_id="L1", platform="p", source_tier="t", source_member_id=value)
