"""Replies through the real Synapse to the emulated bridge, and their ticks coming back."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
import json
import os
import signal
import sys
from typing import Any
import uuid

import aiohttp
from aiohttp import web
import asyncpg

from crm_appservice.ingest.messages import CRM_MESSAGE_KEY
from crm_appservice.store import managers, sessions
from testbed.emulator import BridgeEmulator
from testbed.synapse import free_port
from testbed.world import LocalMatrix

from .conftest import ConfigFactory
from .matrix_world import (
    CRM,
    CRM_USER,
    DOMAIN,
    HomeserverProxy,
    Inbox,
    World,
    conversation_id,
    crm_settings,
)
from .polling import healthy, until


async def room_events(emu: BridgeEmulator, room_id: str) -> list[dict[str, Any]]:
    """Every event of the CRM's user in the room as the homeserver holds them, oldest first
    (read as the bridge bot)."""
    resp = await emu.request(
        "GET",
        f"/_matrix/client/v3/rooms/{room_id}/messages",
        user_id=emu.bot,
        params={"dir": "f", "limit": "1000"},
    )
    return [e for e in resp["chunk"] if e["sender"] == CRM_USER and "state_key" not in e]


async def crm_events(emu: BridgeEmulator, room_id: str) -> list[dict[str, Any]]:
    """The messages of the CRM's user in the room, newest first."""
    events = await room_events(emu, room_id)
    return [e for e in reversed(events) if e["type"] == "m.room.message"]


async def reply(inbox: Inbox, conversation_id: int, body: str, **kw: Any) -> dict[str, Any]:
    status, message = await inbox.call(
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_txn_id": kw.pop("txn", None) or uuid.uuid4().hex, "body": body, **kw},
    )
    assert status == 202, message
    assert message["status"] == "pending" and message["direction"] == "out"
    return dict(message)


async def status_is(db: asyncpg.Pool, message_id: int, *expected: str) -> bool:
    status = await db.fetchval("SELECT status FROM messages WHERE id = $1", message_id)
    return status in expected


async def test_reading_a_conversation_tells_the_bridge(world: World) -> None:
    """A manager opening unread messages sends a read receipt (the customer sees them read on
    WhatsApp), up to the newest one; opening it again with nothing unread sends nothing."""
    emu = world.emulator
    bob = await world.portal("15551240002", "Bob")
    await emu.send_text(bob, "15551240002", "Hello?")
    newest = await emu.send_text(bob, "15551240002", "Anyone there?")
    conversation_id = await world.conversation_id(bob.room_id)
    await world.until(
        lambda: world.db.fetchval(
            "SELECT unread_count = 2 FROM conversations WHERE id = $1", conversation_id),
        "both messages stored",
    )  # fmt: skip
    inbox = await world.inbox()
    status, read = await inbox.call("POST", f"/api/v1/conversations/{conversation_id}/read")
    assert status == 200 and read["unread_count"] == 0
    await world.until(
        lambda: asyncio.sleep(0, (bob.room_id, newest) in emu.read_by_crm), "the read receipt"
    )
    status, _ = await inbox.call("POST", f"/api/v1/conversations/{conversation_id}/read")
    assert status == 200
    await world.until(
        lambda: world.db.fetchval(
            "SELECT count(*) = 1 AND bool_and(state = 'done') FROM outbox WHERE action = 'read'"),
        "one receipt, sent",
    )  # fmt: skip


