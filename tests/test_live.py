"""Live updates on the WebSocket: every change pushed, resumable, shared between instances."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, make_mocked_request
import pytest
from pytest_aiohttp import AiohttpClient

from crm_appservice.api import origin as origins, ws as ws_module
from crm_appservice.config import Settings
from crm_appservice.keys import HUB
from crm_appservice.live.hub import QUEUE_SIZE, Client
from crm_appservice.server import create_app

from . import factories as f
from .conftest import API, PASSWORD, Homeserver


async def frames_until(
    ws: aiohttp.ClientWebSocketResponse, wanted: set[str], timeout: float = 10
) -> list[dict[str, Any]]:
    """Read frames until every type in `wanted` has been seen."""
    got: list[dict[str, Any]] = []
    seen: set[str] = set()
    async with asyncio.timeout(timeout):
        while not wanted <= seen:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = msg.json()
            got.append(frame)
            seen.add(frame["type"])
    return got


async def test_changes_are_pushed_in_order(api: API, hs: Homeserver) -> None:
    async with api.client.ws_connect("/api/v1/ws") as ws:
        hello = await ws.receive_json()
        assert hello["type"] == "hello"
        await hs.ok([*f.portal("!l", "15551230000", "Lena"),
                     f.text("!l", f.ghost("15551230000"), "Hallo!")])  # fmt: skip
        frames = await frames_until(ws, {"conversation.created", "message.created"})
        seqs = [fr["seq"] for fr in frames]
        assert seqs == sorted(seqs) and seqs[0] > hello["seq"]
        created = next(fr for fr in frames if fr["type"] == "conversation.created")
        message = next(fr for fr in frames if fr["type"] == "message.created")
        assert created["data"]["title"] == "Lena"
        assert message["data"]["body"] == "Hallo!"
        assert message["data"]["conversation_id"] == created["data"]["id"]

        status, _ = await api.call(
            "PATCH", f"/api/v1/conversations/{created['data']['id']}", json={"status": "pending"}
        )
        assert status == 200
        # The change to the conversation's history first, then the conversation itself.
        change, update = await frames_until(ws, {"conversation.updated"})
        assert change["type"] == "history.created" and change["data"]["status"] == "pending"
        assert update["data"]["status"] == "pending"


async def test_frames_are_sent_uncompressed_even_when_the_browser_offers_deflate(
    api: API, hs: Homeserver
) -> None:
    async with api.client.ws_connect("/api/v1/ws", compress=15) as ws:
        assert ws.compress == 0  # permessage-deflate was offered and declined
        assert (await ws.receive_json())["type"] == "hello"
        await hs.ok([*f.portal("!z", "15551230001", "Zoe"),
                     f.text("!z", f.ghost("15551230001"), "Olá 👋")])  # fmt: skip
        frames = await frames_until(ws, {"message.created"})
        message = next(fr for fr in frames if fr["type"] == "message.created")
        assert message["data"]["body"] == "Olá 👋"


async def test_reconnect_with_since_replays_or_resyncs(
    api: API,
    hs: Homeserver,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    async with api.client.ws_connect("/api/v1/ws") as ws:
        hello = await ws.receive_json()
    missed = [*f.portal("!m", "15551230001", "Mia"),
              f.text("!m", f.ghost("15551230001"), "while you were away")]  # fmt: skip
    await hs.ok(missed)
    async with api.client.ws_connect(f"/api/v1/ws?since={hello['seq']}") as ws:
        frames = await frames_until(ws, {"conversation.created", "message.created"})
        changes = [fr for fr in frames if fr["type"] != "hello"]
        assert changes[0]["seq"] == hello["seq"] + 1
        assert any((fr["data"] or {}).get("body") == "while you were away" for fr in frames)
    # Events older than the feed keeps: the client is told to reload instead.
    pool = client.app[HUB].pool
    await pool.execute("DELETE FROM live_events")
    await hs.ok([f.text("!m", f.ghost("15551230001"), "later")])
    async with api.client.ws_connect(f"/api/v1/ws?since={hello['seq']}") as ws:
        first = await ws.receive_json()
        assert first["type"] == "resync"


async def test_closed_sockets_are_removed(api: API, client: TestClient) -> None:  # type: ignore[type-arg]
    hub = client.app[HUB]
    sockets = [await api.client.ws_connect("/api/v1/ws") for _ in range(5)]
    for ws in sockets:
        await ws.receive_json()
    assert len(hub.clients) == 5
    for ws in sockets:
        await ws.close()
    async with asyncio.timeout(5):
        while True:
            if not hub.clients:
                break
            await asyncio.sleep(0.01)


async def test_a_slow_socket_is_dropped_without_holding_others(
    api: API,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    hub = client.app[HUB]
    async with api.client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()
        [fast] = list(hub.clients)
        slow = Client(fast.ws, fast.manager_id)  # its sender never runs: nothing is drained
        for i in range(QUEUE_SIZE + 10):
            slow.offer(b'{"type":"x","seq":%d}' % i)
            fast.offer(b'{"type":"ping-test","seq":0,"data":null}')
            await asyncio.sleep(0)
        assert slow.overflowed
        assert not fast.overflowed
        assert (await ws.receive_json())["type"] == "ping-test"


async def test_two_instances_share_events(
    api: API, hs: Homeserver, db_dsn: str, settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    """A manager connected to instance B sees what instance A ingested."""
    other = await aiohttp_client(create_app(settings, db_dsn))
    login = await other.post(
        "/api/v1/auth/login", json={"email": "anna@example.com", "password": PASSWORD}
    )
    assert login.status == 200
    async with other.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()
        await hs.ok([*f.portal("!b", "15551230002", "Ben"),
                     f.text("!b", f.ghost("15551230002"), "via instance A")])  # fmt: skip
        frames = await frames_until(ws, {"message.created"})
        assert any((fr["data"] or {}).get("body") == "via instance A" for fr in frames)


async def test_a_peer_that_misses_pongs_is_dropped(
    api: API,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
) -> None:
    """The server pings (every 25 s in production); a peer that never answers is dropped."""
    monkeypatch.setattr(ws_module, "HEARTBEAT", 0.3)
    hub = client.app[HUB]
    silent = await api.client.ws_connect("/api/v1/ws", autoping=False)
    async with asyncio.timeout(10):
        while True:
            if hub.clients:
                break
            await asyncio.sleep(0.01)
        while True:  # nobody reads, so no pong goes back
            if not hub.clients:
                break
            await asyncio.sleep(0.05)
    await silent.close()


async def test_reconnecting_while_the_hub_pushes_misses_nothing(api: API, hs: Homeserver) -> None:
    """A client that reconnects at the moment the hub handles what it missed gets those events
    exactly once, either pushed or replayed (each round of this loop hit that moment often)."""
    for i in range(5):
        async with api.client.ws_connect("/api/v1/ws") as ws:
            hello = await ws.receive_json()
        room, phone = f"!race{i}", f"155512399{i:02d}"
        await hs.ok([*f.portal(room, phone, "Rae"), f.text(room, f.ghost(phone), f"n{i}")])
        async with api.client.ws_connect(f"/api/v1/ws?since={hello['seq']}") as ws:
            frames = await frames_until(ws, {"conversation.created", "message.created"}, 5)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.3):
                    frames.append(await ws.receive_json())  # nothing more may come
        seqs = [fr["seq"] for fr in frames if fr["type"] != "hello"]
        assert seqs == [hello["seq"] + 1, hello["seq"] + 2], frames


async def test_a_change_that_commits_late_is_pushed_never_skipped(pool: Any) -> None:
    """A transaction that took its seq before others commits seconds after them: the hub
    waits for it (it used to skip a gap after 2 s, and skipped a gap that followed a closed one
    at once), and passes a rolled-back seq as soon as its transaction has ended."""
    from crm_appservice.live.hub import Hub
    from crm_appservice.store import feed

    hub = Hub(pool, lambda *_: {})
    await hub.start()
    pushed: list[int] = []
    hub.watchers.append(lambda events: pushed.extend(e["seq"] for e in events))

    async def commit_one() -> int:
        async with pool.acquire() as conn, conn.transaction():
            seq = await feed.record(conn, [("conversation.updated", 1)])
        assert seq is not None
        return seq

    async def pump_for(seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            await hub.pump()
            await asyncio.sleep(0.05)

    for _round in range(2):  # the second gap follows one that closed
        slow = await pool.acquire()
        tx = slow.transaction()
        await tx.start()
        late = await feed.record(slow, [("conversation.updated", 2)])
        assert late is not None
        after = [await commit_one() for _ in range(3)]
        await pump_for(2.6)
        assert late not in pushed and not set(after) & set(pushed)
        await tx.commit()
        await pool.release(slow)
        await pump_for(0.3)
        assert pushed[-4:] == [late, *after]

    # A rollback: the seq never commits; later ones are pushed once its transaction ended.
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        lost = await feed.record(conn, [("conversation.updated", 3)])
        later = await commit_one()
        await pump_for(0.3)
        assert later not in pushed
        await tx.rollback()
    await pump_for(0.3)
    assert pushed[-1] == later and lost not in pushed
    assert pushed == sorted(pushed) and len(pushed) == len(set(pushed))


async def test_a_hub_starting_while_a_change_is_in_flight_pushes_it(pool: Any) -> None:
    from crm_appservice.live.hub import Hub
    from crm_appservice.store import feed

    async with pool.acquire() as slow, pool.acquire() as fast:
        tx = slow.transaction()
        await tx.start()
        late = await feed.record(slow, [("conversation.updated", 1)])
        async with fast.transaction():
            later = await feed.record(fast, [("conversation.updated", 2)])
        hub = Hub(pool, lambda *_: {})
        await hub.start()
        pushed: list[int] = []
        hub.watchers.append(lambda events: pushed.extend(e["seq"] for e in events))
        await hub.pump()
        assert pushed == []
        await tx.commit()
    for _ in range(5):
        await hub.pump()
    assert pushed == [late, later]


async def test_only_the_inboxs_own_pages_open_the_live_connection(api: API) -> None:
    """A page of another origin on the same site (another port: the cookie goes along) must
    not read a manager's live feed; the inbox's pages and token scripts (no Origin) may."""
    client = api.client
    own = f"http://{client.host}:{client.port}"
    for origin in (None, "http://127.0.0.1:29340", own, own.upper()):
        headers = {"Origin": origin} if origin else {}
        async with client.ws_connect("/api/v1/ws", headers=headers) as ws:
            assert not ws.closed, origin
    for origin in ("http://127.0.0.1:1", f"http://{client.host}:{client.port + 1}",
                   "https://127.0.0.1:29340", "http://evil.example", "null", "http://[::1",
                   f"{own}/path", "file://"):  # fmt: skip
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/api/v1/ws", headers={"Origin": origin})
        assert refused.value.status == 403, origin


def test_configured_origins_are_allowed_too(settings: Settings) -> None:
    web = replace(settings.web, allowed_origins=("https://crm.example.org",))

    def asks(value: str) -> bool:
        request = make_mocked_request("GET", "/api/v1/ws", headers={
            "Origin": value, "Host": "inbox.internal:29340"})  # fmt: skip
        return origins.allowed(request, web)

    assert asks("https://crm.example.org") and asks("https://CRM.example.org:443")
    assert not asks("https://crm.example.org:8443") and not asks("http://crm.example.org")
    assert asks("http://inbox.internal:29340")  # the address the page was loaded from
