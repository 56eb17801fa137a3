"""The targets of issue 16 as met / not met, and Markdown tables, for ``bench_engine.py``.

The targets hold at 1M members and 10M lines; at another size each is still computed and
marked with the size it was measured at. The Markdown is what docs/performance.md takes:
one table per part of the run, with the command that reproduced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FULL_MEMBERS, FULL_LINES = 1_000_000, 10_000_000
CLI_LIMIT_MB = 1536  # 1.5 GB
DIFFERENTIAL_FLOOR = "youpin floor/line"  # the differential policy rounded per line


@dataclass
class Target:
    """One target of the issue: what, the measured figure, met or not (None: not measured)."""

    what: str
    measured: str
    met: bool | None


def _ratio(value: float) -> str:
    return f"{value:,.1f}x" if value >= 10 else f"{value:.2f}x"


def targets(parts: dict[str, Sequence[Any]], members: int, lines: int) -> list[Target]:
    """Every target of the issue from the rows of the parts that ran."""
    found = []
    inputs = [r for r in parts.get("inputs", ()) if "categoricals" not in r.approach]
    strings = [r for r in inputs if "int ids" not in r.approach]
    if strings:
        base = next(r for r in parts["inputs"] if "categoricals" in r.approach)
        worst = max(strings, key=lambda r: r.ratio)
        found.append(
            Target(
                "string inputs within 1.5x of the categorical path (wall)",
                ", ".join(f"{r.approach.split(': ')[-1]} {_ratio(r.ratio)}" for r in strings),
                worst.ratio <= 1.5,
            )
        )
        if base.cpu_seconds:
            cpu = {r.approach.split(": ")[-1]: r.cpu_seconds / base.cpu_seconds for r in strings}
            found.append(
                Target(
                    "string inputs within 1.5x of the categorical path (CPU time)",
                    ", ".join(f"{name} {_ratio(ratio)}" for name, ratio in cpu.items()),
                    max(cpu.values()) <= 1.5,
                )
            )
    files = {r.approach.split(":")[0]: r for r in parts.get("files", ())}
    if len(files) == 2:
        duckdb = files["DuckDB"]
        found.append(
            Target(
                "Parquet to payouts Parquet at least 2x faster than DuckDB end to end",
                f"DuckDB {duckdb.seconds:.2f} s / tuishou "
                f"{duckdb.seconds / duckdb.ratio:.2f} s = {_ratio(duckdb.ratio)}",
                duckdb.ratio >= 2,
            )
        )
    payout_rows = [
        r
        for r in parts.get("approaches", ())
        if r.policy == DIFFERENTIAL_FLOOR and r.approach.startswith("DuckDB SQL, one row")
    ]
    if payout_rows:
        ratio = payout_rows[0].ratio
        found.append(
            Target(
                "at least 2x DuckDB on the differential policy rounded per line (row per payout)",
                _ratio(ratio),
                ratio >= 2,
            )
        )
    loops = [r for r in parts.get("loop", ()) if "per order" in r.approach]
    if loops:
        found.append(
            Target(
                "250k-line str frame at least 50x faster than the per-order loop (wall)",
                ", ".join(f"{r.policy} {_ratio(r.ratio)}" for r in loops),
                min(r.ratio for r in loops) >= 50,
            )
        )
        engine = {r.policy: r for r in parts["loop"] if r.approach.endswith("settle_batch")}
        cpu = {r.policy: r.cpu_seconds / engine[r.policy].cpu_seconds for r in loops}
        found.append(
            Target(
                "250k-line str frame at least 50x faster than the per-order loop (CPU time)",
                ", ".join(f"{policy} {_ratio(ratio)}" for policy, ratio in cpu.items()),
                min(cpu.values()) >= 50,
            )
        )
    cli = [r for r in parts.get("cli", ()) if r.work and r.work >= FULL_LINES]
    if cli:
        found.append(
            Target(
                "CLI peak memory at most 1.5 GB at 10M lines",
                f"{cli[-1].peak_mb:,} MB",
                cli[-1].peak_mb <= CLI_LIMIT_MB,
            )
        )
    elif parts.get("cli"):
        last = parts["cli"][-1]
        found.append(
            Target(
                "CLI peak memory at most 1.5 GB at 10M lines",
                f"not measured at 10M lines ({last.work:,} lines: {last.peak_mb:,} MB)",
                None,
            )
        )
    if (members, lines) != (FULL_MEMBERS, FULL_LINES):
        for target in found:
            target.measured += f" [at {members:,} members, {lines:,} lines]"
    return found


def target_text(found: Sequence[Target]) -> str:
    """The targets as text lines: MET / NOT MET / n/a."""
    words = {True: "MET    ", False: "NOT MET", None: "n/a    "}
    return "\n".join(f"{words[t.met]} {t.what}: {t.measured}" for t in found)


# ----------------------------------------------------------------------------- Markdown


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:,.0f} s"


def markdown(
    parts: dict[str, Sequence[Any]], found: Sequence[Target], command: str, note: str
) -> str:
    """Markdown tables of the run, ready to paste into docs/performance.md."""
    out = [f"Measured with `{command}` ({note}).", ""]
    if parts.get("inputs"):
        out += _inputs(parts["inputs"])
    if parts.get("files"):
        out += _simple(
            parts["files"], "end to end (read lines Parquet, settle, write payouts Parquet)"
        )
    if parts.get("loop"):
        out += _loop(parts["loop"])
    if parts.get("cli"):
        out += _cli(parts["cli"])
    if parts.get("approaches"):
        out += _simple(parts["approaches"], "approach")
    if found:
        out += ["| target | measured | met |", "|---|---|---|"]
        words = {True: "met", False: "**not met**", None: "not measured"}
        out += [f"| {t.what} | {t.measured} | {words[t.met]} |" for t in found]
        out.append("")
    return "\n".join(out)


def _inputs(rows: Sequence[Any]) -> list[str]:
    policy, base = rows[0].policy, rows[0].cpu_seconds
    out = [
        f"| input of `settle_batch` ({policy}) | wall | x categoricals | CPU | x categoricals "
        "| peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = r.approach.split("input: ")[-1]
        if "cast to text" in r.note:
            name += " (cast to text in the timed run: the engine refused int ids)"
        cpu, ratio = (
            ("-", "-")
            if not r.cpu_seconds or not base
            else (f"{r.cpu_seconds:.2f} s", _ratio(r.cpu_seconds / base))
        )
        out.append(
            f"| {name} | {_seconds(r.seconds)} | {_ratio(r.ratio)} | {cpu} | {ratio} "
            f"| {r.peak_mb:,} |"
        )
    return [*out, ""]


def _simple(rows: Sequence[Any], head: str) -> list[str]:
    out = [f"| {head} | policy | wall | ratio | peak MB |", "|---|---|---:|---:|---:|"]
    for r in rows:
        ratio = "-" if r.ratio is None else _ratio(r.ratio)
        peak = "-" if r.peak_mb is None else f"{r.peak_mb:,}"
        out.append(f"| {r.approach} | {r.policy} | {_seconds(r.seconds)} | {ratio} | {peak} |")
    return [*out, ""]


def _loop(rows: Sequence[Any]) -> list[str]:
    out = [
        "| policy | `settle_batch`, str frame | per-order loop (extrapolated) | ratio "
        "| ratio of CPU times |",
        "|---|---:|---:|---:|---:|",
    ]
    engine = {r.policy: r for r in rows if r.approach.endswith("settle_batch")}
    for r in rows:
        if "per order" in r.approach:
            cpu = r.cpu_seconds / engine[r.policy].cpu_seconds
            out.append(
                f"| {r.policy} | {_seconds(engine[r.policy].seconds)} | "
                f"{_seconds(r.seconds)} | {_ratio(r.ratio)} | {_ratio(cpu)} |"
            )
    return [*out, ""]


def _cli(rows: Sequence[Any]) -> list[str]:
    out = ["| `tuishou settle`, Parquet in and out | wall | peak RSS |", "|---|---:|---:|"]
    out += [f"| {r.work:,} lines | {_seconds(r.seconds)} | {r.peak_mb:,} MB |" for r in rows]
    return [*out, ""]
