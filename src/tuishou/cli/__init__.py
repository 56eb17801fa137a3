"""The ``tuishou`` command line (extra ``cli``): settle, explain, validate, compare, migrate,
ledger, demo.

- :mod:`~tuishou.cli.main`: the entry point, which says what to install without the extra;
- :mod:`~tuishou.cli.app`: the click commands; :mod:`~tuishou.cli.migrate`: ``tuishou migrate``;
- :mod:`~tuishou.cli.ledger`: ``tuishou ledger ...`` (with :mod:`~tuishou.cli.ledger_post`,
  :mod:`~tuishou.cli.ledger_withdrawals`, :mod:`~tuishou.cli.ledger_periods`,
  :mod:`~tuishou.cli.ledger_bonus`);
- :mod:`~tuishou.cli.files`: file options;
- :mod:`~tuishou.cli.report`: what the commands print (rich);
- :mod:`~tuishou.cli.demo`: the example data and summary behind ``tuishou demo``.
"""
