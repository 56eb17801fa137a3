"""The command line's examples in docs/cli.md and README.md, run as the documents show them.

Each ``console`` block is a session: ``$ cat FILE`` writes FILE when no command made it and
checks it otherwise, ``$ tuishou ...`` runs and must print what follows (timings aside).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cli_support import POLICY, run

ROOT = Path(__file__).resolve().parents[1]
BAD_ORDERS = """\
order_id,buyer_id,sharer_id,sku,group,amount,quantity
o-1001,D,,earphones,ecosystem,19999,1
o-1001,D,,phone,xiaomi,999.00,1
o-1002,guest-1,Q,band,toys,24900,2
o-1003,guest-2,,band,xiaomi,24900,1
"""
BAD_POLICY = 'name = "bad"\ntiers = ["member"]\n[group_rates]\nxiaomi = 0.05\n'


def sessions(name):
    """The ``console`` blocks of a document as lists of (command, output)."""
    text = (ROOT / name).read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        # A command may go on over lines ending with a backslash; its output runs to the next.
        steps = re.findall(r"^\$ ((?:.*\\\n)*.*)\n((?:(?!\$ ).*\n)*)", block, flags=re.M)
        found.append([(command.replace("\\\n", " "), output) for command, output in steps])
    return found


def plain(text):
    """Output as the documents show it: no trailing blanks, no timing."""
    return re.sub(
        r"time +[0-9.]+ s", "time", "\n".join(line.rstrip() for line in text.splitlines())
    )


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The input files docs/cli.md shows (with ``cat``), in the working directory: the
    documents name files relative to where they run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")  # rich wraps the reports at the terminal's width
    Path("policy.toml").write_bytes(POLICY.read_bytes())
    Path("bad.csv").write_text(BAD_ORDERS, encoding="utf-8")
    Path("bad.toml").write_text(BAD_POLICY, encoding="utf-8")
    steps = [step for session in sessions("docs/cli.md") for step in session]
    written = {
        word
        for command, _ in steps
        for option, word in zip(shlex.split(command), shlex.split(command)[1:], strict=False)
        if option in ("--out", "--report")
    }
    for command, output in steps:
        words = shlex.split(command)
        if words[0] == "cat" and words[1] not in written:
            Path(words[1]).write_text(output, encoding="utf-8")
    return tmp_path


def replay(capsys, session):
    code = 0
    for command, output in session:
        words = shlex.split(command)
        if words[0] == "cat":
            text = Path(words[1]).read_text(encoding="utf-8")
            assert plain(text) == plain(output), command
        elif words[0] == "echo":
            assert output == f"{code}\n"
        else:
            assert words[0] == "tuishou", command
            code, out, err = run(capsys, *words[1:])
            assert plain(out + err) == plain(output), command


@pytest.mark.parametrize("name", ["docs/cli.md", "README.md"])
def test_every_console_example_prints_what_the_document_shows(folder, capsys, name):
    found = sessions(name)
    assert found, f"{name} has no console example"
    for session in found:
        replay(capsys, session)
