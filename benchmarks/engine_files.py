"""End to end from files for ``bench_engine.py``: Parquet to payouts Parquet, DuckDB, the CLI.

The lines of the run are written once (not timed) into a work folder: ``lines.parquet``
(ids, skus and groups as plain strings, as an export gives them; order ids, amounts and
quantities int64), ``members.parquet`` (member_id, inviter_id, tier, status) and the policy
as ``policy.json``. Then, each in its own forked child, best of ``--repeat``:

- **tuishou**: ``pq.read_table(lines, read_dictionary=[the text columns])``, ``settle_batch``
  over the tree already in memory, ``tuishou.io.output.write_table(payouts.to_arrow(), out)`` (the
  writer the CLI uses: a row group per 1Mi rows with the dictionary values it uses);
- **DuckDB**: one ``COPY (...) TO out (FORMAT PARQUET)`` that reads the same ``lines.parquet``,
  joins the buyer and sharer ids to the members (an Arrow table registered in advance: the
  tree already in memory, as tuishou's), computes the payouts with ``bench_engine``'s SQL
  (one row per payout) and writes order_id, member_id (text), rule, kind, generation, amount.

Both output files are read back and checked equal to the categorical path's payouts (DuckDB's
as a set of rows: its rows come in another order).

The CLI: ``python -m tuishou settle`` on the same files in a subprocess (stderr not a
terminal, so no progress bar); its wall time and peak RSS (``os.wait4``'s rusage of that one
process), and its payouts file checked like the others. With more than ``CLI_SMALL`` lines it
also runs on the first ``CLI_SMALL`` lines (cut at an order's end).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import bench_engine as be
import engine_inputs as ei
from tuishou.engine.batch import settle_batch
from tuishou.io.output import write_table

CLI_SMALL = 1_000_000  # lines of the CLI's smaller run
RULE_KINDS = {"seller": ("seller",), "layers": ("layer",), "differential": ("differential", "peer")}


def cut_line(ctx: Any) -> int | None:
    """Where the CLI's smaller file ends (the first order ending at or after CLI_SMALL lines),
    or None when the lines are not more than that."""
    if ctx.lines <= CLI_SMALL:
        return None
    order_ids = ctx.df["order_id"].to_numpy()
    return int(np.searchsorted(order_ids, order_ids[CLI_SMALL - 1], side="right"))


def write_files(ctx: Any, label: str, folder: Path, cut: int | None) -> dict[str, Any]:
    """Write the lines, members and policy files (in a child); their sizes in MB."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ei.arrow_table(ctx.df)
    pq.write_table(lines, folder / "lines.parquet")
    if cut is not None:
        pq.write_table(lines.slice(0, cut), folder / "lines_small.parquet")
    del lines
    arrays = ctx.tree.arrays()
    ids = pa.array(ctx.ids, pa.string())
    parent = pa.array(arrays.parent.astype(np.int32), mask=arrays.parent == arrays.size)
    members = pa.table(
        {
            "member_id": ids,
            "inviter_id": ids.take(parent),
            "tier": pa.array(np.asarray(arrays.tier_names, dtype=object)[arrays.tier]),
            "status": pa.array(np.where(arrays.active, "active", "suspended").astype(object)),
        }
    )
    pq.write_table(members, folder / "members.parquet")
    policy = ctx.policies[label].model_dump(mode="json")
    (folder / "policy.json").write_text(json.dumps(policy), encoding="utf-8")
    return {path.name: round(path.stat().st_size / 2**20, 1) for path in sorted(folder.glob("*.*"))}


def read_payouts(path: Path, policy: Any, *, sort: bool = False) -> dict[str, Any]:
    """A payouts Parquet file's canonical summary (``engine_inputs.summary``)."""
    return ei.summary(ei.canonical(pq.read_table(path), ei.rule_names(policy)), sort=sort)


# ----------------------------------------------------------------------------- tuishou


def run_parquet(ctx: Any, label: str, folder: Path) -> dict[str, Any]:
    """Parquet lines -> settle_batch -> payouts Parquet, timed whole; the output checked."""
    memory = be.PeakMemory()
    policy = ctx.policies[label]
    out = folder / "payouts_tuishou.parquet"

    def run() -> int:
        table = pq.read_table(folder / "lines.parquet", read_dictionary=list(ei.TEXT_COLUMNS))
        result = settle_batch(policy, ctx.tree, table)
        write_table(result.payouts.to_arrow(), out)  # the library's writer, as the CLI writes
        return len(result.payouts)

    seconds, first, _ = be.best_of(run, ctx.repeat)
    peak = memory.peak()
    return {"seconds": seconds, "first": first, "peak": peak, **read_payouts(out, policy)}


