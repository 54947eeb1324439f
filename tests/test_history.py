"""A conversation's history: every change to it, by whom and when, in the thread's pages and
on the live connection, whichever path made it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from crm_appservice.store import conversations, history

from . import factories as f
from .conftest import API, PASSWORD, Homeserver

T0 = 1_800_000_000_000  # ms
ROOM, PHONE = "!history", "33611112222"


async def _conversation(hs: Homeserver, db: asyncpg.Pool) -> int:
    await hs.ok(f.portal(ROOM, PHONE, "Hugo"))
    await hs.ok([f.text(ROOM, f.ghost(PHONE), "Hello?", ts=T0)])
    conversation_id: int = await db.fetchval(
        "SELECT id FROM conversations WHERE room_id = $1", ROOM
    )
    return conversation_id


def _said(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each change as (what, new value, cause, who)."""
    value = {"assignee": "assignee_name", "status": "status", "archived": "archived"}
    return [(c["change"], c[value[c["change"]]], c["cause"], c["actor_name"]) for c in changes]


async def test_every_change_is_in_the_thread_by_whom_and_when(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    conversation = await _conversation(hs, db)
    olga = await add_manager("olga@example.com", name="Olga")
    path = f"/api/v1/conversations/{conversation}"
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    for change in [
        {"assignee_id": olga},
        {"status": "snoozed", "snoozed_until": until.isoformat()},
        {"status": "resolved", "is_archived": True},
        {"assignee_id": None},
    ]:
        status, body = await api.call("PATCH", path, json=change)
        assert status == 200, body
    # The customer writes again: reopened and back from the archive, by the customer.
    await hs.ok([f.text(ROOM, f.ghost(PHONE), "Still there?", ts=T0 + 60_000)])
    page = (await api.get(path))["messages"]
    assert _said(page["history"]) == [
        ("assignee", "Olga", "manager", "Anna"),
        ("status", "snoozed", "manager", "Anna"),
        ("status", "resolved", "manager", "Anna"),
        ("archived", True, "manager", "Anna"),
        ("assignee", None, "manager", "Anna"),
        ("status", "open", "customer", None),
        ("archived", False, "customer", None),
    ]
    snoozed = page["history"][1]
    assert datetime.fromisoformat(snoozed["snoozed_until"]) == until
    times = [c["created_at"] for c in page["history"]]
    assert times == sorted(times)
    # A change that changes nothing is no history.
    await api.call("PATCH", path, json={"status": "open"})
    assert len((await api.get(path))["messages"]["history"]) == 7


async def test_a_reply_taking_the_customer_and_a_snooze_running_out_are_history(
    client: Any, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    conversation = await _conversation(hs, db)
    await add_manager("olga@example.com", name="Olga")
    olga = API(client)
    assert (await olga.login("olga@example.com", PASSWORD))[0] == 200
    path = f"/api/v1/conversations/{conversation}"
    status, _ = await olga.call(
        "POST", path + "/messages", json={"body": "Yes, here", "client_txn_id": "t1"}
    )
    assert status in (200, 202)
    until = datetime.now(UTC) + timedelta(seconds=1)
    await olga.call("PATCH", path, json={"status": "snoozed", "snoozed_until": until.isoformat()})
    await asyncio.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.1)
    async with db.acquire() as conn:
        assert await conversations.wake_snoozed(conn) == [conversation]
    said = _said((await olga.get(path))["messages"]["history"])
    assert said == [
        ("assignee", "Olga", "manager", "Olga"),
        ("status", "snoozed", "manager", "Olga"),
        ("status", "open", "snooze", None),
    ]


async def test_history_comes_live_and_with_the_page_of_its_time(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    conversation = await _conversation(hs, db)
    path = f"/api/v1/conversations/{conversation}"
    async with api.client.ws_connect("/api/v1/ws") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await api.call("PATCH", path, json={"status": "resolved"})
        # Frames of the conversation's ingest may still come first on a slow machine.
        by_type: dict[str, Any] = {}
        async with asyncio.timeout(10):
            while not (
                "history.created" in by_type
                and by_type.get("conversation.updated", {}).get("status") == "resolved"
            ):
                frame = await ws.receive_json()
                by_type[frame["type"]] = frame["data"]
    assert by_type["history.created"]["status"] == "resolved"
    assert by_type["history.created"]["actor_name"] == "Anna"
    assert by_type["conversation.updated"]["status"] == "resolved"

    # Each change comes with the page of the thread whose time it falls in, once.
    for i in range(1, 4):
        await hs.ok([f.text(ROOM, f.ghost(PHONE), f"Message {i}", ts=T0 + i * 60_000)])
        await api.call("PATCH", path, json={"status": "resolved"})
    await asyncio.sleep(0)
    pages, cursor = [], None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = await api.get(path + "/messages" + query)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    seen = [c["id"] for p in pages for c in p["history"]]
    stored = await db.fetch(
        "SELECT id FROM conversation_history WHERE conversation_id = $1", conversation
    )
    assert sorted(seen) == sorted(r["id"] for r in stored) and len(seen) == len(set(seen))
    assert len(stored) == 7  # resolved, then each message reopens and it is resolved again


async def test_a_thread_shows_a_bounded_history(hs: Homeserver, db: asyncpg.Pool) -> None:
    conversation = await _conversation(hs, db)
    for i in range(history.PAGE_LIMIT + 5):
        await db.execute(
            "UPDATE conversations SET status = $2 WHERE id = $1",
            conversation,
            "resolved" if i % 2 == 0 else "open",
        )
    async with db.acquire() as conn:
        shown = await history.between(conn, conversation, None, None)
    assert len(shown) == history.PAGE_LIMIT
    assert all(row["cause"] == "system" for row in shown)
    newest = await db.fetchval("SELECT max(id) FROM conversation_history")
    assert shown[-1]["id"] == newest  # the newest changes, oldest first
