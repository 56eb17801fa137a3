"""The invite tree: building, validation, queries, changes and the read-only graph."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou.errors import InvalidTreeError, TuishouError, UnknownMemberError, UnknownTierError
from tuishou.tree import InviteTree

from helpers import CN, tree_from_text

LADDER = ["member", "pusher", "mentor"]
FAST = settings(max_examples=40, deadline=None, database=None)


def rec(
    member_id: Any, inviter_id: Any = None, tier: Any = "member", **extra: Any
) -> dict[str, Any]:
    """One record, with the required fields first."""
    return {"member_id": member_id, "inviter_id": inviter_id, "tier": tier, **extra}


def demo() -> InviteTree:
    """A > B > C, A > D (suspended), R a second root."""
    return tree_from_text("A>B>C A>D R", tiers="A:mentor B:pusher", suspended="D")


def snapshot(tree: InviteTree) -> list[dict[str, Any]]:
    return tree.to_records()


# ------------------------------------------------------------------ building


def test_from_records_in_any_order_builds_the_same_tree() -> None:
    records = [rec("C", "B"), rec("A"), rec("B", "A", "pusher")]
    tree = InviteTree.from_records(records)
    assert tree.upline("C") == ["B", "A"]
    assert tree == InviteTree.from_records(reversed(records))


def test_from_records_defaults_and_optional_fields() -> None:
    joined = datetime(2026, 1, 31, 9, 0, tzinfo=CN)
    tree = InviteTree.from_records(
        [
            rec("A"),
            rec("B", "A", status="suspended", joined_at=joined),
            rec("C", "A", joined_at="2026-02-01T10:30:00+08:00"),
            rec("D", "A", status=None),
        ]
    )
    assert tree.status("A") == "active"
    assert tree.status("B") == "suspended"
    assert tree.status("D") == "active"
    assert tree.joined_at("A") is None
    assert tree.joined_at("B") == joined
    assert tree.joined_at("C") == datetime(2026, 2, 1, 10, 30, tzinfo=CN)


def test_from_records_accepts_tiers_of_the_ladder() -> None:
    tree = InviteTree.from_records([rec("A", tier="mentor"), rec("B", "A")], tiers=LADDER)
    assert tree.tiers == tuple(LADDER)
    assert tree.tier("A") == "mentor"


def test_from_records_of_nothing_is_an_empty_tree() -> None:
    tree = InviteTree.from_records([])
    assert len(tree) == 0
    assert tree.roots() == []
    assert list(tree) == []
    assert tree.to_records() == []


# One problem kind at a time: the records, and a regex the (single) problem must match.
SINGLE_PROBLEMS = [
    pytest.param(
        [rec("A"), rec("A")],
        r"record 1 \(member_id='A'\): duplicate member_id, "
        r"first seen in record 0",
        id="duplicate-id",
    ),
    pytest.param(
        [rec("A"), rec("B", "Ax")],
        r"record 1 \(member_id='B'\): inviter_id='Ax' is "
        r"not a member; did you mean 'A'\?",
        id="unknown-inviter",
    ),
    pytest.param(
        [rec("A", "C"), rec("B", "A"), rec("C", "B")], r"cycle: A → B → C → A", id="cycle"
    ),
    pytest.param([rec("A", "B"), rec("B", "A")], r"cycle: A → B → A", id="two-cycle"),
    pytest.param(
        [rec("A", "A")],
        r"record 0 \(member_id='A'\): invites itself "
        r"\(inviter_id='A'\)",
        id="self-invite",
    ),
    pytest.param([rec("")], r"record 0: member_id='' is empty", id="empty-id"),
    pytest.param([rec("  ")], r"member_id='  ' is empty", id="blank-id"),
    pytest.param([rec(None)], r"member_id=None must be a non-empty string", id="none-id"),
    pytest.param([rec(7)], r"member_id=7 must be a non-empty string", id="int-id"),
    pytest.param([rec("A", "")], r"inviter_id='' is empty", id="empty-inviter"),
    pytest.param([rec("A", tier="")], r"tier='' is empty", id="empty-tier"),
    pytest.param(
        [{"member_id": "A", "inviter_id": None}],
        r"tier=None must be a non-empty",
        id="missing-tier",
    ),
    pytest.param(
        [rec("A", status="paused")],
        r"status='paused' is not one of "
        r"\('active', 'suspended'\)",
        id="bad-status",
    ),
    pytest.param([rec("A", status="Active")], r"status='Active' is not one of", id="status-case"),
    pytest.param(
        [rec("A", colour="red")],
        r"unknown field 'colour'; fields are member_id",
        id="unknown-field",
    ),
    pytest.param(
        [rec("A", joined_at="yesterday")],
        r"joined_at='yesterday' is not an ISO",
        id="bad-joined-at-text",
    ),
    pytest.param(
        [rec("A", joined_at=20260131)],
        r"joined_at=20260131 must be a datetime",
        id="bad-joined-at-type",
    ),
    pytest.param(
        [rec("A", invite_code="ABC")],
        r"invite_code: invite code 'ABC' has 3 "
        r"characters, codes have 7",
        id="short-code",
    ),
    pytest.param(
        [rec("A", invite_code="O0O0O0O")],
        r"invite_code: .*characters codes never "
        r"use: '0O'",
        id="look-alike-code",
    ),
    pytest.param(
        [rec("A", invite_code="2222223")], r"invite_code: .*looks mistyped", id="typo-code"
    ),
    pytest.param(
        [["A", None, "member"]], r"record 0: is a list, expected a mapping", id="not-a-mapping"
    ),
]


@pytest.mark.parametrize(("records", "message"), SINGLE_PROBLEMS)
def test_from_records_reports_a_single_problem(records: list[Any], message: str) -> None:
    with pytest.raises(InvalidTreeError, match=message) as info:
        InviteTree.from_records(records)
    assert len(info.value.problems) == 1
    assert "invalid tree: 1 problem(s)" in str(info.value)


def test_from_records_refuses_a_tier_outside_the_ladder() -> None:
    with pytest.raises(
        InvalidTreeError,
        match=r"tier='mentr' is not in the ladder; "
        r"did you mean 'mentor'\?",
    ) as info:
        InviteTree.from_records([rec("A", tier="mentr")], tiers=LADDER)
    assert len(info.value.problems) == 1


def test_from_records_refuses_a_code_given_twice() -> None:
    code = InviteTree.from_records([rec("X")]).invite_code("X")
    with pytest.raises(
        InvalidTreeError,
        match=rf"invite_code='{code}' is given to both "
        r"'A' and 'B'",
    ) as info:
        # The same code in another spelling is still the same code.
        InviteTree.from_records([rec("A", invite_code=code), rec("B", invite_code=code.lower())])
    assert len(info.value.problems) == 1


def test_from_records_reports_every_problem_at_once() -> None:
    good = InviteTree.from_records([rec("X")]).invite_code("X")
    records = [
        rec("A"),  # fine
        rec("A"),  # 1 duplicate id
        rec("B", "nobody"),  # 2 unknown inviter
        rec("C", "D"),
        rec("D", "C"),  # 3 cycle
        rec("E", "E"),  # 4 self-invite
        rec("", "A"),  # 5 empty id
        rec("F", "A", status="paused"),  # 6 bad status
        rec("G", "A", colour="red"),  # 7 unknown field
        rec("H", "A", tier="boss"),  # 8 tier outside the ladder
        rec("J", "A", invite_code="ABC"),  # 9 malformed code
        rec("K", "A", invite_code=good),
        rec("L", "A", invite_code=good),  # 10 duplicate code
    ]
    with pytest.raises(InvalidTreeError) as info:
        InviteTree.from_records(records, tiers=LADDER)
    problems = info.value.problems
    expected = [
        "duplicate member_id",
        "inviter_id='nobody' is not a member",
        "cycle: C → D → C",
        "invites itself",
        "member_id='' is empty",
        "status='paused'",
        "unknown field 'colour'",
        "tier='boss' is not in the ladder",
        "invite code 'ABC' has 3 characters",
        f"invite_code='{good}' is given to both 'K' and 'L'",
    ]
    for needle in expected:
        assert sum(needle in problem for problem in problems) == 1, (needle, problems)
    assert len(problems) == len(expected)
    assert f"invalid tree: {len(expected)} problem(s)" in str(info.value)


def test_a_cycle_is_reported_even_when_a_member_in_it_has_another_problem() -> None:
    # Two independent problems: A's status, and the A ↔ B cycle. Both must be reported.
    with pytest.raises(InvalidTreeError) as info:
        InviteTree.from_records([rec("A", "B", status="bogus"), rec("B", "A")])
    problems = info.value.problems
    assert any("status='bogus'" in p for p in problems), problems
    assert any("cycle" in p for p in problems), problems


@pytest.mark.parametrize("status", ["", 0, False, "ACTIVE", " active"])
def test_from_records_refuses_every_status_that_is_not_active_or_suspended(status: Any) -> None:
    with pytest.raises(InvalidTreeError, match=r"status=.* is not one of"):
        InviteTree.from_records([rec("A", status=status)])


def test_invalid_tree_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invites itself"):
        InviteTree.from_records([rec("A", "A")])
    assert issubclass(InvalidTreeError, TuishouError)


# ----------------------------------------------------------------- add_member


def test_add_member_builds_a_tree() -> None:
    tree = InviteTree(tiers=LADDER)
    tree.add_member("A", tier="mentor")
    tree.add_member(
        "B",
        inviter_id="A",
        tier="member",
        status="suspended",
        joined_at=datetime(2026, 3, 1, tzinfo=CN),
    )
    assert tree.upline("B") == ["A"]
    assert tree.status("B") == "suspended"
    assert tree.joined_at("B") == datetime(2026, 3, 1, tzinfo=CN)
    assert tree.roots() == ["A"]


def test_add_member_keeps_a_supplied_code() -> None:
    code = InviteTree.from_records([rec("X")]).invite_code("X")
    tree = InviteTree()
    tree.add_member("A", tier="member", invite_code=code.lower())
    assert tree.invite_code("A") == code
    assert tree.code_owner(code) == "A"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param(
            {"member_id": "A", "tier": "member"},
            InvalidTreeError,
            r"member_id='A' is already in the tree",
            id="duplicate",
        ),
        pytest.param(
            {"member_id": "Z", "inviter_id": "Bb", "tier": "member"},
            UnknownMemberError,
            r"member_id='Bb' is not in the tree; did you mean 'B'",
            id="unknown-inviter",
        ),
        pytest.param(
            {"member_id": "Z", "inviter_id": "A", "tier": "mentr"},
            UnknownTierError,
            r"tier='mentr' is not in this tree's ladder; did you mean 'mentor'",
            id="unknown-tier",
        ),
        pytest.param(
            {"member_id": "Z", "inviter_id": "Z", "tier": "member"},
            InvalidTreeError,
            r"invites itself",
            id="self-invite",
        ),
        pytest.param(
            {"member_id": "", "tier": "member"},
            InvalidTreeError,
            r"member_id='' is empty",
            id="empty-id",
        ),
        pytest.param(
            {"member_id": "Z", "tier": "member", "status": "paused"},
            InvalidTreeError,
            r"status='paused' is not one of",
            id="bad-status",
        ),
        pytest.param(
            {"member_id": "Z", "tier": "member", "invite_code": "ABC"},
            InvalidTreeError,
            r"invite_code",
            id="malformed-code",
        ),
    ],
)
def test_add_member_fails_fast_and_changes_nothing(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    tree = InviteTree.from_records([rec("A"), rec("B", "A")], tiers=LADDER)
    before = snapshot(tree)
    graph_before = sorted(tree.graph.edges)
    with pytest.raises(error, match=message):
        tree.add_member(**kwargs)
    assert snapshot(tree) == before
    assert sorted(tree.graph.edges) == graph_before
    assert len(tree) == 2
    assert "Z" not in tree


def test_add_member_refuses_a_code_already_held() -> None:
    tree = InviteTree.from_records([rec("A")])
    before = snapshot(tree)
    with pytest.raises(InvalidTreeError, match=r"is already held by 'A'"):
        tree.add_member("B", tier="member", invite_code=tree.invite_code("A"))
    assert snapshot(tree) == before


def test_add_member_errors_are_builtins() -> None:
    tree = InviteTree.from_records([rec("A")], tiers=LADDER)
    with pytest.raises(KeyError):
        tree.add_member("B", inviter_id="nobody", tier="member")
    with pytest.raises(KeyError):
        tree.add_member("B", tier="boss")
    with pytest.raises(ValueError, match="already in the tree"):
        tree.add_member("A", tier="member")


def test_add_member_without_a_ladder_accepts_any_tier() -> None:
    tree = InviteTree()
    tree.add_member("A", tier="anything")
    assert tree.tier("A") == "anything"
    assert tree.tiers is None


# -------------------------------------------------------------------- queries


def test_queries_on_a_small_tree() -> None:
    tree = demo()
    assert tree.inviter("A") is None
    assert tree.inviter("C") == "B"
    assert tree.upline("C") == ["B", "A"]
    assert tree.upline("A") == []
    assert tree.direct_invites("A") == ["B", "D"]
    assert tree.direct_invites("C") == []
    assert tree.team_size("A") == 3
    assert tree.team_size("B") == 1
    assert tree.team_size("C") == 0
    assert [tree.depth(m) for m in "ABCDR"] == [0, 1, 2, 1, 0]
    assert tree.roots() == ["A", "R"]
    assert tree.tier("A") == "mentor"
    assert tree.tier("C") == "member"
    assert tree.status("D") == "suspended"
    assert tree.status("C") == "active"


@pytest.mark.parametrize(
    ("max_generation", "expected"),
    [
        (None, ["D", "C", "B", "A"]),
        (0, []),
        (1, ["D"]),
        (3, ["D", "C", "B"]),
        (4, ["D", "C", "B", "A"]),
        (5, ["D", "C", "B", "A"]),
    ],
)
def test_upline_max_generation(max_generation: int | None, expected: list[str]) -> None:
    tree = tree_from_text("A>B>C>D>E")
    assert tree.upline("E", max_generation=max_generation) == expected


def test_direct_invites_are_sorted_whatever_the_joining_order() -> None:
    tree = InviteTree()
    tree.add_member("root", tier="m")
    for child in ["m3", "m10", "a", "Z"]:
        tree.add_member(child, inviter_id="root", tier="m")
    assert tree.direct_invites("root") == sorted(["m3", "m10", "a", "Z"])


def test_len_contains_and_iteration() -> None:
    tree = demo()
    assert len(tree) == 5
    assert "C" in tree
    assert "c" not in tree
    assert 5 not in tree
    assert None not in tree
    assert sorted(tree) == ["A", "B", "C", "D", "R"]
    assert len(list(tree)) == len(set(tree)) == 5


def test_iteration_of_a_tree_from_records_yields_parents_first() -> None:
    # The docstring of __iter__ promises "from_records: parents first".
    tree = InviteTree.from_records([rec("C", "B"), rec("B", "A"), rec("A")])
    order = list(tree)
    assert order.index("A") < order.index("B") < order.index("C"), order


def test_to_records_lists_parents_first_and_round_trips() -> None:
    tree = demo()
    records = tree.to_records()
    position = {r["member_id"]: i for i, r in enumerate(records)}
    for r in records:
        if r["inviter_id"] is not None:
            assert position[r["inviter_id"]] < position[r["member_id"]]
    assert set(records[0]) == {
        "member_id",
        "inviter_id",
        "tier",
        "status",
        "joined_at",
        "invite_code",
        "origin_platform",
        "origin_tier",
        "origin_member_id",
        "probation_until",
    }
    again = InviteTree.from_records(records)
    assert again == tree
    assert again.to_records() == records


def test_equality() -> None:
    assert demo() == demo()
    other = demo()
    other.set_status("D", "active")
    assert other != demo()
    assert demo() != "not a tree"


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("inviter", ()),
        ("upline", ()),
        ("direct_invites", ()),
        ("team_size", ()),
        ("depth", ()),
        ("tier", ()),
        ("status", ()),
        ("joined_at", ()),
        ("invite_code", ()),
        ("set_tier", ("member",)),
        ("set_status", ("active",)),
    ],
)
def test_unknown_members_are_named_with_a_suggestion(call: str, args: tuple[Any, ...]) -> None:
    tree = InviteTree.from_records([rec("alice"), rec("bob", "alice")])
    before = snapshot(tree)
    with pytest.raises(
        UnknownMemberError,
        match=r"member_id='alcie' is not in the tree; "
        r"did you mean 'alice'\?",
    ) as info:
        getattr(tree, call)("alcie", *args)
    assert isinstance(info.value, KeyError)
    assert str(info.value).startswith("member_id='alcie'")  # a sentence, not a quoted key
    assert snapshot(tree) == before


def test_move_of_an_unknown_member_or_under_an_unknown_inviter() -> None:
    tree = InviteTree.from_records([rec("alice"), rec("bob", "alice")])
    before = snapshot(tree)
    with pytest.raises(UnknownMemberError, match=r"did you mean 'alice'"):
        tree.move("alcie", new_inviter_id=None)
    with pytest.raises(KeyError, match=r"member_id='bbo' is not in the tree; did you mean 'bob'"):
        tree.move("alice", new_inviter_id="bbo")
    assert snapshot(tree) == before


def test_unknown_member_without_a_close_match_lists_known_ids() -> None:
    tree = InviteTree.from_records([rec("alice")])
    with pytest.raises(UnknownMemberError, match=r"known: 'alice'"):
        tree.tier("zzzzzz")


# -------------------------------------------------------------------- changes


def test_set_tier_and_set_status() -> None:
    tree = InviteTree.from_records([rec("A")], tiers=LADDER)
    tree.set_tier("A", "mentor")
    tree.set_status("A", "suspended")
    assert tree.tier("A") == "mentor"
    assert tree.status("A") == "suspended"
    tree.set_status("A", "active")
    assert tree.status("A") == "active"


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda t: t.set_tier("A", "boss"),
            UnknownTierError,
            r"tier='boss' is not in this "
            r"tree's ladder",
        ),
        (lambda t: t.set_tier("A", ""), InvalidTreeError, r"tier='' is empty"),
        (
            lambda t: t.set_status("A", "paused"),
            InvalidTreeError,
            r"status='paused' is not "
            r"one of",
        ),
    ],
)
def test_bad_changes_change_nothing(change: Any, error: type[Exception], message: str) -> None:
    tree = InviteTree.from_records([rec("A")], tiers=LADDER)
    before = snapshot(tree)
    with pytest.raises(error, match=message):
        change(tree)
    assert snapshot(tree) == before


def test_move_carries_the_team_along() -> None:
    tree = tree_from_text("A>B>C A>D>E")
    tree.move("B", new_inviter_id="E")
    assert tree.upline("C") == ["B", "E", "D", "A"]
    assert tree.direct_invites("A") == ["D"]
    assert tree.direct_invites("E") == ["B"]
    assert tree.team_size("D") == 3
    assert nx.is_branching(tree.graph)


def test_move_to_none_makes_a_root() -> None:
    tree = tree_from_text("A>B>C")
    tree.move("B", new_inviter_id=None)
    assert tree.roots() == ["A", "B"]
    assert tree.inviter("B") is None
    assert tree.upline("C") == ["B"]
    assert tree.team_size("A") == 0
    tree.move("A", new_inviter_id=None)  # already a root: nothing to do
    assert tree.roots() == ["A", "B"]


@pytest.mark.parametrize(
    ("member", "new_inviter", "message"),
    [
        ("A", "C", r"moving 'A' under 'C' would create a cycle: A → B → C → A"),
        ("A", "B", r"moving 'A' under 'B' would create a cycle: A → B → A"),
        ("B", "B", r"moving 'B' under 'B' would create a cycle: B → B"),
    ],
)
def test_move_refuses_a_cycle_naming_the_path(member: str, new_inviter: str, message: str) -> None:
    tree = tree_from_text("A>B>C")
    before = snapshot(tree)
    with pytest.raises(InvalidTreeError, match=message):
        tree.move(member, new_inviter_id=new_inviter)
    assert snapshot(tree) == before
    assert sorted(tree.graph.edges) == [("A", "B"), ("B", "C")]


# ---------------------------------------------------------------------- graph


def test_graph_has_edges_inviter_to_invitee_and_node_attributes() -> None:
    tree = demo()
    graph = tree.graph
    assert isinstance(graph, nx.DiGraph)
    assert sorted(graph.edges) == [("A", "B"), ("A", "D"), ("B", "C")]
    assert sorted(graph.nodes) == ["A", "B", "C", "D", "R"]
    assert graph.nodes["A"]["tier"] == "mentor"
    assert graph.nodes["D"]["status"] == "suspended"
    assert nx.is_branching(graph)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda g: g.add_node("X"),
        lambda g: g.add_edge("C", "X"),
        lambda g: g.add_edge("C", "A"),
        lambda g: g.remove_node("C"),
        lambda g: g.remove_edge("A", "B"),
        lambda g: g.add_nodes_from(["X", "Y"]),
        lambda g: g.clear(),
    ],
)
def test_graph_is_read_only(mutate: Any) -> None:
    tree = demo()
    before = snapshot(tree)
    with pytest.raises(nx.NetworkXError):
        mutate(tree.graph)
    assert snapshot(tree) == before
    assert len(tree.graph) == 5


def test_changing_node_attributes_of_the_graph_cannot_change_the_tree() -> None:
    tree = demo()
    tree.graph.nodes["A"]["tier"] = "boss"
    tree.graph.nodes["A"]["status"] = "suspended"
    assert tree.tier("A") == "mentor"
    assert tree.status("A") == "active"
    # What the tree hands out next must still be the tree, not the caller's scribbles.
    assert tree.graph.nodes["A"]["tier"] == "mentor"
    assert tree.graph.nodes["A"]["status"] == "active"


def test_graph_reflects_every_change() -> None:
    tree = InviteTree.from_records([rec("A"), rec("B", "A")], tiers=LADDER)
    assert sorted(tree.graph.edges) == [("A", "B")]
    tree.add_member("C", inviter_id="B", tier="member")
    assert sorted(tree.graph.edges) == [("A", "B"), ("B", "C")]
    tree.join("D", invite_code=tree.invite_code("A"))
    assert ("A", "D") in tree.graph.edges
    tree.set_tier("B", "pusher")
    assert tree.graph.nodes["B"]["tier"] == "pusher"
    tree.set_status("C", "suspended")
    assert tree.graph.nodes["C"]["status"] == "suspended"
    tree.move("C", new_inviter_id="A")
    assert sorted(tree.graph.edges) == [("A", "B"), ("A", "C"), ("A", "D")]
    tree.move("B", new_inviter_id=None)
    assert sorted(tree.graph.edges) == [("A", "C"), ("A", "D")]
    assert nx.is_branching(tree.graph)


# ------------------------------------------------------------------ properties


@st.composite
def parent_lists(draw: st.DrawFn, max_size: int = 15) -> list[int | None]:
    """Node i's inviter is None or one of 0..i-1: always a forest, and shrinks to roots."""
    size = draw(st.integers(1, max_size))
    return [None] + [draw(st.none() | st.integers(0, i - 1)) for i in range(1, size)]


