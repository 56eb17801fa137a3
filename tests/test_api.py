"""The public API: an explicit, sorted ``__all__``, every name documented with an example."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import tuishou
import tuishou.testing

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_matches_the_public_names():
    assert list(tuishou.__all__) == sorted(tuishou.__all__)
    public = {name for name in dir(tuishou) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(tuishou, name))}
    assert public - modules == set(tuishou.__all__)


def test_every_public_name_has_a_docstring():
    missing = [name for name in tuishou.__all__ if not inspect.getdoc(getattr(tuishou, name))]
    assert missing == []


def test_every_public_function_has_a_runnable_example():
    functions = [name for name in tuishou.__all__ if inspect.isfunction(getattr(tuishou, name))]
    without = [name for name in functions if ">>>" not in (getattr(tuishou, name).__doc__ or "")]
    assert without == []


def test_errors_share_one_root_and_a_builtin():
    errors = [
        getattr(tuishou, name)
        for name in tuishou.__all__
        if name.endswith("Error") and name not in ("TuishouError", "ProblemsError")
    ]
    for error in errors:
        assert issubclass(error, tuishou.TuishouError)
        assert issubclass(error, ValueError | KeyError | TypeError), error
    # ProblemsError is a base to catch, like the root: every error it covers is a ValueError
    covered = [error for error in errors if issubclass(error, tuishou.ProblemsError)]
    assert covered
    assert all(issubclass(error, ValueError) for error in covered)


def test_the_readme_quick_tour_runs_and_prints_what_the_readme_shows(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # Each block padded to its own lines, so tracebacks and tools that read the source of
    # a function defined there (hypothesis does, via linecache) see README.md's real lines.
    blocks = [
        "\n" * readme.count("\n", 0, match.start(1)) + match[1]
        for match in re.finditer(r"```python\n(.*?)```", readme, flags=re.S)
    ]
    assert len(blocks) == 10, "the README's python examples moved: update this test"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    shown = re.findall(r"```text\n(.*?)```", readme, flags=re.S)[0]
    assert capsys.readouterr().out == shown
    for block in blocks[1:]:  # the tour goes on with the same tree
        exec(compile(block, "README.md", "exec"), namespace)
    namespace["test_every_order_keeps_the_invariants"]()  # "Testing your policy" defines it


def test_a_long_list_of_problems_is_summarised_in_the_message_but_kept_whole():
    problems = [f"record {i}: bad" for i in range(250)]
    error = tuishou.InvalidTreeError.from_problems("invalid tree", problems)
    assert error.problems == tuple(problems)
    assert "  100. record 99: bad" in str(error)
    assert "record 100: bad" not in str(error)
    assert str(error).endswith("... and 150 more: see the error's .problems")


@pytest.mark.parametrize(
    "error",
    [
        tuishou.InvalidTreeError,
        tuishou.InvalidFileError,
        tuishou.InvalidOrderError,
        tuishou.MigrationError,
    ],
)
def test_a_long_problem_is_cut_in_the_message_and_kept_whole(error):
    problem = "inviter_id='A' is not a member; known: " + "x" * 6000
    raised = error.from_problems("bad input", [problem, "a.csv, line 2: amount=1.5"])
    assert len(str(raised)) < 500
    cut = f"[{len(problem)} characters; the whole problem is in the error's .problems]"
    assert cut in str(raised)
    assert raised.problems == (problem, "a.csv, line 2: amount=1.5")


def test_the_testing_api_is_explicit_sorted_and_documented():
    names = tuishou.testing.__all__
    assert list(names) == sorted(names)
    public = {name for name in dir(tuishou.testing) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(tuishou.testing, name))}
    assert public - modules == set(names)
    assert not set(names) & set(tuishou.__all__)  # an extra: kept out of the core API


@pytest.mark.parametrize("name", tuishou.testing.__all__)
def test_every_testing_name_is_documented_and_every_function_has_an_example(name):
    value = getattr(tuishou.testing, name)
    if inspect.isfunction(value) or inspect.isclass(value):
        assert inspect.getdoc(value)
    if inspect.isfunction(value):
        assert ">>>" in (value.__doc__ or "")
