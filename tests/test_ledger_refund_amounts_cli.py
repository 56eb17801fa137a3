"""``tuishou ledger refund --amount SKU=FEN``: refunds by amount (退差价) from the command line,
doing what ``Ledger.refund(amounts=...)`` does."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from cli_support import MEMBERS, ORDERS, POLICY, run, scenario
from tuishou import InviteTree, load_policy
from tuishou.ledger import Ledger

CN = ZoneInfo("Asia/Shanghai")
POSTED = datetime(2026, 11, 1, 10, tzinfo=CN)


@pytest.fixture
def posted(tmp_path, capsys):
    """A SQLite ledger with the README's orders posted at 2026-11-01 10:00 +08:00."""
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    args = ["--policy", str(paths["policy"]), "--members", str(paths["members"])]
    args += ["--orders", str(paths["orders"]), "--at", "2026-11-01T10:00:00"]
    assert run(capsys, "ledger", "post", str(ledger), *args)[0] == 0
    return ledger


def reference():
    """The same orders posted by the library, in memory."""
    ledger = Ledger()
    columns = {name: [row[name] for row in ORDERS] for name in ORDERS[0]}
    ledger.post_batch(load_policy(POLICY), InviteTree.from_records(MEMBERS), columns, at=POSTED)
    return ledger


def everything(path):
    """Every row of every table of the ledger file: what a refused command must not change."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            names = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table'")
            ).scalars()
            return {
                name: sorted(connection.execute(text(f'SELECT * FROM "{name}"')).all())
                for name in list(names)
            }
    finally:
        engine.dispose()


def refund(ledger, *words):
    return ["ledger", "refund", str(ledger), "--order", "o-1002", *words]


def test_a_refund_by_amount_does_what_the_library_does(posted, capsys):
    words = ["--amount", "band=4901", "--refund-id", "r-1", "--at", "2026-11-02T10:00:00"]
    code, out, err = run(capsys, *refund(posted, *words))
    expected = reference()
    result = expected.refund(
        "o-1002", amounts={"band": 4901}, at=datetime(2026, 11, 2, 10, tzinfo=CN), refund_id="r-1"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"refund r-1 of o-1002: {len(result.entries)} entries",
        *(f"  {e.member_id}  {e.bucket}  {e.reason}  {e.amount:+d} fen" for e in result.entries),
        f"the order now pays {sum(result.remaining.values())} fen of a pool of {result.pool} fen",
    ]
    assert result.entries  # the refund took something back
    with Ledger.open(posted, read_only=True) as ledger:
        assert list(ledger.balances()) == list(expected.balances())
        assert ledger.payouts("o-1002") == result.remaining
    code, out, _ = run(capsys, *refund(posted, *words))  # a retry changes nothing
    assert (code, out) == (0, "refund r-1 of o-1002 was recorded before: nothing changed\n")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--amount", "band=24901"], "'band': refund of 24901 fen but only 24900 fen left"),
        (["--amount", "bnad=5"], "'bnad' is not in order 'o-1002'; did you mean 'band'?"),
        (["--amount", "band=5", "--line", "band=1"], "--line and --amount were both given"),
        (["--amount", "band=5", "--amount", "band=6"], "SKU 'band' is given twice"),
        (["--amount", "band"], "'band' is not SKU=FEN; write e.g. phone=2000 for ¥20.00"),
        (["--amount", "band=0"], "0 is not in the range x>=1"),
        (["--amount", "band=1.5"], "'1.5' is not a valid integer"),
        (["--amount", "band=-3"], "-3 is not in the range x>=1"),
    ],
)
def test_a_refused_refund_by_amount_exits_2_and_changes_nothing(posted, capsys, words, message):
    before = everything(posted)
    code, out, err = run(
        capsys, *refund(posted, *words, "--refund-id", "r-1", "--at", "2026-11-02")
    )
    assert (code, out) == (2, "")
    assert message in err
    assert everything(posted) == before
