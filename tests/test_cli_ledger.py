"""``tuishou ledger``: post, release, refund, balances and withdraw against the library."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from sqlalchemy import MetaData, create_engine

from cli_support import MEMBERS, ORDERS, POLICY, run, scenario, write_rows
from tuishou import InviteTree, load_policy
from tuishou.errors import InvalidOrderError
from tuishou.ledger import Ledger, LedgerPolicy

CN = ZoneInfo("Asia/Shanghai")
POSTED = datetime(2026, 11, 1, 10, tzinfo=CN)


def post_args(ledger, paths, *more):
    return [
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
        "2026-11-01T10:00:00",
        *more,
    ]


def history(target):
    """Every row of every table of a ledger database: what a refused command must not change."""
    engine = create_engine(target if "://" in str(target) else f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return {
                name: sorted(map(tuple, connection.execute(table.select())), key=repr)
                for name, table in _tables(connection).items()
            }
    finally:
        engine.dispose()


def _tables(connection):
    found = MetaData()
    found.reflect(connection)
    return found.tables


def balances_of(target):
    with Ledger.open(target, read_only=True) as ledger:
        return list(ledger.balances())


def reference():
    """The same orders posted by the library, in memory."""
    ledger = Ledger()
    columns = {name: [row[name] for row in ORDERS] for name in ORDERS[0]}
    ledger.post_batch(load_policy(POLICY), InviteTree.from_records(MEMBERS), columns, at=POSTED)
    return ledger


@pytest.fixture(params=["path", "sqlite-url", "postgresql"])
def target(request, tmp_path):
    """A ledger as the command line names it: a path, a sqlite:/// URL, a PostgreSQL URL."""
    if request.param == "path":
        return str(tmp_path / "ledger.db")
    if request.param == "sqlite-url":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres").new_schema_url()


@pytest.fixture
def posted(tmp_path, capsys):
    """A SQLite ledger with the README's orders posted at 2026-11-01 10:00 +08:00."""
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, paths))[0] == 0
    return ledger, paths


def test_post_gives_the_librarys_balances_on_every_backend(tmp_path, capsys, target):
    paths = scenario(tmp_path)
    code, out, err = run(capsys, *post_args(target, paths))
    assert (code, err) == (0, "")
    assert out == (
        f"posted 3 order(s) to {target} at 2026-11-01T10:00:00+08:00: 7 payout row(s), "
        "7 entries; 0 already posted\n"
    )
    assert balances_of(target) == list(reference().balances())
    code, out, _ = run(capsys, *post_args(target, paths))  # again: a retry changes nothing
    assert (code, out.endswith("0 entries; 3 already posted\n")) == (0, True)
    assert balances_of(target) == list(reference().balances())


def test_release_refund_and_withdraw_do_what_the_library_does(posted, capsys):
    ledger, _ = posted
    expected = reference()
    steps = [
        (["release", "--as-of", "2026-11-08T10:00:00"], lambda: expected.release(_at(8, 10))),
        (
            [
                "refund",
                "--order",
                "o-1001",
                "--line",
                "phone=1",
                "--refund-id",
                "r-1",
                "--at",
                "2026-11-09",
            ],
            lambda: expected.refund("o-1001", lines={"phone": 1}, at=_at(9), refund_id="r-1"),
        ),
        (
            ["withdraw", "--member", "B", "--amount", "500", "--id", "w-1", "--at", "2026-11-10"],
            lambda: expected.withdraw("B", 500, at=_at(10), withdrawal_id="w-1"),
        ),
    ]
    for words, same in steps:
        code, _, err = run(capsys, "ledger", words[0], str(ledger), *words[1:])
        assert (code, err) == (0, ""), words
        same()
    assert _entries(ledger) == _entries(expected)
    assert balances_of(ledger) == list(expected.balances())


def _at(day, hour=0):
    return datetime(2026, 11, day, hour, tzinfo=CN)


def _entries(ledger):
    if not isinstance(ledger, Ledger):
        with Ledger.open(ledger, read_only=True) as book:
            return _entries(book)
    return [
        (e.member_id, e.bucket, e.reason, e.amount, e.at, e.order_id, e.request_id)
        for e in ledger.entries()
    ]


