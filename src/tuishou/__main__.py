"""``python -m tuishou``: the same command line as the ``tuishou`` script."""

from tuishou.cli.main import main

raise SystemExit(main())
