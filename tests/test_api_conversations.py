"""The inbox API on conversations ingested through the appservice endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from crm_appservice.live import snooze
from crm_appservice.store import conversations

from . import factories as f
from .conftest import API, Homeserver

T0 = 1_800_000_000_000  # ms


async def _seed(hs: Homeserver) -> dict[str, dict[str, Any]]:
    """Three customers; Carla wrote last, Bruno's chat has no message yet."""
    rooms: dict[str, dict[str, Any]] = {}
    for i, (name, phone) in enumerate(
        [
            ("Alice Moreau", "33612345678"),
            ("Bruno Costa", "351912345678"),
            ("Carla Rossi", "393401234567"),
        ]
    ):
        room = f"!room{i}"
        rooms[name] = {"room": room, "phone": phone}
        await hs.ok(f.portal(room, phone, name))
    alice, carla = rooms["Alice Moreau"], rooms["Carla Rossi"]
    a1 = f.text(alice["room"], f.ghost(alice["phone"]), "Do you ship to Lyon?", ts=T0)
    a2 = f.text(alice["room"], f.BOT, "Yes, in two days.", ts=T0 + 1000)
    c1 = f.text(carla["room"], f.ghost(carla["phone"]), "Il divano è disponibile?", ts=T0 + 5000)
    await hs.ok([a1, a2, c1])
    alice["events"] = [a1, a2]
    carla["events"] = [c1]
    return rooms


