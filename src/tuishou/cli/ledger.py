"""``tuishou ledger ...``: the commission ledger (佣金账本) from the command line.

Every command takes the ledger first: ``tuishou ledger COMMAND LEDGER ...``, where LEDGER is
a SQLite file or a SQLAlchemy URL (``postgresql+psycopg://user@host/db``,
``sqlite:///ledger.db``), as ``Ledger.open`` takes it.

- ``post`` (:mod:`tuishou.cli.ledger_post`): settle an orders file over a members file and
  post every order (``post_batch``); with ``bind``, the only commands that create a missing
  SQLite file. The others refuse one, naming it.
- ``release``, ``refund``, ``balances``; one-step ``withdraw`` and the ``withdrawals``
  review commands (:mod:`tuishou.cli.ledger_withdrawals`); the month end ``close``,
  ``statement``, ``statements`` and ``explain`` (:mod:`tuishou.cli.ledger_periods`);
  customer bindings ``bind`` and ``bindings`` (:mod:`tuishou.cli.ledger_bind`); the period
  plans' ``runs`` and the dated tier history ``tiers`` (:mod:`tuishou.cli.ledger_bonus`).

Times without an offset (``--at``, ``--as-of``) are read in ``--timezone`` (by default
Asia/Shanghai), as in files. Refusals (``LedgerError`` and the other ``TuishouError``) print
their message and exit with status 2; the ledger is left as it was. The group registers
itself on :data:`tuishou.cli.app.app`, which imports this module at its end.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import click

from tuishou.cli.app import app
from tuishou.cli.files import (
    AsciiDateTime,
    AsciiInt,
    FileArg,
    FileCommand,
    format_option,
    same_file,
    timezone_option,
)
from tuishou.errors import LedgerError
from tuishou.io.files import DataFile
from tuishou.io.output import write_table
from tuishou.ledger import Balance, Ledger

__all__ = [
    "at_option",
    "data_out_option",
    "ledger_argument",
    "ledger_group",
    "moment",
    "not_the_ledger",
    "open_ledger",
    "print_balances",
    "print_table",
    "sqlite_path",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_DATA_OUT = FileArg(output=True, data=True)
_TIME = AsciiDateTime(
    [
        "%Y-%m-%d",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S",
    ]
)


class _Group(click.Group):
    command_class = FileCommand  # "-", --format and no output over an input, as everywhere
    group_class = type  # subgroups (withdrawals) are _Group too


@app.group("ledger", cls=_Group)
def ledger_group() -> None:
    """The commission ledger: post, release, refund, balances, withdrawals.

    LEDGER is a SQLite file or a database URL (postgresql+psycopg://user@host/db). Only
    'post' and 'bind' create a missing file. Refusals change nothing and exit with status 2.
    """


def ledger_argument(command: _F) -> _F:
    """The ``LEDGER`` argument: a path (SQLite) or a SQLAlchemy URL, kept as text.

    >>> [p.name for p in ledger_argument(click.command()(lambda ledger: None)).params]
    ['ledger']
    """
    return click.argument("ledger", metavar="LEDGER", callback=_utf8_ledger)(command)


def _utf8_ledger(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 (surrogate escapes)
        raise click.BadParameter(
            f"{value!r} is not UTF-8; name the ledger's file or URL in UTF-8", ctx, param
        ) from None
    return value


def at_option(what: str, *, name: str = "--at") -> Callable[[_F], _F]:
    """``--at TIME`` (or ``--as-of``): when ``what`` happens; by default now. A time without
    an offset is read in ``--timezone``; a date alone is 00:00 that day.

    >>> [p.name for p in at_option("it")(click.command()(lambda at: None)).params]
    ['at']
    """
    return click.option(
        name,
        type=_TIME,
        metavar="TIME",
        help=f"When {what} (default: now); 2026-11-24, 2026-11-24T09:00:00 (in "
        "--timezone) or 2026-11-24T09:00:00+08:00.",
    )


def data_out_option(what: str, default: str) -> Callable[[_F], _F]:
    """``--out FILE``: where a table of the ledger goes (.csv, .parquet, .jsonl, or '-')."""
    return click.option(
        "--out",
        type=_DATA_OUT,
        metavar="FILE",
        help=f"Write {what} here (.csv, .parquet or .jsonl; '-' with --format: standard "
        f"output); default: {default}.",
    )


def moment(value: datetime | None, zone: tzinfo) -> datetime:
    """An option's time, aware: read in ``zone`` without an offset; None is now.

    >>> from zoneinfo import ZoneInfo
    >>> moment(datetime(2026, 11, 24, 9), ZoneInfo("Asia/Shanghai")).isoformat()
    '2026-11-24T09:00:00+08:00'
    >>> moment(None, ZoneInfo("UTC")).tzinfo
    zoneinfo.ZoneInfo(key='UTC')
    """
    if value is None:
        return datetime.now(zone)
    return value if value.utcoffset() is not None else value.replace(tzinfo=zone)


def sqlite_path(target: str) -> Path | None:
    """The file a LEDGER names, if it is SQLite (a path or a ``sqlite:///`` URL)."""
    if "://" not in target:
        return Path(target)
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(target)
    except (ArgumentError, ValueError):
        return None  # Ledger.open says what is wrong with it
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def open_ledger(target: str, *, read_only: bool = False, create: bool = False) -> Ledger:
    """Open LEDGER; a missing SQLite file is refused (``LedgerError``) unless ``create``.

    >>> open_ledger("/nonexistent/ledger.db")
    Traceback (most recent call last):
    ...
    tuishou.errors.LedgerError: there is no ledger at /nonexistent/ledger.db; ...
    """
    path = sqlite_path(target)
    if create:
        return Ledger.open(target, read_only=read_only)
    if path is not None and not path.exists():
        where, given = str(path), target
    elif path is None and "://" in target and _no_ledger(target):
        where = given = _shown(target)
    else:
        return Ledger.open(target, read_only=read_only)
    raise LedgerError(
        f"there is no ledger at {where}; check the path, or create the ledger by "
        f"posting orders to it: tuishou ledger post {given} --policy ... --members ... "
        "--orders ..."
    )


def _shown(url: str) -> str:
    """A URL as messages show it: without its password."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _no_ledger(url: str) -> bool:
    """Whether the database at ``url`` answers and holds no ledger (no revision table), so
    that a typo in a URL does not start an empty ledger; a URL it cannot reach is left to
    ``Ledger.open``, which says what is wrong."""
    from sqlalchemy import create_engine, inspect

    from tuishou.ledger.schema import VERSION_TABLE

    try:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return not inspect(connection).has_table(VERSION_TABLE)
        finally:
            engine.dispose()
    except Exception:  # any failure is reported by Ledger.open next
        return False


def not_the_ledger(ctx: click.Context, out: Path | DataFile | None, ledger: str) -> None:
    """Refuse an output that is the ledger's file (usage error, nothing written)."""
    path = out.path if isinstance(out, DataFile) else out
    if path is None or (isinstance(out, DataFile) and out.std):
        return
    database = sqlite_path(ledger)
    if database is not None and same_file(path, database):
        raise click.BadParameter(
            f"{path} is the ledger {ledger}; writing it would destroy the ledger: name another "
            "file",
            ctx=ctx,
            param_hint="'--out'",
        )


@ledger_group.command("release")
@ledger_argument
@at_option("to release: every payout whose freeze has ended by then", name="--as-of")
@timezone_option
def release_command(ledger: str, as_of: datetime | None, zone: tzinfo) -> int:
    """Move every pending payout whose freeze has ended to available."""
    when = moment(as_of, zone)
    with open_ledger(ledger) as book:
        moved = book.release(when)
    members = len({entry.member_id for entry in moved})
    click.echo(
        f"released {sum(entry.amount for entry in moved)} fen to {members} member(s) "
        f"as of {when.isoformat()} ({len(moved)} entries)"
    )
    return 0


class _Line(click.ParamType[tuple[str, int]]):
    """``SKU=QTY``: a quantity of one SKU to refund."""

    name = "SKU=QTY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        sku, equals, quantity = str(value).rpartition("=")
        if not equals or not sku:
            self.fail(f"{value!r} is not SKU=QTY; write e.g. phone=1", param, ctx)
        return sku, AsciiInt(min=1).convert(quantity, param, ctx)


class _Amount(click.ParamType[tuple[str, int]]):
    """``SKU=FEN``: an amount of money (int fen) refunded on one SKU."""

    name = "SKU=FEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        sku, equals, fen = str(value).rpartition("=")
        if not equals or not sku:
            self.fail(f"{value!r} is not SKU=FEN; write e.g. phone=2000 for ¥20.00", param, ctx)
        return sku, AsciiInt(min=1).convert(fen, param, ctx)


def _lines(
    ctx: click.Context, given: tuple[tuple[str, int], ...], option: str = "--line"
) -> Mapping[str, int] | None:
    lines: dict[str, int] = {}
    for sku, quantity in given:
        if sku in lines:
            whole = "quantity" if option == "--line" else "amount"
            raise click.BadParameter(
                f"SKU {sku!r} is given twice; give each SKU once with its whole {whole}",
                ctx=ctx,
                param_hint=f"'{option}'",
            )
        lines[sku] = quantity
    return lines or None


@ledger_group.command("refund")
@ledger_argument
@click.option("--order", "order_id", required=True, metavar="ID", help="The order refunded.")
@click.option(
    "--line",
    "lines",
    type=_Line(),
    multiple=True,
    help="A quantity of one SKU refunded (repeat per SKU); none: everything left.",
)
@click.option(
    "--amount",
    "amounts",
    type=_Amount(),
    multiple=True,
    help="Money refunded on one SKU, in fen, its units kept (退差价; repeat per SKU); "
    "not with --line.",
)
@click.option(
    "--refund-id",
    required=True,
    metavar="ID",
    help="The refund's id: the same id again changes nothing (a retry).",
)
@at_option("the refund happened")
@timezone_option
@click.pass_context
def refund_command(
    ctx: click.Context,
    ledger: str,
    order_id: str,
    lines: tuple[tuple[str, int], ...],
    amounts: tuple[tuple[str, int], ...],
    refund_id: str,
    at: datetime | None,
    zone: tzinfo,
) -> int:
    """Refund part or all of an order (units, or money by amount): re-settle what is left
    and post the difference."""
    if lines and amounts:
        raise click.UsageError(
            "--line and --amount were both given; refund units and money in two refunds, "
            "each with its own --refund-id",
            ctx,
        )
    refunded, money = _lines(ctx, lines), _lines(ctx, amounts, "--amount")
    with open_ledger(ledger) as book:
        result = book.refund(
            order_id, lines=refunded, amounts=money, at=moment(at, zone), refund_id=refund_id
        )
    if result.repeated:
        click.echo(f"refund {refund_id} of {order_id} was recorded before: nothing changed")
        return 0
    click.echo(f"refund {refund_id} of {order_id}: {len(result.entries)} entries")
    for entry in result.entries:
        click.echo(f"  {entry.member_id}  {entry.bucket}  {entry.reason}  {entry.amount:+d} fen")
    paid = sum(result.remaining.values())
    click.echo(f"the order now pays {paid} fen of a pool of {result.pool} fen")
    return 0


@ledger_group.command("balances")
@ledger_argument
@click.option(
    "--as-of",
    type=_TIME,
    metavar="TIME",
    help="Only entries at or before this time (default: all); without an offset, in --timezone.",
)
@data_out_option("the balances", "print them")
@timezone_option
@format_option
@click.pass_context
def balances_command(
    ctx: click.Context, ledger: str, as_of: datetime | None, out: DataFile | None, zone: tzinfo
) -> int:
    """Every member's balance, in fen: one row per member with entries, by member id."""
    not_the_ledger(ctx, out, ledger)
    when = None if as_of is None else moment(as_of, zone)
    with open_ledger(ledger, read_only=True) as book:
        if out is not None:
            write_table(book.balances_arrow(as_of=when), out)
            return 0
        print_balances(book.balances(as_of=when))
    return 0


def print_balances(rows: Iterator[tuple[str, Balance]]) -> None:
    """Balances as a plain table in fen (:func:`print_table`): printing is for the eye;
    ``--out`` files are for many members."""
    names = [field.name for field in dataclasses.fields(Balance)]
    table = [["member_id", *names]] + [
        [member, *(str(getattr(balance, name)) for name in names)] for member, balance in rows
    ]
    print_table(table)
    if len(table) == 1:
        click.echo("(no entries)")


def print_table(rows: list[list[str]]) -> None:
    """Rows of text as columns sized to their widest cell (CJK counts two), numbers to the
    right; the first row is the header.

    >>> print_table([["member_id", "fen"], ["推手", "5"]])
    member_id  fen
    推手         5
    """
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = [all(row[i].lstrip("-").isdigit() for row in rows[1:]) for i in range(len(widths))]
    for row in rows:
        cells = [
            " " * (width - _width(cell)) + cell if flush else cell + " " * (width - _width(cell))
            for cell, width, flush in zip(row, widths, right, strict=True)
        ]
        click.echo("  ".join(cells).rstrip())


def _width(text: str) -> int:
    """Columns a text takes on a terminal: wide and full-width characters (CJK) take two.

    >>> _width("推手A")
    5
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# Last: the post, withdrawal and period commands register on ledger_group.
import tuishou.cli.ledger_bind  # noqa: E402
import tuishou.cli.ledger_bonus  # noqa: E402
import tuishou.cli.ledger_periods  # noqa: E402
import tuishou.cli.ledger_plan  # noqa: E402
import tuishou.cli.ledger_post  # noqa: E402
import tuishou.cli.ledger_withdrawals  # noqa: E402, F401
