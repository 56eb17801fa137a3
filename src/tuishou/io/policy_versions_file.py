"""Policy versions files: a folder of policy files, one version per file.

Each file is a normal policy file (``.toml`` or ``.json``, see ``load_policy``) with two more
top-level keys:

- ``effective_from`` (required): when the version takes effect, with its offset. In TOML an
  offset date-time (``effective_from = 2026-11-01T00:00:00+08:00``), in JSON ISO text
  (``"2026-11-01T00:00:00+08:00"``). A time without an offset is refused: the folder may
  be read on a machine in another zone, and a switch moved by hours pays orders under the
  wrong rates.
- ``label`` (optional): the version's name, recorded with every settlement; by default the
  file's name without its suffix (``v1.toml`` is version ``v1``).

Files are ordered by ``effective_from``, not by name. Every problem of every file (and
between files: two versions at the same time, tiers that differ) is reported at once.

``load_policy_or_versions(path)``: a file gives a ``Policy``, a folder ``PolicyVersions``
(what the command line's ``--policy`` reads).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from tuishou.errors import InvalidPolicyError
from tuishou.io.policy_file import load_policy, read_policy_data
from tuishou.policy_versions import PolicyVersion, PolicyVersions
from tuishou.rules import Policy
from tuishou.times import utc

__all__ = ["POLICY_SUFFIXES", "load_policy_or_versions", "load_policy_versions"]

POLICY_SUFFIXES = (".toml", ".json")
_EXAMPLE = "effective_from = 2026-11-01T00:00:00+08:00"


def load_policy_or_versions(path: str | Path | Traversable) -> Policy | PolicyVersions:
    """A ``Policy`` from a policy file, or ``PolicyVersions`` from a folder of them.

    >>> import importlib.resources
    >>> data = importlib.resources.files("tuishou") / "data"
    >>> load_policy_or_versions(data / "youpin.toml").name
    'youpin-tuishou'
    >>> load_policy_or_versions(data / "versions").names
    ('v1', 'v2')
    """
    if Path(str(path)).is_dir():
        return load_policy_versions(path)
    return load_policy(path)


def load_policy_versions(folder: str | Path | Traversable) -> PolicyVersions:
    """Read every policy file in ``folder`` as one version (see the module docs).

    Raises ``InvalidPolicyError`` listing every problem, each naming its file: a file that is
    not ``.toml``/``.json``, unreadable TOML or JSON, an invalid policy, a missing or naive
    ``effective_from``, two files at the same time, names used twice, tiers that differ.

    >>> import importlib.resources
    >>> versions = load_policy_versions(importlib.resources.files("tuishou") / "data" / "versions")
    >>> [(v.name, str(v.effective_from), str(v.policy.group_rates["ecosystem"]))
    ...  for v in versions.versions]
    [('v1', '2026-11-01 00:00:00+08:00', '0.2'), ('v2', '2026-12-01 00:00:00+08:00', '0.25')]
    """
    folder = Path(str(folder))
    problems: list[str] = []
    read: list[tuple[Path, PolicyVersion]] = []
    for path in _policy_files(folder, problems):
        version = _read_version(path, problems)
        if version is not None:
            read.append((path, version))
    read.sort(key=lambda item: utc(item[1].effective_from))
    read = _without_same_times(read, problems)
    if not read and not problems:
        problems.append(
            f"{folder}: holds no policy file; put one file per version in it "
            f"({' or '.join(POLICY_SUFFIXES)}, each with its {_EXAMPLE})"
        )
    versions = _versions(read, problems)
    if problems or versions is None:
        raise InvalidPolicyError.from_problems(f"invalid policy versions in {folder}", problems)
    return versions


def _policy_files(folder: Path, problems: list[str]) -> list[Path]:
    """The folder's policy files by name; anything else but hidden files is a problem."""
    if not folder.is_dir():
        problems.append(f"{folder}: is not a folder; give a folder of policy files")
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_file() and path.suffix.lower() in POLICY_SUFFIXES:
            found.append(path)
        else:
            problems.append(
                f"{path}: is not a policy file ({' or '.join(POLICY_SUFFIXES)}); a policy "
                "versions folder holds one policy file per version and nothing else: move it out"
            )
    return found


def _read_version(path: Path, problems: list[str]) -> PolicyVersion | None:
    """One file as a version; its problems are added to ``problems`` (None then)."""
    try:
        data = read_policy_data(path)
    except InvalidPolicyError as exc:
        problems += list(exc.problems)
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: holds a {type(data).__name__}; a policy file holds a table")
        return None
    effective_from = _effective_from(path, data.pop("effective_from", None), problems)
    label = data.pop("label", path.stem)
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data)
    except InvalidPolicyError as exc:
        problems += [f"{path}: {problem}" for problem in exc.problems]
    if effective_from is None or policy is None:
        return None
    try:
        return PolicyVersion(effective_from=effective_from, policy=policy, label=label)
    except InvalidPolicyError as exc:
        problems += [f"{path}: {problem}" for problem in exc.problems]
        return None


def _effective_from(path: Path, value: Any, problems: list[str]) -> datetime | None:
    """The file's ``effective_from`` as an aware datetime, else a problem and None."""
    way_out = f"write it with its offset, e.g. {_EXAMPLE} (in JSON as ISO text)"
    if value is None:
        problems.append(f"{path}: effective_from is missing; {way_out}")
        return None
    if isinstance(value, str):
        if re.search(r"[.,][0-9]{7,}", value):  # fromisoformat would cut it to microseconds
            problems.append(
                f"{path}: effective_from={value!r} is finer than a microsecond; tuishou keeps "
                f"times to the microsecond: {way_out}"
            )
            return None
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            problems.append(f"{path}: effective_from={value!r} is not an ISO time; {way_out}")
            return None
    if not isinstance(value, datetime):
        kind = "a date without a time" if isinstance(value, date) else f"a {type(value).__name__}"
        problems.append(f"{path}: effective_from={value!r} is {kind}; {way_out}")
        return None
    if value.utcoffset() is None:
        problems.append(
            f"{path}: effective_from={value.isoformat()} has no offset, so the time it takes "
            f"effect depends on where it is read; {way_out}"
        )
        return None
    return value


def _without_same_times(
    read: list[tuple[Path, PolicyVersion]], problems: list[str]
) -> list[tuple[Path, PolicyVersion]]:
    """Drop (and report) files taking effect at the same instant as an earlier one."""
    kept: list[tuple[Path, PolicyVersion]] = []
    for path, version in read:
        if kept and utc(kept[-1][1].effective_from) == utc(version.effective_from):
            problems.append(
                f"{path}: effective_from={version.effective_from.isoformat()} is the time of "
                f"{kept[-1][0]} too; one version takes effect at a time: change one of them"
            )
            continue
        kept.append((path, version))
    return kept


def _versions(read: list[tuple[Path, PolicyVersion]], problems: list[str]) -> PolicyVersions | None:
    """The versions, their cross-file problems (names, tiers) named by file."""
    if not read:
        return None
    try:
        return PolicyVersions(versions=tuple(version for _, version in read))
    except InvalidPolicyError as exc:
        names = [str(path) for path, _ in read]
        problems += [
            re.sub(r"versions\.(\d+)", lambda found: names[int(found[1])], problem)
            for problem in exc.problems
        ]
        return None
