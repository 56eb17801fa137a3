"""Large trees from columns: the same checks as from_records, vectorised, and the array form."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou import InvalidTreeError, InviteTree


@st.composite
def parent_lists(draw):
    size = draw(st.integers(1, 30))
    return [None if i == 0 else draw(st.none() | st.integers(0, i - 1)) for i in range(size)]


@settings(max_examples=50, deadline=None)
@given(parent_lists(), st.randoms(use_true_random=False))
def test_from_arrays_equals_from_records(parents, rng: random.Random):
    rows = [
        (
            f"m{i}",
            None if p is None else f"m{p}",
            rng.choice(["a", "b"]),
            rng.choice(["active", "suspended"]),
        )
        for i, p in enumerate(parents)
    ]
    rng.shuffle(rows)
    ids, inviters, tiers, statuses = (list(column) for column in zip(*rows, strict=True))
    from_columns = InviteTree.from_arrays(ids, inviters, tiers, status=statuses)
    from_records = InviteTree.from_records(
        {"member_id": m, "inviter_id": i, "tier": t, "status": s} for m, i, t, s in rows
    )
    assert from_columns == from_records
    arrays = from_columns.arrays()
    depth, team = arrays.depth(), arrays.team_sizes()
    for member in ids:
        i = arrays.index[member]
        assert depth[i] == from_records.depth(member)
        assert team[i] == from_records.team_size(member)
        assert bool(arrays.active[i]) == (from_records.status(member) == "active")
        assert arrays.tier_names[arrays.tier[i]] == from_records.tier(member)


def test_every_problem_in_columns_is_reported():
    with pytest.raises(InvalidTreeError) as caught:
        InviteTree.from_arrays(
            ["A", "B", "B", "C", "D", "E", "", "F"],
            [None, "A", "A", "C", "E", "D", None, "Q"],
            ["m", "m", "m", "m", "m", "m", "m", "boss"],
            status=["active"] * 7 + ["gone"],
            tiers=["m"],
        )
    problems = caught.value.problems
    assert len(problems) == 7, problems
    # The wording of from_records (one checker, members.records.member_problems), by row.
    for expected in [
        "row 2 (member_id='B'): duplicate member_id, first seen in row 1",
        "row 3 (member_id='C'): invites itself (inviter_id='C')",
        "row 6: member_id='' is empty",
        "row 7 (member_id='F'): tier='boss' is not in the ladder",
        "row 7 (member_id='F'): status='gone'",
        "row 7 (member_id='F'): inviter_id='Q' is not a member",
        "cycle: D → E → D",
    ]:
        assert any(expected in p for p in problems), expected


def test_empty_inviters_from_files_mean_roots():
    tree = InviteTree.from_arrays(["A", "B", "C"], [float("nan"), "", "A"], ["m", "m", "m"])
    assert tree.roots() == ["A", "B"]


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(InvalidTreeError, match="columns of different lengths"):
        InviteTree.from_arrays(["A", "B"], [None], ["m", "m"])


def test_a_ten_thousand_level_chain_needs_no_recursion():
    size = 10_000
    tree = InviteTree.from_arrays(
        [f"m{i}" for i in range(size)], [None, *(f"m{i}" for i in range(size - 1))], ["m"] * size
    )
    assert tree.arrays().depth()[-1] == size - 1
    assert tree.depth(f"m{size - 1}") == size - 1


@pytest.mark.parametrize(
    "rows",
    [
        [("A", None, "m", "active"), ("B", "B", "m", "active")],  # invites itself
        [("A", None, "m", "active"), ("A", None, "m", "active")],  # duplicate
        [("", None, "m", "active"), (7, None, "m", "active")],  # empty and int ids
        [("A", None, "boss", "gone")],  # tier not in the ladder, unknown status
        [("A", "Q", "m", "active"), ("B", " A", "m", "active")],  # unknown and spoiled inviter
        [("A", "B", "m", "active"), ("B", "A", "m", "active")],  # a cycle
        [(" A", None, " m", "active")],  # ids not in normal form
    ],
)
def test_columns_and_records_word_each_problem_alike(rows):
    """One checker (members.records.member_problems): the same problem reads the same,
    ``row n`` for columns where records say ``record n``."""
    records = [{"member_id": m, "inviter_id": i, "tier": t, "status": s} for m, i, t, s in rows]
    with pytest.raises(InvalidTreeError) as from_records:
        InviteTree.from_records(records, tiers=["m"])
    member_ids, inviter_ids, tiers, statuses = (list(column) for column in zip(*rows, strict=True))
    with pytest.raises(InvalidTreeError) as from_arrays:
        InviteTree.from_arrays(member_ids, inviter_ids, tiers, status=statuses, tiers=["m"])
    as_rows = [p.replace("record ", "row ") for p in from_records.value.problems]
    assert sorted(from_arrays.value.problems) == sorted(as_rows)
