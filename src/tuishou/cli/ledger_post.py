"""``tuishou ledger post``: settle an orders file and post every order, registered on the
``ledger`` group (:mod:`tuishou.cli.ledger` imports this module at its end).

Passes over the orders file, read in chunks of whole orders (:mod:`tuishou.io.chunks`):
the first checks both files (every problem by file, line and value, orders paid after
``--at`` included; nothing posted); a read-only one gives each chunk's orders already in the
ledger to ``Ledger.post_batch``, which writes nothing for them but refuses one posted with a
different settlement (so no chunk is refused after others were posted); the last settles
and posts chunk by chunk with ``Ledger.post_batch``, with a rich progress bar by rows on a
terminal, and prints the throughput at the end.
A missing SQLite file is created, and removed again if the post is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from tuishou.bindings import Bindings
from tuishou.cli.app import chunk_option, members_option, orders_option, policy_option
from tuishou.cli.files import format_option, timezone_option
from tuishou.cli.ledger import at_option, ledger_argument, ledger_group, moment, sqlite_path
from tuishou.cli.report import RowsBar
from tuishou.errors import (
    InvalidFileError,
    InvalidOrderError,
    LedgerError,
    UnknownGroupError,
    UnknownMemberError,
)
from tuishou.io.chunks import OrdersFile
from tuishou.io.files import DataFile
from tuishou.io.inputs import OrderLines, read_policy_or_versions
from tuishou.io.order_stream import StreamProblems, checked_chunks, load_members
from tuishou.ledger import Ledger, LedgerPolicy
from tuishou.ledger.bulk import BatchPosting
from tuishou.tree import InviteTree

__all__ = ["post_command"]


def _settings(path: Path | None) -> LedgerPolicy | None:
    """A ledger policy file (TOML or JSON: the fields of ``LedgerPolicy``), or None.

    Read as strictly as a policy file: UTF-8 (a BOM allowed), JSON through
    ``tuishou.io.jsontext`` (a key named twice refused, naming it, as TOML refuses it).
    """
    if path is None:
        return None
    import tomllib

    from tuishou.io import jsontext

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LedgerError(f"{path}: is not UTF-8 text; save it as UTF-8") from None
    kind = "TOML" if path.suffix == ".toml" else "JSON"
    try:
        data = tomllib.loads(text) if kind == "TOML" else jsontext.loads(text)
    except ValueError as exc:  # TOMLDecodeError, JSONDecodeError, jsontext.RefusedJsonError
        raise LedgerError(f"{path}: not valid {kind} ({exc})") from None
    try:
        return LedgerPolicy.model_validate(data)
    except LedgerError as exc:
        raise LedgerError.from_problems(f"{path}: invalid ledger policy", exc.problems) from None


def _bindings_file(path: Path, zone: tzinfo, tree: Any) -> Bindings:
    """A bindings file read by ``tuishou.io.load_bindings`` (times without an offset in
    ``zone``, every bound member in ``tree``): every problem reported, as ``validate
    --bindings`` reports them, nothing posted."""
    from tuishou.io.binding_files import load_bindings  # tables need pyarrow: when used

    return load_bindings(path, timezone=zone, tree=tree)


@ledger_group.command("post")
@ledger_argument
@policy_option(versions=True)
@members_option
@orders_option
@at_option("the orders are posted; their freeze starts then")
@click.option(
    "--settings",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The ledger's own policy (LedgerPolicy fields: freeze_days, fees, ...) as TOML or "
    "JSON, for a new ledger; an existing ledger must keep the same.",
)
@click.option(
    "--bindings",
    "bindings_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Customer bindings (customer_id, member_id, since, until, how; CSV, JSON Lines or "
    "Parquet) to settle with; default: the bindings the ledger keeps (tuishou ledger bind).",
)
@click.option("--progress", is_flag=True, help="Show a progress bar even off a terminal.")
@chunk_option
@timezone_option
@format_option
def post_command(
    ledger: str,
    policy_path: Path,
    members: DataFile,
    orders: DataFile,
    at: datetime | None,
    settings: Path | None,
    bindings_path: Path | None,
    progress: bool,
    chunk_lines: int,
    zone: tzinfo,
) -> int:
    """Settle every order of the orders file and post it to LEDGER (created if missing).

    Both files are checked whole first (the orders file chunk by chunk: an order's lines
    must be together in it): every problem by file, line and value (orders paid after --at
    too), and nothing posted. Then, reading only, the orders the ledger holds already are
    settled again: one posted with another settlement refuses the post, nothing posted.
    Then the orders file is read again, and each chunk settled and posted; on a terminal
    (or with --progress) a bar shows the rows read, and the throughput is printed at the
    end. Orders already posted identically are skipped, so a run can be repeated (as after
    a failure in a late chunk). With a folder of policy versions, or a paid_at column, each
    order is settled under the version in force at its paid_at and posted with it (its
    freeze starts then), one by one.
    Orders without a share link credit the member their buyer is bound to at paid_at: by
    the --bindings file, else by the bindings the ledger keeps.
    """
    when = moment(at, zone)
    policy = read_policy_or_versions(policy_path)
    ledger_policy = _settings(settings)
    console = Console(stderr=True)
    source = OrdersFile(orders, chunk_lines=chunk_lines)
    tree = _checked(policy, members, source, zone, console, progress, when)
    given = None if bindings_path is None else _bindings_file(bindings_path, zone, tree)
    path = sqlite_path(ledger)
    created = path is not None and not path.exists()
    started = time.perf_counter()
    try:
        with (
            RowsBar.shown(console, "posting orders", *source.total(), forced=progress) as bar,
            Ledger.open(ledger, policy=ledger_policy) as book,
        ):
            bindings = book.bindings() if given is None else given
            _prechecked(book, policy, tree, source, when, bindings, zone)
            done, lines = _post_chunks(book, policy, tree, source, when, bar, bindings, zone)
    except BaseException:
        if created and path is not None:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        raise
    said = (
        f"{done.payout_rows} payout row(s), {done.entries_added} entries; "
        f"{done.orders_skipped} already posted"
    )
    click.echo(f"posted {done.orders_posted} order(s) to {ledger} at {when.isoformat()}: {said}")
    if progress or console.is_terminal:  # beside the bar; scripts get stdout alone
        console.print(_throughput(lines, done.orders_posted + done.orders_skipped, started))
    return 0


def _checked(
    policy: Any,
    members: DataFile,
    source: OrdersFile,
    zone: tzinfo,
    console: Console,
    forced: bool,
    when: datetime,
) -> InviteTree:
    """Pass 1: the members file and every chunk of the orders file checked (every problem
    by file, line and value, orders paid after ``when`` too; nothing posted); the tree."""
    problems = StreamProblems()
    tree, ids = load_members([policy], members, problems, zone=zone)
    with RowsBar.shown(console, "checking orders", *source.total(), forced=forced) as bar:
        for lines in checked_chunks(
            source,
            member_ids=ids,
            policies=[policy],
            problems=problems,
            zone=zone,
            progress=bar.update,
        ):
            _paid_late(lines, when, zone, problems)
    problems.check()
    if tree is None:  # never: the tree is None only with problems
        raise problems.error()
    return tree


def _paid_late(lines: OrderLines, when: datetime, zone: tzinfo, problems: StreamProblems) -> None:
    """Orders paid after ``when``, by the line of each one's first row: ``post_batch``
    refuses them (an order is posted once it is paid), so pass 1 does, before any chunk is
    posted. On the columns: building an ``Order`` for ``checks.check_paid_at`` per order
    would cost pass 1 the time of settling."""
    paid = lines.table.columns.get("paid_at")
    if paid is None or not lines.size:
        return
    from datetime import UTC, timedelta

    import numpy as np

    from tuishou.engine.paid_at import micros, read_paid_at
    from tuishou.io.checks import first_rows, text_codes

    at = read_paid_at(paid)  # NO_TIME (the least int64) for an empty cell: never late
    orders = text_codes(lines.table.columns["order_id"])
    heads = first_rows(orders, lines.size)[np.maximum(orders, 0)] == np.arange(lines.size)
    late = np.flatnonzero((at > micros(when)) & heads & (orders >= 0))
    column = lines.table.columns["order_id"]

    def describe(row: int) -> str:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(at[row]))
        return (
            f"order_id={column[row].as_py()!r} was paid at {moment.astimezone(zone).isoformat()}"
            f", after --at {when.isoformat()}; an order is posted once it is paid: post at or "
            "after its payment time (check the time zones), or leave it out"
        )

    problems.offset = getattr(lines.table, "first", 0)
    try:
        problems.rows(lines.table, late, describe)
    finally:
        problems.offset = 0


def _prechecked(
    book: Ledger,
    policy: Any,
    tree: InviteTree,
    source: OrdersFile,
    when: datetime,
    bindings: Bindings,
    zone: tzinfo,
) -> None:
    """A read-only pass before posting: each chunk's orders already in the ledger are given
    alone to ``post_batch``, which writes nothing for them (each is posted already: it is
    skipped) but refuses, with the checks of pass 2, one posted with a different settlement;
    so a late chunk is never refused after earlier ones were posted. Refused by file and
    line, nothing posted."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from tuishou.io.checks import mask
    from tuishou.ledger.bulk_rows import posted_fingerprints

    store = book._store  # a read of posted order ids: Ledger has no public one
    chosen = bindings if len(bindings) else None
    problems = StreamProblems()  # pass 1 found none: the same file gives none again
    for lines in checked_chunks(
        source, member_ids=None, policies=[policy], problems=problems, zone=zone
    ):
        ids = lines.table.columns["order_id"]
        with store.reading():
            found = posted_fingerprints(store, pc.unique(ids).to_pylist())
        if not found:
            continue
        keep = mask(
            pc.fill_null(pc.is_in(ids, value_set=pa.array(list(found), pa.string())), False)
        )
        part = {
            name: pc.filter(values, pa.array(keep))
            if isinstance(values, pa.Array | pa.ChunkedArray)
            else np.asarray(values)[keep]
            for name, values in lines.columns.items()
        }
        try:
            book.post_batch(policy, tree, part, at=when, bindings=chosen)
        except LedgerError as exc:
            raise type(exc)(f"{exc}{_places(lines, found, str(exc))}") from None


