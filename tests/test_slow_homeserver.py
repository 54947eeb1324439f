"""A homeserver that takes seconds to answer: joins and sends wait for it, nothing else does.

The CRM talks to a real Synapse through a proxy that holds join and send requests for a few
seconds. Meanwhile no database transaction of the CRM stays open (the old invite and outbox
workers held one across the call, with the ingest lock or the message's row), transactions are
acknowledged at once, and changes reach the live feed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from aiohttp import web
import asyncpg

from crm_appservice.keys import HUB

from .conftest import HS_TOKEN, ConfigFactory
from .matrix_world import HomeserverProxy, World, running_world
from .polling import until

DELAY = 3.0


class SlowProxy(HomeserverProxy):
    """Joins and message sends of the CRM wait DELAY seconds before they reach Synapse."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.slow = False
        self.holding = 0

    async def before(self, request: web.Request) -> None:
        if self.slow and ("/join" in request.path or "/send/m.room.message/" in request.path):
            self.holding += 1
            try:
                await asyncio.sleep(DELAY)
            finally:
                self.holding -= 1


async def _open_transactions(db: asyncpg.Pool) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
        )
    )


async def _push(url: str, txn: str, events: list[dict[str, Any]]) -> float:
    """Push a transaction to the CRM as Synapse does; the seconds until it was acknowledged."""
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        async with http.put(
            f"{url}/_matrix/app/v1/transactions/{txn}",
            json={"events": events},
            headers={"Authorization": f"Bearer {HS_TOKEN}"},
        ) as resp:
            assert resp.status == 200
        return time.perf_counter() - started


async def _while_held(
    proxy: SlowProxy, world: World, url: str, room: str, sender: str, name: str
) -> None:
    """Checks made while the proxy holds a request of the CRM's."""
    await until(lambda: asyncio.sleep(0, proxy.holding > 0), f"the {name} to be held")
    assert await _open_transactions(world.db) == 0, f"a transaction is open during the {name}"
    event = {
        "event_id": f"$during-{name}",
        "room_id": room,
        "type": "m.room.message",
        "sender": sender,
        "origin_server_ts": int(time.time() * 1000),
        "content": {"msgtype": "m.text", "body": f"written during the {name}"},
    }
    assert await _push(url, f"during-{name}", [event]) < 1.0
    seq = await world.db.fetchval("SELECT max(seq) FROM live_events")
    hub = world.crm.app[HUB]
    await until(lambda: asyncio.sleep(0, hub.last_seq >= seq), "the live feed", timeout=1.5)
    assert proxy.holding > 0, "the checks took longer than the homeserver's delay"


async def test_a_slow_homeserver_delays_no_ack_and_no_live_change(
    db_dsn: str, make_config: ConfigFactory, workdir: str
) -> None:
    async for world in running_world(make_config, workdir, db_dsn, proxy=SlowProxy):
        proxy = world.proxy
        assert isinstance(proxy, SlowProxy)
        url = f"http://127.0.0.1:{world.crm.settings.appservice.port}"
        db = world.db
        emu = world.emulator
        emu.outcome.result = "silent"
        first = await world.portal("15551250001", "First")  # joined at normal speed
        proxy.slow = True
        second = await emu.create_portal("15551250002", "Second")
        await _while_held(proxy, world, url, first.room_id, emu.ghost("15551250001"), "join")
        await world.conversation_id(second.room_id)
        inbox = await world.inbox()
        conversation = await world.conversation_id(first.room_id)
        status, reply = await inbox.call(
            "POST", f"/api/v1/conversations/{conversation}/messages",
            json={"client_txn_id": "slow-1", "body": "On its way, slowly"},
        )  # fmt: skip
        assert status == 202
        await _while_held(proxy, world, url, first.room_id, emu.ghost("15551250001"), "send")

        async def sent(pool: asyncpg.Pool = db, message_id: int = reply["id"]) -> bool:
            row = await pool.fetchval("SELECT status FROM messages WHERE id = $1", message_id)
            return row == "sent"

        await until(sent, "the slow reply")
