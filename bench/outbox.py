"""Outbox benchmark: managers' replies from the API call to the homeserver's acceptance.

A real Synapse (SQLite) with the bridge emulator and the CRM as its own process. Managers post
replies over 20 portals through the API: `--clients` managers at once, each writing their next
reply when the previous one shows `sent`. A reply's time runs from its API call until its `sent`
tick arrives on a WebSocket (the homeserver accepted it and the CRM recorded the event id).
In the same run, the same number of messages is sent
straight to Synapse as the CRM's user with the same concurrency: the homeserver's own speed, the
baseline of the ratio.

    .venv/bin/python -m bench.outbox [--replies 200] [--runs 5] [--clients 8]

Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any
import uuid

import aiohttp
import asyncpg

from crm_appservice.store import managers, sessions
from testbed.world import LocalMatrix

from .common import AS_TOKEN, BOT as CRM_USER, percentile
from .synapse import crm_with_synapse

PORTALS = 20


class Ticks:
    """Arrival times of `sent` (or later) ticks on one manager's WebSocket."""

    def __init__(self) -> None:
        self.sent_at: dict[int, float] = {}
        self.waiters: dict[int, asyncio.Future[float]] = {}

    async def listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            data = frame.get("data") or {}
            if frame["type"] == "message.updated" and data.get("status") in (
                "sent",
                "delivered",
                "read",
            ):
                now = time.perf_counter()
                self.sent_at.setdefault(data["id"], now)
                waiter = self.waiters.get(data["id"])
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)

    async def sent(self, message_id: int) -> float:
        """When the reply's `sent` tick arrived (it may have come before the API's answer)."""
        if message_id in self.sent_at:
            return self.sent_at[message_id]
        waiter = self.waiters[message_id] = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(120):
            return await waiter


async def replies_run(
    http: aiohttp.ClientSession, conversations: list[int], ticks: Ticks, n: int, clients: int
) -> tuple[float, list[float]]:
    """n replies by `clients` managers, each waiting for a reply's `sent` tick before writing
    the next; (replies/s, ms from API call to `sent`)."""
    counter = iter(range(n))
    latencies: list[float] = []

    async def manager() -> None:
        for i in counter:
            t0 = time.perf_counter()
            async with http.post(
                f"/api/v1/conversations/{conversations[i % len(conversations)]}/messages",
                json={"client_txn_id": uuid.uuid4().hex, "body": f"Reply {i}: thanks!"},
            ) as resp:
                if resp.status != 202:
                    raise RuntimeError(f"reply answered {resp.status}: {await resp.text()}")
                message_id = (await resp.json())["id"]
            latencies.append((await ticks.sent(message_id) - t0) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(manager() for _ in range(clients)))
    return n / (time.perf_counter() - start), latencies


async def synapse_run(matrix: LocalMatrix, rooms: list[str], n: int, clients: int) -> float:
    """Messages/s sent straight to Synapse as the CRM's user, `clients` in flight."""
    headers = {"Authorization": f"Bearer {AS_TOKEN}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    async with aiohttp.ClientSession(matrix.homeserver_url, headers=headers) as http:

        async def client() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                path = (
                    f"/_matrix/client/v3/rooms/{rooms[i % len(rooms)]}/send/m.room.message/"
                    f"direct-{uuid.uuid4().hex}"
                )
                body: dict[str, Any] = {"msgtype": "m.text", "body": f"Direct {i}"}
                async with http.put(path, json=body, params={"user_id": CRM_USER}) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"Synapse answered {resp.status}")

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return n / (time.perf_counter() - start)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=200, help="per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8, help="managers writing at once")
    args = parser.parse_args()

    async with crm_with_synapse() as tb:
        tb.matrix.emulator.outcome.result = "silent"
        db = await asyncpg.connect(tb.pg.dsn())
        portals = [
            await tb.matrix.emulator.create_portal(f"4917{i:08d}", f"Customer {i}")
            for i in range(PORTALS)
        ]
        rooms = [p.room_id for p in portals]
        for _ in range(600):
            joined = await db.fetchval(
                "SELECT count(*) FROM room_invites WHERE state = 'done' AND room_id = ANY($1)",
                rooms,
            )
            if joined == PORTALS:
                break
            await asyncio.sleep(0.1)
        conversations = [
            await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", r) for r in rooms
        ]
        manager, _ = await managers.create(db, "bench@example.com", "Bench", "admin", "-")
        token, _ = await sessions.create(db, manager.id, "api_token", None, "bench")
        await db.close()

        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(tb.url, headers=headers) as http:
            ticks = Ticks()
            ws = await http.ws_connect("/api/v1/ws")
            listener = asyncio.create_task(ticks.listen(ws))
            await replies_run(http, conversations, ticks, 20, args.clients)  # warm-up
            rates, baselines, latencies = [], [], []
            for run in range(1, args.runs + 1):
                rate, lat = await replies_run(
                    http, conversations, ticks, args.replies, args.clients
                )
                base = await synapse_run(tb.matrix, rooms, args.replies, args.clients)
                rates.append(rate)
                baselines.append(base)
                latencies += lat
                print(
                    f"run {run}: {rate:6.0f} replies/s   API→sent p50 {percentile(lat, 0.5):6.1f}"
                    f" ms  p99 {percentile(lat, 0.99):6.1f} ms   Synapse alone {base:6.0f} msg/s"
                    f"   ratio {rate / base:.2f}"
                )
            listener.cancel()
            await ws.close()
        rate, base = statistics.median(rates), statistics.median(baselines)
        print()
        print(
            f"outbox: {args.runs} runs x {args.replies} replies over {PORTALS} portals,"
            f" {args.clients} managers writing at once, real Synapse (SQLite)"
        )
        print(f"  replies/s API call → sent (median): {rate:7.0f}")
        print(f"  API call → sent p50:                {percentile(latencies, 0.5):7.1f} ms")
        print(f"  API call → sent p99:                {percentile(latencies, 0.99):7.1f} ms")
        print(f"  Synapse alone, same load (median):  {base:7.0f} msg/s")
        print(f"  ratio outbox / Synapse alone:       {rate / base:7.2f}")


if __name__ == "__main__":
    asyncio.run(main())
