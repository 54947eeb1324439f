"""The emulator's provisioning API, which later features drive like mautrix-whatsapp's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import os

import aiohttp
import pytest

from crm_appservice.testbed.synapse import free_port
from crm_appservice.testbed.world import LocalMatrix

from .conftest import ConfigFactory
from .matrix_world import DOMAIN, crm_settings

PREFIX = "/_matrix/provision/v3"


@pytest.fixture
async def matrix(
    db_dsn: str, make_config: ConfigFactory, workdir: str
) -> AsyncIterator[LocalMatrix]:
    hs_port = free_port()
    _, registration = await crm_settings(make_config, workdir, db_dsn, hs_port)
    directory = os.path.join(workdir, "tb")
    world = LocalMatrix(directory, DOMAIN, registration, f"@crm_bot:{DOMAIN}", hs_port)
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


async def test_login_flows_and_new_chat(matrix: LocalMatrix) -> None:
    emu = matrix.emulator
    emu.provisioning.qr_refresh = 0.5
    headers = {"Authorization": f"Bearer {emu.provisioning_secret}"}
    async with aiohttp.ClientSession(base_url=emu.url, headers=headers) as http:
        async with http.get(f"{PREFIX}/login/flows") as resp:
            assert [f["id"] for f in (await resp.json())["flows"]] == ["qr", "phone"]
        async with http.post(f"{PREFIX}/create_dm/+15551112222") as resp:
            assert resp.status == 404  # not logged in yet

        async with http.post(f"{PREFIX}/login/start/qr") as resp:
            step = await resp.json()
        assert step["type"] == "display_and_wait"
        assert step["display_and_wait"]["type"] == "qr"
        first_code = step["display_and_wait"]["data"]
        wait_url = f"{PREFIX}/login/step/{step['login_id']}/{step['step_id']}/display_and_wait"
        async with http.post(wait_url) as resp:
            refreshed = await resp.json()
        assert refreshed["display_and_wait"]["data"] != first_code  # a new QR code

        waiter = asyncio.create_task(http.post(wait_url))
        await asyncio.sleep(0.1)
        emu.provisioning.complete(step["login_id"])
        async with await waiter as resp:
            done = await resp.json()
        assert done["type"] == "complete"
        assert done["complete"]["user_login_id"] == emu.owner_phone
        async with http.get(f"{PREFIX}/logins") as resp:
            assert (await resp.json())["login_ids"] == [emu.owner_phone]

        async with http.post(f"{PREFIX}/create_dm/+15551112222") as resp:
            assert resp.status == 201  # a room made just now, as bridgev2 answers
            dm = await resp.json()
        assert dm["mxid"] == f"@whatsapp_15551112222:{DOMAIN}"
        assert dm["dm_room_mxid"] in emu.portals
        async with http.post(f"{PREFIX}/create_dm/15551112222") as resp:
            assert resp.status == 200  # it existed
            assert (await resp.json())["dm_room_mxid"] == dm["dm_room_mxid"]

    async with (
        aiohttp.ClientSession(base_url=emu.url) as anonymous,
        anonymous.get(f"{PREFIX}/logins") as resp,
    ):
        assert resp.status == 401
        assert (await resp.json())["errcode"] == "M_MISSING_TOKEN"
