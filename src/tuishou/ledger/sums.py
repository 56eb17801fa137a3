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

from sqlalchemy import case, func, or_
from sqlalchemy.sql.elements import ColumnElement

from tuishou.ledger import schema as t
from tuishou.ledger.models import Bucket, Reason

__all__ = ["balance_columns", "odd_entries", "whole_sums"]


def _bucket_sum(bucket: str) -> ColumnElement[Any]:
    e = t.entries.c
    return func.coalesce(func.sum(case((e.bucket == bucket, e.amount), else_=0)), 0)


def _written_off() -> ColumnElement[Any]:
    e = t.entries.c
    return func.coalesce(func.sum(case((e.reason == "write_off", e.amount), else_=0)), 0)


def balance_columns() -> list[ColumnElement[Any]]:
    """The seven sums of a ``Balance``, in its field order (pending, available, written
    off, withdrawn, fees, held, payable)."""
    return [
        _bucket_sum("pending").label("pending"),
        _bucket_sum("available").label("available"),
        _written_off().label("written_off"),
        _bucket_sum("withdrawn").label("withdrawn"),
        _bucket_sum("fees").label("fees"),
        _bucket_sum("held").label("held"),
        _bucket_sum("payable").label("payable"),
    ]


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
