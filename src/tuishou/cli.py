"""The ``tuishou`` command line: ``tuishou demo`` settles generated example data.

Subcommands:

- ``demo``: build the example tree and orders (``tuishou.demo``), settle them under the
  bundled 有品推手-style policy and print the summary report.

Errors tuishou raises on purpose (``TuishouError``) are printed as
``tuishou: error: <message>`` with exit code 2, like argparse's own usage errors.
Heavy modules are imported only when a subcommand runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .errors import TuishouError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    >>> main(["demo", "--members", "0"])
    2
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has already printed usage, the error or --help
        return exc.code if isinstance(exc.code, int) else 2
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        return command(args)
    except TuishouError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuishou",
        description="Exact, explainable commissions over a referral (invite) tree.",
    )
    commands = parser.add_subparsers(title="commands", dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="settle generated example data and print a summary",
        description="Generate an invite tree and orders, settle them under the bundled "
                    "有品推手-style policy (data/youpin.toml) and print a summary.",
    )
    demo.add_argument("--members", type=_count(1), default=3000, metavar="N",
                      help="members in the generated tree (default: %(default)s)")
    demo.add_argument("--orders", type=_count(0), default=30000, metavar="N",
                      help="generated orders (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=7, metavar="N",
                      help="seed of the generator; same seed, same report (default: %(default)s)")
    demo.set_defaults(run=_demo)
    return parser


def _count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an int of at least ``minimum``, with a message saying so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum}, got {value}")
        return value

    return parse


def _demo(args: argparse.Namespace) -> int:
    """``tuishou demo``: print the summary of the generated example data."""
    from . import demo  # imported here: building and settling pull in the whole library

    policy = demo.example_policy()
    tree = demo.example_tree(size=args.members, seed=args.seed)
    orders = demo.example_orders(tree, count=args.orders, seed=args.seed)
    sys.stdout.write(demo.summary(policy, tree, orders))
    return 0
