"""The transaction endpoint and the mapping, on a real database (the homeserver's side is
played by the test client; tests/test_e2e.py does the same through a real Synapse)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp.test_utils import TestClient
import asyncpg
import pytest

from crm_appservice.appservice import namespaces_from
from crm_appservice.config import Settings
from crm_appservice.ingest.events import Parser
from crm_appservice.server import POOL
from crm_appservice.store.ingest import write_transaction

from . import factories as f
from .conftest import HS_TOKEN, Homeserver, count

# --- the endpoint -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "status", "errcode"),
    [(None, 401, "M_UNKNOWN_TOKEN"), ("wrong-token", 403, "M_FORBIDDEN")],
)
async def test_token_is_required(
    hs: Homeserver, db: asyncpg.Pool, token: str | None, status: int, errcode: str
) -> None:
    got_status, body = await hs.push(f.portal("!a", "15551234567"), token=token)
    assert got_status == status
    assert body["errcode"] == errcode
    assert await count(db, "raw_events") == 0
    assert await count(db, "as_transactions") == 0


async def test_legacy_path_and_query_token(client: TestClient, db: asyncpg.Pool) -> None:  # type: ignore[type-arg]
    resp = await client.put(
        f"/transactions/legacy1?access_token={HS_TOKEN}", json={"events": f.portal("!l", "1555")}
    )
    assert resp.status == 200
    assert await count(db, "conversations") == 1


async def test_bad_bodies(hs: Homeserver, db: asyncpg.Pool) -> None:
    status, body = await hs.push([], body=b"{not json")
    assert (status, body["errcode"]) == (400, "M_NOT_JSON")
    status, body = await hs.push([], body={"ephemeral": []})
    assert (status, body["errcode"]) == (400, "M_BAD_JSON")
    status, body = await hs.push([], body={"events": "nope"})
    assert (status, body["errcode"]) == (400, "M_BAD_JSON")
    huge = [f.text("!a", f.ghost("1"), "x" * 1000) for _ in range(1200)]
    status, body = await hs.push(huge)
    assert (status, body["errcode"]) == (413, "M_TOO_LARGE")
    assert await count(db, "raw_events") == 0


async def test_queries_and_ping(client: TestClient) -> None:  # type: ignore[type-arg]
    auth = {"Authorization": f"Bearer {HS_TOKEN}"}
    resp = await client.post("/_matrix/app/v1/ping", json={"transaction_id": "x"}, headers=auth)
    assert (resp.status, await resp.json()) == (200, {})
    resp = await client.get("/_matrix/app/v1/users/@crm_x:crm.localhost", headers=auth)
    assert (resp.status, (await resp.json())["errcode"]) == (404, "M_NOT_FOUND")
    resp = await client.get("/_matrix/app/v1/rooms/%23a:crm.localhost", headers=auth)
    assert resp.status == 404
    resp = await client.post("/_matrix/app/v1/ping", json={})
    assert resp.status == 401


async def test_repeated_transaction_and_event_are_stored_once(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    events = [*f.portal("!r", "15551234567"), f.text("!r", f.ghost("15551234567"), "hi")]
    await hs.ok(events, txn_id="t1")
    await hs.ok(events, txn_id="t1")
    await hs.ok(events[-1:], txn_id="t2")
    assert await count(db, "raw_events") == len(events)
    assert await count(db, "messages") == 1
    assert await db.fetchval("SELECT unread_count FROM conversations") == 1
    assert await count(db, "as_transactions") == 2


async def test_malformed_events_are_kept_and_flagged(hs: Homeserver, db: asyncpg.Pool) -> None:
    good = f.text("!m", f.ghost("15551234567"), "fine")
    no_ts = f.text("!m", f.ghost("15551234567"), "x")
    del no_ts["origin_server_ts"]
    bad_geo = f.event(
        "!m", "m.room.message", f.ghost("15551234567"), {"msgtype": "m.location", "geo_uri": "x"}
    )
    events = [
        *f.portal("!m", "15551234567"),
        "not an object",
        {"event_id": 5, "type": "m.room.message"},
        no_ts,
        f.event("!m", "m.room.message", f.ghost("15551234567"), {"body": 3}),
        bad_geo,
        f.event("!m", "org.example.unknown", f.ghost("15551234567"), {}),
        good,
    ]
    await hs.ok(events)
    rows = await db.fetch("SELECT event_id, error FROM raw_events WHERE error IS NOT NULL")
    errors = sorted(r["error"] for r in rows)
    assert errors == sorted(
        [
            "not an object",
            "event_id is missing or invalid",
            "origin_server_ts is missing or invalid",
            "msgtype is missing",
            "geo_uri is not a geo: URI",
            "unsupported event type org.example.unknown",
        ]
    )
    assert await count(db, "raw_events") == len(events)
    assert await db.fetchval("SELECT body FROM messages") == "fine"


async def test_ephemeral_under_both_keys_is_processed_once(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    rcpt = f.receipt("!e", "$x", f.ghost("1"))
    await hs.ok(
        [], body={"events": [], "ephemeral": [rcpt], "de.sorunome.msc2409.ephemeral": [rcpt]}
    )
    await hs.ok([], body={"events": [], "de.sorunome.msc2409.ephemeral": [rcpt]})
    assert await count(db, "raw_events") == 2


async def test_constant_round_trips(db_dsn: str, settings: Settings) -> None:
    """A transaction costs the same number of statements with 2 or 90 messages."""
    parse = Parser(namespaces_from(settings))
    conn = await asyncpg.connect(db_dsn)
    queries: list[str] = []

    def log(record: Any) -> None:
        queries.append(record.query)

    async def statements(txn_id: str, events: list[dict[str, Any]]) -> int:
        queries.clear()
        body = json.dumps({"events": events})
        batch = parse(events, [])
        conn.add_query_logger(log)
        try:
            assert await write_transaction(conn, txn_id, body, len(events), batch, parse)
        finally:
            conn.remove_query_logger(log)
        return len(queries)

    def messages(n: int) -> list[dict[str, Any]]:
        events = [f.text("!c", f.ghost("15551234567"), f"m{i}") for i in range(n)]
        relates = {"rel_type": "m.annotation", "event_id": events[0]["event_id"], "key": "👍"}
        events.append(
            f.event("!c", "m.reaction", f.ghost("15551234567"), {"m.relates_to": relates})
        )
        return events

    try:
        await statements("setup", f.portal("!c", "15551234567"))
        small, large = await statements("t1", messages(2)), await statements("t2", messages(90))
        assert small == large
        assert small <= 8
        assert await conn.fetchval("SELECT count(*) FROM messages") == 92
    finally:
        await conn.close()


async def test_database_failure_answers_5xx(client: TestClient, hs: Homeserver) -> None:  # type: ignore[type-arg]
    client.app[POOL].terminate()
    status, body = await hs.push(f.portal("!d", "1555"))
    assert status == 503
    assert body["errcode"] == "M_UNKNOWN"


# --- the mapping ----------------------------------------------------------------------------


async def test_portals_of_any_bridge(hs: Homeserver, db: asyncpg.Pool) -> None:
    await hs.ok(
        [
            *(f.invite(room) for room in ("!wa", "!g", "!tg")),
            f.bridge_state("!wa", "15551234567@s.whatsapp.net", name="Alice"),
            f.bridge_state(
                "!g", "120363000@g.us", name="Team", dm=False, state_type="uk.half-shot.bridge"
            ),
            f.bridge_state("!tg", "12345", name="Bob", platform="telegram"),
            f.event("!g", "m.room.name", f.BRIDGE_BOT, {"name": "Sales team"}, state_key=""),
            f.text("!notaportal", "@someone:elsewhere", "ignored"),
        ]
    )
    rows = {
        r["room_id"]: dict(r)
        for r in await db.fetch(
            "SELECT room_id, platform, remote_chat_id, kind, title, receiver FROM conversations"
        )
    }
    assert rows["!wa"] == {
        "room_id": "!wa",
        "platform": "whatsapp",
        "remote_chat_id": "15551234567@s.whatsapp.net",
        "kind": "dm",
        "title": "Alice",
        "receiver": f.OWNER_PHONE,
    }
    assert (rows["!g"]["kind"], rows["!g"]["title"]) == ("group", "Sales team")
    assert rows["!tg"]["platform"] == "telegram"
    assert "!notaportal" not in rows
    assert await count(db, "messages") == 0
    assert await count(db, "raw_events") == 8


async def test_room_name_before_bridge_state_is_kept(hs: Homeserver, db: asyncpg.Pool) -> None:
    await hs.ok([f.event("!n", "m.room.name", f.BRIDGE_BOT, {"name": "Early"}, state_key="")])
    await hs.ok([f.invite("!n"), f.bridge_state("!n", "1@s.whatsapp.net", name="Late")])
    assert await db.fetchval("SELECT title FROM conversations") == "Early"


async def test_contacts_from_ghosts(hs: Homeserver, db: asyncpg.Pool) -> None:
    await hs.ok(
        [
            *f.portal("!a", "15551234567", name="Alice"),
            f.member("!a", f.ghost(f.OWNER_PHONE), "Me (WA)"),
            f.invite("!h"),
            f.bridge_state("!h", "123@lid"),
            f.member("!h", "@whatsapp_lid-123456789:crm.localhost", "Hidden (WA)"),
        ]
    )
    await hs.ok([f.member("!a", f.ghost("15551234567"), "Alice Smith (WA)")])
    contacts = {
        r["remote_id"]: dict(r)
        for r in await db.fetch("SELECT remote_id, phone, display_name, platform FROM contacts")
    }
    assert contacts["15551234567"] == {
        "remote_id": "15551234567",
        "phone": "+15551234567",
        "display_name": "Alice Smith",
        "platform": "whatsapp",
    }
    assert contacts["lid-123456789"]["phone"] is None
    assert contacts["lid-123456789"]["display_name"] == "Hidden"
    conv = await db.fetchrow(
        "SELECT ct.remote_id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
        " WHERE c.room_id = '!a'"
    )
    assert conv is not None and conv["remote_id"] == "15551234567"


async def test_concurrent_first_events_make_one_conversation(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    room, phone = "!race", "15557654321"
    pushes = [
        hs.ok([*f.portal(room, phone), f.text(room, f.ghost(phone), f"hello {i}")])
        for i in range(20)
    ]
    await asyncio.gather(*pushes)
    assert await count(db, "conversations") == 1
    assert await count(db, "contacts") == 1
    assert await count(db, "messages") == 20
    assert await db.fetchval("SELECT unread_count FROM conversations") == 20


async def test_nul_characters_are_dropped_not_fatal(hs: Homeserver, db: asyncpg.Pool) -> None:
    """PostgreSQL cannot store U+0000; such a transaction must not be refused forever."""
    events = [*f.portal("!z", "15551234567"), f.text("!z", f.ghost("15551234567"), "a\x00b")]
    await hs.ok(events)
    assert await db.fetchval("SELECT body FROM messages") == "ab"
    assert await count(db, "raw_events") == 4
