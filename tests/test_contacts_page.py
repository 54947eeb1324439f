"""The Contacts page's API: every contact by name or newest first, paged by keyset without a
gap or a repeat, found by any part of a name, any of the person's numbers written any way, an
e-mail address or an attribute; filtered by owner and number; and a contact's own page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from . import factories as f
from .conftest import API, Homeserver, define


async def _contact(hs: Homeserver, db: asyncpg.Pool, room: str, phone: str, name: str) -> int:
    await hs.ok([*f.portal(room, phone, name), f.text(room, f.ghost(phone), "Hello")])
    found: int = await db.fetchval("SELECT contact_id FROM conversations WHERE room_id = $1", room)
    return found


async def _all(api: API, **params: Any) -> list[dict[str, Any]]:
    """Every page of the list, following next_cursor."""
    items: list[dict[str, Any]] = []
    query = {"limit": "7", **params}
    while True:
        page = await api.get("/api/v1/contacts", params=query)
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        query["cursor"] = page["next_cursor"]


async def test_every_contact_pages_once_in_either_order(api: API, db: asyncpg.Pool) -> None:
    # Names that sort close together (and alike but for case), and contacts without a name.
    await db.execute(
        """INSERT INTO contacts (platform, remote_id, display_name, phone, created_at)
           SELECT 'whatsapp', (15552000000 + i)::text,
                  CASE WHEN i % 9 = 0 THEN NULL WHEN i % 2 = 0 THEN 'anna ' || (i % 5)
                       ELSE 'Anna ' || (i % 5) END,
                  '+' || (15552000000 + i), now() - (i % 4 || ' hours')::interval
             FROM generate_series(1, 60) i"""
    )
    by_name = await _all(api)
    assert len(by_name) == 60 and len({c["id"] for c in by_name}) == 60
    keys = [((c["display_name"] or c["phone"]).lower(), c["id"]) for c in by_name]
    assert keys == sorted(keys)
    newest = await _all(api, sort="newest")
    assert sorted(c["id"] for c in newest) == sorted(c["id"] for c in by_name)
    stamps = [(c["created_at"], c["id"]) for c in newest]
    assert stamps == sorted(stamps, reverse=True)


async def test_search_by_name_any_number_email_and_attribute(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    bob = await _contact(hs, db, "!bob", "4917699887766", "Bob Meyer")
    await define(api, city="text")
    status, _ = await api.call("PATCH", f"/api/v1/contacts/{bob}",
                               json={"email": "bob@meyer-moebel.de",
                                     "attributes": {"city": "Hamburg"}})  # fmt: skip
    assert status == 200
    # A number Anna had before her current one.
    await db.execute(
        "INSERT INTO contact_phones (contact_id, phone) VALUES ($1, '+4930555123')", anna
    )
    for q, expected in [
        ("schmi", [anna]), ("ANNA", [anna]), ("+49 151 1234", [anna]), ("0151-12345", [anna]),
        ("(030) 555", [anna]), ("meyer-moe", [bob]), ("hamburg", [bob]), ("49", [anna, bob]),
        ("nobody", []), ("%", []), ("_", []),
    ]:  # fmt: skip
        page = await api.get("/api/v1/contacts", params={"q": q})
        assert sorted(c["id"] for c in page["items"]) == sorted(expected), q
    row = (await api.get("/api/v1/contacts", params={"q": "anna"}))["items"][0]
    assert (row["phone"], row["conversation_count"]) == ("+4915112345678", 1)
    assert row["last_message_at"] is not None


async def test_owners_and_my_customers(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    bob = await _contact(hs, db, "!bob", "4917699887766", "Bob Meyer")
    ola = await add_manager("ola@example.com", name="Ola")
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    status, owned = await api.call("PATCH", f"/api/v1/contacts/{anna}", json={"owner_id": me})
    assert (status, owned["owner_id"], owned["owner_name"]) == (200, me, "Anna")
    await api.call("PATCH", f"/api/v1/contacts/{bob}", json={"owner_id": ola})
    mine = await api.get("/api/v1/contacts", params={"owner": "me"})
    assert [c["id"] for c in mine["items"]] == [anna]
    theirs = await api.get("/api/v1/contacts", params={"owner": str(ola)})
    assert [(c["id"], c["owner_name"]) for c in theirs["items"]] == [(bob, "Ola")]
    await api.call("PATCH", f"/api/v1/contacts/{bob}", json={"owner_id": None})
    nobodys = await api.get("/api/v1/contacts", params={"owner": "none"})
    assert [c["id"] for c in nobodys["items"]] == [bob]
    for body in ({"owner_id": 999_999}, {"owner_id": 0}, {"owner_id": "1; DROP TABLE x"}):
        status, err = await api.call("PATCH", f"/api/v1/contacts/{bob}", json=body)
        assert (status, err["error"]["field"]) == (422, "owner_id"), body
    await db.execute("UPDATE managers SET is_active = false WHERE id = $1", ola)
    status, err = await api.call("PATCH", f"/api/v1/contacts/{bob}", json={"owner_id": ola})
    assert (status, err["error"]["field"]) == (422, "owner_id")


async def test_a_new_chat_of_an_owned_contact_goes_to_its_owner(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    ola = await add_manager("ola@example.com", name="Ola")
    await db.execute(
        """INSERT INTO contacts (platform, remote_id, phone, display_name, owner_id)
           VALUES ('whatsapp', '4915100000001', '+4915100000001', 'Imported', $1),
                  ('whatsapp', '4915100000002', '+4915100000002', 'Gone owner', $2)""",
        ola,
        await add_manager("gone@example.com"),
    )
    await db.execute("UPDATE managers SET is_active = false WHERE email = 'gone@example.com'")
    await hs.ok([*f.portal("!imp", "4915100000001", "Imported"),
                 f.text("!imp", f.ghost("4915100000001"), "Hi, it's me")])  # fmt: skip
    await hs.ok([*f.portal("!gone", "4915100000002", "Gone owner"),
                 f.text("!gone", f.ghost("4915100000002"), "Hello?")])  # fmt: skip
    rows = await db.fetch(
        "SELECT room_id, assignee_id FROM conversations WHERE room_id IN ('!imp', '!gone')"
    )
    assert {r["room_id"]: r["assignee_id"] for r in rows} == {"!imp": ola, "!gone": None}
    history = await db.fetch(
        "SELECT h.change, h.assignee_id FROM conversation_history h"
        " JOIN conversations c ON c.id = h.conversation_id WHERE c.room_id = '!imp'"
    )
    assert ("assignee", ola) in [(h["change"], h["assignee_id"]) for h in history]


async def test_a_contacts_page_and_a_merged_contacts_old_address(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    twin = await _contact(hs, db, "!twin", "4930555123", "Anna S.")
    rooms = {
        r["room_id"]: r["id"] for r in await db.fetch("SELECT id, room_id FROM conversations")
    }
    page = await api.get(f"/api/v1/contacts/{anna}")
    assert [c["id"] for c in page["conversations"]] == [rooms["!anna"]]
    assert [p["phone"] for p in page["phones"]] == ["+4915112345678"]
    from crm_appservice.store import people

    async with db.acquire() as conn, conn.transaction():
        await people.merge_contacts(conn, keep=anna, gone=twin)
    merged = await api.get(f"/api/v1/contacts/{twin}")
    assert merged["id"] == anna
    # Newest activity first: the twin's chat had the last message.
    assert [c["id"] for c in merged["conversations"]] == [rooms["!twin"], rooms["!anna"]]
    listed = await api.get("/api/v1/contacts")
    assert [c["id"] for c in listed["items"]] == [anna]
    status, _ = await api.call("GET", "/api/v1/contacts/424242")
    assert status == 404


async def test_bad_list_queries_are_refused(api: API) -> None:
    for params, field in [
        ({"sort": "phone; DROP"}, "sort"), ({"owner": "someone"}, "owner"),
        ({"number": "1' OR 1"}, "number"), ({"limit": "1000"}, "limit"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"), ({"cursor": "!!"}, "cursor"),
        ({"q": "x" * 201}, "q"), ({"extra": "1"}, "extra"),
    ]:  # fmt: skip
        status, err = await api.call("GET", "/api/v1/contacts", params=params)
        assert (status, err["error"]["field"]) == (422, field), params


async def test_attributes_postgres_cannot_hold_are_refused_and_nothing_changes(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await define(api, city="text", a="text")
    await api.call("PATCH", f"/api/v1/contacts/{anna}", json={"attributes": {"city": "Köln"}})
    for attributes in ({"a": "x\u0000y"}, {"a\u0000": 1}, {"": "empty name"}, {"k" * 65: 1},
                       {"a": "x" * 2001}, {f"k{i}": i for i in range(101)}):  # fmt: skip
        status, err = await api.call(
            "PATCH", f"/api/v1/contacts/{anna}", json={"attributes": attributes}
        )
        assert status == 422 and err["error"]["field"].startswith("attributes"), attributes
    assert (await api.get(f"/api/v1/contacts/{anna}"))["attributes"] == {"city": "Köln"}


async def test_a_contacts_timeline_tells_what_happened_in_every_conversation(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    chat = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!anna'")
    ola = await add_manager("ola@example.com", name="Ola")
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", f"/api/v1/conversations/{chat}", {"assignee_id": ola}),
        ("POST", f"/api/v1/conversations/{chat}/notes", {"body": "Wants the blue sofa"}),
        ("POST", f"/api/v1/contacts/{anna}/orders", {"number": "A-7", "total": "99.50"}),
        ("PATCH", f"/api/v1/conversations/{chat}", {"status": "resolved"}),
    ]
    for method, path, body in steps:
        status, answer = await api.call(method, path, json=body)
        assert status in (200, 201), answer
    events = (await api.get(f"/api/v1/contacts/{anna}"))["timeline"]
    seen = [(e["kind"], e["text"], e["actor_name"]) for e in events]
    assert seen[:4] == [
        ("status", "resolved", "Anna"), ("order", "#A-7 · 99.50 EUR · new", None),
        ("note", "Wants the blue sofa", "Anna"), ("assignee", "Ola", "Anna"),
    ]  # fmt: skip
    assert ("conversation", "Anna Schmidt", None) in seen
    assert all(e["conversation_id"] in (chat, None) for e in events)


async def test_a_number_a_manager_types_is_stored_as_every_number_is(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    status, edited = await api.call(
        "PATCH", f"/api/v1/contacts/{anna}", json={"phone": "+49 (151) 2345-6789"}
    )
    assert (status, edited["phone"]) == (200, "+4915123456789")
    for typed in ("+1 2345", "0151 2345 6789"):  # too short; no country code
        status, err = await api.call("PATCH", f"/api/v1/contacts/{anna}", json={"phone": typed})
        assert (status, err["error"]["field"]) == (422, "phone"), typed
    assert (await api.get(f"/api/v1/contacts/{anna}"))["phone"] == "+4915123456789"