def test_refund_prints_its_entries_and_a_retry_changes_nothing(posted, capsys):
    ledger, _ = posted
    args = ["ledger", "refund", str(ledger), "--order", "o-1002", "--refund-id", "r-9"]
    code, out, _ = run(capsys, *args, "--at", "2026-11-02")
    assert code == 0
    assert out.splitlines() == [
        "refund r-9 of o-1002: 3 entries",
        "  A  pending  refund  -125 fen",
        "  B  pending  refund  -809 fen",
        "  Z  pending  refund  -62 fen",
        "the order now pays 0 fen of a pool of 0 fen",
    ]
    before = _entries(ledger)
    code, out, _ = run(capsys, *args, "--at", "2026-11-03")
    assert (code, out) == (0, "refund r-9 of o-1002 was recorded before: nothing changed\n")
    assert _entries(ledger) == before  # (a retry takes the write lock)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["refund", "--order", "o-9", "--refund-id", "r-1", "--at", "2026-11-02"], "o-9"),
        (
            [
                "refund",
                "--order",
                "o-1001",
                "--line",
                "phone=2",
                "--refund-id",
                "r-1",
                "--at",
                "2026-11-02",
            ],
            "phone",
        ),
        (["release", "--as-of", "2026-10-31"], "clock"),
        (
            ["withdraw", "--member", "B", "--amount", "100", "--id", "w-1", "--at", "2026-11-02"],
            "available",
        ),
    ],
)
def test_a_refused_command_exits_2_and_changes_nothing(posted, capsys, words, message):
    ledger, _ = posted
    before = history(ledger)
    code, out, err = run(capsys, "ledger", words[0], str(ledger), *words[1:])
    assert (code, out) == (2, "")
    assert err.startswith("tuishou: error: ")
    assert message in err
    assert history(ledger) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("phone", "'phone' is not SKU=QTY"),
        ("phone=0", "0 is not in the range x>=1"),
        ("phone=１", "is not written in ASCII digits"),
    ],
)
def test_a_bad_refund_line_is_a_usage_error(posted, capsys, line, message):
    ledger, _ = posted
    before = history(ledger)
    args = ["--order", "o-1001", "--line", line, "--refund-id", "r-1", "--at", "2026-11-02"]
    code, _, err = run(capsys, "ledger", "refund", str(ledger), *args)
    assert code == 2
    assert message in err
    assert history(ledger) == before


def test_a_sku_given_twice_is_refused(posted, capsys):
    ledger, _ = posted
    args = ["--order", "o-1001", "--line", "phone=1", "--line", "phone=1", "--refund-id", "r"]
    code, _, err = run(capsys, "ledger", "refund", str(ledger), *args)
    assert code == 2
    assert "SKU 'phone' is given twice" in err


@pytest.mark.parametrize(
    "words",
    [
        ["balances"],
        ["release"],
        ["refund", "--order", "o-1", "--refund-id", "r-1"],
        ["withdraw", "--member", "B", "--amount", "100", "--id", "w-1"],
    ],
)
@pytest.mark.parametrize("url", [False, True])
def test_only_post_creates_a_ledger(tmp_path, capsys, words, url):
    missing = tmp_path / "typo.db"
    name = f"sqlite:///{missing}" if url else str(missing)
    code, out, err = run(capsys, "ledger", words[0], name, *words[1:])
    assert (code, out) == (2, "")
    assert err == (
        f"tuishou: error: there is no ledger at {missing}; check the path, or create the "
        f"ledger by posting orders to it: tuishou ledger post {name} --policy ... --members "
        "... --orders ...\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_post_with_bad_orders_names_every_problem_and_creates_nothing(tmp_path, capsys):
    orders = [dict(row) for row in ORDERS]
    orders[1]["amount"] = "999.00"
    orders[2]["group"] = "toys"
    paths = scenario(tmp_path, orders=orders)
    code, out, err = run(capsys, *post_args(tmp_path / "ledger.db", paths))
    assert (code, out) == (2, "")
    assert "orders.csv, line 3: amount='999.00' is not a whole number of fen" in err
    assert "orders.csv, line 4: group='toys' has no pool rate" in err
    assert not (tmp_path / "ledger.db").exists()


def test_post_with_bad_orders_leaves_an_existing_ledger_as_it_was(posted, capsys):
    ledger, paths = posted
    before = history(ledger)
    orders = [{**ORDERS[0], "order_id": "o-2001", "sharer_id": "Q"}]
    write_rows(paths["orders"], orders, tuple(ORDERS[0]))
    code, _, err = run(capsys, *post_args(ledger, paths))
    assert code == 2
    assert "line 2: sharer_id='Q' is not a member" in err
    assert history(ledger) == before


def test_post_before_the_ledgers_clock_is_refused(posted, capsys):
    ledger, paths = posted
    run(capsys, "ledger", "release", str(ledger), "--as-of", "2026-11-20")
    before = history(ledger)
    args = post_args(ledger, paths)
    args[args.index("--at") + 1] = "2026-11-02"
    write_rows(paths["orders"], [{**ORDERS[0], "order_id": "o-3001"}], tuple(ORDERS[0]))
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith("tuishou: error: ")
    assert "clock" in err
    assert history(ledger) == before


def test_times_without_an_offset_are_read_in_the_timezone(tmp_path, capsys):
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, paths, "--timezone", "UTC"))[0] == 0
    assert {row[4] for row in _entries(ledger)} == {datetime(2026, 11, 1, 10, tzinfo=UTC)}