def records_from(parents: list[int | None], draw: st.DrawFn | None = None) -> list[dict[str, Any]]:
    records = []
    for i, parent in enumerate(parents):
        record = rec(f"m{i}", None if parent is None else f"m{parent}")
        if draw is not None:
            record["tier"] = draw(st.sampled_from(LADDER))
            record["status"] = draw(st.sampled_from(["active", "suspended"]))
            record["joined_at"] = draw(
                st.none()
                | st.datetimes(
                    min_value=datetime(2020, 1, 1),
                    max_value=datetime(2030, 1, 1),
                    timezones=st.sampled_from([CN, UTC]),
                )
            )
        records.append(record)
    return records


@FAST
@given(parents=parent_lists(), data=st.data(), seed=st.randoms(use_true_random=False))
def test_round_trip_and_shuffled_records_give_the_same_tree_and_codes(
    parents: list[int | None], data: st.DataObject, seed: random.Random
) -> None:
    records = records_from(parents, data.draw)
    tree = InviteTree.from_records(records, tiers=LADDER)
    assert InviteTree.from_records(tree.to_records()) == tree
    assert InviteTree.from_records(tree.to_records()).to_records() == tree.to_records()

    shuffled = list(records)
    seed.shuffle(shuffled)
    other = InviteTree.from_records(shuffled, tiers=LADDER)
    assert other == tree
    assert {m: other.invite_code(m) for m in other} == {m: tree.invite_code(m) for m in tree}

    exported = tree.to_records()
    seed.shuffle(exported)
    assert InviteTree.from_records(exported) == tree