async def test_reply_reaches_the_bridge_and_ticks_come_back(world: World) -> None:
    emu = world.emulator
    alice = await world.portal("15551240001", "Alice")
    incoming = await emu.send_text(alice, "15551240001", "Do you ship to Lyon?")
    conversation_id = await world.conversation_id(alice.room_id)
    question = await world.message(incoming)
    inbox = await world.inbox()

    frames: list[dict[str, Any]] = []
    async with inbox.http.ws_connect("/api/v1/ws") as ws:

        async def collect() -> None:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    frames.append(json.loads(msg.data))

        collector = asyncio.create_task(collect())
        message = await reply(inbox, conversation_id, "Yes, in 2 days", reply_to=question["id"])
        await world.until(lambda: status_is(world.db, message["id"], "read"), "the read tick")
        await world.until(
            lambda: asyncio.sleep(0, any(
                f["type"] == "message.updated" and f["data"]["id"] == message["id"]
                and f["data"]["status"] == "read" for f in frames)),
            "the read tick on the WebSocket",
        )  # fmt: skip
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector

    # What the bridge got: the CRM user's text, replying to the contact's message.
    sent = [s for s in emu.sent_by_crm if s.room_id == alice.room_id]
    assert len(sent) == 1
    content = sent[0].content
    assert content["msgtype"] == "m.text" and content["body"] == "Yes, in 2 days"
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": incoming}}
    assert content[CRM_MESSAGE_KEY] == message["id"]

    # Every tick reached the browser, in order, and the reply is one message, not two.
    ticks = [
        f["data"]["status"]
        for f in frames
        if f["type"] in ("message.created", "message.updated") and f["data"]["id"] == message["id"]
    ]
    assert ticks[0] == "pending" and ticks[-1] == "read"
    order = ["pending", "sent", "delivered", "read"]
    assert [order.index(t) for t in ticks] == sorted(order.index(t) for t in ticks)
    page = await inbox.call("GET", f"/api/v1/conversations/{conversation_id}/messages")
    mine = [m for m in page[1]["items"] if m["direction"] == "out"]
    assert len(mine) == 1 and mine[0]["event_id"] == sent[0].event_id
    assert mine[0]["reply_to"] == question["id"] and mine[0]["status"] == "read"
    assert (
        await world.db.fetchval(
            "SELECT unread_count FROM conversations WHERE id = $1", conversation_id
        )
        == 0
    )


async def test_bridge_failure_then_manual_retry(world: World) -> None:
    emu = world.emulator
    bob = await world.portal("15551240002", "Bob")
    conversation_id = await world.conversation_id(bob.room_id)
    inbox = await world.inbox()
    emu.outcome.result = "fail"
    message = await reply(inbox, conversation_id, "Your order is ready")
    await world.until(lambda: status_is(world.db, message["id"], "failed"), "the failure")
    row = await world.db.fetchrow("SELECT error FROM messages WHERE id = $1", message["id"])
    assert row["error"] == emu.outcome.error

    emu.outcome.result = "success"
    status, body = await inbox.call("POST", f"/api/v1/messages/{message['id']}/retry")
    assert status == 202, body
    assert body["status"] == "pending" and body["error"] is None
    await world.until(lambda: status_is(world.db, message["id"], "read"), "the retried reply")
    # The retry was a new send (the homeserver must not answer with the failed event).
    events = await crm_events(world.emulator, bob.room_id)
    assert len(events) == 2 and events[0]["event_id"] != events[1]["event_id"]
    stored = await world.db.fetchval("SELECT event_id FROM messages WHERE id = $1", message["id"])
    assert stored == events[0]["event_id"]  # newest first
    assert await world.db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 1

    status, body = await inbox.call("POST", f"/api/v1/messages/{message['id']}/retry")
    assert status == 409 and body["error"]["code"] == "conflict"


async def test_replies_wait_for_synapse_and_go_out_once(world: World) -> None:
    emu = world.emulator
    emu.outcome.result = "silent"
    cy = await world.portal("15551240003", "Cy")
    conversation_id = await world.conversation_id(cy.room_id)
    inbox = await world.inbox()
    synapse = world.testbed.synapse
    assert synapse is not None
    await synapse.stop()
    messages = [await reply(inbox, conversation_id, f"reply {i}") for i in range(3)]
    await asyncio.sleep(2)  # several failed attempts
    ids = [m["id"] for m in messages]
    rows = await world.db.fetch(
        "SELECT m.status, o.attempts, o.last_error FROM messages m"
        " JOIN outbox o ON o.message_id = m.id WHERE m.id = ANY($1) ORDER BY m.id",
        ids,
    )
    assert [r["status"] for r in rows] == ["pending"] * 3
    assert rows[0]["attempts"] >= 2 and "unreachable" in rows[0]["last_error"]
    await synapse.start()
    for message_id in ids:
        await world.until(
            lambda i=message_id: status_is(world.db, i, "sent"), "the replies to go out"
        )
    events = await crm_events(world.emulator, cy.room_id)
    assert sorted(e["content"]["body"] for e in events) == ["reply 0", "reply 1", "reply 2"]
    # In the order they were written.
    assert [e["content"][CRM_MESSAGE_KEY] for e in reversed(events)] == ids