def test_the_settings_file_makes_the_ledgers_policy(tmp_path, capsys):
    paths = scenario(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_text('freeze_days = 15\nwithdrawal_fee_rate = "0.01"\n', encoding="utf-8")
    ledger = tmp_path / "ledger.db"
    assert run(capsys, *post_args(ledger, paths, "--settings", str(settings)))[0] == 0
    with Ledger.open(ledger, read_only=True) as book:
        assert book.policy == LedgerPolicy(freeze_days=15, withdrawal_fee_rate="0.01")
    settings.write_text("freeze_days = 30\n", encoding="utf-8")
    code, _, err = run(capsys, *post_args(ledger, paths, "--settings", str(settings)))
    assert code == 2
    assert "freeze_days: the ledger keeps 15, given 30" in err


def test_a_bad_settings_file_names_the_file_and_creates_nothing(tmp_path, capsys):
    paths = scenario(tmp_path)
    settings = tmp_path / "settings.json"
    settings.write_text('{"freeze_days": 1000}', encoding="utf-8")
    code, _, err = run(capsys, *post_args(tmp_path / "l.db", paths, "--settings", str(settings)))
    assert code == 2
    assert f"{settings}: invalid ledger policy" in err
    assert "freeze_days" in err
    assert not (tmp_path / "l.db").exists()


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "settings.json",
            '{"freeze_days": 7, "freeze_days": 15}',
            "the key 'freeze_days' appears twice in one object (7, then 15)",
        ),
        ("settings.toml", "freeze_days = 7\nfreeze_days = 15\n", "(at line 2, column 17)"),
        ("settings.json", '{"withdrawal_fee_rate": NaN}', "NaN is not a JSON number"),
    ],
)
def test_a_settings_file_naming_a_key_twice_or_a_nan_is_refused(
    tmp_path, capsys, name, text, problem
):
    paths = scenario(tmp_path)
    settings = tmp_path / name
    settings.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, *post_args(tmp_path / "l.db", paths, "--settings", str(settings)))
    assert code == 2
    assert f"{settings}: not valid " in err
    assert problem in err
    assert not (tmp_path / "l.db").exists()


