"""Adversarial cases against the month's features: policy versions, withdrawal review, the
period close and the ledger commands. Each test was written against a defect found by
breaking the code on purpose (its comment says what happened) and passes since its fix."""

from __future__ import annotations

import json
import shutil
import tomllib
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pytest

from cli_support import run, scenario
from ledger_support import BACKENDS, day, ledgers, posted, table_rows
from test_cli_ledger import post_args
from tuishou import Ledger, LedgerPolicy
from tuishou.errors import InvalidArgumentError, InvalidPolicyError, LedgerError, TuishouError
from tuishou.examples import example_policy
from tuishou.io.policy_versions_file import load_policy_versions
from tuishou.ledger import schema
from tuishou.ledger.statement_models import Period
from tuishou.policy_versions import PolicyVersions

pd = pytest.importorskip("pandas")

make_ledger = pytest.fixture(params=BACKENDS)(ledgers)
NOVEMBER = Period.month("2026-11")


def snapshot(ledger):
    """Every tuishou_* table, row by row: a refusal must leave them all as they were."""
    return {name: table_rows(ledger, name) for name in sorted(schema.metadata.tables)}


def funded(make_ledger):
    """C has 1 500 fen available and a withdrawal w1 of 100 fen under review."""
    ledger = posted(make_ledger(freeze_days=0))
    ledger.release(day(1))
    ledger.request_withdrawal("C", 100, at=day(2), withdrawal_id="w1")
    return ledger


@pytest.mark.parametrize("reason", ["bounced \ud800", "a\x00b"])
def test_a_rejection_reason_the_database_cannot_store_is_refused_as_a_ledger_error(
    make_ledger, reason
):
    # Defect: a reason with a lone surrogate reaches the database driver and fails with a
    # bare UnicodeEncodeError on every backend. A reason with a NUL is stored on memory and
    # SQLite, but on PostgreSQL it fails as "the ledger database ... failed; check the
    # database and the disk, or restore it from a backup" (nothing is damaged). Expected: the
    # ledger refuses both at its door, alike on every backend, with a TuishouError naming the
    # reason; nothing changed.
    ledger = funded(make_ledger)
    before = snapshot(ledger)
    with pytest.raises(TuishouError, match="reason"):
        ledger.reject_withdrawal("w1", at=day(3), reason=reason)
    assert snapshot(ledger) == before
    assert ledger.withdrawal("w1").state == "requested"


NAT_CALLS = {
    "request_withdrawal": lambda ledger, at: ledger.request_withdrawal(
        "C", 100, at=at, withdrawal_id="w2"
    ),
    "approve_withdrawal": lambda ledger, at: ledger.approve_withdrawal("w1", at=at),
    "reject_withdrawal": lambda ledger, at: ledger.reject_withdrawal("w1", at=at, reason="x"),
    "pay_withdrawal": lambda ledger, at: ledger.pay_withdrawal("w1", at=at, transfer_reference="t"),
    "withdraw": lambda ledger, at: ledger.withdraw("C", 100, at=at, withdrawal_id="w3"),
    "close_period": lambda ledger, at: ledger.close_period(NOVEMBER, at=at),
    "release": lambda ledger, at: ledger.release(at),
}


@pytest.mark.parametrize("call", list(NAT_CALLS))
def test_a_missing_pandas_time_is_refused_naming_it(make_ledger, call):
    # Defect: pd.NaT (a datetime subclass, what a missing cell of a time column gives) is
    # passed on and fails inside with a bare ValueError "NaTType does not support utcoffset",
    # which names neither the argument nor the way out. Expected: a TuishouError naming `at`.
    ledger = funded(make_ledger)
    before = snapshot(ledger)
    with pytest.raises(TuishouError, match="NaT"):
        NAT_CALLS[call](ledger, pd.NaT)
    assert snapshot(ledger) == before


def test_period_month_of_the_last_year_is_refused_as_invalid_argument():
    # Defect: Period.month("9999-12") computes its end in year 10000 and raises a bare
    # ValueError ("year 10000 is out of range"). Expected: InvalidArgumentError naming the month.
    with pytest.raises(TuishouError, match="9999-12"):
        Period.month("9999-12")


