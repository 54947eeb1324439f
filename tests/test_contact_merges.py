"""Managers merge two contacts into one (suggested when they look like the same person) and undo
it: every conversation, note, order, number and attribute goes where it belongs, both ways."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg

from . import factories as f
from .conftest import API, PASSWORD, Homeserver, define
from .test_contacts_page import _contact


async def _people(hs: Homeserver, db: asyncpg.Pool, api: API) -> dict[str, int]:
    ids = {
        "anna": await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt"),
        "twin": await _contact(hs, db, "!twin", "4930555123", "Anna S."),
        "bob": await _contact(hs, db, "!bob", "4917699887766", "Bob Meyer"),
    }
    ids["namesake"] = await db.fetchval(
        "INSERT INTO contacts (platform, remote_id, display_name)"
        " VALUES ('email', 'a.schmidt@example.org', 'anna schmidt') RETURNING id"
    )
    await define(api, vip="boolean", city="text")
    for who, changes in (
        ("anna", {"email": "anna@example.de", "attributes": {"vip": True}}),
        ("twin", {"email": "ANNA@example.de", "attributes": {"city": "Köln"}}),
    ):
        status, _ = await api.call("PATCH", f"/api/v1/contacts/{ids[who]}", json=changes)
        assert status == 200
    for who, number in (("anna", "A-1"), ("twin", "T-1")):
        status, _ = await api.call(
            "POST", f"/api/v1/contacts/{ids[who]}/orders", json={"number": number, "total": "10"}
        )
        assert status == 201
    return ids


async def test_merge_and_undo_keep_every_conversation_order_and_note(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    ids = await _people(hs, db, api)
    rooms = {
        r["room_id"]: r["id"] for r in await db.fetch("SELECT id, room_id FROM conversations")
    }
    status, _ = await api.call("POST", f"/api/v1/conversations/{rooms['!twin']}/notes",
                               json={"body": "Prefers calls after 5"})  # fmt: skip
    assert status == 201

    found = await api.get(f"/api/v1/contacts/{ids['anna']}/duplicates")
    assert {d["id"]: d["reasons"] for d in found["items"]} == {
        ids["twin"]: ["email"], ids["namesake"]: ["name"]}  # fmt: skip

    before = await db.fetchval("SELECT max(seq) FROM live_events")
    status, merged = await api.call(
        "POST", f"/api/v1/contacts/{ids['anna']}/merge", json={"contact_id": ids["twin"]}
    )
    assert status == 200, merged
    # Both chats are pushed live: the one that moved, and Anna's own (her contact changed).
    pushed = await db.fetch(
        "SELECT ref_id FROM live_events WHERE seq > $1 AND type = 'conversation.updated'", before
    )
    assert {r["ref_id"] for r in pushed} == {rooms["!anna"], rooms["!twin"]}
    anna = merged["contact"]
    assert anna["id"] == ids["anna"]
    assert sorted(c["id"] for c in anna["conversations"]) == sorted(
        [rooms["!anna"], rooms["!twin"]]
    )
    assert sorted(o["number"] for o in anna["orders"]) == ["A-1", "T-1"]
    assert anna["attributes"] == {"vip": True, "city": "Köln"}
    assert sorted(p["phone"] for p in anna["phones"]) == ["+4915112345678", "+4930555123"]
    assert [(m["gone_id"], m["can_undo"]) for m in anna["merges"]] == [(ids["twin"], True)]
    assert (await api.get(f"/api/v1/contacts/{ids['twin']}"))["id"] == ids["anna"]
    listed = await api.get("/api/v1/contacts", params={"q": "anna"})
    assert sorted(c["id"] for c in listed["items"]) == sorted([ids["anna"], ids["namesake"]])
    bundle = await api.get(f"/api/v1/conversations/{rooms['!twin']}")
    assert bundle["contact"]["id"] == ids["anna"]
    assert [n["body"] for n in bundle["notes"]] == ["Prefers calls after 5"]

    # Life goes on: the twin writes again, a manager changes an attribute the merge brought.
    await hs.ok([f.text("!twin", f.ghost("4930555123"), "Any news?")])
    await api.call("PATCH", f"/api/v1/contacts/{ids['anna']}",
                   json={"attributes": {"vip": True, "city": "Berlin"}})  # fmt: skip

    await add_manager("mo@example.com", name="Mo")
    mo = API(api.client)
    assert (await mo.login("mo@example.com", PASSWORD))[0] == 200
    status, refused = await mo.call(
        "POST", f"/api/v1/contact-merges/{anna['merges'][0]['id']}/undo"
    )
    assert status == 403, refused
    assert (await mo.get(f"/api/v1/contacts/{ids['anna']}"))["merges"][0]["can_undo"] is False
    admin = API(api.client)
    assert (await admin.login("anna@example.com", PASSWORD))[0] == 200
    status, undone = await admin.call(
        "POST", f"/api/v1/contact-merges/{anna['merges'][0]['id']}/undo"
    )
    assert status == 200, undone
    twin = undone["contact"]
    assert twin["id"] == ids["twin"]
    assert [c["id"] for c in twin["conversations"]] == [rooms["!twin"]]
    assert [o["number"] for o in twin["orders"]] == ["T-1"]
    assert (twin["email"], twin["attributes"]) == ("ANNA@example.de", {"city": "Köln"})
    anna = await admin.get(f"/api/v1/contacts/{ids['anna']}")
    assert [c["id"] for c in anna["conversations"]] == [rooms["!anna"]]
    assert [o["number"] for o in anna["orders"]] == ["A-1"]
    assert [p["phone"] for p in anna["phones"]] == ["+4915112345678"]
    # What a manager changed since the merge stays as they left it.
    assert anna["attributes"] == {"vip": True, "city": "Berlin"}
    assert [m["undone_at"] is not None for m in anna["merges"]] == [True]
    bundle = await admin.get(f"/api/v1/conversations/{rooms['!twin']}")
    assert bundle["contact"]["id"] == ids["twin"]
    assert [n["body"] for n in bundle["notes"]] == ["Prefers calls after 5"]
    texts = [m["body"] for m in bundle["messages"]["items"]]
    assert "Any news?" in texts
    status, again = await admin.call(
        "POST", f"/api/v1/contact-merges/{anna['merges'][0]['id']}/undo"
    )
    assert status == 409, again


async def test_merges_that_cannot_be_are_refused(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    ids = await _people(hs, db, api)
    merge = f"/api/v1/contacts/{ids['anna']}/merge"
    for body, expected in (({"contact_id": ids["anna"]}, 409), ({"contact_id": 999_999}, 422),
                           ({"contact_id": "2 OR 1=1"}, 422), ({}, 422),
                           ({"contact_id": ids["bob"], "into": 1}, 422)):  # fmt: skip
        status, _ = await api.call("POST", merge, json=body)
        assert status == expected, body
    status, first = await api.call("POST", merge, json={"contact_id": ids["twin"]})
    assert status == 200
    # Merged into another since: the first merge cannot be undone before the later one.
    status, second = await api.call("POST", f"/api/v1/contacts/{ids['namesake']}/merge",
                                    json={"contact_id": ids["anna"]})  # fmt: skip
    assert status == 200
    status, refused = await api.call("POST", f"/api/v1/contact-merges/{first['merge_id']}/undo")
    assert status == 409 and "later merge" in refused["error"]["message"]
    status, _ = await api.call("POST", f"/api/v1/contact-merges/{second['merge_id']}/undo")
    assert status == 200
    status, _ = await api.call("POST", f"/api/v1/contact-merges/{first['merge_id']}/undo")
    assert status == 200
    assert len((await api.get("/api/v1/contacts"))["items"]) == 4
    status, _ = await api.call("POST", "/api/v1/contact-merges/424242/undo")
    assert status == 404


async def test_a_bridge_merge_racing_a_managers_merge_follows_it(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The bridge says twin is Bob's account while a manager merges twin into Anna: the bridge's
    merge waits for the manager's and then follows twin to Anna, so twin, Anna and Bob end one
    contact, none pointing at one while its chats went to another."""
    from crm_appservice.store import contact_merges, contacts, people

    ids = await _people(hs, db, api)
    manager = await db.fetchval("SELECT id FROM managers LIMIT 1")
    async with db.acquire() as first, db.acquire() as second:
        manager_tx = first.transaction()
        await manager_tx.start()
        await contact_merges.merge(first, ids["anna"], ids["twin"], manager)

        async def bridge() -> list[int]:
            async with second.transaction():
                return await people.merge_contacts(second, ids["bob"], ids["twin"])

        racing = asyncio.create_task(bridge())
        await asyncio.sleep(0.5)
        assert not racing.done()  # waits for the manager's merge
        await manager_tx.commit()
        await asyncio.wait_for(racing, 10)
    heirs = {who: await contacts.heir(db, i) or i for who, i in ids.items()}
    assert heirs["twin"] == heirs["anna"] == heirs["bob"]
    for table in ("ghosts", "conversations"):
        stray = await db.fetchval(
            f"SELECT count(*) FROM {table} t JOIN contacts c ON c.id = t.contact_id"
            " WHERE c.merged_into IS NOT NULL"
        )
        assert stray == 0, table
