"""The ``tuishou`` commands, built with click; :func:`tuishou.cli.main.main` runs them.

- ``settle``: settle an orders file over a members file; write one row per payout.
- ``explain``: the account of one order (``Settlement.explain()``).
- ``compare``: settle the same orders under several policies; print totals and paid by tier.
- ``validate``: check a policy file; print its rates, budget and compliance notes.
- ``migrate``: bring a rival platform's team in (等级平移); its own module,
  :mod:`tuishou.cli.migrate`, imported at the end of this one to register it on :data:`app`.
- ``demo``: settle generated example data and print a summary.

Options that several commands share (``--policy``, ``--members``, ``--orders``, ``--out``,
``--format``) are defined once below, as are the file readers (``tuishou.io.inputs.load_data``),
so a command over several policies needs only its own body. Every command is a
:class:`tuishou.cli.files.FileCommand`: ``-`` and ``--format`` are resolved, and an output
naming an input is refused, before its body runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np
import numpy.typing as npt
from rich.console import Console

from tuishou.bindings import Bindings
from tuishou.cli.bindings_file import bindings_from, bindings_option, checked_bindings
from tuishou.cli.files import AsciiInt, FileArg, FileCommand, format_option, timezone_option
from tuishou.cli.report import (
    LONG_INPUT,
    RowsBar,
    comparison_report,
    policy_report,
    print_whole,
    settle_summary,
)
from tuishou.cli.totals import SettleTotals
from tuishou.engine.tables import BatchResult
from tuishou.errors import (
    InvalidFileError,
    InvalidOrderError,
    UnknownGroupError,
    UnknownMemberError,
)
from tuishou.io.chunks import CHUNK_LINES, OrdersFile
from tuishou.io.files import DataFile
from tuishou.io.inputs import OrderLines, load_data, read_policy_or_versions
from tuishou.io.order_stream import StreamProblems, checked_chunks, load_members
from tuishou.io.output import replacing, writing
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import Policy
from tuishou.tree import InviteTree

__all__ = [
    "app",
    "chunk_option",
    "members_option",
    "orders_option",
    "out_option",
    "policy_labels",
    "policy_option",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_EXISTING = FileArg(output=False, data=False)  # a policy
_POLICY = FileArg(output=False, data=False, folder=True)  # a policy, or a versions folder
_NEW = FileArg(output=True, data=False)  # an HTML page, a report
_DATA_IN = FileArg(output=False, data=True)  # by extension, or "-" with --format
_DATA_OUT = FileArg(output=True, data=True)


def policy_option(*, multiple: bool = False, versions: bool = False) -> Callable[[_F], _F]:
    """``--policy FILE``: a policy in TOML or JSON; with ``multiple``, given once per policy
    (the parameter is then a tuple of paths, e.g. for comparing policies); with
    ``versions``, a folder of policy versions may be given instead of a file.

    >>> @click.command()
    ... @policy_option(multiple=True)
    ... def compare(policy_path: tuple[Path, ...]) -> None: ...
    >>> [(p.name, p.multiple) for p in compare.params]
    [('policy_path', True)]
    """
    return click.option(
        "--policy",
        "policy_path",
        type=_POLICY if versions else _EXISTING,
        required=True,
        multiple=multiple,
        metavar="FILE|FOLDER" if versions else "FILE",
        help="Commission policy (.toml or .json)"
        + (
            ", or a folder of policy versions (one file per version, each with its "
            "effective_from; orders then need paid_at)"
            if versions
            else ""
        )
        + ("; repeat it for each policy." if multiple else "."),
    )


def members_option(command: _F) -> _F:
    """``--members FILE``: member_id, inviter_id, tier, status (by extension: csv, parquet,
    jsonl; another extension is a usage error; ``-`` with ``--format``: standard input).

    >>> [p.name for p in members_option(click.command()(lambda members: None)).params]
    ['members']
    """
    return click.option(
        "--members",
        type=_DATA_IN,
        required=True,
        metavar="FILE",
        help="Members: member_id, inviter_id, tier[, status].",
    )(command)


def orders_option(command: _F) -> _F:
    """``--orders FILE``: one row per order line.

    >>> [p.name for p in orders_option(click.command()(lambda orders: None)).params]
    ['orders']
    """
    return click.option(
        "--orders",
        type=_DATA_IN,
        required=True,
        metavar="FILE",
        help="Order lines: order_id, sku, group, amount (int fen); optional buyer_id, "
        "sharer_id, quantity, paid_at, coupon (int fen, per order), coupon_eligible.",
    )(command)


def out_option(what: str) -> Callable[[_F], _F]:
    """``--out FILE``: where the result goes, in the format of its extension (``-`` with
    ``--format``: standard output).

    >>> [p.name for p in out_option("payouts")(click.command()(lambda out: None)).params]
    ['out']
    """
    return click.option(
        "--out",
        type=_DATA_OUT,
        required=True,
        metavar="FILE",
        help=f"Where to write {what} (.csv, .parquet or .jsonl; '-' with "
        "--format: standard output).",
    )


class _App(click.Group):
    command_class = FileCommand  # every command: "-", --format, no output over an input


@click.group(cls=_App, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tuishou")
def app() -> None:
    """Exact, explainable commissions over a referral (invite) tree.

    Data files are CSV (UTF-8, with a header), Parquet or JSON Lines, chosen by extension;
    '-' is standard input or output, in the format given by --format. Money is integer fen.
    Exit status: 0 done, 2 bad input or usage (nothing written), 1 a file could not be read
    or written.
    """


def chunk_option(command: _F) -> _F:
    """``--chunk-lines N``: order lines read, checked and settled at a time.

    >>> [p.name for p in chunk_option(click.command()(lambda chunk_lines: None)).params]
    ['chunk_lines']
    """
    return click.option(
        "--chunk-lines",
        type=AsciiInt(min=1),
        default=CHUNK_LINES,
        show_default=True,
        metavar="N",
        help="Order lines read and settled at a time (whole orders: an order is never split); "
        "memory grows with it, not with the file.",
    )(command)


@app.command("settle")
@policy_option(versions=True)
@members_option
@orders_option
@out_option("one row per payout")
@bindings_option
@chunk_option
@timezone_option
@format_option
def settle_command(
    policy_path: Path,
    members: DataFile,
    orders: DataFile,
    out: DataFile,
    bindings: DataFile | None,
    chunk_lines: int,
    zone: tzinfo,
) -> int:
    """Settle every order; write one row per payout and print a summary on stderr.

    Payout columns: order_id, member_id, rule, kind, generation, amount (fen). With a folder
    of policy versions, each order is settled under the version in force at its paid_at
    (a time without an offset is read in --timezone). With --bindings, an order without a
    share link credits the member its buyer is bound to when it was paid.

    The orders file is read in chunks of whole orders, so an order's lines must be together
    in the file (sorted by order_id, say); payouts are written as they are settled, and the
    file appears only when every chunk has been read without a problem.
    """
    started = time.perf_counter()
    console = Console(stderr=True)
    policy = read_policy_or_versions(policy_path)
    problems = StreamProblems()
    tree, ids = load_members([policy], members, problems, zone=zone)
    bound = None if tree is None else bindings_from(bindings, tree, zone)
    source = OrdersFile(orders, chunk_lines=chunk_lines)
    totals = SettleTotals()
    long = orders.size() >= LONG_INPUT or source.total()[0] >= LONG_INPUT
    with (
        writing(out) as payouts,
        RowsBar.shown(console, "settling", *source.total(), long=long) as bar,
    ):
        for lines in checked_chunks(
            source,
            member_ids=ids,
            policies=[policy],
            problems=problems,
            zone=zone,
            progress=bar.update,
        ):
            if problems or tree is None:
                continue  # refused at the end, with every problem: nothing to settle for
            result = _settle_lines(policy, tree, lines, bound)
            payouts.write(result.payouts.to_arrow())
            totals.add(result, lines=lines.size)
        problems.check()
    console.print(
        settle_summary(
            _latest(policy),
            totals,
            lines=totals.lines,
            out=str(out),
            seconds=time.perf_counter() - started,
        )
    )
    if isinstance(policy, PolicyVersions):
        console.print(_versions_used(policy, totals.versions))
    return 0


def _latest(policy: Policy | PolicyVersions) -> Policy:
    return policy.versions[-1].policy if isinstance(policy, PolicyVersions) else policy


def _versions_used(versions: PolicyVersions, counted: npt.NDArray[np.int64] | None) -> str:
    """Orders settled under each version, a line each."""
    size = len(versions.versions)
    counts = np.zeros(size, np.int64) if counted is None else counted
    return "Orders by policy version:\n" + "\n".join(
        f"  {v.describe()}: {int(count):,} order(s)"
        for v, count in zip(versions.versions, counts, strict=True)
    )


def _settle_lines(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    lines: OrderLines,
    bindings: Bindings | None = None,
) -> BatchResult:
    """``settle_batch`` on checked lines; should it still refuse a row, name its file line."""
    from tuishou.engine.batch import settle_batch  # numpy-heavy: imported when a command needs it

    try:
        return settle_batch(policy, tree, lines.columns, bindings=bindings)
    except (InvalidOrderError, UnknownGroupError, UnknownMemberError) as exc:
        raise InvalidFileError(f"{lines.table.path}: {_rows_to_lines(str(exc), lines)}") from None


def _rows_to_lines(message: str, lines: OrderLines) -> str:
    """The engine counts rows from 0; a file's readers count lines."""

    def replace(match: re.Match[str]) -> str:
        rows = [int(row) for row in re.findall(r"[0-9]+", match[1])]
        return lines.table.where_all(rows)

    return re.sub(r"row\(s\) ([0-9]+(?:, [0-9]+)*)", replace, message)


