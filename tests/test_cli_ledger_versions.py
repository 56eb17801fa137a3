"""``tuishou ledger post`` under policy versions, or with paid_at: each order posted as
``Ledger.post`` posts it (its version and paid_at recorded), all or nothing."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cli_support import MEMBERS, ORDERS, run, scenario, write_rows
from test_cli_ledger import _entries
from tuishou import InviteTree, Order, OrderLine, settle
from tuishou.io import load_policy_or_versions
from tuishou.ledger import Ledger

CN = ZoneInfo("Asia/Shanghai")
VERSIONS = Path(str(files("tuishou") / "data" / "versions"))
COLUMNS = (*tuple(ORDERS[0]), "paid_at")
# The switch: one order a second before v2, one at the second it starts.
PAID = [
    {**ORDERS[0], "order_id": "o-1", "paid_at": "2026-11-30T23:59:59"},
    {**ORDERS[0], "order_id": "o-2", "paid_at": "2026-12-01T00:00:00"},
    {**ORDERS[2], "order_id": "o-3", "paid_at": "2026-12-01T09:30:00+08:00"},
]


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return request.getfixturevalue("postgres").new_schema_url()


def post(capsys, target, paths, orders, policy=VERSIONS):
    write_rows(paths["orders"], orders, COLUMNS)
    args = ["ledger", "post", str(target), "--policy", str(policy), "--members"]
    args += [str(paths["members"]), "--orders", str(paths["orders"]), "--at", "2026-12-02"]
    return run(capsys, *args)


def library(orders, policy=VERSIONS):
    """The same orders posted one by one by the library, in memory."""
    ledger, tree = Ledger(), InviteTree.from_records(MEMBERS)
    chosen = load_policy_or_versions(policy)
    for row in orders:
        order = Order(
            order_id=row["order_id"],
            buyer_id=row["buyer_id"],
            sharer_id=row["sharer_id"],
            paid_at=_aware(row["paid_at"]),
            lines=[OrderLine(sku=row["sku"], group=row["group"], amount=row["amount"])],
        )
        ledger.post(order, settle(chosen, tree, order), at=_aware("2026-12-02T00:00:00"))
    return ledger


def _aware(text):
    from datetime import datetime

    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=CN)


def test_each_order_is_posted_under_its_version(tmp_path, capsys, target):
    paths = scenario(tmp_path)
    code, out, err = post(capsys, target, paths, PAID)
    assert (code, err) == (0, "")
    assert out.startswith(f"posted 3 order(s) to {target} at 2026-12-02T00:00:00+08:00: ")
    expected = library(PAID)
    assert _entries(target) == _entries(expected)
    with Ledger.open(target, read_only=True) as ledger:
        for order_id in ("o-1", "o-2", "o-3"):
            assert ledger.explain(order_id) == expected.explain(order_id)
        assert "(version v1;" in ledger.explain("o-1")
        assert "(version v2;" in ledger.explain("o-2")
    before = _entries(target)
    assert post(capsys, target, paths, PAID)[0] == 0  # again: nothing more
    assert _entries(target) == before


def test_a_policy_file_with_paid_at_posts_each_order_with_it(tmp_path, capsys):
    paths = scenario(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert post(capsys, ledger, paths, PAID, policy=paths["policy"])[0] == 0
    # the freeze (7 days) starts at paid_at (by Dec 1 09:30), not at posting (Dec 2)
    assert run(capsys, "ledger", "release", str(ledger), "--as-of", "2026-12-08T12:00")[0] == 0
    expected = library(PAID, paths["policy"])
    expected.release(_aware("2026-12-08T12:00:00"))
    assert _entries(ledger) == _entries(expected)
    assert {e[5] for e in _entries(ledger) if e[2] == "release"} == {"o-1", "o-2", "o-3"}


def test_orders_without_paid_at_are_refused_and_no_ledger_is_made(tmp_path, capsys):
    paths = scenario(tmp_path)
    orders = [{**PAID[0], "paid_at": None}, PAID[1], {**PAID[2], "paid_at": None}]
    code, out, err = post(capsys, tmp_path / "ledger.db", paths, orders)
    assert (code, out) == (2, "")
    assert "orders.csv, line 2: order 'o-1' has no paid_at; with 2 policy versions" in err
    assert "orders.csv, line 4: order 'o-3' has no paid_at" in err
    assert not (tmp_path / "ledger.db").exists()


def test_an_order_posted_before_with_another_settlement_is_refused(tmp_path, capsys, target):
    paths = scenario(tmp_path)
    assert post(capsys, target, paths, PAID[2:])[0] == 0
    before = _entries(target)
    changed = [{**PAID[2], "amount": PAID[2]["amount"] + 100}, *PAID[:2]]
    code, out, err = post(capsys, target, paths, changed)
    assert (code, out) == (2, "")
    assert err.startswith(
        "tuishou: error: 1 orders of the batch were already posted with a different "
        "settlement: 'o-3'"
    )
    assert "nothing of the batch was posted" in err
    assert _entries(target) == before  # o-1 and o-2, before nothing, stay unposted too
