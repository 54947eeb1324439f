"""Quick replies: the team's kept by admins, each manager's own seen by nobody else, variables
filled in for a conversation (and a reply with one still in it refused), files kept in the
database and sent as an ordinary attachment."""

from __future__ import annotations

from collections.abc import Callable
import os
from typing import Any
import uuid

import aiohttp
import asyncpg

from testbed.media import png

from . import factories as f
from .conftest import API, Homeserver, bearer, define
from .matrix_world import World
from .test_outbox import status_is

Q = "/api/v1/quick-replies"


class Caller:
    """Another manager on the same test client, by an API token (no cookie shared)."""

    def __init__(self, api: API, headers: dict[str, str]) -> None:
        self.client, self.headers = api.client, headers

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        resp = await self.client.request(method, path, headers=self.headers, **kw)
        return resp.status, await resp.json()


async def _conversation(hs: Homeserver, db: asyncpg.Pool, room: str, phone: str, name: str) -> Any:
    await hs.ok([*f.portal(room, phone, name), f.text(room, f.ghost(phone), "Hello")])
    return await db.fetchrow("SELECT id, contact_id FROM conversations WHERE room_id = $1", room)


def _form(data: bytes, name: str, mimetype: str, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", data, filename=name, content_type=mimetype)
    return form


async def test_the_teams_are_kept_by_admins_and_a_managers_own_by_them_alone(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo = Caller(api, await bearer(db, await add_manager("mo@example.com", name="Mo")))
    ola = Caller(api, await bearer(db, await add_manager("ola@example.com", name="Ola")))
    body = {"name": "Greeting", "shortcut": "hi", "body": "Hello {{contact.first_name}}!"}
    status, team = await api.call("POST", Q, json=body)
    assert status == 201, team
    assert (team["personal"], team["can_edit"], team["variables"]) == (
        False, True, ["contact.first_name"])  # fmt: skip
    status, err = await mo.call("POST", Q, json={**body, "shortcut": "prices"})
    assert status == 403 and "make it your own" in err["error"]["message"]
    status, own = await mo.call("POST", Q, json={**body, "personal": True})
    assert status == 201 and own["personal"]  # the team's /hi is another set's
    status, err = await mo.call("POST", Q, json={**body, "personal": True, "name": "Again"})
    assert status == 409 and "/hi is taken" in err["error"]["message"]

    status, listed = await mo.call("GET", Q)
    assert [(q["id"], q["can_edit"]) for q in listed["items"]] == [
        (team["id"], False), (own["id"], True)]  # fmt: skip
    assert "contact.first_name" in listed["variables"] and "order.number" in listed["variables"]
    status, theirs = await ola.call("GET", Q)
    assert [q["id"] for q in theirs["items"]] == [team["id"]]
    assert [q["id"] for q in (await api.get(Q))["items"]] == [team["id"]]  # admins too
    for caller, path, expected in [
        (mo, f"{Q}/{team['id']}", 403),  # the team's: admins only
        (ola, f"{Q}/{own['id']}", 404),  # someone's own is not there for anyone else
        (api, f"{Q}/{own['id']}", 404),
    ]:
        status, _ = await caller.call("PATCH", path, json={"name": "Mine now"})
        assert status == expected, (path, status)
        status, _ = await caller.call("DELETE", path)
        assert status == expected, (path, status)
    status, changed = await mo.call("PATCH", f"{Q}/{own['id']}", json={"body": "Hey there"})
    assert (status, changed["body"], changed["variables"]) == (200, "Hey there", [])

    for bad, field in [
        ({**body, "shortcut": "Bad Key"}, "shortcut"),
        ({**body, "shortcut": "/hi2"}, "shortcut"),
        ({**body, "body": "x" * 4097}, "body"),
        ({**body, "body": ""}, "body"),
        ({**body, "name": "two\nlines"}, "name"),
        ({**body, "shortcut": "b1", "body": "Your budget: {{contact.budget}}"}, "body"),
        ({**body, "shortcut": "b2", "body": "{{customer.name}}"}, "body"),
        ({**body, "shortcut": "b3", "body": "Hi {{first_name}}"}, "body"),  # a typo
        ({**body, "shortcut": "b4", "body": "Hi {{Contact.First-Name}}"}, "body"),
    ]:
        status, err = await api.call("POST", Q, json=bad)
        assert (status, err["error"].get("field")) == (422, field), (bad, err)
    status, err = await api.call("POST", Q, json={**body, "shortcut": "b1",
                                                  "body": "{{contact.budget}}"})  # fmt: skip
    assert "there are {{contact.name}}" in err["error"]["message"]
    await define(api, budget="number")  # now it is a variable
    status, _ = await api.call("POST", Q, json={**body, "shortcut": "b1",
                                                "body": "Budget: {{contact.budget}}"})  # fmt: skip
    assert status == 201


async def test_a_quick_reply_filled_in_for_a_conversation_says_what_has_no_value(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _conversation(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    walk_in = await _conversation(hs, db, "!walkin", "4915112345679", "+49 151 12345679")
    await define(api, tier=["Gold", "Silver"], since="date")
    assert (
        await api.call(
            "PATCH",
            f"/api/v1/contacts/{anna['contact_id']}",
            json={"attributes": {"tier": "gold", "since": "2026-03-01"}},
        )
    )[0] == 200
    status, _ = await api.call("POST", f"/api/v1/contacts/{anna['contact_id']}/orders",
                               json={"number": "A-17", "total": "1234.5"})  # fmt: skip
    assert status == 201
    text = ("Hi {{contact.first_name}}, your order {{order.number}} ({{order.total}}) is on its "
            "way. {{ contact.tier }} since {{contact.since}}. {{manager.first_name}}")  # fmt: skip
    status, made = await api.call("POST", Q, json={"name": "Shipped", "shortcut": "shipped",
                                                   "body": text})  # fmt: skip
    assert status == 201, made
    status, filled = await api.call(
        "GET", f"/api/v1/conversations/{anna['id']}/quick-replies/{made['id']}"
    )
    assert status == 200, filled
    assert filled["text"] == ("Hi Anna, your order A-17 (1,234.50 EUR) is on its way. Gold since "
                              "2026-03-01. Anna")  # fmt: skip
    assert filled["missing"] == []
    status, filled = await api.call(
        "GET", f"/api/v1/conversations/{walk_in['id']}/quick-replies/{made['id']}"
    )
    # A name that is only a number, no order, no attributes: left as written, and named.
    assert filled["missing"] == ["contact.first_name", "order.number", "order.total",
                                 "contact.tier", "contact.since"]  # fmt: skip
    assert filled["text"].startswith("Hi {{contact.first_name}}, your order {{order.number}}")

    # Sent as it is, it is refused: never a blank or a variable to a customer.
    path = f"/api/v1/conversations/{walk_in['id']}/messages"
    status, err = await api.call("POST", path, json={"client_txn_id": "t1",
                                                     "body": filled["text"]})  # fmt: skip
    assert (status, err["error"]["field"]) == (422, "body")
    assert "Fill in {{contact.first_name}} first" in err["error"]["message"]
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 0
    status, err = await api.call("POST", path, json={"client_txn_id": "t2"})
    assert status == 422 and "a body or a file" in err["error"]["message"]
    status, sent = await api.call("POST", path, json={"client_txn_id": "t3", "body": "Hello"})
    assert status == 202
    status, err = await api.call("PATCH", f"/api/v1/messages/{sent['id']}",
                                 json={"body": "Hello {{ contact.name }}"})  # fmt: skip
    assert (status, err["error"]["field"]) == (422, "body")
    status, _ = await api.call("GET", f"/api/v1/conversations/999999/quick-replies/{made['id']}")
    assert status == 404
    status, _ = await api.call("GET", f"/api/v1/conversations/{anna['id']}/quick-replies/999999")
    assert status == 404


async def test_files_are_kept_shown_to_who_sees_them_and_limited(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo = Caller(api, await bearer(db, await add_manager("mo@example.com", name="Mo")))
    status, made = await api.call("POST", Q, json={"name": "Catalogue", "shortcut": "cat",
                                                   "body": "Our catalogue"})  # fmt: skip
    files = f"{Q}/{made['id']}/files"
    image = png(32, 24)
    status, out = await api.call("POST", files, data=_form(image, "sofa.png", "image/png",
                                                           width="32", height="24"))  # fmt: skip
    assert status == 201, out
    [shown] = out["files"]
    assert (shown["kind"], shown["size"], shown["width"], shown["filename"]) == (
        "image", len(image), 32, "sofa.png")  # fmt: skip
    resp = await mo.client.get(shown["url"], headers=mo.headers)  # the team's: anyone's
    assert resp.status == 200 and await resp.read() == image
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("inline")
    assert resp.headers["Content-Security-Policy"] == "sandbox"
    status, err = await mo.call("POST", files, data=_form(b"x", "a.txt", "text/plain"))
    assert status == 403  # the team's files are the admins' to add

    page = b"<html><script>alert(1)</script></html>"
    status, out = await api.call("POST", files, data=_form(page, "../../evil.html", "text/html"))
    assert status == 201
    html = out["files"][1]
    assert html["filename"] == "evil.html" and html["kind"] == "file"
    resp = await api.client.get(html["url"])
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["Content-Security-Policy"] == "sandbox"
    for i in range(3):
        assert (await api.call("POST", files, data=_form(b"%PDF", f"{i}.pdf", "application/pdf"))
                )[0] == 201  # fmt: skip
    status, err = await api.call("POST", files, data=_form(b"%PDF", "6.pdf", "application/pdf"))
    assert status == 409 and "at most 5 files" in err["error"]["message"]
    status, err = await api.call("POST", files, json={"file": "x"})
    assert status == 415
    status, out = await api.call("DELETE", f"{files}/{html['id']}")
    assert status == 200 and [x["filename"] for x in out["files"]][:1] == ["sofa.png"]
    assert html["id"] not in [x["id"] for x in out["files"]]
    status, err = await api.call("POST", files, data=_form(b"", "empty.png", "image/png"))
    assert (status, err["error"]["field"]) == (422, "file")
    big = b"\0" * (16 * 1024 * 1024 + 1)
    status, err = await api.call("POST", files, data=_form(big, "big.bin", "application/zip"))
    assert (status, err["error"]["code"]) == (413, "too_large")

    status, own = await mo.call("POST", Q, json={"name": "Mine", "shortcut": "mine",
                                                 "body": "Mine", "personal": True})  # fmt: skip
    status, out = await mo.call("POST", f"{Q}/{own['id']}/files",
                                data=_form(image, "mine.png", "image/png"))  # fmt: skip
    assert status == 201, out
    resp = await api.client.get(out["files"][0]["url"])  # an admin's neither
    assert resp.status == 404
    # A file of someone else's quick reply is no file to send either.
    anna = await _conversation(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    status, err = await api.call("POST", f"/api/v1/conversations/{anna['id']}/messages", json={
        "client_txn_id": uuid.uuid4().hex, "quick_reply_file": out["files"][0]["id"]})  # fmt: skip
    assert (status, err["error"]["field"]) == (422, "quick_reply_file")


async def test_a_quick_replys_file_reaches_the_bridge_with_its_caption_once(world: World) -> None:
    emu = world.emulator
    eva = await world.portal("15551240044", "Eva")
    conversation = await world.conversation_id(eva.room_id)
    inbox = await world.inbox()
    sofa = {"name": "Sofa", "shortcut": "sofa", "body": "The {{contact.first_name}} sofa"}
    status, made = await inbox.call("POST", Q, json=sofa)
    assert status == 201, made
    image = png(40, 30)
    status, made = await inbox.call("POST", f"{Q}/{made['id']}/files",
                                    data=_form(image, "sofa.png", "image/png", width="40",
                                               height="30"))  # fmt: skip
    assert status == 201, made
    status, filled = await inbox.call(
        "GET", f"/api/v1/conversations/{conversation}/quick-replies/{made['id']}"
    )
    assert (filled["text"], filled["missing"]) == ("The Eva sofa", [])
    body = {"client_txn_id": uuid.uuid4().hex, "body": filled["text"],
            "quick_reply_file": filled["files"][0]["id"]}  # fmt: skip
    path = f"/api/v1/conversations/{conversation}/messages"
    status, message = await inbox.call("POST", path, json=body)
    assert status == 202, message
    assert (message["kind"], message["body"], message["media"]["filename"]) == (
        "image", "The Eva sofa", "sofa.png")  # fmt: skip
    status, again = await inbox.call("POST", path, json=body)  # the same send again
    assert (status, again["id"]) == (200, message["id"])
    await world.until(lambda: status_is(world.db, message["id"], "read"), "the read tick")
    status, _ = await inbox.call("DELETE", f"{Q}/{made['id']}/files/{filled['files'][0]['id']}")
    assert status == 200
    status, again = await inbox.call("POST", path, json=body)  # its file gone: still that one
    assert (status, again["id"]) == (200, message["id"])
    [content] = [s.content for s in emu.sent_by_crm if s.content.get("msgtype") == "m.image"]
    assert content["body"] == "The Eva sofa" and content["filename"] == "sofa.png"
    assert (content["info"]["w"], content["info"]["h"]) == (40, 30)
    downloaded, _ = await emu.download(content["url"])
    assert downloaded == image
    spool = world.crm.settings.media.spool_dir
    assert not os.path.isdir(spool) or os.listdir(spool) == []  # the copies are gone again
