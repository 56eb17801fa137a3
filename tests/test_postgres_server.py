"""The throwaway PostgreSQL server of tests/postgres_server.py, through SQLAlchemy and psycopg."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from postgres_server import PostgresServer, server_major


def test_the_server_answers_as_postgresql(postgres: PostgresServer) -> None:
    engine = create_engine(postgres.url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version()")).scalar_one()
        fsync = connection.execute(text("SHOW fsync")).scalar_one()
    engine.dispose()
    assert version == postgres.version
    assert (server_major(version) or 0) >= 15, version  # Debian 12 ships 15; newer will do
    assert fsync == "off"  # durable=False: the tests' server skips the disk flushes


def test_each_new_schema_url_is_an_empty_schema_of_its_own(postgres: PostgresServer) -> None:
    first, second = (create_engine(postgres.new_schema_url()) for _ in range(2))
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE items (n integer)"))  # unqualified: search_path
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        (where,) = connection.execute(
            text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'items'")
        ).one()
    assert schema == where
    assert schema.startswith("t_")
    with second.connect() as connection:
        assert connection.execute(text("SELECT current_schema()")).scalar_one() != schema
        with pytest.raises(ProgrammingError, match="items"):
            connection.execute(text("SELECT * FROM items"))
    first.dispose()
    second.dispose()


def test_two_engines_share_committed_rows(postgres: PostgresServer) -> None:
    url = postgres.new_schema_url()
    writer, reader = create_engine(url), create_engine(url)
    with writer.begin() as connection:
        connection.execute(text("CREATE TABLE items (n integer)"))
        connection.execute(text("INSERT INTO items VALUES (1), (2)"))
    with reader.connect() as connection:
        assert connection.execute(text("SELECT sum(n) FROM items")).scalar_one() == 3
        reader_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with writer.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != reader_pid
    writer.dispose()
    reader.dispose()