@pytest.mark.parametrize(
    "command",
    [
        ["statement", "--member", "D", "--month", "9999-12"],
        ["close", "--month", "9999-12", "--at", "2026-12-01"],
        ["statements", "--month", "9999-12"],
    ],
)
def test_cli_month_of_the_last_year_exits_2(tmp_path, capsys, command):
    # Defect: `tuishou ledger statement|close|statements --month 9999-12` escapes main() with
    # a ValueError traceback. Expected: exit 2 with a message naming the month; nothing changed.
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, paths))[0] == 0
    before = ledger.read_bytes()
    code, _, err = run(capsys, "ledger", command[0], str(ledger), *command[1:])
    assert code == 2
    assert "9999-12" in err
    assert ledger.read_bytes() == before


def _versions_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "versions"
    shutil.copytree(Path(str(files("tuishou") / "data" / "versions")), folder)
    return folder


def test_a_version_time_below_the_microsecond_is_refused_not_truncated(tmp_path):
    # Defect: a JSON version file with effective_from "2026-12-01T00:00:00.0000001+08:00" is
    # read as 2026-12-01T00:00:00+08:00 (fromisoformat drops the 7th digit): the version takes
    # effect 100 ns earlier than written, silently. Everywhere else tuishou refuses times
    # below the microsecond ("round it first"). Expected: InvalidPolicyError naming the file.
    folder = _versions_folder(tmp_path)
    data = tomllib.loads((folder / "v2.toml").read_text(encoding="utf-8"))
    data["effective_from"] = "2026-12-01T00:00:00.0000001+08:00"
    (folder / "v2.toml").unlink()
    (folder / "v2.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidPolicyError, match=r"v2\.json"):
        load_policy_versions(folder)


def test_a_rejected_request_does_not_let_later_withdrawals_pay_less_than_one_of_the_total(
    make_ledger,
):
    # Defect: the fee's rate part is rounded on the member's cumulative amount in the fee
    # period, counting requests not rejected at the time of each request. Rejecting an earlier
    # request afterwards (a transfer that bounced: a closed bank account does it) leaves the
    # later requests' fees computed on the cheap slots behind it. At 1%, rounded up: a=50 fen
    # pays 1 fen (0.5 up), b=50 pays 0 (1.0 - 1); a is rejected; c=50 comes after b only and
    # pays 0 (1.0 - 1). b and c take out 100 fen for 0 fen of fees; one withdrawal of 100 fen
    # pays 1. Expected (issue 13: "its rounding cannot be gamed by splitting"): what is paid
    # out never carries less fee than one withdrawal of the total.
    ledger = posted(make_ledger(freeze_days=0, withdrawal_fee_rate="0.01", fee_rounding="up"))
    ledger.release(day(1))
    ledger.request_withdrawal("C", 50, at=day(2), withdrawal_id="a")
    ledger.request_withdrawal("C", 50, at=day(2), withdrawal_id="b")
    ledger.reject_withdrawal("a", at=day(3), reason="bank account closed")
    ledger.request_withdrawal("C", 50, at=day(3), withdrawal_id="c")
    for withdrawal_id in ("b", "c"):
        ledger.approve_withdrawal(withdrawal_id, at=day(4))
        ledger.pay_withdrawal(withdrawal_id, at=day(4), transfer_reference=f"t-{withdrawal_id}")
    one = ledger.request_withdrawal("B", 100, at=day(5), withdrawal_id="one").fee
    balance = ledger.balance("C")
    assert balance.withdrawn + balance.fees == 100
    assert balance.fees >= one == 1


@pytest.mark.parametrize(
    "command",
    [
        ["balances", "--out", "{missing}/balances.csv"],
        ["statements", "--month", "2026-11", "--out", "{missing}/statements.csv"],
        ["statement", "--member", "D", "--month", "2026-11", "--out", "{missing}/D.txt"],
        ["withdrawals", "list", "--out", "{missing}/withdrawals.csv"],
    ],
)
def test_cli_out_in_a_missing_folder_is_bad_input(tmp_path, capsys, command):
    # Defect: an --out whose folder does not exist ends with exit 1 and the OS error about a
    # hidden temporary file ("No such file or directory: '.../missing/.D.txt.x1y2z3.part'"),
    # a name the user never gave. Expected: bad input, exit 2, the message naming the --out
    # path (or its folder) and the way out; nothing written, the ledger unchanged.
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, paths))[0] == 0
    before = ledger.read_bytes()
    missing = tmp_path / "missing"
    args = [part.format(missing=missing) for part in command]
    name, rest = (args[:2], args[2:]) if args[0] == "withdrawals" else (args[:1], args[1:])
    code, _, err = run(capsys, "ledger", *name, str(ledger), *rest)
    assert code == 2, err
    assert ".part" not in err
    assert str(missing) in err
    assert ledger.read_bytes() == before
    assert not missing.exists()


