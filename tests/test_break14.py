"""Defects found by breaking issue 14's new features (one failing test per defect)."""

from __future__ import annotations

import contextlib

import pytest

from tuishou import InviteTree, Order, OrderLine, Policy, settle
from tuishou.engine import settle_batch
from tuishou.errors import InvalidPolicyError
from tuishou.orders import order_columns

TREE = InviteTree.from_records(
    [
        {"member_id": "A", "inviter_id": None, "tier": "member"},
        {"member_id": "B", "inviter_id": "A", "tier": "member"},
        {"member_id": "C", "inviter_id": "B", "tier": "member"},
    ]
)


def fixed_policy(amount: int) -> dict:
    return {
        "name": "gift",
        "tiers": ["member"],
        "group_rates": {"home": "1"},
        "max_generation": 2,
        "allow_fixed_above_amount": True,
        "rules": [{"kind": "seller", "rates": {"member": "0.05"}}],
        "fixed": {"mug": {"seller": {"amounts": {"member": amount}}}},
    }


def test_a_huge_fixed_amount_is_refused_not_wrapped_around_in_the_batch_engine():
    """A fixed amount per unit has no upper bound: 2^62 fen × 3 units is accepted by the
    policy, ``settle`` pays 1.4e19 fen (beyond any order's ¥100,000,000 maximum) and the
    batch engine's int64 wraps round: it pays the seller a NEGATIVE amount, silently.
    Should: the policy refuses a fixed amount above the supported maximum (MAX_ORDER_FEN),
    or at least both paths refuse the line; never a negative payout."""
    try:
        policy = Policy.model_validate(fixed_policy(2**62))
    except InvalidPolicyError:
        return  # refused up front: fine
    order = Order(
        order_id="o",
        sharer_id="C",
        lines=[OrderLine(sku="mug", group="home", amount=0, quantity=3)],
    )
    batch = settle_batch(policy, TREE, order_columns([order]))
    assert all(row[-1] >= 0 for row in batch.payouts.rows()), batch.payouts.rows()
    single = settle(policy, TREE, order)
    assert [row[2:] for row in batch.orders.rows()] == [(single.pool, single.paid, 0)]


def test_a_binding_rule_of_millions_of_days_is_refused_cleanly():
    """``BindingRule(days=3_000_000)`` is accepted (days has no upper bound), then ``bind``
    crashes with a raw ``OverflowError: date value out of range`` from ``since + timedelta``.
    Should: the rule refuses such days (InvalidBindingError naming days and the way out,
    e.g. None for a permanent binding), or the binding never expires; never a raw error."""
    from datetime import UTC, datetime

    from tuishou.bindings import BindingEvent, BindingRule, bind
    from tuishou.errors import TuishouError

    event = BindingEvent(customer_id="c-1", member_id="B", at=datetime(2026, 11, 3, tzinfo=UTC))
    try:
        rule = BindingRule(mode="first", days=3_000_000)
    except TuishouError:
        return  # refused up front: fine
    with contextlib.suppress(TuishouError):  # a clear refusal: fine
        bind([event], rule)


def test_ledger_bind_with_millions_of_days_exits_2_and_creates_nothing(tmp_path, capsys):
    """``tuishou ledger bind --days 3000000`` ends in a Python traceback (exit status 1).
    Should: exit status 2 with a one-line error naming --days, and no ledger file."""
    from cli_support import run

    ledger = tmp_path / "ledger.db"
    args = ["ledger", "bind", str(ledger), "--customer", "c-1", "--member", "B"]
    args += ["--mode", "first", "--days", "3000000", "--at", "2026-11-03T08:00:00"]
    try:
        code, _, err = run(capsys, *args)
    except OverflowError as exc:
        pytest.fail(f"traceback instead of a clear error: {exc!r}")
    assert code == 2, err
    assert "days" in err
    assert not ledger.exists()


def test_bindings_at_refuses_a_naive_time():
    """``Bindings.at(customer, when)`` takes a naive ``when`` and reads it in the MACHINE's
    local time zone (``astimezone``), so the same call answers differently on two servers;
    a str ``when`` gives a raw AttributeError. Should: refuse a naive or non-datetime
    ``when`` (as BindingEvent and Bindings.from_records do: aware datetimes only)."""
    from datetime import UTC, datetime

    from tuishou.bindings import Bindings

    found = Bindings.from_records(
        [{"customer_id": "c", "member_id": "B", "since": datetime(2026, 1, 1, tzinfo=UTC)}]
    )
    with pytest.raises(ValueError, match="time zone"):
        found.at("c", datetime(2026, 2, 1))


