"""The ledger's hot statements, compiled once per database and run on the driver's cursor
(``tuishou.ledger.compiled``): the same rows as SQLAlchemy would write, and driver errors
wrapped as SQLAlchemy wraps them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.exc import IntegrityError

from tuishou.ledger.compiled import run
from tuishou.ledger.database import sqlite_engine
from tuishou.ledger.schema import UtcTime

TABLE = Table("hot", MetaData(), Column("n", Integer, primary_key=True), Column("at", UtcTime))
INSERT, SELECT = insert(TABLE), select(TABLE.c.n, TABLE.c.at).order_by(TABLE.c.n)
EAST8 = timezone(timedelta(hours=8))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    if request.param == "sqlite":
        made = sqlite_engine()
    else:
        made = create_engine(request.getfixturevalue("postgres").new_schema_url())
    with made.begin() as connection:
        TABLE.create(connection)
    yield made
    made.dispose()


def test_rows_written_by_run_read_back_as_sqlalchemy_writes_them(engine):
    moment = datetime(2026, 11, 1, 12, tzinfo=EAST8)
    with engine.begin() as connection:
        run(connection, INSERT, [{"n": 1, "at": moment}, {"n": 2, "at": None}])
        connection.execute(insert(TABLE), {"n": 3, "at": moment})
        ours, theirs = run(connection, SELECT).all(), connection.execute(SELECT).all()
    assert ours == [tuple(row) for row in theirs]
    assert ours[0][1] == ours[2][1]  # the same stored form of the same time
    stored = ours[0][1]
    assert stored == "2026-11-01T04:00:00+00:00" or stored == moment.astimezone(UTC)


def test_a_driver_error_comes_out_as_sqlalchemy_wraps_it_and_rolls_back(engine):
    def insert_twice():
        with engine.begin() as connection:
            run(connection, INSERT, {"n": 1, "at": None})
            run(connection, INSERT, {"n": 1, "at": None})

    with pytest.raises(IntegrityError):
        insert_twice()
    with engine.connect() as connection, connection.begin():
        assert run(connection, SELECT).all() == []
