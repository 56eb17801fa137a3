"""Reading and writing tables and files: CSV, Parquet, JSON Lines, policy TOML and JSON.

- :mod:`~tuishou.io.files`, :mod:`~tuishou.io.cells`: a file read column by column, every bad
  cell named with its file, line and value; :mod:`~tuishou.io.readers`: one file's raw
  columns, per format;
- :mod:`~tuishou.io.checks`, :mod:`~tuishou.io.inputs`, :mod:`~tuishou.io.roster_files`:
  members, orders, rosters and mappings turned into the library's objects;
- :mod:`~tuishou.io.output`: atomic writes; :mod:`~tuishou.io.jsontext`: JSON that refuses
  a repeated key, NaN, a number too long, a lone surrogate;
  :mod:`~tuishou.io.policy_file`: ``load_policy``.

Tables need the ``cli`` extra (pyarrow); ``load_policy`` needs nothing more than the core.
"""
