"""The command line end to end: `run` on the example config, `migrate`, `add-manager`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys

import asyncpg
import pytest

from crm_appservice.passwords import verify_password
from crm_appservice.store.embedded import EmbeddedPostgres

from .conftest import ALL_MIGRATIONS, EXAMPLE_CONFIG, ConfigFactory, closed_port
from .polling import healthy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, cwd: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_appservice", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_run_on_example_config(workdir: str, stop_signal: signal.Signals) -> None:
    """The example config, as shipped (on a free port): embedded PostgreSQL, migrations,
    /healthz, and a clean stop that leaves no PostgreSQL behind."""
    port = free_port()
    with open(EXAMPLE_CONFIG) as f:
        text = f.read().replace("29340", str(port))
    with open(os.path.join(workdir, "config.yaml"), "w") as f:
        f.write(text)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm_appservice",
        cwd=workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert await healthy(f"http://127.0.0.1:{port}/healthz", proc, "crm-appservice") == {
            "status": "ok",
            "database": "ok",
        }
        data_dir = os.path.join(workdir, "data", "postgres")
        running = EmbeddedPostgres(data_dir).running_instance()
        assert running is not None
        pg_pid, socket_dir = running
        conn = await asyncpg.connect(f"postgresql://crm@/crm?host={socket_dir}&port=5432")
        try:
            assert await conn.fetchval("SELECT count(*) FROM _yoyo_migration") >= 1
        finally:
            await conn.close()
        assert os.path.exists(os.path.join(workdir, "registration.yaml"))
        proc.send_signal(stop_signal)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = out.decode()
    assert proc.returncode == 0, log
    assert f"Received {stop_signal.name}, stopping" in log
    assert "Embedded PostgreSQL stopped" in log
    with pytest.raises(ProcessLookupError):
        os.kill(pg_pid, 0)
    assert not os.path.exists(os.path.join(data_dir, "postmaster.pid"))
    assert not os.path.exists(socket_dir)


def test_migrate_command(empty_db: str, make_config: ConfigFactory, workdir: str) -> None:
    path = make_config({"database.url": empty_db})
    first = _cli("migrate", "-c", path, cwd=workdir)
    assert first.returncode == 0, first.stderr
    applied = f"Applied {len(ALL_MIGRATIONS)} migration(s): {', '.join(ALL_MIGRATIONS)}"
    assert applied in first.stdout
    second = _cli("migrate", "-c", path, cwd=workdir)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "The database is up to date."


async def test_add_manager(db_dsn: str, make_config: ConfigFactory, workdir: str) -> None:
    path = make_config({"database.url": db_dsn})
    args = ["add-manager", "-c", path, "--email", " Anna@Example.COM ", "--name", "Anna"]
    created = _cli(*args, "--role", "admin", cwd=workdir, stdin="correct horse battery\n")
    assert created.returncode == 0, created.stderr
    assert "Created admin anna@example.com" in created.stdout

    duplicate = _cli(*args, cwd=workdir, stdin="another password\n")
    assert duplicate.returncode == 1
    assert "already exists (use --update-existing)" in duplicate.stderr

    updated = _cli(*args, "--update-existing", cwd=workdir, stdin="a new password\n")
    assert updated.returncode == 0, updated.stderr
    assert "Updated manager anna@example.com" in updated.stdout

    conn = await asyncpg.connect(db_dsn)
    try:
        rows = await conn.fetch("SELECT email, name, role, password_hash FROM managers")
    finally:
        await conn.close()
    assert len(rows) == 1
    row = rows[0]
    assert (row["email"], row["name"], row["role"]) == ("anna@example.com", "Anna", "manager")
    assert row["password_hash"].startswith("$argon2id$")
    assert verify_password(row["password_hash"], "a new password")
    assert not verify_password(row["password_hash"], "correct horse battery")


@pytest.mark.parametrize(
    ("extra", "stdin", "message"),
    [
        (["--email", "not-an-email"], "long enough pw\n", "--email: not an e-mail address"),
        (["--email", "a@b.co", "--name", "  "], "long enough pw\n", "--name: must not be empty"),
        (["--email", "a@b.co"], "short\n", "at least 8 characters"),
    ],
)
def test_add_manager_rejects_bad_input(
    db_dsn: str,
    make_config: ConfigFactory,
    workdir: str,
    extra: list[str],
    stdin: str,
    message: str,
) -> None:
    path = make_config({"database.url": db_dsn})
    args = ["add-manager", "-c", path, "--name", "X", *extra]
    result = _cli(*args, cwd=workdir, stdin=stdin)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_unreachable_database_is_one_line(make_config: ConfigFactory, workdir: str) -> None:
    path = make_config({"database.url": f"postgresql://crm:pw@127.0.0.1:{closed_port()}/crm"})
    result = _cli("migrate", "-c", path, cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.startswith("crm-appservice: ")
    assert result.stderr.count("\n") == 1
    assert "pw@" not in result.stderr
