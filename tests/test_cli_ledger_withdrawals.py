"""``tuishou ledger withdrawals ...`` (提现审核) against the library."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from cli_support import MEMBERS, ORDERS, POLICY, run, scenario
from test_cli_ledger import _entries, history, post_args
from tuishou import InviteTree, load_policy
from tuishou.ledger import Ledger, LedgerPolicy

CN = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def released(tmp_path, capsys):
    """The README's orders posted on Nov 1 and released on Nov 8; withdrawals pay 0.6%."""
    paths = scenario(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_text('withdrawal_fee_rate = "0.006"\n', encoding="utf-8")
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, paths, "--settings", str(settings)))[0] == 0
    assert run(capsys, "ledger", "release", str(ledger), "--as-of", "2026-11-08T10:00:00")[0] == 0
    return ledger


def review(ledger, capsys, *words):
    code, out, err = run(capsys, "ledger", "withdrawals", words[0], str(ledger), *words[1:])
    return code, out, err


REQUEST_D = ["request", "--member", "D", "--amount", "2000", "--id", "w-1", "--at", "2026-11-09"]
REQUEST_B = ["request", "--member", "B", "--amount", "1000", "--id", "w-2", "--at", "2026-11-09"]
APPROVE_D = ["approve", "--id", "w-1", "--at", "2026-11-10"]
PAY_D = ["pay", "--id", "w-1", "--reference", "bank-001", "--at", "2026-11-11"]
REJECT_B = ["reject", "--id", "w-2", "--reason", "wrong account name", "--at", "2026-11-11"]


def test_a_reviewed_month_does_what_the_library_does(released, capsys):
    said = []
    for words in (REQUEST_D, REQUEST_B, APPROVE_D, PAY_D, REJECT_B):
        code, out, err = review(released, capsys, *words)
        assert (code, err) == (0, ""), words
        said.append(out)
    assert said == [
        "withdrawal w-1 of D: requested, 2000 fen (fee 12, net 1988) held for review\n",
        "withdrawal w-2 of B: requested, 1000 fen (fee 6, net 994) held for review\n",
        "withdrawal w-1 of D: approved, 2000 fen (fee 12, net 1988) payable\n",
        "withdrawal w-1 of D: paid, 2000 fen (fee 12, net 1988), transfer bank-001\n",
        "withdrawal w-2 of B: rejected (wrong account name), 1000 fen back to available\n",
    ]
    expected = _library_month()
    assert _entries(released) == _entries(expected)
    with Ledger.open(released, read_only=True) as ledger:
        assert ledger.withdrawals() == expected.withdrawals()
        assert list(ledger.balances()) == list(expected.balances())


def _library_month():
    ledger = Ledger(LedgerPolicy(withdrawal_fee_rate="0.006"))
    columns = {name: [row[name] for row in ORDERS] for name in ORDERS[0]}
    tree = InviteTree.from_records(MEMBERS)
    ledger.post_batch(load_policy(POLICY), tree, columns, at=datetime(2026, 11, 1, 10, tzinfo=CN))
    ledger.release(datetime(2026, 11, 8, 10, tzinfo=CN))
    day = datetime(2026, 11, 9, tzinfo=CN)
    ledger.request_withdrawal("D", 2000, at=day, withdrawal_id="w-1")
    ledger.request_withdrawal("B", 1000, at=day, withdrawal_id="w-2")
    ledger.approve_withdrawal("w-1", at=datetime(2026, 11, 10, tzinfo=CN))
    paid = datetime(2026, 11, 11, tzinfo=CN)
    ledger.pay_withdrawal("w-1", at=paid, transfer_reference="bank-001")
    ledger.reject_withdrawal("w-2", at=paid, reason="wrong account name")
    return ledger


@pytest.mark.parametrize(
    ("steps", "said"),
    [
        ([REQUEST_D], "requested, 2000 fen (fee 12, net 1988) held for review"),
        ([REQUEST_D, APPROVE_D], "approved, 2000 fen (fee 12, net 1988) payable"),
        ([REQUEST_D, APPROVE_D, PAY_D], "paid, 2000 fen (fee 12, net 1988), transfer bank-001"),
        ([REQUEST_B, REJECT_B], "rejected (wrong account name), 1000 fen back to available"),
    ],
)
def test_repeating_a_step_changes_nothing(released, capsys, steps, said):
    for step in steps:
        assert review(released, capsys, *step)[0] == 0
    before = _entries(released)
    code, out, _ = review(released, capsys, *steps[-1])
    assert code == 0
    assert out.endswith(f": {said}\n")
    assert _entries(released) == before