async def test_list_order_pagination_and_shape(api: API, hs: Homeserver) -> None:
    await _seed(hs)
    body = await api.get("/api/v1/conversations")
    titles = [c["title"] for c in body["items"]]
    assert titles == ["Carla Rossi", "Alice Moreau", "Bruno Costa"]
    assert body["next_cursor"] is None
    carla = body["items"][0]
    assert carla["platform"] == "whatsapp" and carla["kind"] == "dm"
    assert carla["unread_count"] == 1
    assert carla["last_message"]["text"] == "Il divano è disponibile?"
    assert carla["last_message"]["direction"] == "in"
    assert carla["contact"]["phone"] == "+393401234567"
    assert carla["status"] == "open" and carla["is_archived"] is False
    assert body["items"][2]["last_message"] is None

    seen: list[str] = []
    cursor = None
    while True:
        query = "/api/v1/conversations?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = await api.get(query)
        seen += [c["title"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == titles

    status, err = await api.call("GET", "/api/v1/conversations?limit=500")
    assert (status, err["error"]["field"]) == (422, "limit")
    status, err = await api.call("GET", "/api/v1/conversations?cursor=garbage!")
    assert (status, err["error"]["field"]) == (422, "cursor")


async def test_filters_and_search(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    rooms = await _seed(hs)
    other = await add_manager("olga@example.com")
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    await db.execute("UPDATE conversations SET assignee_id = $1 WHERE room_id = '!room0'", me)
    await db.execute("UPDATE conversations SET assignee_id = $1 WHERE room_id = '!room2'", other)
    await db.execute("UPDATE conversations SET is_archived = true WHERE room_id = '!room1'")

    async def titles(query: str) -> list[str]:
        return [c["title"] for c in (await api.get(f"/api/v1/conversations?{query}"))["items"]]

    assert await titles("assignee=me") == ["Alice Moreau"]
    assert await titles(f"assignee={other}") == ["Carla Rossi"]
    assert await titles("assignee=none") == []
    assert await titles("archived=true") == ["Bruno Costa"]
    assert await titles("unread=true") == ["Carla Rossi", "Alice Moreau"]
    assert await titles("platform=telegram") == []
    assert await titles("status=resolved") == []
    assert await titles("q=rossi") == ["Carla Rossi"]
    assert await titles("q=3361234") == ["Alice Moreau"]  # part of the phone number
    assert await titles("q=lyo") == ["Alice Moreau"]  # a word prefix of a message
    assert await titles("q=divano") == ["Carla Rossi"]
    assert rooms  # seeded

    # A search says which message matched: the newest with every word, the hit in view.
    alice = rooms["Alice Moreau"]
    long = "Also, " + "about the delivery date and the colour, " * 3 + "do you ship to Lyon too?"
    await hs.ok([f.text(alice["room"], f.ghost(alice["phone"]), long, ts=T0 + 2000),
                 f.text(alice["room"], f.BOT, "Sure.", ts=T0 + 3000)])  # fmt: skip
    found = (await api.get("/api/v1/conversations?q=ship+lyo"))["items"]
    assert [c["title"] for c in found] == ["Alice Moreau"]
    match = found[0]["match"]
    assert match["direction"] == "in" and match["text"].startswith("…")
    assert "do you ship to Lyon too?" in match["text"] and len(match["text"]) <= 141
    assert found[0]["last_message"]["text"] == "Sure."
    by_name = (await api.get("/api/v1/conversations?q=rossi"))["items"]
    assert by_name[0]["match"] is None  # the name matched, no message
    assert (await api.get("/api/v1/conversations"))["items"][0]["match"] is None
    counts = await api.get("/api/v1/conversations/counts")
    assert counts == {"mine": 1, "unassigned": 0, "all_open": 2, "unread": 2, "labels": {}}


async def test_bundle_messages_read_and_patch(api: API, hs: Homeserver, db: asyncpg.Pool) -> None:
    rooms = await _seed(hs)
    alice = rooms["Alice Moreau"]
    conv_id = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!room0'")
    contact_id = await db.fetchval("SELECT contact_id FROM conversations WHERE id = $1", conv_id)
    await db.execute(
        "INSERT INTO orders (contact_id, number, total, items) VALUES ($1, 'A-1', 99.5, $2)",
        contact_id,
        '[{"sku": "sofa", "qty": 1}]',
    )
    photo = f.event(alice["room"], "m.room.message", f.ghost(alice["phone"]), {
        "msgtype": "m.image", "body": "sofa.jpg", "url": "mxc://crm.localhost/abc",
        "info": {"mimetype": "image/jpeg", "w": 10, "h": 10, "thumbnail_url":
                 "mxc://crm.localhost/thumb"}}, ts=T0 + 2000)  # fmt: skip
    target = alice["events"][1]["event_id"]
    relates = {"rel_type": "m.annotation", "event_id": target, "key": "👍"}
    like = f.event(alice["room"], "m.reaction", f.ghost(alice["phone"]), {"m.relates_to": relates})
    reply = f.text(alice["room"], f.ghost(alice["phone"]), "great", ts=T0 + 3000)
    reply["content"]["m.relates_to"] = {"m.in_reply_to": {"event_id": photo["event_id"]}}
    oops = f.text(alice["room"], f.ghost(alice["phone"]), "secret", ts=T0 + 4000)
    redaction = f.event(alice["room"], "m.room.redaction", f.ghost(alice["phone"]),
                        {"redacts": oops["event_id"]})  # fmt: skip
    await hs.ok([photo, like, reply, oops, redaction])

    bundle = await api.get(f"/api/v1/conversations/{conv_id}")
    assert bundle["conversation"]["id"] == conv_id
    assert bundle["contact"]["display_name"] == "Alice Moreau"
    assert bundle["orders"][0]["number"] == "A-1"
    assert bundle["orders"][0]["items"] == [{"sku": "sofa", "qty": 1}]
    assert bundle["notes"] == []
    items = bundle["messages"]["items"]
    assert [m["body"] for m in items] == [
        "Do you ship to Lyon?", "Yes, in two days.", None, "great", None]  # fmt: skip
    first, ours, image, answer, deleted = items
    assert first["sender"]["type"] == "contact" and first["direction"] == "in"
    assert ours["direction"] == "out" and ours["status"] == "sent"
    assert ours["reactions"] == [{"key": "👍", "count": 1, "mine": False}]
    assert image["kind"] == "image" and image["media"]["filename"] == "sofa.jpg"
    assert image["media"]["url"] == f"/api/v1/media/{image['id']}"
    assert image["media"]["thumbnail_url"] == f"/api/v1/media/{image['id']}/thumbnail"
    assert answer["reply_to"] == image["id"]
    assert deleted["deleted_at"] is not None and deleted["body"] is None

    older = await api.get(f"/api/v1/conversations/{conv_id}/messages?limit=2")
    assert [m["body"] for m in older["items"]] == ["great", None]
    rest = await api.get(
        f"/api/v1/conversations/{conv_id}/messages?limit=2&cursor={older['next_cursor']}"
    )
    assert [m["kind"] for m in rest["items"]] == ["text", "image"]

    status, read = await api.call("POST", f"/api/v1/conversations/{conv_id}/read")
    assert status == 200 and read["unread_count"] == 0

    status, patched = await api.call(
        "PATCH", f"/api/v1/conversations/{conv_id}", json={"status": "resolved", "assignee_id": 1}
    )
    assert status == 200, patched
    assert (patched["status"], patched["assignee_id"]) == ("resolved", 1)
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    status, snoozed = await api.call(
        "PATCH", f"/api/v1/conversations/{conv_id}",
        json={"status": "snoozed", "snoozed_until": until})  # fmt: skip
    assert status == 200 and snoozed["snoozed_until"] is not None
    status, err = await api.call(
        "PATCH", f"/api/v1/conversations/{conv_id}", json={"status": "snoozed"})  # fmt: skip
    assert status == 422
    status, err = await api.call(
        "PATCH", f"/api/v1/conversations/{conv_id}", json={"assignee_id": 999})  # fmt: skip
    assert (status, err["error"]["field"]) == (422, "assignee_id")
    status, err = await api.call(
        "PATCH", f"/api/v1/conversations/{conv_id}", json={"colour": "red"})  # fmt: skip
    assert status == 422
    status, err = await api.call("GET", "/api/v1/conversations/99999")
    assert (status, err["error"]["code"]) == (404, "not_found")


async def test_a_snoozed_conversation_comes_back_when_its_time_is_up(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    await _seed(hs)
    conv_id = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!room0'")
    later = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!room1'")
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    async with api.client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()
        for cid, until in ((conv_id, soon), (later, tomorrow)):
            body = {"status": "snoozed", "snoozed_until": until}
            status, _ = await api.call("PATCH", f"/api/v1/conversations/{cid}", json=body)
            assert status == 200
        # The instance's own waker reopens it and every inbox hears of it.
        async with asyncio.timeout(snooze.INTERVAL + 5):
            while True:
                frame = await ws.receive_json()
                data = frame["data"]
                ours = frame["type"] == "conversation.updated" and data["id"] == conv_id
                if ours and data["status"] == "open":
                    break
        assert data["snoozed_until"] is None
    assert await db.fetchval("SELECT status FROM conversations WHERE id = $1", later) == "snoozed"
    # Due conversations are taken once, whichever instance asks first.
    await db.execute(
        "UPDATE conversations SET snoozed_until = now() - interval '1 s' WHERE id = $1", later
    )
    async with db.acquire() as a, db.acquire() as b:
        woken = await asyncio.gather(conversations.wake_snoozed(a), conversations.wake_snoozed(b))
    # (The instance's waker may have been first: then neither call took it.)
    assert len(woken[0] + woken[1]) <= 1
    assert await db.fetchval("SELECT status FROM conversations WHERE id = $1", later) == "open"


async def test_every_patch_field_takes_or_refuses_null_deliberately(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """Null clears what can be empty (an assignee, a contact's name, phone or e-mail) and is a
    422 naming the field for everything else: never a 500, nothing changed."""
    await hs.ok(
        [*f.portal("!nul", "3361000077", "Nia"), f.text("!nul", f.ghost("3361000077"), "hi")]
    )
    conversation = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!nul'")
    contact = await db.fetchval("SELECT contact_id FROM conversations WHERE id = $1", conversation)
    order = await db.fetchval(
        "INSERT INTO orders (contact_id, number, status, total) VALUES ($1, 'A-1', 'new', 1)"
        " RETURNING id",
        contact,
    )
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    refused = (
        [
            (f"/api/v1/conversations/{conversation}", field)
            for field in ("status", "snoozed_until", "is_archived")
        ]
        + [(f"/api/v1/contacts/{contact}", "attributes")]
        + [
            (f"/api/v1/orders/{order}", field)
            for field in ("number", "status", "total", "currency", "items")
        ]
        + [
            (f"/api/v1/managers/{me}", field)
            for field in ("name", "role", "is_active", "password")
        ]
    )
    for path, field in refused:
        status, body = await api.call("PATCH", path, json={field: None})
        assert (status, body["error"]["field"]) == (422, field), (path, body)
    status, body = await api.call("PATCH", f"/api/v1/conversations/{conversation}",
                                  json={"snoozed_until": "2999-01-01T00:00:00Z"})  # fmt: skip
    assert status == 422 and "goes with status snoozed" in body["error"]["message"]
    status, body = await api.call("PATCH", f"/api/v1/conversations/{conversation}",
                                  json={"assignee_id": None})  # fmt: skip
    assert status == 200 and body["assignee_id"] is None
    status, body = await api.call("PATCH", f"/api/v1/contacts/{contact}",
                                  json={"display_name": None, "email": None})  # fmt: skip
    assert status == 200 and body["display_name"] is None


async def test_a_customer_writing_again_brings_an_archived_conversation_back(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """Archived and resolved: the customer's next message puts it back in the inbox (open,
    unarchived, in the lists, the counts and search); history the bridge backfills does not."""
    ghost = f.ghost("3361000088")
    await hs.ok([*f.portal("!arc", "3361000088", "Ari"), f.text("!arc", ghost, "first")])
    conversation = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!arc'")
    path = f"/api/v1/conversations/{conversation}"
    status, _ = await api.call("PATCH", path, json={"status": "resolved", "is_archived": True})
    assert status == 200
    assert (await api.get("/api/v1/conversations"))["items"] == []
    old = f.text("!arc", ghost, "backfilled history", ts=1_000_000_000_000)
    await hs.ok([old])
    assert await db.fetchval("SELECT is_archived FROM conversations WHERE id = $1", conversation)
    await hs.ok([f.text("!arc", ghost, "are you still there?")])
    status, again = await api.call("GET", path)
    assert (again["conversation"]["is_archived"], again["conversation"]["status"]) == (
        False,
        "open",
    )
    assert [c["id"] for c in (await api.get("/api/v1/conversations"))["items"]] == [conversation]
    assert (await api.get("/api/v1/conversations/counts"))["all_open"] == 1
    found = await api.get("/api/v1/conversations", params={"q": "still there"})
    assert [c["id"] for c in found["items"]] == [conversation]


async def test_replying_in_an_unassigned_conversation_takes_it(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    """The first manager to answer an unassigned customer has them (colleagues see it, and do
    not answer too); an assigned conversation stays its assignee's; notes take nothing."""
    ghost = f.ghost("3361000099")
    await hs.ok([*f.portal("!take", "3361000099", "Tia"), f.text("!take", ghost, "hi")])
    conversation = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!take'")
    path = f"/api/v1/conversations/{conversation}"
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    status, _ = await api.call("POST", f"{path}/notes", json={"body": "call her back"})
    assert status == 201
    assert await db.fetchval("SELECT assignee_id FROM conversations WHERE id = $1",
                             conversation) is None  # fmt: skip
    async with api.client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()
        reply = {"client_txn_id": "take-1", "body": "Hello Tia"}
        status, _ = await api.call("POST", f"{path}/messages", json=reply)
        assert status == 202
        async with asyncio.timeout(10):
            while True:
                frame = await ws.receive_json()
                if frame["type"] == "conversation.updated" and frame["data"]["assignee_id"] == me:
                    break
    colleague = await add_manager("cole@example.com")
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", conversation,
                     colleague)  # fmt: skip
    status, _ = await api.call("POST", f"{path}/messages",
                               json={"client_txn_id": "take-2", "body": "Again"})  # fmt: skip
    assert status == 202
    assert await db.fetchval("SELECT assignee_id FROM conversations WHERE id = $1",
                             conversation) == colleague  # fmt: skip
