"""Tier keeping per period (保级), docs/domain.md §22: reviews over consecutive periods, with
demotion after K misses, promotions counting upwards in the same pass, and probation.

``run_periods`` plays the part of the ledger: it carries each review's misses to the next
one and applies the tier changes between periods.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou.bonuses import MentorBonus, TierKeeping, TierReview, promotion_rewards, review_period
from tuishou.errors import (
    ArgumentTypeError,
    FloatRefusedError,
    InvalidArgumentError,
    UnknownMemberError,
    UnknownTierError,
)
from tuishou.ladder import Requirements
from tuishou.tiers import apply_tier_changes, evaluate_tiers
from tuishou.tree import InviteTree

from helpers import CN, examples, tree_from_text

TIERS = ("member", "pusher", "mentor")
REQUIREMENTS = {
    "pusher": {"min_personal_sales": 39_600},
    "mentor": {"min_direct": 3, "min_team_sales": 500_000},
}
ENDS = [datetime(2026, 12, 1, tzinfo=CN), datetime(2027, 1, 1, tzinfo=CN)]
ENDS += [datetime(2027, 2, 1, tzinfo=CN)]  # the ends of 2026-11, 2026-12 and 2027-01
PERIODS = ["2026-11", "2026-12", "2027-01"]
MET, MISS = 39_600, 39_599  # A's personal volume: meets pusher's 39,600 or misses by 1 fen


def keeping(k: int, **fields: Any) -> TierKeeping:
    return TierKeeping(requirements=REQUIREMENTS, demote_after=k, **fields)


def run_periods(
    plan: TierKeeping, tree: InviteTree, volumes: Sequence[Mapping[str, int]]
) -> list[tuple[TierReview, ...]]:
    """Review each period in turn, as the ledger does: misses carried, changes applied."""
    misses: dict[str, int] = {}
    out = []
    for end, period, figures in zip(ENDS, PERIODS, volumes, strict=False):
        reviews = review_period(
            plan, tree, figures, tiers=TIERS, as_of=end, misses=misses, period=period
        )
        apply_tier_changes(tree, [r for r in reviews if r.changed])  # TierReview fits
        misses = {r.member_id: r.misses for r in reviews if r.misses}
        out.append(reviews)
    return out


def history(reviews: list[tuple[TierReview, ...]], member: str) -> list[tuple[str, int]]:
    """The member's (tier after the review, misses after it) per period."""
    found = []
    for period in reviews:
        mine = [r for r in period if r.member_id == member]
        found.append((mine[0].new, mine[0].misses) if mine else ("-", 0))
    return found


# ----------------------------------------------------------------------------- three periods


@pytest.mark.parametrize(
    ("case", "k", "promote", "volumes", "expected"),
    [
        (
            "K = 2: miss, miss → demoted at the second; met → promoted back",
            2,
            True,
            [MISS, MISS, MET],
            [("pusher", 1), ("member", 0), ("pusher", 0)],
        ),
        (
            "K = 2: miss, met, miss → kept (the misses are not consecutive)",
            2,
            True,
            [MISS, MET, MISS],
            [("pusher", 1), ("-", 0), ("pusher", 1)],
        ),
        (
            "K = 2: miss, miss, miss → demoted at the second, then holds member",
            2,
            True,
            [MISS, MISS, MISS],
            [("pusher", 1), ("member", 0), ("-", 0)],
        ),
        (
            "K = 0 never demotes; the misses still count",
            0,
            True,
            [MISS, MISS, MISS],
            [("pusher", 1), ("pusher", 2), ("pusher", 3)],
        ),
        (
            "K = 1 demotes at once",
            1,
            True,
            [MISS, MET, MET],
            [("member", 0), ("pusher", 0), ("-", 0)],
        ),
        (
            "K = 3 demotes at the third",
            3,
            True,
            [MISS, MISS, MISS],
            [("pusher", 1), ("pusher", 2), ("member", 0)],
        ),
        (
            "promote off: demoted, and not promoted back",
            2,
            False,
            [MISS, MISS, MET],
            [("pusher", 1), ("member", 0), ("-", 0)],
        ),
        (
            "promote off, K = 1: demoted at once, never promoted",
            1,
            False,
            [MISS, MET, MET],
            [("member", 0), ("-", 0), ("-", 0)],
        ),
        (
            "a negative volume (refunds of earlier sales) counts as no sales",
            1,
            True,
            [-500_000, MET, MET],
            [("member", 0), ("pusher", 0), ("-", 0)],
        ),
    ],
)
def test_three_periods(case, k, promote, volumes, expected):
    tree = tree_from_text("A", tiers="A:pusher")
    reviews = run_periods(keeping(k, promote=promote), tree, [{"A": v} for v in volumes])
    assert history(reviews, "A") == expected, case