def _places(lines: OrderLines, found: dict[str, str], text: str) -> str:
    """`` (orders.csv: 'o-1003' at line 4, ...)``: where the orders ``text`` names start."""
    named = [order_id for order_id in found if repr(order_id) in text]
    if not named:
        return f" ({lines.table.path})"
    column = lines.table.columns["order_id"].to_pylist()
    at = [f"{order_id!r} at {lines.table.where(column.index(order_id))}" for order_id in named]
    return f" ({lines.table.path}: {', '.join(at)})"


def _post_chunks(
    book: Ledger,
    policy: Any,
    tree: InviteTree,
    source: OrdersFile,
    when: datetime,
    bar: RowsBar,
    bindings: Bindings,
    zone: tzinfo,
) -> tuple[BatchPosting, int]:
    """Pass 2: settle and post chunk by chunk; what was posted in all, and the lines read."""
    total = BatchPosting(0, 0, 0, 0, 0)
    lines_read = 0
    problems = StreamProblems()  # pass 1 found none: the same file gives none again
    for lines in checked_chunks(
        source,
        member_ids=None,
        policies=[policy],
        problems=problems,
        zone=zone,
        progress=bar.update,
    ):
        problems.check()
        done = _post_lines(book, policy, tree, lines, when, None, bindings)
        total = BatchPosting(*(a + b for a, b in zip(_fields(total), _fields(done), strict=True)))
        lines_read += lines.size
    problems.check()
    return total, lines_read


