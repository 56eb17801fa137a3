"""Reading and writing tables and files: CSV, Parquet, JSON Lines, policy TOML and JSON.

- :mod:`~tuishou.io.files`, :mod:`~tuishou.io.cells`: a file read column by column, every bad
  cell named with its file, line and value; :mod:`~tuishou.io.readers`: one file's raw
  columns, per format;
- :mod:`~tuishou.io.checks`, :mod:`~tuishou.io.inputs`, :mod:`~tuishou.io.roster_files`:
  members, orders, rosters and mappings turned into the library's objects;
  :mod:`~tuishou.io.binding_files`: ``load_bindings`` (customer bindings, imported on first
  use: it needs pyarrow);
- :mod:`~tuishou.io.output`: atomic writes; :mod:`~tuishou.io.jsontext`: JSON that refuses
  a repeated key, NaN, a number too long, a lone surrogate;
  :mod:`~tuishou.io.policy_file`: ``load_policy``;
  :mod:`~tuishou.io.policy_versions_file`: ``load_policy_versions`` (a folder, one version per
  file) and ``load_policy_or_versions`` (a file or a folder, as ``--policy`` takes it).

Tables need the ``cli`` extra (pyarrow); the policy loaders need nothing more than the core.
"""

from typing import Any as _Any

from tuishou.io.policy_file import load_policy
from tuishou.io.policy_versions_file import load_policy_or_versions, load_policy_versions

__all__ = ["load_bindings", "load_policy", "load_policy_or_versions", "load_policy_versions"]


def __getattr__(name: str) -> _Any:
    """``load_bindings`` on first use (PEP 562): tables need pyarrow, the policy loaders not."""
    if name == "load_bindings":
        from tuishou.io.binding_files import load_bindings

        return load_bindings
    raise AttributeError(f"module 'tuishou.io' has no attribute {name!r}")