def test_reasons_over_three_periods():
    tree = tree_from_text("A", tiers="A:pusher")
    reviews = run_periods(keeping(2), tree, [{"A": MISS}, {"A": MISS}, {"A": MET}])
    assert [r.reason for period in reviews for r in period] == [
        "2026-11: below pusher (1 of 2 periods): personal sales 39599 < 39600",
        "2026-12: demoted after 2 periods below pusher: qualifies only for member "
        "(personal sales 39599 < 39600)",
        "2027-01: promoted: qualifies for pusher: personal sales 39600 >= 39600",
    ]
    tree = tree_from_text("A", tiers="A:pusher")
    never = run_periods(keeping(0), tree, [{"A": MISS}, {"A": MISS}])
    assert never[1][0].reason == (
        "2026-12: below pusher (2 periods, never demoted: K = 0): personal sales 39599 < 39600"
    )


def test_a_review_reports_what_it_qualified_for():
    tree = tree_from_text("A>B A>C A>D", tiers="A:mentor")
    [a] = review_period(
        keeping(2), tree, {"A": 100_000, "B": 1}, tiers=TIERS, as_of=ENDS[0], misses={"A": 0}
    )
    assert a == TierReview(
        "A",
        "mentor",
        "mentor",
        "pusher",
        1,
        False,
        "below mentor (1 of 2 periods): team sales 100001 < 500000",
    )


# ----------------------------------------------------------------------------- promotions


def test_a_promotion_counts_for_the_inviter_in_the_same_review():
    """S1, S2 and S3 reach pusher in this review; R needs three directs at pusher for mentor
    and gets it in the same review (they are counted by the tier they hold after it)."""
    plan = TierKeeping(
        requirements={
            "pusher": {"min_personal_sales": 39_600},
            "mentor": {"min_direct_at": {"pusher": 3}},
        },
        demote_after=2,
    )
    tree = tree_from_text("R>S1 R>S2 R>S3", tiers="R:pusher")
    volumes = {"R": 50_000, "S1": 40_000, "S2": 40_000, "S3": 40_000}
    reviews = review_period(plan, tree, volumes, tiers=TIERS, as_of=ENDS[0])
    assert [(r.member_id, r.old, r.new) for r in reviews] == [
        ("R", "pusher", "mentor"),
        ("S1", "member", "pusher"),
        ("S2", "member", "pusher"),
        ("S3", "member", "pusher"),
    ]
    assert (
        reviews[0].reason
        == "promoted: qualifies for mentor: 3 active directs at pusher or higher >= 3"
    )


def test_a_demotion_counts_for_the_inviter_in_the_same_review():
    """S1 falls from pusher at its K-th miss: R, needing three directs at pusher for mentor,
    falls too, in the same review (K = 1)."""
    plan = TierKeeping(
        requirements={
            "pusher": {"min_personal_sales": 39_600},
            "mentor": {"min_direct_at": {"pusher": 3}},
        },
        demote_after=1,
    )
    tree = tree_from_text("R>S1 R>S2 R>S3", tiers="R:mentor S1:pusher S2:pusher S3:pusher")
    volumes = {"R": 50_000, "S2": 40_000, "S3": 40_000}
    reviews = review_period(plan, tree, volumes, tiers=TIERS, as_of=ENDS[0])
    assert [(r.member_id, r.new, r.qualified) for r in reviews] == [
        ("R", "pusher", "pusher"),
        ("S1", "member", "member"),
    ]


# ----------------------------------------------------------------------------- probation


