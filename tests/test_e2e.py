"""End to end through a real Synapse: the emulated bridge sends, Synapse pushes, the CRM stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import os
from typing import Any

import asyncpg
import pytest

from crm_appservice.server import MATRIX
from crm_appservice.store.embedded import EmbeddedPostgres
from crm_appservice.store.migrate import apply_migrations
from testbed.media import png

from .conftest import ConfigFactory
from .matrix_world import DOMAIN, World, running_world


async def test_every_message_kind_arrives(world: World) -> None:
    emu = world.emulator
    alice = await world.portal("15551230001", "Alice")
    conv = await world.db.fetchrow("SELECT * FROM conversations WHERE room_id = $1", alice.room_id)
    assert conv is not None
    assert (conv["platform"], conv["kind"], conv["title"]) == ("whatsapp", "dm", "Alice")
    assert conv["remote_chat_id"] == "15551230001@s.whatsapp.net"
    contact = await world.db.fetchrow("SELECT * FROM contacts WHERE id = $1", conv["contact_id"])
    assert contact is not None
    assert (contact["phone"], contact["display_name"]) == ("+15551230001", "Alice")

    photo = png(64, 48)
    sent = {
        "text": await emu.send_text(alice, "15551230001", "Hello!", html="<b>Hello!</b>"),
        "notice": await emu.send_text(alice, "15551230001", "Missed call", msgtype="m.notice"),
        "emote": await emu.send_text(alice, "15551230001", "waves", msgtype="m.emote"),
        "image": await emu.send_media(
            alice, "15551230001", "m.image", photo, "image/png", "photo.png",
            caption="our shop", info={"w": 64, "h": 48},
            thumbnail=(png(32, 24), "image/png", 32, 24),
        ),
        "video": await emu.send_media(
            alice, "15551230001", "m.video", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64,
            "video/mp4", "clip.mp4", info={"w": 640, "h": 360, "duration": 4000},
            thumbnail=(png(64, 36), "image/png", 64, 36),
        ),
        "audio": await emu.send_media(alice, "15551230001", "m.audio", b"ID3" + b"\x00" * 32,
                                      "audio/mpeg", "song.mp3", info={"duration": 1500}),
        "voice": await emu.send_media(alice, "15551230001", "m.audio", b"OggS" + b"\x00" * 32,
                                      "audio/ogg", "voice.ogg", info={"duration": 2500},
                                      voice=True),
        "file": await emu.send_media(alice, "15551230001", "m.file", b"%PDF-1.4\n",
                                     "application/pdf", "prices.pdf"),
        "sticker": await emu.send_sticker(alice, "15551230001", b"RIFF0000WEBP", "image/webp"),
        "location": await emu.send_location(alice, "15551230001", 52.37, 4.89, "Shop"),
    }  # fmt: skip
    reply = await emu.send_text(alice, "15551230001", "About that", reply_to=sent["text"])
    await emu.edit(alice, "15551230001", sent["text"], "Hello again!")
    reaction = await emu.react(alice, "15551230001", sent["image"], "❤️")
    old = await emu.send_text(alice, "15551230001", "from last year", ts=1_700_000_000_000)
    doomed = await emu.send_text(alice, "15551230001", "oops")
    await emu.redact(alice, "15551230001", doomed)

    rows = {kind: await world.message(event_id) for kind, event_id in sent.items()}
    for kind in ("text", "notice", "emote", "image", "video", "audio", "voice", "file",
                 "sticker", "location"):  # fmt: skip
        assert rows[kind]["kind"] == kind, kind
        assert rows[kind]["direction"] == "in"
    assert rows["image"]["media_url"].startswith(f"mxc://{DOMAIN}/")
    assert rows["image"]["thumbnail_url"].startswith(f"mxc://{DOMAIN}/")
    assert (rows["image"]["media_width"], rows["image"]["media_size"]) == (64, len(photo))
    assert rows["image"]["body"] == "our shop"
    assert rows["video"]["media_duration_ms"] == 4000
    assert rows["voice"]["media_duration_ms"] == 2500
    assert rows["file"]["media_filename"] == "prices.pdf"
    assert (rows["location"]["latitude"], rows["location"]["longitude"]) == (52.37, 4.89)
    assert (await world.message(reply))["reply_to_event_id"] == sent["text"]

    async def edited() -> bool:
        row = await world.db.fetchrow(
            "SELECT body FROM messages WHERE event_id = $1", sent["text"]
        )
        return row is not None and row["body"] == "Hello again!"

    await world.until(edited, "the edit")
    assert (await world.message(sent["text"]))["html"] is None

    async def reacted() -> Any:
        return await world.db.fetchval("SELECT key FROM reactions WHERE event_id = $1", reaction)

    assert await world.until(reacted, "the reaction") == "❤️"

    async def deleted() -> Any:
        return await world.db.fetchval(
            "SELECT deleted_at FROM messages WHERE event_id = $1", doomed
        )

    await world.until(deleted, "the deletion")
    backfilled = await world.message(old)
    assert backfilled["created_at"].timestamp() == 1_700_000_000
    conv = await world.db.fetchrow("SELECT * FROM conversations WHERE room_id = $1", alice.room_id)
    assert conv is not None and conv["last_message_at"] > backfilled["created_at"]
    assert await world.db.fetchval("SELECT count(*) FROM raw_events WHERE error IS NOT NULL") == 0


async def test_first_message_right_after_the_portal_is_created(world: World) -> None:
    """The first message can reach the CRM before the portal's state does: nothing is lost."""
    emu = world.emulator
    portals = [await emu.create_portal(f"1555124000{i}", f"Customer {i}") for i in range(4)]
    first = [await emu.send_text(p, p.phones[0], "Hi, quick question") for p in portals]
    for event_id in first:
        row = await world.message(event_id)
        assert row["direction"] == "in"
    rows = await world.db.fetch(
        "SELECT unread_count, contact_id FROM conversations WHERE room_id = ANY($1)",
        [p.room_id for p in portals],
    )
    assert [(r["unread_count"], r["contact_id"] is not None) for r in rows] == [(1, True)] * 4


