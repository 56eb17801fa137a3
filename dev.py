#!/usr/bin/env python3
"""Set up and run tuishou on a fresh machine with nothing but Python >= 3.11.

    python3 dev.py demo    # create .venv, install tuishou[cli], run the demo on the example data
    python3 dev.py test    # the same, with dev tools; then ruff (format, lint), the import
                           # layers, mypy --strict and pytest

Extra arguments are passed on (``python3 dev.py test -k settle``).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
PYTHON = BIN / ("python.exe" if sys.platform == "win32" else "python")


def ensure_installed(extra: str) -> None:
    """Create the virtual environment and (re)install when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py may be run by an older python3)
        sys.exit(f"tuishou needs Python >= 3.11; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extra}]" if extra else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + target.encode()).hexdigest()
    stamp = VENV / "tuishou-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing tuishou{target[1:]} into {VENV} ...", flush=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target)
    stamp.write_text(digest)


def run(*command: object) -> None:
    completed = subprocess.run([str(part) for part in command], cwd=ROOT, check=False)
    if completed.returncode:
        sys.exit(completed.returncode)


def main(argv: list[str]) -> None:
    task, rest = (argv[0], argv[1:]) if argv else ("", [])
    if task == "demo":
        ensure_installed("cli")  # the `tuishou` command needs click and rich
        run(PYTHON, "-m", "tuishou", "demo", *rest)
    elif task == "test":
        ensure_installed("dev")
        run(PYTHON, "-m", "ruff", "format", "--check", ".")
        run(PYTHON, "-m", "ruff", "check", ".")
        run(BIN / "lint-imports")  # the layers of docs/architecture.md (contracts in pyproject)
        run(PYTHON, "-m", "mypy")
        run(PYTHON, "-m", "pytest", "-q", *rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
