"""What the command line shows: the settle summary, a policy's report, and a progress bar.

Rendered with rich. Output that is not a terminal gets plain text (no colours, no bar), so
piped and captured output stays readable and the same run after run (apart from timings).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:  # the analysis pulls in the engine: import it only when comparing
    from tuishou.analysis.compare import Comparison

from tuishou.analysis.compliance import (
    compliance_notes,
    generations_paid,
    largest_fixed,
    largest_shares,
)
from tuishou.cli.totals import SettleTotals
from tuishou.engine.tables import BatchResult
from tuishou.money import percent, yuan
from tuishou.rulebook.brackets import RateBracket
from tuishou.rules import DifferentialRule, Policy, Rule

__all__ = [
    "Phases",
    "RowsBar",
    "comparison_report",
    "policy_report",
    "print_whole",
    "settle_summary",
]

LONG_INPUT = 8 * 2**20  # bytes of orders from which a bar is worth showing (~100k lines)


@dataclass(frozen=True, slots=True)
class Phases:
    """The steps of a long command, shown as a progress bar on a terminal (else nothing).

    >>> with Phases.shown(Console(), ["read", "settle"], long=False) as phases:
    ...     phases.advance("read")
    """

    progress: Progress | None

    @classmethod
    @contextmanager
    def shown(cls, console: Console, steps: Sequence[str], *, long: bool) -> Iterator[Phases]:
        """A bar over ``steps`` when ``console`` is a terminal and the input is ``long``."""
        if not (long and console.is_terminal):
            yield cls(None)
            return
        columns = (
            TextColumn("{task.description:<20}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            progress.add_task(steps[0], total=len(steps))
            yield cls(progress)

    def advance(self, done: str, *, following: str = "") -> None:
        """Mark the step ``done`` finished and name the one now running."""
        if self.progress is not None:
            task = self.progress.tasks[0].id
            self.progress.update(task, advance=1, description=following or done)


@dataclass(frozen=True, slots=True)
class RowsBar:
    """A progress bar over what is read of a file: lines (when known before reading, as
    from Parquet metadata) or bytes, on a terminal only (else nothing is shown).

    >>> import io
    >>> with RowsBar.shown(Console(file=io.StringIO()), "settling", 10, "lines") as bar:
    ...     bar.update(5, 10)
    >>> bar.progress is None
    True
    """

    progress: Progress | None

    @classmethod
    @contextmanager
    def shown(
        cls,
        console: Console,
        what: str,
        total: int,
        unit: str,
        *,
        long: bool = True,
        forced: bool = False,
    ) -> Iterator[RowsBar]:
        """A bar named ``what`` counting ``unit`` up to ``total``, when ``console`` is a
        terminal and the input ``long``, or when ``forced``."""
        if not (forced or (long and console.is_terminal)):
            yield cls(None)
            return
        columns = (
            TextColumn("{task.description:<20}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:,}/{task.total:,} " + unit),
            TimeElapsedColumn(),
        )
        # off a terminal (forced), the bar's last state stays: a log shows how it ended
        with Progress(*columns, console=console, transient=console.is_terminal) as progress:
            progress.add_task(what, total=total or None)
            yield cls(progress)

    def update(self, done: int, total: int) -> None:
        """``done`` of ``total`` read now."""
        if self.progress is not None:
            task = self.progress.tasks[0].id
            self.progress.update(task, completed=done, total=total or None)


def settle_summary(
    policy: Policy,
    result: BatchResult | SettleTotals,
    *,
    lines: int,
    out: str | Path,
    seconds: float,
) -> Table:
    """The totals of a settle run, as a two-column table.

    >>> from tuishou.examples import example_policy, example_result
    >>> table = settle_summary(example_policy(), example_result(), lines=1, out=Path("p.csv"),
    ...                        seconds=0.01)
    >>> import io
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(table)
    >>> [line.rstrip() for line in console.export_text().splitlines()][3:6]
    [' pool          ¥10.00', ' paid          ¥5.00', ' retained      ¥5.00']
    """
    totals = result if isinstance(result, SettleTotals) else SettleTotals.of(result, lines=lines)
    orders, pool, paid = totals.orders, totals.pool, totals.paid
    ratio = f"{Decimal(paid * 100) / pool:.2f}% of the pool" if pool else "-"
    no_seller, earners = totals.no_seller, totals.members_paid
    rows = [
        ("orders", f"{orders:,}"),
        ("lines", f"{lines:,}"),
        ("pool", yuan(pool)),
        ("paid", yuan(paid)),
        ("retained", yuan(pool - paid)),
        ("payout ratio", ratio),
        ("members paid", f"{earners:,}"),
        ("payouts", f"{totals.payouts:,} row(s)"),
        ("written to", str(out)),
        ("no seller", f"{no_seller:,} order(s): guest or root buyers, pool retained"),
        ("time", f"{seconds:.2f} s"),
    ]
    table = Table(title=f"Settled under policy {policy.name!r}", show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # a long path folds rather than losing its end
    for name, value in rows:
        table.add_row(name, value)
    return table


def comparison_report(comparison: Comparison) -> RenderableType:
    """What ``tuishou compare`` prints: the totals per policy and paid by tier, in yuan.

    >>> from tuishou.examples import example_comparison
    >>> import io
    >>> console = Console(width=120, record=True, file=io.StringIO())
    >>> console.print(comparison_report(example_comparison()))
    >>> "+¥1.00" in console.export_text()  # the richer policy pays B one more yuan
    True
    """
    totals = Table(title="Totals")
    totals.add_column("policy", overflow="fold")  # amounts fold, never cut
    for name in ("GMV", "pool", "paid", "retained", "paid / GMV", "members paid"):
        totals.add_column(name, justify="right", overflow="fold")
    for label, row in comparison.totals.iterrows():
        ratio = "-" if np.isnan(row.payout_ratio) else f"{row.payout_ratio:.2%}"
        totals.add_row(
            str(label),
            *(yuan(int(row[c])) for c in ("gmv", "pool", "paid", "retained")),
            ratio,
            f"{int(row.members_paid):,}",
        )
    return Group(
        totals,
        _by_tier_table(comparison),
        f"Deltas are each policy minus the baseline, {comparison.baseline!r}.",
    )


def print_whole(report: RenderableType) -> None:
    """Print to stdout; into a file or a pipe, as wide as the report needs (nothing folded).

    >>> print_whole(Table("a very long column heading"))
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ a very long column heading ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    └────────────────────────────┘
    """
    console = Console()
    if not console.is_terminal:  # a terminal wraps; a file has no width to respect
        widest = Console(width=1000).measure(report).maximum
        console = Console(width=max(80, widest))
    console.print(report)


def _by_tier_table(comparison: Comparison) -> Table:
    by_tier = comparison.by_tier
    table = Table(title="Paid by tier (members' current tiers)")
    table.add_column("tier", overflow="fold")
    table.add_column("members", justify="right", overflow="fold")
    deltas = [f"delta_{label}" for label in comparison.labels[1:]]
    for name in [*comparison.labels, *(f"Δ {label}" for label in comparison.labels[1:])]:
        table.add_column(name, justify="right", overflow="fold")
    for tier, row in by_tier.iterrows():
        table.add_row(
            str(tier),
            f"{int(row.members):,}",
            *(yuan(int(row[label])) for label in comparison.labels),
            *(_signed_yuan(int(row[name])) for name in deltas),
        )
    return table


def _signed_yuan(fen: int) -> str:
    return f"+{yuan(fen)}" if fen > 0 else yuan(fen)


def policy_report(policy: Policy, path: Path) -> RenderableType:
    """What ``tuishou validate`` prints: rates, rules, budget, shares by tier, notes.

    >>> from tuishou.cli.demo import example_policy
    >>> import io
    >>> console = Console(width=100, record=True, file=io.StringIO())
    >>> console.print(policy_report(example_policy(), Path("youpin.toml")))
    >>> text = console.export_text()
    >>> "Budget: at most 80% of an order's pool is paid out (differential 80%)." in text
    True
    """
    budget = policy.budget()
    parts = ", ".join(f"{rule.name} {percent(rule.max_share())}" for rule in policy.rules)
    depth = generations_paid(policy)
    return Group(
        f"Policy {policy.name!r} ({path}) is valid.",
        "Tiers, lowest first: " + " < ".join(policy.tiers),
        f"Settings: self_purchase {_on(policy.self_purchase)}, bind_members "
        f"{_on(policy.bind_members)}, max_generation "
        f"{policy.max_generation}, compression {_on(policy.compression)}.",
        f"Rounding: {policy.rounding}, per {policy.rounding_scope}.",
        "Pool rates, and the most paid out of what the buyer paid (pool rate x budget):",
        _rates_table(policy, budget),
        "Rules, in order: the share of the pool each tier gets:",
        _rules_table(policy),
        f"Budget: at most {percent(budget)} of an order's pool is paid out"
        + (f" ({parts})." if parts else "."),
        f"Generations paid: {depth} above the seller ({depth + 1} member(s) per order at most).",
        "The largest share of the pool one member can get from one order:",
        _shares_table(policy),
        *_period_plan(policy),
        "Compliance notes (to check, not legal advice):",
        _notes(policy),
    )


def _rates_table(policy: Policy, budget: Decimal) -> Table:
    table = Table()
    for name in ("group / sku", "pool rate", "paid out at most"):
        table.add_column(name, justify="left" if name == "group / sku" else "right")
    for group, rate in sorted(policy.group_rates.items()):
        table.add_row(group, percent(rate), percent(rate * budget))
    for sku, sku_rate in sorted(policy.sku_rates.items()):
        for start, each in _brackets(sku_rate):
            name = f"sku {sku}" + (f" ({start}+ units)" if start else "")
            table.add_row(name, percent(each), percent(each * budget))
    for sku in sorted(policy.fixed):  # docs/domain.md §17
        most = max(units.budget for units in policy.units.fixed[sku].units)
        table.add_row(f"sku {sku} (fixed)", "no pool share", f"{yuan(most)} per unit")
    return table


def _brackets(rate: Decimal | tuple[RateBracket, ...]) -> list[tuple[int, Decimal]]:
    """A SKU rate's brackets as (from, rate); a plain rate as (0, rate)."""
    if isinstance(rate, Decimal):
        return [(0, rate)]
    return [(bracket.start, bracket.rate) for bracket in rate]


