"""``tuishou ledger withdraw`` (提现 in one step) and ``tuishou ledger withdrawals ...``
(提现审核: list, request, approve, reject, pay), registered on the ``ledger`` group.

A reviewed withdrawal moves forward only: requested (held, 审核中) -> approved (payable,
待打款) -> paid (withdrawn, less the fee), or rejected from requested or approved (back to
available). Each command prints the withdrawal's state after it; repeating a command that
was carried out changes nothing and prints the same state.

:mod:`tuishou.cli.ledger` imports this module at its end; importing either gives the group
with every command.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, tzinfo
from typing import Any, get_args

import click

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
)
from tuishou.io.files import DataFile
from tuishou.io.output import write_table
from tuishou.ledger.withdrawal_models import Withdrawal, WithdrawalState

__all__ = [
    "approve_command",
    "list_command",
    "pay_command",
    "reject_command",
    "request_command",
    "withdraw_command",
    "withdrawals_group",
]


def _member_option(command: click.Command) -> click.Command:
    return click.option("--member", "member_id", required=True, metavar="ID", help="The member.")(
        command
    )


def _amount_option(command: click.Command) -> click.Command:
    return click.option(
        "--amount",
        type=AsciiInt(min=1),
        required=True,
        metavar="FEN",
        help="What leaves the available balance, in fen (the fee is taken out of it).",
    )(command)


def _id_option(command: click.Command) -> click.Command:
    return click.option(
        "--id",
        "withdrawal_id",
        required=True,
        metavar="ID",
        help="The withdrawal's id (one namespace with one-step withdrawals); the same "
        "request again changes nothing (a retry).",
    )(command)


@ledger_group.command("withdraw")
@ledger_argument
@_member_option
@_amount_option
@_id_option
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


@ledger_group.group("withdrawals")
def withdrawals_group() -> None:
    """Withdrawal review (提现审核): requested -> approved -> paid, or rejected.

    A request holds the amount (审核中) so it cannot be withdrawn twice; approval makes it
    payable (待打款); paying records the transfer; rejecting returns it to available.
    """


_STATES = get_args(WithdrawalState)
_SHOWN = (
    "withdrawal_id",
    "member_id",
    "amount",
    "fee",
    "state",
    "requested_at",
    "finished_at",
    "transfer_reference",
    "reason",
)


@withdrawals_group.command("list")
@ledger_argument
@click.option("--state", type=click.Choice(_STATES), help="Only withdrawals in this state.")
@click.option("--member", "member_id", metavar="ID", help="Only this member's withdrawals.")
@data_out_option("them", "print a table")
@timezone_option
@format_option
@click.pass_context
def list_command(
    ctx: click.Context,
    ledger: str,
    state: WithdrawalState | None,
    member_id: str | None,
    out: DataFile | None,
    zone: tzinfo,
) -> int:
    """Withdrawals by request time (amounts in fen, times in --timezone)."""
    not_the_ledger(ctx, out, ledger)
    with open_ledger(ledger, read_only=True) as book:
        found = book.withdrawals(member_id=member_id, state=state)
    rows = [_row(withdrawal, zone) for withdrawal in found]
    if out is not None:
        import pyarrow as pa

        names = [field.name for field in dataclasses.fields(Withdrawal)]
        write_table(pa.Table.from_pylist(rows, schema=_schema(names)), out)
        return 0
    print_table([list(_SHOWN)] + [[_text(row[name]) for name in _SHOWN] for row in rows])
    if not rows:
        click.echo("(no withdrawals)")
    return 0


def _row(withdrawal: Withdrawal, zone: tzinfo) -> dict[str, Any]:
    row = dataclasses.asdict(withdrawal)
    for name, value in row.items():
        if isinstance(value, datetime):
            row[name] = value.astimezone(zone)
    return row


def _schema(names: list[str]) -> Any:
    import pyarrow as pa

    kinds = {"amount": pa.int64(), "fee": pa.int64()}
    return pa.schema(
        [
            (
                name,
                kinds.get(
                    name, pa.timestamp("us", tz="UTC") if name.endswith("_at") else pa.string()
                ),
            )
            for name in names
        ]
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _said(withdrawal: Withdrawal) -> str:
    """One line on a withdrawal's state, for the review commands."""
    head = f"withdrawal {withdrawal.withdrawal_id} of {withdrawal.member_id}"
    money = f"{withdrawal.amount} fen (fee {withdrawal.fee}, net {withdrawal.net})"
    if withdrawal.state == "requested":
        return f"{head}: requested, {money} held for review"
    if withdrawal.state == "approved":
        return f"{head}: approved, {money} payable"
    if withdrawal.state == "paid":
        return f"{head}: paid, {money}, transfer {withdrawal.transfer_reference}"
    return f"{head}: rejected ({withdrawal.reason}), {withdrawal.amount} fen back to available"


@withdrawals_group.command("request")
@ledger_argument
@_member_option
@_amount_option
@_id_option
@at_option("the member asks")
@timezone_option
def request_command(
    ledger: str, member_id: str, amount: int, withdrawal_id: str, at: datetime | None, zone: tzinfo
) -> int:
    """A member asks to withdraw: the amount moves from available to held (审核中)."""
    with open_ledger(ledger) as book:
        done = book.request_withdrawal(
            member_id, amount, at=moment(at, zone), withdrawal_id=withdrawal_id
        )
    click.echo(_said(done))
    return 0


@withdrawals_group.command("approve")
@ledger_argument
@_id_option
@at_option("it is approved")
@timezone_option
def approve_command(ledger: str, withdrawal_id: str, at: datetime | None, zone: tzinfo) -> int:
    """Approve a requested withdrawal: held -> payable (待打款)."""
    with open_ledger(ledger) as book:
        done = book.approve_withdrawal(withdrawal_id, at=moment(at, zone))
    click.echo(_said(done))
    return 0


@withdrawals_group.command("reject")
@ledger_argument
@_id_option
@click.option("--reason", required=True, metavar="TEXT", help="Why, for the member.")
@at_option("it is rejected")
@timezone_option
def reject_command(
    ledger: str, withdrawal_id: str, reason: str, at: datetime | None, zone: tzinfo
) -> int:
    """Reject a requested or approved withdrawal (a bounced transfer too): back to available."""
    with open_ledger(ledger) as book:
        done = book.reject_withdrawal(withdrawal_id, at=moment(at, zone), reason=reason)
    click.echo(_said(done))
    return 0


@withdrawals_group.command("pay")
@ledger_argument
@_id_option
@click.option(
    "--reference",
    "transfer_reference",
    required=True,
    metavar="REF",
    help="The transfer's reference (bank or wallet): paying twice is refused.",
)
@at_option("the money was transferred")
@timezone_option
def pay_command(
    ledger: str, withdrawal_id: str, transfer_reference: str, at: datetime | None, zone: tzinfo
) -> int:
    """Record the transfer of an approved withdrawal: payable -> withdrawn, less the fee."""
    with open_ledger(ledger) as book:
        done = book.pay_withdrawal(
            withdrawal_id, at=moment(at, zone), transfer_reference=transfer_reference
        )
    click.echo(_said(done))
    return 0