async def test_two_instances_send_each_reply_once(
    world: World, make_config: ConfigFactory, db_dsn: str
) -> None:
    emu = world.emulator
    emu.outcome.result = "silent"
    portals = [await world.portal(f"155512410{i:02d}", f"Customer {i}") for i in range(4)]
    conversations = [await world.conversation_id(p.room_id) for p in portals]
    # A second CRM on the same database (it serves nothing Synapse knows of: only its outbox
    # worker matters here).
    settings = world.crm.settings
    other_port = free_port()
    second = CRM(
        replace(settings, appservice=replace(settings.appservice, port=other_port)), db_dsn
    )
    await second.start()
    try:
        first = await world.inbox()
        replies = []
        for n in range(200):
            replies.append(reply(first, conversations[n % 4], f"bulk {n}"))
        ids = [m["id"] for m in await asyncio.gather(*replies)]

        async def all_sent() -> bool:
            pending = await world.db.fetchval(
                "SELECT count(*) FROM messages WHERE id = ANY($1) AND status = 'pending'", ids
            )
            return pending == 0

        await world.until(all_sent, "200 replies to go out", timeout=120)
    finally:
        await second.stop()
    assert (
        await world.db.fetchval(
            "SELECT count(DISTINCT event_id) FROM messages WHERE id = ANY($1) AND status = 'sent'",
            ids,
        )
        == 200
    )
    seen: list[int] = []
    for portal in portals:
        seen += [
            e["content"][CRM_MESSAGE_KEY] for e in await crm_events(world.emulator, portal.room_id)
        ]
    assert sorted(seen) == sorted(ids)


class KillingProxy(HomeserverProxy):
    """SIGKILLs the CRM right after Synapse accepted a message it sent, before the CRM hears
    the answer."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.victim: asyncio.subprocess.Process | None = None
        self.killed_after: str | None = None

    async def after(self, request: web.Request, status: int, body: bytes) -> None:
        sending = request.method == "PUT" and "/send/m.room.message/" in request.path
        if sending and status == 200 and self.victim is not None:
            self.victim.kill()
            await self.victim.wait()
            self.killed_after = json.loads(body)["event_id"]
            self.victim = None


async def _start_crm(config: str, port: int, cwd: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crm_appservice", "run", "-c", config, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await healthy(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


async def test_crm_killed_after_the_homeserver_accepted_a_reply(
    db_dsn: str, make_config: ConfigFactory, workdir: str
) -> None:
    """SIGKILL between the homeserver's acceptance and the CRM recording it: after a restart
    the room holds exactly one event for that reply."""
    hs_port = free_port()
    proxy = KillingProxy(f"http://127.0.0.1:{hs_port}")
    settings, registration = await crm_settings(
        make_config, workdir, db_dsn, hs_port,
        {"homeserver.address": f"http://127.0.0.1:{proxy.port}"},
    )  # fmt: skip
    testbed = LocalMatrix(os.path.join(workdir, "tb"), DOMAIN, registration, CRM_USER, hs_port)
    db = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    crm: asyncio.subprocess.Process | None = None
    try:
        await testbed.start()
        await proxy.start()
        port = settings.appservice.port
        crm = await _start_crm(settings.path, port, workdir)
        emu = testbed.emulator
        emu.outcome.result = "silent"
        portal = await emu.create_portal("15551240099", "Dora")
        await until(
            lambda: db.fetchval(
                "SELECT state = 'done' FROM room_invites WHERE room_id = $1", portal.room_id
            ),
            "the CRM to join",
        )
        conversation = await conversation_id(db, portal.room_id)
        manager, _ = await managers.create(db, "kim@example.com", "Kim", "admin", "-")
        async with db.acquire() as conn:
            token, _ = await sessions.create(conn, manager.id, "api_token", None, "tests")
        inbox = Inbox(f"http://127.0.0.1:{port}", token)
        try:
            proxy.victim = crm
            message = await reply(inbox, conversation, "Sent just before the crash")
            await until(lambda: asyncio.sleep(0, proxy.killed_after), "the kill")
            assert crm.returncode == -signal.SIGKILL
            status = await db.fetchval("SELECT status FROM messages WHERE id = $1", message["id"])
            assert status == "pending"  # the CRM never recorded the send
            crm = await _start_crm(settings.path, port, workdir)
            await until(lambda: status_is(db, message["id"], "sent"), "the reply")
        finally:
            await inbox.close()
        events = await crm_events(emu, portal.room_id)
        assert [e["event_id"] for e in events] == [proxy.killed_after]
        stored = await db.fetchval("SELECT event_id FROM messages WHERE id = $1", message["id"])
        assert stored == proxy.killed_after
        assert await db.fetchval("SELECT state FROM outbox WHERE message_id = $1",
                                 message["id"]) == "done"  # fmt: skip
    finally:
        if crm is not None and crm.returncode is None:
            crm.terminate()
            await crm.wait()
        await proxy.stop()
        await db.close()
        await testbed.stop()
