"""A live connection lasts no longer than the session and the rights it was opened with, on
every instance: logout, a deleted token, expiry, deactivation, a new role or password close it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
import asyncpg
import pytest
from pytest_aiohttp import AiohttpClient

from crm_appservice.config import Settings
from crm_appservice.live.guard import CHANGED, ENDED, Guard
from crm_appservice.live.hub import Client, Hub
from crm_appservice.server import create_app

from . import factories as f
from .conftest import API, PASSWORD, ConfigFactory, Homeserver, offline_settings


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    return offline_settings(make_config, {"web.managers_see": "assigned"})


@pytest.fixture
async def other(db_dsn: str, settings: Settings, aiohttp_client: AiohttpClient) -> TestClient:  # type: ignore[type-arg]
    """A second instance on the same database."""
    return await aiohttp_client(create_app(settings, db_dsn))


def cookie_of(client: TestClient) -> dict[str, str]:  # type: ignore[type-arg]
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    return {"Cookie": f"crm_session={jar['crm_session'].value}"}


async def closed_with(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10) -> int | None:
    """Read until the server closes the connection: the code of its close frame."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.CLOSE:
                # (Its own code, not the client's: aiohttp's client, answering a close whose
                # connection the server has already shut, would report 1006 instead.)
                return int(msg.data)
            assert msg.type is aiohttp.WSMsgType.TEXT, msg


async def live(client: TestClient, headers: dict[str, str]) -> aiohttp.ClientWebSocketResponse:  # type: ignore[type-arg]
    ws = await client.session.ws_connect(
        client.make_url("/api/v1/ws"), headers=headers, autoclose=False
    )
    assert (await ws.receive_json())["type"] == "hello"
    return ws


@pytest.fixture
async def bob(
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
    aiohttp_client: AiohttpClient,
) -> API:
    """A manager signed in with a cookie jar of their own (the admin is `api`)."""
    await add_manager("bob@example.com", name="Bob")
    session = API(await aiohttp_client(client.server))
    status, _ = await session.login("bob@example.com", PASSWORD)
    assert status == 200
    return session


async def test_logout_closes_the_sessions_connections_on_every_instance(
    bob: API,
    other: TestClient,  # type: ignore[type-arg]
) -> None:
    here = await live(bob.client, cookie_of(bob.client))
    there = await live(other, cookie_of(bob.client))
    status, _ = await bob.call("POST", "/api/v1/auth/logout")
    assert status == 200
    assert await closed_with(here) == ENDED
    assert await closed_with(there) == ENDED


async def test_a_deleted_token_closes_its_connections(
    api: API,
    other: TestClient,  # type: ignore[type-arg]
) -> None:
    status, made = await api.call(
        "POST", "/api/v1/tokens", json={"label": "feed", "password": PASSWORD}
    )
    assert status == 201
    ws = await live(other, {"Authorization": f"Bearer {made['token']}"})
    status, _ = await api.call("DELETE", f"/api/v1/tokens/{made['id']}")
    assert status == 200
    assert await closed_with(ws) == ENDED


async def test_a_new_role_shows_what_the_manager_may_see_now(
    api: API,
    bob: API,
    hs: Homeserver,
    db: asyncpg.Pool,
    other: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
) -> None:
    """A restricted manager's connection on another instance closes when an admin makes them
    admin; reconnected, it gets the colleague's conversations it was not shown before."""
    carl = await add_manager("carl@example.com")
    await hs.ok([*f.portal("!c", "3361000009", "Cleo"), f.text("!c", f.ghost("3361000009"), "1")])
    conversation = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!c'")
    await db.execute("UPDATE conversations SET assignee_id = $1", carl)
    bob_id = (await bob.get("/api/v1/me"))["manager"]["id"]
    ws = await live(other, cookie_of(bob.client))
    status, _ = await api.call("PATCH", f"/api/v1/managers/{bob_id}", json={"role": "admin"})
    assert status == 200
    assert await closed_with(ws) == CHANGED
    ws = await live(other, cookie_of(bob.client))
    await hs.ok([f.text("!c", f.ghost("3361000009"), "for Carl")])
    async with asyncio.timeout(10):
        while True:
            frame = await ws.receive_json()
            if frame["type"] == "message.created":
                assert frame["data"]["conversation_id"] == conversation
                break
    await ws.close()


async def test_deactivation_closes_the_connections_and_ends_the_sessions(
    api: API,
    bob: API,
    other: TestClient,  # type: ignore[type-arg]
) -> None:
    bob_id = (await bob.get("/api/v1/me"))["manager"]["id"]
    status, made = await bob.call(
        "POST", "/api/v1/tokens", json={"label": "feed", "password": PASSWORD}
    )
    assert status == 201
    token = {"Authorization": f"Bearer {made['token']}"}
    by_cookie = await live(other, cookie_of(bob.client))
    by_token = await live(other, token)
    status, _ = await api.call("PATCH", f"/api/v1/managers/{bob_id}", json={"is_active": False})
    assert status == 200
    assert await closed_with(by_cookie) == ENDED  # its session is gone: the login shows
    assert await closed_with(by_token) == ENDED
    for headers in (cookie_of(bob.client), token):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await other.session.ws_connect(other.make_url("/api/v1/ws"), headers=headers)
        assert refused.value.status == 401