@app.command("compare")
@policy_option(multiple=True, versions=True)
@members_option
@orders_option
@click.option(
    "--html",
    type=_NEW,
    metavar="FILE",
    help="Also write a self-contained HTML report, with the figure.",
)
@bindings_option
@timezone_option
@format_option
def compare_command(
    policy_path: tuple[Path, ...],
    members: DataFile,
    orders: DataFile,
    html: Path | None,
    bindings: DataFile | None,
    zone: tzinfo,
) -> int:
    """Settle every order under each --policy; print the totals and paid by tier.

    The first --policy is the baseline: each delta is a policy minus it. Policies are
    labelled by their names (by file name when two share a name). A --policy may be a folder
    of policy versions: each order under the version in force at its paid_at.
    """
    from tuishou.analysis.compare import compare

    policies = [read_policy_or_versions(path) for path in policy_path]
    tree, lines = load_data(policies, members, orders, zone=zone)
    labels = policy_labels(policy_path, policies)
    bound = bindings_from(bindings, tree, zone)
    comparison = compare(
        dict(zip(labels, policies, strict=True)), tree, lines.columns, bindings=bound
    )
    print_whole(comparison_report(comparison))
    if html is not None:
        with replacing(html) as temporary:
            temporary.write_text(comparison.to_html(), encoding="utf-8")
    return 0


