"""`web.managers_see: assigned`: managers see the conversations assigned to them and the
unassigned ones, everywhere (lists, counts, every conversation and message endpoint, media and
the WebSocket); admins see all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from crm_appservice.config import Settings

from . import factories as f
from .conftest import API, PASSWORD, ConfigFactory, Homeserver, bearer, offline_settings


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    return offline_settings(make_config, {"web.managers_see": "assigned"})


async def test_managers_see_their_own_and_unassigned(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    ids = {}
    for room, phone, name in [("!free", "3361000001", "Free"), ("!mine", "3361000002", "Mine"),
                              ("!theirs", "3361000003", "Theirs")]:  # fmt: skip
        image = f.event(room, "m.room.message", f.ghost(phone), {
            "msgtype": "m.image", "body": "photo.png", "url": "mxc://crm.localhost/abcDEF123",
            "info": {"mimetype": "image/png", "size": 10}})  # fmt: skip
        await hs.ok([*f.portal(room, phone, name), f.text(room, f.ghost(phone), "hi"), image])
        ids[name] = await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", room)
    me = await add_manager("mo@example.com")
    other = await add_manager("ola@example.com")
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", ids["Mine"], me)
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", ids["Theirs"],
                     other)  # fmt: skip
    mo = await bearer(db, me)
    theirs = ids["Theirs"]
    their_message = await db.fetchval(
        "SELECT id FROM messages WHERE conversation_id = $1 AND kind = 'text'", theirs
    )
    their_image = await db.fetchval(
        "SELECT id FROM messages WHERE conversation_id = $1 AND kind = 'image'", theirs
    )

    _, page = await api.call("GET", "/api/v1/conversations", headers=mo)
    assert sorted(c["title"] for c in page["items"]) == ["Free", "Mine"]
    _, counts = await api.call("GET", "/api/v1/conversations/counts", headers=mo)
    assert (counts["mine"], counts["unassigned"], counts["all_open"]) == (1, 1, 2)
    path = f"/api/v1/conversations/{theirs}"
    for method, url, body in [
        ("GET", path, None),
        ("GET", f"{path}/messages", None),
        ("POST", f"{path}/read", None),
        ("PATCH", path, {"status": "pending"}),
        ("POST", f"{path}/notes", {"body": "x"}),
        ("POST", f"{path}/messages", {"client_txn_id": "x", "body": "x"}),
        ("POST", f"/api/v1/messages/{their_message}/reactions", {"key": "👍"}),
        ("POST", f"/api/v1/messages/{their_message}/retry", None),
        ("GET", f"/api/v1/media/{their_image}", None),
    ]:
        async with api.client.request(method, url, json=body, headers=mo) as resp:
            assert resp.status == 404, (method, url, await resp.text())
    # Their own and unassigned conversations work as usual; admins see everything.
    assert (await api.call("GET", f"/api/v1/conversations/{ids['Mine']}", headers=mo))[0] == 200
    assert (await api.call("GET", f"/api/v1/conversations/{ids['Free']}", headers=mo))[0] == 200
    _, page = await api.call("GET", "/api/v1/conversations")
    assert len(page["items"]) == 3
    assert (await api.call("GET", path))[0] == 200
    assert await db.fetchval("SELECT count(*) FROM notes") == 0


async def test_websocket_hides_what_the_manager_may_not_see(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    await hs.ok([*f.portal("!a", "3362000001", "Ada"), *f.portal("!b", "3362000002", "Bea")])
    ada = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!a'")
    bea = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!b'")
    me = await add_manager("mo@example.com")
    other = await add_manager("ola@example.com")
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", ada, me)
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", bea, other)
    async with api.client.ws_connect("/api/v1/ws", headers=await bearer(db, me)) as ws:
        assert (await ws.receive_json())["type"] == "hello"
        await hs.ok([f.text("!b", f.ghost("3362000002"), "not for Mo"),
                     f.text("!a", f.ghost("3362000001"), "for Mo")])  # fmt: skip
        frames: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while not any(fr["type"] == "message.created" for fr in frames):
                frames.append(await ws.receive_json())
            # The rest of the same transaction's frames: its two conversations' updates.
            while len(frames) < 3:
                frames.append(await ws.receive_json())
    messages = [fr["data"]["body"] for fr in frames if fr["type"] == "message.created"]
    assert messages == ["for Mo"]
    assert {"type": "conversation.hidden", "id": bea} in [
        {"type": fr["type"], "id": fr["data"]["id"]} for fr in frames
    ]
    updated = [fr["data"]["id"] for fr in frames if fr["type"] == "conversation.updated"]
    assert updated == [ada]


async def test_managers_list_their_customers_and_the_contacts_they_see(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    """A manager lists the contacts they own, and those with a conversation of theirs or
    nobody's; another's customer with only another's chats is not there, nor at its address."""
    ids = {}
    for room, phone, name in [("!free", "3361000001", "Free"), ("!theirs", "3361000002", "Theirs"),
                              ("!owned", "3361000003", "Owned")]:  # fmt: skip
        await hs.ok([*f.portal(room, phone, name), f.text(room, f.ghost(phone), "hi")])
        ids[name] = await db.fetchval(
            "SELECT contact_id FROM conversations WHERE room_id = $1", room
        )
    me = await add_manager("mo@example.com")
    other = await add_manager("ola@example.com")
    await db.execute("UPDATE conversations SET assignee_id = $1 WHERE room_id <> '!free'", other)
    await db.execute("UPDATE contacts SET owner_id = $1 WHERE id = $2", me, ids["Owned"])
    everyone = await api.get("/api/v1/contacts")  # the admin
    assert len(everyone["items"]) == 3
    mo = API(api.client)
    assert (await mo.login("mo@example.com", PASSWORD))[0] == 200
    listed = await mo.get("/api/v1/contacts")
    assert sorted(c["id"] for c in listed["items"]) == sorted([ids["Free"], ids["Owned"]])
    found = await mo.get("/api/v1/contacts", params={"q": "Theirs"})
    assert found["items"] == []
    assert (await mo.call("GET", f"/api/v1/contacts/{ids['Theirs']}"))[0] == 404
    owned = await mo.get(f"/api/v1/contacts/{ids['Owned']}")
    # Their customer's chat is a colleague's: neither it nor its changes are on Mo's page.
    assert owned["conversations"] == []
    assert [e for e in owned["timeline"] if e["conversation_id"] is not None] == []
    # Not a lookup of colleagues' customers: a name made alike suggests none of them.
    status, _ = await mo.call("PATCH", f"/api/v1/contacts/{ids['Owned']}",
                              json={"display_name": "Theirs", "phone": None})  # fmt: skip
    assert status == 200
    assert (await mo.get(f"/api/v1/contacts/{ids['Owned']}/duplicates"))["items"] == []
    # Counts on the list are of the conversations the manager sees.
    row = next(c for c in listed["items"] if c["id"] == ids["Owned"])
    assert (row["conversation_count"], row["last_message_at"]) == (0, None)
