"""Input variants for ``bench_engine.py``: the same order lines as strings, Arrow and int ids.

``bench_engine.generate_lines`` gives the lines as pandas categoricals (the engine's fastest
input). Real inputs look different; this module turns the same lines into

- ``object strings``: numpy object arrays of ``str`` (``None`` for no sharer);
- ``pandas str``: pandas' ``str`` dtype (pandas 3: Arrow-backed), as ``df.astype("str")``;
- ``pandas string[pyarrow]``: ``StringDtype("pyarrow")``;
- ``Arrow strings``: a pyarrow Table of ``string`` columns;
- ``int ids``: member, buyer and order ids as int64 (an Arrow Table, null = no sharer) over a
  tree built from int64 columns (``InviteTree.from_arrays``). Where the engine has no int ids
  yet (tried on a few lines first), the ids are cast to text *inside* the timed run, over a
  tree of the same ids as text, and the row says so.

Every variant is settled by ``settle_batch`` under one policy in its own forked child, and its
payouts are reduced to a canonical form (:func:`canonical`: order id, member index, rule,
kind, generation, amount as int64 arrays, whatever the id types) whose SHA-256 must equal the
categorical path's. Only the order ids stay int64 in every variant, as generated.

Also the 250k-line check of the issue: a pandas ``str`` frame over a 50k-member tree, against
the per-order loop (:func:`loop_rows`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import bench_engine as be
from tuishou import InviteTree
from tuishou.engine.batch import settle_batch
from tuishou.engine.tables import KINDS

TEXT_COLUMNS = ("buyer_id", "sharer_id", "sku", "group")
ID_COLUMNS = ("buyer_id", "sharer_id")
INT_BASE = 10**9  # member i of the tree is the int id INT_BASE + i (guests beyond the tree)
VARIANTS = (
    "categoricals",
    "object strings",
    "pandas str",
    "pandas string[pyarrow]",
    "Arrow strings",
    "int ids",
)


# ----------------------------------------------------------------------------- the inputs


def arrow_text(df: pd.DataFrame, name: str) -> pa.Array:
    """A categorical column as a plain Arrow ``string`` array (null where the code is -1)."""
    codes = df[name].cat.codes.to_numpy()
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pc.take(pa.array(df[name].cat.categories.to_numpy(dtype=object), pa.string()), indices)


def arrow_table(df: pd.DataFrame) -> pa.Table:
    """The lines as a pyarrow Table: text columns as ``string``, numbers as int64."""
    columns = {
        name: arrow_text(df, name) if name in TEXT_COLUMNS else pa.array(df[name].to_numpy())
        for name in df.columns
    }
    return pa.table(columns)


def variant_frame(df: pd.DataFrame, variant: str) -> Any:
    """The lines of ``df`` (categoricals) as ``variant`` (not ``int ids``: see IntInput)."""
    if variant == "categoricals":
        return df
    if variant == "Arrow strings":
        return arrow_table(df)
    frame = df.copy(deep=False)
    for name in TEXT_COLUMNS:
        text = arrow_text(df, name)
        if variant == "object strings":
            frame[name] = text.to_numpy(zero_copy_only=False)
        elif variant == "pandas str":
            frame[name] = pd.Series(text.to_numpy(zero_copy_only=False), dtype="str")
        elif variant == "pandas string[pyarrow]":
            frame[name] = pd.Series(pd.arrays.ArrowStringArray(text))
        else:
            raise ValueError(f"unknown input variant {variant!r}; known: {VARIANTS}")
    return frame


class IntInput:
    """The ``int ids`` variant: a tree built from int64 ids and lines with int64 id columns.

    ``prepare`` returns the callable to time. ``native`` tells whether the engine took the
    int columns as they are; if not, ``why`` holds its error, and the callable casts the id
    columns to text first (timed) over a tree built from the same ids as text.
    """

    def __init__(self, ctx: Any) -> None:
        arrays = ctx.tree.arrays()
        size = arrays.size
        self.members = pa.array(INT_BASE + np.arange(size, dtype=np.int64))
        self.inviters = pa.array(INT_BASE + arrays.parent, mask=arrays.parent == size)
        self.tiers = np.asarray(arrays.tier_names, dtype=object)[arrays.tier]
        self.status = np.where(arrays.active, "active", "suspended").astype(object)
        df = ctx.df
        columns: dict[str, Any] = {"order_id": pa.array(df["order_id"].to_numpy())}
        for name in ID_COLUMNS:
            codes = df[name].cat.codes.to_numpy().astype(np.int64)
            columns[name] = pa.array(INT_BASE + codes, mask=codes < 0)
        for name in ("sku", "group"):
            columns[name] = pa.DictionaryArray.from_arrays(
                pa.array(df[name].cat.codes.to_numpy()),
                pa.array(df[name].cat.categories.to_numpy(dtype=object), pa.string()),
            )
        for name in ("amount", "quantity"):
            columns[name] = pa.array(df[name].to_numpy())
        self.lines = pa.table(columns)
        self.native = True
        self.why = ""

    def prepare(self, policy: Any) -> Callable[[], Any]:
        """The timed call: ``settle_batch`` on the int columns, or on them cast to text."""
        try:
            tree = InviteTree.from_arrays(
                self.members, self.inviters, self.tiers, status=self.status
            )
            settle_batch(policy, tree, self.lines.slice(0, 3000))
        except Exception as exc:  # any refusal: no int ids yet
            first = str(exc).splitlines()[0][:100] if str(exc) else ""
            self.native, self.why = False, f"{type(exc).__name__}: {first}"
            text_tree = InviteTree.from_arrays(
                pc.cast(self.members, pa.string()),
                pc.cast(self.inviters, pa.string()),
                self.tiers,
                status=self.status,
            )
            return lambda: settle_batch(policy, text_tree, as_text(self.lines))
        return lambda: settle_batch(policy, tree, self.lines)


def as_text(lines: pa.Table) -> pa.Table:
    """The int id columns cast to their decimal text (what a caller does without int ids)."""
    for name in ID_COLUMNS:
        index = lines.schema.get_field_index(name)
        lines = lines.set_column(index, name, pc.cast(lines[name], pa.string()))
    return lines


# ----------------------------------------------------------------------------- verifying


def member_numbers(values: pa.Array) -> np.ndarray:
    """Tree indices of member ids: ``m0000123`` -> 123, and int ids (or their text) - INT_BASE."""
    text = pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
    if text and len(values) and str(values[0]).startswith("m"):
        return np.asarray(pc.cast(pc.utf8_slice_codeunits(values, 1), pa.int64()), dtype=np.int64)
    return np.asarray(pc.cast(values, pa.int64()), dtype=np.int64) - INT_BASE


def _names(known: Sequence[str]) -> Callable[[pa.Array], np.ndarray]:
    def convert(values: pa.Array) -> np.ndarray:
        found = pc.index_in(pc.cast(values, pa.string()), value_set=pa.array(list(known)))
        return np.asarray(found.fill_null(-1), dtype=np.int64)

    return convert


def _ints(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(values, pa.int64()), dtype=np.int64)


def _column(column: Any, convert: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    """int64 values of a (chunked, maybe dictionary-encoded) Arrow column."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = []
    for chunk in chunks:
        if pa.types.is_dictionary(chunk.type):
            indices = np.asarray(chunk.indices.fill_null(0), dtype=np.int64)
            parts.append(convert(chunk.dictionary)[indices] if len(chunk.dictionary) else indices)
        else:
            parts.append(convert(chunk))
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def canonical(payouts: pa.Table, rules: Sequence[str]) -> list[np.ndarray]:
    """A payouts table (``to_arrow()`` or a Parquet file) as six int64 arrays: order id,
    member index in the tree, rule (index in ``rules``), kind (in ``KINDS``), generation,
    amount; the same whatever types the ids had."""
    converters = {
        "order_id": _ints,
        "member_id": member_numbers,
        "rule": _names(rules),
        "kind": _names(KINDS),
        "generation": _ints,
        "amount": _ints,
    }
    return [_column(payouts[name], convert) for name, convert in converters.items()]


