"""Changing many conversations at once (POST /api/v1/conversations/bulk): one transaction, only
what the manager sees, each changed conversation pushed live and in its history, nothing
changed when any part is refused, and two bulk changes over the same rows never deadlocking."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from crm_appservice.api.bulk import BULK_LIMIT
from crm_appservice.config import Settings

from . import factories as f
from .conftest import API, ConfigFactory, Homeserver, bearer, offline_settings
from .test_live import frames_until
from .test_quick_replies import Caller

B = "/api/v1/conversations/bulk"


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    return offline_settings(make_config, {"web.managers_see": "assigned"})


async def _chats(hs: Homeserver, db: asyncpg.Pool, count: int) -> list[int]:
    ids = []
    for n in range(count):
        room, phone = f"!bulk{n}", f"3369300{n:04d}"
        await hs.ok([*f.portal(room, phone, f"Customer {n}"), f.text(room, f.ghost(phone), "hi")])
        ids.append(await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", room))
    return ids


async def test_assigning_many_changes_each_once_and_pushes_each(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    olga = await add_manager("olga@example.com")
    chats = await _chats(hs, db, 5)
    await db.execute("UPDATE conversations SET assignee_id = $1 WHERE id = $2", olga, chats[0])
    async with api.client.ws_connect("/api/v1/ws") as ws:
        assert (await ws.receive_json())["type"] == "hello"
        before = await db.fetchval("SELECT max(seq) FROM live_events")
        status, out = await api.call(
            "POST", B, json={"ids": [*chats, chats[1], 999_999], "patch": {"assignee_id": olga}}
        )
        assert status == 200, out
        assert [c["id"] for c in out["items"]] == sorted(chats[1:])
        assert all(c["assignee_id"] == olga for c in out["items"])
        assert out["unchanged"] == [chats[0]] and out["skipped"] == [999_999]
        seen: set[int] = set()
        while seen != set(chats[1:]):
            frame = (await frames_until(ws, {"conversation.updated"}))[-1]
            seen.add(frame["data"]["id"])
    events = await db.fetch(
        "SELECT type, ref_id FROM live_events WHERE seq > $1 AND type = 'conversation.updated'",
        before,
    )
    assert sorted(e["ref_id"] for e in events) == sorted(chats[1:])  # once each
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    history = await db.fetch(
        "SELECT conversation_id, actor_id FROM conversation_history WHERE change = 'assignee'"
        " AND assignee_id = $1",
        olga,
    )
    assert sorted(h["conversation_id"] for h in history if h["actor_id"] == me) == sorted(
        chats[1:]
    )

    status, out = await api.call(
        "POST", B, json={"ids": chats, "patch": {"status": "resolved", "is_archived": True}}
    )
    assert status == 200 and len(out["items"]) == 5
    assert all((c["status"], c["is_archived"]) == ("resolved", True) for c in out["items"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "patch": {"status": "open"}}, "ids"),
        ({"ids": list(range(1, BULK_LIMIT + 2)), "patch": {"status": "open"}}, "ids"),
        ({"ids": [0], "patch": {"status": "open"}}, "ids.0"),
        ({"ids": [1]}, None),
        ({"ids": [1], "patch": {"status": "open"}, "add_label": 1}, None),
        ({"ids": [1], "patch": {"status": "snoozed"}}, "patch"),
        ({"ids": [1], "patch": {"status": "closed"}}, "patch.status"),
        ({"ids": [1], "patch": {}}, "patch"),
        ({"ids": [1], "patch": {"assignee_id": 999_999}}, "patch.assignee_id"),
        ({"ids": [1], "patch": {"assignee_id": 10**20}}, "patch.assignee_id"),
        ({"ids": [1], "add_label": 999_999}, "add_label"),
        ({"ids": ["1; DROP TABLE conversations"], "patch": {"status": "open"}}, "ids.0"),
        ({"ids": [1], "patch": {"status": "open"}, "extra": 1}, "extra"),
    ],
)
async def test_bad_bulk_changes_are_refused(
    api: API, hs: Homeserver, db: asyncpg.Pool, body: dict[str, Any], field: str | None
) -> None:
    await _chats(hs, db, 1)
    status, err = await api.call("POST", B, json=body)
    assert status == 422, err
    if field is not None:
        assert err["error"]["field"] == field, err


async def test_a_restricted_manager_changes_only_what_they_see(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo_id, ola_id = await add_manager("mo@example.com"), await add_manager("ola@example.com")
    mo = Caller(api, await bearer(db, mo_id))
    mine, free, theirs = await _chats(hs, db, 3)
    assign = "UPDATE conversations SET assignee_id = $2 WHERE id = $1"
    await db.execute(assign, mine, mo_id)
    await db.execute(assign, theirs, ola_id)
    status, out = await mo.call(
        "POST", B, json={"ids": [mine, free, theirs], "patch": {"status": "pending"}}
    )
    assert status == 200
    assert [c["id"] for c in out["items"]] == sorted([mine, free])
    assert out["skipped"] == [theirs]
    assert await db.fetchval("SELECT status FROM conversations WHERE id = $1", theirs) == "open"


async def test_labels_go_on_and_off_many_and_a_full_one_refuses_them_all(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    chats = await _chats(hs, db, 3)
    _, vip = await api.call("POST", "/api/v1/labels", json={"name": "VIP", "colour": "#000000"})
    status, out = await api.call("POST", B, json={"ids": chats, "add_label": vip["id"]})
    assert status == 200 and all(c["label_ids"] == [vip["id"]] for c in out["items"])
    status, out = await api.call("POST", B, json={"ids": chats[:2], "remove_label": vip["id"]})
    assert [c["id"] for c in out["items"]] == sorted(chats[:2]) and out["unchanged"] == []
    # The third already holds 50 labels: the change is refused for every one of them.
    await db.execute(
        "UPDATE conversations SET label_ids = (SELECT array_agg(g) FROM generate_series("
        "1000001, 1000050) g) WHERE id = $1",
        chats[2],
    )
    _, other = await api.call("POST", "/api/v1/labels", json={"name": "New", "colour": "#000000"})
    status, err = await api.call("POST", B, json={"ids": chats, "add_label": other["id"]})
    assert status == 422 and err["error"]["field"] == "add_label"
    labelled = await db.fetchval(
        "SELECT count(*) FROM conversations WHERE label_ids @> ARRAY[$1]::bigint[]", other["id"]
    )
    assert labelled == 0


async def test_two_bulk_changes_over_the_same_rows_both_finish(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    olga = await add_manager("olga@example.com")
    chats = await _chats(hs, db, 8)
    for _ in range(5):
        results = await asyncio.gather(
            api.call("POST", B, json={"ids": chats, "patch": {"assignee_id": olga}}),
            api.call("POST", B, json={"ids": chats[::-1], "patch": {"status": "pending"}}),
            api.call("POST", B, json={"ids": chats, "patch": {"assignee_id": None}}),
        )
        assert [status for status, _ in results] == [200, 200, 200], results