def test_a_fee_policy_under_which_no_withdrawal_can_pass_is_refused():
    # Defect: withdrawal_fee_rate=1 with withdrawal_fee_fixed=1 passes the policy's checks
    # (fixed <= the smallest withdrawal), yet every withdrawal of A fen then costs A + 1 fen
    # and is refused with "withdraw a larger amount", a way out that never works. Expected:
    # the policy is refused when made, naming the two settings.
    with pytest.raises(LedgerError, match="withdrawal_fee_fixed"):
        LedgerPolicy(withdrawal_fee_rate="1", withdrawal_fee_fixed=1)


@pytest.mark.parametrize("method", ["version_at", "policy_at"])
def test_policy_versions_refuse_a_missing_pandas_time_naming_it(method):
    # Defect: PolicyVersions.version_at(pd.NaT) / policy_at(pd.NaT) fail with a bare
    # ValueError "NaTType does not support utcoffset" (a naive time or nanoseconds get an
    # InvalidArgumentError naming `when`). Expected: InvalidArgumentError naming when=NaT.
    versions = PolicyVersions.of((NOVEMBER.start, example_policy()))
    with pytest.raises(InvalidArgumentError, match="when=NaT"):
        getattr(versions, method)(pd.NaT)


@pytest.mark.parametrize("when", ["9999-12-15T00:00:00+00:00", "9999-12-31T20:00:00+00:00"])
@pytest.mark.parametrize("call", ["request_withdrawal", "withdraw"])
def test_a_withdrawal_in_the_last_month_of_year_9999_is_refused_as_ledger_error(
    make_ledger, call, when
):
    # Defect: the fee period of a request is its calendar month in the ledger's time zone;
    # for December 9999 its end is in year 10000, so the request fails with a bare
    # ValueError ("year 10000 is out of range"), or OverflowError ("date value out of range")
    # when the local time is already in year 10000. Other times are checked at the door.
    # Expected: a TuishouError naming at=...; nothing changed.
    ledger = funded(make_ledger)
    before = snapshot(ledger)
    with pytest.raises(TuishouError, match="at="):
        getattr(ledger, call)("C", 100, at=datetime.fromisoformat(when), withdrawal_id="w9")
    assert snapshot(ledger) == before


def test_a_period_whose_local_end_is_past_year_9999_is_refused():
    # Defect: Period(end=9999-12-31T23:00Z, timezone="Asia/Shanghai") is accepted (its local
    # end is 10000-01-01 07:00) and close_period records it, but the statement's to_text()
    # then fails with OverflowError ("date value out of range"). Expected: the period is
    # refused when made, a TuishouError naming end (as a time beyond 9999 is elsewhere).
    start, end = datetime(9999, 12, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC)

    def render() -> str:  # what fails today, with OverflowError
        return Ledger().statement("C", Period(label="last", start=start, end=end)).to_text()

    with pytest.raises(TuishouError, match="end"):
        render()


def _tables(url: str) -> list[str]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        return sorted(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "command",
    [
        ["release", "--as-of", "2026-11-20"],
        ["close", "--month", "2026-11", "--at", "2026-12-01"],
        [
            "withdrawals request",
            "--member",
            "D",
            "--amount",
            "1",
            "--id",
            "w",
            "--at",
            "2026-12-01",
        ],
    ],
)
def test_cli_only_post_creates_a_ledger_behind_a_url_too(tmp_path, capsys, postgres, command):
    # Defect: docs/cli.md says "Only `post` creates a ledger"; a missing SQLite file is
    # refused, but a PostgreSQL URL naming a schema without a ledger (a typo in the schema
    # or database name) gets a new empty ledger: `release`, `close` and
    # `withdrawals request` create every tuishou_* table (release and close then exit 0;
    # `statement` and `balances` do refuse). Expected: exit 2 naming the URL and the way out
    # (post to create one); no table created.
    url = postgres.new_schema_url()
    code, _, err = run(capsys, "ledger", *command[0].split(), url, *command[1:])
    assert (code, _tables(url)) == (2, []), err


