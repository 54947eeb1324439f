"""Replies through the real Synapse to the emulated bridge, and their ticks coming back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import replace
import json
from typing import Any
import uuid

import aiohttp
from mautrix.api import Method, Path
from mautrix.types import RoomID
import pytest

from crm_appservice.ingest.events import CRM_MESSAGE_KEY
from crm_appservice.server import MATRIX
from crm_appservice.testbed.synapse import free_port

from .conftest import ConfigFactory
from .matrix_world import CRM, CRM_USER, Inbox, World, running_world


@pytest.fixture
async def world(db_dsn: str, make_config: ConfigFactory, workdir: str) -> AsyncIterator[World]:
    async for w in running_world(make_config, workdir, db_dsn):
        yield w


async def crm_events(world: World, room_id: str) -> list[dict[str, Any]]:
    """The messages the CRM's user has in the room, as the homeserver holds them."""
    bot = world.crm.app[MATRIX].bot
    resp = await bot.api.request(
        Method.GET,
        Path.v3.rooms[RoomID(room_id)].messages,
        query_params={"dir": "b", "limit": "1000"},
    )
    return [e for e in resp["chunk"] if e["type"] == "m.room.message" and e["sender"] == CRM_USER]


async def reply(inbox: Inbox, conversation_id: int, body: str, **kw: Any) -> dict[str, Any]:
    status, message = await inbox.call(
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_txn_id": kw.pop("txn", None) or uuid.uuid4().hex, "body": body, **kw},
    )
    assert status == 202, message
    assert message["status"] == "pending" and message["direction"] == "out"
    return dict(message)


async def status_is(world: World, message_id: int, *expected: str) -> bool:
    status = await world.db.fetchval("SELECT status FROM messages WHERE id = $1", message_id)
    return status in expected


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
        await world.until(lambda: status_is(world, message["id"], "read"), "the read tick")
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
    await world.until(lambda: status_is(world, message["id"], "failed"), "the failure")
    row = await world.db.fetchrow("SELECT error FROM messages WHERE id = $1", message["id"])
    assert row["error"] == emu.outcome.error

    emu.outcome.result = "success"
    status, body = await inbox.call("POST", f"/api/v1/messages/{message['id']}/retry")
    assert status == 202, body
    assert body["status"] == "pending" and body["error"] is None
    await world.until(lambda: status_is(world, message["id"], "read"), "the retried reply")
    # The retry was a new send (the homeserver must not answer with the failed event).
    events = await crm_events(world, bob.room_id)
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
            lambda i=message_id: status_is(world, i, "sent"), "the replies to go out"
        )
    events = await crm_events(world, cy.room_id)
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
        seen += [e["content"][CRM_MESSAGE_KEY] for e in await crm_events(world, portal.room_id)]
    assert sorted(seen) == sorted(ids)
