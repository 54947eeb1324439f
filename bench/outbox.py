"""Outbox benchmark: managers' replies from the API call to the homeserver's acceptance.

A real Synapse (SQLite) with the bridge emulator and the CRM as its own process. Managers post
replies over 20 portals through the API: `--clients` managers at once, each writing their next
reply when the previous one shows `sent`. A reply's time runs from its API call until its `sent`
tick arrives on a WebSocket (the homeserver accepted it and the CRM recorded the event id).
In the same run, the same number of messages is sent
straight to Synapse as the CRM's user with the same concurrency: the homeserver's own speed, the
baseline of the ratio.

    .venv/bin/python bench/outbox.py [--replies 200] [--runs 5] [--clients 8]

Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import json
import os
import statistics
import sys
import time
from typing import Any
import uuid

import aiohttp
import asyncpg
from ruamel.yaml import YAML

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest import (
    AS_TOKEN,
    DOMAIN,
    HS_TOKEN,
    free_port,
    new_database,
    percentile,
    tear_down,
    wait_until_up,
)

from crm_appservice.config import load
from crm_appservice.registration import build_registration
from crm_appservice.store import managers, sessions
from crm_appservice.store.embedded import EmbeddedPostgres
from crm_appservice.testbed.world import LocalMatrix

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTALS = 20
CRM_USER = f"@crm_bot:{DOMAIN}"


def write_config(workdir: str, dsn: str, hs_port: int) -> str:
    port = free_port()
    yaml = YAML()
    with open(os.path.join(REPO, "config.example.yaml")) as f:
        config = yaml.load(f)
    config["homeserver"]["address"] = f"http://127.0.0.1:{hs_port}"
    config["homeserver"]["domain"] = DOMAIN
    config["appservice"].update(
        port=port, address=f"http://127.0.0.1:{port}", as_token=AS_TOKEN, hs_token=HS_TOKEN
    )
    config["database"]["url"] = dsn
    config["logging"]["root"]["level"] = "ERROR"
    config["logging"]["loggers"] = {}
    path = os.path.join(workdir, "config.yaml")
    with open(path, "w") as f:
        yaml.dump(config, f)
    return path


async def start_crm(config: str, workdir: str) -> tuple[asyncio.subprocess.Process, str]:
    settings = load(config, update=False)[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crm_appservice", "run", "-c", config, cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{settings.appservice.port}"
    await wait_until_up(proc, f"{url}/healthz", "the CRM")
    return proc, url


@dataclass
class Testbed:
    workdir: str
    pg: EmbeddedPostgres
    matrix: LocalMatrix
    url: str  # the CRM's


@contextlib.asynccontextmanager
async def crm_with_synapse() -> AsyncIterator[Testbed]:
    """PostgreSQL, a real Synapse with the bridge emulator, and the CRM as its own process, all
    on 127.0.0.1 and all stopped (and their files removed) afterwards."""
    workdir, pg = await new_database("crm-bench-")
    proc = None
    hs_port = free_port()
    matrix: LocalMatrix | None = None
    try:
        config = write_config(workdir, pg.dsn(), hs_port)
        registration = os.path.join(workdir, "registration.yaml")
        with open(registration, "w") as f:
            YAML().dump(build_registration(load(config)[1], AS_TOKEN, HS_TOKEN), f)
        matrix = LocalMatrix(os.path.join(workdir, "tb"), DOMAIN, registration, CRM_USER, hs_port)
        await matrix.start()
        proc, url = await start_crm(config, workdir)
        yield Testbed(workdir, pg, matrix, url)
    finally:
        if matrix is not None:
            await matrix.stop()
        await tear_down(proc, pg, workdir)


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
