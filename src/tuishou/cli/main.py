"""The ``tuishou`` command line: settle, explain, validate and migrate over real files, and demo.

The commands live in ``tuishou.cli.app`` and the modules it registers (click, rich and
pyarrow, from the ``cli`` extra); this module only runs them, so that without the extra
``tuishou`` can still say what to install. Exit status:

- 0: done;
- 1: a file could not be read or written (the operating system's reason is shown);
- 2: bad input or usage. Errors tuishou raises on purpose (``TuishouError``) are printed as
  ``tuishou: error: <message>``, listing every problem found; usage errors as click prints
  them. Nothing is written then.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tuishou.errors import TuishouError

__all__ = ["main"]

_EXTRA = ("click", "rich", "pyarrow", "pandas")  # what ``pip install 'tuishou[cli]'`` brings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    >>> main(["demo", "--members", "0"])
    2
    """
    try:
        from tuishou.cli.app import app
    except ImportError as exc:
        if exc.name not in _EXTRA:
            raise
        print(
            f"tuishou: error: the command line needs {exc.name}, which is not installed: "
            "pip install 'tuishou[cli]'",
            file=sys.stderr,
        )
        return 2
    import click

    try:
        code = app.main(
            args=list(argv) if argv is not None else None,
            prog_name="tuishou",
            standalone_mode=False,
        )
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    except TuishouError as exc:
        print(f"tuishou: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"tuishou: error: {exc}", file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0
