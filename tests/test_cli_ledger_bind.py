"""``tuishou ledger bind`` (one binding event) and ``tuishou ledger bindings`` (the list)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from cli_support import ORDER_COLUMNS, ORDERS, run, scenario, write_rows
from tuishou.ledger import Ledger


def bind_args(ledger, *more, customer="guest-1", member="B", at="2026-11-01T10:00:00"):
    return [
        "ledger",
        "bind",
        str(ledger),
        "--customer",
        customer,
        "--member",
        member,
        "--at",
        at,
        *more,
    ]


def test_bind_records_an_event_and_prints_the_binding(tmp_path, capsys):
    ledger = tmp_path / "ledger.db"
    code, out, _ = run(capsys, *bind_args(ledger, "--mode", "first", "--days", "7"))
    assert code == 0
    assert out == (
        "customer guest-1 bound to B since 2026-11-01T10:00:00+08:00 (first share), "
        "until 2026-11-08T10:00:00+08:00\n"
    )
    code, out, _ = run(
        capsys,
        *bind_args(ledger, "--mode", "first", "--days", "7", member="C", at="2026-11-02T10:00:00"),
    )
    assert (code, out.split(" since")[0]) == (0, "customer guest-1 bound to B")
    with Ledger.open(ledger, read_only=True) as book:
        (found,) = book.bindings()
    assert (found.member_id, found.since) == ("B", datetime(2026, 11, 1, 2, tzinfo=UTC))


def test_a_registration_under_register_mode_and_a_share_that_binds_nothing(tmp_path, capsys):
    ledger = tmp_path / "ledger.db"
    args = ("--mode", "register")
    assert run(capsys, *bind_args(ledger, *args))[1] == (
        "customer guest-1 is bound to nobody at 2026-11-01T10:00:00+08:00\n"
    )
    code, out, _ = run(capsys, *bind_args(ledger, *args, "--how", "register", "--timezone", "UTC"))
    assert (code, out) == (
        0,
        "customer guest-1 bound to B since 2026-11-01T10:00:00+00:00 (registration), for ever\n",
    )


def test_a_late_event_is_refused_and_a_refused_first_event_leaves_no_file(tmp_path, capsys):
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *bind_args(ledger, "--mode", "override"))[0] == 0
    code, out, err = run(
        capsys,
        *bind_args(ledger, "--mode", "override", customer="guest-2", at="2026-10-31T10:00:00"),
    )
    assert (code, out) == (2, "")
    assert "clock never runs backwards" in err
    fresh = tmp_path / "new.db"
    code, _, err = run(capsys, *bind_args(fresh, "--mode", "first", customer="B"))
    assert code == 2
    assert "can never be bound to itself" in err
    assert not fresh.exists()


@pytest.mark.parametrize(
    ("more", "problem"),
    [
        (("--mode", "sometimes"), "'sometimes' is not one of"),
        (("--mode", "first", "--days", "0"), "0 is not in the range x>=1"),
        (("--mode", "first", "--how", "scan"), "'scan' is not one of"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, capsys, more, problem):
    code, _, err = run(capsys, *bind_args(tmp_path / "l.db", *more))
    assert code == 2
    assert problem in err
    assert not (tmp_path / "l.db").exists()


def test_bindings_lists_them_and_writes_a_file(tmp_path, capsys):
    ledger = tmp_path / "ledger.db"
    for customer, member, at in [("g-2", "C", "2026-11-01"), ("g-1", "B", "2026-11-02")]:
        run(capsys, *bind_args(ledger, "--mode", "first", customer=customer, member=member, at=at))
    code, out, _ = run(capsys, "ledger", "bindings", str(ledger), "--timezone", "UTC")
    assert code == 0
    assert out.splitlines() == [
        "customer_id  member_id  since                      until  how",
        "g-1          B          2026-11-01T16:00:00+00:00  -      first_share",
        "g-2          C          2026-10-31T16:00:00+00:00  -      first_share",
    ]
    code, out, _ = run(capsys, "ledger", "bindings", str(ledger), "--customer", "g-9")
    assert out.splitlines()[-1] == "(no bindings)"
    target = tmp_path / "bindings.csv"
    assert run(capsys, "ledger", "bindings", str(ledger), "--out", str(target))[0] == 0
    with target.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["customer_id"], r["member_id"], r["how"]) for r in rows] == [
        ("g-1", "B", "first_share"),
        ("g-2", "C", "first_share"),
    ]


def test_post_settles_with_the_bindings_the_ledger_keeps(tmp_path, capsys):
    paid = [{**row, "paid_at": "2026-10-31T10:00:00"} for row in ORDERS]
    paths = scenario(tmp_path)
    write_rows(paths["orders"], paid, (*ORDER_COLUMNS, "paid_at"))
    ledger = tmp_path / "ledger.db"
    bound = bind_args(ledger, "--mode", "first", customer="guest-2", member="C", at="2026-10-30")
    assert run(capsys, *bound)[0] == 0
    post = [
        "ledger",
        "post",
        str(ledger),
        "--policy",
        str(paths["policy"]),
        "--members",
        str(paths["members"]),
        "--orders",
        str(paths["orders"]),
        "--at",
        "2026-11-01",
    ]
    assert run(capsys, *post)[0] == 0
    code, out, _ = run(capsys, "ledger", "explain", str(ledger), "--order", "o-1003")
    assert code == 0
    assert "customer guest-2 bound to C since 2026-10-29 16:00 UTC (first share)" in out
    with Ledger.open(ledger, read_only=True) as book:
        assert {key[0] for key in book.payouts("o-1003")} >= {"C"}