def test_probation_counts_misses_and_demotes_after_it_ends():
    """A migrated mentor on probation until 2027-02-01 misses three periods (K = 2): not
    demoted during probation; the review at the end of 2027-01 (as_of 2027-02-01, the
    probation's end) is the first after it, and A falls at once."""
    tree = tree_from_text("A", tiers="A:mentor")
    tree.set_probation("A", datetime(2027, 2, 1, tzinfo=CN))
    reviews = run_periods(keeping(2), tree, [{"A": MET}, {"A": MET}, {"A": MET}])
    assert [(r.new, r.misses, r.on_probation) for [r] in reviews] == [
        ("mentor", 1, True),
        ("mentor", 2, True),
        ("pusher", 0, False),
    ]
    assert [r.reason for [r] in reviews] == [
        "2026-11: on probation until 2027-02-01: below mentor (1 period), not demoted: "
        "0 active directs < 3, team sales 39600 < 500000",
        "2026-12: on probation until 2027-02-01: below mentor (2 periods), not demoted: "
        "0 active directs < 3, team sales 39600 < 500000",
        "2027-01: demoted after 3 periods below mentor: qualifies only for pusher "
        "(0 active directs < 3, team sales 39600 < 500000)",
    ]


def test_probation_ending_with_fewer_than_k_misses_keeps_counting():
    tree = tree_from_text("A", tiers="A:mentor")
    tree.set_probation("A", datetime(2027, 1, 1, tzinfo=CN))
    reviews = run_periods(keeping(3), tree, [{"A": MET}, {"A": MET}, {"A": MET}])
    assert [(r.new, r.misses, r.on_probation) for [r] in reviews] == [
        ("mentor", 1, True),
        ("mentor", 2, False),
        ("pusher", 0, False),
    ]


def test_misses_past_k_on_probation_then_met_start_again():
    """Three misses on probation (K = 2); the first review after it is met: kept, the counter
    back to 0 (not reported); the next miss is 1 of 2."""
    tree = tree_from_text("A", tiers="A:pusher")
    tree.set_probation("A", datetime(2027, 1, 1, tzinfo=CN))
    misses = {"A": 3}
    [first] = review_period(
        keeping(2), tree, {"A": MISS}, tiers=TIERS, as_of=ENDS[0], misses=misses
    )
    assert (first.new, first.misses, first.on_probation) == ("pusher", 4, True)
    assert (
        review_period(keeping(2), tree, {"A": MET}, tiers=TIERS, as_of=ENDS[1], misses={"A": 4})
        == ()
    )
    [again] = review_period(keeping(2), tree, {"A": MISS}, tiers=TIERS, as_of=ENDS[2])
    assert (again.new, again.misses) == ("pusher", 1)


def test_a_member_on_probation_may_be_promoted():
    tree = tree_from_text("A", tiers="A:member")
    tree.set_probation("A", datetime(2027, 2, 1, tzinfo=CN))
    [review] = review_period(keeping(2), tree, {"A": MET}, tiers=TIERS, as_of=ENDS[0])
    assert (review.new, review.on_probation) == ("pusher", True)


def test_a_hand_granted_tier_is_kept_like_any_other():
    """A tier without requirements is never reached by the review, and a holder misses it
    every period: with K it falls (like evaluate_tiers(demote=True))."""
    plan = TierKeeping(requirements={"pusher": {"min_personal_sales": 39_600}}, demote_after=2)
    tree = tree_from_text("A", tiers="A:mentor")
    reviews = run_periods(plan, tree, [{"A": MET}, {"A": MET}])
    assert [(r.new, r.misses, r.reason) for [r] in reviews] == [
        ("mentor", 1, "2026-11: below mentor (1 of 2 periods): mentor is granted only by hand"),
        (
            "pusher",
            0,
            "2026-12: demoted after 2 periods below mentor: qualifies only for pusher "
            "(mentor is granted only by hand)",
        ),
    ]


