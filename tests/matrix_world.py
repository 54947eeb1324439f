"""A real Synapse, the bridge emulator and the CRM's app on a real port: the end-to-end tests'
world. The CRM runs in the test's event loop and can be stopped and started like the process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import os
import shutil
from typing import Any
import uuid

import aiohttp
from aiohttp import web
import asyncpg
from ruamel.yaml import YAML

from crm_appservice.config import Settings, load
from crm_appservice.registration import build_registration
from crm_appservice.server import create_app
from crm_appservice.store import managers, sessions
from testbed.chats import Portal
from testbed.emulator import BridgeEmulator, with_bridge
from testbed.synapse import free_port, reserved_port
from testbed.world import LocalMatrix

from .conftest import AS_TOKEN, HS_TOKEN, ConfigFactory, reachable_tempdir, write_config
from .polling import WAIT, until

DOMAIN = "crm.localhost"
CRM_USER = f"@crm_bot:{DOMAIN}"


class CRM:
    """The CRM's app served on a real port, stoppable and restartable like the process."""

    def __init__(self, settings: Settings, dsn: str) -> None:
        self.settings = settings
        self.dsn = dsn
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.app = create_app(self.settings, self.dsn)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        aps = self.settings.appservice
        await web.TCPSite(self.runner, aps.hostname, aps.port).start()

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()
            self.runner = None


class HomeserverProxy:
    """Between the CRM and Synapse: forwards every request; a subclass acts before a request
    goes on (`before`) or after Synapse answered it (`after`)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()

    async def start(self) -> None:
        self.http = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.http.close()

    async def before(self, request: web.Request) -> None:
        return None

    async def after(self, request: web.Request, status: int, body: bytes) -> None:
        return None

    async def forward(self, request: web.Request) -> web.StreamResponse:
        data = await request.read()
        await self.before(request)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self.http.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=data
        ) as resp:
            body = await resp.read()
            await self.after(request, resp.status, body)
            return web.Response(
                body=body, status=resp.status, content_type=resp.content_type or None
            )


async def conversation_id(db: asyncpg.Pool, room_id: str) -> int:
    async def fetch() -> int | None:
        return await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", room_id)

    return int(await until(fetch, f"the conversation of {room_id}"))


class Inbox:
    """A script's client of the inbox API on the CRM's real port, with an API token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.http = aiohttp.ClientSession(base_url, headers={"Authorization": f"Bearer {token}"})

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with self.http.request(method, path, **kw) as resp:
            return resp.status, None if resp.status == 204 else await resp.json()

    async def close(self) -> None:
        await self.http.close()


class World:
    def __init__(self, testbed: LocalMatrix, crm: CRM, db: asyncpg.Pool) -> None:
        self.testbed = testbed
        self.crm = crm
        self.db = db
        self.clients: list[Inbox] = []
        self.proxy: HomeserverProxy | None = None

    @property
    def emulator(self) -> BridgeEmulator:
        return self.testbed.emulator

    async def until(
        self, check: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT
    ) -> Any:
        return await until(check, what, timeout)

    async def inbox(self, email: str = "sam@example.com") -> Inbox:
        """A manager's API client (closed with the world)."""
        manager, _ = await managers.create(
            self.db, email, email.split("@")[0].title(), "admin", "-", update_existing=True
        )
        async with self.db.acquire() as conn:
            token, _ = await sessions.create(conn, manager.id, "api_token", None, "tests")
        aps = self.crm.settings.appservice
        client = Inbox(f"http://{aps.hostname}:{aps.port}", token)
        self.clients.append(client)
        return client

    async def conversation_id(self, room_id: str) -> int:
        return await conversation_id(self.db, room_id)

    async def message(self, event_id: str) -> asyncpg.Record:
        async def fetch() -> asyncpg.Record | None:
            return await self.db.fetchrow("SELECT * FROM messages WHERE event_id = $1", event_id)

        return await self.until(fetch, f"message {event_id}")

    async def portal(self, phone: str, name: str, **kw: Any) -> Portal:
        portal = await self.emulator.create_portal(phone, name, **kw)

        async def joined() -> bool:
            return bool(
                await self.db.fetchval(
                    "SELECT state = 'done' FROM room_invites WHERE room_id = $1", portal.room_id
                )
            )

        await self.until(joined, f"the CRM to join {portal.room_id}")
        return portal

    async def customer_writes(self, phone: str, name: str, text: str) -> tuple[Portal, int]:
        """A customer's chat with a first message from them: its portal and conversation id."""
        portal = await self.portal(phone, name)
        await self.emulator.send_text(portal, phone, text)
        return portal, await self.conversation_id(portal.room_id)


async def with_provisioning(world: World, **bridge: Any) -> None:
    """Restart the world's CRM with the emulator's provisioning API configured (and these
    `bridge` keys): what the WhatsApp page and "+ New conversation" talk to."""
    await world.crm.stop()
    world.crm.settings = with_bridge(world.crm.settings, world.emulator, **bridge)
    await world.crm.start()


def _crm_config(dsn: str, hs_port: int, port: int) -> dict[str, Any]:
    return {
        "homeserver.address": f"http://127.0.0.1:{hs_port}",
        "homeserver.domain": DOMAIN,
        "appservice.address": f"http://127.0.0.1:{port}",
        "appservice.port": port,
        "web.public_url": f"http://127.0.0.1:{port}",
        "appservice.as_token": AS_TOKEN,
        "appservice.hs_token": HS_TOKEN,
        "database.url": dsn,
        # Quick retries: the tests stop Synapse and wait for replies to go out.
        "outbox.retry_initial_delay": 0.2,
        "outbox.retry_max_delay": 1,
    }