def test_a_bindings_file_names_every_problem_at_once(tmp_path):
    """A bindings file with a bad cell for one customer (c-9's since is not a time) and two
    overlapping bindings of another (c-1) reports only the bad cell; the overlap shows up
    only after that is fixed, one round trip later. Should: every problem of the file at
    once (design: "all problems at once for bulk input"; docs/cli.md: "every problem by
    file and line"), the overlap naming c-1's lines."""
    from tuishou.errors import InvalidFileError
    from tuishou.io import load_bindings

    path = tmp_path / "bindings.csv"
    path.write_text(
        "customer_id,member_id,since,until,how\n"
        "c-1,B,2026-11-03T08:00:00,,first_share\n"
        "c-1,C,2026-11-05T08:00:00,,rebind\n"
        "c-9,B,not a time,,\n"
    )
    with pytest.raises(InvalidFileError) as refused:
        load_bindings(path)
    message = str(refused.value)
    assert "line 4" in message  # the bad cell: reported
    assert "c-1" in message, message  # the overlap: missing


def test_an_orders_file_names_every_coupon_problem_at_once(tmp_path, capsys):
    """An orders file where one order's lines carry different coupons (o6) and another
    order's coupon applies to no line (o7) reports only o6; o7 appears after o6 is fixed.
    Should: both at once, each by file and line (docs/cli.md, order coupons)."""
    from cli_support import POLICY, run

    members = tmp_path / "members.csv"
    members.write_text("member_id,inviter_id,tier,status\nA,,mentor,active\nB,A,mentor,active\n")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,buyer_id,sharer_id,sku,group,amount,quantity,coupon,coupon_eligible\n"
        "o6,g1,B,band,xiaomi,333,1,10,true\n"
        "o6,g1,B,ear,xiaomi,333,1,11,true\n"
        "o7,g1,B,band,xiaomi,333,1,10,false\n"
    )
    out = tmp_path / "out.csv"
    code, _, err = run(
        capsys, "settle", "--policy", str(POLICY), "--members", str(members),
        "--orders", str(orders), "--out", str(out),
    )  # fmt: skip
    assert code == 2
    assert "coupon=11 differs" in err
    assert "o7" in err, err


MIXED = (
    "order_id,buyer_id,sharer_id,sku,group,amount,quantity,coupon,coupon_eligible\n"
    "o1,g1,B,band,xiaomi,1000,1,300,true\n"
    "o1,g1,B,band,xiaomi,1000,1,300,false\n"
    "o1,g1,B,ear,xiaomi,1000,1,300,\n"
)


def test_settle_explain_and_ledger_post_agree_on_one_sku_both_eligible_and_not(tmp_path, capsys):
    """One order, one SKU on a line flagged coupon_eligible=true and on one flagged false:
    ``tuishou settle`` (the batch engine) settles and pays it (exit 0), while
    ``tuishou explain`` and ``tuishou ledger post`` of the same file refuse it ("SKU 'band'
    is on a line the coupon applies to and on one it does not"). The same input must get
    the same answer on every path (design: batch = settle): refuse it in the engine too,
    naming the order, or accept it everywhere."""
    from cli_support import POLICY, run

    members = tmp_path / "members.csv"
    members.write_text("member_id,inviter_id,tier,status\nA,,mentor,active\nB,A,mentor,active\n")
    orders = tmp_path / "orders.csv"
    orders.write_text(MIXED)
    common = ["--policy", str(POLICY), "--members", str(members), "--orders", str(orders)]
    settled, _, _ = run(capsys, "settle", *common, "--out", str(tmp_path / "out.csv"))
    explained, _, err = run(capsys, "explain", *common, "o1")
    assert "SKU 'band' is on a line the coupon applies to" in err
    assert (settled, explained) == (2, 2)