def digest(arrays: Sequence[np.ndarray], *, sort: bool = False, rows: int | None = None) -> str:
    """SHA-256 (16 hex digits) of the canonical arrays: in their order, or sorted by every
    column (to compare a result whose rows come in another order); the first ``rows`` only."""
    arrays = [a[:rows] for a in arrays] if rows is not None else list(arrays)
    if sort and arrays:
        order = np.lexsort(arrays[::-1])
        arrays = [a[order] for a in arrays]
    sha = hashlib.sha256()
    for array in arrays:
        sha.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
    return sha.hexdigest()[:16]


def summary(arrays: Sequence[np.ndarray], *, sort: bool = False) -> dict[str, Any]:
    """What a run's payouts are compared by: rows, fen paid, the digest in order (or, with
    ``sort``, of the sorted rows only: a result in another order), and of the sorted rows."""
    found = {"rows": len(arrays[-1]), "paid": int(arrays[-1].sum())}
    found["sorted_digest"] = digest(arrays, sort=True) if sort else None
    found["digest"] = found["sorted_digest"] if sort else digest(arrays)
    return found


def rule_names(policy: Any) -> list[str]:
    """The policy's rule names, in order (the ``rule`` codes of ``canonical``)."""
    return [rule.name for rule in policy.rules]


# ----------------------------------------------------------------------------- running