async def crm_settings(
    make_config: ConfigFactory,
    workdir: str,
    dsn: str,
    hs_port: int,
    overrides: dict[str, Any] | None = None,
    port: int | None = None,
) -> tuple[Settings, str]:
    path = make_config({**_crm_config(dsn, hs_port, port or free_port()), **(overrides or {})})
    settings = load(path)[1]
    registration = os.path.join(workdir, "crm-registration.yaml")
    with open(registration, "w") as f:
        YAML().dump(build_registration(settings, AS_TOKEN, HS_TOKEN), f)
    return settings, registration


class SharedMatrix:
    """One Synapse for every test of a run (of an xdist worker) that can share it: starting
    Synapse takes seconds, and most tests only need a homeserver, a fresh bridge and a fresh
    CRM. Each test gets a new emulator (`LocalMatrix.renew`) and a CRM on a fresh database, on
    ports kept for them (the registrations Synapse loaded name them); `drain` keeps what
    Synapse still had for the previous test's CRM from reaching the next one."""

    def __init__(self) -> None:
        self.directory = reachable_tempdir("crm-matrix-")
        self.hs_port = reserved_port()
        self.crm_port = reserved_port()
        settings = load(write_config(self.directory, _crm_config("embedded", self.hs_port,
                                                                 self.crm_port)))[1]  # fmt: skip
        registration = os.path.join(self.directory, "crm-registration.yaml")
        with open(registration, "w") as f:
            YAML().dump(build_registration(settings, AS_TOKEN, HS_TOKEN), f)
        self.testbed = LocalMatrix(
            os.path.join(self.directory, "testbed"), DOMAIN, registration, CRM_USER, self.hs_port
        )
        self.barrier_room: str | None = None

    def start(self) -> None:
        """Synapse, started and waited for outside the tests' event loops (it is a process)."""
        asyncio.run(self.testbed.start_homeserver())

    def stop(self) -> None:
        if self.testbed.synapse:
            asyncio.run(self.testbed.synapse.stop())
        shutil.rmtree(self.directory, ignore_errors=True)

    async def drain(self) -> None:
        """Take, on the CRM's port, whatever Synapse still sends there (a stopped CRM's
        backlog, the echo of its last receipt) up to a barrier message sent now. Synapse sends
        an appservice's transactions in order, so when the barrier has come nothing older is
        left for the next CRM."""
        seen: set[str] = set()

        async def transaction(request: web.Request) -> web.Response:
            body = await request.json()
            seen.update(str(e.get("event_id")) for e in body.get("events", []))
            return web.json_response({})

        async def ping(request: web.Request) -> web.Response:
            return web.json_response({})

        app = web.Application()
        app.router.add_put("/_matrix/app/v1/transactions/{txn_id}", transaction)
        app.router.add_post("/_matrix/app/v1/ping", ping)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.crm_port).start()
        try:
            emu = self.testbed.emulator
            room = self.barrier_room
            if room is None:
                created = await emu.request(
                    "POST", "/_matrix/client/v3/createRoom", body={"invite": [CRM_USER]}
                )
                room = self.barrier_room = str(created["room_id"])
                await emu.request("POST", f"/_matrix/client/v3/rooms/{room}/join", body={},
                                  user_id=CRM_USER, token=AS_TOKEN)  # fmt: skip
            sent = await emu.request(
                "PUT", f"/_matrix/client/v3/rooms/{room}/send/m.room.message/{uuid.uuid4().hex}",
                body={"msgtype": "m.notice", "body": "barrier"},
            )  # fmt: skip
            await until(lambda: sent["event_id"] in seen, "Synapse's backlog for the CRM", 90)
        finally:
            await runner.cleanup()


async def running_world(
    make_config: ConfigFactory,
    workdir: str,
    dsn: str,
    overrides: dict[str, Any] | None = None,
    proxy: Callable[[str], HomeserverProxy] | None = None,
    shared: SharedMatrix | None = None,
) -> AsyncIterator[World]:
    """Synapse, the emulator and a CRM; with `proxy` (made with Synapse's URL), the CRM reaches
    Synapse through it (`world.proxy`); with `shared`, on that Synapse (the appservice keys as
    it has them registered)."""
    if shared:
        assert proxy is None and not any(k.startswith("appservice.") for k in overrides or {})
        settings, _ = await crm_settings(make_config, workdir, dsn, shared.hs_port, overrides,
                                         port=shared.crm_port)  # fmt: skip
        testbed = shared.testbed
        await testbed.renew()
        await shared.drain()
        front = None
    else:
        hs_port = free_port()
        front = proxy(f"http://127.0.0.1:{hs_port}") if proxy else None
        if front:
            overrides = {
                **(overrides or {}),
                "homeserver.address": f"http://127.0.0.1:{front.port}",
            }
        settings, registration = await crm_settings(make_config, workdir, dsn, hs_port, overrides)
        testbed = LocalMatrix(
            os.path.join(workdir, "testbed"), DOMAIN, registration, CRM_USER, hs_port
        )
    crm = CRM(settings, dsn)
    db = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    world = World(testbed, crm, db)
    world.proxy = front
    try:
        if not shared:
            await testbed.start()
        if front:
            await front.start()
        await crm.start()
        yield world
    finally:
        for client in world.clients:
            await client.close()
        await crm.stop()
        if front:
            await front.stop()
        await db.close()
        if shared:
            await testbed.emulator.stop()
        else:
            await testbed.stop()
