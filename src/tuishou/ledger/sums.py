"""Balances summed by the database: the seven sums of a ``Balance`` as SQL expressions.

A balance is the sum of a member's entries per bucket (docs/ledger.md): the database adds
them up (``SUM`` with ``CASE``), so no history is loaded into Python. ``odd_entries`` counts
entries whose values the ledger never writes (an unknown bucket or reason, an amount that is
not a whole number: text or real on SQLite), which would otherwise add up silently;
``whole_sums`` turns a row of sums into ints, or None when something is odd (the caller then
reads the rows, so the damaged one is named). PostgreSQL sums ``bigint`` exactly as
``numeric``; SQLite refuses a sum beyond 64 bits, which comes out as a ``LedgerError``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, get_args

from sqlalchemy import and_, case, func, or_
from sqlalchemy.sql.elements import ColumnElement

from tuishou.ledger import schema as t
from tuishou.ledger.models import Bucket, Reason

__all__ = ["balance_columns", "odd_entries", "whole_sums"]


def _sum_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    e = t.entries.c
    return func.coalesce(func.sum(case((condition, e.amount), else_=0)), 0)


def balance_columns(
    where: ColumnElement[bool] | None = None, *, prefix: str = ""
) -> list[ColumnElement[Any]]:
    """The seven sums of a ``Balance``, in its field order (pending, available, written
    off, withdrawn, fees, held, payable), each labelled ``prefix + field``.

    With ``where`` (e.g. ``entries.c.at < start``), only the entries meeting it are summed:
    several balances (as of different times) can come from one pass over the entries.
    """
    e = t.entries.c

    def chosen(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return condition if where is None else and_(where, condition)

    sums = [(bucket, chosen(e.bucket == bucket)) for bucket in ("pending", "available")]
    sums.append(("written_off", chosen(e.reason == "write_off")))
    sums += [(bucket, chosen(e.bucket == bucket)) for bucket in _LATER_BUCKETS]
    return [_sum_where(condition).label(prefix + name) for name, condition in sums]


_LATER_BUCKETS = ("withdrawn", "fees", "held", "payable")


def odd_entries() -> ColumnElement[Any]:
    """How many entries have a bucket or reason the ledger never writes, or an amount that
    is not a whole number (text or real on SQLite: they would add up silently)."""
    e = t.entries.c
    odd = or_(
        e.bucket.not_in(get_args(Bucket)),
        e.reason.not_in(get_args(Reason)),
        e.amount != func.round(e.amount),
    )
    return func.coalesce(func.sum(case((odd, 1), else_=0)), 0)


def whole_sums(row: Any) -> list[int] | None:
    """The sums as ints; None when a stored value is not what the ledger writes (an
    amount that is not a whole number, an unknown bucket or reason)."""
    *values, unknown = list(row)
    if unknown or not all(isinstance(v, int | Decimal) and v == int(v) for v in values):
        return None
    return [int(value) for value in values]
