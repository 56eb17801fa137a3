"""The mentor bonus (育成奖), docs/domain.md §21: shares of a mentee's team bonus for the
uplines it caught up with, and one-off promotion rewards to a direct inviter.

The team bonus comes in as a ``TeamBonusResult``; these tests build one by hand from a
``{member: bonus}`` table (``team_result``), so they do not depend on the team bonus pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou.bonuses import (
    MentorBonus,
    MentorShare,
    TeamBonus,
    TeamBonusResult,
    TierReview,
    mentor_shares,
    promotion_rewards,
)
from tuishou.errors import UnknownMemberError, UnknownTierError
from tuishou.testing import DEFAULT_TIERS, invite_trees
from tuishou.tree import InviteTree

from helpers import examples, tree_from_text

TIERS = ("member", "pusher", "mentor", "senior_advisor")


def team_result(
    tree: InviteTree, bonuses: Mapping[str, int], *, period: str = "2026-11"
) -> TeamBonusResult:
    """A team bonus result paying ``bonuses`` (fen), its other columns zero: the only columns
    the mentor bonus reads are the ids and the bonus."""
    arrays = tree.arrays()
    size = arrays.size
    zeros = np.zeros(size, dtype=np.int64)
    bonus = zeros.copy()
    for member, fen in bonuses.items():
        bonus[arrays.index[member]] = fen
    return TeamBonusResult(
        plan=TeamBonus(brackets=[{"from": 1, "rate": "0.01"}]),
        period=period,
        tiers=TIERS,
        ids=tuple(arrays.ids),
        inviter=np.where(arrays.parent == size, -1, arrays.parent),
        tier=zeros,
        active_directs=zeros,
        personal=zeros,
        team=zeros,
        bracket=zeros - 1,
        entitlement=zeros,
        below_paid=zeros,
        bonus=bonus,
    )


def shares_of(
    tree: InviteTree, bonuses: Mapping[str, int], **plan: object
) -> list[tuple[str, str, int, int]]:
    found = mentor_shares(
        MentorBonus.model_validate(plan), tree, team_result(tree, bonuses), tiers=TIERS
    )
    return [(s.member_id, s.mentee_id, s.generation, s.amount) for s in found]


# ----------------------------------------------------------------------------- shares by hand

# R invited A, A invited B, B invited C. B is paid a team bonus of ¥1,500.00 (150,000 fen).
CHAIN = "R>A>B>C"


@pytest.mark.parametrize(
    ("case", "tiers", "suspended", "plan", "bonuses", "expected"),
    [
        (
            "generation 1: B caught up with A",
            "A:mentor B:mentor",
            "",
            {"rates": ["0.10"]},
            {"B": 150_000},
            [("A", "B", 1, 15_000)],
        ),
        (
            "generations 1 and 2",
            "R:mentor A:pusher B:mentor",
            "",
            {"rates": ["0.10", "0.05"]},
            {"B": 150_000},
            [("A", "B", 1, 15_000), ("R", "B", 2, 7_500)],
        ),
        (
            "three generations: C's bonus up to R",
            "R:pusher A:pusher B:pusher C:mentor",
            "",
            {"rates": ["0.10", "0.05", "0.02"]},
            {"C": 100_000},
            [("A", "C", 2, 5_000), ("B", "C", 1, 10_000), ("R", "C", 3, 2_000)],
        ),
        (
            "the mentee below its inviter's tier: nothing for A, R still paid",
            "R:mentor A:senior_advisor B:mentor",
            "",
            {"rates": ["0.10", "0.05"]},
            {"B": 150_000},
            [("R", "B", 2, 7_500)],
        ),
        (
            "an upline below min_tier gets nothing; nothing passes on",
            "R:mentor A:pusher B:mentor",
            "",
            {"rates": ["0.10", "0.05"], "min_tier": "mentor"},
            {"B": 150_000},
            [("R", "B", 2, 7_500)],
        ),
        (
            "min_tier met",
            "A:mentor B:senior_advisor",
            "",
            {"rates": ["0.10"], "min_tier": "mentor"},
            {"B": 150_000},
            [("A", "B", 1, 15_000)],
        ),
        (
            "a suspended upline gets nothing; the next generation is still paid",
            "R:mentor A:mentor B:mentor",
            "A",
            {"rates": ["0.10", "0.05"]},
            {"B": 150_000},
            [("R", "B", 2, 7_500)],
        ),
        (
            "a suspended mentee's bonus is shared like any other",
            "A:mentor B:mentor",
            "B",
            {"rates": ["0.10"]},
            {"B": 150_000},
            [("A", "B", 1, 15_000)],
        ),
        (
            "floor: 10% of 1,239 is 123.9 → 123; 3.33% of 1,239 is 41.2587 → 41",
            "R:mentor A:mentor B:mentor",
            "",
            {"rates": ["0.10", "0.0333"]},
            {"B": 1_239},
            [("A", "B", 1, 123), ("R", "B", 2, 41)],
        ),
        (
            "a share that floors to 0 is left out",
            "A:mentor B:mentor",
            "",
            {"rates": ["0.10"]},
            {"B": 9},
            [],
        ),
        (
            "a root's bonus has no upline",
            "R:mentor A:mentor",
            "",
            {"rates": ["0.10"]},
            {"R": 150_000},
            [],
        ),
        (
            "generations past the root are not paid",
            "R:member A:member B:member",
            "",
            {"rates": ["0.10", "0.05", "0.02"]},
            {"A": 100_000},
            [("R", "A", 1, 10_000)],
        ),
        (
            "two mentees: one share per (upline, mentee), sorted",
            "R:mentor A:pusher B:pusher C:pusher",
            "",
            {"rates": ["0.10", "0.05"]},
            {"B": 100_000, "C": 40_000},
            [("A", "B", 1, 10_000), ("A", "C", 2, 2_000), ("B", "C", 1, 4_000)],
        ),
        (
            "rewards only, no rates: no shares",
            "A:mentor B:mentor",
            "",
            {"promotion_rewards": {"mentor": 50_000}},
            {"B": 150_000},
            [],
        ),
    ],
)
def test_mentor_shares_by_hand(case, tiers, suspended, plan, bonuses, expected):
    tree = tree_from_text(CHAIN, tiers=tiers, suspended=suspended)
    assert shares_of(tree, bonuses, **plan) == expected, case


def test_a_share_explains_itself():
    tree = tree_from_text(CHAIN, tiers="R:pusher A:mentor B:mentor")
    shares = mentor_shares(
        MentorBonus(rates=("0.10", "0.05")), tree, team_result(tree, {"B": 150_000}), tiers=TIERS
    )
    assert shares == (
        MentorShare(
            "A",
            "B",
            1,
            Decimal("0.10"),
            150_000,
            15_000,
            "10% of B's team bonus ¥1,500.00 in 2026-11 (B, generation 1, holds mentor, "
            "at least A's mentor) = ¥150.00",
        ),
        MentorShare(
            "R",
            "B",
            2,
            Decimal("0.05"),
            150_000,
            7_500,
            "5% of B's team bonus ¥1,500.00 in 2026-11 (B, generation 2, holds mentor, "
            "at least R's pusher) = ¥75.00",
        ),
    )
    unlabelled = mentor_shares(
        MentorBonus(rates=("0.10",)),
        tree,
        team_result(tree, {"B": 150_000}, period=""),
        tiers=TIERS,
    )
    assert unlabelled[0].text.startswith("10% of B's team bonus ¥1,500.00 (B, generation 1")


def test_bonuses_beyond_int64_are_shared_exactly():
    tree = tree_from_text("A>B", tiers="A:mentor B:mentor")
    huge = 2**62 + 7
    team = replace(team_result(tree, {}), bonus=np.array([0, huge], dtype=object))
    [share] = mentor_shares(MentorBonus(rates=("0.0333",)), tree, team, tiers=TIERS)
    assert share.amount == huge * 333 // 10_000


def test_mentor_shares_refuse_unknown_tiers_and_members():
    tree = tree_from_text("A>B", tiers="A:boss B:mentor")
    with pytest.raises(UnknownTierError, match="member_id='A' has tier='boss'"):
        mentor_shares(MentorBonus(rates=("0.1",)), tree, team_result(tree, {}), tiers=TIERS)
    tree = tree_from_text("A>B", tiers="A:mentor B:mentor")
    with pytest.raises(UnknownTierError, match=r"mentor_bonus\.min_tier: tier 'mentr'"):
        mentor_shares(
            MentorBonus(rates=("0.1",), min_tier="mentr"), tree, team_result(tree, {}), tiers=TIERS
        )
    other = tree_from_text("A>B>X>Y", tiers="A:mentor B:mentor")
    with pytest.raises(UnknownMemberError, match=r"2 member.*'X', 'Y'; compute it on the same"):
        mentor_shares(
            MentorBonus(rates=("0.1",)), tree, team_result(other, {"X": 5, "Y": 6}), tiers=TIERS
        )


# ----------------------------------------------------------------------------- properties


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_shares_follow_the_invite_chain(data):
    """Against a plain walk up ``tree.upline``: the same shares; none negative; their sum at
    most Σ rates × Σ mentee bonuses."""
    tree = data.draw(invite_trees(max_size=25, tiers=DEFAULT_TIERS))
    bonuses = data.draw(st.dictionaries(st.sampled_from(list(tree)), st.integers(0, 10**7)))
    rates = data.draw(
        st.lists(st.integers(0, 10_000).map(lambda n: Decimal(n) / 10_000), min_size=1, max_size=3)
    )
    least = data.draw(st.sampled_from([None, *DEFAULT_TIERS]))
    plan = MentorBonus(rates=tuple(rates), min_tier=least)
    shares = mentor_shares(plan, tree, team_result(tree, bonuses), tiers=DEFAULT_TIERS)
    rank = {name: r for r, name in enumerate(DEFAULT_TIERS)}
    expected = []
    for mentee, fen in bonuses.items():
        for g, up in enumerate(tree.upline(mentee, max_generation=len(rates)), start=1):
            numerator, denominator = rates[g - 1].as_integer_ratio()
            amount = fen * numerator // denominator
            caught_up = rank[tree.tier(mentee)] >= rank[tree.tier(up)]
            floor_met = least is None or rank[tree.tier(up)] >= rank[least]
            if tree.status(up) == "active" and caught_up and floor_met and amount > 0:
                expected.append((up, mentee, g, amount))
    expected.sort()
    assert [(s.member_id, s.mentee_id, s.generation, s.amount) for s in shares] == expected
    assert all(s.amount > 0 and s.mentee_bonus == bonuses[s.mentee_id] for s in shares)
    assert sum(s.amount for s in shares) <= sum(rates) * sum(bonuses.values())


# ----------------------------------------------------------------------------- promotion rewards

REWARDS = MentorBonus(promotion_rewards={"pusher": 10_000, "mentor": 50_000})


def review(member: str, old: str, new: str) -> TierReview:
    return TierReview(member, old, new, new, 0, False, f"{old} -> {new}")


def rewards_of(
    tree: InviteTree, reviews: list[TierReview], **options: object
) -> list[tuple[str, str, str, int]]:
    found = promotion_rewards(REWARDS, tree, reviews, tiers=TIERS, **options)  # type: ignore[arg-type]
    return [(r.member_id, r.invitee_id, r.tier, r.amount) for r in found]


@pytest.mark.parametrize(
    ("case", "tiers", "suspended", "reviews", "rewarded", "expected"),
    [
        (
            "promoted to mentor",
            "A:mentor B:pusher",
            "",
            [review("B", "pusher", "mentor")],
            (),
            [("A", "B", "mentor", 50_000)],
        ),
        (
            "promoted to the lowest rewarded tier",
            "A:mentor",
            "",
            [review("B", "member", "pusher")],
            (),
            [("A", "B", "pusher", 10_000)],
        ),
        (
            "skipping a tier pays both rewarded tiers",
            "A:senior_advisor",
            "",
            [review("B", "member", "senior_advisor")],
            (),
            [("A", "B", "pusher", 10_000), ("A", "B", "mentor", 50_000)],
        ),
        (
            "once ever: a tier already rewarded is not paid again",
            "A:mentor",
            "",
            [review("B", "member", "mentor")],
            (("B", "pusher"),),
            [("A", "B", "mentor", 50_000)],
        ),
        (
            "the inviter below the tier: only the tiers it holds",
            "A:pusher",
            "",
            [review("B", "member", "mentor")],
            (),
            [("A", "B", "pusher", 10_000)],
        ),
        (
            "the inviter promoted by the same review counts with its new tier",
            "A:pusher",
            "",
            [review("A", "pusher", "mentor"), review("B", "pusher", "mentor")],
            (),
            [("A", "B", "mentor", 50_000), ("R", "A", "mentor", 50_000)],
        ),
        (
            "the inviter demoted by the same review counts with its new tier",
            "A:mentor B:pusher",
            "",
            [review("A", "mentor", "pusher"), review("B", "pusher", "mentor")],
            (),
            [],
        ),
        (
            "a suspended inviter gets nothing",
            "A:mentor",
            "A",
            [review("B", "member", "mentor")],
            (),
            [],
        ),
        ("a root has no inviter", "R:member", "", [review("R", "member", "mentor")], (), []),
        (
            "a demotion or a kept tier pays nothing",
            "A:mentor B:mentor C:pusher",
            "",
            [review("B", "mentor", "pusher"), review("C", "pusher", "pusher")],
            (),
            [],
        ),
        (
            "a promotion to an unrewarded tier pays nothing",
            "A:senior_advisor B:mentor",
            "",
            [review("B", "mentor", "senior_advisor")],
            (),
            [],
        ),
    ],
)
def test_promotion_rewards_by_hand(case, tiers, suspended, reviews, rewarded, expected):
    tree = tree_from_text(CHAIN, tiers=f"R:mentor {tiers}", suspended=suspended)
    assert rewards_of(tree, reviews, rewarded=rewarded) == expected, case


def test_a_reward_explains_itself():
    tree = tree_from_text(CHAIN, tiers="A:mentor")
    found = promotion_rewards(
        REWARDS, tree, [review("B", "member", "mentor")], tiers=TIERS, period="2026-11"
    )
    assert [r.text for r in found] == [
        "B (invited by A) was promoted to mentor in 2026-11, past pusher: reward ¥100.00 "
        "for pusher",
        "B (invited by A) was promoted to mentor in 2026-11: reward ¥500.00",
    ]


def test_promotion_rewards_refuse_unknown_members_and_tiers():
    tree = tree_from_text(CHAIN, tiers="A:mentor")
    with pytest.raises(UnknownMemberError, match=r"reviews name 1 member.*'Q'"):
        rewards_of(tree, [review("Q", "member", "mentor")])
    with pytest.raises(UnknownTierError, match="review of 'B': tier 'mentr'"):
        rewards_of(tree, [review("B", "member", "mentr")])
    plan = MentorBonus(promotion_rewards={"mentr": 1})
    with pytest.raises(UnknownTierError, match=r"mentor_bonus\.promotion_rewards: tier 'mentr'"):
        promotion_rewards(plan, tree, [], tiers=TIERS)


# ----------------------------------------------------------------------------- Example N

EXAMPLE_M_BONUSES = {"D": 300_000, "B": 150_000, "A": 1_270_000}  # docs/domain.md Example M


@pytest.mark.parametrize(
    ("variant", "tiers", "suspended", "expected"),
    [
        ("as written", "A:senior_advisor B:mentor C:pusher D:mentor", "", [("B", "D", 1, 30_000)]),
        (
            "A a mentor",
            "A:mentor B:mentor C:pusher D:mentor",
            "",
            [("A", "B", 1, 15_000), ("A", "D", 2, 15_000), ("B", "D", 1, 30_000)],
        ),
        ("B suspended", "A:senior_advisor B:mentor C:pusher D:mentor", "B", []),
    ],
)
def test_example_n(variant, tiers, suspended, expected):
    """docs/domain.md §15, Example N: the mentor bonus on Example M's team bonuses."""
    tree = tree_from_text("A>B>D A>C", tiers=tiers, suspended=suspended)
    plan = MentorBonus(rates=("0.10", "0.05"), min_tier="mentor")
    shares = mentor_shares(plan, tree, team_result(tree, EXAMPLE_M_BONUSES), tiers=TIERS)
    assert [(s.member_id, s.mentee_id, s.generation, s.amount) for s in shares] == expected
    if variant == "as written":
        assert shares[0].text == (
            "10% of D's team bonus ¥3,000.00 in 2026-11 (D, generation 1, holds mentor, "
            "at least B's mentor) = ¥300.00"
        )
