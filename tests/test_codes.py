"""Invite codes: short, typo-proof, reproducible; and joining the tree with them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou.errors import InvalidInviteCodeError, InvalidTreeError, TuishouError, UnknownTierError
from tuishou.ids import id_problem, normal_id
from tuishou.members.codes import ALPHABET, CODE_LENGTH, candidate_codes, check_code, normalise_code
from tuishou.tree import InviteTree

from helpers import CN

LADDER = ["member", "pusher", "mentor"]
FAST = settings(max_examples=25, deadline=None, database=None)


def rec(member_id: str, inviter_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"member_id": member_id, "inviter_id": inviter_id, "tier": "member", **extra}


def _valid(code: str) -> bool:
    try:
        check_code(code)
    except InvalidInviteCodeError:
        return False
    return True


def complete(payload: str) -> str:
    """The one valid code starting with ``payload`` (six characters), found by trying checks."""
    valid = [payload + check for check in ALPHABET if _valid(payload + check)]
    assert len(valid) == 1, valid
    return valid[0]


def substitutions(code: str) -> list[str]:
    return [
        code[:i] + char + code[i + 1 :]
        for i in range(len(code))
        for char in ALPHABET
        if char != code[i]
    ]


def transpositions(code: str) -> list[str]:
    swapped = [code[:i] + code[i + 1] + code[i] + code[i + 2 :] for i in range(len(code) - 1)]
    return [s for s in swapped if s != code]


def two_member_tree() -> InviteTree:
    tree = InviteTree(tiers=LADDER)
    tree.add_member("alice", tier="mentor")
    tree.add_member("bob", inviter_id="alice", tier="pusher")
    return tree


# ------------------------------------------------------------------- alphabet


def test_alphabet_has_no_look_alikes_and_a_prime_size() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set(ALPHABET) & set("01IOZ")
    assert ALPHABET.upper() == ALPHABET
    assert all(char.isascii() and char.isalnum() for char in ALPHABET)
    assert CODE_LENGTH == 7


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("abcdefg", "ABCDEFG"),
        ("ABC-DEFG", "ABCDEFG"),
        (" ab c-d e f g ", "ABCDEFG"),
        ("a-b-c-d-e-f-g", "ABCDEFG"),
        ("ABC\tDEF\nG", "ABCDEFG"),
        ("", ""),
    ],
)
def test_normalise_code(typed: str, normal: str) -> None:
    assert normalise_code(typed) == normal


# ----------------------------------------------------------------- check_code


def test_candidate_codes_are_valid_and_deterministic() -> None:
    first = [c for _, c in zip(range(5), candidate_codes("alice"), strict=False)]
    again = [c for _, c in zip(range(5), candidate_codes("alice"), strict=False)]
    assert first == again
    assert len(set(first)) == 5
    for code in first:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert check_code(code) == code
    assert next(candidate_codes("bob")) != first[0]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", r"has 0 characters, codes have 7"),
        ("ABC", r"has 3 characters, codes have 7"),
        ("ABCDEFGH", r"has 8 characters, codes have 7"),
        ("ABCDEF0", r"has characters codes never use: '0'"),
        ("ABCDEF1", r"has characters codes never use: '1'"),
        ("ABCDEFO", r"has characters codes never use: 'O'"),
        ("abcdefi", r"has characters codes never use: 'I'"),
        ("ABCDEFZ", r"has characters codes never use: 'Z'"),
        ("ABC_EFG", r"has characters codes never use: '_'"),
        ("ABCDE", r"has 5 characters"),
    ],
)
def test_malformed_codes(typed: str, message: str) -> None:
    with pytest.raises(InvalidInviteCodeError, match=message) as info:
        check_code(typed)
    assert info.value.reason == "malformed"
    assert info.value.suggestion is None


def test_invite_code_error_is_a_value_error() -> None:
    assert issubclass(InvalidInviteCodeError, ValueError)
    assert issubclass(InvalidInviteCodeError, TuishouError)


def test_check_code_accepts_any_spelling() -> None:
    code = next(candidate_codes("alice"))
    spaced = f"{code[:3]}-{code[3:]}".lower()
    assert check_code(spaced) == code
    assert check_code(f" {code[:2]} {code[2:5]} {code[5:]} ") == code


@FAST
@given(member_id=st.text(min_size=1, max_size=20), skip=st.integers(0, 3))
def test_every_single_slip_is_reported_as_a_typo(member_id: str, skip: int) -> None:
    candidates = candidate_codes(member_id)
    for _ in range(skip):
        next(candidates)
    code = next(candidates)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(ALPHABET)
    assert check_code(code) == code
    slips = substitutions(code) + transpositions(code)
    assert len(substitutions(code)) == CODE_LENGTH * (len(ALPHABET) - 1)
    for slip in slips:
        with pytest.raises(InvalidInviteCodeError) as info:
            check_code(slip)
        assert info.value.reason == "typo", slip
        with pytest.raises(InvalidInviteCodeError) as info:
            check_code(slip.lower(), {code}.__contains__)
        assert info.value.reason == "typo", slip
        assert info.value.suggestion == code, slip


@FAST
@given(
    member_id=st.text(min_size=1, max_size=12)
    .map(normal_id)
    .filter(lambda m: id_problem(m, name="member_id") is None)
)  # any valid id (tuishou.ids)
def test_every_slip_of_a_tree_code_is_a_typo_with_a_suggestion(member_id: str) -> None:
    tree = InviteTree()
    tree.add_member(member_id, tier="member")
    code = tree.invite_code(member_id)
    for slip in substitutions(code) + transpositions(code):
        with pytest.raises(InvalidInviteCodeError, match="looks mistyped") as info:
            tree.code_owner(slip)
        assert info.value.reason == "typo"
        assert info.value.suggestion == code
        assert f"did you mean {code!r}" in str(info.value)


def test_a_typo_one_slip_from_two_codes_gets_no_suggestion() -> None:
    first = next(candidate_codes("alice"))
    slip = first[0] + ALPHABET[(ALPHABET.index(first[1]) + 1) % 31] + first[2:]
    # A second valid code one slip from the typo, differing from it in the third place.
    second = next(
        c
        for c in substitutions(slip)
        if c[:2] + c[3:] == slip[:2] + slip[3:] and c != slip and _valid(c)
    )
    tree = InviteTree.from_records([rec("A", invite_code=first), rec("B", invite_code=second)])
    with pytest.raises(InvalidInviteCodeError, match="looks mistyped") as info:
        tree.code_owner(slip)
    assert info.value.reason == "typo"
    assert info.value.suggestion is None
    assert "did you mean" not in str(info.value)


def test_a_well_formed_code_nobody_holds_is_unknown() -> None:
    tree = two_member_tree()
    held = {tree.invite_code("alice"), tree.invite_code("bob")}
    unheld = next(c for c in (complete(p * 6) for p in ALPHABET) if c not in held)
    with pytest.raises(InvalidInviteCodeError, match=r"well formed but nobody holds it") as info:
        tree.code_owner(unheld)
    assert info.value.reason == "unknown"
    assert info.value.suggestion is None


# -------------------------------------------------------------- codes in a tree


def test_tree_codes_are_seven_characters_of_the_alphabet_and_distinct() -> None:
    records = [rec(f"m{i}", None if i == 0 else f"m{(i - 1) // 3}") for i in range(2000)]
    tree = InviteTree.from_records(records)
    codes = [tree.invite_code(m) for m in tree]
    assert len(codes) == len(set(codes)) == 2000
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert check_code(code) == code
    for member in ["m0", "m1", "m999", "m1999"]:
        assert tree.code_owner(tree.invite_code(member)) == member


def test_codes_do_not_depend_on_record_order_or_joining() -> None:
    records = [rec("A"), rec("B", "A"), rec("C", "B"), rec("D", "A")]
    tree = InviteTree.from_records(records)
    backwards = InviteTree.from_records(records[::-1])
    codes = {m: tree.invite_code(m) for m in tree}
    assert codes == {m: backwards.invite_code(m) for m in backwards}
    assert codes == {m: InviteTree.from_records(records).invite_code(m) for m in tree}


def test_codes_have_no_hidden_global_randomness() -> None:
    records = [rec(f"m{i}", None if i == 0 else f"m{i // 2}") for i in range(50)]
    tree = InviteTree.from_records(records)
    codes = {m: tree.invite_code(m) for m in tree}
    script = (
        "import json, sys\n"
        "from tuishou.tree import InviteTree\n"
        "records = json.loads(sys.stdin.read())\n"
        "tree = InviteTree.from_records(records)\n"
        "print(json.dumps({m: tree.invite_code(m) for m in tree}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(records[::-1]),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == codes


def test_a_supplied_code_is_kept_and_a_generated_one_steps_aside() -> None:
    # B is given the code A would have got first: A must take its next candidate,
    # whatever the order of the records.
    wanted = next(candidate_codes("A"))
    records = [rec("A"), rec("B", "A", invite_code=wanted.lower())]
    for order in (records, records[::-1]):
        tree = InviteTree.from_records(order)
        assert tree.invite_code("B") == wanted
        assert tree.code_owner(wanted) == "B"
        assert tree.invite_code("A") != wanted
        assert tree.invite_code("A") in [
            c for _, c in zip(range(5), candidate_codes("A"), strict=False)
        ]
        assert InviteTree.from_records(tree.to_records()) == tree


def test_code_owner_accepts_any_spelling() -> None:
    tree = two_member_tree()
    code = tree.invite_code("bob")
    for typed in (
        code,
        code.lower(),
        f"{code[:3]}-{code[3:]}",
        f" {code[:4]} {code[4:]} ",
        f"{code[:2]}-{code[2:5]}-{code[5:]}".lower(),
    ):
        assert tree.code_owner(typed) == "bob"


# ----------------------------------------------------------------------- join


def test_join_with_a_lower_case_hyphenated_code() -> None:
    tree = two_member_tree()
    code = tree.invite_code("alice")
    tree.join("carol", invite_code=f"{code[:3]}-{code[3:]}".lower())
    assert tree.inviter("carol") == "alice"
    assert tree.tier("carol") == "member"  # the lowest tier of the ladder
    assert tree.status("carol") == "active"
    assert tree.direct_invites("alice") == ["bob", "carol"]
    assert tree.code_owner(tree.invite_code("carol")) == "carol"


def test_join_with_an_explicit_tier_and_time() -> None:
    tree = two_member_tree()
    tree.join(
        "carol",
        invite_code=tree.invite_code("bob"),
        tier="pusher",
        joined_at=datetime(2026, 5, 1, tzinfo=CN),
    )
    assert tree.upline("carol") == ["bob", "alice"]
    assert tree.tier("carol") == "pusher"
    assert tree.joined_at("carol") == datetime(2026, 5, 1, tzinfo=CN)


def test_join_without_a_ladder_needs_a_tier() -> None:
    tree = InviteTree.from_records([rec("alice")])
    before = tree.to_records()
    with pytest.raises(UnknownTierError, match=r"join\(\) needs tier=") as info:
        tree.join("bob", invite_code=tree.invite_code("alice"))
    assert isinstance(info.value, KeyError)
    assert tree.to_records() == before
    tree.join("bob", invite_code=tree.invite_code("alice"), tier="anything")
    assert tree.tier("bob") == "anything"


def _next_char(char: str) -> str:
    return ALPHABET[(ALPHABET.index(char) + 1) % len(ALPHABET)]


@pytest.mark.parametrize(
    ("make_code", "reason", "message"),
    [
        (lambda code: code[:-1], "malformed", r"has 6 characters"),
        (lambda code: code[:-1] + "0", "malformed", r"characters codes never use: '0'"),
        (lambda code: _next_char(code[0]) + code[1:], "typo", r"looks mistyped"),
        (
            lambda code: complete(_next_char(code[0]) + _next_char(code[1]) + code[2:6]),
            "unknown",
            r"nobody holds it",
        ),
    ],
)
def test_join_with_a_bad_code_changes_nothing(make_code: Any, reason: str, message: str) -> None:
    tree = two_member_tree()
    before = tree.to_records()
    code = tree.invite_code("alice")
    with pytest.raises(InvalidInviteCodeError, match=message) as info:
        tree.join("carol", invite_code=make_code(code))
    assert info.value.reason == reason
    assert info.value.suggestion == (code if reason == "typo" else None)
    assert tree.to_records() == before
    assert "carol" not in tree


def test_join_refuses_an_existing_member_or_unknown_tier() -> None:
    tree = two_member_tree()
    code = tree.invite_code("alice")
    before = tree.to_records()
    with pytest.raises(InvalidTreeError, match="already in the tree"):
        tree.join("bob", invite_code=code)
    with pytest.raises(UnknownTierError, match="did you mean 'mentor'"):
        tree.join("carol", invite_code=code, tier="mentr")
    assert tree.to_records() == before