# ----------------------------------------------------------------------------- DuckDB


def duckdb_copy_sql(ctx: Any, label: str, folder: Path) -> str:
    """The one DuckDB statement: read lines.parquet, join ids, settle, write payouts."""
    policy = ctx.policies[label]
    skus = sorted(policy.units.sku)
    plan = be.DuckdbPlan(policy, ctx.tree.arrays().tier_names, be.GROUPS, skus)
    group = _case_map('l."group"', {f"'{g}'": i for i, g in enumerate(be.GROUPS)}, "NULL")
    sku = _case_map("l.sku", {f"'{s}'": i for i, s in enumerate(skus)}, "-1")
    kind_names = " ".join(f"WHEN {code} THEN '{name}'" for code, name in enumerate(be.KINDS))
    rule_of = {}
    for rule in policy.rules:
        for kind in RULE_KINDS[rule.kind]:
            if kind in rule_of:
                raise NotImplementedError(
                    "two rules pay the same kind: the SQL names rules by kind"
                )
            rule_of[kind] = rule.name
    rules = " ".join(f"WHEN {be.KINDS.index(kind)} THEN '{name}'" for kind, name in rule_of.items())
    lines = (folder / "lines.parquet").as_posix()
    out = (folder / "payouts_duckdb.parquet").as_posix()
    return f"""
    CREATE OR REPLACE TEMP VIEW lines AS
    SELECT l.order_id, b.idx AS buyer, s.idx AS sharer, {group} AS grp, {sku} AS sku, l.amount
    FROM read_parquet('{lines}') l
    LEFT JOIN members b ON b.member_id = l.buyer_id
    LEFT JOIN members s ON s.member_id = l.sharer_id;
    COPY (
        SELECT p.order_id, m.member_id, CASE p.kind {rules} END AS rule,
               CASE p.kind {kind_names} END AS kind, p.gen AS generation, p.amount
        FROM ({plan.sql(rows=True)}) p JOIN members m ON m.idx = p.member
    ) TO '{out}' (FORMAT PARQUET)"""


def _case_map(column: str, values: dict[str, int], otherwise: str) -> str:
    """``CASE column WHEN key THEN value ... ELSE otherwise END`` (zeros kept, unlike
    ``bench_engine._case``); ``otherwise`` alone when there is no key."""
    if not values:
        return otherwise
    whens = " ".join(f"WHEN {key} THEN {value}" for key, value in values.items())
    return f"(CASE {column} {whens} ELSE {otherwise} END)"


def run_duckdb_files(ctx: Any, label: str, folder: Path) -> dict[str, Any]:
    """DuckDB's end to end: the members registered once (not timed), then the COPY timed."""
    import duckdb

    memory = be.PeakMemory()
    con = duckdb.connect()
    members = be.duckdb_tables(ctx)["members"].append_column(
        "member_id", pa.array(ctx.ids, pa.string())
    )
    con.register("members", members)
    statements = duckdb_copy_sql(ctx, label, folder)
    memory.reset()
    seconds, first, _ = be.best_of(lambda: con.execute(statements), ctx.repeat)
    peak = memory.peak()
    policy = ctx.policies[label]
    found = read_payouts(folder / "payouts_duckdb.parquet", policy, sort=True)
    return {"seconds": seconds, "first": first, "peak": peak, **found}


def file_rows(
    ctx: Any, label: str, folder: Path, base: dict[str, Any], checks: list[Any]
) -> list[Any]:
    """tuishou and DuckDB end to end from the Parquet file; rows with ratios; checks."""
    print(f"  Parquet -> settle_batch -> Parquet, {label} ...", flush=True)
    ours = be.in_child(lambda: run_parquet(ctx, label, folder))
    checks.append(ei.same_payouts(f"Parquet end to end == categoricals ({label})", ours, base))
    print(f"  DuckDB Parquet -> SQL -> Parquet, {label} ...", flush=True)
    theirs = be.in_child(lambda: run_duckdb_files(ctx, label, folder))
    checks.append(
        ei.same_payouts(f"DuckDB end to end == categoricals ({label})", theirs, base, sort=True)
    )
    rows = []
    for name, run in (
        ("Parquet -> settle_batch -> payouts Parquet", ours),
        ("DuckDB: Parquet -> SQL -> payouts Parquet", theirs),
    ):
        rows.append(
            be.Row.measured(
                name,
                label,
                run,
                ctx.lines,
                ratio=run["seconds"] / ours["seconds"],
                note=f"{run['rows']:,} payouts",
            )
        )
    return rows