def test_cli_a_rejection_reason_with_bytes_that_are_not_utf8_exits_2(tmp_path, capsys):
    # Defect: on Linux an argument holding bytes that are not UTF-8 (`--reason $'\xff'`)
    # reaches Python as a lone surrogate; `tuishou ledger withdrawals reject` passes it to the
    # database and dies with a UnicodeEncodeError traceback. Expected: exit 2 naming --reason
    # (or the reason), the withdrawal still under review.
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, paths))[0] == 0
    assert run(capsys, "ledger", "release", str(ledger), "--as-of", "2026-11-20")[0] == 0
    request = ["--member", "D", "--amount", "100", "--id", "w1", "--at", "2026-11-21"]
    assert run(capsys, "ledger", "withdrawals", "request", str(ledger), *request)[0] == 0
    before = ledger.read_bytes()
    reject = ["--id", "w1", "--at", "2026-11-22", "--reason", "bad \udcff"]
    code, _, err = run(capsys, "ledger", "withdrawals", "reject", str(ledger), *reject)
    assert code == 2
    assert "reason" in err
    assert ledger.read_bytes() == before


@pytest.mark.parametrize("command", ["post", "release"])
def test_cli_a_ledger_path_that_is_not_utf8_exits_2(tmp_path, capsys, command):
    # Defect: a LEDGER path holding bytes that are not UTF-8 (a lone surrogate in Python)
    # makes `tuishou ledger post` die with a UnicodeEncodeError traceback, while --out with
    # such a name is refused ("is not a UTF-8 file name; name the file in UTF-8"). Expected:
    # the same refusal for LEDGER, exit 2, no file created.
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger-\udcff.db"
    if command == "post":
        args = post_args(ledger, paths)
    else:
        args = ["ledger", "release", str(ledger), "--as-of", "2026-11-20"]
    code, _, err = run(capsys, *args)
    assert code == 2
    assert "UTF-8" in err
    assert not any(path.name.startswith("ledger-") for path in tmp_path.iterdir())


def test_a_written_off_clawback_is_not_paid_back_to_the_member_by_a_rejection(make_ledger):
    # Defect (money): under clawback="cap_at_balance", C asks to withdraw all 1 500 fen
    # (held for review), then the order is refunded in full: the clawback finds 0 available
    # and writes the 1 500 fen off (the platform's loss, as if C had spent it). The transfer
    # is then rejected and the 1 500 fen go back to C's available balance: C can withdraw the
    # commission of an order that was refunded, and the write-off stays. Expected: money
    # under review counts when a clawback is capped, or what comes back on rejection repays
    # what was written off first; either way C ends with nothing to withdraw.
    ledger = posted(make_ledger(freeze_days=0, clawback="cap_at_balance"))
    ledger.release(day(1))
    ledger.request_withdrawal("C", 1500, at=day(2), withdrawal_id="all")
    ledger.refund("o1", at=day(3), refund_id="everything")
    ledger.reject_withdrawal("all", at=day(4), reason="bank account closed")
    balance = ledger.balance("C")
    assert balance.available + balance.held + balance.payable == 0, balance


def test_settle_out_in_a_missing_folder_is_bad_input_too(tmp_path, capsys):
    # the whole kind: every command's --out goes through one option type
    paths = scenario(tmp_path)
    missing = tmp_path / "missing" / "payouts.csv"
    args = ["settle", "--policy", str(paths["policy"]), "--members", str(paths["members"])]
    code, _, err = run(capsys, *args, "--orders", str(paths["orders"]), "--out", str(missing))
    assert code == 2, err
    assert ".part" not in err
    assert str(missing.parent) in err
    assert not missing.parent.exists()
