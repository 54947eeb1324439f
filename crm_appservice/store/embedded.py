"""A private PostgreSQL server that the CRM starts and stops itself (``database.url: embedded``).

It runs the PostgreSQL binaries already on the machine (Debian's `postgresql` package) rather than
a copy shipped in a Python wheel: they get the distribution's security updates, and the same
binaries serve the test suite. The server listens on a Unix socket only, in a fresh 0700
directory, so no TCP port can clash and no other local user can connect. PostgreSQL refuses to
run as root, so a root process runs it as the unprivileged `postgres` user (or `nobody`).

The postmaster is a direct child started with its own session (a Ctrl+C in the terminal reaches
the CRM, which then shuts down in order) and with a parent-death signal, so even a CRM killed with
SIGKILL leaves no server behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from typing import IO
from urllib.parse import quote

import asyncpg

log = logging.getLogger("crm.store.embedded")

SUPERUSER = "crm"
PORT = 5432
_PR_SET_PDEATHSIG = 1


class EmbeddedDatabaseError(Exception):
    """The embedded server could not be set up or started; the message says why."""


def find_bin_dir(configured: str | None = None) -> str:
    """The directory with `initdb` and `postgres`: configured, newest Debian version, or PATH."""
    if configured:
        if not os.path.isfile(os.path.join(configured, "initdb")):
            raise EmbeddedDatabaseError(f"no initdb in {configured} (database.embedded_bin_dir)")
        return configured
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if candidates:
        newest = max(candidates, key=lambda p: int(p.split("/")[-3].split(".")[0]))
        return os.path.dirname(newest)
    on_path = shutil.which("initdb")
    if on_path:
        return os.path.dirname(on_path)
    raise EmbeddedDatabaseError(
        "PostgreSQL server binaries not found: install the `postgresql` package "
        "or set database.embedded_bin_dir"
    )


def _service_user() -> pwd.struct_passwd | None:
    """The user to run PostgreSQL as, or None to run it as ourselves (we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise EmbeddedDatabaseError("running as root, but no `postgres` or `nobody` user exists")


def die_with_parent() -> None:
    """Runs in the child between fork and exec (after the switch of user)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, started and stopped by this process."""

    def __init__(self, data_dir: str, bin_dir: str | None = None) -> None:
        self.data_dir = os.path.abspath(data_dir)
        self.bin_dir = find_bin_dir(bin_dir)
        self.user = _service_user()
        self.socket_dir: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def log_path(self) -> str:
        return os.path.join(self.data_dir, "postgres.log")

    def dsn(self, database: str = SUPERUSER) -> str:
        """A libpq URL (for asyncpg and psycopg) that reaches the server's socket."""
        if not self.socket_dir:
            raise EmbeddedDatabaseError("the embedded database is not running")
        return f"postgresql://{SUPERUSER}@/{database}?host={quote(self.socket_dir)}&port={PORT}"

    @property
    def _uid(self) -> int | None:
        return self.user.pw_uid if self.user else None

    @property
    def _gid(self) -> int | None:
        return self.user.pw_gid if self.user else None

    @property
    def _groups(self) -> list[int] | None:
        return [] if self.user else None

    def _chown(self, path: str) -> None:
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _check_reachable(self) -> None:
        """As root, the service user must be able to walk down to the data directory."""
        if self.user is None:
            return
        path = os.path.dirname(self.data_dir)
        while path != "/":
            mode = os.stat(path).st_mode
            if not mode & 0o001:
                raise EmbeddedDatabaseError(
                    f"{path} is not searchable by the `{self.user.pw_name}` user that runs the "
                    "embedded PostgreSQL: choose another database.embedded_dir or chmod o+x it"
                )
            path = os.path.dirname(path)

    @property
    def initialized(self) -> bool:
        return os.path.isfile(os.path.join(self.data_dir, "PG_VERSION"))

    def init(self) -> None:
        """Create the cluster if the data directory does not hold one yet."""
        if self.initialized:
            return
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        self._check_reachable()
        self._chown(self.data_dir)
        log.info("Creating the embedded PostgreSQL cluster in %s", self.data_dir)
        result = subprocess.run(
            [
                os.path.join(self.bin_dir, "initdb"),
                "--pgdata",
                self.data_dir,
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                "--no-instructions",
            ],
            capture_output=True,
            check=False,
            user=self._uid,
            group=self._gid,
            extra_groups=self._groups,
        )
        if result.returncode != 0:
            output = (result.stderr or result.stdout).decode(errors="replace").strip()
            raise EmbeddedDatabaseError(f"initdb failed: {output.splitlines()[-1:]}")

    def running_instance(self) -> tuple[int, str] | None:
        """(pid, socket dir) of a live server already using the data directory, if any."""
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                lines = f.read().splitlines()
            pid, socket_dir = int(lines[0]), lines[4]
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid, socket_dir

    def spawn(self) -> None:
        """Start the postmaster. Call from the main thread: the parent-death signal is tied to
        the thread that forks."""
        self._check_reachable()
        # Kept across restarts of this object, so a restarted server has the same DSN.
        if self.socket_dir is None:
            self.socket_dir = tempfile.mkdtemp(prefix="crm-pg-")
        else:
            os.makedirs(self.socket_dir, mode=0o700, exist_ok=True)
        self._chown(self.socket_dir)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
        self._chown(self.log_path)
        self.process = subprocess.Popen(
            [
                os.path.join(self.bin_dir, "postgres"),
                "-D",
                self.data_dir,
                "-k",
                self.socket_dir,
                "-p",
                str(PORT),
                "-c",
                "listen_addresses=",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=128MB",
                "-c",
                "autovacuum_naptime=15s",
                "-c",
                "wal_compression=lz4",
                "-c",
                "max_wal_size=2GB",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
            user=self._uid,
            group=self._gid,
            extra_groups=self._groups,
        )

    def poll_ready(self) -> bool:
        """True once the postmaster accepts connections (its pid file says `ready`)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise EmbeddedDatabaseError(
                f"PostgreSQL exited with code {self.process.returncode}; see {self.log_path}: "
                + self._log_tail()
            )
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                lines = f.read().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_path) - 400))
                return f.read().decode(errors="replace").strip().replace("\n", " | ")
        except OSError:
            return ""

    def _prepare_start(self) -> None:
        other = self.running_instance()
        if other:
            raise EmbeddedDatabaseError(
                f"another PostgreSQL (pid {other[0]}) is already using {self.data_dir}"
            )

    def _started(self, deadline: float, startup_limit: float) -> bool:
        if self.poll_ready():
            return True
        if time.monotonic() > deadline:
            self.stop()
            raise EmbeddedDatabaseError(f"PostgreSQL did not start within {startup_limit:g} s")
        return False

    def start_sync(self, startup_limit: float = 60) -> None:
        """Blocking start, for tests and command-line tools."""
        self.init()
        self._prepare_start()
        self.spawn()
        deadline = time.monotonic() + startup_limit
        while not self._started(deadline, startup_limit):
            time.sleep(0.02)

    async def start(self, startup_limit: float = 60) -> None:
        await asyncio.to_thread(self.init)
        self._prepare_start()
        self.spawn()
        deadline = time.monotonic() + startup_limit
        while True:  # the pid file is the only signal PostgreSQL gives
            if self._started(deadline, startup_limit):
                break
            await asyncio.sleep(0.02)
        await self.create_database(SUPERUSER)
        log.info("Embedded PostgreSQL is ready (pid %d)", self.process.pid if self.process else 0)

    async def create_database(self, name: str, template: str | None = None) -> None:
        """Create a database unless it exists (the cluster starts with `postgres` only)."""
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                return
            ident = '"' + name.replace('"', '""') + '"'
            sql = f"CREATE DATABASE {ident}"
            if template:
                sql += ' TEMPLATE "' + template.replace('"', '""') + '"'
            await conn.execute(sql)
        finally:
            await conn.close()

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown: roll back open transactions, checkpoint, exit."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("PostgreSQL did not stop in %g s, killing it", timeout)
                process.send_signal(signal.SIGQUIT)
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.stop)
