"""The embedded PostgreSQL: start, stop, restart, and never a server left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import asyncpg
import pytest

from crm_appservice.config import DatabaseSettings
from crm_appservice.store.database import database_dsn
from crm_appservice.store.embedded import EmbeddedDatabaseError, EmbeddedPostgres


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_dead(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


async def test_start_stop_restart_keeps_data(workdir: str) -> None:
    data_dir = os.path.join(workdir, "pg")
    server = EmbeddedPostgres(data_dir)
    await server.start()
    try:
        assert server.process is not None
        pid = server.process.pid
        socket_dir = server.socket_dir
        assert server.running_instance() == (pid, socket_dir)
        conn = await asyncpg.connect(server.dsn())
        await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
        await conn.close()
    finally:
        await server.stop_async()
    assert _wait_dead(pid)
    assert socket_dir is not None and not os.path.exists(socket_dir)
    assert server.running_instance() is None
    assert not os.path.exists(os.path.join(data_dir, "postmaster.pid"))

    again = EmbeddedPostgres(data_dir)
    assert again.initialized
    await again.start()
    try:
        conn = await asyncpg.connect(again.dsn())
        assert await conn.fetchval("SELECT x FROM kept") == 42
        await conn.close()
    finally:
        await again.stop_async()


async def test_second_server_on_same_directory_is_refused(workdir: str) -> None:
    server = EmbeddedPostgres(os.path.join(workdir, "pg"))
    await server.start()
    try:
        with pytest.raises(EmbeddedDatabaseError, match="already using"):
            await EmbeddedPostgres(server.data_dir).start()
    finally:
        await server.stop_async()


async def test_database_dsn_attaches_to_a_running_server(workdir: str) -> None:
    settings = DatabaseSettings(
        url="embedded",
        embedded_dir=os.path.join(workdir, "pg"),
        embedded_bin_dir=None,
        pool_min_size=1,
        pool_max_size=2,
        statement_timeout=10,
        migration_lock_timeout=10,
    )
    async with database_dsn(settings) as dsn:
        running = EmbeddedPostgres(settings.embedded_dir).running_instance()
        assert running is not None
        async with database_dsn(settings) as attached:
            assert attached == dsn
            conn = await asyncpg.connect(attached)
            assert await conn.fetchval("SELECT 1") == 1
            await conn.close()
        # Leaving the inner block must not stop the server the outer one owns.
        assert EmbeddedPostgres(settings.embedded_dir).running_instance() == running
    assert _wait_dead(running[0])


def test_server_dies_with_a_killed_parent(workdir: str) -> None:
    data_dir = os.path.join(workdir, "pg")
    script = textwrap.dedent(
        f"""
        import time
        from crm_appservice.store.embedded import EmbeddedPostgres
        server = EmbeddedPostgres({data_dir!r})
        server.start_sync()
        print(server.process.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pg_pid = int(parent.stdout.readline())
        assert _alive(pg_pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert _wait_dead(pg_pid), "PostgreSQL outlived its killed parent"


def test_unreachable_data_dir_is_a_clear_error(workdir: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root runs PostgreSQL as another user")
    closed = os.path.join(workdir, "closed")
    os.makedirs(closed, mode=0o700)
    os.chmod(closed, 0o700)
    with pytest.raises(EmbeddedDatabaseError, match="not searchable"):
        EmbeddedPostgres(os.path.join(closed, "pg")).start_sync()