# ----------------------------------------------------------------------------- the CLI


# The CLI is started by a small launcher process: a child forked from this benchmark
# (which holds the 10M lines) keeps the parent's resident pages in its peak RSS until it
# execs, and Linux carries that peak across exec, so wait4 on a direct child reported this
# process's size (1,766 MB at 1M and at 10M lines) instead of the CLI's.
LAUNCHER = """
import resource, subprocess, sys
status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, status)
"""


def run_cli(folder: Path, lines_file: str, out_name: str) -> dict[str, Any]:
    """``python -m tuishou settle`` in a subprocess: wall seconds, peak RSS (MB), stderr."""
    out = folder / out_name
    out.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "tuishou",
        "settle",
        "--policy",
        str(folder / "policy.json"),
        "--members",
        str(folder / "members.parquet"),
        "--orders",
        str(folder / lines_file),
        "--out",
        str(out),
    ]
    start = time.perf_counter()
    launched = subprocess.run(  # our own interpreter and files
        [sys.executable, "-c", LAUNCHER, *command], capture_output=True, check=False
    )
    seconds = time.perf_counter() - start
    peak_kb, status = (int(x) for x in launched.stdout.split()[-2:])
    return {
        "seconds": seconds,
        "peak_mb": peak_kb // 1024,
        "status": status,
        "stderr": launched.stderr.decode("utf-8", "replace")[-2000:],
        "out": out,
    }


def cli_rows(
    ctx: Any, label: str, folder: Path, base: dict[str, Any], checks: list[Any]
) -> list[Any]:
    """The CLI on the whole lines file (and on its first CLI_SMALL lines when bigger)."""
    runs = [("lines.parquet", ctx.lines, base)]
    if (folder / "lines_small.parquet").exists():
        small = {"rows": base["prefix"]["rows"], "digest": base["prefix"]["digest"], "paid": 0}
        runs.insert(0, ("lines_small.parquet", base["prefix"]["lines"], small))
    rows = []
    policy = ctx.policies[label]
    for name, lines, expected in runs:
        print(f"  tuishou settle (CLI) on {lines:,} lines, {label} ...", flush=True)
        run = run_cli(folder, name, f"payouts_cli_{lines}.parquet")
        what = f"CLI payouts == categoricals, {lines:,} lines ({label})"
        if run["status"]:
            checks.append(be.Check(what, False, f"exit {run['status']}: {run['stderr'][-400:]}"))
        else:
            found = read_payouts(run["out"], policy)
            if not expected["paid"]:  # the prefix: rows and digest only
                expected = {**expected, "paid": found["paid"]}
            checks.append(ei.same_payouts(what, found, expected))
        rows.append(
            be.Row(
                f"CLI: tuishou settle, {lines:,} lines (peak RSS of the process)",
                label,
                run["seconds"],
                work=lines,
                peak_mb=run["peak_mb"],
                note=f"exit {run['status']}",
            )
        )
    return rows


# ----------------------------------------------------------------------------- the parts


def run_parts(ctx: Any, args: Any, checks: list[Any]) -> dict[str, list[Any]]:
    """The parts of issue 16 chosen by ``--parts``: inputs, files, cli, loop (by name)."""
    import shutil
    import tempfile

    label, parts = args.inputs_policy, {}
    wanted = set(args.parts)
    if wanted & {"inputs", "files", "cli"}:
        cut = cut_line(ctx) if "cli" in wanted else None
        variants = ei.VARIANTS if "inputs" in wanted else ei.VARIANTS[:1]
        rows, base = ei.variant_rows(ctx, label, checks, cut, variants)
        if "inputs" in wanted:
            parts["inputs"] = rows
        folder = Path(args.workdir or tempfile.mkdtemp(prefix="bench_engine_"))
        try:
            sizes = be.in_child(lambda: write_files(ctx, label, folder, cut))
            print(f"  files in {folder}: {sizes} (MB)", flush=True)
            if "files" in wanted:
                parts["files"] = file_rows(ctx, label, folder, base, checks)
            if "cli" in wanted:
                parts["cli"] = cli_rows(ctx, label, folder, base, checks)
        finally:
            if not args.workdir:
                shutil.rmtree(folder, ignore_errors=True)
    if "loop" in wanted:
        parts["loop"] = ei.loop_rows(args, checks)
    return parts
