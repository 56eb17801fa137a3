"""``tuishou ledger close``, ``statement``, ``statements`` and ``explain`` against the library."""

from __future__ import annotations

import csv

import pytest

from cli_support import run, scenario
from test_cli_ledger import history, post_args
from tuishou.ledger import Ledger
from tuishou.ledger.statement_models import Period

NOVEMBER = Period.month("2026-11")


@pytest.fixture
def month(tmp_path, capsys):
    """A November: the README's orders posted on the 1st, released on the 8th, part of
    o-1001 refunded on the 9th, a withdrawal on the 10th."""
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    for args in (
        post_args(ledger, paths),
        ["ledger", "release", str(ledger), "--as-of", "2026-11-08T10:00:00"],
        [
            "ledger",
            "refund",
            str(ledger),
            "--order",
            "o-1001",
            "--line",
            "phone=1",
            "--refund-id",
            "r-1",
            "--at",
            "2026-11-09",
        ],
        [
            "ledger",
            "withdraw",
            str(ledger),
            "--member",
            "D",
            "--amount",
            "1500",
            "--id",
            "w-1",
            "--at",
            "2026-11-10",
        ],
    ):
        assert run(capsys, *args)[0] == 0, args
    return ledger


def test_close_records_the_month_once(month, capsys):
    args = ["ledger", "close", str(month), "--month", "2026-11", "--at", "2026-12-01"]
    code, out, err = run(capsys, *args)
    assert (code, err) == (0, "")
    with Ledger.open(month, read_only=True) as ledger:
        [closed] = ledger.periods()
    assert out.splitlines()[0] == (
        "period 2026-11 closed at 2026-12-01T00:00:00+08:00: 5 member(s); the totals not "
        "zero, in fen:"
    )
    printed = dict(line.split() for line in out.splitlines()[2:])
    assert printed == {name: str(fen) for name, fen in closed.totals.items() if fen}
    assert printed["earned"] == "8192"
    before = history(month)["tuishou_periods"]
    code, out, _ = run(capsys, *args)
    assert (code, out) == (
        0,
        "period 2026-11 was closed before, at 2026-12-01T00:00:00+08:00: nothing changed\n",
    )
    assert history(month)["tuishou_periods"] == before


CLOSE_NOVEMBER = ["close", "--month", "2026-11", "--at", "2026-12-01"]


@pytest.mark.parametrize(
    ("first", "words", "message"),
    [
        ([], ["close", "--month", "2026-11", "--at", "2026-11-30T23:59:59"], "is before the end"),
        (CLOSE_NOVEMBER, ["close", "--month", "2026-10", "--at", "2026-12-02"], "in order"),
        (
            CLOSE_NOVEMBER,
            ["close", "--month", "2026-11", "--at", "2026-12-02", "--timezone", "UTC"],
            "closed with other bounds",
        ),
        (
            CLOSE_NOVEMBER,
            ["refund", "--order", "o-1002", "--refund-id", "r-2", "--at", "2026-11-30"],
            "clock",
        ),
        ([], ["statement", "--member", " D", "--month", "2026-11"], "normal form 'D'"),
        ([], ["explain", "--order", "o-9"], "o-9"),
    ],
)
def test_a_refusal_exits_2_and_changes_nothing(month, capsys, first, words, message):
    if first:
        assert run(capsys, "ledger", first[0], str(month), *first[1:])[0] == 0
    before = history(month)
    code, out, err = run(capsys, "ledger", words[0], str(month), *words[1:])
    assert (code, out) == (2, "")
    assert err.startswith("tuishou: error: ")
    assert message in err
    assert history(month) == before


@pytest.mark.parametrize("month_text", ["2026-13", "26-11", "２０２６-11", "2026-1"])
def test_a_bad_month_is_a_usage_error(month, capsys, month_text):
    code, _, err = run(capsys, "ledger", "statements", str(month), "--month", month_text)
    assert code == 2
    assert f"{month_text!r} is not a month; write it as 2026-11" in err


