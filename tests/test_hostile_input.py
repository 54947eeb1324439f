"""Whatever a transaction holds, ingest goes on: the attacks that stopped it, and properties.

Synapse sends on what its own (Python) JSON reads: NULs, lone surrogates, deep nesting, huge
numbers. An answer other than 2xx makes it send the same transaction again, first, forever, so
each of these is answered 200 with the bad event kept raw and flagged, and the good events of the
same transaction stored.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp.test_utils import TestClient
import asyncpg
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
import pytest

from crm_appservice.appservice import body
from crm_appservice.ingest.content import strip_reply_fallback
from crm_appservice.ingest.events import parse_transaction
from crm_appservice.ingest.namespaces import Namespaces

from . import factories as f
from .conftest import HS_TOKEN, Homeserver, count

ROOM, PHONE = "!h", "15551234567"
ALICE = f.ghost(PHONE)


async def _portal(hs: Homeserver) -> None:
    await hs.ok(f.portal(ROOM, PHONE, "Alice"))


async def _push_bytes(client: TestClient, data: bytes, txn: str) -> tuple[int, Any]:  # type: ignore[type-arg]
    resp = await client.put(
        f"/_matrix/app/v1/transactions/{txn}",
        data=data,
        headers={"Authorization": f"Bearer {HS_TOKEN}"},
    )
    return resp.status, await resp.json()


def _events_body(*event_texts: bytes) -> bytes:
    return b'{"events":[' + b",".join(event_texts) + b"]}"


def _text_event(body_text: str) -> bytes:
    return json.dumps(f.text(ROOM, ALICE, body_text)).encode()


async def test_deep_nesting_with_a_nul_is_stored_not_refused(
    client: TestClient,  # type: ignore[type-arg]
    hs: Homeserver,
    db: asyncpg.Pool,
) -> None:
    """300 levels and a NUL anywhere in the transaction answered 500, forever."""
    await _portal(hs)
    deep = f.text(ROOM, ALICE, "deep")
    deep["content"]["x"] = json.loads("[" * 300 + "]" * 300)
    data = _events_body(
        json.dumps(deep).encode(), _text_event("after\u0000wards"), _text_event("fine")
    )
    assert await _push_bytes(client, data, "deep-nul") == (200, {})
    bodies = {r["body"] for r in await db.fetch("SELECT body FROM messages")}
    assert bodies == {"deep", "afterwards", "fine"}
    assert await count(db, "raw_events") == 3 + 3


async def test_nesting_deeper_than_any_parser_reads_is_flagged(
    client: TestClient,  # type: ignore[type-arg]
    hs: Homeserver,
    db: asyncpg.Pool,
) -> None:
    await _portal(hs)
    deep = b'{"type":"m.room.message","content":' + b"[" * 5000 + b"]" * 5000 + b"}"
    data = _events_body(deep, _text_event("still here"))
    assert await _push_bytes(client, data, "deeper") == (200, {})
    assert await db.fetchval("SELECT body FROM messages") == "still here"
    flagged = await db.fetchrow(
        "SELECT error, content FROM raw_events WHERE error LIKE 'not readable JSON%'"
    )
    assert flagged is not None
    kept = json.loads(flagged["content"])[body.UNREADABLE_KEY]
    assert kept.startswith('{"type":"m.room.message"')


@pytest.mark.parametrize(
    "poison",
    [
        '"\\ud800 lone high surrogate"',
        '"\\udc00 lone low"',
        '"\\\\u0000 is an escaped backslash, not a NUL"',
        "1e400",
        "-1e400",
        "123456789012345678901234567890",
        '"raw \\u0000 NUL"',
    ],
)
async def test_what_postgres_or_orjson_refuse_is_mended(
    client: TestClient,  # type: ignore[type-arg]
    hs: Homeserver,
    db: asyncpg.Pool,
    poison: str,
) -> None:
    await _portal(hs)
    bad = (
        b'{"event_id":"$poison","room_id":"!h","type":"m.room.message","sender":"'
        + ALICE.encode()
        + b'","origin_server_ts":1700000000000,"content":{"msgtype":"m.text","body":"x","y":'
        + poison.encode()
        + b"}}"
    )
    data = _events_body(bad, _text_event("next"))
    assert await _push_bytes(client, data, f"poison-{abs(hash(poison))}") == (200, {})
    assert "next" in {r["body"] for r in await db.fetch("SELECT body FROM messages")}
    assert await count(db, "raw_events") == 3 + 2


async def test_lone_surrogates_in_a_message_become_replacement_characters(
    client: TestClient,  # type: ignore[type-arg]
    hs: Homeserver,
    db: asyncpg.Pool,
) -> None:
    await _portal(hs)
    event = _text_event("hi").replace(b'"hi"', b'"hi \\ud83d\\ude00 \\ud800!"')
    assert await _push_bytes(client, _events_body(event), "surrogates") == (200, {})
    assert await db.fetchval("SELECT body FROM messages") == "hi 😀 \ufffd!"


async def test_numbers_outside_the_columns_never_fail_the_write(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    """A width of 2^40 or a size of 2^64 used to fail the whole transaction's insert."""
    await _portal(hs)
    huge_image = f.event(
        ROOM,
        "m.room.message",
        ALICE,
        {
            "msgtype": "m.image",
            "body": "photo.jpg",
            "url": "mxc://crm.localhost/abc",
            "info": {"w": 2**40, "h": -5, "size": 2**64 - 1, "duration": 1.5e300},
        },
    )
    far_future = f.text(ROOM, ALICE, "from the far future", ts=2**62)
    forged_id = f.text(ROOM, f.BOT, "ours?")
    forged_id["content"]["com.crm_appservice.message_id"] = 2**64 - 1
    await hs.ok([huge_image, far_future, forged_id, f.text(ROOM, ALICE, "ok")])
    image = await db.fetchrow("SELECT * FROM messages WHERE kind = 'image'")
    assert image is not None
    assert (image["media_width"], image["media_height"], image["media_size"]) == (None, None, None)
    assert await db.fetchval(
        "SELECT error FROM raw_events WHERE event_id = $1", far_future["event_id"]
    ) == ("origin_server_ts is missing or invalid")
    bodies = {r["body"] for r in await db.fetch("SELECT body FROM messages")}
    assert {"ours?", "ok"} <= bodies


