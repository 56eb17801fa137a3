"""A throwaway PostgreSQL server on loopback, for the ledger's tests and for benchmarks.

    with running_server() as server:            # initdb + pg_ctl start, in a fresh /tmp folder
        engine = create_engine(server.new_schema_url())   # an empty schema of its own
        ...
                                                # pg_ctl stop -m immediate, folder removed

The binaries are found by :func:`find_bindir`: ``$TUISHOU_PG_BINDIR`` if set (tests set it to
a missing folder to see the "no server" path), else ``/usr/lib/postgresql/<version>/bin``
(15 preferred, else the newest), else ``pg_config --bindir``, else ``initdb`` on PATH.
``initdb`` and ``pg_ctl`` refuse to run as root: as root they run as the ``postgres`` user
through ``runuser``. Anything missing raises :class:`ServerUnavailableError`, whose message
names it and how to install it.

The server trusts every local connection (``--auth=trust``), listens on 127.0.0.1 only, on a
free port, with its socket in its own folder. ``durable=False`` (the tests) turns fsync,
synchronous commit and full-page writes off; ``durable=True`` (benchmarks) keeps PostgreSQL's
defaults. Each test takes a schema of its own (``CREATE SCHEMA``, about a millisecond), not a
database of its own (``CREATE DATABASE`` copies a template: far slower).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

BINDIR_VARIABLE = "TUISHOU_PG_BINDIR"
PREFERRED_MAJOR = 15
SERVICE_USER = "postgres"  # the server runs as this user when we are root
INSTALL = "install PostgreSQL: `apt-get install postgresql` (Debian/Ubuntu)"
DRIVER_INSTALL = "install the driver: `pip install -e '.[postgresql]'` (psycopg 3)"
START_TIMEOUT = 60  # seconds that pg_ctl -w waits for the server to accept connections
PORT_TRIES = 3  # a free port found may be taken by someone else before the server binds it


class ServerUnavailableError(RuntimeError):
    """No PostgreSQL server can be started here; the message says what is missing and the fix."""


def find_bindir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``; see the module's docstring."""
    override = os.environ.get(BINDIR_VARIABLE)
    if override is not None:
        if _has_server_binaries(Path(override)):
            return Path(override)
        raise ServerUnavailableError(
            f"{BINDIR_VARIABLE}={override} holds no initdb, pg_ctl and postgres; "
            f"unset it or {INSTALL}"
        )
    versioned: list[tuple[float, Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        with contextlib.suppress(ValueError):
            if _has_server_binaries(bindir):
                versioned.append((float(bindir.parent.name), bindir))
    if versioned:
        preferred = [bindir for major, bindir in versioned if major == PREFERRED_MAJOR]
        return preferred[0] if preferred else max(versioned)[1]
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        completed = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        bindir = Path(completed.stdout.strip())
        if completed.returncode == 0 and _has_server_binaries(bindir):
            return bindir
    initdb = shutil.which("initdb")
    if initdb is not None and _has_server_binaries(Path(initdb).resolve().parent):
        return Path(initdb).resolve().parent
    raise ServerUnavailableError(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in /usr/lib/postgresql/*/bin, "
        f"at `pg_config --bindir` or on PATH; {INSTALL}"
    )


def _has_server_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One running server: ``url`` (the ``postgres`` database), ``new_schema_url()``, ``stop()``.

    Made by :func:`start_server` or :func:`running_server`, not directly.
    """

    def __init__(self, bindir: Path, folder: Path, port: int, durable: bool) -> None:
        self.bindir = bindir
        self.folder = folder  # the temporary folder: data/, server.log, the unix socket
        self.port = port
        self.durable = durable
        self.host = "127.0.0.1"
        self.version = ""  # the server's `SELECT version()`, filled in once it answers
        self._schemas = itertools.count(1)
        self._lock = threading.Lock()
        self._admin: Any = None  # a psycopg connection in autocommit, for CREATE SCHEMA
        self._stopped = False

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``postgres`` database, as the ``postgres`` superuser."""
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<PostgresServer {state} {self.url} in {self.folder}>"

    def conninfo(self) -> str:
        """The libpq form of ``url``, for psycopg or ``psql`` directly."""
        return f"host={self.host} port={self.port} user=postgres dbname=postgres"

    def new_schema(self) -> str:
        """Create an empty schema ``t_<n>`` (n counts up from 1) and return its name."""
        with self._lock:
            if self._stopped:
                raise RuntimeError(f"{self!r}: no new schema on a stopped server")
            name = f"t_{next(self._schemas)}"
            self._admin.execute(f'CREATE SCHEMA "{name}"')
        return name

    def schema_url(self, schema: str) -> str:
        """``url`` whose connections have ``search_path`` set to ``schema`` (and nothing else).

        Unqualified names, ``CREATE TABLE`` included, go to that schema: psycopg passes the
        URL's ``options`` to the server as ``-c search_path=...`` at connection time.
        """
        return f"{self.url}?options={quote(f'-csearch_path={schema}', safe='')}"

    def new_schema_url(self) -> str:
        """A SQLAlchemy URL on a fresh, empty schema: one per test, isolated from the others."""
        return self.schema_url(self.new_schema())

    def stop(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``) and remove its folder.

        Safe to call twice; also called at interpreter exit for a server left running.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            if self._admin is not None:
                self._admin.close()
                self._admin = None
        try:
            if (self.data / "postmaster.pid").exists():
                _run_as_service_user(
                    [self.bindir / "pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w"],
                    check=False,
                )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            atexit.unregister(self.stop)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_server(durable: bool = False) -> PostgresServer:
    """initdb a fresh cluster in a new temporary folder and start it; see the module's docstring.

    Raises :class:`ServerUnavailableError` when that cannot be done here. Stopping the server
    it returns is the caller's (or atexit's) job: :func:`running_server` does it on leaving.
    """
    bindir = find_bindir()
    as_root = os.geteuid() == 0
    if as_root:
        if shutil.which("runuser") is None:
            raise ServerUnavailableError(
                "running as root, and initdb/pg_ctl refuse root, but `runuser` (util-linux) "
                f"is missing to run them as {SERVICE_USER}; apt-get install util-linux"
            )
        try:
            service = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise ServerUnavailableError(
                f"running as root, and initdb/pg_ctl refuse root, but there is no "
                f"{SERVICE_USER!r} user to run them as; {INSTALL} (it creates that user)"
            ) from None
    # Short and world-traversable: the unix socket's path must stay under ~100 bytes, and the
    # postgres user must reach the folder when we are root (a TMPDIR under /root would not do).
    folder = Path(tempfile.mkdtemp(prefix="tuishou-pg-", dir="/tmp" if as_root else None))
    folder.chmod(0o755)
    if as_root:
        os.chown(folder, service.pw_uid, service.pw_gid)
    server = PostgresServer(bindir, folder, free_port(), durable)
    try:
        _initdb(server)
        _start(server)
        _connect(server)
    except BaseException:
        server.stop()
        raise
    atexit.register(server.stop)  # in case the caller never does (an interrupted session)
    return server


@contextlib.contextmanager
def running_server(durable: bool = False) -> Iterator[PostgresServer]:
    """``with running_server() as server:`` start a throwaway server, stop it on leaving."""
    server = start_server(durable=durable)
    try:
        yield server
    finally:
        server.stop()


def _initdb(server: PostgresServer) -> None:
    completed = _run_as_service_user(
        [
            server.bindir / "initdb",
            "-D",
            server.data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",  # the same sort order everywhere, whatever the machine's locale
            "--no-sync",
        ],
        check=False,
    )
    if completed.returncode:
        raise ServerUnavailableError(
            f"{server.bindir / 'initdb'} failed (exit {completed.returncode}):\n"
            f"{completed.stdout}{completed.stderr}"
        )
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{server.folder}'",
        "max_connections": "100",
    }
    if not server.durable:
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    with (server.data / "postgresql.conf").open("a") as conf:
        conf.write("\n# tuishou's throwaway test server (tests/postgres_server.py)\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


def _start(server: PostgresServer) -> None:
    for attempt in range(PORT_TRIES):
        if attempt:
            server.port = free_port()
        completed = _run_as_service_user(
            [
                server.bindir / "pg_ctl",
                "start",
                "-D",
                server.data,
                "-l",
                server.log,
                "-w",
                "-t",
                str(START_TIMEOUT),
                "-o",
                f"-p {server.port}",
            ],
            check=False,
        )
        if completed.returncode == 0:
            return
        log = server.log.read_text(errors="replace") if server.log.exists() else ""
        if "could not bind" not in log and "already in use" not in log:
            break
    raise ServerUnavailableError(
        f"pg_ctl start failed (exit {completed.returncode}):\n"
        f"{completed.stdout}{completed.stderr}\nserver log:\n{log}"
    )


def _connect(server: PostgresServer) -> None:
    try:
        import psycopg
    except ImportError:
        raise ServerUnavailableError(
            f"the server started, but psycopg is missing; {DRIVER_INSTALL}"
        ) from None
    server._admin = psycopg.connect(server.conninfo(), autocommit=True)
    row = server._admin.execute("SELECT version()").fetchone()
    server.version = row[0] if row else ""


def _run_as_service_user(
    command: Sequence[object], check: bool
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, as the postgres user through ``runuser`` when we are root."""
    argv = [str(part) for part in command]
    if os.geteuid() == 0:
        argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
    # pg_ctl start leaves the server running with our stdout/stderr unless they are files or
    # pipes it does not hold: capture_output gives pipes, and -l sends the server's output to
    # its log, so run() returns once pg_ctl itself has exited.
    return subprocess.run(argv, capture_output=True, text=True, check=check, cwd="/")


def server_major(version: str) -> int | None:
    """The major version in ``SELECT version()``'s text: ``PostgreSQL 15.18 (Debian ...)`` → 15.

    >>> server_major("PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu")
    15
    """
    match = re.match(r"PostgreSQL (\d+)", version)
    return int(match.group(1)) if match else None
