"""``python -m tuishou``: the same command line as the ``tuishou`` script."""

from .cli import main

raise SystemExit(main())