# ----------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("volumes", "misses", "error", "message"),
    [
        ({"A": 1.5}, {}, FloatRefusedError, "volumes of 1 member(s) are floats: 'A': 1.5"),
        ({"A": "100"}, {}, ArgumentTypeError, "volumes of 1 member(s) are not ints: 'A': str"),
        ({"A": True}, {}, ArgumentTypeError, "'A': bool; pass int numbers"),
        (
            {"Q": 1, "Z": 2, "A": 3},
            {},
            UnknownMemberError,
            "volumes names 2 member(s) not in the tree: 'Q', 'Z'",
        ),
        ({"Aa": 1}, {}, UnknownMemberError, "did you mean 'A'?"),
        ({}, {"A": -1}, InvalidArgumentError, "misses of 1 member(s) are negative: 'A': -1"),
        ({}, {"A": 1.0}, FloatRefusedError, "misses of 1 member(s) are floats: 'A': 1.0"),
        ({}, {"Q": 1}, UnknownMemberError, "misses names 1 member(s) not in the tree: 'Q'"),
    ],
)
def test_bad_figures_are_refused(volumes, misses, error, message):
    tree = tree_from_text("A>B", tiers="A:pusher")
    with pytest.raises(error, match=re.escape(message)):
        review_period(keeping(2), tree, volumes, tiers=TIERS, as_of=ENDS[0], misses=misses)


def test_bad_tiers_and_times_are_refused():
    tree = tree_from_text("A>B>C", tiers="A:boss B:chief")
    with pytest.raises(
        UnknownTierError, match=r"2 member.*'A' has tier='boss'.*'B' has tier='chief'"
    ):
        review_period(keeping(2), tree, {}, tiers=TIERS, as_of=ENDS[0])
    tree = tree_from_text("A>B")
    plan = TierKeeping(requirements={"mentr": {"min_direct": 1}})
    with pytest.raises(UnknownTierError, match=r"tier_keeping\.requirements: tier 'mentr'"):
        review_period(plan, tree, {}, tiers=TIERS, as_of=ENDS[0])
    with pytest.raises(InvalidArgumentError, match="as_of"):
        review_period(keeping(2), tree, {}, tiers=TIERS, as_of=datetime(2026, 12, 1))


def test_the_tree_is_not_changed():
    tree = tree_from_text("A>B", tiers="A:pusher")
    before = tree.to_records()
    assert review_period(keeping(1), tree, {"B": MET}, tiers=TIERS, as_of=ENDS[0])
    assert tree.to_records() == before


# ----------------------------------------------------------------------------- properties


@st.composite
def plans(draw: st.DrawFn) -> TierKeeping:
    """Requirements on small figures for pusher and mentor (either may be hand-granted)."""
    requirements = {}
    for name in TIERS[1:]:
        fields = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "min_direct": st.integers(0, 3),
                    "min_team_size": st.integers(0, 5),
                    "min_personal_sales": st.integers(0, 60),
                    "min_team_sales": st.integers(0, 150),
                    "min_direct_at": st.dictionaries(
                        st.sampled_from(TIERS), st.integers(1, 2), min_size=1, max_size=2
                    ),
                },
            )
        )
        if fields:
            requirements[name] = Requirements(**fields, mode=draw(st.sampled_from(["all", "any"])))
    return TierKeeping(requirements=requirements, demote_after=draw(st.integers(0, 3)))


@st.composite
def periods(draw: st.DrawFn) -> tuple[InviteTree, dict[str, int], dict[str, int]]:
    """A tree built from parent indices, period volumes (some negative) and miss counters."""
    size = draw(st.integers(1, 14))
    records, volumes, misses = [], {}, {}
    for i in range(size):
        parent = draw(st.integers(0, i))
        records.append(
            {
                "member_id": f"m{i}",
                "inviter_id": None if parent == i else f"m{parent}",
                "tier": draw(st.sampled_from([TIERS[0], *TIERS])),
                "status": draw(st.sampled_from(["active", "active", "suspended"])),
            }
        )
        amount = draw(st.none() | st.integers(-30, 60))
        if amount is not None:
            volumes[f"m{i}"] = amount
        missed = draw(st.integers(0, 3))
        if missed:
            misses[f"m{i}"] = missed
    return InviteTree.from_records(records), volumes, misses


