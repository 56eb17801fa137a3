"""Files for the command line's tests: the README's scenario as CSV, Parquet or JSON Lines."""

from __future__ import annotations

import csv
import json
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tuishou.cli.main import main

POLICY = Path(str(files("tuishou") / "data" / "youpin.toml"))
MEMBER_COLUMNS = ("member_id", "inviter_id", "tier", "status")
ORDER_COLUMNS = ("order_id", "buyer_id", "sharer_id", "sku", "group", "amount", "quantity")
PAYOUT_COLUMNS = ("order_id", "member_id", "rule", "kind", "generation", "amount")

# Z → A → B → C → D, as in the README; D buys for itself, B shares with a guest.
MEMBERS: list[dict[str, Any]] = [
    {"member_id": "Z", "inviter_id": None, "tier": "senior_advisor", "status": "active"},
    {"member_id": "A", "inviter_id": "Z", "tier": "senior_advisor", "status": "active"},
    {"member_id": "B", "inviter_id": "A", "tier": "mentor", "status": "active"},
    {"member_id": "C", "inviter_id": "B", "tier": "pusher", "status": "active"},
    {"member_id": "D", "inviter_id": "C", "tier": "pusher", "status": "active"},
]
ORDERS: list[dict[str, Any]] = [
    {
        "order_id": "o-1001",
        "buyer_id": "D",
        "sharer_id": None,
        "sku": "earphones",
        "group": "ecosystem",
        "amount": 19999,
        "quantity": 1,
    },
    {
        "order_id": "o-1001",
        "buyer_id": "D",
        "sharer_id": None,
        "sku": "phone",
        "group": "xiaomi",
        "amount": 99900,
        "quantity": 1,
    },
    {
        "order_id": "o-1002",
        "buyer_id": "guest-1",
        "sharer_id": "B",
        "sku": "band",
        "group": "xiaomi",
        "amount": 24900,
        "quantity": 2,
    },
    {
        "order_id": "o-1003",
        "buyer_id": "guest-2",
        "sharer_id": None,
        "sku": "band",
        "group": "xiaomi",
        "amount": 24900,
        "quantity": 1,
    },
]
# What the README's quick tour shows for o-1001, then o-1002 shared by B (a mentor).
PAYOUTS = [
    ("o-1001", "D", "differential", "differential", 0, 4497),
    ("o-1001", "C", "differential", "peer", 1, 450),
    ("o-1001", "B", "differential", "differential", 2, 1349),
    ("o-1001", "A", "differential", "differential", 3, 900),
    ("o-1002", "B", "differential", "differential", 0, 809),
    ("o-1002", "A", "differential", "differential", 1, 125),
    ("o-1002", "Z", "differential", "peer", 2, 62),
]


def write_rows(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Path:
    """Rows to ``path`` by extension; CSV writes None as an empty cell and values as given."""
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(
                [["" if row.get(c) is None else row.get(c) for c in columns] for row in rows]
            )
    elif path.suffix == ".jsonl":
        path.write_text(
            "".join(
                json.dumps({c: row.get(c) for c in columns if c in row}, ensure_ascii=False) + "\n"
                for row in rows
            ),
            encoding="utf-8",
        )
    else:
        pq.write_table(
            pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]), path
        )
    return path


def scenario(
    folder: Path,
    suffix: str = ".csv",
    *,
    members: list[dict[str, Any]] | None = None,
    orders: list[dict[str, Any]] | None = None,
) -> dict[str, Path]:
    """The policy, members and orders files in ``folder``; returns their paths by name."""
    policy = folder / "policy.toml"
    shutil.copy(POLICY, policy)
    return {
        "policy": policy,
        "members": write_rows(folder / f"members{suffix}", members or MEMBERS, MEMBER_COLUMNS),
        "orders": write_rows(folder / f"orders{suffix}", orders or ORDERS, ORDER_COLUMNS),
    }


def settle_args(paths: dict[str, Path], out: Path) -> list[str]:
    """``tuishou settle`` arguments over a scenario."""
    return [
        "settle",
        "--policy",
        str(paths["policy"]),
        "--members",
        str(paths["members"]),
        "--orders",
        str(paths["orders"]),
        "--out",
        str(out),
    ]


def migrate_args(paths: dict[str, Path], out: Path) -> list[str]:
    """``tuishou migrate`` arguments over a scenario with a roster and a mapping file, as of
    2026-11-24 (the twin of ``settle_args``)."""
    return [
        "migrate",
        "--policy",
        str(paths["policy"]),
        "--members",
        str(paths["members"]),
        "--roster",
        str(paths["roster"]),
        "--mapping",
        str(paths["mapping"]),
        "--as-of",
        "2026-11-24",
        "--out",
        str(out),
    ]


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process: (exit status, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read_payouts(path: Path) -> list[tuple[Any, ...]]:
    """A payouts file back as tuples, whatever its format (ints as ints)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
        return [
            (
                r["order_id"],
                r["member_id"],
                r["rule"],
                r["kind"],
                int(r["generation"]),
                int(r["amount"]),
            )
            for r in rows
        ]
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        records = pq.read_table(path).to_pylist()
    return [tuple(record[c] for c in PAYOUT_COLUMNS) for record in records]


def leftovers(folder: Path, *expected: str) -> list[str]:
    """Files in ``folder`` other than the scenario's and ``expected``: partial output."""
    known = {"policy.toml", *expected}
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in known and not p.name.startswith(("members.", "orders."))
    )
