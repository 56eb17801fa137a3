"""``tuishou ledger withdraw`` (提现 in one step), registered on the ``ledger`` group.

:mod:`tuishou.cli.ledger` imports this module at its end; importing either gives the group
with every command.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

import click

from tuishou.cli.files import AsciiInt, timezone_option
from tuishou.cli.ledger import at_option, ledger_argument, ledger_group, moment, open_ledger

__all__ = ["withdraw_command"]


def _member_option(command: click.Command) -> click.Command:
    return click.option("--member", "member_id", required=True, metavar="ID", help="The member.")(
        command
    )


@ledger_group.command("withdraw")
@ledger_argument
@_member_option
@click.option(
    "--amount",
    type=AsciiInt(min=1),
    required=True,
    metavar="FEN",
    help="What leaves the available balance, in fen (the fee is taken out of it).",
)
@click.option(
    "--id",
    "withdrawal_id",
    required=True,
    metavar="ID",
    help="The withdrawal's id: the same id again changes nothing (a retry).",
)
@at_option("the money is paid out")
@timezone_option
def withdraw_command(
    ledger: str, member_id: str, amount: int, withdrawal_id: str, at: datetime | None, zone: tzinfo
) -> int:
    """Withdraw in one step (platforms with automatic transfers): available -> withdrawn."""
    with open_ledger(ledger) as book:
        made = book.withdraw(member_id, amount, at=moment(at, zone), withdrawal_id=withdrawal_id)
    if not made:
        click.echo(f"withdrawal {withdrawal_id} was recorded before: nothing changed")
        return 0
    fee = sum(entry.amount for entry in made if entry.bucket == "fees")
    click.echo(
        f"withdrawal {withdrawal_id}: {member_id} took {amount} fen out, "
        f"{amount - fee} fen paid, fee {fee} fen"
    )
    return 0
