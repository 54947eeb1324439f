"""`crm-appservice doctor` against the test bed: it passes, and names the broken piece when each
one is stopped or misconfigured in turn."""

from __future__ import annotations

import asyncio
from dataclasses import replace
import os

import aiohttp

from crm_appservice.__main__ import main
from crm_appservice.config import Settings
from crm_appservice.doctor import Doctor
from testbed.emulator import with_bridge
from testbed.provisioning import PREFIX

from .conftest import ConfigFactory, closed_port
from .matrix_world import World


async def diagnose(settings: Settings, registration: str) -> dict[str, str]:
    lines: list[str] = []
    await Doctor(settings, registration).run(lines.append)
    return dict(line.split(": ", 1) for line in lines)


async def test_doctor_passes_then_names_each_broken_piece(world: World, workdir: str) -> None:
    emu = world.emulator
    registration = os.path.join(workdir, "crm-registration.yaml")
    settings = with_bridge(world.crm.settings, emu)
    # Readiness names what is missing to whoever holds the metrics token.
    settings = replace(settings, web=replace(settings.web, metrics_token="doctor-test-token"))
    # The CRM itself runs with the bridge's provisioning API configured (readiness asks it).
    await world.crm.stop()
    world.crm.settings = settings
    await world.crm.start()
    aps = settings.appservice
    ready_url = f"http://{aps.hostname}:{aps.port}/readyz"

    async def readiness() -> tuple[int, dict[str, str]]:
        token = {"Authorization": f"Bearer {settings.web.metrics_token}"}
        async with aiohttp.ClientSession(headers=token) as http, http.get(ready_url) as resp:
            return resp.status, await resp.json()

    # The bridge has no WhatsApp login yet: that is the one thing to fix.
    report = await diagnose(settings, registration)
    assert report["bridge"].startswith("FAIL: the bridge has no WhatsApp login")
    status, ready = await readiness()
    assert status == 503 and ready["bridge"] == "not logged in to WhatsApp", ready
    assert ready["database"] == ready["homeserver"] == "ok"
    headers = {"Authorization": f"Bearer {emu.provisioning_secret}"}
    async with aiohttp.ClientSession(emu.url, headers=headers) as http:
        async with http.post(f"{PREFIX}/login/start/qr") as resp:
            step = await resp.json()
        wait = f"{PREFIX}/login/step/{step['login_id']}/{step['step_id']}/display_and_wait"
        waiter = asyncio.create_task(http.post(wait))
        await asyncio.sleep(0.1)
        emu.provisioning.complete(step["login_id"])  # the phone scanned the code
        async with await waiter as resp:
            assert (await resp.json())["type"] == "complete"

    assert await readiness() == (200, {"status": "ready", "database": "ok", "homeserver": "ok",
                                       "bridge": "ok"})  # fmt: skip
    report = await diagnose(settings, registration)
    assert all(v.startswith("ok") for v in report.values()), [
        v for v in report.values() if not v.startswith("ok")
    ]
    assert set(report) == {"config", "database", "schema", "registration", "homeserver",
                           "homeserver reaches the CRM", "bridge"}  # fmt: skip

    # Each piece broken in turn: doctor names it, and only the checks that depend on it fail.
    wrong_secret = replace(settings, bridge=replace(settings.bridge, provisioning_secret="x"))
    assert (await diagnose(wrong_secret, registration))["bridge"].startswith(
        "FAIL: the bridge refused bridge.provisioning_secret"
    )
    other = os.path.join(workdir, "other-registration.yaml")
    with open(registration) as f, open(other, "w") as out:
        out.write(f.read().replace(settings.appservice.hs_token, "another-token-0123456789"))
    assert "differ from the config's" in (await diagnose(settings, other))["registration"]
    no_db = replace(settings, database=replace(
        settings.database, url=f"postgresql://crm@127.0.0.1:{closed_port()}/crm"))  # fmt: skip
    report = await diagnose(no_db, registration)
    assert report["database"].startswith("FAIL: cannot connect")
    assert report["schema"].startswith("FAIL") and report["homeserver"].startswith("ok")

    await world.crm.stop()
    report = await diagnose(settings, registration)
    assert report["homeserver reaches the CRM"].startswith("FAIL: the homeserver could not call")
    assert report["homeserver"].startswith("ok")
    await world.crm.start()

    synapse = world.testbed.synapse
    assert synapse is not None
    await synapse.stop()
    try:
        report = await diagnose(settings, registration)
        assert report["homeserver"].startswith("FAIL: cannot reach")
        assert report["database"].startswith("ok") and report["bridge"].startswith("ok")
    finally:
        await synapse.start()


def test_doctor_command_exit_status(make_config: ConfigFactory, workdir: str) -> None:
    """Nothing runs: the command exits 1 (the checks' lines say why)."""
    path = make_config({
        "homeserver.address": f"http://127.0.0.1:{closed_port()}",
        "database.url": f"postgresql://crm@127.0.0.1:{closed_port()}/crm",
    })  # fmt: skip
    assert main(["doctor", "-c", path, "-r", os.path.join(workdir, "missing.yaml")]) == 1