def _rules_table(policy: Policy) -> Table:
    """Rules as columns, tiers as rows: policies have few rules and may have many tiers."""
    table = Table()
    table.add_column("tier")
    for rule in policy.rules:
        table.add_column(
            f"{rule.name} ({rule.kind})" if rule.name != rule.kind else rule.name, justify="right"
        )
    for tier in policy.tiers:
        table.add_row(tier, *(_rule_rate(rule, tier) for rule in policy.rules))
    if any(isinstance(rule, DifferentialRule) and rule.peer_max for rule in policy.rules):
        table.add_row(
            "peer bonus",
            *(
                f"{percent(rule.peer_rate)} x {rule.peer_max}"
                if isinstance(rule, DifferentialRule) and rule.peer_max
                else "-"
                for rule in policy.rules
            ),
        )
    return table


def _rule_rate(rule: Rule, tier: str) -> str:
    rates = rule.tier_rates(tier)
    return " / ".join(percent(r) for r in rates) if rates else "-"


def _period_plan(policy: Policy) -> list[RenderableType]:
    """The period plan (docs/domain.md §20-§22), when the policy has one."""
    plan = policy.period_plan
    if plan is None:
        return []
    shown: list[RenderableType] = [f"Period plan {plan.name!r}, computed at each period's end:"]
    if plan.team_bonus is not None:
        table = Table(title="team bonus (团队业绩奖): the bracket of the team volume")
        for name in ("team volume from", "rate", "needs"):
            table.add_column(name, justify="right" if name != "needs" else "left")
        for bracket in plan.team_bonus.brackets:
            needs = [f"{bracket.min_tier} or higher"] if bracket.min_tier else []
            if bracket.min_active_directs:
                needs.append(f"{bracket.min_active_directs} active directs")
            table.add_row(yuan(bracket.start), percent(bracket.rate), ", ".join(needs) or "-")
        shown.append(table)
    mentor = plan.mentor_bonus
    if mentor is not None:
        rates = " / ".join(percent(rate) for rate in mentor.rates) or "none"
        rewards = ", ".join(f"{t} {yuan(f)}" for t, f in sorted(mentor.promotion_rewards.items()))
        shown.append(
            f"Mentor bonus (育成奖): {rates} of a mentee's team bonus by generation"
            + (f" (uplines at {mentor.min_tier} or higher)" if mentor.min_tier else "")
            + (f"; promotion rewards: {rewards}." if rewards else ".")
        )
    keeping = plan.tier_keeping
    if keeping is not None:
        after = f"after {keeping.demote_after} period(s)" if keeping.demote_after else "never"
        shown.append(
            f"Tier keeping (保级): tiers reviewed on each period's figures; promotions "
            f"{_on(keeping.promote)}; demoted {after} below the tier's requirements."
        )
    return shown


def _notes(policy: Policy) -> Table:
    """The compliance notes as a list whose lines wrap under their own text."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=1)
    table.add_column()
    for note in compliance_notes(policy):
        table.add_row("-", note)
    return table


def _shares_table(policy: Policy) -> Table:
    table = Table()
    table.add_column("tier")
    table.add_column("as the seller", justify="right")
    table.add_column("as an upline", justify="right")
    for tier, (seller, upline) in largest_shares(policy).items():
        table.add_row(tier, percent(seller), percent(upline))
    for sku, by_tier in largest_fixed(policy).items():  # fixed amounts per unit (§17)
        for tier, (as_seller, as_upline) in by_tier.items():
            table.add_row(f"{tier}, sku {sku} (fixed, per unit)", yuan(as_seller), yuan(as_upline))
    return table


def _on(flag: bool) -> str:
    return "on" if flag else "off"