def _fields(posting: BatchPosting) -> tuple[int, ...]:
    return (
        posting.orders_posted,
        posting.orders_skipped,
        posting.payout_rows,
        posting.entries_added,
        posting.chunks,
    )


def _throughput(lines: int, orders: int, started: float) -> str:
    """``"1,000,000 line(s), 400,000 order(s) in 12.3 s: 81,300 lines/s, 32,520 orders/s"``."""
    seconds = max(time.perf_counter() - started, 1e-9)
    return (
        f"{lines:,} line(s), {orders:,} order(s) in {seconds:.1f} s: "
        f"{lines / seconds:,.0f} lines/s, {orders / seconds:,.0f} orders/s"
    )


def _post_lines(
    book: Ledger,
    policy: Any,
    tree: Any,
    lines: OrderLines,
    when: datetime,
    bar: Callable[[int, int], None] | None,
    bindings: Bindings,
) -> Any:
    """``post_batch`` on checked lines; should it still refuse a row, name its file line."""
    chosen = bindings if len(bindings) else None
    try:
        return book.post_batch(policy, tree, lines.columns, at=when, progress=bar, bindings=chosen)
    except (InvalidOrderError, UnknownGroupError, UnknownMemberError) as exc:

        def line(match: re.Match[str]) -> str:
            return lines.table.where_all([int(row) for row in re.findall(r"[0-9]+", match[1])])

        text = re.sub(r"row\(s\) ([0-9]+(?:, [0-9]+)*)", line, str(exc))
        raise InvalidFileError(f"{lines.table.path}: {text}") from None
