"""An order as the ledger posted it, explained (``Ledger.explain``).

The ledger keeps what it needs to re-settle an order: the order, the settlement snapshot
(seller, attribution, chain, and the binding that credited the seller, if one did), the
commission policy (by its hash) and the name of the policy
version (``tuishou_orders.policy_version``). ``explain_order`` settles the recorded order on
the recorded chain with the recorded policy (never today's tree or policy), so its
``explain()`` text is the account of the payouts that were posted; then it lists the order's
refunds so far (each refund's entries: reversed while pending, clawed back or written off
once released), the units refunded, what is left of each line refunded by amount (退差价:
its fen and units) and what the order pays now.
"""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import select

from tuishou.ledger import schema as t
from tuishou.ledger.checks import check_ids
from tuishou.ledger.clock import in_force
from tuishou.ledger.fees import time_zone
from tuishou.ledger.models import Entry
from tuishou.ledger.refund_lines import LineState
from tuishou.ledger.refunds import posted_lines
from tuishou.ledger.store import Store
from tuishou.ledger.stored import COLUMNS, decode
from tuishou.orders import Order
from tuishou.settlement import ChainLink, Settlement, settle_chain

__all__ = ["explain_order", "posted_settlement"]

_VERSION = {"order_id": COLUMNS["orders"]["order_id"], "policy_version": lambda v: v}
_CORRECTIONS = ("refund", "clawback", "write_off")


def posted_settlement(store: Store, order_id: str) -> Settlement:
    """The settlement of ``order_id`` as it was posted, re-built from what was recorded."""
    check_ids(order_id=order_id)
    with store.reading() as connection:
        row = store.order_row(order_id, "order_json", "snapshot_json", "policy_json")
        o = t.orders.c
        raw = connection.execute(
            select(o.order_id, o.policy_version).where(o.order_id == order_id)
        ).one()
    version = decode(store.path, "orders", dict(raw._mapping), _VERSION)["policy_version"]
    snapshot = row["snapshot_json"]
    chain = tuple(ChainLink(*link) for link in snapshot["chain"])
    bound = {"binding": snapshot["binding"]} if "binding" in snapshot else {}
    return settle_chain(
        row["policy_json"],
        row["order_json"],
        snapshot["seller_id"],
        snapshot["attribution"],
        chain,
        version=version if isinstance(version, str) and version else None,
        **bound,  # the binding that credited the seller: explain tells it
    )


def explain_order(store: Store, order_id: str) -> str:
    """The posted order's ``explain()`` text, then its refunds so far and what it pays now."""
    settlement = posted_settlement(store, order_id)
    with store.reading():
        corrections = [
            entry
            for entry in store.entries(t.entries.c.order_id == order_id)
            if entry.reason in _CORRECTIONS
        ]
        now = store.payouts(order_id)
        row = store.order_row(order_id, "order_json", "refunded_json")
    order, refunded = posted_lines(store, row)
    text = [settlement.explain().rstrip("\n"), ""]
    if not corrections:
        text.append("Refunds so far (退款): none.")
        return "\n".join(text) + "\n"
    text.append("Refunds so far (退款):")
    with store.reading():
        policies = store.policy_rows()
    for (at, request), group in groupby(corrections, key=lambda e: (e.at, e.request_id)):
        name = f"refund {request!r}" if request else "a refund"
        local = at.astimezone(
            time_zone(in_force(policies, at).timezone)
        )  # as the platform reads it
        text.append(f"  {local.isoformat(' ', 'seconds')}: {name}")
        text += [f"    {_line(entry)}" for entry in group]
    units = [
        f"{line.sku} {line.quantity - state.units_left} of {line.quantity}"
        for line, state in zip(order.lines, refunded, strict=True)
        if state.units_left < line.quantity
    ]
    text.append("Units refunded: " + (", ".join(units) or "none"))
    text += _by_amount(order, refunded)
    paying = [
        f"{m} {amount} fen ({rule}, {kind})" for (m, rule, kind), amount in sorted(now.items())
    ]
    text.append("Pays now: " + ("; ".join(paying) if paying else "nothing (fully refunded)"))
    return "\n".join(text) + "\n"


def _by_amount(order: Order, refunded: list[LineState]) -> list[str]:
    """What is left of each line refunded by amount (退差价): its money and its units."""
    left = [
        f"{line.sku} {state.amount_left} of {line.amount} fen for {state.units_left} of "
        f"{line.quantity} unit(s)"
        for line, state in zip(order.lines, refunded, strict=True)
        if (state.base_amount, state.base_quantity) != (line.amount, line.quantity)
    ]
    return ["Left after refunds by amount (退差价): " + ", ".join(left)] if left else []


def _line(entry: Entry) -> str:
    what = {
        "refund": "reversed while pending",
        "clawback": "clawed back (released)",
        "write_off": "written off (the balance could not cover it)",
    }[entry.reason]
    return (
        f"{entry.member_id} {entry.amount:+d} fen ({entry.rule or '-'}, {entry.kind or '-'}): "
        f"{what}"
    )