async def test_a_quoted_lines_message_never_blocks_the_event_loop(
    client: TestClient,  # type: ignore[type-arg]
    hs: Homeserver,
    db: asyncpg.Pool,
) -> None:
    """60 KB of `> …` lines in a reply blocked the loop for seconds (a quadratic regex), on
    every retry of its transaction; /healthz must answer meanwhile."""
    await _portal(hs)
    quoted = "> quoted line of a long discussion\n" * 1700
    reply = f.event(
        ROOM,
        "m.room.message",
        ALICE,
        {
            "msgtype": "m.text",
            "body": quoted,
            "m.relates_to": {"m.in_reply_to": {"event_id": "$elsewhere"}},
        },
    )
    started = time.perf_counter()
    assert len(strip_reply_fallback(quoted)) == len(quoted)  # nothing of its own: kept
    assert time.perf_counter() - started < 0.05

    async def health_latencies() -> list[float]:
        latencies = []
        for _ in range(20):
            t0 = time.perf_counter()
            resp = await client.get("/healthz")
            assert resp.status == 200
            latencies.append(time.perf_counter() - t0)
            await asyncio.sleep(0.005)
        return latencies

    async def pushes() -> None:
        for i in range(5):
            status, _ = await hs.push([reply], txn_id=f"quoted-{i}")
            assert status == 200

    latencies, _ = await asyncio.gather(health_latencies(), pushes())
    assert max(latencies) < 0.2, latencies
    assert await db.fetchval("SELECT length(body) FROM messages") == len(quoted)


# --- properties ------------------------------------------------------------------------------

NS = Namespaces(
    domain=f.DOMAIN,
    bot_mxid=f.BOT,
    user_prefix="crm_",
    ghost_patterns=("whatsapp_.*",),
    bridge_bots=("whatsappbot",),
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = ["event_id", "room_id", "type", "sender", "origin_server_ts", "content", "state_key",
        "redacts", "msgtype", "body", "url", "info", "m.relates_to", "m.new_content", "status",
        "geo_uri", "membership", "displayname", "bridgebot", "protocol", "channel", "id",
        "fi.mau.receiver", "event_id", "key", "rel_type", "m.in_reply_to", "format",
        "formatted_body", "delivered_to_users", "w", "h", "size", "filename"]  # fmt: skip
TYPES = ["m.room.message", "m.sticker", "m.reaction", "m.room.redaction", "m.room.member",
         "m.bridge", "uk.half-shot.bridge", "m.room.name", "com.beeper.message_send_status",
         "m.room.encrypted", "m.receipt", "org.example.unknown"]  # fmt: skip
# Events shaped like Matrix events, with any value in any place.
event_like = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.sampled_from(["$a", "$b", "", "x"]) | json_values,
        "room_id": st.sampled_from([ROOM, "!other", ""]) | json_values,
        "type": st.sampled_from(TYPES) | json_values,
        "sender": st.sampled_from([ALICE, f.BOT, f.BRIDGE_BOT, "@x:y"]) | json_values,
        "origin_server_ts": st.integers(min_value=-(2**66), max_value=2**66) | json_values,
        "state_key": st.sampled_from(["", ALICE, f.BOT]) | json_values,
        "content": st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8) | json_values,
    },
)
any_event = event_like | json_values


@hsettings(max_examples=300, deadline=None)
@given(events=st.lists(any_event, max_size=6), edus=st.lists(any_event, max_size=3))
def test_the_parser_never_raises_and_keeps_every_event(events: list[Any], edus: list[Any]) -> None:
    batch = parse_transaction(events, edus, NS)
    assert len([r for r in batch.raw if r["source"] == "events"]) == len(events)
    # Every record can be written: its JSON encodes, its integers fit their columns.
    for records in (batch.messages, batch.edits, batch.reactions, batch.redactions):
        json.dumps(records)
    for m in batch.messages:
        assert 0 <= m["ts"] <= 253_402_300_799_999
        for key in ("media_width", "media_height", "media_duration_ms"):
            value = m.get(key)
            assert value is None or 0 <= int(str(value)) < 2**31


@hsettings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_body_reading_never_raises_anything_but_not_json(data: bytes) -> None:
    for candidate in (data, b'{"events":[' + data + b"]}"):
        try:
            read = body.read(candidate)
        except body.NotJSON:
            continue
        assert "\x00" not in read.text
        json.loads(read.text)  # storable text


_txns = itertools.count()


@hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(any_event, max_size=5), edus=st.lists(any_event, max_size=2))
async def test_the_endpoint_stores_whatever_arrives(
    hs: Homeserver, db: asyncpg.Pool, events: list[Any], edus: list[Any]
) -> None:
    """Arbitrary JSON in place of events: never a 5xx while the database is up, and a valid
    message in the same transaction is always stored."""
    good = f.text(ROOM, ALICE, f"valid {next(_txns)}")
    if await count(db, "conversations") == 0:
        await _portal(hs)
    status, answer = await hs.push([*events, good], ephemeral=edus)
    assert (status, answer) == (200, {})
    assert await db.fetchval("SELECT 1 FROM messages WHERE event_id = $1", good["event_id"])
