"""The command line's file options: what each names, ``-`` and ``--format``, and the rule that
no output may overwrite an input. Applied to every command by :class:`FileCommand`.

- **file option**: an option of type :class:`FileArg`: an *input* (must exist) or an
  *output*; a *data* file (CSV, Parquet or JSON Lines, by extension) or another file (a
  policy, an HTML page, a report).
- **``-``**: a data option given ``-`` reads standard input or writes standard output. A
  stream has no extension, so ``--format`` (csv, parquet, jsonl) gives its format, for every
  ``-`` of the command; without ``--format`` it is refused, as is ``--format`` without a
  ``-``. One input at most may be ``-``, one output at most, and Parquet is not written to a
  terminal.
- **overwriting an input**: an output that is an input (the same path once relative paths
  and symbolic links are resolved, or the same file through a hard link) is refused before
  any work, and so are two outputs naming one file. A ``-`` counts too: standard input
  redirected from a regular file (``< orders.csv``) is that file, and standard output
  redirected to one (``> members.csv``, ``>> members.csv``) is that file (compared by device
  and inode, as for hard links). A pipe is no file: what feeds it cannot be known.

Data options reach the command as :class:`tuishou.io.files.DataFile`; other file options as
``Path``. Refusals are usage errors: exit status 2, nothing read or written.

Numbers and dates in options are ASCII too (:class:`AsciiInt`, :class:`AsciiDateTime`):
``int()`` alone would read full-width ``９０``, which files and policies refuse. A date
option without an offset, like a time in a file, is read in the platform's time zone,
``--timezone`` (:func:`timezone_option`, by default ``Asia/Shanghai``).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from tuishou.errors import InvalidFileError
from tuishou.io.files import FORMATS, DataFile
from tuishou.money import digits_problem

__all__ = [
    "AsciiDateTime",
    "AsciiInt",
    "FileArg",
    "FileCommand",
    "TimeZone",
    "format_option",
    "in_zone",
    "same_file",
    "timezone_option",
]

_STREAM = Path("<stream>")  # a data option given "-", until --format is known


class FileArg(click.Path):
    """A file option: an input (``output=False``, must exist) or an output; a ``data`` file
    (format by extension, ``-`` allowed) or not (``-`` refused); with ``folder``, an input
    may be a folder too (a folder of policy versions).

    >>> FileArg(output=False, data=True).convert("-", None, None)
    DataFile(path=PosixPath('<stream>'), suffix='', std=True)
    """

    def __init__(self, *, output: bool, data: bool, folder: bool = False) -> None:
        super().__init__(exists=not output, dir_okay=folder, path_type=Path)
        self.output, self.data = output, data

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, DataFile | Path):
            return value
        if value == "-":
            if not self.data:
                self.fail(
                    "'-' (standard input or output) is only for data files (CSV, "
                    "Parquet, JSON Lines); name the file",
                    param,
                    ctx,
                )
            return DataFile(_STREAM, "", std=True)
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 (surrogate escapes)
            self.fail(f"{str(path)!r} is not a UTF-8 file name; name the file in UTF-8", param, ctx)
        if self.output and not path.absolute().parent.is_dir():
            self.fail(
                f"{str(path)!r} is in a folder that does not exist ({path.parent}); create it "
                "first, or name a file in an existing folder",
                param,
                ctx,
            )
        if not self.data:
            return path
        try:
            return DataFile.of(path)
        except InvalidFileError as exc:
            self.fail(str(exc), param, ctx)


def _ascii(
    kind: click.ParamType[Any], value: Any, param: click.Parameter | None, ctx: click.Context | None
) -> None:
    if isinstance(value, str) and not value.isascii():
        name = (param.name if param is not None else None) or "value"
        kind.fail(digits_problem(value, name=name) or f"{value!r} is not ASCII", param, ctx)


class AsciiInt(click.IntRange):
    """A whole number option written in ASCII digits (``IntRange`` otherwise).

    >>> AsciiInt(min=0).convert("９０", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: value='９０' is not written in ASCII digits; write '90'
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        _ascii(self, value, param, ctx)
        return super().convert(value, param, ctx)


class AsciiDateTime(click.DateTime):
    """A date option written in ASCII digits (``DateTime`` otherwise)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        _ascii(self, value, param, ctx)
        return super().convert(value, param, ctx)


class TimeZone(click.ParamType[tzinfo]):
    """A time zone by its IANA name (``Asia/Shanghai``, ``UTC``), as a ``ZoneInfo``.

    >>> TimeZone().convert("Asia/Shanghai", None, None)
    zoneinfo.ZoneInfo(key='Asia/Shanghai')
    >>> TimeZone().convert("Beijing", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 'Beijing' is not a time zone name; use an IANA name ...
    """

    name = "zone"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tzinfo):
            return value
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.fail(
                f"{value!r} is not a time zone name; use an IANA name such as Asia/Shanghai or UTC",
                param,
                ctx,
            )


def timezone_option(command: Any) -> Any:
    """``--timezone ZONE``: the platform's time zone, where a time written without an offset
    (in a members file, or ``--as-of``) is read; by default Beijing time.

    >>> [p.name for p in timezone_option(click.command()(lambda zone: None)).params]
    ['zone']
    """
    return click.option(
        "--timezone",
        "zone",
        type=TimeZone(),
        default="Asia/Shanghai",
        show_default=True,
        help="The platform's time zone: a time written without an offset, in a file or "
        "--as-of, is read in it.",
    )(command)


def in_zone(moment: datetime | None, zone: tzinfo) -> datetime:
    """``moment`` read in ``zone`` if it has no offset; None is today at 00:00 in ``zone``.

    >>> in_zone(datetime(2026, 11, 24), ZoneInfo("Asia/Shanghai")).isoformat()
    '2026-11-24T00:00:00+08:00'
    >>> in_zone(None, ZoneInfo("UTC")).hour
    0
    """
    if moment is None:
        return datetime.combine(datetime.now(zone).date(), datetime.min.time(), zone)
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=zone)


def format_option(command: Any) -> Any:
    """``--format csv|parquet|jsonl``: the format of every data option given ``-``. A
    :class:`FileCommand` gives it to those options; the command's body does not see it.

    >>> [p.name for p in format_option(click.command()(lambda data_format: None)).params]
    ['data_format']
    """
    return click.option(
        "--format",
        "data_format",
        type=click.Choice(["csv", "parquet", "jsonl"], case_sensitive=False),
        help="Format of standard input or output, for a file given as '-'.",
    )(command)


class FileCommand(click.Command):
    """A command whose file options are checked together before it runs (see the module)."""

    def invoke(self, ctx: click.Context) -> Any:
        _streams(ctx, list(_file_options(self, ctx)))
        _no_overwrite(ctx, list(_file_options(self, ctx)))
        ctx.params.pop("data_format", None)  # said by the data options themselves now
        return super().invoke(ctx)


def same_file(one: Path, other: Path) -> bool:
    """Whether two paths name one file: equal once resolved (relative paths, symbolic links),
    or the same file on disk (a hard link).

    >>> same_file(Path("a/../orders.csv"), Path("orders.csv"))
    True
    """
    if one.resolve() == other.resolve():
        return True
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def _file_options(
    command: click.Command, ctx: click.Context
) -> Iterator[tuple[click.Parameter, FileArg, Any]]:
    """(option, its type, one value) for every file value given; a repeated option once each."""
    for param in command.params:
        value = ctx.params.get(param.name or "")
        if isinstance(param.type, FileArg) and value is not None:
            for one in value if isinstance(value, tuple) else (value,):
                yield param, param.type, one


def _streams(ctx: click.Context, options: list[tuple[click.Parameter, FileArg, Any]]) -> None:
    """Give every ``-`` its format and direction; refuse what cannot work."""
    chosen: str | None = ctx.params.get("data_format")
    dashes = [
        (p, kind)
        for p, kind, value in options
        if isinstance(value, DataFile) and value.path == _STREAM
    ]
    if chosen is not None and not dashes:
        raise click.UsageError(
            "--format gives the format of '-' (standard input or output); "
            "no file is '-' here, and files take the format of their "
            "extension (" + ", ".join(FORMATS) + ")",
            ctx,
        )
    for direction in (False, True):
        named = [p.opts[0] for p, kind in dashes if kind.output is direction]
        if len(named) > 1:
            stream = "output" if direction else "input"
            each = "both" if len(named) == 2 else "all"
            raise click.UsageError(
                f"{' and '.join(named)} are {each} '-'; only one file can be standard {stream}", ctx
            )
    for param, kind in dashes:
        if chosen is None:
            raise click.UsageError(
                f"{param.opts[0]} -: standard {'output' if kind.output else 'input'} has no "
                "extension to tell its format; "
                "give --format csv, parquet or jsonl",
                ctx,
            )
        if kind.output and chosen == "parquet" and sys.stdout.isatty():
            raise click.UsageError(
                f"{param.opts[0]} - --format parquet: Parquet is binary and "
                "standard output is a terminal; redirect it to a file or "
                "a pipe, or name a .parquet file",
                ctx,
            )
        ctx.params[param.name or ""] = (DataFile.stdout if kind.output else DataFile.stdin)(
            f".{chosen}"
        )


def _no_overwrite(ctx: click.Context, options: list[tuple[click.Parameter, FileArg, Any]]) -> None:
    """Refuse an output that names an input, or the file of an earlier output; a ``-``
    redirected from or to a regular file is that file."""
    named = [
        (param, kind.output, value.path if isinstance(value, DataFile) else value)
        for param, kind, value in options
        if not (isinstance(value, DataFile) and value.std)
    ]
    inputs = [(param, path, "input") for param, output, path in named if not output]
    outputs = [(param, path, "output") for param, output, path in named if output]
    for index, (param, path, _) in enumerate(outputs):
        for other, other_path, what in inputs + outputs[:index]:
            if same_file(path, other_path):
                raise click.BadParameter(
                    f"{path} is also the {what} {other.opts[0]} {other_path}; writing it "
                    "would destroy that file: name another file",
                    ctx=ctx,
                    param=param,
                )
    streams = [
        (param, kind.output)
        for param, kind, value in options
        if isinstance(value, DataFile) and value.std
    ]
    for param, output in streams:
        _no_overwrite_through(ctx, param, output, inputs + outputs if output else outputs, streams)


def _no_overwrite_through(
    ctx: click.Context,
    param: click.Parameter,
    output: bool,
    others: list[tuple[click.Parameter, Path, str]],
    streams: list[tuple[click.Parameter, bool]],
) -> None:
    """Refuse a ``-`` whose stream is a regular file that another option names (any file for
    standard output, an output for standard input), or that the other stream is."""
    status = _stream_file(sys.stdout if output else sys.stdin)
    if status is None:
        return
    stream = "standard output goes to" if output else "standard input comes from"
    harm = (
        "writing there would destroy that file"
        if output
        else "writing it would destroy the input read from it"
    )
    for other, other_path, what in others:
        if _is_file(status, other_path):
            raise click.BadParameter(
                f"'-': {stream} {other_path}, the {what} {other.opts[0]}; {harm}: name "
                "another file (or read and write through pipes)",
                ctx=ctx,
                param=param,
            )
    if output:
        for other, other_output in streams:
            reading = None if other_output else _stream_file(sys.stdin)
            if reading is not None and _key(reading) == _key(status):
                raise click.BadParameter(
                    f"'-': standard output goes to the file standard input comes from "
                    f"({other.opts[0]} -); writing it would destroy that input: name "
                    "another file",
                    ctx=ctx,
                    param=param,
                )


def _stream_file(stream: Any) -> os.stat_result | None:
    """The status of the regular file a standard stream is redirected from or to; None for a
    terminal, a pipe, or a stream without a file descriptor.

    >>> import io; _stream_file(io.StringIO()) is None
    True
    """
    try:
        status = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation: no descriptor
        return None
    return status if stat.S_ISREG(status.st_mode) else None


def _key(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def _is_file(status: os.stat_result, path: Path) -> bool:
    try:
        return _key(os.stat(path)) == _key(status)
    except OSError:  # does not exist (yet): not that file
        return False