def policy_labels(
    paths: tuple[Path, ...], policies: Sequence[Policy | PolicyVersions]
) -> list[str]:
    """Each policy's name; file names (or whole paths) where names would repeat.

    >>> from tuishou.examples import example_policy
    >>> policy_labels((Path("a/now.toml"), Path("b/next.toml")), [example_policy()] * 2)
    ['now', 'next']
    """
    for labels in (
        [_latest(p).name for p in policies],
        [path.stem for path in paths],
        [str(path) for path in paths],
    ):
        if len(set(labels)) == len(labels):
            return labels
    raise click.BadParameter("the same policy file is given twice", param_hint="--policy")


@app.command("explain")
@policy_option(versions=True)
@members_option
@orders_option
@click.argument("order_id")
@bindings_option
@timezone_option
@format_option
def explain_command(
    policy_path: Path,
    members: DataFile,
    orders: DataFile,
    order_id: str,
    bindings: DataFile | None,
    zone: tzinfo,
) -> int:
    """Explain how ORDER_ID settles: seller (and the binding that credited it), pool,
    chain, every share and its rounding."""
    from tuishou.settlement import settle

    policy = read_policy_or_versions(policy_path)
    tree, lines = load_data([policy], members, orders, zone=zone)
    bound = bindings_from(bindings, tree, zone)
    click.echo(settle(policy, tree, lines.order(order_id), bindings=bound).explain())
    return 0