@FAST
@given(parents=parent_lists())
def test_upline_depth_and_team_size_agree_with_brute_force(parents: list[int | None]) -> None:
    tree = InviteTree.from_records(records_from(parents))

    def chain(i: int) -> list[int]:
        up = []
        parent = parents[i]
        while parent is not None:
            up.append(parent)
            parent = parents[parent]
        return up

    chains = [chain(i) for i in range(len(parents))]
    for i, up in enumerate(chains):
        member = f"m{i}"
        assert tree.upline(member) == [f"m{j}" for j in up]
        assert tree.upline(member, max_generation=1) == [f"m{j}" for j in up[:1]]
        assert tree.depth(member) == len(up)
        assert tree.team_size(member) == sum(i in other for other in chains)
        assert tree.inviter(member) == (None if parents[i] is None else f"m{parents[i]}")
        assert tree.direct_invites(member) == sorted(
            f"m{j}" for j, parent in enumerate(parents) if parent == i
        )
    assert tree.roots() == sorted(f"m{i}" for i, p in enumerate(parents) if p is None)


@FAST
@given(
    parents=parent_lists(),
    moves=st.lists(
        st.tuples(st.integers(0, 14), st.none() | st.integers(0, 14)), min_size=1, max_size=6
    ),
)
def test_a_move_never_creates_a_cycle(
    parents: list[int | None], moves: list[tuple[int, int | None]]
) -> None:
    tree = InviteTree.from_records(records_from(parents))
    size = len(parents)
    for member_index, inviter_index in moves:
        member = f"m{member_index % size}"
        new_inviter = None if inviter_index is None else f"m{inviter_index % size}"
        before = tree.to_records()
        would_cycle = new_inviter is not None and (
            new_inviter == member or member in tree.upline(new_inviter)
        )
        if would_cycle:
            with pytest.raises(InvalidTreeError, match="would create a cycle"):
                tree.move(member, new_inviter_id=new_inviter)
            assert tree.to_records() == before
        else:
            tree.move(member, new_inviter_id=new_inviter)
            assert tree.inviter(member) == new_inviter
        assert nx.is_branching(tree.graph)
        assert len(tree) == size