@settings(max_examples=examples(100), deadline=None)
@given(plans(), periods())
def test_k_1_is_evaluate_tiers_with_demotion(plan, scenario):
    """With K = 1 and nobody on probation a review is ``evaluate_tiers(demote=True)`` on the
    period's sales (a negative volume counts as 0); with K = 0 it is ``evaluate_tiers()``."""
    tree, volumes, misses = scenario
    sales = {member: max(volume, 0) for member, volume in volumes.items()}
    ladder = plan.ladder(TIERS)
    for k, demote in [(1, True), (0, False)]:
        reviews = review_period(
            plan.model_copy(update={"demote_after": k}),
            tree,
            volumes,
            tiers=TIERS,
            as_of=ENDS[0],
            misses=misses,
        )
        changes = evaluate_tiers(ladder, tree, sales, demote=demote)
        assert [(r.member_id, r.old, r.new) for r in reviews if r.changed] == [
            (c.member_id, c.old, c.new) for c in changes
        ]


@settings(max_examples=examples(100), deadline=None)
@given(plans(), periods())
def test_a_review_is_deterministic_and_counts_misses(plan, scenario):
    tree, volumes, misses = scenario
    reviews = review_period(plan, tree, volumes, tiers=TIERS, as_of=ENDS[0], misses=misses)
    shuffled = dict(reversed(list(volumes.items())))
    again = review_period(plan, tree, shuffled, tiers=TIERS, as_of=ENDS[0], misses=misses)
    assert reviews == again
    rank = {name: r for r, name in enumerate(TIERS)}
    k = plan.demote_after
    assert [r.member_id for r in reviews] == sorted(r.member_id for r in reviews)
    for r in reviews:
        missed = rank[r.qualified] < rank[r.old]
        if r.changed:
            assert r.misses == 0
            assert r.new == r.qualified
            if rank[r.new] < rank[r.old]:  # a demotion only at the K-th consecutive miss
                assert k > 0
                assert misses.get(r.member_id, 0) + 1 >= k
        else:
            assert missed
            assert r.misses == misses.get(r.member_id, 0) + 1
            assert k == 0 or r.misses < k


# ----------------------------------------------------------------------------- Example O


def test_example_o():
    """docs/domain.md §15, Example O: tier keeping over three periods, with probation and a
    promotion reward."""
    plan = keeping(2)
    rewards = MentorBonus(promotion_rewards={"pusher": 10_000})
    tree = tree_from_text(
        "A>B A>C A>D E>F E>G E>H",
        tiers="A:mentor E:mentor B:pusher C:pusher D:pusher F:pusher G:pusher",
    )
    tree.set_probation("E", datetime(2027, 1, 1, tzinfo=CN))
    steady = dict.fromkeys("BCDEFG", 100_000)
    volumes = [
        {**steady, "A": 100_000},
        {**steady, "A": 250_000},
        {**steady, "A": 100_000, "H": 39_600},
    ]
    misses: dict[str, int] = {}
    seen = []
    for end, period, figures in zip(ENDS, PERIODS, volumes, strict=True):
        reviews = review_period(
            plan, tree, figures, tiers=TIERS, as_of=end, misses=misses, period=period
        )
        paid = promotion_rewards(rewards, tree, reviews, tiers=TIERS, period=period)
        apply_tier_changes(tree, [r for r in reviews if r.changed])
        misses = {r.member_id: r.misses for r in reviews if r.misses}
        seen.append(
            (
                [(r.member_id, r.new, r.misses, r.on_probation) for r in reviews],
                [(r.member_id, r.amount, r.text) for r in paid],
            )
        )
    assert seen == [
        ([("A", "mentor", 1, False), ("E", "mentor", 1, True)], []),
        ([("E", "pusher", 0, False)], []),
        (
            [("A", "mentor", 1, False), ("H", "pusher", 0, False)],
            [("E", 10_000, "H (invited by E) was promoted to pusher in 2027-01: reward ¥100.00")],
        ),
    ]


def test_example_o_reasons():
    tree = tree_from_text("E>F E>G E>H", tiers="E:mentor F:pusher G:pusher")
    tree.set_probation("E", datetime(2027, 1, 1, tzinfo=CN))
    figures = dict.fromkeys("EFG", 100_000)
    reviews = run_periods(keeping(2), tree, [figures, figures])
    assert [r.reason for [r] in reviews] == [
        "2026-11: on probation until 2027-01-01: below mentor (1 period), not demoted: "
        "team sales 300000 < 500000",
        "2026-12: demoted after 2 periods below mentor: qualifies only for pusher "
        "(team sales 300000 < 500000)",
    ]
