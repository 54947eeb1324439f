"""Connecting WhatsApp and opening chats from the CRM, against the emulator's provisioning API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from .conftest import ConfigFactory
from .matrix_world import SharedMatrix, World, running_world, with_provisioning


@pytest.fixture
async def world(
    matrix: SharedMatrix, db_dsn: str, make_config: ConfigFactory, workdir: str
) -> AsyncIterator[World]:
    async for w in running_world(make_config, workdir, db_dsn, shared=matrix):
        # The bridge's login pace at a hundredth (a QR code: 0.6 s, then 0.2 s), the CRM
        # answering a browser's wait "nothing yet" after 0.25 s.
        w.emulator.provisioning.flow.time_scale = 0.01
        await with_provisioning(w, login_wait=0.25)
        yield w


async def test_qr_login_new_chat_and_logout(world: World) -> None:
    emu = world.emulator
    admin = await world.inbox()
    status, answer = await admin.call("GET", "/api/v1/whatsapp")
    assert (status, answer) == (200, {"logins": [], "numbers": []})
    # Not logged in: a new chat is refused with the bridge's reason.
    status, answer = await admin.call("POST", "/api/v1/conversations/new",
                                      json={"phone": "+15551270001"})  # fmt: skip
    assert status == 422 and answer["error"]["code"] == "bridge_refused"

    status, step = await admin.call("POST", "/api/v1/whatsapp/login/qr")
    assert status == 200 and step["type"] == "display_and_wait"
    assert step["display_and_wait"]["type"] == "qr" and step["display_and_wait"]["data"]
    wait = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}/wait"
    # A txn_id is passed on to the bridge: only the shape the bridge gives.
    for bad in ("a&user_id=@other:x", "..%2F..%2Flogout", "x" * 101):
        status, answer = await admin.call("POST", wait, params={"txn_id": bad})
        assert status == 400 and answer["error"]["field"] == "txn_id", bad
    # The first code lasts longer than the CRM holds a wait: "nothing yet" (204), and asking
    # again with the step's txn_id joins the bridge's wait until the next code.
    answers = []
    while not answers or answers[-1][0] == 204:
        answers.append(await admin.call("POST", f"{wait}?txn_id={step['txn_id']}"))
    assert [s for s, _ in answers[:-1]] == [204] * (len(answers) - 1) and len(answers) >= 2
    status, fresh = answers[-1]
    assert status == 200 and fresh["display_and_wait"]["data"] != step["display_and_wait"]["data"]
    emu.provisioning.complete(step["login_id"])
    status, done = await admin.call("POST", f"{wait}?txn_id={fresh['txn_id']}")
    assert status == 200 and done["type"] == "complete"
    status, answer = await admin.call("GET", "/api/v1/whatsapp")
    assert answer == {"logins": [emu.owner_phone], "numbers": [
        {"login_id": emu.owner_phone, "name": None, "phone": f"+{emu.owner_phone}",
         "state": "connected"}]}  # fmt: skip

    # A chat with a number opens its portal, which arrives through ingest as a conversation.
    status, conversation = await admin.call("POST", "/api/v1/conversations/new",
                                            json={"phone": "+1 555 127 0002"})  # fmt: skip
    assert status == 201, conversation
    assert (
        conversation["platform"] == "whatsapp"
        and conversation["contact"]["phone"] == "+15551270002"
    )
    # The chat is with the number's LID ghost (v26.08): the number is the bridge's answer's.
    remote = await world.db.fetchval("SELECT remote_id FROM contacts WHERE id = $1",
                                     conversation["contact"]["id"])  # fmt: skip
    assert remote.startswith("lid-")
    status, again = await admin.call("POST", "/api/v1/conversations/new",
                                     json={"phone": "+15551270002"})  # fmt: skip
    assert status == 201 and again["id"] == conversation["id"]  # the same chat, not a second
    status, answer = await admin.call("POST", "/api/v1/conversations/new", json={"phone": "x"})
    assert status == 422 and answer["error"]["field"] == "phone"

    status, _ = await admin.call("POST", f"/api/v1/whatsapp/logout/{emu.owner_phone}")
    assert status == 200
    assert (await admin.call("GET", "/api/v1/whatsapp"))[1] == {"logins": [], "numbers": []}


async def test_phone_pairing_code_and_admin_only(world: World) -> None:
    emu = world.emulator
    admin = await world.inbox()
    status, step = await admin.call("POST", "/api/v1/whatsapp/login/phone")
    assert status == 200 and step["type"] == "user_input"
    base = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}"
    status, answer = await admin.call("POST", f"{base}/input", json={"phone_number": "12"})
    assert status == 422 and answer["error"]["code"] == "phone_rejected"
    assert answer["error"]["field"] == "phone_number" and "too short" in answer["error"]["message"]
    # The bridge ended that login: its step is over, said so.
    status, answer = await admin.call("POST", f"{base}/input", json={"phone_number": "+1555127"})
    assert status == 410 and answer["error"]["code"] == "login_expired"
    status, step = await admin.call("POST", "/api/v1/whatsapp/login/phone")
    base = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}"
    status, code = await admin.call("POST", f"{base}/input",
                                    json={"phone_number": "+1 555 127 0009"})  # fmt: skip
    assert status == 200 and code["display_and_wait"]["type"] == "code"
    wait = f"/api/v1/whatsapp/login/{step['login_id']}/{code['step_id']}/wait"
    # The phone takes its time: every wait is "nothing yet", long past a QR code's life.
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < 2.0:
        assert (await admin.call("POST", f"{wait}?txn_id={code['txn_id']}"))[0] == 204
    emu.provisioning.complete(step["login_id"])
    status, done = await admin.call("POST", f"{wait}?txn_id={code['txn_id']}")
    assert status == 200 and done["complete"]["user_login_id"] == "15551270009"

    manager = await world.inbox("max@example.com")
    await world.db.execute("UPDATE managers SET role = 'manager' WHERE email = 'max@example.com'")
    assert (await manager.call("POST", "/api/v1/whatsapp/login/qr"))[0] in (401, 403)


async def test_a_qr_login_that_runs_out_and_a_passkey_say_what_happened(world: World) -> None:
    emu = world.emulator
    admin = await world.inbox()
    status, step = await admin.call("POST", "/api/v1/whatsapp/login/qr")
    wait = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}/wait"
    status, answer, txn = 200, step, step["txn_id"]
    while status in (200, 204):  # six codes, nobody scans
        txn = answer["txn_id"] if status == 200 else txn
        status, answer = await admin.call("POST", f"{wait}?txn_id={txn}")
    assert status == 410 and answer["error"]["code"] == "login_expired"
    assert (
        "expired" in answer["error"]["message"]
        and "Start linking again" in answer["error"]["message"]
    )

    for passkey in ("error", "step"):  # the bridge set up with fail_on_webauthn, and without
        emu.provisioning.flow.passkey = passkey
        status, step = await admin.call("POST", "/api/v1/whatsapp/login/qr")
        wait = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}/wait"
        status, answer = await admin.call("POST", f"{wait}?txn_id={step['txn_id']}")
        assert status == 422 and answer["error"]["code"] == "passkey_unsupported", passkey
        assert "passkey" in answer["error"]["message"]
        assert step["login_id"] not in emu.provisioning.flow.processes  # nothing left going


async def test_a_colleagues_customer_cannot_be_opened_by_number(world: World) -> None:
    """With managers seeing only their own and unassigned conversations, typing a colleague's
    customer's number into "+ New conversation" does not open their conversation."""
    await world.crm.stop()
    web = replace(world.crm.settings.web, managers_see="assigned")
    world.crm.settings = replace(world.crm.settings, web=web)
    await world.crm.start()
    admin = await world.inbox()
    status, step = await admin.call("POST", "/api/v1/whatsapp/login/qr")
    world.emulator.provisioning.complete(step["login_id"])
    wait = f"/api/v1/whatsapp/login/{step['login_id']}/{step['step_id']}/wait"
    while (await admin.call("POST", f"{wait}?txn_id={step['txn_id']}"))[0] == 204:
        pass
    status, theirs = await admin.call("POST", "/api/v1/conversations/new",
                                      json={"phone": "+15551270031"})  # fmt: skip
    assert status == 201, theirs
    mo, ola = await world.inbox("mo@example.com"), await world.inbox("ola@example.com")
    ids = {}
    for email in ("mo@example.com", "ola@example.com"):
        ids[email] = await world.db.fetchval("SELECT id FROM managers WHERE email = $1", email)
        status, _ = await admin.call("PATCH", f"/api/v1/managers/{ids[email]}",
                                     json={"role": "manager"})  # fmt: skip
        assert status == 200
    status, _ = await admin.call("PATCH", f"/api/v1/conversations/{theirs['id']}",
                                 json={"assignee_id": ids["ola@example.com"]})  # fmt: skip
    assert status == 200
    status, answer = await mo.call("POST", "/api/v1/conversations/new",
                                   json={"phone": "+1 555 127 0031"})  # fmt: skip
    assert (status, answer["error"]["code"]) == (404, "not_found")
    assert (await ola.call("POST", "/api/v1/conversations/new",
                           json={"phone": "+15551270031"}))[0] == 201  # fmt: skip
    status, mine = await mo.call("POST", "/api/v1/conversations/new",
                                 json={"phone": "+15551270032"})  # fmt: skip
    # A new chat is its opener's (web.assign_on_reply, on by default).
    assert status == 201 and mine["assignee_id"] == ids["mo@example.com"]
