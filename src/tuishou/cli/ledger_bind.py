"""``tuishou ledger bind``: record one binding event (锁粉) in the ledger, and ``tuishou ledger
bindings``: list the bindings it keeps; registered on the ``ledger`` group.

``bind`` applies one event (a customer arrived through a member's share link, or registered
under a member) under a binding rule, as ``Ledger.bind`` does, creating a missing SQLite
ledger as ``post`` does (the first events often come before the first order). An exact
repeat changes nothing; an event dated before the ledger's clock that would change a
binding is refused (exit 2, nothing changed). It prints the customer's binding in force at
the event's time.
``tuishou ledger post`` settles with the bindings the ledger keeps (or those of a
``--bindings`` file). :mod:`tuishou.cli.ledger` imports this module at its end.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import get_args

import click

from tuishou.bindings import Binding, BindingEvent, BindingMode, BindingRule, EventHow
from tuishou.cli.files import AsciiInt, format_option, timezone_option
from tuishou.cli.ledger import (
    at_option,
    data_out_option,
    ledger_argument,
    ledger_group,
    moment,
    not_the_ledger,
    open_ledger,
    print_table,
    sqlite_path,
)
from tuishou.io.files import DataFile

__all__ = ["bind_command", "bindings_command", "described"]

_HOW = {"first_share": "first share", "rebind": "rebind", "register": "registration"}


@ledger_group.command("bind")
@ledger_argument
@click.option("--customer", "customer_id", required=True, metavar="ID", help="The customer.")
@click.option(
    "--member", "member_id", required=True, metavar="ID", help="The member it arrived through."
)
@click.option(
    "--how",
    type=click.Choice(get_args(EventHow)),
    default="share",
    show_default=True,
    help="share: it arrived through the member's share link; register: it registered under "
    "the member.",
)
@click.option(
    "--mode",
    type=click.Choice(get_args(BindingMode)),
    required=True,
    help="first: the first share binds until it expires (首次绑定); override: every share "
    "rebinds (覆盖绑定); register: only a registration binds (注册绑定).",
)
@click.option(
    "--days",
    type=AsciiInt(min=1),
    metavar="N",
    help="How many days a binding lasts, from its time (default: for ever).",
)
@at_option("the event happened")
@timezone_option
def bind_command(
    ledger: str,
    customer_id: str,
    member_id: str,
    how: str,
    mode: str,
    days: int | None,
    at: datetime | None,
    zone: tzinfo,
) -> int:
    """Record one binding event: a customer arrived through a member's share link, or
    registered under a member. Prints the customer's binding in force then. A missing
    LEDGER file is created."""
    when = moment(at, zone)
    event = BindingEvent.model_validate(
        {"customer_id": customer_id, "member_id": member_id, "at": when, "how": how}
    )
    rule = BindingRule.model_validate({"mode": mode, "days": days})
    path = sqlite_path(ledger)
    created = path is not None and not path.exists()
    try:
        with open_ledger(ledger, create=True) as book:
            found = book.bind(event, rule)
    except BaseException:
        if created and path is not None:  # a refused first event leaves no file behind
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        raise
    if found is None:
        click.echo(f"customer {customer_id} is bound to nobody at {when.isoformat()}")
    else:
        click.echo(described(found, zone))
    return 0


def described(binding: Binding, zone: tzinfo) -> str:
    """One binding in words, its times in ``zone``.

    >>> from datetime import UTC
    >>> from zoneinfo import ZoneInfo
    >>> print(described(Binding(customer_id="c-1", member_id="B", how="first_share",
    ...     since=datetime(2026, 11, 3, tzinfo=UTC)), ZoneInfo("Asia/Shanghai")))
    customer c-1 bound to B since 2026-11-03T08:00:00+08:00 (first share), for ever
    """
    until = "for ever" if binding.until is None else f"until {_in(binding.until, zone)}"
    how = _HOW.get(binding.how, binding.how)
    return (
        f"customer {binding.customer_id} bound to {binding.member_id} since "
        f"{_in(binding.since, zone)} ({how}), {until}"
    )


def _in(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat()


@ledger_group.command("bindings")
@ledger_argument
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's bindings.")
@data_out_option("the bindings (customer_id, member_id, since, until, how)", "print them")
@timezone_option
@format_option
@click.pass_context
def bindings_command(
    ctx: click.Context, ledger: str, customer_id: str | None, out: DataFile | None, zone: tzinfo
) -> int:
    """The bindings the ledger keeps, by customer, then since (times in --timezone)."""
    not_the_ledger(ctx, out, ledger)
    with open_ledger(ledger, read_only=True) as book:
        found = list(book.bindings(customer_id))
    if out is not None:
        import pyarrow as pa

        from tuishou.io.output import write_table

        columns = ("customer_id", "member_id", "since", "until", "how")
        table = pa.table({name: [getattr(b, name) for b in found] for name in columns})
        write_table(table, out)
        return 0
    rows = [["customer_id", "member_id", "since", "until", "how"]]
    rows += [
        [
            b.customer_id,
            b.member_id,
            _in(b.since, zone),
            "-" if b.until is None else _in(b.until, zone),
            b.how,
        ]
        for b in found
    ]
    print_table(rows)
    if not found:
        click.echo("(no bindings)")
    return 0
