"""Labels: the team's list kept by admins, put on conversations and contacts by any manager who
sees them, filtered by, counted per label, and pushed live (`label.updated`, `label.deleted`,
`conversation.updated`). Which lists hold which labelled conversations: test_list_rules.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from crm_appservice.config import Settings

from . import factories as f
from .conftest import API, ConfigFactory, Homeserver, bearer, offline_settings
from .test_live import frames_until
from .test_quick_replies import Caller

L = "/api/v1/labels"
C = "/api/v1/conversations"


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    # Managers see their own and unassigned conversations: counts and labelling follow that.
    return offline_settings(make_config, {"web.managers_see": "assigned"})


async def _chat(hs: Homeserver, db: asyncpg.Pool, n: int) -> asyncpg.Record:
    room, phone = f"!label{n}", f"3369100{n:04d}"
    await hs.ok([*f.portal(room, phone, f"Customer {n}"), f.text(room, f.ghost(phone), "hi")])
    row = await db.fetchrow("SELECT id, contact_id FROM conversations WHERE room_id = $1", room)
    assert row is not None
    return row


async def _label(api: API, name: str, colour: str = "#2e7d32") -> int:
    status, made = await api.call("POST", L, json={"name": name, "colour": colour})
    assert status == 201, made
    label_id: int = made["id"]
    return label_id


async def test_admins_keep_the_list_and_bad_names_and_colours_are_refused(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo = Caller(api, await bearer(db, await add_manager("mo@example.com")))
    status, vip = await api.call("POST", L, json={"name": "  VIP ", "colour": "#C62828"})
    assert status == 201 and (vip["name"], vip["colour"]) == ("VIP", "#c62828")
    await _label(api, "complaint")
    for body, field in [
        ({"name": "", "colour": "#000000"}, "name"),
        ({"name": "two\nlines", "colour": "#000000"}, "name"),
        ({"name": "x" * 41, "colour": "#000000"}, "name"),
        ({"name": "Red", "colour": "red"}, "colour"),
        ({"name": "Red", "colour": "#ggg000"}, "colour"),
        ({"name": "Red", "colour": "#fff"}, "colour"),
        ({"name": "Red", "colour": "#000000", "extra": 1}, "extra"),
    ]:
        status, err = await api.call("POST", L, json=body)
        assert status == 422 and err["error"]["field"] == field, (body, err)
    status, err = await api.call("POST", L, json={"name": "vip", "colour": "#000000"})
    assert status == 409 and "named vip already" in err["error"]["message"]
    status, _ = await mo.call("POST", L, json={"name": "Mine", "colour": "#000000"})
    assert status == 403
    status, _ = await mo.call("PATCH", f"{L}/{vip['id']}", json={"name": "Mine"})
    assert status == 403
    status, _ = await mo.call("DELETE", f"{L}/{vip['id']}")
    assert status == 403

    status, renamed = await api.call("PATCH", f"{L}/{vip['id']}", json={"name": "Big fish"})
    assert status == 200 and renamed["colour"] == "#c62828"
    status, err = await api.call("PATCH", f"{L}/{vip['id']}", json={"name": "COMPLAINT"})
    assert status == 409
    status, err = await api.call("PATCH", f"{L}/{vip['id']}", json={"colour": None})
    assert status == 422  # a label always has a colour
    # Everyone reads the list, by name whatever the case.
    _, listed = await mo.call("GET", L)
    assert [x["name"] for x in listed["items"]] == ["Big fish", "complaint"]
    # A name is text, never markup: kept as written, the browser shows it as text.
    status, html = await api.call("POST", L, json={"name": "<b>x</b>", "colour": "#000000"})
    assert status == 201 and html["name"] == "<b>x</b>"


async def test_labelling_a_conversation_is_pushed_live_and_a_deleted_label_leaves_no_trace(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    chat = await _chat(hs, db, 1)
    path = f"{C}/{chat['id']}/labels"
    async with api.client.ws_connect("/api/v1/ws") as ws:
        assert (await ws.receive_json())["type"] == "hello"
        vip = await _label(api, "VIP")
        created = await frames_until(ws, {"label.updated"})
        assert created[-1]["data"] == {**created[-1]["data"], "id": vip, "name": "VIP"}
        wholesale = await _label(api, "Wholesale")
        await frames_until(ws, {"label.updated"})

        status, conv = await api.call("POST", path, json={"label_id": vip})
        assert status == 200 and conv["label_ids"] == [vip]
        frame = (await frames_until(ws, {"conversation.updated"}))[-1]
        assert frame["data"]["label_ids"] == [vip] and frame["data"]["version"] == conv["version"]
        # Again: nothing changes, nothing is pushed.
        before = await db.fetchval("SELECT max(seq) FROM live_events")
        status, again = await api.call("POST", path, json={"label_id": vip})
        assert status == 200 and again["version"] == conv["version"]
        assert await db.fetchval("SELECT max(seq) FROM live_events") == before
        status, conv = await api.call("POST", path, json={"label_id": wholesale})
        assert conv["label_ids"] == [vip, wholesale]
        await frames_until(ws, {"conversation.updated"})
        status, err = await api.call("POST", path, json={"label_id": 999_999})
        assert status == 422 and err["error"]["field"] == "label_id"
        status, conv = await api.call("DELETE", f"{path}/{vip}")
        assert status == 200 and conv["label_ids"] == [wholesale]
        await frames_until(ws, {"conversation.updated"})

        status, labelled = await api.call(
            "POST", f"/api/v1/contacts/{chat['contact_id']}/labels", json={"label_id": wholesale}
        )
        assert status == 200 and labelled == {"label_ids": [wholesale]}
        status, _ = await api.call("DELETE", f"{L}/{wholesale}")
        assert status == 200
        gone = await frames_until(ws, {"label.deleted"})
        assert gone[-1]["data"] == {"id": wholesale}
        # One frame for the deletion, none per conversation: the browsers take it off.
        assert not any(fr["type"] == "conversation.updated" for fr in gone)
    assert await db.fetchval("SELECT label_ids FROM conversations WHERE id = $1", chat["id"]) == []
    contact = await api.get(f"/api/v1/contacts/{chat['contact_id']}")
    assert contact["label_ids"] == []
    status, _ = await api.call("DELETE", f"{L}/{wholesale}")
    assert status == 404


async def test_two_managers_labelling_at_once_both_keep_theirs(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    chat = await _chat(hs, db, 2)
    mo = Caller(api, await bearer(db, await add_manager("mo@example.com")))
    labels = [await _label(api, f"L{i}") for i in range(12)]
    path = f"{C}/{chat['id']}/labels"
    results = await asyncio.gather(*(
        (api if i % 2 else mo).call("POST", path, json={"label_id": label})
        for i, label in enumerate(labels)
    ))  # fmt: skip
    assert all(status == 200 for status, _ in results)
    stored = await db.fetchval("SELECT label_ids FROM conversations WHERE id = $1", chat["id"])
    assert sorted(stored) == sorted(labels)


async def test_a_label_deleted_while_being_added_is_on_no_row(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    chats = [await _chat(hs, db, n) for n in range(3, 9)]
    for _ in range(5):
        label = await _label(api, "Racing")
        adds = [api.call("POST", f"{C}/{c['id']}/labels", json={"label_id": label}) for c in chats]
        await asyncio.gather(api.call("DELETE", f"{L}/{label}"), *adds)
        dangling = await db.fetchval(
            "SELECT count(*) FROM conversations WHERE label_ids @> ARRAY[$1]::bigint[]", label
        )
        assert dangling == 0


async def test_a_row_holds_at_most_fifty_labels(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    chat = await _chat(hs, db, 9)
    labels = [await _label(api, f"Tag {i}") for i in range(51)]
    await db.execute(
        "UPDATE conversations SET label_ids = $2 WHERE id = $1", chat["id"], labels[:50]
    )
    status, err = await api.call("POST", f"{C}/{chat['id']}/labels", json={"label_id": labels[50]})
    assert status == 422 and "At most 50" in err["error"]["message"]


async def test_counts_and_labelling_follow_what_a_manager_sees(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mine, free, theirs = [await _chat(hs, db, n) for n in (10, 11, 12)]
    me, other = await add_manager("mo@example.com"), await add_manager("ola@example.com")
    mo = Caller(api, await bearer(db, me))
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", mine["id"], me)
    await db.execute(
        "UPDATE conversations SET assignee_id = $2 WHERE id = $1", theirs["id"], other
    )
    vip = await _label(api, "VIP")
    for chat in (mine, free, theirs):
        status, _ = await api.call("POST", f"{C}/{chat['id']}/labels", json={"label_id": vip})
        assert status == 200
    assert (await api.get(f"{C}/counts"))["labels"] == {str(vip): 3}
    _, counts = await mo.call("GET", f"{C}/counts")
    assert counts["labels"] == {str(vip): 2}
    _, page = await mo.call("GET", f"{C}?label={vip}")
    assert sorted(c["id"] for c in page["items"]) == sorted([mine["id"], free["id"]])
    status, _ = await mo.call("DELETE", f"{C}/{theirs['id']}/labels/{vip}")
    assert status == 404
    # Resolved ones are not counted (as the tabs count the open ones).
    await api.call("PATCH", f"{C}/{free['id']}", json={"status": "resolved"})
    assert (await api.get(f"{C}/counts"))["labels"] == {str(vip): 2}


async def test_contacts_are_filtered_by_any_or_all_of_their_labels(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    a, b, c = [await _chat(hs, db, n) for n in (13, 14, 15)]
    vip, wholesale = await _label(api, "VIP"), await _label(api, "Wholesale")
    for chat, labels in ((a, [vip]), (b, [vip, wholesale]), (c, [])):
        for label in labels:
            path = f"/api/v1/contacts/{chat['contact_id']}/labels"
            status, _ = await api.call("POST", path, json={"label_id": label})
            assert status == 200

    async def ids(query: str) -> list[int]:
        page = await api.get(f"/api/v1/contacts?{query}")
        return sorted(x["id"] for x in page["items"])

    assert await ids(f"label={vip}") == sorted([a["contact_id"], b["contact_id"]])
    assert await ids(f"label={vip}&label={wholesale}&label_match=all") == [b["contact_id"]]
    assert await ids(f"label={wholesale}") == [b["contact_id"]]
    listed = await api.get(f"/api/v1/contacts?label={wholesale}")
    assert listed["items"][0]["label_ids"] == [vip, wholesale]


@pytest.mark.parametrize(
    "query",
    [
        "label=abc",
        "label=0",
        "label=99999999999999999999",
        "label_match=some",
        "&".join(f"label={i}" for i in range(1, 12)),
    ],
)
async def test_bad_label_filters_are_refused(api: API, query: str) -> None:
    for path in (C, "/api/v1/contacts"):
        status, err = await api.call("GET", f"{path}?{query}")
        assert status == 422, (path, query, err)


async def test_the_longest_list_query_the_document_allows_is_answered_in_json(api: API) -> None:
    """Five attribute conditions of 300 four-byte characters (3,600 bytes each, percent-encoded)
    and ten labels: past aiohttp's 8190-byte request line, which its parser refuses in plain
    text before any handler runs."""
    long = "%F0%98%BB%97" * 300
    query = "&".join([*(f"attribute={long}" for _ in range(5)),
                      *(f"label={i}" for i in range(1, 11))])  # fmt: skip
    for path in ("/api/v1/contacts", "/api/v1/contacts/export.csv"):
        async with api.client.get(f"{path}?{query}") as resp:
            assert resp.content_type == "application/json", (path, await resp.text())
            assert resp.status == 422  # no such attribute: said by the API, in its words
    async with api.client.get(
        f"{C}?{'&'.join(f'label={i}' for i in range(1, 11))}&q=" + "%F0%98%BB%97" * 200
    ) as resp:
        assert resp.status == 200 and resp.content_type == "application/json"
