"""Hypothesis profiles for the suite, and the session's PostgreSQL server (``postgres``).

Profiles: ``default`` on every run, ``thorough`` before a release.

Select one with ``HYPOTHESIS_PROFILE=thorough`` or pytest's ``--hypothesis-profile=thorough``.
``thorough`` draws ten times as many examples: in property tests that set no count of their
own (hypothesis' default of 100 becomes 1 000), and in those that scale theirs with
``helpers.examples`` (the differential tests, tests/test_differential.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from postgres_server import PostgresServer, ServerUnavailableError, start_server

THOROUGH = 10  # times the default number of examples

settings.register_profile(
    "thorough", max_examples=THOROUGH * settings.get_profile("default").max_examples
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# A real PostgreSQL server for the tests that ask for the `postgres` fixture: one per session,
# started on first use (tests/postgres_server.py). Where none can be started, those tests skip
# and the terminal summary says why in a banner; under CI=true they fail instead.

POSTGRES_PROBLEMS: list[str] = []


def ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's throwaway PostgreSQL server: ``.url``, ``.new_schema_url()``, ``.version``."""
    try:
        server = start_server(durable=False)
    except ServerUnavailableError as error:
        problem = f"no PostgreSQL server for the tests that need one: {error}"
    else:
        with server:
            yield server
        return
    POSTGRES_PROBLEMS.append(problem)  # outside the except: no chained traceback in the report
    if ci():
        pytest.fail(f"{problem}\n(CI=true: failing instead of skipping)", pytrace=False)
    pytest.skip(problem)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for message in POSTGRES_PROBLEMS:
        terminalreporter.section("PostgreSQL tests did not run", sep="!", red=True, bold=True)
        terminalreporter.write_line(message, red=True)
        outcome = "FAILED (CI=true)" if ci() else "were SKIPPED"
        terminalreporter.write_line(f"The tests using the `postgres` fixture {outcome}.")
