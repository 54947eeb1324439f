"""Connecting WhatsApp and opening chats from the CRM, against the emulator's provisioning API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from crm_appservice.config import BridgeSettings

from .conftest import ConfigFactory
from .matrix_world import World, running_world


@pytest.fixture
async def world(db_dsn: str, make_config: ConfigFactory, workdir: str) -> AsyncIterator[World]:
    async for w in running_world(make_config, workdir, db_dsn):
        emu = w.emulator
        await w.crm.stop()
        w.crm.settings = replace(w.crm.settings, bridge=BridgeSettings(
            f"{emu.url}/_matrix/provision", emu.provisioning_secret))  # fmt: skip
        await w.crm.start()
        yield w


async def test_qr_login_new_chat_and_logout(world: World) -> None:
    emu = world.emulator
    emu.provisioning.qr_refresh = 0.3
    admin = await world.inbox()
    status, answer = await admin.call("GET", "/api/v1/whatsapp")
    assert (status, answer) == (200, {"logins": []})
    # Not logged in: a new chat is refused with the bridge's reason.
    status, answer = await admin.call("POST", "/api/v1/conversations/new",
                                      json={"phone": "+15551270001"})  # fmt: skip
    assert status == 422 and answer["error"]["code"] == "bridge_refused"

    status, step = await admin.call("POST", "/api/v1/whatsapp/login/qr")
    assert status == 200 and step["type"] == "display_and_wait"
    assert step["display_and_wait"]["type"] == "qr" and step["display_and_wait"]["data"]
    wait = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}/wait"
    status, fresh = await admin.call("POST", wait)
    assert status == 200 and fresh["display_and_wait"]["data"] != step["display_and_wait"]["data"]
    emu.provisioning.complete(step["login_id"])
    status, done = await admin.call("POST", wait)
    assert status == 200 and done["type"] == "complete"
    status, answer = await admin.call("GET", "/api/v1/whatsapp")
    assert answer == {"logins": [emu.owner_phone]}

    # A chat with a number opens its portal, which arrives through ingest as a conversation.
    status, conversation = await admin.call("POST", "/api/v1/conversations/new",
                                            json={"phone": "+1 555 127 0002"})  # fmt: skip
    assert status == 201, conversation
    assert (
        conversation["platform"] == "whatsapp"
        and conversation["contact"]["phone"] == "+15551270002"
    )
    status, again = await admin.call("POST", "/api/v1/conversations/new",
                                     json={"phone": "+15551270002"})  # fmt: skip
    assert status == 201 and again["id"] == conversation["id"]  # the same chat, not a second
    status, answer = await admin.call("POST", "/api/v1/conversations/new", json={"phone": "x"})
    assert status == 422 and answer["error"]["field"] == "phone"

    status, _ = await admin.call("POST", f"/api/v1/whatsapp/logout/{emu.owner_phone}")
    assert status == 200
    assert (await admin.call("GET", "/api/v1/whatsapp"))[1] == {"logins": []}


async def test_phone_pairing_code_and_admin_only(world: World) -> None:
    emu = world.emulator
    admin = await world.inbox()
    status, step = await admin.call("POST", "/api/v1/whatsapp/login/phone")
    assert status == 200 and step["type"] == "user_input"
    base = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}"
    status, answer = await admin.call("POST", f"{base}/input", json={"phone_number": "abc"})
    assert status == 422 and "Invalid phone number" in answer["error"]["message"]
    status, code = await admin.call("POST", f"{base}/input", json={"phone_number": "+15551270009"})
    assert status == 200 and code["display_and_wait"]["type"] == "code"
    emu.provisioning.complete(step["login_id"])
    status, done = await admin.call("POST", f"/api/v1/whatsapp/login/{step['login_id']}/"
                                    f"{code['step_id']}/wait")  # fmt: skip
    assert status == 200 and done["complete"]["user_login_id"] == "15551270009"

    manager = await world.inbox("max@example.com")
    await world.db.execute("UPDATE managers SET role = 'manager' WHERE email = 'max@example.com'")
    assert (await manager.call("POST", "/api/v1/whatsapp/login/qr"))[0] in (401, 403)
