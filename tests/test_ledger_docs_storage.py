"""docs/ledger.md runs: the backend example in "On PostgreSQL, and inside the backend's
transaction" posts an order in the backend's own transaction, on SQLite as written and on
PostgreSQL with the session server's URL in place of the example's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tuishou import Ledger

DOCS = Path(__file__).resolve().parents[1] / "docs" / "ledger.md"
SECTION = "## On PostgreSQL, and inside the backend's transaction"
EXAMPLE_URL = "postgresql+psycopg://shop:password@db:5432/shop"


def blocks() -> list[str]:
    """The python blocks of the section (up to the next ``## `` heading)."""
    docs = DOCS.read_text(encoding="utf-8")
    section = docs[docs.index(SECTION) :]
    section = section[: section.find("\n## ", len(SECTION))]
    found = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(found) == 2, "the section's python examples moved: update this test"
    return found


@pytest.fixture
def sqlite_example() -> Iterator[dict[str, object]]:
    namespace: dict[str, object] = {"__name__": "docs_ledger"}
    exec(compile(blocks()[0], str(DOCS), "exec"), namespace)
    yield namespace
    namespace["engine"].dispose()


def test_the_sqlite_example_commits_the_backends_write_and_the_post_together(sqlite_example):
    engine = sqlite_example["engine"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT * FROM shop_orders")).all() == [("o1", 10000)]
    with Ledger.open(engine) as ledger:
        assert [(e.member_id, e.amount) for e in ledger.entries()] == [("A", 500)]


def test_the_postgresql_variant_runs_on_a_real_server(sqlite_example, postgres):
    url = postgres.new_schema_url()
    sqlite_example["engine"].dispose()  # the variant binds `engine` to its own
    variant = blocks()[1]
    assert EXAMPLE_URL in variant
    exec(compile(variant.replace(EXAMPLE_URL, url), str(DOCS), "exec"), sqlite_example)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT * FROM shop_orders")).all() == [("o1", 10000)]
        with Ledger.open(engine) as ledger:
            assert ledger.balance("A").pending == 500
    finally:
        engine.dispose()