async def test_group_portal(world: World) -> None:
    group = await world.portal(
        "15551230002",
        "Bob",
        group="Wholesale",
        members={"15551230002": "Bob", "15551230003": "Cy"},
    )
    await world.emulator.send_text(group, "15551230003", "hi all")
    conv = await world.until(
        lambda: world.db.fetchrow(
            "SELECT * FROM conversations WHERE room_id = $1 AND last_message_at IS NOT NULL",
            group.room_id,
        ),
        "the group message",
    )
    assert (conv["kind"], conv["title"], conv["contact_id"]) == ("group", "Wholesale", None)
    names = {r["display_name"] for r in await world.db.fetch("SELECT display_name FROM contacts")}
    assert {"Bob", "Cy"} <= names


async def test_outgoing_message_status_comes_back(world: World) -> None:
    emu = world.emulator
    alice = await world.portal("15551230004", "Alice")
    bot = world.crm.app[MATRIX].bot
    delivered = await bot.send_text(alice.room_id, "We have it in stock")  # type: ignore[arg-type]

    async def status_of(event_id: str, expected: str) -> bool:
        row = await world.db.fetchrow(
            "SELECT direction, status FROM messages WHERE event_id = $1", event_id
        )
        return row is not None and (row["direction"], row["status"]) == ("out", expected)

    await world.until(lambda: status_of(delivered, "read"), "sent → delivered → read")

    emu.outcome.result = "fail"
    failed = await bot.send_text(alice.room_id, "Second message")  # type: ignore[arg-type]
    await world.until(lambda: status_of(failed, "failed"), "the failure")
    row = await world.message(failed)
    assert row["error"] == emu.outcome.error
    # The bridge's error notice is not stored as a message of the thread.
    assert await world.db.fetchval("SELECT count(*) FROM messages WHERE body LIKE '⚠️%'") == 0
    # A generic send error: no message, the reason m.event_not_handled, the detail in
    # internal_error, and a notice that is not sure: the manager reads what happened.
    emu.outcome.result = "fail_generic"
    emu.outcome.error = "websocket not connected"
    generic = await bot.send_text(alice.room_id, "Third message")  # type: ignore[arg-type]
    await world.until(lambda: status_of(generic, "failed"), "the generic failure")
    row = await world.message(generic)
    assert row["error"] == (
        "The WhatsApp bridge could not send the message: websocket not connected"
    )
    assert await world.db.fetchval("SELECT count(*) FROM messages WHERE body LIKE '⚠️%'") == 0


async def test_crm_down_then_back_gets_every_event_once(world: World) -> None:
    emu = world.emulator
    alice = await world.portal("15551230005", "Alice")
    await world.crm.stop()
    sent = [await emu.send_text(alice, "15551230005", f"while down {i}") for i in range(15)]
    await world.crm.start()
    for event_id in sent:
        await world.message(event_id)
    counts = await world.db.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM messages"
        " WHERE event_id = ANY($1)",
        sent,
    )
    assert counts is not None and counts["n"] == counts["d"] == len(sent)
    assert await world.db.fetchval(
        "SELECT unread_count FROM conversations WHERE room_id = $1", alice.room_id
    ) == len(sent)


@pytest.fixture
async def own_pg(workdir: str) -> AsyncIterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(os.path.join(workdir, "pg"))
    await server.start()
    try:
        await asyncio.to_thread(apply_migrations, server.dsn())
        yield server
    finally:
        await server.stop_async()


async def test_database_outage_then_synapse_retries_deliver(
    own_pg: EmbeddedPostgres, make_config: ConfigFactory, workdir: str
) -> None:
    async for world in running_world(make_config, workdir, own_pg.dsn()):
        emu = world.emulator
        alice = await world.portal("15551230006", "Alice")
        await world.db.close()
        await own_pg.stop_async()
        sent = [await emu.send_text(alice, "15551230006", f"during the outage {i}")
                for i in range(5)]  # fmt: skip
        await asyncio.sleep(3)  # Synapse meets 5xx answers and backs off
        await own_pg.start()
        world.db = await asyncpg.create_pool(own_pg.dsn(), min_size=1, max_size=2)
        for event_id in sent:
            await world.message(event_id)
        assert await world.db.fetchval(
            "SELECT count(*) FROM messages WHERE event_id = ANY($1)", sent
        ) == len(sent)


async def test_another_matrix_users_portal_stays_out_of_the_inbox(world: World) -> None:
    """The bridge's portals of another Matrix user reach the CRM (their ghosts are in its
    namespace), but they are not the CRM's: nothing of them is mapped."""
    emu = world.emulator
    theirs = await emu.create_portal(
        "15551239999", "Erin's friend", owner=f"@erin:{DOMAIN}", receiver="15559990000"
    )
    private = await emu.send_text(theirs, "15551239999", "see you tonight")
    ours = await world.portal("15551230009", "Customer")
    later = await emu.send_text(ours, "15551230009", "is it in stock?")
    await world.message(later)  # the homeserver pushes in order: theirs came before
    pushed = await world.db.fetchval(
        "SELECT count(*) FROM raw_events WHERE room_id = $1", theirs.room_id
    )
    assert pushed > 0
    assert not await world.db.fetchval(
        "SELECT 1 FROM conversations WHERE room_id = $1", theirs.room_id
    )
    assert not await world.db.fetchval("SELECT 1 FROM messages WHERE event_id = $1", private)
