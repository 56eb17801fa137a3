"""docs/operations.md, run as it is written: the worked month from the command line (every
command prints what the page shows) and from Python (the same figures, the same statement)."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from test_cli_docs import plain, replay, sessions
from test_worked_month import NOVEMBER_BY_HAND

ROOT = Path(__file__).resolve().parents[1]
PAGE = "docs/operations.md"


@pytest.fixture
def month(tmp_path, monkeypatch, capsys):
    """The page's console sessions replayed in a fresh folder (its files written by `cat`)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    found = sessions(PAGE)
    steps = [step for session in found for step in session]
    written = {
        word
        for command, _ in steps
        for option, word in zip(shlex.split(command), shlex.split(command)[1:], strict=False)
        if option == "--out"
    }
    for command, output in steps:
        words = shlex.split(command)
        if words[0] == "cat" and words[1] not in written:
            Path(words[1]).parent.mkdir(parents=True, exist_ok=True)
            Path(words[1]).write_text(output, encoding="utf-8")
    for session in found:
        replay(capsys, session)
    return found


def python_block():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / PAGE).read_text("utf-8"), flags=re.S)
    assert len(blocks) == 1, "the page's python example moved: update this test"
    return blocks[0]


def test_the_command_line_month_prints_what_the_page_shows(month):
    assert len(month) == 3  # the files, the month, one statement
    assert Path("李四-2026-11.html").read_text("utf-8").startswith("<!doctype html>")


def test_the_python_month_has_the_figures_of_the_command_line(month):
    printed = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(printed):
        exec(python_block(), namespace)  # the page's code, as a user runs it
    shown = dict(month[2])  # command -> output
    cli = next(out for cmd, out in shown.items() if "statement month.db --member 李四" in cmd)
    explained = next(out for cmd, out in shown.items() if "explain" in cmd)
    assert plain(printed.getvalue()).strip() in (
        plain(cli).strip() + "\n" + plain(explained).strip(),
        plain(cli).strip() + "\n\n" + plain(explained).strip(),
    )
    frame = namespace["statements"].set_index("member_id")
    for member, (_, earned, *_, closing, due) in NOVEMBER_BY_HAND.items():
        row = frame.loc[member]
        assert (row["earned"], row["closing_pending"], row["closing_available"]) == (
            earned,
            closing[0],
            closing[1],
        )
        assert due == closing[0]
    cli_rows = Path("november.csv").read_text("utf-8").splitlines()
    assert cli_rows[0].split(",") == ["member_id", *map(str, frame.columns)]
    for line in cli_rows[1:]:
        member, *values = line.split(",")
        assert [str(v) for v in frame.loc[member].tolist()] == values