@app.command("validate")
@policy_option(versions=True)
@bindings_option
@click.option(
    "--members",
    type=_DATA_IN,
    default=None,
    metavar="FILE",
    help="Members: with --bindings, every bound member must be one of them.",
)
@timezone_option
@format_option
def validate_command(
    policy_path: Path, bindings: DataFile | None, members: DataFile | None, zone: tzinfo
) -> int:
    """Check a policy file, or a folder of policy versions (every file, and the versions
    together); print each policy's rates, rules, budget and compliance notes. With
    --bindings, check a bindings file too (against --members when given)."""
    policy = read_policy_or_versions(policy_path)
    console = Console()
    if bindings is not None:
        click.echo(checked_bindings(bindings, members, policy, zone) + "\n")
    if isinstance(policy, PolicyVersions):
        console.print(
            f"{len(policy.versions)} policy version(s) in {policy_path}, in force in this order:"
        )
        for version in policy.versions:
            console.print(f"\n{version.describe()}:")
            console.print(policy_report(version.policy, policy_path))
        return 0
    console.print(policy_report(policy, policy_path))
    return 0


# The demo's largest data: each maximum alone runs in about a minute (generated in pure Python,
# about 50 µs and 0.8 KB a member, 0.4 ms and 3.3 KB an order); real volumes go through files.
_DEMO_MAX = {"members": 1_000_000, "orders": 200_000}


def _demo_bound(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """Refuse a demo size above its maximum (usage error, status 2) before anything runs."""
    most = _DEMO_MAX[param.name or ""]
    if value > most:
        raise click.BadParameter(
            f"{value:,} is more than the demo's {most:,} {param.name}; the demo generates its "
            "data in pure Python: settle larger data from files with 'tuishou settle'",
            ctx=ctx,
            param=param,
        )
    return value


@app.command("demo")
@click.option(
    "--members",
    type=AsciiInt(min=1),
    default=3000,
    show_default=True,
    metavar="N",
    callback=_demo_bound,
    help=f"Members in the generated tree (at most {_DEMO_MAX['members']:,}).",
)
@click.option(
    "--orders",
    type=AsciiInt(min=0),
    default=30000,
    show_default=True,
    metavar="N",
    callback=_demo_bound,
    help=f"Generated orders (at most {_DEMO_MAX['orders']:,}).",
)
@click.option(
    "--seed",
    type=AsciiInt(),
    default=7,
    show_default=True,
    metavar="N",
    help="Seed of the generator; same seed, same report.",
)
def demo_command(members: int, orders: int, seed: int) -> int:
    """Settle generated example data under the bundled 有品推手-style policy; print a summary."""
    from tuishou.cli import demo  # building and settling pull in the whole library

    policy = demo.example_policy()
    tree = demo.example_tree(size=members, seed=seed)
    click.echo(
        demo.summary(policy, tree, demo.example_orders(tree, count=orders, seed=seed)), nl=False
    )
    return 0


# Last: tuishou.cli.migrate registers its command on app with the shared options above.
import tuishou.cli.migrate  # noqa: E402, F401
from tuishou.cli import ledger as _ledger  # noqa: E402, F401  (tuishou ledger ...)