def run_variant(ctx: Any, label: str, variant: str, cut: int | None = None) -> dict[str, Any]:
    """Time ``settle_batch`` on one input variant (in a forked child); its canonical payouts.

    ``cut``: also the digest of the payouts of the orders before the line ``cut`` (a prefix
    of the rows: the CLI's smaller file is checked against it).
    """
    memory = be.PeakMemory()
    policy = ctx.policies[label]
    note = ""
    if variant == "int ids":
        ints = IntInput(ctx)
        run = ints.prepare(policy)
        note = "int64 ids" if ints.native else f"ids cast to text in the timed run; {ints.why}"
    else:
        frame = variant_frame(ctx.df, variant)
        run = lambda: settle_batch(policy, ctx.tree, frame)  # noqa: E731
    memory.reset()
    cpu: list[float] = []
    seconds, first, result = be.best_of(lambda: with_cpu(run, cpu), ctx.repeat)
    peak = memory.peak()
    arrays = canonical(result.payouts.to_arrow(), rule_names(policy))
    found = {"seconds": seconds, "first": first, "peak": peak, "note": note, **summary(arrays)}
    found["cpu"] = min(cpu[1:] or cpu)
    if variant == "categoricals":  # the base: DuckDB's rows are compared sorted
        found["sorted_digest"] = digest(arrays, sort=True)
    if cut is not None:
        last = int(ctx.df["order_id"].to_numpy()[cut - 1])
        prefix = int(np.searchsorted(arrays[0], last, side="right"))
        found["prefix"] = {"lines": cut, "rows": prefix, "digest": digest(arrays, rows=prefix)}
    return found


def with_cpu(run: Callable[[], Any], seconds: list[float]) -> Any:
    """``run()``, appending the CPU seconds of this process it took to ``seconds``: steadier
    than wall time while other work shares the machine (these runs use one core)."""
    start = time.process_time()
    result = run()
    seconds.append(time.process_time() - start)
    return result


def variant_rows(
    ctx: Any,
    label: str,
    checks: list[Any],
    cut: int | None = None,
    variants: Sequence[str] = VARIANTS,
) -> tuple[list[Any], dict[str, Any]]:
    """The input ``variants`` (the categoricals first) under ``label``: rows with ratios to
    the categoricals, checks, and the categoricals' run (what the other parts compare to)."""
    runs: dict[str, dict[str, Any]] = {}
    for variant in variants:
        print(f"  input {variant}, {label} ...", flush=True)
        runs[variant] = be.in_child(
            lambda v=variant: run_variant(ctx, label, v, cut if v == "categoricals" else None)
        )
    base = runs["categoricals"]
    rows = []
    for variant, run in runs.items():
        rows.append(
            be.Row.measured(
                f"settle_batch, input: {variant}",
                label,
                run,
                ctx.lines,
                ratio=run["seconds"] / base["seconds"],
                note=", ".join(filter(None, [f"CPU {run['cpu'] / base['cpu']:.2f}x", run["note"]])),
                cpu_seconds=run["cpu"],
            )
        )
        if variant != "categoricals":
            checks.append(same_payouts(f"input {variant} == categoricals ({label})", run, base))
    return rows, base


def same_payouts(
    what: str, run: dict[str, Any], base: dict[str, Any], *, sort: bool = False
) -> Any:
    """A check: the run's canonical payouts equal the base's (in order, or as sets of rows)."""
    key = "sorted_digest" if sort else "digest"
    ok = run[key] == base[key] and run["rows"] == base["rows"]
    return be.Check(
        what,
        ok,
        f"{run['rows']:,} vs {base['rows']:,} payout rows, paid {run['paid']:,} vs "
        f"{base['paid']:,} fen, digest {run[key]} vs {base[key]}"
        + (" (rows sorted)" if sort else ""),
    )


# ----------------------------------------------------------------------------- 250k vs loop


def loop_rows(args: Any, checks: list[Any]) -> list[Any]:
    """The issue's check: a 250k-line pandas ``str`` frame over a 50k-member tree, settled by
    ``settle_batch`` and by the per-order loop (``settle`` per ``Order``, on a sample,
    extrapolated), under every policy; the sample's rows checked equal."""
    members, lines = (50_000, 250_000) if not args.loop_size else args.loop_size
    rng = np.random.default_rng(args.seed + 1)
    tree, ids = be.build_tree(members, rng)
    df = be.generate_lines(ids, lines, rng)
    sample = be.sample_orders(df, min(args.sample, lines), rng)
    frame = variant_frame(df, "pandas str")
    orders = int(np.unique(df["order_id"].to_numpy()).size)
    ctx = be.Context(tree, ids, frame, sample, be.policies(), args.repeat, lines, orders)
    scale = orders / len(sample)
    rows = []
    for label in ctx.policies:
        print(f"  {lines:,}-line str frame, {members:,} members, {label} ...", flush=True)
        engine = be.in_child(lambda label=label: be.run_engine(ctx, label))
        reference = be.in_child(lambda label=label: be.run_reference(ctx, label))
        loop = reference["seconds"] * scale
        rows.append(
            be.Row(
                f"{lines // 1000}k-line str frame: settle_batch",
                label,
                engine["seconds"],
                engine["first"],
                lines,
                ratio=1.0,
                note=f"{members:,} members",
                cpu_seconds=engine["cpu"],
            )
        )
        rows.append(
            be.Row(
                f"{lines // 1000}k-line str frame: settle per order (sampled, extrapolated)",
                label,
                loop,
                reference["first"] * scale,
                lines,
                sampled=len(sample),
                ratio=loop / engine["seconds"],
                note=f"CPU {reference['cpu'] * scale / engine['cpu']:.1f}x",
                cpu_seconds=reference["cpu"] * scale,
            )
        )
        checks.append(be.compare_sample(engine, reference, f"{lines // 1000}k str frame, {label}"))
    return rows
