"""What every benchmark shares: ports, the CRM's config and process, a throwaway PostgreSQL,
and percentiles. Everything listens on 127.0.0.1; whatever is started is stopped and its files
removed by :func:`tear_down`."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile

import aiohttp
from ruamel.yaml import YAML

from crm_appservice.store.embedded import EmbeddedPostgres
from crm_appservice.store.migrate import apply_migrations
from testbed.synapse import free_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAIN = "crm.localhost"
BOT = f"@crm_bot:{DOMAIN}"
BRIDGE_BOT = f"@whatsappbot:{DOMAIN}"
HS_TOKEN = "bench-hs-token-0123456789abcdef"
AS_TOKEN = "bench-as-token-0123456789abcdef"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def write_config(workdir: str, dsn: str, hs_port: int | None = None) -> tuple[str, int]:
    """The example config for a CRM on a free port with the benchmarks' tokens, quiet logs, and
    the homeserver on ``hs_port`` (by default a port nobody listens on); (its path, the port)."""
    port = free_port()
    yaml = YAML()
    with open(os.path.join(REPO, "config.example.yaml")) as f:
        config = yaml.load(f)
    config["homeserver"]["address"] = f"http://127.0.0.1:{hs_port or free_port()}"
    config["homeserver"]["domain"] = DOMAIN
    config["appservice"].update(
        port=port, address=f"http://127.0.0.1:{port}", as_token=AS_TOKEN, hs_token=HS_TOKEN
    )
    config["database"]["url"] = dsn
    config["logging"]["root"]["level"] = "ERROR"
    config["logging"]["loggers"] = {}
    path = os.path.join(workdir, "config.yaml")
    with open(path, "w") as f:
        yaml.dump(config, f)
    return path, port


async def start_crm(workdir: str, dsn: str) -> tuple[asyncio.subprocess.Process, str]:
    """The CRM on a new config, as its own process (what production runs), once it is up."""
    config, port = write_config(workdir, dsn)
    return await run_crm(workdir, config, port)


async def run_crm(workdir: str, config: str, port: int) -> tuple[asyncio.subprocess.Process, str]:
    """The CRM as its own process on ``config``, once its /healthz answers; (it, its URL)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crm_appservice", "run", "-c", config, cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    await wait_until_up(proc, f"{url}/healthz", "the CRM")
    return proc, url


async def wait_until_up(proc: asyncio.subprocess.Process, url: str, what: str) -> None:
    """Wait (up to a minute) until `url` answers 200; kill `proc` if it never does."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{what} did not start")


async def new_database(prefix: str) -> tuple[str, EmbeddedPostgres]:
    """A new temporary directory with a started, migrated embedded PostgreSQL in it (both
    removed again if it does not start); `tear_down` removes them after the run."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    os.chmod(workdir, 0o755)
    pg = EmbeddedPostgres(os.path.join(workdir, "pg"))
    try:
        await pg.start()
        await asyncio.to_thread(apply_migrations, pg.dsn())
    except BaseException:
        await tear_down(None, pg, workdir)
        raise
    return workdir, pg


async def tear_down(
    proc: asyncio.subprocess.Process | None, pg: EmbeddedPostgres, workdir: str
) -> None:
    """Stop the CRM and the database a benchmark started, and remove their files."""
    if proc and proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    await pg.stop_async()
    shutil.rmtree(workdir, ignore_errors=True)