def test_remove_members_is_all_or_nothing_and_frees_codes() -> None:
    tree = demo()
    before = tree.to_records()
    code = tree.invite_code("C")
    with pytest.raises(InvalidTreeError, match=r"cannot remove 'B': its invitees \['C'\]"):
        tree.remove_members(["D", "B"])
    with pytest.raises(UnknownMemberError):
        tree.remove_members(["D", "nobody"])
    assert tree.to_records() == before
    tree.remove_members(["B", "C"])
    assert sorted(tree) == ["A", "D", "R"]
    assert tree.direct_invites("A") == ["D"]
    tree.add_member("C2", inviter_id="A", tier="member", invite_code=code)
    assert tree.code_owner(code) == "C2"


def test_inviters_and_probations_are_read_only_views_of_the_core() -> None:
    tree = demo()
    assert dict(tree.inviters) == {m: tree.inviter(m) for m in tree}
    with pytest.raises(TypeError):
        tree.inviters["C"] = None  # type: ignore[index]
    tree.set_probation("B", datetime(2027, 1, 1, tzinfo=CN))
    assert tree.probations() == {"B": datetime(2027, 1, 1, tzinfo=CN)}
    tree.probations().clear()
    assert tree.probation_until("B") == datetime(2027, 1, 1, tzinfo=CN)