async def test_a_password_reset_ends_every_session_and_token(
    api: API, bob: API, db: asyncpg.Pool, aiohttp_client: AiohttpClient
) -> None:
    bob_id = (await bob.get("/api/v1/me"))["manager"]["id"]
    _, made = await bob.call("POST", "/api/v1/tokens", json={"label": "x", "password": PASSWORD})
    ws = await live(bob.client, cookie_of(bob.client))
    new = {"password": "a much newer password"}
    status, _ = await api.call("PATCH", f"/api/v1/managers/{bob_id}", json=new)
    assert status == 200
    assert await closed_with(ws) == ENDED
    status, _ = await bob.call("GET", "/api/v1/me")
    assert status == 401
    status, _ = await bob.call(
        "GET", "/api/v1/me", headers={"Authorization": f"Bearer {made['token']}"}
    )
    assert status == 401
    # An admin changing their own password keeps the session they are using, and only that.
    admin = (await api.get("/api/v1/me"))["manager"]
    second = API(await aiohttp_client(api.client.server))
    await second.login(admin["email"], PASSWORD)
    status, _ = await api.call("PATCH", f"/api/v1/managers/{admin['id']}", json=new)
    assert status == 200
    assert (await api.call("GET", "/api/v1/me"))[0] == 200
    assert (await second.call("GET", "/api/v1/me"))[0] == 401
    assert await db.fetchval("SELECT count(*) FROM sessions WHERE manager_id = $1", bob_id) == 0


async def test_an_expiring_session_closes_its_connection_when_it_expires(
    bob: API,
    db: asyncpg.Pool,
    other: TestClient,  # type: ignore[type-arg]
) -> None:
    bob_id = (await bob.get("/api/v1/me"))["manager"]["id"]
    await db.execute(
        "UPDATE sessions SET expires_at = now() + interval '1.5 seconds' WHERE manager_id = $1",
        bob_id,
    )
    ws = await live(other, cookie_of(bob.client))
    started = time.monotonic()
    assert await closed_with(ws) == ENDED
    assert 0.5 < time.monotonic() - started < 5  # at its expiry, not at the next sweep (30 s)


async def test_a_connection_looked_up_before_its_sessions_end_is_refused() -> None:
    """A socket attaching just after its session's end was handled here was authenticated
    before it (a cached lookup): the guard closes it too."""
    hub = Hub(None, lambda *_: {})  # type: ignore[arg-type]
    guard = Guard(None, hub)  # type: ignore[arg-type]
    guard.changed([{"type": "session.ended", "ref_id": 5, "seq": 1}])
    ended = Client(None, 3, session_id=5)  # type: ignore[arg-type]
    unrelated = Client(None, 9, session_id=9)  # type: ignore[arg-type]
    guard.admit(ended)
    guard.admit(unrelated)
    assert (ended.ended, unrelated.ended) == (True, False)
    assert ended.queue.get_nowait().code == ENDED  # type: ignore[union-attr]


async def test_a_new_role_closes_only_the_connections_opened_with_the_old_one(
    bob: API, db: asyncpg.Pool
) -> None:
    """A connection opened after the change committed but before this instance read its event
    has the new role already: it stays (closing it made the browser reconnect for nothing, and
    a test opening it at that moment saw it closed). One whose role was looked up before the
    change, attaching after its event was handled, is closed by the look-up its attaching wakes."""
    bob_id = (await bob.get("/api/v1/me"))["manager"]["id"]
    session_id = await db.fetchval("SELECT id FROM sessions WHERE manager_id = $1", bob_id)
    hub = Hub(db, lambda *_: {})
    guard = Guard(db, hub)
    old = Client(None, bob_id, True, session_id, "manager")  # type: ignore[arg-type]
    hub.clients.add(old)
    await db.execute("UPDATE managers SET role = 'admin' WHERE id = $1", bob_id)
    new = Client(None, bob_id, False, session_id, "admin")  # type: ignore[arg-type]
    hub.clients.add(new)
    guard.changed([{"type": "manager.changed", "ref_id": bob_id, "seq": 1}])
    assert guard._wake.is_set()
    await guard.sweep()
    assert (old.ended, new.ended) == (True, False)
    assert old.queue.get_nowait().code == CHANGED  # type: ignore[union-attr]
    stale = Client(None, bob_id, True, session_id, "manager")  # type: ignore[arg-type]
    hub.clients.add(stale)
    guard._wake.clear()
    guard.admit(stale)
    assert guard._wake.is_set() and not stale.ended
    await guard.sweep()
    assert (stale.ended, new.ended) == (True, False)
