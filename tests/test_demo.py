"""The demo, as `.ci/demo` runs it: Synapse, the emulator with customers writing in, and the
CRM, where Team → WhatsApp and "+ New conversation" reach the emulator's provisioning API
(with no bridge configured, they would answer with a configuration error)."""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp
import asyncpg

from crm_appservice import passwords
from crm_appservice.store import managers
from testbed.synapse import free_port

from .conftest import REPO, ConfigFactory
from .matrix_world import crm_settings
from .polling import healthy

PASSWORD = "the demo's password"


async def test_the_demo_connects_whatsapp_through_the_emulator(
    db_dsn: str, make_config: ConfigFactory, workdir: str
) -> None:
    settings, registration = await crm_settings(make_config, workdir, db_dsn, free_port())
    assert settings.bridge.provisioning_url is None  # as in the example config
    config = os.path.join(workdir, "config.yaml")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "testbed.demo", "-c", config, "-r", registration,
        "--dir", os.path.join(workdir, "demo"), "--interval", "3600",
        cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": REPO},  # the testbed is the checkout's, not installed
    )  # fmt: skip
    base = str(settings.web.public_url).rstrip("/")
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await healthy(base + "/healthz", proc, "the demo", timeout=120)
            pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=1)
            try:
                await managers.create(pool, "demo@example.com", "Demo", "admin",
                                      passwords.hash_password(PASSWORD))  # fmt: skip
            finally:
                await pool.close()
            login = {"email": "demo@example.com", "password": PASSWORD}
            async with http.post(base + "/api/v1/auth/login", json=login) as resp:
                assert resp.status == 200
            async with http.get(base + "/api/v1/whatsapp") as resp:
                body = await resp.json()
                assert resp.status == 200, body  # the emulator's provisioning API answered
                assert body == {"logins": [], "numbers": []}
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
