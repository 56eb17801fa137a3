"""One rule for every id on every path (issue 10, item 5), and odd inputs to the tree (item 18).

Ids that are not trimmed and NFKC-normal are refused, naming the normal form; they are never
normalised silently. (Order ids, buyers, sharers, SKUs and groups on the model and column
paths: see test_order_contract.py.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_support import run
from tuishou import InviteTree, Ledger, Order, OrderLine, Policy, settle, settle_batch
from tuishou.errors import (
    ArgumentTypeError,
    InvalidLadderError,
    InvalidPolicyError,
    InvalidTreeError,
    TuishouError,
)
from tuishou.ids import all_ids, id_problem
from tuishou.ladder import Tier

FORMS = {
    "leading space": " {}",
    "trailing space": "{} ",
    "full width": "{wide}",
    "ideographic space": "{}\u3000",
}


def spoiled(form: str, good: str) -> str:
    """``good`` (ASCII) in the spoiled form: padded, or in full-width letters (Ｄ for D)."""
    wide = "".join(chr(ord(c) - 0x21 + 0xFF01) for c in good)
    return FORMS[form].format(good, wide=wide)


def normal_form(bad: str, good: str) -> str:
    return re.escape(f"{bad!r} is not a normal id; use its normal form {good!r}")


def records(member: str = "D", inviter: str | None = "A", tier: str = "m") -> list[dict[str, Any]]:
    return [
        {"member_id": "A", "inviter_id": None, "tier": "m"},
        {"member_id": member, "inviter_id": inviter, "tier": tier},
    ]


def grown() -> InviteTree:
    tree = InviteTree(tiers=["m"])
    tree.add_member("A", tier="m")
    return tree


TREE_PATHS = {
    "from_records member_id": lambda bad: InviteTree.from_records(records(member=bad)),
    "from_records inviter_id": lambda bad: InviteTree.from_records(
        [*records(), {"member_id": "E", "inviter_id": bad, "tier": "m"}]
    ),
    "from_records tier": lambda bad: InviteTree.from_records(records(tier=bad)),
    "from_arrays member_id": lambda bad: InviteTree.from_arrays(
        ["A", bad], [None, "A"], ["m", "m"]
    ),
    "from_arrays inviter_id": lambda bad: InviteTree.from_arrays(
        ["A", "B"], [None, bad], ["m", "m"]
    ),
    "from_arrays tier": lambda bad: InviteTree.from_arrays(["A", "B"], [None, "A"], ["m", bad]),
    "add_member": lambda bad: grown().add_member(bad, inviter_id="A", tier="m"),
    "join": lambda bad: (lambda t: t.join(bad, invite_code=t.invite_code("A")))(grown()),
    "set_tier": lambda bad: grown().set_tier("A", bad),
}


@pytest.mark.parametrize("path", TREE_PATHS)
@pytest.mark.parametrize("form", FORMS)
def test_every_tree_path_refuses_an_id_not_in_normal_form(path, form):
    # A spoiled inviter must not be taken for member A, nor a spoiled tier for m.
    good = "A" if "inviter" in path else "m" if "tier" in path else "D"
    bad = spoiled(form, good)
    with pytest.raises(InvalidTreeError, match=normal_form(bad, good)) as info:
        TREE_PATHS[path](bad)
    assert len(info.value.problems) == 1  # no knock-on "is not a member"


def test_the_members_file_refuses_a_padded_member_id(tmp_path, capsys):
    (tmp_path / "policy.toml").write_text(
        'name = "p"\ntiers = ["m"]\n[group_rates]\ng = "1"\n', encoding="utf-8"
    )
    (tmp_path / "members.csv").write_text(
        'member_id,inviter_id,tier\nA,,m\n" D",A,m\n', encoding="utf-8"
    )
    (tmp_path / "orders.csv").write_text(
        "order_id,buyer_id,sku,group,amount\no1,D,s,g,1\n", encoding="utf-8"
    )
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        str(tmp_path / "policy.toml"),
        "--members",
        str(tmp_path / "members.csv"),
        "--orders",
        str(tmp_path / "orders.csv"),
        "--out",
        str(tmp_path / "payouts.csv"),
    )
    assert code == 2
    assert "member_id=' D' is not a normal id; use its normal form 'D'" in err
    assert not (tmp_path / "payouts.csv").exists()


POLICY = {
    "name": "p",
    "tiers": ["m"],
    "group_rates": {"g": "1"},
    "rules": [{"kind": "seller", "rates": {"m": "0.1"}}],
}
POLICY_PATHS = {
    "tier": ({"tiers": ["m", "vip "]}, r"tiers: tier='vip ' is not a normal id"),
    "group": (
        {"group_rates": {"g": "1", "ecosystem ": "0.2"}},
        r"group_rates: group='ecosystem ' is not a normal id; use its normal form "
        r"'ecosystem'",
    ),
    "sku": (
        {"sku_rates": {"gift-pack-398 ": "0.3"}},
        r"sku_rates: sku='gift-pack-398 ' is not a normal id",
    ),
    "rule": (
        {"rules": [{"kind": "seller", "name": "ｓｅｌｌｅｒ", "rates": {"m": "0.1"}}]},
        r"rules.0.seller.name: name='ｓｅｌｌｅｒ' is not a normal id; use its normal form "
        r"'seller'",
    ),
}


@pytest.mark.parametrize("name", POLICY_PATHS)
def test_the_policy_refuses_names_not_in_normal_form(name):
    change, match = POLICY_PATHS[name]
    with pytest.raises(InvalidPolicyError, match=match):
        Policy.model_validate({**POLICY, **change})


def test_a_ladder_refuses_a_tier_name_not_in_normal_form():
    with pytest.raises(InvalidLadderError, match=r"name='mentor ' is not a normal id"):
        Tier(name="mentor ")


# ------------------------------------------------------------------------------ item 18


def test_from_arrays_reads_pandas_na_as_an_empty_cell():
    text = {"dtype": "string"}
    tree = InviteTree.from_arrays(
        pd.array(["A", "B", "C"], **text),
        pd.array([None, "A", pd.NA], **text),
        pd.array(["m", "m", "m"], **text),
        status=pd.array(["active", pd.NA, "suspended"], **text),
    )
    assert [tree.inviter(m) for m in "ABC"] == [None, "A", None]
    assert [tree.status(m) for m in "ABC"] == ["active", "active", "suspended"]
    with pytest.raises(InvalidTreeError, match=r"row 1: member_id=None must be a non-empty"):
        InviteTree.from_arrays(pd.array(["A", pd.NA], **text), [None, None], ["m", "m"])


def test_from_records_reads_pandas_empty_cells_as_none():
    frame = pd.DataFrame(
        {
            "member_id": ["A", "B"],
            "inviter_id": [None, "A"],
            "tier": ["m", "m"],
            "status": [pd.NA, "suspended"],
        }
    )
    frame.loc[0, "inviter_id"] = float("nan")  # what to_dict("records") gives for a blank
    tree = InviteTree.from_records(frame.to_dict("records"))
    assert (tree.inviter("A"), tree.inviter("B")) == (None, "A")
    assert (tree.status("A"), tree.status("B")) == ("active", "suspended")


@pytest.mark.parametrize("code", [None, 1234567, b"2345678"])
def test_join_with_a_code_that_is_not_text_is_a_type_error(code):
    tree = grown()
    with pytest.raises(
        ArgumentTypeError,
        match=r"invite_code=.* is a \w+; pass the inviter's "
        r"7-character code as text",
    ):
        tree.join("Q", invite_code=code)
    assert "Q" not in tree


BUILDS = {
    "from_arrays": lambda ids, inviters: InviteTree.from_arrays(ids, inviters, ["m"] * len(ids)),
    "from_records": lambda ids, inviters: InviteTree.from_records(
        {"member_id": m, "inviter_id": i, "tier": "m"} for m, i in zip(ids, inviters, strict=True)
    ),
}


@pytest.mark.parametrize(
    ("build", "size"), [("from_arrays", 100_000), ("from_arrays", 2_000), ("from_records", 2_000)]
)
def test_a_long_cycle_gives_a_short_message_and_keeps_the_whole_problem(build, size):
    ids = [f"m{i}" for i in range(size)]
    with pytest.raises(InvalidTreeError) as info:
        BUILDS[build](ids, [*ids[1:], ids[0]])
    message, problems = str(info.value), info.value.problems
    assert len(message) < 500
    assert f"cycle of {size} members: m0 → m{size - 1} → m{size - 2}" in message
    assert "the whole problem is in the error's .problems" in message
    assert len(problems) == 1
    # Every member, back to the first, and the arrow of "(X → Y: X invited Y)".
    assert problems[0].count(" → ") == size + 1
    assert problems[0].startswith(f"cycle of {size} members: m0 → m{size - 1} → ")


def test_many_problems_are_listed_up_to_a_hundred_and_all_kept():
    ids = [f"m{i}" for i in range(300)]
    with pytest.raises(TuishouError) as info:
        InviteTree.from_arrays(ids, [f"x{i}" for i in range(300)], ["m"] * 300)
    assert len(info.value.problems) == 300
    assert str(info.value).splitlines()[-1] == "  ... and 200 more: see the error's .problems"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=4),
            st.sampled_from(["A", " A", "Ａ", "e\u0301", ""]),
            st.text(alphabet="ab", min_size=199, max_size=202),  # around MAX_ID_LENGTH
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_fast_check_of_a_column_agrees_with_the_rule(values):
    assert all_ids(values) == all(id_problem(v, name="id") is None for v in values)


def test_a_move_into_a_long_team_gives_a_short_message():
    ids = [f"m{i}" for i in range(5_000)]
    tree = InviteTree.from_arrays(ids, [None, *ids[:-1]], ["m"] * len(ids))
    with pytest.raises(
        InvalidTreeError,
        match=r"would create a cycle: m0 → m1 → .* → m9 → "
        r"\.\.\. \(4990 more\) → m0$",
    ) as info:
        tree.move("m0", new_inviter_id="m4999")
    assert len(str(info.value)) < 200
    assert tree.inviter("m0") is None  # nothing changed


@pytest.mark.parametrize(
    ("value", "normal", "escaped"),
    [
        ("D\u0307", "\u1e0a", r"'D\u0307' -> '\u1e0a'"),  # D + combining dot: looks like Ḋ
        ("\uff24", "D", r"'\uff24' -> 'D'"),  # full-width D
        ("D\u200b", "D\u200b", None),  # zero-width space: normal, but not printable (repr shows it)
        ("\u1e0a ", "\u1e0a", r"'\u1e0a ' -> '\u1e0a'"),
    ],
)
def test_a_non_ascii_id_is_also_shown_escaped_so_value_and_fix_differ_on_screen(
    value, normal, escaped
):
    problem = id_problem(value, name="buyer_id")
    assert problem is not None
    if escaped is None:
        assert "escaped" not in problem
        return
    assert problem == (
        f"buyer_id={value!r} is not a normal id; use its normal form {normal!r} "
        f"(NFKC, trimmed); escaped: {escaped}"
    )


@pytest.mark.parametrize("value", [" D", "D ", "D\t"])
def test_an_ascii_id_keeps_the_short_message(value):
    assert id_problem(value, name="buyer_id") == (
        f"buyer_id={value!r} is not a normal id; use its normal form 'D' (NFKC, trimmed)"
    )


# ------------------------------------------- issue 12: ids fit the database's id columns

LONG, LONGEST = "x" * 201, "x" * 200
LENGTH_PATHS = {
    "tree member": lambda i: InviteTree.from_records(records(member=i)),
    "tree tier": lambda i: InviteTree.from_records(records(tier=i)),
    "order id": lambda i: Order(order_id=i, lines=[OrderLine(sku="s", group="g", amount=1)]),
    "sku": lambda i: Order(order_id="o", lines=[OrderLine(sku=i, group="g", amount=1)]),
    "columns": lambda i: settle_batch(
        _ONE_GROUP, grown(), {"order_id": [i], "sku": ["s"], "group": ["g"], "amount": [1]}
    ),
    "ledger member": lambda i: Ledger().balance(i),
    "ledger withdrawal id": lambda i: Ledger().withdraw(
        "A", 1, at=datetime(2026, 11, 1, tzinfo=UTC), withdrawal_id=i
    ),
}
_ONE_GROUP = Policy.model_validate(
    {
        "name": "p",
        "tiers": ["m"],
        "group_rates": {"g": "0.1"},
        "rules": [{"kind": "seller", "rates": {"m": "0.5"}}],
    }
)


def _refusal(call) -> str:
    """What a call that may be refused says, its whole problem list included ('' if taken)."""
    try:
        call()
    except TuishouError as exc:
        return " ".join([str(exc), *map(str, getattr(exc, "problems", []))])
    return ""


@pytest.mark.parametrize("path", LENGTH_PATHS.values(), ids=LENGTH_PATHS)
def test_an_id_longer_than_the_database_keeps_is_refused_on_every_path(path):
    assert "is 201 characters long; ids are at most 200" in _refusal(lambda: path(LONG))
    # the longest id passes the id rule (another check may still refuse the call)
    assert "characters long" not in _refusal(lambda: path(LONGEST))


def test_the_longest_id_posts_on_postgresql(postgres):
    order = Order(
        order_id=LONGEST, sharer_id="A", lines=[OrderLine(sku=LONGEST, group="g", amount=100)]
    )
    tree = InviteTree.from_records([{"member_id": "A", "inviter_id": None, "tier": "m"}])
    settlement = settle(_ONE_GROUP, tree, order)
    with Ledger.open(postgres.new_schema_url()) as ledger:
        ledger.post(order, settlement, at=datetime(2026, 11, 1, tzinfo=UTC))
        assert sum(ledger.payouts(LONGEST).values()) == settlement.paid == 5


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_the_command_line_refuses_a_long_id_in_a_file_by_line(tmp_path, capsys, suffix):
    from cli_support import ORDERS, scenario, settle_args

    paths = scenario(tmp_path, suffix, orders=[{**ORDERS[0], "order_id": LONG}])
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, *settle_args(paths, out))
    assert code == 2, err
    assert err.startswith("tuishou: error: bad input: "), err
    assert "order_id='xxxxxxxxxxxxxxxxxxxx'... is 201 characters long" in err
    assert "1 problem(s)" in err
    assert not out.exists()