def test_a_free_gift_of_huge_quantity_is_refused_not_wrapped_around_in_the_batch_engine():
    """With ``allow_fixed_above_amount`` a ¥0 gift line pays fixed × quantity with no bound:
    ¥5.00 × 10^17 units is accepted by ``settle`` (5e19 fen, far beyond one order's
    10,000,000,000 fen maximum) and the batch engine's int64 wraps round to a NEGATIVE
    pool and payout (-5340232221128654848 fen). Should: both paths refuse a line whose fixed
    amounts pass the supported maximum (MAX_ORDER_FEN), naming order and SKU."""
    from tuishou.errors import TuishouError

    policy = Policy.model_validate(fixed_policy(500))
    line = OrderLine(sku="mug", group="home", amount=0, quantity=10**17)
    order = Order(order_id="o", sharer_id="C", lines=[line])
    with pytest.raises(TuishouError):
        settle(policy, TREE, order)
    with pytest.raises(TuishouError):
        settle_batch(policy, TREE, order_columns([order]))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_number_in_a_bindings_time_cell_is_refused(tmp_path, suffix):
    """``since = 1700000000`` in a bindings file is silently read as Unix seconds (a binding
    since 2023-11-14 22:13 UTC), while the same cell as an order's paid_at is refused ("is
    not a time; write ISO 8601"). Should: refused, naming file, line and the cell, as the
    orders reader does (docs/cli.md: "a cell that is not an id or a time" is bad input)."""
    import json

    from tuishou.errors import InvalidFileError
    from tuishou.io import load_bindings

    path = tmp_path / f"bindings{suffix}"
    if suffix == ".csv":
        path.write_text("customer_id,member_id,since\nc-1,B,1700000000\n")
    else:
        path.write_text(json.dumps({"customer_id": "c-1", "member_id": "B", "since": 1700000000}))
    with pytest.raises(InvalidFileError, match="since"):
        load_bindings(path)


def test_a_binding_expires_at_the_same_instant_whatever_zone_its_time_is_written_in():
    """``bind`` computes ``until = since + timedelta(days=d)`` on the event time as given: with
    a ZoneInfo zone that is wall-clock arithmetic, so across a DST change one instant written
    in America/New_York expires an hour earlier (2026-03-12 16:00 UTC) than the SAME instant
    written in UTC (17:00 UTC). Times are "compared in UTC" everywhere else, and the ledger
    stores them in UTC, so a replay of its bindings disagrees with what it recorded. Should:
    a binding of d days lasts exactly d × 24 hours from its instant, whatever the zone."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from tuishou.bindings import BindingEvent, BindingRule, bind

    at = datetime(2026, 3, 5, 12, tzinfo=ZoneInfo("America/New_York"))  # DST from 8 March
    rule = BindingRule(mode="first", days=7)
    found = []
    for written in (at, at.astimezone(UTC)):
        (binding,) = bind([BindingEvent(customer_id="c-1", member_id="B", at=written)], rule)
        found.append(binding.until.astimezone(UTC))
    assert found == [at.astimezone(UTC) + timedelta(days=7)] * 2


# ---------------------------------------------- the whole kinds, after the fixes above


@pytest.mark.parametrize(
    ("amount", "quantities", "refused"),
    [
        (10**10, [1], False),  # exactly the maximum of one order
        (10**10 + 1, [1], "above the supported maximum"),  # refused by the policy
        (5 * 10**9, [1, 1], False),  # two lines, the maximum together
        (5 * 10**9, [1, 2], "per order"),  # each line within it, the order above it
        (1, [10**10 + 1], "per order"),  # a huge quantity of a small amount
    ],
)
def test_an_orders_fixed_amounts_stay_within_one_orders_maximum_on_both_paths(
    amount, quantities, refused
):
    """No fixed total above ``MAX_ORDER_FEN`` per order, whatever the mix of amount, quantity
    and lines, in the policy, ``settle`` and the batch engine alike (a free gift too)."""
    from tuishou.errors import TuishouError

    if amount > 10**10:
        with pytest.raises(InvalidPolicyError, match=refused):
            Policy.model_validate(fixed_policy(amount))
        return
    policy = Policy.model_validate(fixed_policy(amount))
    lines = [OrderLine(sku="mug", group="home", amount=0, quantity=q) for q in quantities]
    order = Order(order_id="o", sharer_id="C", lines=lines)
    if not refused:
        single = settle(policy, TREE, order)
        batch = settle_batch(policy, TREE, order_columns([order]))
        assert [row[2:] for row in batch.orders.rows()] == [(single.pool, single.paid, 0)]
        return
    for path in (
        lambda: settle(policy, TREE, order),
        lambda: settle_batch(policy, TREE, order_columns([order])),
    ):
        with pytest.raises(TuishouError, match=refused):
            path()
