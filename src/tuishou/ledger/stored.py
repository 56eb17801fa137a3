"""Reading a ledger file back: every stored value goes through one checked decoder.

A ledger file can be altered outside tuishou (by hand with ``sqlite3``, by another program,
by a damaged disk). Every value the ledger reads back (a time, an amount, an id, a JSON
document) is decoded by ``decode`` against the form the ledger writes; anything else is a
``LedgerError`` naming the file, the table, the row, the column and the value, and saying
what to do. A damaged file never comes out as a raw ``TypeError`` or ``ValueError``.

>>> decode("ledger.db", "entries", {"entry_id": 7, "at": "yesterday"})
Traceback (most recent call last):
...
tuishou.errors.LedgerError: the ledger ledger.db holds a damaged value: table tuishou_entries, ...
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, get_args

from tuishou.bindings import Binding, BindingHow
from tuishou.errors import LedgerError, TuishouError
from tuishou.ledger.models import Bucket, LedgerPolicy, Reason
from tuishou.ledger.refund_lines import is_stored_line
from tuishou.members.records import STATUSES
from tuishou.orders import Order
from tuishou.rules import Policy
from tuishou.settlement import Attribution
from tuishou.times import utc

__all__ = ["COLUMNS", "any_time", "damaged", "decode", "stored_time"]

Convert = Callable[[object], Any]


def stored_time(moment: datetime) -> str:
    """How the ledger writes an (aware) time: ISO 8601 in UTC.

    >>> from datetime import timezone
    >>> stored_time(datetime(2026, 11, 1, 12, tzinfo=timezone(timedelta(hours=8))))
    '2026-11-01T04:00:00+00:00'
    """
    return utc(moment).isoformat()


def _integer(value: object) -> int:
    if type(value) is not int:
        raise ValueError("expected a whole number")
    return value


def _whole(value: object) -> int:
    if type(value) is Decimal and value == int(value):  # PostgreSQL sums bigint as numeric
        return int(value)
    return _integer(value)


def _text(value: object) -> str:
    if type(value) is not str or not value:
        raise ValueError("expected non-empty text")
    return value


def _time(value: object) -> datetime:
    if isinstance(value, datetime):  # timestamptz (PostgreSQL), in the session's zone
        if value.utcoffset() is None:
            raise ValueError("expected an aware time (timestamp with time zone)")
        return value.astimezone(UTC)
    if type(value) is not str:
        raise ValueError("expected a time as text")
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() != timedelta(0) or stored_time(moment) != value:
        raise ValueError(
            "expected a time in UTC as the ledger writes it, e.g. 2026-11-01T04:00:00+00:00"
        )
    return moment


def any_time(value: object) -> datetime:
    """A schema-1 time: ISO 8601 text, naive or aware (see ``ledger.upgrade``)."""
    if type(value) is not str:
        raise ValueError("expected a time as text")
    return datetime.fromisoformat(value)


def _optional(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _one_of(*allowed: str) -> Convert:
    def convert(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return str(value)

    return convert


@lru_cache(maxsize=64)
def _ledger_policy_of(text: str) -> LedgerPolicy:
    return LedgerPolicy.model_validate_json(text)


def _ledger_policy(value: object) -> LedgerPolicy:
    return _ledger_policy_of(_text(value))


def _policy(value: object) -> Policy:
    return Policy.model_validate_json(_text(value))


def _order(value: object) -> Order:
    return Order.model_validate_json(_text(value))


def _counts(value: object) -> list[int | list[int]]:
    counts = json.loads(_text(value))
    if type(counts) is not list or not all(is_stored_line(n) for n in counts):
        raise ValueError(
            "expected a JSON list of units refunded per line (or of [amount, quantity, "
            "units refunded] for a line refunded by amount)"
        )
    return counts


def _snapshot(value: object) -> dict[str, Any]:
    snapshot = json.loads(_text(value))
    if type(snapshot) is dict and "binding" in snapshot:
        snapshot["binding"] = _binding(snapshot)
    if (
        type(snapshot) is not dict
        or set(snapshot) - {"binding"} != {"seller_id", "attribution", "chain"}
        or not isinstance(snapshot["seller_id"], str | None)
        or snapshot["attribution"] not in get_args(Attribution)
        or type(snapshot["chain"]) is not list
        or not all(_is_link(link) for link in snapshot["chain"])
    ):
        raise ValueError(
            "expected the settlement snapshot the ledger writes (seller_id, "
            "attribution, chain of [member, tier, status, generation])"
        )
    return dict(snapshot)


def _binding(snapshot: dict[str, Any]) -> Binding:
    """The binding a snapshot records: the one that credited its seller (attribution
    ``binding``), with its times as given."""
    binding = Binding.model_validate_json(json.dumps(snapshot["binding"]))
    if snapshot.get("attribution") != "binding" or binding.member_id != snapshot["seller_id"]:
        raise ValueError("expected a binding only for a seller credited by it")
    return binding


def _is_link(link: object) -> bool:
    """A chain link as the snapshot stores it: [member, tier, status, generation or null]."""
    return (
        type(link) is list
        and len(link) == 4
        and all(type(part) is str for part in link[:3])
        and link[2] in STATUSES
        and (link[3] is None or type(link[3]) is int)
    )


_TIME, _TEXT = _time, _text
_MAYBE_TIME, _MAYBE_TEXT = _optional(_time), _optional(_text)
COLUMNS: dict[str, dict[str, Convert]] = {
    "clock": {"clock_id": _integer, "at": _MAYBE_TIME, "what": _optional(str)},
    "ledger_policy": {
        "change_id": _integer,
        "at": _TIME,
        "policy_json": _ledger_policy,
        "note": lambda v: v if type(v) is str else _text(v),
    },
    "orders": {
        "order_id": _TEXT,
        "fingerprint": _TEXT,
        "policy_id": _TEXT,
        "order_json": _order,
        "snapshot_json": _snapshot,
        "refunded_json": _counts,
        "posted_at": _TIME,
        "freeze_start": _MAYBE_TIME,
        "due_at": _MAYBE_TIME,
        "released_at": _MAYBE_TIME,
        "policy_version": _MAYBE_TEXT,
        "policy_json": _policy,
    },  # joined with policies
    "payouts": {
        "order_id": _TEXT,
        "member_id": _TEXT,
        "rule": _TEXT,
        "kind": _TEXT,
        "amount": _integer,
    },
    "entries": {
        "entry_id": _integer,
        "member_id": _TEXT,
        "bucket": _one_of(*get_args(Bucket)),
        "reason": _one_of(*get_args(Reason)),
        "amount": _integer,
        "at": _TIME,
        "order_id": _MAYBE_TEXT,
        "rule": _MAYBE_TEXT,
        "kind": _MAYBE_TEXT,
        "request_id": _MAYBE_TEXT,
    },
    "requests": {
        "request_id": _TEXT,
        "kind": _one_of("refund", "withdrawal"),
        "fingerprint": _TEXT,
        "at": _TIME,
    },
    "volumes": {
        "volume_id": _integer,
        "member_id": _TEXT,
        "at": _TIME,
        "amount": _integer,
        "order_id": _TEXT,
        "request_id": _MAYBE_TEXT,
        "sold_at": _TIME,
    },
    "volume_sums": {"member_id": _TEXT, "amount": _whole},  # SUM: numeric on PostgreSQL
    "bindings": {
        "customer_id": _TEXT,
        "since": _TIME,
        "member_id": _TEXT,
        "until": _MAYBE_TIME,
        "how": _one_of(*get_args(BindingHow)),
    },
}
"""How each column the ledger reads back is decoded (what the ledger writes, nothing else)."""
_KEYS = {
    "ledger_policy": ("change_id",),
    "clock": ("clock_id",),
    "orders": ("order_id",),
    "entries": ("entry_id",),
    "payouts": ("order_id", "member_id", "rule", "kind"),
    "requests": ("request_id",),
    "withdrawals": ("withdrawal_id",),
    "periods": ("period_id",),
    "bindings": ("customer_id", "since"),
    "volumes": ("volume_id",),
    "volume_sums": ("member_id",),
}


def decode(
    path: str,
    table: str,
    row: Mapping[str, object],
    converters: Mapping[str, Convert] | None = None,
    *,
    prefix: str = "tuishou_",
) -> dict[str, Any]:
    """Decode one stored row (column → value) of ``table``; a damaged value is refused.

    ``converters`` replaces the table's own (``COLUMNS``) for the columns it names;
    ``prefix`` is what the database's table names add to ``table`` (none in a schema-1 file).
    """
    chosen = {**COLUMNS.get(table, {}), **(converters or {})}
    decoded = {}
    for column, value in row.items():
        try:
            decoded[column] = chosen[column](value)
        except (TypeError, ValueError, TuishouError) as exc:
            raise damaged(path, table, row, column, _reason(exc), prefix=prefix) from None
    return decoded


def damaged(
    path: str,
    table: str,
    row: Mapping[str, object],
    column: str,
    expected: str,
    *,
    prefix: str = "tuishou_",
) -> LedgerError:
    """The error for a damaged stored value: the file, the table, the row, the value, the fix.

    >>> print(damaged("l.db", "orders", {"order_id": "o1", "due_at": "x"}, "due_at", "a time"))
    the ledger l.db holds a damaged value: table tuishou_orders, row order_id='o1', \
due_at='x' (a time); the database was altered outside tuishou: restore it from a backup \
(nothing was changed)
    """
    keys = [f"{key}={row[key]!r}" for key in _KEYS.get(table, ()) if key in row and key != column]
    where = f"row {', '.join(keys)}" if keys else "a row"
    if (table, column) == ("orders", "policy_json"):  # read joined with the order
        table, where = "policies", f"the commission policy of the orders {where}"
    table = prefix + table  # the logical name (COLUMNS) as the database names it
    shown = repr(row.get(column))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return LedgerError(
        f"the ledger {path} holds a damaged value: table {table}, {where}, "
        f"{column}={shown} ({expected}); the database was altered outside tuishou: "
        "restore it from a backup (nothing was changed)"
    )


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