def test_a_settings_file_that_is_not_utf8_is_named(tmp_path, capsys):
    paths = scenario(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_bytes("# 设置\nfreeze_days = 7\n".encode("gbk"))
    code, _, err = run(capsys, *post_args(tmp_path / "l.db", paths, "--settings", str(settings)))
    assert code == 2
    assert f"{settings}: is not UTF-8 text; save it as UTF-8" in err


def test_progress_shows_a_bar_when_asked(tmp_path, capsys):
    paths = scenario(tmp_path)
    code, _, err = run(capsys, *post_args(tmp_path / "ledger.db", paths, "--progress"))
    assert code == 0
    assert "posting orders" in err
    assert "100%" in err
    assert "4 line(s), 3 order(s) in " in err  # the throughput, beside the bar


def test_balances_print_a_table_in_fen(posted, capsys):
    ledger, _ = posted
    code, out, _ = run(capsys, "ledger", "balances", str(ledger))
    assert code == 0
    assert out.splitlines()[:2] == [
        "member_id  pending  available  written_off  withdrawn  fees  held  payable",
        "A             1025          0            0          0     0     0        0",
    ]
    code, out, _ = run(capsys, "ledger", "balances", str(ledger), "--as-of", "2026-11-01T10:00")
    assert (code, out.splitlines()[1].split()[:2]) == (0, ["A", "1025"])
    code, _, err = run(capsys, "ledger", "balances", str(ledger), "--as-of", "2026-11-01T9")
    assert code == 2
    assert "'2026-11-01T9' does not match the formats" in err
    code, out, _ = run(capsys, "ledger", "balances", str(ledger), "--as-of", "2026-11-01")
    assert (code, out.splitlines()[-1]) == (0, "(no entries)")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_balances_out_writes_the_librarys_table(posted, capsys, suffix):
    ledger, _ = posted
    out = ledger.parent / f"balances{suffix}"
    code, printed, _ = run(capsys, "ledger", "balances", str(ledger), "--out", str(out))
    assert (code, printed) == (0, "")
    expected = reference().balances_arrow().to_pylist()
    if suffix == ".csv":
        with out.open(encoding="utf-8", newline="") as file:
            rows = [
                {k: (v if k == "member_id" else int(v)) for k, v in row.items()}
                for row in csv.DictReader(file)
            ]
    elif suffix == ".jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        rows = pq.read_table(out).to_pylist()
    assert rows == expected


def test_balances_to_standard_output(posted, capsys):
    ledger, _ = posted
    code, out, _ = run(capsys, "ledger", "balances", str(ledger), "--out", "-", "--format", "csv")
    assert code == 0
    assert out.splitlines()[:2] == [
        "member_id,pending,available,written_off,withdrawn,fees,held,payable",
        "A,1025,0,0,0,0,0,0",
    ]


def test_balances_never_overwrite_the_ledger(posted, capsys):
    ledger, _ = posted
    copy = ledger.parent / "ledger.csv"
    ledger.rename(copy)
    before = copy.read_bytes()
    code, _, err = run(
        capsys, "ledger", "balances", str(copy), "--out", f"{copy.parent}/./ledger.csv"
    )
    assert code == 2
    assert "writing it would destroy the ledger" in err
    assert copy.read_bytes() == before


def test_withdraw_prints_the_fee_and_a_retry_changes_nothing(tmp_path, capsys):
    paths = scenario(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_text('withdrawal_fee_rate = "0.01"\nfreeze_days = 0\n', encoding="utf-8")
    ledger = tmp_path / "ledger.db"
    run(capsys, *post_args(ledger, paths, "--settings", str(settings)))
    run(capsys, "ledger", "release", str(ledger), "--as-of", "2026-11-02")
    args = ["ledger", "withdraw", str(ledger), "--member", "D", "--amount", "4000", "--id", "w-1"]
    code, out, _ = run(capsys, *args, "--at", "2026-11-03")
    assert (code, out) == (0, "withdrawal w-1: D took 4000 fen out, 3960 fen paid, fee 40 fen\n")
    before = _entries(ledger)
    code, out, _ = run(capsys, *args, "--at", "2026-11-04")
    assert (code, out) == (0, "withdrawal w-1 was recorded before: nothing changed\n")
    assert _entries(ledger) == before  # (a retry takes the write lock)


def test_a_refusal_while_posting_names_the_line_and_leaves_no_new_ledger(
    tmp_path, capsys, monkeypatch
):
    def refuse(*args, **kwargs):
        raise InvalidOrderError("order 'o-1002': row(s) 2: refused")

    monkeypatch.setattr(Ledger, "post_batch", refuse)
    paths = scenario(tmp_path)
    code, out, err = run(capsys, *post_args(tmp_path / "ledger.db", paths))
    assert (code, out) == (2, "")
    assert err == f"tuishou: error: {paths['orders']}: order 'o-1002': line 4: refused\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "members.csv",
        "orders.csv",
        "policy.toml",
    ]