def test_statement_prints_the_librarys_text(month, capsys):
    code, out, _ = run(
        capsys, "ledger", "statement", str(month), "--member", "D", "--month", "2026-11"
    )
    with Ledger.open(month, read_only=True) as ledger:
        expected = ledger.statement("D", NOVEMBER).to_text()
    assert code == 0
    assert out.rstrip("\n") == expected.rstrip("\n")


def test_statement_writes_the_librarys_html(month, capsys):
    page = month.parent / "D-2026-11.html"
    args = ["--member", "D", "--month", "2026-11", "--format", "html", "--out", str(page)]
    code, out, _ = run(capsys, "ledger", "statement", str(month), *args)
    with Ledger.open(month, read_only=True) as ledger:
        expected = ledger.statement("D", NOVEMBER).to_html()
    assert (code, out) == (0, "")
    assert page.read_text(encoding="utf-8") == expected


def test_the_month_is_read_in_the_timezone(month, capsys):
    # 2026-12-01 05:00 in Beijing is still November in UTC (21:00 on the 30th)
    refund = ["--order", "o-1002", "--refund-id", "r-2", "--at", "2026-12-01T05:00:00"]
    assert run(capsys, "ledger", "refund", str(month), *refund)[0] == 0
    clawed = {}
    for zone in ("Asia/Shanghai", "UTC"):
        args = ["--month", "2026-11", "--timezone", zone]
        code, out, _ = run(capsys, "ledger", "statements", str(month), *args)
        assert code == 0
        clawed[zone] = {
            row["member_id"]: row["clawed_back"] for row in csv.DictReader(out.splitlines())
        }
        args = ["--member", "B", *args]
        code, out, _ = run(capsys, "ledger", "statement", str(month), *args)
        with Ledger.open(month, read_only=True) as ledger:
            expected = ledger.statement("B", Period.month("2026-11", timezone=zone)).to_text()
        assert out.rstrip("\n") == expected.rstrip("\n")
    assert (clawed["Asia/Shanghai"]["B"], clawed["UTC"]["B"]) == ("-749", "-1558")


@pytest.mark.parametrize("out", [None, "statements.csv"])
def test_statements_write_the_librarys_table(month, capsys, out):
    args = ["ledger", "statements", str(month), "--month", "2026-11"]
    code, printed, _ = run(capsys, *args, *(["--out", str(month.parent / out)] if out else []))
    assert code == 0
    text = (month.parent / out).read_text(encoding="utf-8") if out else printed
    rows = list(csv.DictReader(text.splitlines()))
    with Ledger.open(month, read_only=True) as ledger:
        expected = ledger.statements_arrow(NOVEMBER).to_pylist()
    assert [{k: str(v) for k, v in row.items()} for row in expected] == rows
    assert [row["member_id"] for row in rows] == ["A", "B", "C", "D", "Z"]


def test_statements_never_overwrite_the_ledger(month, capsys):
    copy = month.parent / "ledger.csv"
    month.rename(copy)
    before = copy.read_bytes()
    code, _, err = run(
        capsys, "ledger", "statements", str(copy), "--month", "2026-11", "--out", str(copy)
    )
    assert code == 2
    assert "writing it would destroy the ledger" in err
    assert copy.read_bytes() == before


def test_explain_prints_the_order_as_posted(month, capsys):
    code, out, _ = run(capsys, "ledger", "explain", str(month), "--order", "o-1001")
    with Ledger.open(month, read_only=True) as ledger:
        expected = ledger.explain("o-1001")
    assert code == 0
    assert out == expected + "\n"
    assert "refund 'r-1'" in out


@pytest.mark.parametrize(
    "words",
    [
        ["close", "--month", "2026-11"],
        ["statement", "--member", "D", "--month", "2026-11"],
        ["statements", "--month", "2026-11"],
        ["explain", "--order", "o-1"],
    ],
)
def test_a_missing_ledger_is_refused(tmp_path, capsys, words):
    code, _, err = run(capsys, "ledger", words[0], str(tmp_path / "typo.db"), *words[1:])
    assert code == 2
    assert "there is no ledger at" in err
    assert list(tmp_path.iterdir()) == []