@pytest.mark.parametrize(
    ("first", "words", "message"),
    [
        ([], ["request", "--member", "D", "--amount", "4498", "--id", "w-1"], "4497"),
        ([], APPROVE_D, "w-1"),
        ([REQUEST_D], PAY_D, "requested"),
        ([REQUEST_D, APPROVE_D, PAY_D], ["pay", "--id", "w-1", "--reference", "bank-002"], "twice"),
        ([REQUEST_D, APPROVE_D, PAY_D], ["reject", "--id", "w-1", "--reason", "late"], "paid"),
        ([REQUEST_D], ["request", "--member", "D", "--amount", "100", "--id", "w-1"], "w-1"),
        ([REQUEST_D], ["request", "--member", "D", "--amount", "2498", "--id", "w-3"], "2497"),
        ([REQUEST_D], ["approve", "--id", "w-1", "--at", "2026-11-08"], "clock"),
    ],
)
def test_a_refused_step_exits_2_and_changes_nothing(released, capsys, first, words, message):
    for step in first:
        assert review(released, capsys, *step)[0] == 0, step
    before = history(released)
    code, out, err = review(released, capsys, *words)
    assert (code, out) == (2, "")
    assert err.startswith("tuishou: error: ")
    assert message in err
    assert history(released) == before


def test_the_amount_is_held_until_the_review_ends(released, capsys):
    review(released, capsys, *REQUEST_D)
    code, _, err = run(
        capsys,
        "ledger",
        "withdraw",
        str(released),
        "--member",
        "D",
        "--amount",
        "2498",
        "--id",
        "w-9",
        "--at",
        "2026-11-09",
    )
    assert code == 2
    assert "has 2497 fen available" in err


@pytest.mark.parametrize(
    ("options", "ids"),
    [
        ([], ["w-1", "w-2"]),
        (["--state", "paid"], ["w-1"]),
        (["--member", "B"], ["w-2"]),
        (["--state", "requested"], []),
    ],
)
def test_list_filters_by_state_and_member(released, capsys, options, ids):
    for step in (REQUEST_D, REQUEST_B, APPROVE_D, PAY_D, REJECT_B):
        review(released, capsys, *step)
    code, out, _ = review(released, capsys, "list", *options)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "withdrawal_id",
        "member_id",
        "amount",
        "fee",
        "state",
        "requested_at",
        "finished_at",
        "transfer_reference",
        "reason",
    ]
    assert [line.split()[0] for line in lines[1:]] == (ids or ["(no"])


def test_list_shows_times_in_the_timezone(released, capsys):
    review(released, capsys, *REQUEST_D)
    code, out, _ = review(released, capsys, "list", "--timezone", "UTC")
    assert code == 0
    assert "2026-11-08T16:00:00+00:00" in out


def test_a_bad_state_is_a_usage_error(released, capsys):
    code, _, err = review(released, capsys, "list", "--state", "done")
    assert code == 2
    assert "'done' is not one of 'requested', 'approved', 'paid', 'rejected'" in err


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_list_out_writes_every_field(released, capsys, suffix):
    for step in (REQUEST_D, REQUEST_B, APPROVE_D, PAY_D, REJECT_B):
        review(released, capsys, *step)
    out = released.parent / f"withdrawals{suffix}"
    code, printed, _ = review(released, capsys, "list", "--out", str(out))
    assert (code, printed) == (0, "")
    with Ledger.open(released, read_only=True) as ledger:
        expected = ledger.withdrawals()
    if suffix == ".parquet":
        rows = pq.read_table(out).to_pylist()
        assert [
            (r["withdrawal_id"], r["state"], r["fee"], r["finished_at"], r["reason"]) for r in rows
        ] == [(w.withdrawal_id, w.state, w.fee, w.finished_at, w.reason) for w in expected]
        return
    if suffix == ".csv":
        with out.open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
    else:
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [
        (
            r["withdrawal_id"],
            r["state"],
            int(r["amount"]),
            datetime.fromisoformat(r["requested_at"]),
        )
        for r in rows
    ] == [(w.withdrawal_id, w.state, w.amount, w.requested_at) for w in expected]
    assert rows[1]["reason"] == "wrong account name"
