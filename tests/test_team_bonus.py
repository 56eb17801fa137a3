"""The team bonus (团队业绩奖): the worked example, gates, clamping, texts, exactness, errors,
and properties of the numpy pass against the plain-Python reference (docs/domain.md §20)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuishou import InviteTree, Order, Policy, settle
from tuishou.bonuses import TeamBonus, TeamBonusResult, team_bonus, team_bonus_reference
from tuishou.engine import BatchResult, OrderTable, PayoutTable, personal_volumes, settle_batch
from tuishou.engine.columns import Encoded, LineColumns, read_lines
from tuishou.errors import (
    ArgumentTypeError,
    FloatRefusedError,
    InvalidArgumentError,
    UnknownMemberError,
    UnknownTierError,
)
from tuishou.orders import order_columns
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import replace
from tuishou.settlement.coupons import paid_order
from tuishou.testing import DEFAULT_TIERS, invite_trees, order_batches, policies

from helpers import examples, ladders, tree_from_text

BOTH = [team_bonus, team_bonus_reference]
TIERS = list(DEFAULT_TIERS)  # member, pusher, mentor, senior_advisor
WORKED = TeamBonus.model_validate(
    {
        "brackets": [
            {"from": 1_000_000, "rate": "0.03"},
            {"from": 5_000_000, "rate": "0.05"},
            {"from": 20_000_000, "rate": "0.08"},
        ]
    }
)
WORKED_VOLUMES = {"A": 12_000_000, "B": 3_000_000, "C": 500_000, "D": 6_000_000}


def worked(plan: TeamBonus = WORKED, *, tiers: str = "", **kwargs: Any) -> TeamBonusResult:
    tree = tree_from_text("A>B>D A>C", tiers=tiers)
    return team_bonus(plan, tree, WORKED_VOLUMES, tiers=TIERS, period="2026-11", **kwargs)


def with_bracket(top: dict[str, Any]) -> TeamBonus:
    """The worked plan with its 8% bracket gated by ``top``."""
    brackets = [b.model_dump(by_alias=True) for b in WORKED.brackets]
    return TeamBonus.model_validate({"brackets": [*brackets[:2], {**brackets[2], **top}]})


# ------------------------------------------------------------------ the worked example


@pytest.mark.parametrize("run", BOTH)
@pytest.mark.parametrize(
    ("member", "personal", "team", "bracket", "bonus"),
    [
        ("A", 12_000_000, 21_500_000, 2, 1_270_000),
        ("B", 3_000_000, 9_000_000, 1, 150_000),
        ("C", 500_000, 500_000, -1, 0),
        ("D", 6_000_000, 6_000_000, 1, 300_000),
    ],
)
def test_worked_example(
    run: Any, member: str, personal: int, team: int, bracket: int, bonus: int
) -> None:
    result = run(WORKED, tree_from_text("A>B>D A>C"), WORKED_VOLUMES, tiers=TIERS)
    row = result.row(member)
    assert (row.personal, row.team, row.bracket, row.bonus, row.clamped) == (
        personal,
        team,
        bracket,
        bonus,
        0,
    )
    assert result.total() == 1_720_000 == math.floor(Decimal("0.08") * 21_500_000)


@pytest.mark.parametrize(
    ("member", "text"),
    [
        (
            "A",
            "team volume ¥215,000.00 in 2026-11 → 8% = ¥17,200.00, less B's team ¥90,000.00 "
            "at 5% (¥4,500.00) = ¥12,700.00",
        ),
        (
            "B",
            "team volume ¥90,000.00 in 2026-11 → 5% = ¥4,500.00, less D's team ¥60,000.00 "
            "at 5% (¥3,000.00) = ¥1,500.00",
        ),
        (
            "C",
            "team volume ¥5,000.00 in 2026-11 → no bracket (the lowest starts at ¥10,000.00) "
            "= ¥0.00",
        ),
        ("D", "team volume ¥60,000.00 in 2026-11 → 5% = ¥3,000.00"),
    ],
)
def test_worked_example_texts(member: str, text: str) -> None:
    assert worked().explain(member) == text


# ------------------------------------------------------------------ gates


@pytest.mark.parametrize(
    ("gate", "tiers", "rate", "bonus", "why"),
    [
        ({"min_tier": "mentor"}, "A:mentor", "0.08", 1_270_000, None),
        ({"min_tier": "mentor"}, "A:senior_advisor", "0.08", 1_270_000, None),
        (
            {"min_tier": "mentor"},
            "A:pusher",
            "0.05",
            625_000,
            "→ 5% (8% needs tier mentor or higher (holds pusher)) = ¥10,750.00",
        ),
        ({"min_active_directs": 2}, "", "0.08", 1_270_000, None),
        (
            {"min_active_directs": 3},
            "",
            "0.05",
            625_000,
            "→ 5% (8% needs 3 active directs (has 2)) = ¥10,750.00",
        ),
        (
            {"min_tier": "mentor", "min_active_directs": 3},
            "",
            "0.05",
            625_000,
            "(8% needs tier mentor or higher (holds member) and 3 active directs (has 2))",
        ),
    ],
)
def test_gates_fall_back_to_a_lower_bracket(
    gate: dict[str, Any], tiers: str, rate: str, bonus: int, why: str | None
) -> None:
    plan = with_bracket(gate)
    result = worked(plan, tiers=tiers)
    row = result.row("A")
    assert (row.rate, row.bonus) == (Decimal(rate), bonus)
    reference = team_bonus_reference(
        plan, tree_from_text("A>B>D A>C", tiers=tiers), WORKED_VOLUMES, tiers=TIERS
    )
    assert result.as_rows() == reference.as_rows()
    if why is not None:
        assert why in result.explain("A")


@pytest.mark.parametrize(
    ("suspended", "volumes", "directs"),
    [
        ("", {"B": 1, "C": 1}, 2),
        ("C", {"B": 1, "C": 1}, 1),  # suspended: not active
        ("", {"B": 1, "C": 0}, 1),  # below active_volume
        ("", {"B": 1, "C": -5}, 1),
        ("", {"B": 1, "D": 9}, 1),  # D is not a direct of A
    ],
)
@pytest.mark.parametrize("run", BOTH)
def test_active_directs(run: Any, suspended: str, volumes: dict[str, int], directs: int) -> None:
    tree = tree_from_text("A>B>D A>C", suspended=suspended)
    plan = TeamBonus.model_validate(
        {
            "brackets": [
                {"from": 1, "rate": "0.01"},
                {"from": 2, "rate": "0.5", "min_active_directs": 2},
            ]
        }
    )
    result = run(plan, tree, {"A": 100, **volumes}, tiers=TIERS)
    assert int(result.active_directs[result.position("A")]) == directs
    assert result.row("A").bracket == (1 if directs >= 2 else 0)


def test_active_volume_threshold() -> None:
    plan = TeamBonus.model_validate(
        {
            "active_volume": 500,
            "brackets": [
                {"from": 1, "rate": "0.01"},
                {"from": 2, "rate": "0.5", "min_active_directs": 1},
            ],
        }
    )
    tree = tree_from_text("A>B")
    assert team_bonus(plan, tree, {"B": 499}, tiers=TIERS).row("A").bracket == 0
    assert team_bonus(plan, tree, {"B": 500}, tiers=TIERS).row("A").bracket == 1


# ------------------------------------------------------------------ clamping


@pytest.mark.parametrize("run", BOTH)
def test_the_counterexample_chain_pays_at_most_the_top_rate(run: Any) -> None:
    """A 8% → B gated to nothing → C 8%, all volume at C: paying ``rate × TV − Σ rate_c ×
    TV_c`` with a clamp would pay A 8 and C 8 (16 of 100); deducting what was paid pays 8."""
    plan = TeamBonus.model_validate(
        {"brackets": [{"from": 1, "rate": "0.08", "min_tier": "pusher"}]}
    )
    tree = tree_from_text("A>B>C", tiers="A:pusher C:pusher")
    result = run(plan, tree, {"C": 10_000}, tiers=TIERS, period="2026-11")
    assert result.bonuses() == {"C": 800}
    assert result.clamped() == {"B": -800}
    assert (result.row("B").clamped, result.row("A").clamped) == (-800, 0)
    assert result.explain("A") == (
        "team volume ¥100.00 in 2026-11 → 8% = ¥8.00, less ¥8.00 paid in B's team "
        "(team ¥100.00) = ¥0.00"
    )
    assert result.explain("B") == (
        "team volume ¥100.00 in 2026-11 → no bracket (8% needs tier pusher or higher (holds "
        "member)), less C's team ¥100.00 at 8% (¥8.00) = -¥8.00: C's team was paid more than "
        "B's entitlement; nothing is paid (clamped, shortfall ¥8.00)"
    )


@pytest.mark.parametrize("run", BOTH)
def test_a_lower_entitlement_than_paid_below_is_clamped(run: Any) -> None:
    plan = TeamBonus.model_validate(
        {
            "brackets": [
                {"from": 1, "rate": "0.05"},
                {"from": 1_000, "rate": "0.08", "min_tier": "mentor"},
            ]
        }
    )
    tree = tree_from_text("A>B", tiers="A:pusher B:mentor")
    result = run(plan, tree, {"B": 10_000}, tiers=TIERS, period="2026-11")
    assert result.bonuses() == {"B": 800}
    assert result.clamped() == {"A": -300}
    row = result.row("A")
    assert (row.entitlement, row.below_paid, row.bonus, row.clamped) == (500, 800, 0, -300)
    assert result.explain("A") == (
        "team volume ¥100.00 in 2026-11 → 5% (8% needs tier mentor or higher (holds pusher)) = "
        "¥5.00, less B's team ¥100.00 at 8% (¥8.00) = -¥3.00: B's team was paid more than "
        "A's entitlement; nothing is paid (clamped, shortfall ¥3.00)"
    )


def test_several_invitees_paid_more_name_the_teams() -> None:
    plan = TeamBonus.model_validate(
        {
            "brackets": [
                {"from": 1, "rate": "0.01"},
                {"from": 1_000, "rate": "0.08", "min_tier": "mentor"},
            ]
        }
    )
    tree = tree_from_text("A>B A>C", tiers="B:mentor C:mentor")
    result = team_bonus(plan, tree, {"B": 10_000, "C": 10_000}, tiers=TIERS)
    assert result.explain("A").endswith(
        "= -¥14.00: its invitees' teams were paid more than A's entitlement; nothing is paid "
        "(clamped, shortfall ¥14.00)"
    )


# ------------------------------------------------------------------ negative volumes


@pytest.mark.parametrize("run", BOTH)
@pytest.mark.parametrize(
    ("volumes", "bonuses", "clamped", "text"),
    [
        (
            {"A": -500, "B": 1_000},
            {"B": 200},
            {"A": -150},
            "team volume ¥5.00 → 10% = ¥0.50, less B's team ¥10.00 at 20% (¥2.00) = -¥1.50: "
            "B's team was paid more than A's entitlement; nothing is paid (clamped, shortfall "
            "¥1.50)",
        ),
        (
            {"A": -2_000, "B": 1_000},
            {"B": 200},
            {"A": -200},
            "team volume -¥10.00 → no bracket (the team volume is not positive), less B's team "
            "¥10.00 at 20% (¥2.00) = -¥2.00: B's team was paid more than A's entitlement; "
            "nothing is paid (clamped, shortfall ¥2.00)",
        ),
        (
            {"A": -2_000},
            {},
            {},
            "team volume -¥20.00 → no bracket (the team volume is not positive) = ¥0.00",
        ),
        ({}, {}, {}, "team volume ¥0.00 → no bracket (the team volume is not positive) = ¥0.00"),
        (
            {"B": -300},
            {},
            {},
            "team volume -¥3.00 → no bracket (the team volume is not positive) = ¥0.00",
        ),
    ],
)
def test_negative_and_zero_volumes(
    run: Any, volumes: dict[str, int], bonuses: dict[str, int], clamped: dict[str, int], text: str
) -> None:
    plan = TeamBonus.model_validate(
        {"brackets": [{"from": 100, "rate": "0.1"}, {"from": 1_000, "rate": "0.2"}]}
    )
    result = run(plan, tree_from_text("A>B"), volumes, tiers=TIERS)
    assert (result.bonuses(), result.clamped(), result.explain("A")) == (bonuses, clamped, text)


# ------------------------------------------------------------------ exactness and overflow


def test_rounding_is_down_to_the_fen() -> None:
    plan = TeamBonus.model_validate({"brackets": [{"from": 1, "rate": "0.0333"}]})
    result = team_bonus(plan, tree_from_text("A"), {"A": 299}, tiers=TIERS)
    assert result.row("A").bonus == 9  # 9.9567 fen, floored


@pytest.mark.parametrize("volume", [2**62 - 1, 2**62, -(2**62), 2**59 + 12_345])
def test_volumes_near_int64_switch_to_python_ints(volume: int) -> None:
    plan = TeamBonus.model_validate({"brackets": [{"from": 1, "rate": "0.3333"}]})
    tree = tree_from_text("A>B")
    result = team_bonus(plan, tree, {"B": volume}, tiers=TIERS)
    assert result.entitlement.dtype == object
    expected = math.floor(Fraction(3333, 10_000) * volume) if volume > 0 else 0
    assert result.row("B").entitlement == expected
    assert (
        result.as_rows() == team_bonus_reference(plan, tree, {"B": volume}, tiers=TIERS).as_rows()
    )


def test_small_volumes_stay_int64() -> None:
    result = worked()
    assert (result.entitlement.dtype, result.bonus.dtype) == (np.int64, np.int64)


# ------------------------------------------------------------------ input errors


@pytest.mark.parametrize("run", BOTH)
@pytest.mark.parametrize(
    ("volumes", "error", "words"),
    [
        ({"A": 1, "X": 2, "Y": 3}, UnknownMemberError, ["2 member(s)", "'X'", "'Y'"]),
        ({"Bx": 1}, UnknownMemberError, ["'Bx'", "did you mean 'B'"]),
        ({"A": 1.5, "B": 2.0}, FloatRefusedError, ["2 member(s)", "'A': 1.5", "'B': 2.0", "int"]),
        ({"A": "100", "B": True}, ArgumentTypeError, ["'A': str", "'B': bool"]),
    ],
)
def test_bad_volumes_are_refused_naming_all(
    run: Any, volumes: dict[str, Any], error: type[Exception], words: list[str]
) -> None:
    tree = tree_from_text("A>B")
    before = tree.to_records()
    with pytest.raises(error) as raised:
        run(WORKED, tree, volumes, tiers=TIERS)
    for word in words:
        assert word in str(raised.value)
    assert tree.to_records() == before


@pytest.mark.parametrize("run", BOTH)
def test_unknown_tiers_are_refused_naming_all(run: Any) -> None:
    tree = tree_from_text("A>B>C", tiers="A:boss B:chief")
    with pytest.raises(UnknownTierError, match=r"2 member.*'A'.*'boss'.*'B'.*'chief'"):
        run(WORKED, tree, {}, tiers=TIERS)
    with pytest.raises(UnknownTierError, match=r"'mentr'.*did you mean 'mentor'"):
        run(with_bracket({"min_tier": "mentr"}), tree_from_text("A"), {}, tiers=TIERS)


@pytest.mark.parametrize("run", BOTH)
def test_wrong_argument_types(run: Any) -> None:
    with pytest.raises(ArgumentTypeError, match="TeamBonus"):
        run({"brackets": []}, tree_from_text("A"), {}, tiers=TIERS)
    with pytest.raises(ArgumentTypeError, match="InviteTree"):
        run(WORKED, {"A": None}, {}, tiers=TIERS)
    with pytest.raises(ArgumentTypeError, match="mapping"):
        run(WORKED, tree_from_text("A"), [("A", 1)], tiers=TIERS)


def test_explain_unknown_member() -> None:
    with pytest.raises(UnknownMemberError, match="'Z'"):
        worked().explain("Z")


# ------------------------------------------------------------------ properties


@st.composite
def cases(draw: st.DrawFn) -> tuple[TeamBonus, InviteTree, dict[str, int]]:
    size = draw(st.integers(1, 25))
    ids = [f"m{i}" for i in range(size)]
    parents = [None] + [draw(st.none() | st.integers(0, i - 1)) for i in range(1, size)]
    tree = InviteTree.from_records(
        {
            "member_id": member,
            "inviter_id": None if parent is None else ids[parent],
            "tier": draw(st.sampled_from(TIERS)),
            "status": draw(st.sampled_from(["active", "active", "suspended"])),
        }
        for member, parent in zip(ids, parents, strict=True)
    )
    negative = draw(st.booleans())
    amounts = st.integers(-50_000 if negative else 0, 3_000_000)
    volumes = draw(st.dictionaries(st.sampled_from(ids), amounts))
    count = draw(st.integers(1, 4))
    starts = sorted(draw(st.sets(st.integers(1, 5_000_000), min_size=count, max_size=count)))
    units = sorted(draw(st.lists(st.integers(0, 2_000), min_size=count, max_size=count)))
    brackets = [
        {
            "from": start,
            "rate": str(Decimal(unit) / 10_000),
            **({"min_tier": draw(st.sampled_from(TIERS))} if draw(st.booleans()) else {}),
            **({"min_active_directs": draw(st.integers(1, 3))} if draw(st.booleans()) else {}),
        }
        for start, unit in zip(starts, units, strict=True)
    ]
    active = draw(st.integers(1, 1_000))
    plan = TeamBonus.model_validate({"brackets": brackets, "active_volume": active})
    return plan, tree, volumes


@settings(max_examples=examples(150), deadline=None)
@given(cases())
def test_numpy_pass_equals_the_reference(
    case: tuple[TeamBonus, InviteTree, dict[str, int]],
) -> None:
    plan, tree, volumes = case
    fast = team_bonus(plan, tree, volumes, tiers=TIERS)
    assert fast.as_rows() == team_bonus_reference(plan, tree, volumes, tiers=TIERS).as_rows()


@settings(max_examples=examples(150), deadline=None)
@given(cases())
def test_bonuses_are_never_negative_and_shortfalls_are_reported(
    case: tuple[TeamBonus, InviteTree, dict[str, int]],
) -> None:
    plan, tree, volumes = case
    result = team_bonus(plan, tree, volumes, tiers=TIERS)
    rows = result.as_rows()
    assert all(row.bonus >= 0 and row.clamped <= 0 for row in rows)
    assert result.clamped() == {
        row.member_id: row.entitlement - row.below_paid
        for row in rows
        if row.entitlement < row.below_paid
    }
    for row in rows:
        assert row.bonus == max(0, row.entitlement - row.below_paid)
        assert row.clamped == min(0, row.entitlement - row.below_paid)
        assert row.bonus > 0 or row.clamped < 0 or row.entitlement == row.below_paid


@settings(max_examples=examples(150), deadline=None)
@given(cases())
def test_each_root_pays_at_most_the_top_rate_of_its_volume(
    case: tuple[TeamBonus, InviteTree, dict[str, int]],
) -> None:
    plan, tree, volumes = case
    volumes = {member: abs(amount) for member, amount in volumes.items()}
    result = team_bonus(plan, tree, volumes, tiers=TIERS)
    for root in tree.roots():
        team = [root, *_below(tree, root)]
        paid = sum(result.row(member).bonus for member in team)
        total = sum(volumes.get(member, 0) for member in team)
        assert paid <= math.floor(Fraction(plan.top_rate) * total)
        assert paid == result.row(root).team_paid


@settings(max_examples=examples(100), deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_the_same_input_gives_the_same_result(
    case: tuple[TeamBonus, InviteTree, dict[str, int]], rng: Any
) -> None:
    plan, tree, volumes = case
    first = team_bonus(plan, tree, volumes, tiers=TIERS, period="p")
    shuffled = list(volumes.items())
    rng.shuffle(shuffled)
    again = team_bonus(plan, tree, dict(shuffled), tiers=TIERS, period="p")
    assert first.as_rows() == again.as_rows()
    assert [first.explain(m) for m in first.ids] == [again.explain(m) for m in again.ids]


def _below(tree: InviteTree, member: str) -> list[str]:
    found, stack = [], list(tree.direct_invites(member))
    while stack:
        kid = stack.pop()
        found.append(kid)
        stack.extend(tree.direct_invites(kid))
    return found


# ------------------------------------------------------------------ personal volumes


PV_TREE = "A>B A>C"
PV_POLICY = Policy.model_validate(
    {
        "name": "pv",
        "tiers": ["m"],
        "group_rates": {"g": "0.1"},
        "rules": [{"kind": "seller", "rates": {"m": "0.5"}}],
    }
)
PV_LINES: dict[str, list[Any]] = {  # o4: a guest's order without a share link: no seller
    "order_id": ["o1", "o2", "o2", "o3", "o4", "o5"],
    "buyer_id": [None, "g1", "g1", None, "g2", "B"],
    "sharer_id": ["A", "B", "B", "A", None, None],
    "sku": ["s", "s", "t", "s", "s", "s"],
    "group": ["g"] * 6,
    "amount": [10_000, 6_000, 4_000, 30_000, 40_000, 7_001],
    "coupon": [0, 1_001, 1_001, 0, 0, 1],  # o2's applies to its first line only
    "coupon_eligible": [None, True, False, None, None, None],
}
NEW_FROM = datetime(2026, 12, 1, tzinfo=UTC)
PV_SALES = {"A": 40_000, "B": 8_999 + 7_000}  # o2: 10,000 less 1,001; o5 (B buys, self): 7,000


def _as_input(form: str, columns: dict[str, list[Any]]) -> Any:
    if form == "pandas":
        import pandas as pd

        return pd.DataFrame(columns)
    if form == "arrow":
        import pyarrow as pa

        return pa.table(columns)
    return read_lines(columns) if form == "lines" else dict(columns)


@pytest.mark.parametrize("form", ["dict", "pandas", "arrow", "lines"])
def test_personal_volumes_are_sales_after_the_coupon_not_commission(form: str) -> None:
    tree = tree_from_text(PV_TREE, default_tier="m")
    policy = replace(PV_POLICY, self_purchase=True)
    result = settle_batch(policy, tree, _as_input(form, PV_LINES))
    commission: dict[str, int] = {}
    for _, seller, _, paid, _ in result.orders.rows():
        if seller is not None:
            commission[seller] = commission.get(seller, 0) + paid
    assert commission == {"A": 2_000, "B": 800}  # 5% of sales: what the old sum gave
    assert personal_volumes(result, _as_input(form, PV_LINES)) == PV_SALES


def test_personal_volumes_leave_out_orders_without_a_seller_and_zero_sums() -> None:
    tree = tree_from_text("A>B C", default_tier="m")
    lines = {
        "order_id": ["o1", "o2", "o3"],
        "buyer_id": ["g1", "g2", "A"],
        "sharer_id": ["C", None, None],
        "sku": ["s"] * 3,
        "group": ["g"] * 3,
        "amount": [500, 9_000, 800],
        "coupon": [500, None, None],  # C's only order is paid by the coupon entirely
    }
    result = settle_batch(PV_POLICY, tree, lines)  # A buys: no self-purchase, A's inviter: none
    assert [row[1] for row in result.orders.rows()] == ["C", None, None]
    assert personal_volumes(result, lines) == {}


def test_personal_volumes_under_policy_versions() -> None:
    tree = tree_from_text(PV_TREE, default_tier="m")
    new = replace(PV_POLICY, name="new", self_purchase=True, group_rates={"g": "0.3"})
    versions = PolicyVersions.of((datetime(2026, 11, 1, tzinfo=UTC), PV_POLICY), (NEW_FROM, new))
    paid_at = [datetime(2026, 11 + i % 2, 10 + i, tzinfo=UTC) for i in (0, 1, 1, 2, 3, 4)]
    lines = {**PV_LINES, "paid_at": paid_at}  # o2, o4 under new; o5 under old:
    # without self-purchase, B's own order is credited to its inviter A
    result = settle_batch(versions, tree, lines)
    assert len({row[5] for row in result.orders.rows()}) == 2  # cut in two, merged
    assert personal_volumes(result, lines) == {"A": 47_000, "B": 8_999}
    single = {**lines, "paid_at": [NEW_FROM] * 6}  # one version: the result is not cut
    assert personal_volumes(settle_batch(versions, tree, single), single) == PV_SALES


def test_personal_volumes_read_lines_given_in_another_order() -> None:
    tree = tree_from_text(PV_TREE, default_tier="m")
    policy = replace(PV_POLICY, self_purchase=True)
    result = settle_batch(policy, tree, PV_LINES)
    backwards = {name: column[::-1] for name, column in PV_LINES.items()}
    assert personal_volumes(result, backwards) == PV_SALES


@pytest.mark.parametrize(
    ("ids", "rows", "match"),
    [
        (["o1", "o2", "o2", "o3", "o4", "o9"], 6, r"does not, e.g. \['o9'\]"),
        (["o1", "o2", "o2", "o3", "o4", "o5"], 5, r"lack orders .* e.g. \['o5'\]"),
        ([1, 2, 2, 3, 4, 5], 6, r"does not, e.g. \[1, 2, 3\]"),
    ],
)
def test_personal_volumes_refuse_lines_of_other_orders(
    ids: list[Any], rows: int, match: str
) -> None:
    tree = tree_from_text(PV_TREE, default_tier="m")
    result = settle_batch(PV_POLICY, tree, PV_LINES)
    other = {name: column[:rows] for name, column in {**PV_LINES, "order_id": ids}.items()}
    with pytest.raises(InvalidArgumentError, match=match + ".*the same mapping, DataFrame"):
        personal_volumes(result, other)


def test_personal_volumes_take_a_batch_result() -> None:
    with pytest.raises(ArgumentTypeError, match="takes settle_batch's BatchResult, not a dict"):
        personal_volumes({"A": 1}, PV_LINES)  # type: ignore[arg-type]


def _crafted(amounts: list[int], sellers: list[int]) -> tuple[BatchResult, LineColumns]:
    """Orders o0, o1, ... one line each, past what read_lines takes (MAX_ORDER_FEN)."""
    count = len(amounts)
    ids = [f"o{i}" for i in range(count)]
    codes = np.arange(count, dtype=np.int64)
    none = Encoded(np.full(count, -1, dtype=np.int32), [])
    one = Encoded(np.zeros(count, dtype=np.int32), ["x"])
    lines = LineColumns(
        Encoded(codes.astype(np.int32), ids),
        none,
        none,
        one,
        one,
        np.array(amounts, dtype=np.int64),
        np.ones(count, dtype=np.int64),
    )
    zeros = np.zeros(count, dtype=np.int64)
    orders = OrderTable(
        codes, np.array(sellers, dtype=np.int64), zeros, zeros, zeros, ids, ["A", "B"]
    )
    empty = np.zeros(0, dtype=np.int64)
    payouts = PayoutTable(empty, empty, empty, empty, empty, empty, ids, ["A", "B"], ())
    return BatchResult(payouts, orders), lines


def test_personal_volumes_are_exact_past_float_precision() -> None:
    big = 2**53  # a float64 sum of big + 1 + 1 gives big: the last fen is lost
    result, lines = _crafted([big, 1, 1, 5], [0, 0, 0, -1])
    assert personal_volumes(result, lines) == {"A": big + 2}


def test_personal_volumes_refuse_sums_past_int64() -> None:
    result, lines = _crafted([2**62, 2**62, 1], [0, 1, 1])
    with pytest.raises(InvalidArgumentError, match="above the 9223372036854775807 fen"):
        personal_volumes(result, lines)


@st.composite
def settled_batches(draw: st.DrawFn) -> tuple[Policy, InviteTree, list[Order]]:
    tiers = draw(ladders())
    tree = draw(invite_trees(tiers=tiers, max_size=8))
    policy = draw(policies(tiers=tiers))
    return policy, tree, draw(order_batches(tree, max_size=6, max_lines=3, coupons=True))


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settled_batches())
def test_personal_volumes_sum_what_settle_credits_each_seller(
    case: tuple[Policy, InviteTree, list[Order]],
) -> None:
    policy, tree, batch = case
    expected: dict[str, int] = {}
    for order in batch:
        seller = settle(policy, tree, order).seller_id
        if seller is not None:
            paid = sum(line.amount for line in paid_order(order).lines)
            expected[seller] = expected.get(seller, 0) + paid
    columns = order_columns(batch)
    result = settle_batch(policy, tree, columns)
    assert personal_volumes(result, columns) == {m: v for m, v in expected.items() if v}
