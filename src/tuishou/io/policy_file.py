"""Policy files: a ``Policy`` read from TOML or JSON (rates written as strings).

``read_policy_data`` reads a file's content without validating it (the policy versions
loader, ``tuishou.io.policy_versions_file``, takes its own keys out first).

Every text file tuishou reads is UTF-8, with or without a BOM, and a key named twice is
refused (TOML forbids it; in JSON it would silently keep the last value).
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from tuishou.errors import InvalidPolicyError
from tuishou.io import jsontext
from tuishou.rules import Policy

__all__ = ["load_policy", "read_policy_data"]


def load_policy(path: str | Path | Traversable) -> Policy:
    """Read a policy from a ``.toml`` or ``.json`` file (rates as strings: "0.05").

    The file is UTF-8, with or without a BOM (as for every text file tuishou reads). A key
    named twice is refused in both formats (TOML forbids it; in JSON it would silently keep
    the last value). A file with an ``effective_from`` is one version of a policy versions
    folder: refused, pointing to ``load_policy_versions``.

    >>> import importlib.resources
    >>> load_policy(importlib.resources.files("tuishou") / "data" / "youpin.toml").name
    'youpin-tuishou'
    """
    data = read_policy_data(path)
    if isinstance(data, dict) and "effective_from" in data:
        folder = Path(str(path)).parent
        raise InvalidPolicyError(
            f"{path}: has an effective_from, so it is one version of a policy versions folder; "
            f"load the folder {str(folder)!r} with load_policy_versions (on the command line: "
            "--policy FOLDER), or remove effective_from (and label) to use it as one policy"
        )
    return Policy.model_validate(data)


def read_policy_data(path: str | Path | Traversable) -> Any:
    """The content of a ``.toml`` or ``.json`` policy file, not yet validated.

    Raises ``InvalidPolicyError`` naming the file for another suffix, text that is not UTF-8,
    and invalid TOML or JSON (a repeated key included); ``OSError`` when it cannot be read.

    >>> import importlib.resources
    >>> read_policy_data(importlib.resources.files("tuishou") / "data" / "youpin.toml")["tiers"]
    ['member', 'pusher', 'mentor', 'senior_advisor']
    """
    path = Path(str(path))
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise InvalidPolicyError(
            f"{path}: unknown policy format {path.suffix!r}; use .toml or .json"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidPolicyError(f"{path}: is not UTF-8 text; save it as UTF-8") from None
    if suffix == ".json":
        try:
            data = jsontext.loads(text)
        except ValueError as exc:  # json.JSONDecodeError, jsontext.RefusedJsonError
            raise InvalidPolicyError(f"{path}: invalid JSON: {exc}") from None
        return data
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidPolicyError(f"{path}: not valid TOML: {exc}") from None
    except ValueError:  # tomllib lets int() say a number is too long, in Python's words
        raise InvalidPolicyError(f"{path}: not valid TOML: {_long_number(text)}") from None
    return data


def _long_number(text: str) -> str:
    """What tomllib could not read: the first number longer than Python reads, shortened.

    >>> print(_long_number("a = 1\\nmax_generation = " + "9" * 5000))  # doctest: +ELLIPSIS
    line 2: the number 9999999999…9999999999 has 5,000 digits, more than the 4,300 a number ...
    """
    most = sys.get_int_max_str_digits()
    for number, line in enumerate(text.splitlines(), 1):
        for found in re.finditer(r"[0-9_]+", line):
            digits = found[0].replace("_", "")
            if len(digits) > most:
                return (
                    f"line {number}: the number {digits[:10]}…{digits[-10:]} has "
                    f"{len(digits):,} digits, more than the {most:,} a number may have"
                )
    return f"a number has more than the {most:,} digits a number may have"
